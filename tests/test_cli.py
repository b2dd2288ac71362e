"""The command line through ``main(argv)``: main paths, files written, clean errors."""

import numpy as np
import pytest

from infotheory.cli import main
from infotheory.curves import Curve, semantic_rd_curve
from infotheory.sources import binary_source


def test_curve_command_writes_table_csv_json_png(tmp_path, capsys):
    rc = main(
        [
            "curve",
            "--source",
            "binary",
            "--p",
            "0.3",
            "--beta",
            "0",
            "--n-points",
            "6",
            "--out",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "lambda" in out and "rate" in out
    for name in ("curve.csv", "curve.json", "rd_curve.png", "information_plane.png"):
        assert (tmp_path / name).stat().st_size > 0
    c = Curve.from_csv(tmp_path / "curve.csv")
    assert len(c) == 6

    # independent: the binary closed form R(D) = h(p) - h(D)
    def h(t):
        return -t * np.log2(t) - (1 - t) * np.log2(1 - t)

    pos = c.distortion_rd < 0.3 - 1e-9
    np.testing.assert_allclose(c.rate[pos], h(0.3) - h(c.distortion_rd[pos]), atol=1e-8, rtol=0)
    assert (tmp_path / "rd_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curve_from_npz_matches_api(tmp_path, capsys):
    src = binary_source(0.2)
    np.savez(tmp_path / "src.npz", p_x=src.p_x, p_y_given_x=src.p_y_given_x, d_rd=src.d_rd)
    rc = main(
        [
            "curve",
            "--npz",
            str(tmp_path / "src.npz"),
            "--lams",
            "0.8,0.4,0.2",
            "--out",
            str(tmp_path / "o"),
            "--no-plot",
        ]
    )
    assert rc == 0
    c = Curve.from_json(tmp_path / "o" / "curve.json")
    ref = semantic_rd_curve(*src, beta=0, lams=[0.8, 0.4, 0.2])
    np.testing.assert_allclose(c.rate, ref.rate, atol=1e-12, rtol=0)
    assert not (tmp_path / "o" / "rd_curve.png").exists()


def test_family_and_ib_commands(tmp_path, capsys):
    assert (
        main(
            [
                "family",
                "--source",
                "binary",
                "--label-error",
                "0.2",
                "--betas",
                "0,1,4",
                "--lam",
                "0.5",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "beta_family.png").exists()
    assert (
        main(
            [
                "ib",
                "--source",
                "binary",
                "--p",
                "0.5",
                "--label-error",
                "0.1",
                "--clusters",
                "2",
                "--n-points",
                "6",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "transition: beta_IB_c = 1.56" in out  # 1/(1-2·0.1)^2 = 1.5625
    assert (tmp_path / "information_plane.png").exists()


def test_demo_writes_png(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "h(p) - h(D)" in out
    assert (tmp_path / "theoretical_curves.png").stat().st_size > 10_000


def test_help_exits_zero(capsys):
    assert main(["curve", "--help"]) == 0
    assert "--beta" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["curve", "--beta", "abc"], "comma-separated numbers"),
        (["curve", "--npz", "does-not-exist.npz"], "no such file"),
        (["curve", "--source", "nope"], "invalid choice"),
        (["bogus"], "invalid choice"),
        (["curve", "--p", "1.5"], "p must lie in (0, 1)"),
        (["curve", "--beta", "-1"], "beta must be >= 0"),
        (["curve", "--lam-min", "0.1"], "give both --lam-min and --lam-max"),
        (["family", "--betas", "0,1"], "one of the arguments --lam --rate is required"),
    ],
)
def test_errors_are_one_line_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("infotheory: error:")
    assert fragment in err and "Traceback" not in err


def test_npz_errors(tmp_path, capsys):
    np.savez(
        tmp_path / "bad.npz", p_x=np.array([0.5, 0.6]), p_y_given_x=np.eye(2), d_rd=np.ones((2, 2))
    )
    np.savez(tmp_path / "missing.npz", p_x=np.array([0.5, 0.5]))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for name, frag in (
        ("bad.npz", "p_x sums to"),
        ("missing.npz", "missing array(s) p_y_given_x, d_rd"),
        ("junk.npz", "not a valid .npz"),
    ):
        assert main(["curve", "--npz", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and frag in err, err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["curve", "--source", "gaussian", "--grid", "1"], "--grid must be >= 2"),
        (["curve", "--label-error", "2"], "--label-error must lie in [0, 1]"),
        (["curve", "--n-points", "1"], "--n-points must be >= 2"),
        (["curve", "--jobs", "0"], "--jobs must be >= 1"),
        (["ib", "--clusters", "0"], "--clusters must be >= 1"),
        (
            ["family", "--betas", "1", "--rate", "99"],
            "--rate 99 bits is not reachable: rates lie between 0 and 0.811278 bits",
        ),
    ],
)
def test_errors_name_the_flag(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err


def test_unwritable_out_fails_before_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for cmd in (
        ["curve", "--n-points", "200"],
        ["family", "--betas", "0,1", "--lam", "0.5"],
        ["ib", "--n-points", "200"],
        ["demo"],
    ):
        assert main(cmd + ["--out", str(blocker / "sub")]) == 2
        cap = capsys.readouterr()
        assert "--out" in cap.err and "cannot write" in cap.err
        assert "lambda" not in cap.out  # no table: nothing was solved


def test_every_cli_csv_loads_with_plain_pandas(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    runs = [
        ["curve", "--beta", "0,0.5", "--n-points", "5"],
        ["family", "--betas", "0,1", "--lam", "0.5"],
        ["ib", "--clusters", "2", "--n-points", "5"],
    ]
    for i, argv in enumerate(runs):
        assert main(argv + ["--out", str(tmp_path / str(i)), "--no-plot", "--no-progress"]) == 0
    csvs = sorted(tmp_path.rglob("*.csv"))
    assert len(csvs) == 4  # curve_beta=0, curve_beta=0.5, beta_family, ib_curve
    for path in csvs:
        df = pd.read_csv(path)
        back = Curve.from_csv(path)  # metadata from the sidecar
        assert list(df.columns)[:3] == ["lam", "beta", "rate"] and len(df) == len(back)
        assert df["converged"].dtype == bool and df["converged"].all()
        np.testing.assert_array_equal(df["rate"].to_numpy(), back.rate)  # full precision
        assert (path.parent / (path.stem + ".meta.json")).exists()


def test_ib_table_shows_beta_ib(capsys):
    assert main(["ib", "--clusters", "2", "--n-points", "4", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["lambda", "beta_IB"])
    rows = [line.split() for line in lines[head + 1 : head + 5]]
    for r in rows:
        assert float(r[1]) == pytest.approx(1 / float(r[0]), rel=1e-3)
    assert len({r[1] for r in rows}) == 4  # not a constant column


def test_progress_flag(tmp_path, capsys):
    assert main(["curve", "--n-points", "4", "--progress"]) == 0
    assert "semantic R-D curve" in capsys.readouterr().err
    assert main(["curve", "--n-points", "4", "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_lambda_path_never_reenters_a_file(monkeypatch, capsys):
    """Issue 15, read as data: λ goes CLI → entry point → … → the solver without coming
    back to a file it already left. Every call of the solver from the curves package is
    recorded with the infotheory files on its stack (runs of one file merged): no file
    may appear twice."""
    import os
    import traceback

    import infotheory
    import infotheory.curves._problem as point_module

    root = os.path.dirname(infotheory.__file__)
    seen: list[list[str]] = []
    solve = point_module.solve_problem

    def recording(*args, **kwargs):
        files = [
            os.path.relpath(f.filename, root)
            for f in traceback.extract_stack()
            if f.filename.startswith(root)
        ]
        seen.append([f for i, f in enumerate(files) if i == 0 or files[i - 1] != f])
        return solve(*args, **kwargs)

    monkeypatch.setattr(point_module, "solve_problem", recording)
    for argv in (
        ["curve", "--p", "0.3", "--beta", "0", "--n-points", "5", "--transitions"],
        ["curve", "--label-error", "0.1", "--beta", "0.5", "--n-points", "4", "--restarts", "1"],
        ["family", "--label-error", "0.2", "--betas", "0,2", "--rate", "0.3"],
        ["family", "--label-error", "0.2", "--betas", "0,2", "--lam", "0.4", "--cold"],
        ["ib", "--p", "0.5", "--label-error", "0.1", "--clusters", "2", "--n-points", "5"],
    ):
        seen.clear()
        assert main(argv) == 0, argv
        assert seen, argv
        for stack in seen:
            assert stack[0] == "cli.py" and stack[-1] == os.path.join("curves", "_problem.py")
            assert len(set(stack)) == len(stack), (argv, stack)
    capsys.readouterr()
