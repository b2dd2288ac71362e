"""Batched solving (issue 6): each problem equals its one-by-one solve."""

import functools
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infotheory import ConvergenceWarning, rate_distortion, semantic_rd, semantic_rd_batch
from infotheory.core import LOGIT_FLOOR, TINY
from infotheory.kernels import exp_row

# these tests are about one start of the solver (the global strategy of issue 10
# is tested in test_global.py): restarts=0
semantic_rd = functools.partial(semantic_rd, restarts=0)


def random_problem(rng, n, m, k):
    return rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m), size=n), rng.random((n, k))


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([False, "auto"]))
def test_batched_equals_one_by_one(seed, accelerate):
    """Same encoder (1e-12), objective (1e-12 bits) and iteration count per problem,
    for a batch mixing β = 0 and β > 0 and several λ (own convergence mask each)."""
    rng = np.random.default_rng(seed)
    n, m, k = rng.integers(2, 9), rng.integers(2, 4), rng.integers(2, 8)
    p_x, pyx, d = random_problem(rng, n, m, k)
    lams = np.array([0.05, 0.3, 1.0, 0.2, 0.5])
    betas = np.array([0.0, 0.0, 0.0, 0.3, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        out = semantic_rd_batch(
            p_x, pyx, d, lams=lams, betas=betas, accelerate=accelerate, max_iter=5_000
        )
        for b in range(len(lams)):
            one = semantic_rd(
                p_x, pyx, d, beta=betas[b], lam=lams[b], accelerate=accelerate, max_iter=5_000
            )
            r = out.results[b]
            assert r.iterations == one.iterations and r.converged == one.converged
            np.testing.assert_allclose(r.encoder, one.encoder, atol=1e-12)
            assert r.objective == pytest.approx(one.objective, abs=1e-12)
            if betas[b] == 0 and one.converged:
                assert r.gap <= 1e-10
    assert out.backend == "numba" and len(out) == 5
    np.testing.assert_array_equal(out.iterations, [r.iterations for r in out.results])


def test_line_problem_many_lambdas():
    """64 λ on a line problem: all certified, and R decreasing in λ."""
    x = np.linspace(0, 1, 24)
    lams = np.geomspace(0.005, 0.5, 16)
    out = semantic_rd_batch(np.full(24, 1 / 24), np.ones((24, 1)), (x[:, None] - x) ** 2, lams=lams)
    assert out.converged.all() and np.all(out.gap <= 1e-10)
    assert np.all(np.diff(out.rate) <= 1e-9)
    one = semantic_rd(
        np.full(24, 1 / 24), np.ones((24, 1)), (x[:, None] - x) ** 2, beta=0, lam=lams[3]
    )
    assert out.objective[3] == pytest.approx(one.objective, abs=1e-10)


def test_torch_backend_matches_numba():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    p_x, pyx, d = random_problem(rng, 7, 3, 5)
    lams, betas = [0.1, 0.4, 0.2], [0.0, 0.0, 0.7]
    ref = semantic_rd_batch(p_x, pyx, d, lams=lams, betas=betas, accelerate=False)
    tt = semantic_rd_batch(p_x, pyx, d, lams=lams, betas=betas, device="cpu")
    assert tt.backend == "torch-cpu" and tt.converged.all()
    np.testing.assert_array_equal(tt.iterations, ref.iterations)
    np.testing.assert_allclose(tt.objective, ref.objective, atol=1e-12)
    for a, b in zip(tt.results, ref.results):
        np.testing.assert_allclose(a.encoder, b.encoder, atol=1e-12)
    assert torch.get_default_dtype() == torch.float32  # nothing global was changed


def test_scalar_broadcast_and_fields():
    out = semantic_rd_batch([0.5, 0.5], np.eye(2), 1 - np.eye(2), lams=0.5, betas=[0.0, 1.0])
    np.testing.assert_array_equal(out.lam, [0.5, 0.5])
    assert np.isnan(out.gap[1]) and out.gap[0] <= 1e-10
    assert "stationary point" in out.results[1].message


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(lams=[0.1, -1.0]), "lams must be > 0"),
        (dict(lams=[0.1, 0.2], betas=[0.0, 1.0, 2.0]), "lams .length 2. and betas .length 3."),
        (dict(lams=[0.1], betas=[-1.0]), "betas must be >= 0"),
        (dict(lams=[[0.1]]), "lams and betas must be scalars or 1-dimensional"),
        (dict(lams=[0.1], device="tpu"), "device must be None"),
        (dict(lams=[0.1], dtype="float16"), "dtype must be 'float64' or 'float32'"),
        (dict(lams=[0.1], accelerate="yes"), "accelerate must be"),
        (dict(lams=[np.nan]), "lams contains NaN"),
        (dict(lams=[0.1], max_iter=0), "max_iter must be >= 1"),
    ],
)
def test_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        semantic_rd_batch([0.5, 0.5], np.eye(2), 1 - np.eye(2), **kw)


def test_bad_source_names_the_argument():
    with pytest.raises(ValueError, match="p_x sums to"):
        semantic_rd_batch([0.5, 0.6], np.eye(2), 1 - np.eye(2), lams=[0.1])


