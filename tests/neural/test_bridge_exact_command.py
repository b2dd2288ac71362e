"""``python -m neural.experiments exact``: registration, argument errors, and one tiny run of the
whole pipeline (results.json / results.csv / figures, rows readable by pandas)."""

import json
import math

import pandas as pd
import pytest

from neural.experiments import exact
from neural.experiments.cli import build_parser, main


def test_exact_is_registered_with_its_options():
    args = build_parser().parse_args(["exact", "--out", "x", "--parts", "feasibility"])
    assert args.command == "exact" and args.preset == "quick" and args.parts == ["feasibility"]


def test_exact_refuses_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["exact", "--out", str(tmp_path), "--parts", "nonsense"])
    with pytest.raises(SystemExit):
        main(["exact", "--out", str(tmp_path), "--seed", "-1"])
    assert "--seed must be >= 0" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SystemExit):
        main(["exact", "--out", str(blocker / "out")])
    assert "cannot create the directory" in capsys.readouterr().err


@pytest.fixture
def tiny_preset(monkeypatch):
    preset = exact.ExactPreset(
        bits=(2,),
        tosc_beta=1.0,
        split="test",
        codebook_size=4,
        curve_points=4,
        estimator_seeds=1,
        all_codewords=False,
        train={
            "codec_width": 0.0625,
            "classifier_width": 0.0625,
            "max_train_images": 64,
            "classifier": {"epochs": 2, "batch_size": 32, "lr": 3e-3, "lr_final": None},
            "codec": {"epochs": 1, "batch_size": 32, "lr": 3e-3, "lr_final": None},
            "tosc": {"epochs": 1, "batch_size": 32, "lr": 1e-3},
            "eval_every": 10,
        },
    )
    monkeypatch.setitem(exact.PRESETS, "tiny", preset)
    return preset


def test_tiny_pipeline_writes_rows_and_figures(tiny_preset, tmp_path):
    out = tmp_path / "exact"
    res = exact.run_exact(
        "tiny", str(out), parts=("feasibility", "relaxation"), progress=False, command="test"
    )
    doc = json.loads((out / "results.json").read_text())
    assert doc["provenance"]["bugs"] == [] and doc["provenance"]["missing_parts"] == {}
    feas = [r for r in doc["rows"] if r["part"] == "feasibility"]
    relax = [r for r in doc["rows"] if r["part"] == "relaxation"]
    assert len(feas) == 2 * 2  # (rd, tosc) × (β = 0, β = 1)
    assert all(r["violations"] == 0 for r in feas if r["beta"] == 0)
    assert all(r["gap_lagrangian_bits"] >= -1e-9 for r in feas if r["beta"] == 0)
    # classifiers: untrained + one per epoch, for each of the two codecs
    assert sorted({r["classifier_epochs"] for r in relax}) == [0, 1, 2] and len(relax) == 6
    assert all(r["ce_bound"] >= r["d_ib_exact"] - 1e-12 for r in relax)
    table = pd.read_csv(out / "results.csv")
    assert len(table) == len(doc["rows"]) == len(res["rows"])
    assert math.isinf(table.loc[0, "snr_db"])
    for name in ("exact_curves.png", "ce_bound.png"):
        assert (out / name).stat().st_size > 1000
    # a second run reuses the trained runs (no training) and gives the same rows
    again = exact.run_exact("tiny", str(out), parts=("feasibility",), progress=False)
    assert [r["rate"] for r in again["rows"]] == [r["rate"] for r in feas]
    assert "| K | codec |" in exact.markdown_tables(res["rows"])
