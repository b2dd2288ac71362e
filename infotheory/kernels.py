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

#: below this many encoder entries (n·k) the serial step is used (and always with one
#: Numba thread); see docs/performance.md for the measurement behind the value
PARALLEL_MIN_SIZE = 1 << 22

#: a logit more than 690 below its row maximum gives an encoder entry below 3.4e-300
#: (relative to the largest entry of the row); such entries are set to exactly 0
LOGIT_FLOOR = -690.0
#: threshold between exp(LOGIT_FLOOR) = 3.4e-300 and exp(LOGIT_FLOOR - 10) = 1.5e-304
TINY = 1e-300

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
    for j in range(k):  # a loop: Numba's slice assignment costs 5x (overlap check, temporary)
        new_row[j] = row[j]
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


# ---------------------------------------------------------------------------------------
# Batched solving (infotheory.batched): one problem at a time per thread, fused row by row
# ---------------------------------------------------------------------------------------

_LOG2E = 1.4426950408889634
#: ln 2 split in a high part with trailing zero bits and the rest (Cody–Waite reduction)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@njit(cache=True, nogil=True, fastmath={"nsz", "contract"})
def batch_exp_row(row, shift, scale):
    """First half of ``exp`` for step 1 of eq. (17), in a loop that LLVM vectorises
    (Numba's ``math.exp`` is a scalar libm call, about 10× slower than NumPy's SIMD one).

    For ``w = row[j] - shift`` (``≤ 0``: ``shift`` is the row maximum) or, where
    ``w < LOGIT_FLOOR``, the sentinel ``LOGIT_FLOOR - 10`` of :func:`_row_logits`:
    ``w = k·ln 2 + t`` with ``k = round(w/ln 2)``, ``|t| ≤ ln(2)/2`` (Cody–Waite, ``t``
    exact to about 2⁻⁶⁰); ``row[j] = e^t = 1 + (t + t²·P(t))`` with ``P`` the Taylor
    polynomial of degree 11 (truncation below 5e-18 relative) by Estrin's scheme;
    ``scale[j]`` (int64) the bits of the double ``2^k`` (``k ≥ -1010``: normal).
    Then ``e^w = row[j] · scale[j].view(float64)``, exactly (a power of two), at most
    1 ulp from the true value, as NumPy's ``exp`` (the two differ in the last bit for
    about 10% of arguments). No ``reassoc`` flag: it would merge the two halves of the
    reduction.
    """
    k = row.shape[0]
    for j in range(k):
        w = row[j] - shift
        x = w if w >= LOGIT_FLOOR else LOGIT_FLOOR - 10.0
        kf = math.floor(x * _LOG2E + 0.5)
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
        scale[j] = (np.int64(kf) + 1023) << 52


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _batch_max(a):
    """``max(a)`` with eight accumulators (LLVM does not vectorise a float max reduction
    here; eight independent chains at least hide the latency)."""
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


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def batch_encoder_row(log_q, dl_row, cen_row, coef, h_x, enc_row, p_x, q_new, row, scale):
    """One row of step 1 of eq. (17), fused, in place: ``enc_row`` becomes the new
    ``p(x̂|x)`` from the logits ``log p_k(x̂) - d_RD/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂)``
    (``cen_row``, read only when ``coef > 0``), and ``q_new += p(x)·enc_row`` (eq. 17
    step 2). The arithmetic of :func:`_row_logits` then :func:`_row_normalise` (row
    maximum, ``-inf`` fallback to the ``d_RD`` part, entries more than ``-LOGIT_FLOOR``
    below the maximum exactly 0, division by μ(x)), with :func:`batch_exp_row` for
    NumPy's ``exp``. ``row`` (float64) and ``scale`` (int64) are scratch rows. Returns
    ``(log μ(x), max_x̂ |new - old|)``."""
    k = dl_row.shape[0]
    if coef > 0.0:
        for j in range(k):
            row[j] = log_q[j] - dl_row[j] + coef * cen_row[j]
    else:
        for j in range(k):
            row[j] = log_q[j] - dl_row[j]
    m = _batch_max(row)
    fallback = False
    if m == -np.inf:  # no finite logit through d_IB: the d_RD part alone (as _row_logits)
        fallback = True
        for j in range(k):
            row[j] = log_q[j] - dl_row[j]
        m = _batch_max(row)
    batch_exp_row(row, m, scale)
    scale_f = scale.view(np.float64)
    s = 0.0
    for j in range(k):
        e = row[j] * scale_f[j]
        e = e if e >= TINY else 0.0  # the sentinel: an entry below exp(LOGIT_FLOOR)
        row[j] = e
        s += e
    inv = 1.0 / s
    for j in range(k):
        e = row[j] * inv
        row[j] = abs(e - enc_row[j])
        enc_row[j] = e
        q_new[j] += p_x * e
    log_mu = m + math.log(s)
    if not fallback:
        log_mu += coef * h_x
    return log_mu, _batch_max(row)


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def batch_plain_run(
    p_x, p_y_given_x, h_x, dl, coef, enc, q, r, tol, gap_tol, max_steps, dead_check_every
):
    """Plain eq. (17) on one problem of a batch, until its own stopping rules hold or
    ``max_steps`` steps: the loop of :func:`infotheory.solver._iterate` in one call.

    State (updated in place): ``enc`` (n×k; in: the encoder whose marginals are ``q``
    and ``r``, out: the last encoder), ``q`` (k, ``p_k(x̂)``) and, when
    ``coef = β/λ > 0``, ``r`` (k×m, ``p_k(y|x̂)``). ``dl = d_RD/λ`` (n×k).

    Each row of step 1 is fused by :func:`batch_encoder_row` (the cross-entropy row
    ``Σ_y p(y|x) log p_k(y|x̂)`` formed on the fly when ``coef > 0``), then the row's
    share of steps 2–3; the row stays in L1 and the problem (``dl``, ``enc``: 2·8·n·k
    bytes) in L2 for all its steps, and no Python runs between steps. ``q_{k+1}`` is
    summed row by row (NumPy's ``p_x @ enc`` in another order) and ``exp`` is not
    NumPy's to the last bit: the iterates agree with the single-problem ones to
    rounding (~1e-15), not bit for bit.

    Stopping rules, as :func:`infotheory.solver._iterate`: ``β > 0``: residual
    ``max |p_{k+1}(x̂|x) - p_k(x̂|x)| ≤ tol``; ``β = 0``: that and Blahut's gap
    ``max log c - Σ p_{k+1} log c ≤ gap_tol`` (nats), the symbols out of use re-checked
    by :func:`dead_log_c` (at most every ``dead_check_every`` steps while they fail;
    one that violates ``c(x̂) ≤ 1`` is brought back with mass 1e-8).
    Returns ``(steps, converged, residual)``.
    """
    n, k = dl.shape
    m = p_y_given_x.shape[1]
    use_ce = coef > 0.0
    row = np.empty(k)
    scale = np.empty(k, dtype=np.int64)
    cen = np.zeros(k)
    log_q = np.empty(k)
    q_new = np.empty(k)
    log_c = np.empty(k)
    log_mu = np.empty(n)
    log_r_t = np.empty((m, k))  # log p_k(y|x̂), transposed: rows of length k
    joint_t = np.empty((m, k))  # p_{k+1}(x̂, y), transposed
    next_dead_check = 0
    converged = False
    resid = np.inf
    steps = 0
    for it in range(1, max_steps + 1):
        for j in range(k):
            log_q[j] = math.log(q[j]) if q[j] > 0.0 else -np.inf
        if use_ce:
            for j in range(k):
                for y in range(m):
                    log_r_t[y, j] = math.log(r[j, y]) if r[j, y] > 0.0 else -np.inf
            joint_t[:, :] = 0.0
        q_new[:] = 0.0
        resid = 0.0
        for i in range(n):
            if use_ce:  # -inf where p(y|x) > 0 meets p_k(y|x̂) = 0
                cen[:] = 0.0
                for y in range(m):
                    pv = p_y_given_x[i, y]
                    if pv > 0.0:
                        for j in range(k):
                            cen[j] += pv * log_r_t[y, j]
            lm, rr = batch_encoder_row(
                log_q,
                dl[i],
                cen,
                coef,
                h_x[i],
                enc[i],
                0.0 if use_ce else p_x[i],
                q_new,
                row,
                scale,
            )
            log_mu[i] = lm
            resid = max(resid, rr)
            if use_ce:  # eq. (17) step 3, numerator
                for y in range(m):
                    w = p_x[i] * p_y_given_x[i, y]
                    if w > 0.0:
                        for j in range(k):
                            joint_t[y, j] += w * enc[i, j]
        steps = it
        if use_ce:  # steps 2 and 3; rows of symbols out of use keep their value
            for j in range(k):
                s = 0.0
                for y in range(m):
                    s += joint_t[y, j]
                q_new[j] = s
                if s > 0.0:
                    for y in range(m):
                        r[j, y] = joint_t[y, j] / s
            if resid <= tol:
                converged = True
        else:
            # Blahut's certificate (nats): c(x̂) = p_{k+1}(x̂)/p_k(x̂) for symbols in use
            for j in range(k):
                if q[j] > 0.0 and q_new[j] > 0.0:
                    log_c[j] = math.log(q_new[j]) - log_q[j]
                else:
                    log_c[j] = -np.inf
            if resid <= tol and _batch_gap(log_c, q_new) <= gap_tol and it >= next_dead_check:
                n_dead = 0
                for j in range(k):
                    if q[j] <= 0.0:
                        n_dead += 1
                if n_dead:
                    dead = np.empty(n_dead, dtype=np.int64)
                    t = 0
                    for j in range(k):
                        if q[j] <= 0.0:
                            dead[t] = j
                            t += 1
                    vals = dead_log_c(p_x, dl, log_mu, dead)
                    for t in range(n_dead):
                        log_c[dead[t]] = vals[t]
                violated = False
                for j in range(k):
                    if q[j] <= 0.0 and log_c[j] > 1e-12:
                        violated = True
                        q_new[j] = 1e-8  # Blahut's c(x̂) <= 1 violated: bring it back
                if violated:
                    s = 0.0
                    for j in range(k):
                        s += q_new[j]
                    for j in range(k):
                        q_new[j] /= s
                elif _batch_gap(log_c, q_new) <= gap_tol:
                    converged = True
                else:
                    next_dead_check = it + dead_check_every
        for j in range(k):
            q[j] = q_new[j]
        if converged:
            break
    return steps, converged, resid


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _batch_gap(log_c, q_new):
    """``max log c - Σ_{q_new > 0} q_new log c`` (nats), as ``solver._gap``."""
    mx = -np.inf
    s = 0.0
    for j in range(log_c.shape[0]):
        mx = max(mx, log_c[j])
        if q_new[j] > 0.0:
            s += q_new[j] * log_c[j]
    return mx - s


