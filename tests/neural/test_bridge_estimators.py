"""neural.bridge.estimators: MI estimators on samples from solver-optimal encoders."""

import math

import numpy as np
import pytest

from infotheory import mutual_information, semantic_rd
from infotheory.sources import gaussian_source
from neural.bridge import estimators as es
from neural.bridge.estimators import (
    estimate_on_solution,
    estimators_vs_exact,
    plot_estimators,
    sample_triples,
    summarise,
)


@pytest.fixture(scope="module")
def solved():
    src = gaussian_source(1.0, n_points=15, width=3.0, n_classes=2)
    res = semantic_rd(*src, beta=0.5, lam=0.3)
    return src, res


def test_exact_column_is_the_solver_results_own_rate_and_relevance(solved):
    """Acceptance (issue 13): the MI table's exact column comes from the solver's result."""
    src, res = solved
    rows = estimate_on_solution(
        res,
        p_x=src.p_x,
        p_y_given_x=src.p_y_given_x,
        x_features=src.x_points,
        xhat_features=src.xhat_points,
        source="gaussian",
        seeds=[0],
        n_samples=400,
        steps=20,
        methods_rate=("plugin", "mine"),
        methods_relevance=("plugin", "classifier"),
    )
    assert [(r["quantity"], r["estimator"]) for r in rows] == [
        ("I(X;X̂)", "plugin"),
        ("I(X;X̂)", "mine"),
        ("I(X̂;Y)", "plugin"),
        ("I(X̂;Y)", "classifier"),
    ]
    for r in rows:
        want = res.rate if r["quantity"] == "I(X;X̂)" else res.relevance
        assert r["exact"] == want  # the very number of the result object
        assert r["beta"] == res.beta and r["lam"] == res.lam
        assert r["estimate"] is not None and math.isfinite(r["estimate"])
        assert r["error"] == r["estimate"] - r["exact"]
    summary = summarise(rows)
    assert {s["exact"] for s in summary} == {res.rate, res.relevance}


def test_samples_follow_the_markov_chain(solved):
    """Empirical joints of (x, x̂) and (x̂, y) against p(x)p(x̂|x) and Σ_x p(x)p(x̂|x)p(y|x):
    the empirical MI (plug-in, bits) within 0.02 bits of the exact rate and relevance."""
    src, res = solved
    x, xh, y = sample_triples(src.p_x, src.p_y_given_x, res.encoder, n_samples=200_000, seed=3)
    n, k = res.encoder.shape
    joint = np.bincount(x * k + xh, minlength=n * k).reshape(n, k) / x.size
    want = src.p_x[:, None] * res.encoder
    assert np.max(np.abs(joint - want)) < 4e-3
    assert abs(mutual_information(joint) - res.rate) < 0.02
    jy = np.bincount(xh * 2 + y, minlength=2 * k).reshape(k, 2) / x.size
    assert abs(mutual_information(jy) - res.relevance) < 0.02
    # y depends on x only: for each x, the label frequency is p(y|x)
    for xv in np.unique(x)[:5]:
        sel = x == xv
        assert abs(np.mean(y[sel] == 1) - src.p_y_given_x[xv, 1]) < 0.02


def test_summary_statistics_against_numpy():
    rows = [
        {
            "part": "estimators",
            "source": "s",
            "beta": 0.1,
            "lam": 0.2,
            "quantity": "I(X;X̂)",
            "estimator": "mine",
            "kind": "lower bound",
            "exact": 2.0,
            "estimate": v,
        }
        for v in (1.5, 1.9, None, 1.7)
    ]
    (s,) = summarise(rows)
    v = np.array([1.5, 1.9, 1.7])
    assert s["mean"] == pytest.approx(v.mean(), abs=1e-15)
    assert s["bias"] == pytest.approx(v.mean() - 2.0, abs=1e-15)
    assert s["rel_bias"] == pytest.approx((v.mean() - 2.0) / 2.0, abs=1e-15)
    assert s["sd"] == pytest.approx(v.std(ddof=1), abs=1e-15)
    assert s["rmse"] == pytest.approx(np.sqrt(np.mean((v - 2.0) ** 2)), abs=1e-15)
    assert (s["n_seeds"], s["n_failed"], s["kind"]) == (4, 1, "lower bound")


