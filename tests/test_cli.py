"""The command line through ``main(argv)``: main paths, files written, clean errors."""

import numpy as np
import pytest

from infotheory.cli import main
from infotheory.curves import Curve, semantic_rd_curve
from infotheory.sources import binary_source


def test_curve_command_writes_table_csv_json_png(tmp_path, capsys):
    rc = main(["curve", "--source", "binary", "--p", "0.3", "--beta", "0", "--n-points", "6",
               "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "lambda" in out and "rate" in out
    for name in ("curve.csv", "curve.json", "rd_curve.png", "information_plane.png"):
        assert (tmp_path / name).stat().st_size > 0
    c = Curve.from_csv(tmp_path / "curve.csv")
    assert len(c) == 6
    # independent: the binary closed form R(D) = h(p) - h(D)
    h = lambda t: -t * np.log2(t) - (1 - t) * np.log2(1 - t)
    pos = c.distortion_rd < 0.3 - 1e-9
    np.testing.assert_allclose(c.rate[pos], h(0.3) - h(c.distortion_rd[pos]), atol=1e-8, rtol=0)
    assert (tmp_path / "rd_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curve_from_npz_matches_api(tmp_path, capsys):
    src = binary_source(0.2)
    np.savez(tmp_path / "src.npz", p_x=src.p_x, p_y_given_x=src.p_y_given_x, d_rd=src.d_rd)
    rc = main(["curve", "--npz", str(tmp_path / "src.npz"), "--lams", "0.8,0.4,0.2",
               "--out", str(tmp_path / "o"), "--no-plot"])
    assert rc == 0
    c = Curve.from_json(tmp_path / "o" / "curve.json")
    ref = semantic_rd_curve(*src, beta=0, lams=[0.8, 0.4, 0.2])
    np.testing.assert_allclose(c.rate, ref.rate, atol=1e-12, rtol=0)
    assert not (tmp_path / "o" / "rd_curve.png").exists()


def test_family_and_ib_commands(tmp_path, capsys):
    assert main(["family", "--source", "binary", "--label-error", "0.2", "--betas", "0,1,4",
                 "--lam", "0.5", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "beta_family.png").exists()
    assert main(["ib", "--source", "binary", "--p", "0.5", "--label-error", "0.1", "--clusters", "2",
                 "--n-points", "6", "--out", str(tmp_path)]) == 0
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
    np.savez(tmp_path / "bad.npz", p_x=np.array([0.5, 0.6]), p_y_given_x=np.eye(2), d_rd=np.ones((2, 2)))
    np.savez(tmp_path / "missing.npz", p_x=np.array([0.5, 0.5]))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for name, frag in (("bad.npz", "p_x sums to"), ("missing.npz", "missing array(s) p_y_given_x, d_rd"),
                       ("junk.npz", "not a valid .npz")):
        assert main(["curve", "--npz", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and frag in err, err
