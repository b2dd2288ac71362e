"""The four-MI analysis (Algorithm 4, Fig. 7): H(Z) from counts against hand computations, the
kinds and bound checks of every value, and the ``mi`` command's results on a tiny training."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neural.data.datasets import ImageDataset
from neural.experiments import build_jobs, make_spec
from neural.experiments.cli import main
from neural.experiments.four_mi import (
    KINDS,
    MI_FIELDS,
    QUANTITIES,
    build_mi_jobs,
    count_rows,
    count_values,
    load_mi_results,
    make_mi_spec,
)
from neural.experiments.four_mi.job import _bits, x_features
from neural.experiments.four_mi.quantities import estimator_row

# the tiny training of tests/neural/test_experiments_sweep.py: 16x16 digits, 32 images,
# one epoch per stage (the plumbing is under test, not the numbers)
TINY = {
    "image_size": 16,
    "max_train_images": 32,
    "eval_batch_size": 360,
    "classifier": {"epochs": 1, "batch_size": 16},
    "codec": {"epochs": 1, "batch_size": 16},
    "tosc": {"epochs": 1, "batch_size": 16},
}
TINY_ARGS = ["--threads-per-job", "1", "--override", "image_size=16"] + [
    a
    for k, v in TINY.items()
    if k != "image_size"
    for a in (
        ["--override", f"{k}={v}"]
        if not isinstance(v, dict)
        else [x for f, w in v.items() for x in ("--override", f"{k}.{f}={w}")]
    )
]
# what each (quantity, estimator) must say it is
EXPECTED_KIND = {
    ("I(X;Z)", "counts"): "exact",
    ("I(X;Z)", "bit-entropies"): "upper bound",
    ("I(X;Z)", "bits-sent"): "upper bound",
    ("I(X;Z)", "club"): "upper bound",
    ("I(X;Z)", "mine"): "lower bound",
    ("I(Z;Ŷ)", "counts"): "exact",
    ("I(X;Ŷ)", "counts"): "exact",
    ("I(Ŷ;Y)", "plug-in"): "plug-in",
}


class ToyCodec(torch.nn.Module):
    """Three threshold bits of the mean intensity: a deterministic encoder E(X)."""

    def bits(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([m > 0.5, m > 0.8, m > 0.9], 1).float()[:, :, None, None]


def _h(*p: float) -> float:
    return -sum(q * math.log2(q) for q in p if q > 0)


def test_h_z_from_counts_on_a_toy_codec():
    # 8 images of constant intensity i/7: codes 000 x4 (i < 4), 100 x2, 110 x1, 111 x1
    images = torch.arange(8, dtype=torch.float32).div(7).view(8, 1, 1, 1).expand(8, 3, 8, 8)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    data = ImageDataset(images.contiguous(), labels, 4, "toy")
    bits = _bits(ToyCodec(), data, 3, "cpu")  # batches of 3: the codes do not depend on them
    assert bits.shape == (8, 3) and bits.dtype == np.uint8
    y_hat = np.array([0, 0, 0, 0, 1, 1, 2, 3])  # a function of the code
    v = count_values(bits, y_hat, labels.numpy(), n_classes=4, bits_sent=3)
    # hand computation: H(Z) = 1/2 log2 2 + 1/4 log2 4 + 2 (1/8 log2 8) = 1.75 bits
    assert v.h_z == pytest.approx(1.75, abs=1e-12)
    assert v.distinct == 4 and not v.saturated
    # sum of the bits' entropies: h(1/2) + h(1/4) + h(1/8)
    assert v.h_bits == pytest.approx(_h(0.5, 0.5) + _h(0.25, 0.75) + _h(0.125, 0.875), abs=1e-12)
    assert v.h_bits == pytest.approx(1 + 0.8112781244591328 + 0.5435644431995964, abs=1e-12)
    # Ŷ is a function of Z: I(Z;Ŷ) = H(Ŷ) = H(1/2, 1/4, 1/8, 1/8) = 1.75 bits
    assert v.not_function == 0
    assert v.i_z_yhat == pytest.approx(v.h_yhat, abs=1e-12)
    assert v.h_yhat == pytest.approx(1.75, abs=1e-12)
    # I(Ŷ;Y) from the 4 x 4 table by hand: H(Y) + H(Ŷ) - H(Ŷ,Y), pairs (0,0)x2 (0,1)x2 (1,2)x2
    # (2,3) (3,3): H(Ŷ,Y) = 3 (1/4 log2 4) + 2 (1/8 log2 8) = 2.25, H(Y) = 2
    assert v.h_y == pytest.approx(2.0, abs=1e-12)
    assert v.i_yhat_y == pytest.approx(2.0 + 1.75 - 2.25, abs=1e-12)
    rows = {(r["quantity"], r["estimator"]): r for r in count_rows(v)}
    assert rows[("I(X;Z)", "counts")]["value"] == pytest.approx(1.75, abs=1e-12)
    assert rows[("I(X;Z)", "bits-sent")]["value"] == 3
    assert all(r["in_bounds"] == 1 for r in rows.values())


def test_saturated_codes_show_log2_n_and_say_so():
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(50, 40))  # 50 distinct codes (with probability ~1)
    assert len(np.unique(bits, axis=0)) == 50
    y = rng.integers(0, 10, 50)
    v = count_values(bits, y, y, n_classes=10)
    assert v.saturated and v.h_z == pytest.approx(math.log2(50), abs=1e-12)
    assert v.ci_h_z is None
    row = next(r for r in count_rows(v) if r["estimator"] == "counts")
    assert row["saturated"] == 1 and "log2 N" in row["note"] and row["upper"] <= math.log2(50)
    # Ŷ = Y exactly: I(Ŷ;Y) = H(Y) on the images
    assert v.i_yhat_y == pytest.approx(v.h_y, abs=1e-12)


def test_a_prediction_that_is_not_a_function_of_the_code_is_reported():
    bits = np.array([[0, 1], [0, 1], [1, 0], [1, 0]])
    y_hat = np.array([0, 1, 2, 2])  # one code meets two predictions
    v = count_values(bits, y_hat, y_hat, n_classes=3)
    assert v.not_function == 1
    assert v.i_z_yhat < v.h_yhat - 0.4  # I(Z;Ŷ) = H(Ŷ) - H(Ŷ|Z) = 1.5 - 0.5
    row = next(r for r in count_rows(v) if r["quantity"] == "I(Z;Ŷ)")
    assert "NOT a function" in row["note"]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 60),
    d=st.integers(1, 6),
    k=st.integers(2, 5),
)
def test_the_exact_relations_hold_for_any_codes_and_predictions(seed, n, d, k):
    """I(Ŷ;Y) <= H(Ŷ) = I(X;Ŷ) <= I(Z;Ŷ) <= H(Z) <= sum_i H(Z_i) <= bits sent, log2 N, log2 K:
    every count row is in bounds when Ŷ is a function of Z (the DPIs of eqs. 32 and 38)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, d))
    table = rng.integers(0, k, size=2**d)  # Ŷ = F(Z)
    y_hat = table[bits @ (2 ** np.arange(d))]
    y = rng.integers(0, k, size=n)
    rows = count_rows(count_values(bits, y_hat, y, n_classes=k, bits_sent=d + 3))
    assert [r["in_bounds"] for r in rows] == [1] * len(rows), [r["note"] for r in rows]
    for r in rows:
        assert r["kind"] == EXPECTED_KIND[(r["quantity"], r["estimator"])]
        assert r["lower"] <= r["upper"] + 1e-9 and r["check"]


