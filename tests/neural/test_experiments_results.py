"""neural.experiments: job keys, 95 % intervals, results.json / results.csv schema, tables and figures."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neural.experiments.keys import canonical_json, config_hash, parse_float
from neural.experiments.results import (
    ROW_FIELDS,
    load_results,
    markdown_table,
    mean_interval,
    normalise_row,
    summarise,
    write_results,
)


def test_keys_are_canonical_and_sensitive():
    a = {"b": [1, 2.5, math.inf], "a": {"y": None, "x": "s"}}
    b = {"a": {"x": "s", "y": None}, "b": [1, 2.5, math.inf]}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"x":"s","y":null},"b":[1,2.5,"inf"]}'
    assert config_hash(a) == config_hash(b) and len(config_hash(a)) == 16
    assert config_hash(a) != config_hash({**a, "b": [1, 2.5, 1e308]})
    assert config_hash({"x": (1, 2)}) == config_hash({"x": [1, 2]})
    with pytest.raises(TypeError, match="cannot write"):
        canonical_json({"x": object()})
    assert parse_float("inf") == math.inf and parse_float("-inf") == -math.inf
    assert math.isnan(parse_float(None)) and parse_float(3) == 3.0
    with pytest.raises(ValueError, match="number"):
        parse_float("three")


def test_mean_interval_matches_student_t():
    # n = 2: t_{0.975, 1} = 12.7062047..., s = 1/sqrt(2), half = t * s / sqrt(2) = t / 2
    mean, half, n = mean_interval([0.0, 1.0])
    assert (mean, n) == (0.5, 2) and half == pytest.approx(12.706204736174707 / 2, abs=1e-12)
    rng = np.random.default_rng(1)
    for size in (3, 5, 10):
        v = rng.normal(size=size)
        lo, hi = stats.t.interval(0.95, size - 1, loc=v.mean(), scale=stats.sem(v))
        mean, half, n = mean_interval(v.tolist())
        assert n == size and mean == pytest.approx(v.mean(), abs=1e-14)
        assert half == pytest.approx((hi - lo) / 2, rel=1e-12)
    mean, half, n = mean_interval([0.25, math.nan])
    assert (mean, n) == (0.25, 1) and math.isnan(half)
    assert mean_interval([])[2] == 0
    with pytest.raises(ValueError, match="level"):
        mean_interval([1.0, 2.0], level=1.5)


def _row(method="tosc", seed=0, **kw):
    base = {
        "method": method,
        "bpp": 0.5,
        "snr_db": math.inf,
        "train_snr_lo": math.inf,
        "train_snr_hi": math.inf,
        "beta": 0.1,
        "seed": seed,
        "accuracy": 0.9,
        "psnr": 20.0,
        "ssim": 0.8,
        "mse": 0.01,
        "ce": 0.3,
        "images": 360,
        "job": "k",
    }
    base.update(kw)
    return base


def test_results_files_round_trip_and_pandas_reads_csv(tmp_path):
    rows = [
        _row(seed=0, accuracy=0.9),
        _row(seed=1, accuracy=0.8),
        _row(
            "jpeg",
            header="payload",
            capacity="bpsk",
            beta=None,
            train_snr_lo=None,
            train_snr_hi=None,
            snr_db=-5.0,
            failure_rate=1.0,
            psnr=11.5,
        ),
    ]
    jpath, cpath = write_results(
        str(tmp_path), rows, {"experiment": {"experiment": "bpp"}, "x": math.inf}
    )
    with open(jpath) as f:
        doc = json.load(f)  # strict JSON: no bare Infinity/NaN
    assert set(doc) == {"rows", "provenance"} and doc["provenance"]["x"] == "inf"
    assert doc["rows"][0]["snr_db"] == "inf" and doc["rows"][2]["beta"] is None
    assert all(list(r) == list(ROW_FIELDS) for r in doc["rows"])
    df = pd.read_csv(cpath)
    assert list(df.columns) == list(ROW_FIELDS) and len(df) == 3
    assert df["snr_db"].dtype == float and np.isinf(df["snr_db"][0]) and df["snr_db"][2] == -5.0
    assert df["accuracy"].tolist() == [0.9, 0.8, 0.9]
    assert np.isnan(df["failure_rate"][0]) and df["failure_rate"][2] == 1.0
    assert np.isnan(df["beta"][2]) and df["header"].fillna("").tolist() == ["", "", "payload"]
    back = load_results(str(tmp_path))
    assert back["rows"][0]["snr_db"] == math.inf and math.isnan(back["rows"][2]["beta"])
    assert back["rows"][1]["accuracy"] == 0.8


def test_load_results_names_a_corrupt_file(tmp_path):
    (tmp_path / "results.json").write_text("{bad")
    with pytest.raises(ValueError, match=r"results.json is not valid JSON"):
        load_results(str(tmp_path))


def test_rows_are_checked():
    with pytest.raises(ValueError, match="unknown row field"):
        normalise_row(_row(extra=1))
    with pytest.raises(ValueError, match="accuracy=1.5 is outside"):
        normalise_row(_row(accuracy=1.5))
    with pytest.raises(ValueError, match="several rows for one seed"):
        summarise([normalise_row(_row()), normalise_row(_row())])


def test_summary_and_table():
    rows = [
        normalise_row(r)
        for r in (
            _row(seed=0, accuracy=0.9),
            _row(seed=1, accuracy=0.8),
            _row(
                "jpeg",
                header="full",
                beta=None,
                failure_rate=1.0,
                train_snr_lo=None,
                train_snr_hi=None,
            ),
        )
    ]
    s = summarise(rows)
    assert len(s) == 2 and s[0]["seeds"] == 2
    mean, half = s[0]["accuracy"]
    assert mean == pytest.approx(0.85) and half == pytest.approx(
        12.706204736174707 * 0.05, rel=1e-9
    )
    table = markdown_table(rows)
    assert "| tosc | — | 0.5 | inf | inf | 0.1 | 2 | 0.850 ± 0.635 |" in table
    assert "| jpeg | full | 0.5 | inf | — | — | 1 | 0.900 |" in table


def test_curve_figures_are_written(tmp_path):
    from neural.experiments.plots import curve_figure

    rows = [
        normalise_row(_row(bpp=b, snr_db=10.0, seed=s, accuracy=0.5 + 0.1 * b + 0.01 * s))
        for b in (0.5, 1.0)
        for s in (0, 1)
    ]
    rows += [
        normalise_row(_row("jpeg", header=h, bpp=b, snr_db=10.0, beta=None, failure_rate=0.0))
        for h in ("full", "payload")
        for b in (0.5, 1.0)
    ]
    for experiment in ("bpp", "snr", "beta"):
        path = curve_figure(
            experiment, rows, str(tmp_path / f"{experiment}.png"), title="t", clean_accuracy=0.95
        )
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no curve figure"):
        curve_figure("visual", rows, str(tmp_path / "v.png"), title="t")