def assert_same_as_one_by_one(out, p_x, pyx, d, lams, betas, accelerate, **kw):
    for b in range(len(lams)):
        one = semantic_rd(p_x, pyx, d, beta=betas[b], lam=lams[b], accelerate=accelerate, **kw)
        r = out.results[b]
        assert r.iterations == one.iterations and r.converged == one.converged
        np.testing.assert_allclose(r.encoder, one.encoder, atol=1e-12)
        assert r.objective == pytest.approx(one.objective, abs=1e-12)


@pytest.mark.parametrize("accelerate", [False, "auto"])
def test_batched_equals_one_by_one_wide_rows(accelerate):
    """k = 37: the kernel's eight-way unrolled row loops and their remainder."""
    rng = np.random.default_rng(11)
    p_x, pyx, d = random_problem(rng, 29, 3, 37)
    lams, betas = np.array([0.02, 0.2, 0.05, 0.3]), np.array([0.0, 0.0, 0.4, 1.5])
    out = semantic_rd_batch(p_x, pyx, d, lams=lams, betas=betas, accelerate=accelerate)
    assert out.converged.all()
    assert_same_as_one_by_one(out, p_x, pyx, d, lams, betas, accelerate)


def test_symbol_out_of_use_is_brought_back():
    """A start with an unused column that the optimum needs: Blahut's c(x̂) <= 1 fails
    for it, the kernel revives it, as the single-problem solver does."""
    x = np.linspace(0, 1, 12)
    p_x, d = np.full(12, 1 / 12), (x[:, None] - x) ** 2
    init = np.full((12, 12), 1 / 11)
    init[:, 5] = 0.0
    lams = [0.002, 0.01]
    out = semantic_rd_batch(p_x, np.ones((12, 1)), d, lams=lams, init=init, accelerate=False)
    assert out.converged.all() and all(r.p_xhat[5] > 0 for r in out.results)
    assert_same_as_one_by_one(out, p_x, np.ones((12, 1)), d, lams, [0.0, 0.0], False, init=init)


def test_large_problems_thread_pool_and_threads_do_not_change_results():
    """n·k at batched.OVERLAP_MIN_SIZE: both phases per problem in the thread pool. The
    answers do not depend on the number of threads, and equal the one-by-one ones
    (iterations, objective; this line problem's objective is flat to 1e-16 over encoder
    changes of ~1e-6 at small λ, so encoders are compared between thread counts)."""
    x = np.linspace(0, 1, 256)
    p_x, d = np.full(256, 1 / 256), (x[:, None] - x) ** 2
    lams = [0.003, 0.05]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        pooled = semantic_rd_batch(p_x, np.ones((256, 1)), d, lams=lams)
        numba.set_num_threads(1)
        serial = semantic_rd_batch(p_x, np.ones((256, 1)), d, lams=lams)
    finally:
        numba.set_num_threads(before)
    assert pooled.converged.all() and np.all(pooled.gap <= 1e-10)
    np.testing.assert_array_equal(pooled.iterations, serial.iterations)
    for a, b in zip(pooled.results, serial.results):
        np.testing.assert_array_equal(a.encoder, b.encoder)
    for lam, r in zip(lams, pooled.results):
        one = rate_distortion(p_x, d, lam=lam)
        assert r.iterations == one.iterations
        assert r.objective == pytest.approx(one.objective, abs=1e-12)


def test_batch_exp_row_within_an_ulp():
    """The kernel's vectorised exp: at most 1 ulp from e^w on [LOGIT_FLOOR, 0] (so at
    most 2 from NumPy's), the sentinel below LOGIT_FLOOR under TINY."""
    rng = np.random.default_rng(0)
    w = np.concatenate([np.linspace(LOGIT_FLOOR, 0, 200_001), -rng.random(20_000), [-1e-300, 0.0]])
    shift = 3.25
    row, scale = w + shift, np.empty(w.size)
    ref = np.exp(row - shift)
    exp_row(row, shift, scale)
    got = row * scale
    assert np.all(np.abs(got - ref) <= 2 * np.spacing(ref))
    assert np.mean(got == ref) > 0.8
    low = np.array([-690.01, -695.0, -700.0, -1e6, -np.inf])
    row = low.copy()
    exp_row(row, 0.0, scale[:5])
    assert np.all(row * scale[:5] < TINY)


def test_torch_float32_reaches_the_float64_answer_or_says_not():
    """float32 alone stalls (here at an exact residual of 0, D_RD = 0.64 instead of
    the optimum): every float32 problem is finished in float64 to the same tol/gap_tol."""
    pytest.importorskip("torch")
    p_x = np.array([0.1, 0.2, 0.3, 0.4])
    d = (np.arange(4)[:, None] - np.arange(4)[None, :]) ** 2 / 4.0
    lams = [1e8, 0.3, 0.05]
    ref = semantic_rd_batch(p_x, np.ones((4, 1)), d, lams=lams)  # Numba, float64, certified
    f32 = semantic_rd_batch(p_x, np.ones((4, 1)), d, lams=lams, device="cpu", dtype="float32")
    assert ref.converged.all() and f32.converged.all()
    assert np.all(f32.gap <= 1e-10)
    # independent: at λ → ∞ the optimum is rate 0 at the best single reproduction
    assert f32.distortion_rd[0] == pytest.approx(np.min(p_x @ d), abs=1e-6)
    np.testing.assert_allclose(f32.objective, ref.objective, atol=1e-9)
    assert "finished in float64" in f32.results[0].message