# ---------------------------------------------------------------------------
# hard-assignment local search (the global strategy of infotheory.search)
# ---------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _cluster_term(q, joint_row, coef, shift, sign):
    """``-(1 - coef)·q'·log q' - coef·Σ_y J'_y log J'_y`` of one cluster whose mass and
    row of ``p(x̂, y)`` are ``q + sign·shift[0]`` and ``joint_row + sign·shift[1:]``:
    the part of ``F`` (nats) that a deterministic encoder puts on one reproduction
    symbol (``I(X;X̂) = H(X̂)``, ``D_IB = H(Y|X̂) - H(Y|X)``, eqs. 1-3)."""
    qq = q + sign * shift[0]
    s = 0.0
    if qq > 1e-300:
        s -= (1.0 - coef) * qq * math.log(qq)
    for y in range(joint_row.shape[0]):
        j = joint_row[y] + sign * shift[y + 1]
        if j > 1e-300:
            s -= coef * j * math.log(j)
    return s


@njit(cache=True, nogil=True)
def hard_objective(p_x, p_y_given_x, dl, coef, assign, k):
    """``F`` (nats, up to the constant ``-coef·H(Y|X)``) of the deterministic encoder
    ``x ↦ assign[x]``: ``H(X̂) + D_RD/λ + (β/λ)·H(Y|X̂)`` (eqs. 1-3, 11)."""
    n, m = p_y_given_x.shape
    q = np.zeros(k)
    joint = np.zeros((k, m))
    zero = np.zeros(m + 1)
    f = 0.0
    for x in range(n):
        c = assign[x]
        q[c] += p_x[x]
        f += p_x[x] * dl[x, c]
        for y in range(m):
            joint[c, y] += p_x[x] * p_y_given_x[x, y]
    for c in range(k):
        f += _cluster_term(q[c], joint[c], coef, zero, 0.0)
    return f


