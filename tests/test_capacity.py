"""Channel capacity by Blahut–Arimoto (issue 6): closed forms, certified bounds."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from infotheory import ConvergenceWarning, channel_capacity, mutual_information


def h2(p):
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


@pytest.mark.parametrize("p", [0.0, 0.01, 0.11, 0.3, 0.5])
def test_bsc(p):
    res = channel_capacity([[1 - p, p], [p, 1 - p]])
    assert res.converged
    assert res.capacity == pytest.approx(1 - h2(p), abs=1e-10)
    assert res.lower_bound <= 1 - h2(p) + 1e-12 and res.upper_bound >= 1 - h2(p) - 1e-12


@pytest.mark.parametrize("eps", [0.0, 0.2, 0.5, 0.9])
def test_bec(eps):
    res = channel_capacity([[1 - eps, eps, 0.0], [0.0, eps, 1 - eps]])
    assert res.capacity == pytest.approx(1 - eps, abs=1e-10)
    np.testing.assert_allclose(res.input_distribution, [0.5, 0.5], atol=1e-6)


@pytest.mark.parametrize("p", [0.1, 0.4, 0.8])
def test_z_channel(p):
    """Z-channel (1 → 0 with probability p): C = log2(1 + (1-p) p^{p/(1-p)})."""
    res = channel_capacity([[1.0, 0.0], [p, 1 - p]])
    c = math.log2(1 + (1 - p) * p ** (p / (1 - p)))
    assert res.converged and res.capacity == pytest.approx(c, abs=1e-10)
    assert res.gap <= 1e-10 and res.lower_bound <= c + 1e-12 <= res.upper_bound + 2e-12


def test_nats_and_fields():
    res = channel_capacity([[0.9, 0.1], [0.1, 0.9]], base=math.e)
    assert res.capacity == pytest.approx((1 - h2(0.1)) * math.log(2), abs=1e-10)
    np.testing.assert_allclose(
        res.output_distribution, res.input_distribution @ [[0.9, 0.1], [0.1, 0.9]]
    )
    joint = res.input_distribution[:, None] * np.array([[0.9, 0.1], [0.1, 0.9]])
    assert res.capacity == pytest.approx(mutual_information(joint, base=math.e), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_binary_input_against_direct_maximisation(seed, m):
    """Binary input: C = max_p I(p) found independently by bounded scalar search."""
    w = np.random.default_rng(seed).dirichlet(np.ones(m), size=2)

    def info(a):
        return -mutual_information(np.array([a, 1 - a])[:, None] * w)

    best = minimize_scalar(info, bounds=(0, 1), method="bounded", options={"xatol": 1e-10})
    c_direct = max(-best.fun, -info(0.0), -info(1.0))
    res = channel_capacity(w)
    assert res.converged
    assert res.capacity <= c_direct + 1e-12  # an achievable rate
    assert res.capacity == pytest.approx(c_direct, abs=1e-9)
    assert res.upper_bound >= c_direct - 1e-12  # Arimoto's upper bound is a true bound


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 7), st.integers(2, 7))
def test_bounds_bracket_every_iterate(seed, n, m):
    w = np.random.default_rng(seed).dirichlet(np.ones(m), size=n)
    exact = channel_capacity(w, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for it in (1, 2, 5):
            early = channel_capacity(w, max_iter=it)
            assert early.capacity <= early.lower_bound + 1e-12
            assert early.lower_bound <= exact.upper_bound + 1e-12
            assert early.upper_bound >= exact.capacity - 1e-12


def test_max_iter_warns():
    w = np.random.default_rng(0).dirichlet(np.ones(5), size=6)
    with pytest.warns(ConvergenceWarning, match="max_iter = 1"):
        res = channel_capacity(w, max_iter=1)
    assert not res.converged and res.iterations == 1


@pytest.mark.parametrize(
    "kw,exc,match",
    [
        (dict(p_y_given_x=[[0.5, 0.6], [0.5, 0.5]]), ValueError, "p_y_given_x row 0 sums to 1.1"),
        (dict(p_y_given_x=[0.5, 0.5]), ValueError, "p_y_given_x must be 2-dimensional"),
        (dict(p_y_given_x=[[1.5, -0.5]]), ValueError, "p_y_given_x has negative entries"),
        (dict(tol=0), ValueError, "tol must be > 0"),
        (dict(max_iter=0), ValueError, "max_iter must be >= 1"),
        (dict(base=-2), ValueError, "base must be finite"),
    ],
)
def test_bad_input(kw, exc, match):
    args = dict(p_y_given_x=np.eye(2))
    args.update(kw)
    with pytest.raises(exc, match=match):
        channel_capacity(args.pop("p_y_given_x"), **args)


def test_nearly_useless_channel_converges_fast():
    """Two almost identical rows: plain Blahut–Arimoto needs > 1e5 steps for a 1e-10
    certificate; the safeguarded over-relaxed step needs a few dozen."""
    w = np.array([[0.72895719, 0.27104281], [0.72535201, 0.27464799]])
    res = channel_capacity(w)
    assert res.converged and res.iterations < 1000

    def info(a):
        return -mutual_information(np.array([a, 1 - a])[:, None] * w)

    best = minimize_scalar(info, bounds=(0, 1), method="bounded", options={"xatol": 1e-12})
    assert res.capacity == pytest.approx(-best.fun, abs=1e-10)
    assert res.lower_bound <= res.upper_bound and res.gap <= 1e-10
