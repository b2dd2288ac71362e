"""python -m neural.experiments: help on each subcommand, option parsing, presets and the job plan."""

import math

import pytest

from neural.experiments import build_jobs, make_spec
from neural.experiments.cli import build_parser, main, parse_overrides


@pytest.mark.parametrize("sub", ["bpp", "snr", "beta", "visual", "report"])
def test_help_of_every_subcommand(sub, capsys):
    with pytest.raises(SystemExit) as exc:
        main([sub, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "usage: python -m neural.experiments " + sub in text
    if sub != "report":
        assert (
            "--preset" in text and "--jobs" in text and "--executor" in text and "--seeds" in text
        )


def test_overrides_parse_as_json_with_stage_sections():
    assert parse_overrides(
        ["codec.epochs=2", "max_train_images=64", "codec.lr=1e-3", "channel=rayleigh"]
    ) == {"codec": {"epochs": 2, "lr": 1e-3}, "max_train_images": 64, "channel": "rayleigh"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["codec.epochs"])
    with pytest.raises(ValueError, match="STAGE.FIELD"):
        parse_overrides(["a.b.c=1"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["bpp", "--out", "x", "--bpp", "0.3"], "not reachable"),
        (["bpp", "--out", "x", "--seeds", "0"], "seeds must be a positive integer"),
        (["beta", "--out", "x", "--beta", "0", "-1"], "betas must be finite numbers >= 0"),
        (["beta", "--out", "x", "--tosc-beta", "0.1"], "--beta"),
        (["snr", "--out", "x", "--snr-grid", "nan"], "an SNR must be a number"),
        (
            ["bpp", "--out", "x", "--override", "codec.epochs=0"],
            "codec.epochs must be a positive integer",
        ),
        (["bpp", "--out", "x", "--override", "nonsense=1"], "unknown configuration key 'nonsense'"),
        (["bpp", "--out", "x", "--preset", "paper"], "needs data_dir"),
        (["bpp", "--out", "x", "--jobs", "0"], "--jobs must be >= 1"),
        (["bpp", "--out", "x", "--threads-per-job", "0"], "--threads-per-job must be >= 1"),
        (["visual", "--out", "x", "--images", "0"], "visual_images must be a positive integer"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([a if a != "x" else str(tmp_path / "out") for a in argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_out_that_cannot_be_created_is_refused(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["bpp", "--out", str(tmp_path / "file" / "out"), "--methods", "jpeg"])
    assert exc.value.code == 2
    assert "cannot create the directory" in capsys.readouterr().err


def test_cli_options_reach_the_spec():
    from neural.experiments.cli import _spec

    args = build_parser().parse_args(
        [
            "snr",
            "--out",
            "o",
            "--train-snr",
            "7",
            "--snr-grid",
            "0",
            "inf",
            "--methods",
            "tosc",
            "jpeg",
            "--headers",
            "payload",
            "--seeds",
            "3",
        ]
    )
    spec = _spec(args)
    assert spec.snr_db == 7.0 and spec.train_snr_range is None and spec.eval_snrs == [0.0, math.inf]
    assert spec.methods == ["tosc", "jpeg"] and spec.headers == ["payload"] and spec.seeds == 3
    default = _spec(build_parser().parse_args(["snr", "--out", "o"]))
    assert default.train_snr_range == [-5.0, 20.0] and default.bpps == [0.5]


def test_plan_shares_one_classifier_and_one_codec_per_setting():
    spec = make_spec("bpp", "quick", bpps=[0.125, 0.5], seeds=2)
    jobs = build_jobs(spec)
    train = [j for j in jobs if j.spec["kind"] == "train"]
    digital = [j for j in jobs if j.spec["kind"] == "digital"]
    assert (
        len(train) == 2 * 2 * 4 and len(digital) == 2 * 2 * 2 * 2
    )  # seeds × bpps × methods (× headers)
    assert len({j.key for j in jobs}) == len(jobs)
    for seed in (0, 1):
        mine = [j for j in train if j.spec["seed"] == seed]
        anchor = mine[0]
        assert anchor.needs == () and anchor.spec["method"] == "rd"
        assert all(j.spec["classifier_run"] == anchor.run_id for j in mine[1:])
        assert all(
            j.spec["classifier_run"] == anchor.run_id for j in digital if j.spec["seed"] == seed
        )
        for bpp in (0.125, 0.5):
            at = [j for j in mine if j.spec["bpp"] == bpp]
            assert [j.spec["method"] for j in at] == ["rd", "tosc", "ib", "spics"]
            assert all(j.spec["codec_run"] == at[0].run_id for j in at[1:])
            assert at[0].spec["config"]["latent_channels"] == round(64 * bpp)
    # objectives and betas per method
    by = {j.spec["method"]: j.spec for j in train if j.spec["seed"] == 0 and j.spec["bpp"] == 0.5}
    assert by["rd"]["config"]["betas"] == [0.0] and by["rd"]["config"]["objective"] == "tosc"
    assert by["ib"]["config"]["objective"] == "ib" and by["spics"]["config"]["objective"] == "spics"
    # the job key ignores where it runs; the run id ignores the evaluation grid
    other = build_jobs(make_spec("bpp", "quick", bpps=[0.125, 0.5], seeds=2), data_dir=None)
    assert [j.key for j in other] == [j.key for j in jobs]
    snr = build_jobs(
        make_spec("snr", "quick", methods=["rd"], bpps=[0.125], eval_snrs=[0.0], snr_db=math.inf)
    )
    bpp = build_jobs(make_spec("bpp", "quick", methods=["rd"], bpps=[0.125]))
    assert snr[0].run_id == bpp[0].run_id and snr[0].key != bpp[0].key


def test_digital_only_plan_still_trains_a_classifier():
    jobs = build_jobs(make_spec("bpp", "quick", methods=["jpeg"], bpps=[0.5], headers=["payload"]))
    assert [j.spec["method"] for j in jobs] == ["rd", "jpeg"]
    assert jobs[1].needs == (jobs[0].run_id,)
