"""The single-problem step kernels of eq. (17) (infotheory.kernels) against NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infotheory import kernels, rowops
from infotheory.core import LOGIT_FLOOR


def cross_term(pyx, log_r_t):
    """Σ_y p(y|x) log p(y|x̂) by broadcasting (n×m×k), 0·log 0 = 0: -inf exactly where a
    label x emits meets one x̂ never does."""
    with np.errstate(invalid="ignore"):
        terms = np.where(pyx[:, :, None] > 0, pyx[:, :, None] * log_r_t[None], 0.0)
    return terms.sum(axis=1)


def reference_step(log_q, dl, pyx, log_r_t, coef, h_x, old):
    """Step 1 of eq. (17) in plain NumPy (numpy.exp): logits, row maximum, the -inf
    fallback to the d_RD part, entries more than -LOGIT_FLOOR below the maximum exactly
    0, division by μ(x); returns (encoder, log μ, residual)."""
    with np.errstate(invalid="ignore"):
        logits = log_q - dl + (coef * cross_term(pyx, log_r_t) if coef > 0 else 0.0)
    fallback = np.all(logits == -np.inf, axis=1)
    logits[fallback] = (log_q - dl)[fallback]
    top = logits.max(axis=1, keepdims=True)
    w = logits - top
    e = np.where(w >= LOGIT_FLOOR, np.exp(np.maximum(w, LOGIT_FLOOR)), 0.0)
    s = e.sum(axis=1)
    enc = e / s[:, None]
    log_mu = top[:, 0] + np.log(s) + np.where(fallback, 0.0, coef * h_x)
    return enc, log_mu, np.abs(enc - old).max(axis=1)


def random_case(rng, n, k, coef, far=True, m=11):
    """Random step-1 operands. p(y|x) has zeros (labels skipped); log p(y|x̂) has -inf
    entries (a label x̂ never emits); label 0 is emitted by row 0 alone and by no x̂, so
    row 0's logits are all -inf (the fallback row). m = 11 labels exercise the 4-label
    passes and a remainder of 1 to 3."""
    log_q = np.log(rng.dirichlet(np.ones(k)))
    log_q[rng.choice(k, size=k // 4, replace=False)] = -np.inf  # symbols out of use
    scale = rng.choice([1.0, 3000.0], size=k) if far else np.ones(k)  # some beyond the floor
    dl = rng.random((n, k)) * scale
    pyx = rng.dirichlet(np.ones(m), size=n) * (rng.random((n, m)) < 0.7)
    pyx[:, 0] = 0.0
    pyx[0, 0] = 1.0
    pyx /= pyx.sum(axis=1, keepdims=True)
    log_r_t = np.log(rng.random((m, k))) * 3
    log_r_t[rng.random((m, k)) < 0.05] = -np.inf  # a label x emits that x̂ never does
    log_r_t[0] = -np.inf
    h_x = rng.random(n)
    old = rng.dirichlet(np.ones(k), size=n)
    return log_q, dl, pyx, log_r_t, coef, h_x, old


def test_exp_row_within_an_ulp_and_exactly_zero_below_the_floor():
    """The kernel's vectorised exp: at most 1 ulp from e^w on [LOGIT_FLOOR, 0] (so at
    most 2 from NumPy's), equal to NumPy's for most arguments; below LOGIT_FLOOR (and at
    -inf) exactly 0."""
    rng = np.random.default_rng(0)
    w = np.concatenate([np.linspace(LOGIT_FLOOR, 0, 200_001), -rng.random(20_000), [-1e-300, 0.0]])
    shift = 3.25
    got = w + shift
    ref = np.exp(got - shift)
    rowops.exp_row(got, shift)
    assert np.all(np.abs(got - ref) <= 2 * np.spacing(ref))
    assert np.mean(got == ref) > 0.8
    # against an independent, correctly rounded value: e^w = 2^(w·log2 e) in extended steps
    x = np.linspace(LOGIT_FLOOR, 0, 6901)
    got = x.copy()
    rowops.exp_row(got, 0.0)
    ld = np.exp(x.astype(np.longdouble))  # 64-bit mantissa on x86-64
    assert np.all(np.abs(got - ld) <= np.spacing(np.abs(got)) * 1.0)
    low = np.array([-690.01, -695.0, -700.0, -1e6, -np.inf])
    rowops.exp_row(low, 0.0)
    assert np.all(low == 0.0)


@pytest.mark.parametrize("cross", [False, True], ids=["labels-in-pass", "cross-term-given"])
@pytest.mark.parametrize("coef", [0.0, 0.7])
def test_encoder_step_matches_numpy_reference(coef, cross):
    """encoder_step = eq. (17) step 1 in NumPy: encoder, exact zeros at the same places,
    log μ and the residual; the fallback row uses d_RD alone. The label sum formed in the
    row pass (encoder_step) or given as an n×k array (encoder_step_cross). Tolerance: an
    entry e^w is sensitive to the rounding of its logit w (|w| ≤ 690 relative to the row
    maximum), |w|·2.2e-16 ≤ 1.5e-13 relative; exp itself adds at most 1 ulp."""
    rng = np.random.default_rng(1)
    n, k = 7, 45
    log_q, dl, pyx, log_r_t, coef, h_x, old = random_case(rng, n, k, coef)
    enc, log_mu, resid = np.empty((n, k)), np.empty(n), np.empty(n)
    if cross:
        term = cross_term(pyx, log_r_t)
        kernels.encoder_step_cross(log_q, dl, term, coef, h_x, old, enc, log_mu, resid)
    else:
        kernels.encoder_step(log_q, dl, pyx, log_r_t, coef, h_x, old, enc, log_mu, resid)
    ref_enc, ref_mu, ref_resid = reference_step(log_q, dl, pyx, log_r_t, coef, h_x, old)
    np.testing.assert_allclose(enc, ref_enc, rtol=2e-13, atol=0)
    np.testing.assert_array_equal(enc == 0, ref_enc == 0)
    assert (enc == 0).sum() > k // 4 * n  # symbols out of use and entries beyond the floor
    np.testing.assert_allclose(log_mu, ref_mu, rtol=1e-14)
    np.testing.assert_allclose(resid, ref_resid, rtol=1e-13)
    np.testing.assert_allclose(enc.sum(axis=1), 1.0, rtol=1e-15)


def test_cross_term_may_be_the_output_buffer():
    """encoder_step_cross may write the encoder over its cross-term input (as the
    single-problem backend does): the same numbers as with separate buffers."""
    rng = np.random.default_rng(4)
    n, k = 11, 30
    log_q, dl, pyx, log_r_t, coef, h_x, old = random_case(rng, n, k, 0.6)
    term = cross_term(pyx, log_r_t)
    enc, log_mu, resid = np.empty((n, k)), np.empty(n), np.empty(n)
    kernels.encoder_step_cross(log_q, dl, term, coef, h_x, old, enc, log_mu, resid)
    mu2, resid2 = np.empty(n), np.empty(n)
    kernels.encoder_step_cross(log_q, dl, term, coef, h_x, old, term, mu2, resid2)
    np.testing.assert_array_equal(term, enc)
    np.testing.assert_array_equal(mu2, log_mu)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 70))
def test_encoder_step_buffers_may_alias(seed, n, k):
    """The encoder may be updated in place (enc_new = enc_old, as the batched backend
    does): the same numbers as with separate buffers, for the whole step and row by row."""
    rng = np.random.default_rng(seed)
    log_q, dl, pyx, log_r_t, coef, h_x, old = random_case(rng, n, k, 0.5, far=False)
    log_q[0] = 0.0  # at least one symbol in use
    enc, log_mu, resid = np.empty((n, k)), np.empty(n), np.empty(n)
    kernels.encoder_step(log_q, dl, pyx, log_r_t, coef, h_x, old, enc, log_mu, resid)
    out = old.copy()
    mu2, resid2 = np.empty(n), np.empty(n)
    kernels.encoder_step(log_q, dl, pyx, log_r_t, coef, h_x, out, out, mu2, resid2)
    np.testing.assert_array_equal(out, enc)
    np.testing.assert_array_equal(mu2, log_mu)
    np.testing.assert_array_equal(resid2, resid)
    row = np.empty(k)
    for i in range(n):
        in_place = old[i].copy()
        lm, rr = kernels.encoder_row(
            log_q, dl[i], pyx[i], log_r_t, coef, h_x[i], in_place, in_place, row
        )
        np.testing.assert_array_equal(in_place, enc[i])
        assert lm == log_mu[i] and rr == resid[i]


def test_parallel_build_in_chunks_equals_serial():
    """The parallel build splits the rows into chunks (each with its own scratch rows):
    bit for bit the serial result, for chunk counts that do and do not divide n."""
    rng = np.random.default_rng(2)
    n, k = 23, 31
    log_q, dl, pyx, log_r_t, coef, h_x, old = random_case(rng, n, k, 0.3)
    outs = []
    for build, chunks in [(kernels.step_serial, 1), (kernels.step_parallel, 4)]:
        for c in (chunks, 7) if chunks > 1 else (1,):
            enc, log_mu, resid = np.empty((n, k)), np.empty(n), np.empty(n)
            nums = np.empty((c, 0, k))
            none = np.empty((n, 0))
            build(
                log_q,
                dl,
                pyx,
                log_r_t,
                coef,
                h_x,
                old,
                enc,
                log_mu,
                resid,
                False,
                none,
                nums,
                False,
            )
            outs.append((enc, log_mu, resid))
    for enc, log_mu, resid in outs[1:]:
        np.testing.assert_array_equal(enc, outs[0][0])
        np.testing.assert_array_equal(log_mu, outs[0][1])
        np.testing.assert_array_equal(resid, outs[0][2])


def test_log_r_transposed_is_the_log_of_the_transpose_with_minus_inf_at_zero():
    r = np.random.default_rng(3).dirichlet(np.ones(5), size=9)
    r[2, 1] = r[4, 0] = 0.0
    out = np.empty((5, 9))
    kernels.log_r_transposed(r, out)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(out, np.log(r.T))
    assert out[1, 2] == out[0, 4] == -np.inf


@pytest.mark.parametrize("k", [45, kernels.TILE_COLS + 77])
def test_encoder_step_sums_the_marginals_in_the_same_pass(k):
    """With weights (n×w), encoder_step also returns num = weightsᵀ·enc_new (eq. 17 steps
    2–3), summed block by block and tile by tile: equal to the product to rounding
    (1e-14 relative), for n not a multiple of the block of rows or of 4, k beyond one
    tile, and in the parallel build's chunks (each with its own accumulator)."""
    rng = np.random.default_rng(5)
    n = kernels.BLOCK_ROWS * 2 + 7
    log_q, dl, pyx, log_r_t, coef, h_x, old = random_case(rng, n, k, 0.4, far=False)
    weights = rng.random((n, 3)) / n
    enc, log_mu, resid, num = np.empty((n, k)), np.empty(n), np.empty(n), np.empty((3, k))
    kernels.encoder_step(log_q, dl, pyx, log_r_t, coef, h_x, old, enc, log_mu, resid, weights, num)
    np.testing.assert_allclose(num, weights.T @ enc, rtol=1e-14, atol=1e-300)
    ref = np.empty((n, k))
    kernels.encoder_step(log_q, dl, pyx, log_r_t, coef, h_x, old, ref, log_mu, resid)
    np.testing.assert_array_equal(enc, ref)  # summing does not touch the encoder
    nums = np.empty((3, 3, k))
    par = np.empty((n, k))
    kernels.step_parallel(
        log_q, dl, pyx, log_r_t, coef, h_x, old, par, log_mu, resid, False, weights, nums, False
    )
    np.testing.assert_array_equal(par, enc)
    np.testing.assert_allclose(nums.sum(axis=0), num, rtol=1e-14, atol=1e-300)