@njit(cache=True, nogil=True)
def hard_local_search(p_x, p_y_given_x, dl, coef, assign, max_sweeps):
    """Descent of ``F`` over deterministic encoders (``assign``, modified in place), as
    sequential IB does: each sweep moves every ``x`` to the reproduction symbol that
    lowers ``F`` most, then swaps the symbols of pairs ``(x, x')`` where that lowers
    ``F`` (a swap crosses between two assignments that single moves cannot join
    without merging clusters, which at large ``β/λ`` costs a lot of ``D_IB``). Stops at a
    sweep without improvement (a local minimum for both kinds of move) or after
    ``max_sweeps``. Returns the number of sweeps."""
    n, k = dl.shape
    m = p_y_given_x.shape[1]
    q = np.zeros(k)
    joint = np.zeros((k, m))
    for x in range(n):
        q[assign[x]] += p_x[x]
        for y in range(m):
            joint[assign[x], y] += p_x[x] * p_y_given_x[x, y]
    sx = np.empty(m + 1)
    zero = np.zeros(m + 1)
    # each cluster's current term, kept up to date (recomputing it for every candidate
    # move and pair doubled the work of both loops)
    term = np.empty(k)
    for c in range(k):
        term[c] = _cluster_term(q[c], joint[c], coef, zero, 0.0)
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):
        improved = False
        for x in range(n):
            if p_x[x] <= 0:
                continue
            sx[0] = p_x[x]
            for y in range(m):
                sx[y + 1] = p_x[x] * p_y_given_x[x, y]
            c0 = assign[x]
            out = _cluster_term(q[c0], joint[c0], coef, sx, -1.0) - term[c0] - p_x[x] * dl[x, c0]
            best, bc = -1e-13 * (1.0 + abs(out)), c0
            for c in range(k):
                if c != c0:
                    delta = (
                        out
                        + _cluster_term(q[c], joint[c], coef, sx, 1.0)
                        - term[c]
                        + p_x[x] * dl[x, c]
                    )
                    if delta < best:
                        best, bc = delta, c
            if bc != c0:
                q[c0] -= sx[0]
                q[bc] += sx[0]
                for y in range(m):
                    joint[c0, y] -= sx[y + 1]
                    joint[bc, y] += sx[y + 1]
                term[c0] = _cluster_term(q[c0], joint[c0], coef, zero, 0.0)
                term[bc] = _cluster_term(q[bc], joint[bc], coef, zero, 0.0)
                assign[x] = bc
                improved = True
        for x in range(n):
            for z in range(x + 1, n):
                a, b = assign[x], assign[z]
                if a == b:
                    continue
                # x: a -> b and z: b -> a; the net change of cluster a is (z's mass) - (x's)
                sx[0] = p_x[z] - p_x[x]
                for y in range(m):
                    sx[y + 1] = p_x[z] * p_y_given_x[z, y] - p_x[x] * p_y_given_x[x, y]
                delta = (
                    _cluster_term(q[a], joint[a], coef, sx, 1.0)
                    - term[a]
                    + _cluster_term(q[b], joint[b], coef, sx, -1.0)
                    - term[b]
                    + p_x[x] * (dl[x, b] - dl[x, a])
                    + p_x[z] * (dl[z, a] - dl[z, b])
                )
                if delta < -1e-13:
                    q[a] += sx[0]
                    q[b] -= sx[0]
                    for y in range(m):
                        joint[a, y] += sx[y + 1]
                        joint[b, y] -= sx[y + 1]
                    term[a] = _cluster_term(q[a], joint[a], coef, zero, 0.0)
                    term[b] = _cluster_term(q[b], joint[b], coef, zero, 0.0)
                    assign[x], assign[z] = b, a
                    improved = True
        if not improved:
            break
    return sweeps