def test_invalid_inputs_are_refused(solved):
    src, res = solved
    with pytest.raises(ValueError, match="n_samples"):
        sample_triples(src.p_x, src.p_y_given_x, res.encoder, n_samples=1, seed=0)
    with pytest.raises(ValueError, match="encoder"):
        sample_triples(src.p_x, src.p_y_given_x, res.encoder * 0.5, n_samples=10, seed=0)
    with pytest.raises(ValueError, match="result"):
        estimate_on_solution(
            "not a result",
            p_x=src.p_x,
            p_y_given_x=src.p_y_given_x,
            x_features=src.x_points,
            xhat_features=src.xhat_points,
            source="g",
            seeds=[0],
            n_samples=100,
            steps=5,
        )
    with pytest.raises(ValueError, match="preset"):
        estimators_vs_exact(preset="huge", seeds=1, progress=False)
    with pytest.raises(ValueError, match="seeds"):
        estimators_vs_exact(preset="quick", seeds=0, progress=False)


def test_estimators_vs_exact_rows_and_figure(monkeypatch, tmp_path):
    tiny = dict(
        es.ESTIMATOR_PRESETS["quick"],
        gaussian_points=11,
        gaussian_lams=(0.3,),
        digits_codebook=4,
        digits_lams=(0.05,),
        n_samples=300,
        steps=10,
    )
    monkeypatch.setitem(es.ESTIMATOR_PRESETS, "tiny", tiny)
    monkeypatch.setattr(es, "METHODS_RATE", ("plugin", "infonce"))
    monkeypatch.setattr(es, "METHODS_RELEVANCE", ("plugin", "club-categorical"))
    rows = estimators_vs_exact(preset="tiny", seeds=2, progress=False)
    sols = [r for r in rows if r["part"] == "estimators_solution"]
    est = [r for r in rows if r["part"] == "estimators"]
    summ = [r for r in rows if r["part"] == "estimators_summary"]
    assert len(sols) == 2 and len(est) == 2 * 2 * 4 and len(summ) == 2 * 4
    for r in est:
        sol = next(s for s in sols if s["source"] == r["source"] and s["lam"] == r["lam"])
        want = sol["rate"] if r["quantity"] == "I(X;X̂)" else sol["relevance"]
        assert r["exact"] == want
    path = tmp_path / "estimators.png"
    plot_estimators(rows, path)
    assert path.stat().st_size > 10_000


def test_an_executor_gives_the_same_rows(solved):
    from concurrent.futures import ThreadPoolExecutor

    src, res = solved
    kw = dict(
        p_x=src.p_x,
        p_y_given_x=src.p_y_given_x,
        x_features=src.x_points,
        xhat_features=src.xhat_points,
        source="gaussian",
        seeds=[0, 1],
        n_samples=300,
        steps=10,
        methods_rate=("plugin", "nwj"),
        methods_relevance=("plugin",),
    )
    here = estimate_on_solution(res, **kw)
    with ThreadPoolExecutor(max_workers=1) as ex:
        there = estimate_on_solution(res, executor=ex, **kw)
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in here] == [
        {k: v for k, v in r.items() if k not in drop} for r in there
    ]


def test_rounding_residue_in_features_is_zeroed():
    f = np.array([[1.0, 3e-20, 0.5], [0.0, -2e-17, 0.25]])
    out = es._clean(f, 2, "xhat_features")
    np.testing.assert_array_equal(out, [[1.0, 0.0, 0.5], [0.0, 0.0, 0.25]])
    np.testing.assert_array_equal(es._clean(np.array([0.5, 1e-3]), 2, "x"), [[0.5], [1e-3]])
    with pytest.raises(ValueError, match="xhat_features"):
        es._clean(f, 3, "xhat_features")
    with pytest.raises(ValueError, match="NaN"):
        es._clean(np.array([[np.nan]]), 1, "x_features")
