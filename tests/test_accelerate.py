"""The accelerated path of semantic_rd at β = 0 (issue 6): same optimum as plain
iteration, a true certificate, safe pruning, a monotone objective (β > 0:
``test_accelerate_semantic.py``).

Tolerances: objectives in bits, stated per test.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infotheory import ConvergenceWarning, mutual_information, rate_distortion
from infotheory.accelerate import WARMUP

LN2 = math.log(2)


def line_problem(n, k=None):
    k = n if k is None else k
    x, xh = np.linspace(0, 1, n), np.linspace(0, 1, k)
    return np.full(n, 1 / n), (x[:, None] - xh[None, :]) ** 2


def reference_f_star(p, d, lam, iters=200_000):
    """F* (bits) by textbook Blahut–Arimoto in the probability domain with Blahut's
    two-sided bound, run until the bracket is below 1e-11 bits (independent code)."""
    a = np.exp(-(d - d.min(axis=1, keepdims=True)) / lam)
    shift = d.min(axis=1) / lam
    q = np.full(d.shape[1], 1 / d.shape[1])
    for _ in range(iters):
        mu = a @ q
        c = (p / mu) @ a
        upper = -np.dot(p, np.log(mu) - shift)  # G(q) >= F*
        lower = upper - np.log(c.max())  # Blahut: F* >= -Σ p log μ - max log c
        if upper - lower < 1e-11 * LN2:
            break
        q = q * c
    return (upper + lower) / 2 / LN2, lower / LN2


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 9),
    st.integers(2, 9),
    st.sampled_from([0.01, 0.05, 0.2, 1.0]),
)
def test_accelerated_and_plain_agree_beta0(seed, n, k, lam):
    """Same optimum to 1e-9 bits (objective, rate and distortion), both certified."""
    rng = np.random.default_rng(seed)
    p, d = rng.dirichlet(np.ones(n)), rng.random((n, k))
    acc = rate_distortion(p, d, lam=lam, accelerate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = rate_distortion(p, d, lam=lam, accelerate=False, max_iter=300_000)
    assert acc.converged and acc.gap <= 1e-10
    assert acc.objective == pytest.approx(plain.objective, abs=1e-9)
    if plain.converged:
        # a certified gap of 1e-10 fixes F to 1e-10 but the pair (R, D) only to about
        # sqrt(gap / curvature) where the optimum is flat (e.g. seed=730, n=k=7, λ=0.2:
        # plain needs 13,539 steps and its rate differs by 2e-8 bits at equal F)
        assert acc.rate == pytest.approx(plain.rate, abs=1e-6)
        assert acc.distortion_rd == pytest.approx(plain.distortion_rd, abs=1e-6 * max(1, lam))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.003, 0.02, 0.1, 0.5]))
def test_certificate_is_a_true_bound(seed, lam):
    """Blahut's lower bound of the accelerated result, and of runs stopped early inside
    the accelerated phase, never exceeds F* computed independently."""
    rng = np.random.default_rng(seed)
    n, k = rng.integers(3, 12), rng.integers(3, 12)
    p, d = rng.dirichlet(np.ones(n)), rng.random((n, k))
    f_star, f_lower = reference_f_star(p, d, lam)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for max_iter in (WARMUP + 1, WARMUP + 2, WARMUP + 4, 100_000):
            res = rate_distortion(p, d, lam=lam, max_iter=max_iter)
            f_lb = res.rate_lower_bound + res.distortion_rd / (lam * LN2)
            assert f_lb <= f_star + 1e-11
            assert res.objective >= f_lower - 1e-11  # and the objective is achievable
            assert res.gap >= 0
    assert res.converged and res.objective == pytest.approx(f_star, abs=1e-9)


@pytest.mark.parametrize("n,lam", [(24, 0.1), (24, 0.01), (40, 0.003)])
def test_pruning_never_removes_a_used_symbol(n, lam):
    """Every symbol the accelerated answer drops satisfies Blahut's optimality condition
    c(x̂) ≤ 1 there (computed here independently, in NumPy): adding it back cannot lower
    F (the problem is convex: these conditions prove the answer optimal). Not above a
    plain run certified to 1e-6 bits either."""
    p, d = line_problem(n)
    acc = rate_distortion(p, d, lam=lam)
    assert acc.converged and "sqp" in acc.message
    dropped = acc.p_xhat == 0
    assert dropped.any()  # the accelerated path did prune here
    logits = np.log(np.where(acc.p_xhat > 0, acc.p_xhat, 1e-300))[None, :] - d / lam
    mx = logits.max(axis=1, keepdims=True)
    log_mu = mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))
    z = np.log(p)[:, None] - d / lam - log_mu[:, None]
    zm = z.max(axis=0)
    log_c = zm + np.log(np.exp(z - zm).sum(axis=0))
    assert np.all(log_c[dropped] <= 1e-9)
    assert np.all(np.abs(log_c[~dropped]) <= 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = rate_distortion(
            p, d, lam=lam, accelerate=False, tol=1.0, gap_tol=1e-6, max_iter=100_000
        )
    assert acc.objective <= plain.objective + 1e-12


def test_a_needed_symbol_removed_from_the_start_is_revived():
    """Start with a needed symbol's column at 0: Blahut's re-check (c > 1) brings it
    back and the optimum is the one from a full start."""
    p, d = line_problem(20, 5)
    ref = rate_distortion(p, d, lam=0.05)
    j = int(np.argmax(ref.p_xhat))
    init = np.full((20, 5), 0.25)
    init[:, j] = 0.0  # the symbol the optimum uses most
    res = rate_distortion(p, d, lam=0.05, init=init)
    assert res.converged and ref.p_xhat[j] > 0.2
    assert res.p_xhat[j] == pytest.approx(ref.p_xhat[j], abs=1e-8)
    assert res.objective == pytest.approx(ref.objective, abs=1e-10)


def test_accelerated_objective_is_monotone_and_fast():
    """F of the successive encoders never increases (1e-12 relative), and the certified
    gap 1e-10 is reached in far fewer steps than plain iteration would take."""
    p, d = line_problem(48)
    lam = 0.01
    seen = []

    def f_bits(enc):
        joint = p[:, None] * enc
        return mutual_information(joint) + float(np.sum(joint * d)) / (lam * LN2)

    res = rate_distortion(p, d, lam=lam, callback=lambda it, enc: seen.append((it, f_bits(enc))))
    its, fs = np.array([s[0] for s in seen]), np.array([s[1] for s in seen])
    assert res.converged and res.gap <= 1e-10 and res.iterations < 150
    np.testing.assert_array_equal(its, np.arange(1, res.iterations + 1))
    assert np.all(np.diff(fs) <= 1e-12 * np.abs(fs[:-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = rate_distortion(p, d, lam=lam, accelerate=False, max_iter=20 * res.iterations)
    assert not plain.converged and plain.objective >= res.objective - 1e-12


def test_short_runs_are_plain_iteration():
    """Up to the warm-up the accelerated path is exactly plain iteration."""
    p, d = line_problem(16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = rate_distortion(p, d, lam=0.01, max_iter=WARMUP)
        b = rate_distortion(p, d, lam=0.01, max_iter=WARMUP, accelerate=False)
    np.testing.assert_array_equal(a.encoder, b.encoder)


def test_callback_can_stop_inside_the_accelerated_phase():
    p, d = line_problem(32)
    res = rate_distortion(p, d, lam=0.01, callback=lambda it, enc: it == WARMUP + 1)
    assert res.iterations == WARMUP + 1 and res.message == "stopped by callback"
    assert not res.converged and res.gap >= 0


def test_bad_accelerate_option():
    with pytest.raises(ValueError, match="accelerate must be 'auto', True or False"):
        rate_distortion([0.5, 0.5], 1 - np.eye(2), lam=0.5, accelerate="fast")


def test_sqp_step_is_never_nan_on_a_start_without_tail_symbols():
    """Regression (issue 10): from the 201-point Gaussian's solution at a smaller λ with
    its tail symbols (mass < 1e-6) removed, the QP subproblem met 0/0 (a variable at 0
    with a non-positive solution) and took a NaN step; the solve then ran for minutes."""
    from infotheory import semantic_rd
    from infotheory.sources import gaussian_source

    s = gaussian_source()
    prev = semantic_rd(s.p_x, s.p_y_given_x, s.d_rd, beta=0, lam=5.8718e-4)
    enc = prev.encoder.copy()
    enc[:, s.p_x @ enc < 1e-6] = 0.0
    enc /= enc.sum(axis=1, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = semantic_rd(
            s.p_x, s.p_y_given_x, s.d_rd, beta=0, lam=1.3791e-3, init=enc, max_iter=400
        )
    assert res.converged and res.gap <= 1e-10