def test_estimates_carry_their_kind_and_are_checked_against_the_bits_sent():
    ok = estimator_row("mine", "lower bound", [1.0, 2.0, 3.0], bits_sent=4, samples=10)
    assert (ok["value"], ok["min"], ok["max"], ok["repeats"], ok["in_bounds"]) == (2, 1, 3, 3, 1)
    assert ok["kind"] == "lower bound" and "bits sent" in ok["check"]
    low = estimator_row("mine", "lower bound", [-1.0, 2.0], bits_sent=4, samples=10)
    high = estimator_row("club", "upper bound", [3.0, 9.0], bits_sent=4, samples=10)
    for r in (low, high):
        assert r["in_bounds"] == 0 and "OUT OF BOUNDS" in r["note"]
    with pytest.raises(ValueError, match="kind"):
        estimator_row("club", "exact", [1.0], bits_sent=4, samples=10)


def test_bad_inputs_are_refused_with_the_argument_named():
    bits = np.array([[0, 1], [1, 0]])
    y = np.array([0, 1])
    with pytest.raises(ValueError, match="bits: values must be 0 or 1"):
        count_values(bits * 2, y, y, n_classes=2)
    with pytest.raises(ValueError, match="bits_sent"):
        count_values(bits, y, y, n_classes=2, bits_sent=1)
    with pytest.raises(ValueError, match="y_hat: labels must lie in 0..1"):
        count_values(bits, y + 1, y, n_classes=2)
    with pytest.raises(ValueError, match="repeats must be a positive integer"):
        make_mi_spec("quick", repeats=0)
    with pytest.raises(ValueError, match="methods must be a non-empty subset"):
        make_mi_spec("quick", methods=["jpeg"])
    with pytest.raises(ValueError, match="estimators must be distinct names"):
        make_mi_spec("quick", estimators=["infonce"])
    with pytest.raises(ValueError, match="unknown mi option 'snr_db'"):
        make_mi_spec("quick", snr_db=10.0)


