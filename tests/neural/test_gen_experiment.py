"""The generalization command (Algorithm 5) on a tiny configuration: results schema, reuse of
the beta experiment's trainings, the figure, and argument errors."""

import json
import math
import os

import pandas as pd
import pytest

from neural.experiments import build_jobs, load_results, make_spec
from neural.experiments.cli import main
from neural.experiments.generalization import (
    EXTRA_FIELDS,
    FIGURE_FILE,
    make_generalization_spec,
    paper_shape,
)
from neural.experiments.results import ROW_FIELDS

TRAIN = [
    "--override", "image_size=16",
    "--override", "max_train_images=32",
    "--override", "eval_batch_size=360",
    "--override", "classifier.epochs=1",
    "--override", "codec.epochs=1",
    "--override", "tosc.epochs=1",
]  # fmt: skip
DETECTION = [
    "--detection", "image_size=32",
    "--detection", "train_images=48",
    "--detection", "test_images=12",
    "--detection", "digits=[1, 2]",
    "--detection", "scale=[0.35, 0.5]",
    "--detection", "epochs=1",
    "--detection", "width=4",
]  # fmt: skip
COMMON = ["--executor", "inline", "--threads-per-job", "1", "--no-progress", *TRAIN]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    argv = ["generalization", "--out", str(out), "--methods", "rd", "tosc", "ib", "jpeg"]
    argv += ["--beta", "0", "0.1", "--headers", "payload", *COMMON, *DETECTION]
    assert main(argv) == 0
    return out


def test_results_schema(tiny):
    res = load_results(str(tiny))
    rows = res["rows"]
    assert [(r["method"], r["beta"] if not math.isnan(r["beta"]) else None) for r in rows] == [
        ("rd", 0.0), ("tosc", 0.1), ("ib", 1.0), ("jpeg", None)
    ]  # fmt: skip
    for r in rows:
        assert set(r) == set(ROW_FIELDS) | set(EXTRA_FIELDS)
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["map"] <= r["map50"] <= 1
        assert r["images"] == 360 and r["det_images"] == 12 and r["snr_db"] == math.inf
        assert (r["header"] == "payload") == (r["method"] == "jpeg")
        assert math.isnan(r["det_failure_rate"]) == (r["method"] != "jpeg")
    prov = res["provenance"]
    assert prov["extra_fields"] == list(EXTRA_FIELDS)
    assert prov["experiment"]["experiment"] == "generalization"
    ref = prov["reference_map"]["0"]
    assert set(ref) == {"clean", "pretrained_codec"} and 0 <= ref["clean"]["map50"] <= 1
    assert prov["shape"]["checked"] and prov["shape"]["best_tosc_beta"] == 0.1
    assert prov["trainings_s"] > 0 and prov["detection_eval_s"] > 0
    csv = pd.read_csv(tiny / "results.csv")
    assert list(csv.columns) == list(ROW_FIELDS) + list(EXTRA_FIELDS)
    assert csv["map50"].between(0, 1).all() and len(csv) == 4
    with open(tiny / "results.json") as f:
        assert set(json.load(f)) == {"rows", "provenance"}
    assert os.path.getsize(tiny / FIGURE_FILE) > 10_000


def test_rerun_reuses_every_job_and_gives_the_same_rows(tiny, tmp_path):
    """A second run on the same runs directory (results elsewhere) trains nothing."""
    argv = ["generalization", "--out", str(tmp_path), "--runs", str(tiny)]
    argv += ["--methods", "rd", "tosc", "ib", "jpeg", "--beta", "0", "0.1", "--headers", "payload"]
    assert main([*argv, *COMMON, *DETECTION]) == 0
    again, first = load_results(str(tmp_path)), load_results(str(tiny))
    assert again["provenance"]["jobs_ran"] == 0
    for a, b in zip(again["rows"], first["rows"]):
        assert a["map"] == b["map"] and a["accuracy"] == b["accuracy"]


def test_trainings_are_the_beta_experiments():
    """The TOSC-SR jobs are exactly those of the beta command, so its trainings are reused."""
    spec = make_generalization_spec("quick")
    beta = build_jobs(make_spec("beta", "quick"))
    gen = build_jobs(spec.base)
    assert {j.key for j in beta} <= {j.key for j in gen}
    assert spec.base.betas[0] == 0.0 and spec.methods[0] == "rd"
    assert make_generalization_spec("quick", betas=[0.1]).base.betas == [0.0, 0.1]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tosc-beta", "0.1"], "--beta"),
        (["--detection", "image_size=30"], "image_size must be a multiple of 8"),
        (["--detection", "colour=1"], "unknown detection setting"),
        (["--preset", "paper", "--data-dir", "/nonexistent"], "does not exist"),
    ],
)
def test_bad_arguments_are_refused(extra, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["generalization", "--out", str(tmp_path), *extra])
    assert message in capsys.readouterr().err


def test_paper_shape_reads_the_means():
    def row(method, beta, m, seed=0):
        return {
            "method": method,
            "header": "",
            "beta": beta,
            "snr_db": math.inf,
            "map50": m,
            "seed": seed,
        }

    rows = [
        row("rd", 0.0, 0.5),
        row("tosc", 0.01, 0.6),
        row("tosc", 1.0, 0.55),
        row("ib", 1.0, 0.3),
    ]
    s = paper_shape(rows)
    assert s["up"] and s["down_at_ib"] and s["best_tosc_beta"] == 0.01 and s["separated_up"] is None
    s = paper_shape([row("rd", 0.0, 0.7), row("tosc", 0.01, 0.6), row("ib", 1.0, 0.65)])
    assert not s["up"]


@pytest.mark.parametrize("threads", [0, -2, 1.5, True, "4"])
def test_run_generalization_refuses_bad_threads_before_any_work(tmp_path, threads):
    """The Python entry point checks ``threads`` as the other experiments do (it used to
    take any value through): a clear error naming it, and nothing written."""
    from neural.experiments.generalization import run_generalization

    out = tmp_path / "out"
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        run_generalization(make_generalization_spec("quick"), str(out), threads=threads)
    assert not out.exists()
