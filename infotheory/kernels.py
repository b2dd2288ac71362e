"""Numba kernels for the Blahut–Arimoto iteration of eq. (17).

All hot loops of the solver live here, behind plain NumPy arrays. Every kernel is
compiled with ``cache=True`` (compiled code is reused across processes). The row
kernel exists in a serial and a ``parallel=True`` build; the solver picks the
parallel one only for problems large enough to pay for the thread launch.

Notation (see ``docs/theory.md``): ``n`` source symbols, ``k`` reproduction
symbols; ``log_q[k]`` the current log marginal ``log p_k(x̂)`` (``-inf`` for a
symbol out of use); ``dl[n, k] = d_RD / λ``; ``ce[n, k]`` the cross-entropy
``-Σ_y p(y|x) log p_k(y|x̂)`` (only read when ``coef = β/λ > 0``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from .core import LOGIT_FLOOR, TINY  # the exact-zero floor of step 1 (eq. 17), in the core

#: below this many encoder entries (n·k) the serial step is used (and always with one
#: Numba thread); see docs/performance.md for the measurement behind the value
PARALLEL_MIN_SIZE = 1 << 22

# Re-association lets LLVM vectorise the row sums; no flag assumes finite values (the
# logits hold -inf for symbols out of use) or the absence of NaN.
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

_LOG2E = 1.4426950408889634
#: ln 2 split in a high part with trailing zero bits and the rest (Cody–Waite reduction)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: 1.5·2⁵²: ``x + _ROUND`` holds ``round(x)`` in its low mantissa bits (|x| < 2⁵¹)
_ROUND = 6755399441055744.0


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def row_max(a):
    """``max(a)`` with eight accumulators (LLVM does not vectorise a float max reduction
    without the no-NaN flag; eight independent chains at least hide the latency)."""
    k = a.shape[0]
    k8 = k - k % 8
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = -np.inf
    for j in range(0, k8, 8):
        m0 = max(m0, a[j])
        m1 = max(m1, a[j + 1])
        m2 = max(m2, a[j + 2])
        m3 = max(m3, a[j + 3])
        m4 = max(m4, a[j + 4])
        m5 = max(m5, a[j + 5])
        m6 = max(m6, a[j + 6])
        m7 = max(m7, a[j + 7])
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(k8, k):
        m = max(m, a[j])
    return m


@njit(cache=True, nogil=True, fastmath={"nsz", "contract"})
def exp_row(row, shift, scale):
    """``exp`` for step 1 of eq. (17), in two loops that LLVM vectorises with AVX2 alone
    (Numba's ``math.exp`` is a scalar libm call, and NumPy's float64 ``exp`` is scalar
    too on a CPU without AVX-512).

    For ``w = row[j] - shift`` (``≤ 0``: ``shift`` is the row maximum) or, where
    ``w < LOGIT_FLOOR``, the sentinel ``LOGIT_FLOOR - 10``: ``w = k·ln 2 + t`` with
    ``k = round(w/ln 2)`` (by adding and subtracting 1.5·2⁵², no float→int conversion),
    ``|t| ≤ ln(2)/2`` (Cody–Waite, ``t`` exact to about 2⁻⁶⁰); ``row[j] = e^t =
    1 + (t + t²·P(t))`` with ``P`` the Taylor polynomial of degree 11 (truncation below
    5e-18 relative) by Estrin's scheme; ``scale[j]`` (float64) the double ``2^k``
    (``k ≥ -1010``: normal), built from the bits ``(k + 1023) << 52``. Then
    ``e^w = row[j] · scale[j]`` exactly (a power of two), at most 1 ulp from the true
    value. No ``reassoc`` flag: it would cancel the rounding constant and merge the two
    halves of the reduction.
    """
    k = row.shape[0]
    for j in range(k):
        w = row[j] - shift
        x = w if w >= LOGIT_FLOOR else LOGIT_FLOOR - 10.0
        kr = x * _LOG2E + _ROUND
        kf = kr - _ROUND  # round(x / ln 2), exactly
        t = (x - kf * _LN2_HI) - kf * _LN2_LO
        t2 = t * t
        t4 = t2 * t2
        a0 = 0.5 + t * (1.0 / 6.0)
        a1 = (1.0 / 24.0) + t * (1.0 / 120.0)
        a2 = (1.0 / 720.0) + t * (1.0 / 5040.0)
        a3 = (1.0 / 40320.0) + t * (1.0 / 362880.0)
        a4 = (1.0 / 3628800.0) + t * (1.0 / 39916800.0)
        a5 = (1.0 / 479001600.0) + t * (1.0 / 6227020800.0)
        p = (a0 + t2 * a1) + t4 * ((a2 + t2 * a3) + t4 * (a4 + t2 * a5))
        row[j] = 1.0 + (t + t2 * p)
        scale[j] = kr
    # the bits of kr are those of 1.5·2⁵² plus k; shifted by 52 only k + 1023 remains
    bits = scale.view(np.int64)
    for j in range(k):
        bits[j] = (bits[j] + 1023) << 52


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _row_logits(log_q, dl_row, cen_row, coef, row):
    """One row of step 1 of eq. (17), first half: the log-domain numerator
    ``log p_k(x̂) - d_RD(x, x̂)/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂)`` into ``row``.

    Returns ``(row_max, fallback)``. ``cen_row`` may hold ``-inf`` (a label x can emit
    that x̂ never does). A row whose every entry is ``-inf`` (possible only for a source
    symbol that reaches no used x̂ through ``d_IB``, e.g. one with p(x) = 0) falls back
    to the ``d_RD`` part alone (``fallback`` True).
    """
    k = dl_row.shape[0]
    if coef > 0.0:
        for j in range(k):
            row[j] = log_q[j] - dl_row[j] + coef * cen_row[j]
    else:
        for j in range(k):
            row[j] = log_q[j] - dl_row[j]
    m = row_max(row)
    if m > -np.inf:
        return m, False
    for j in range(k):
        row[j] = log_q[j] - dl_row[j]
    return row_max(row), True


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _row_normalise(row, scale, old_row, new_row):
    """One row of step 1 of eq. (17), second half, after :func:`exp_row`: the entries
    ``row·scale`` (those below ``TINY``, i.e. logits more than ``-LOGIT_FLOOR`` below the
    row maximum, exactly 0) divided by their sum μ(x) (eq. 13) into ``new_row``.
    Returns ``(log Σ, max_x̂ |new - old|)``. ``new_row`` may be ``old_row``."""
    k = row.shape[0]
    s = 0.0
    for j in range(k):
        e = row[j] * scale[j]
        e = e if e >= TINY else 0.0
        row[j] = e
        s += e
    inv = 1.0 / s
    for j in range(k):
        e = row[j] * inv
        row[j] = e
        scale[j] = abs(e - old_row[j])
    new_row[:] = row
    return math.log(s), row_max(scale)


@njit(cache=True, nogil=True)
def encoder_row(log_q, dl_row, cen_row, coef, h_x, old_row, new_row, row, scale):
    """One row of step 1 of eq. (17), fused: ``new_row = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)``
    in the log domain (logits, their maximum, :func:`exp_row`, exact zeros below the
    floor, division by μ(x)) while the row stays in L1. ``row`` and ``scale`` are
    float64 scratch rows of length k; ``cen_row`` (read only when ``coef = β/λ > 0``) and
    ``new_row`` may be ``old_row`` or each other. Returns ``(log μ(x), max_x̂ |new - old|)``;
    ``log μ`` includes the constant ``β·H(Y|X=x)/λ`` part of ``d_IB`` that cancels in
    the encoder."""
    m, fallback = _row_logits(log_q, dl_row, cen_row, coef, row)
    exp_row(row, m, scale)
    log_s, resid = _row_normalise(row, scale, old_row, new_row)
    log_mu = m + log_s
    if not fallback:
        log_mu += coef * h_x
    return log_mu, resid


def _step_impl(log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid, chunks):
    """:func:`encoder_row` for every row, in ``chunks`` blocks of rows (``prange`` in
    the parallel build), each with its own scratch rows."""
    n, k = dl.shape
    for c in prange(chunks):
        row = np.empty(k)
        scale = np.empty(k)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            lm, rr = encoder_row(
                log_q, dl[i], cen[i], coef, h_x[i], enc_old[i], enc_new[i], row, scale
            )
            log_mu[i] = lm
            row_resid[i] = rr


_step_serial = njit(cache=True, nogil=True)(_step_impl)
_step_parallel = njit(cache=True, nogil=True, parallel=True)(_step_impl)


@njit(cache=True, nogil=True)
def dead_log_c(p_x, dl, log_mu, dead):
    """``log c(x̂) = log Σ_x p(x) exp(-d(x,x̂)/λ) / μ(x)`` for the columns ``dead``.

    Blahut's optimality condition for rate-distortion (β = 0) is ``c(x̂) ≤ 1``
    for every x̂, with equality where p(x̂) > 0; for a symbol in use,
    ``c = p_{k+1}(x̂) / p_k(x̂)`` comes for free, so only symbols out of use need
    this explicit column sum.
    """
    n = dl.shape[0]
    out = np.empty(dead.shape[0])
    for t in range(dead.shape[0]):
        j = dead[t]
        m = -np.inf
        for i in range(n):
            if p_x[i] > 0:
                v = math.log(p_x[i]) - dl[i, j] - log_mu[i]
                if v > m:
                    m = v
        if m == -np.inf:
            out[t] = -np.inf
            continue
        s = 0.0
        for i in range(n):
            if p_x[i] > 0:
                s += math.exp(math.log(p_x[i]) - dl[i, j] - log_mu[i] - m)
        out[t] = m + math.log(s)
    return out


def encoder_step(log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid) -> None:
    """Step 1 of eq. (17): ``enc_new = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)`` in the log
    domain, one fused pass per row (:func:`encoder_row`), with ``log_mu[x] = log μ(x)``
    and the stationarity residual ``row_resid[x] = max_x̂ |enc_new - enc_old|``.

    ``cen`` (``Σ_y p(y|x) log p_k(y|x̂)``, n×k) is read only when ``coef = β/λ > 0`` and
    may be the same buffer as ``enc_new``. The parallel build runs for
    ``n·k ≥ PARALLEL_MIN_SIZE`` when Numba has more than one thread.
    """
    threads = numba.get_num_threads()
    if dl.size >= PARALLEL_MIN_SIZE and threads > 1:
        _step_parallel(log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid, threads)
    else:
        _step_serial(log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid, 1)