def test_principal_components_are_lossless_for_low_rank_images():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 30)) + 5.0  # rank 3 after centring
    feats, info = x_features(x, 10)
    assert info["components"] == 3 and info["variance_kept"] == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(np.cov(feats.T, bias=True), np.eye(3), atol=1e-9)  # whitened
    # invertible: x is recovered from the features by least squares
    xc = x - x.mean(0)
    coef, *_ = np.linalg.lstsq(feats, xc, rcond=None)
    assert np.allclose(feats @ coef, xc, atol=1e-9)


def test_the_trainings_are_the_bpp_experiments_own_jobs():
    """Same configuration, same key: a directory where bpp ran is reused, nothing retrained."""
    spec = make_mi_spec("quick", methods=["tosc", "ib"], seeds=2)
    mi = {j.key for j in build_mi_jobs(spec) if j.spec["kind"] == "train"}
    bpp = {j.key for j in build_jobs(make_spec("bpp", "quick", seeds=2))}
    assert mi and mi <= bpp
    analyses = [j for j in build_mi_jobs(spec) if j.spec["kind"] == "mi"]
    assert sorted({j.spec["method"] for j in analyses}) == ["ib", "tosc"]
    assert len(analyses) == 2 * 3 * 2  # methods x bpps x seeds
    runs = {j.run_id for j in build_mi_jobs(spec)}
    assert all(j.needs == (j.spec["run"],) and j.spec["run"] in runs for j in analyses)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mi")
    argv = [
        "mi",
        "--out",
        str(out),
        "--bpp",
        "2",
        "--repeats",
        "2",
        "--mi-steps",
        "4",
        "--mi-batch-size",
        "16",
        "--mi-hidden",
        "8",
        "--x-components",
        "8",
        "--executor",
        "inline",
        "--no-progress",
        *TINY_ARGS,
    ]
    assert main(argv) == 0
    return out, argv


def test_mi_command_writes_the_schema(tiny_run):
    out, _ = tiny_run
    res = load_mi_results(str(out))
    rows = res["rows"]
    assert len(rows) == 3 * len(EXPECTED_KIND)  # rd, tosc, ib x (6 count rows + CLUB + MINE)
    assert [r["method"] for r in rows[:: len(EXPECTED_KIND)]] == ["rd", "tosc", "ib"]
    assert {r["quantity"] for r in rows} == set(QUANTITIES)
    for r in rows:
        assert list(r) == list(MI_FIELDS)
        assert r["kind"] in KINDS and r["kind"] == EXPECTED_KIND[(r["quantity"], r["estimator"])]
        assert r["bpp"] == 2.0 and r["snr_db"] == math.inf and r["seed"] == 0
        assert r["check"] and r["lower"] <= r["upper"] and r["min"] <= r["value"] <= r["max"]
        assert 0 <= r["accuracy"] <= 1 and r["samples"] > 0
        if r["estimator"] in ("club", "mine"):
            assert r["repeats"] == 2 and 0 <= r["converged"] <= 1
        else:  # the exact relations hold on the images
            assert r["repeats"] == 1 and r["in_bounds"] == 1
    sent = [r["value"] for r in rows if r["estimator"] == "bits-sent"]
    assert sent == [2.0 * 16 * 16] * 3  # bpp x H x W
    xz = [r for r in rows if r["quantity"] == "I(X;Z)" and r["estimator"] == "counts"]
    assert all(r["value"] <= math.log2(360) + 1e-9 and r["samples"] == 360 for r in xz)
    csv = pd.read_csv(out / "results.csv")
    assert list(csv.columns) == list(MI_FIELDS) and len(csv) == len(rows)
    assert np.allclose(csv["value"], [r["value"] for r in rows])
    prov = res["provenance"]
    assert prov["figure"] == "Fig. 7" and prov["units"].startswith("bits")
    assert prov["experiment"]["repeats"] == 2
    assert (out / "fig7_mi.png").stat().st_size > 10_000
    # the analysed systems are the trained ones: accuracy and PSNR equal the training jobs'
    # own evaluation at SNR = inf on the same test images
    trained = {}
    for path in (out / "jobs").glob("*.json"):
        rec = json.loads(path.read_text())
        if rec["spec"]["kind"] == "train":
            (row,) = rec["rows"]
            trained[row["method"]] = (row["accuracy"], row["psnr"])
    for r in rows:
        acc, psnr = trained[r["method"]]
        assert r["accuracy"] == pytest.approx(acc, abs=1e-12)
        assert r["psnr"] == pytest.approx(psnr, rel=1e-9)


def test_mi_command_rerun_reuses_every_job(tiny_run, capsys):
    out, argv = tiny_run
    before = load_mi_results(str(out))["rows"]
    assert main(argv) == 0
    assert "(0 jobs run, 6 reused)" in capsys.readouterr().out
    after = load_mi_results(str(out))["rows"]
    assert [r["value"] for r in after] == [r["value"] for r in before]
