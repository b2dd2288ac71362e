"""Capacity per channel use (bits): BPSK-input AWGN against the discrete-channel solver, the
Gaussian formula against numerical differential entropies, limits and input checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

from infotheory import channel_capacity
from neural.digital import bpsk_capacity, capacity_per_use, gaussian_capacity


def _quantised_bpsk_channel(snr_db: float, bins: int = 2000) -> np.ndarray:
    """p(y_bin | s), s ∈ {−1, +1}, y = s + n, n ~ N(0, σ²), σ² = 10^(−snr_db/10) (awgn.py convention):
    ``bins`` equal cells on [−1 − 10σ, 1 + 10σ] and two tail cells."""
    sigma = 10 ** (-snr_db / 20)
    edges = np.concatenate(
        [[-np.inf], np.linspace(-1 - 10 * sigma, 1 + 10 * sigma, bins + 1), [np.inf]]
    )
    return np.stack([np.diff(norm.cdf((edges - mu) / sigma)) for mu in (-1.0, 1.0)])


@pytest.mark.parametrize("snr_db", [-20.0, -10.0, -3.0, 0.0, 3.0, 6.0, 10.0, 15.0])
def test_bpsk_matches_discrete_channel_solver_to_1e4_bits(snr_db):
    res = channel_capacity(_quantised_bpsk_channel(snr_db))
    assert res.converged
    c = bpsk_capacity(snr_db)
    # quantising the output loses information (data processing), by at most ~4e-6 bits here
    assert res.capacity <= c + 1e-10
    assert c - res.capacity < 1e-4


def test_bpsk_published_value_and_limits():
    # BI-AWGN at SNR = 1/σ² = 1 (0 dB): 0.48594 bits/use (regression pin; the independent check is
    # the solver comparison above)
    assert bpsk_capacity(0.0) == pytest.approx(0.48594, abs=1e-5)
    assert bpsk_capacity(math.inf) == 1.0
    assert 1 - bpsk_capacity(20.0) < 1e-15
    assert 1 - bpsk_capacity(15.0) < 1e-6
    # low SNR: C ≈ γ/(2 ln 2) (the Gaussian-input slope), → 0
    for snr_db in (-30.0, -40.0):
        gamma = 10 ** (snr_db / 10)
        assert bpsk_capacity(snr_db) == pytest.approx(gamma / (2 * math.log(2)), rel=2e-3)
    assert bpsk_capacity(-60.0) < 1e-6


@settings(max_examples=30, deadline=None)
@given(st.floats(-30, 25), st.floats(0.01, 5))
def test_bpsk_increasing_and_below_gaussian(snr_db, step):
    lo, hi = bpsk_capacity(snr_db), bpsk_capacity(snr_db + step)
    assert 0 <= lo <= hi <= 1
    assert lo <= gaussian_capacity(snr_db) + 1e-12


def test_gaussian_formula():
    assert gaussian_capacity(10 * math.log10(3)) == pytest.approx(1.0, abs=1e-15)
    assert gaussian_capacity(10 * math.log10(15)) == pytest.approx(2.0, abs=1e-15)
    assert gaussian_capacity(0.0) == 0.5
    assert gaussian_capacity(math.inf) == math.inf
    assert capacity_per_use("gaussian", 7.0) == gaussian_capacity(7.0)
    assert capacity_per_use("bpsk", 7.0) == bpsk_capacity(7.0)


@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 10.0])
def test_gaussian_equals_entropy_difference(snr_db):
    """½·log2(1 + SNR) = h(Y) − h(N) for Y = X + N, X ~ N(0, 1), N ~ N(0, σ²): integrate −∫ p log2 p."""
    sigma2 = 10 ** (-snr_db / 10)

    def h(var):
        s = math.sqrt(var)

        def f(y):
            return -norm.pdf(y, scale=s) * norm.logpdf(y, scale=s) / math.log(2)

        return integrate.quad(f, -40 * s, 40 * s, epsabs=1e-13, limit=200)[0]

    assert gaussian_capacity(snr_db) == pytest.approx(h(1 + sigma2) - h(sigma2), abs=1e-9)


@pytest.mark.parametrize(
    "bad, err",
    [(float("nan"), ValueError), (-math.inf, ValueError), ("3", TypeError), (True, TypeError)],
)
def test_invalid_snr(bad, err):
    with pytest.raises(err, match="snr_db"):
        bpsk_capacity(bad)
    with pytest.raises(err, match="snr_db"):
        gaussian_capacity(bad)


def test_unknown_capacity_name():
    with pytest.raises(ValueError, match="capacity must be one of"):
        capacity_per_use("complex", 0.0)


@pytest.mark.parametrize("snr_db", [-30.0, 0.0, 5.0, 15.0])
def test_bpsk_quadrature_against_30_digit_reference(snr_db):
    """The same integral in 30-digit arithmetic (mpmath, installed with torch's sympy): ≤ 1e-12 bits apart."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(30):
        g = mp.mpf(10) ** (mp.mpf(snr_db) / 10)
        r = mp.sqrt(g)
        loss = mp.quad(
            lambda t: mp.npdf(t) * mp.log1p(mp.exp(-2 * g - 2 * r * t)) / mp.log(2),
            [-mp.inf, -r - 8, -r, -r + 8, mp.inf],
        )
        reference = float(1 - loss)
    assert abs(bpsk_capacity(snr_db) - reference) <= 1e-12
