"""Numba kernels for the Blahut–Arimoto iteration of eq. (17).

All hot loops of the solver live here, behind plain NumPy arrays. Every kernel is
compiled with ``cache=True`` (compiled code is reused across processes). The row
kernel exists in a serial and a ``parallel=True`` build; the solver picks the
parallel one only for problems large enough to pay for the thread launch.

Notation (see ``docs/theory.md``): ``n`` source symbols, ``k`` reproduction
symbols; ``log_q[k]`` the current log marginal ``log p_k(x̂)`` (``-inf`` for a
symbol out of use); ``dl[n, k] = d_RD / λ``; ``pyx[n, m] = p(y|x)`` and
``log_r_t[m, k] = log p_k(y|x̂)`` (only read when ``coef = β/λ > 0``: the cross-entropy
``-Σ_y p(y|x) log p_k(y|x̂)`` of ``d_IB`` is formed inside the row pass).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from .rowops import FASTMATH, add_row, add_rows4, bits_float, exp_row, float_bits, row_max, row_sum

#: below this many encoder entries (n·k) the serial step is used (and always with one
#: Numba thread); see docs/performance.md for the measurement behind the value
PARALLEL_MIN_SIZE = 1 << 22


@njit(cache=True, nogil=True)
def log_r_transposed(r, out):
    """``out[y, x̂] = log r[x̂, y]`` (``-inf`` where ``r = 0``): ``log p_k(y|x̂)`` as rows of
    length k, the layout the row pass of step 1 of eq. (17) reads (:func:`_row_logits`)."""
    k, m = r.shape
    for j in range(k):
        for y in range(m):
            out[y, j] = math.log(r[j, y]) if r[j, y] > 0.0 else -np.inf


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _add_labels(row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, count):
    """``row += Σ_t w_t · log_r_t[y_t]`` for the first ``count`` (1 to 4) labels, in one
    pass (a 4-label pass loads and stores the row once for four products)."""
    k = row.shape[0]
    a = log_r_t[y0]
    if count == 1:
        for j in range(k):
            row[j] += w0 * a[j]
        return
    b = log_r_t[y1]
    if count == 2:
        for j in range(k):
            row[j] += w0 * a[j] + w1 * b[j]
        return
    c = log_r_t[y2]
    if count == 3:
        for j in range(k):
            row[j] += (w0 * a[j] + w1 * b[j]) + w2 * c[j]
        return
    d = log_r_t[y3]
    for j in range(k):
        row[j] += (w0 * a[j] + w1 * b[j]) + (w2 * c[j] + w3 * d[j])


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _base_labels(row, log_q, dl_row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, count):
    """``row = log_q - dl_row + Σ_t w_t · log_r_t[y_t]`` for the first ``count`` (0 to 4)
    labels, in one pass (the first pass of :func:`_row_logits`)."""
    k = row.shape[0]
    if count == 0:
        for j in range(k):
            row[j] = log_q[j] - dl_row[j]
        return
    a = log_r_t[y0]
    if count == 1:
        for j in range(k):
            row[j] = (log_q[j] - dl_row[j]) + w0 * a[j]
        return
    b = log_r_t[y1]
    if count == 2:
        for j in range(k):
            row[j] = (log_q[j] - dl_row[j]) + (w0 * a[j] + w1 * b[j])
        return
    c = log_r_t[y2]
    if count == 3:
        for j in range(k):
            row[j] = (log_q[j] - dl_row[j]) + ((w0 * a[j] + w1 * b[j]) + w2 * c[j])
        return
    d = log_r_t[y3]
    for j in range(k):
        row[j] = (log_q[j] - dl_row[j]) + ((w0 * a[j] + w1 * b[j]) + (w2 * c[j] + w3 * d[j]))


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _row_logits(log_q, dl_row, pyx_row, log_r_t, coef, row):
    """One row of step 1 of eq. (17), first half: the log-domain numerator
    ``row = log p_k(x̂) - d_RD(x, x̂)/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂)``.

    The sum over labels (the part of ``-d_IB`` of eq. (1) that depends on x̂) is formed
    here, up to four labels per pass (the first four in the pass that writes
    ``log p_k(x̂) - d_RD/λ``), from ``log_r_t[y] = log p_k(y|·)`` (``-inf`` where
    ``p_k(y|x̂) = 0``); labels with ``p(y|x) = 0`` are skipped (``0·log 0 = 0``), so an
    entry is ``-inf`` exactly where a label x can emit meets one x̂ never does. Read
    only when ``coef = β/λ > 0``.
    """
    count = 0
    first = True
    y0 = y1 = y2 = y3 = 0
    w0 = w1 = w2 = w3 = 0.0
    if coef > 0.0:
        for y in range(pyx_row.shape[0]):
            if pyx_row[y] > 0.0:
                w = coef * pyx_row[y]
                if count == 0:
                    y0, w0 = y, w
                elif count == 1:
                    y1, w1 = y, w
                elif count == 2:
                    y2, w2 = y, w
                else:
                    y3, w3 = y, w
                count += 1
                if count == 4:
                    if first:
                        _base_labels(row, log_q, dl_row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, 4)
                        first = False
                    else:
                        _add_labels(row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, 4)
                    count = 0
    if first:
        _base_labels(row, log_q, dl_row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, count)
    elif count:
        _add_labels(row, log_r_t, y0, w0, y1, w1, y2, w2, y3, w3, count)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _row_normalise(row, inv, old_row, new_row):
    """One row of step 1 of eq. (17), last pass: ``new_row = row · inv`` (``inv = 1/μ``,
    eq. 13). Returns ``max_x̂ |new - old|``, taken over the bits of the non-negative
    differences as int64 (their order is that of the floats, and an int max vectorises
    where a float max does not; a NaN would win). ``new_row`` may be ``old_row``
    (``old_row[j]`` is read before ``new_row[j]`` is written; LLVM's overlap check then
    takes its scalar loop: :func:`_row_normalise_in_place` is the vectorised one)."""
    top = 0
    for j in range(row.shape[0]):
        e = row[j] * inv
        b = float_bits(abs(e - old_row[j]))
        top = b if b > top else top
        new_row[j] = e
    return bits_float(top)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _row_normalise_in_place(row, inv, enc_row):
    """:func:`_row_normalise` with ``old_row = new_row = enc_row``."""
    top = 0
    for j in range(row.shape[0]):
        e = row[j] * inv
        b = float_bits(abs(e - enc_row[j]))
        top = b if b > top else top
        enc_row[j] = e
    return bits_float(top)


@njit(cache=True, nogil=True)
def _row_finish(log_q, dl_row, coef, h_x, row, old_row, new_row, in_place):
    """Step 1 of eq. (17) on a row whose logits :func:`_row_logits` wrote into ``row``:
    the maximum, :func:`infotheory.rowops.exp_row` (exact zeros below the floor), the sum
    μ(x) and the division by it (:func:`_row_normalise`, or with ``in_place``, where
    ``new_row`` is ``old_row``, :func:`_row_normalise_in_place`); three passes over the
    row. A row whose every logit is ``-inf`` (possible only for a source symbol that
    reaches no used x̂ through ``d_IB``, e.g. one with p(x) = 0) falls back to the
    ``d_RD`` part alone. Returns ``(log μ(x), max_x̂ |new - old|)``; ``log μ`` includes
    the constant ``β·H(Y|X=x)/λ`` part of ``d_IB`` that cancels in the encoder (not in
    the fallback)."""
    m = row_max(row)
    fallback = m == -np.inf
    if fallback:
        for j in range(row.shape[0]):
            row[j] = log_q[j] - dl_row[j]
        m = row_max(row)
    exp_row(row, m)
    s = row_sum(row)
    if in_place:
        resid = _row_normalise_in_place(row, 1.0 / s, new_row)
    else:
        resid = _row_normalise(row, 1.0 / s, old_row, new_row)
    log_mu = m + math.log(s)
    if not fallback:
        log_mu += coef * h_x
    return log_mu, resid


@njit(cache=True, nogil=True)
def encoder_row(log_q, dl_row, pyx_row, log_r_t, coef, h_x, old_row, new_row, row):
    """One row of step 1 of eq. (17), fused: ``new_row = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)``
    in the log domain (logits with the label sum, :func:`_row_logits`; their maximum,
    exp, exact zeros below the floor, division by μ(x): :func:`_row_finish`) while the
    row stays in L1. ``row`` is a float64 scratch row of length k; ``pyx_row = p(y|x)``
    and ``log_r_t`` (m×k, ``log p_k(y|x̂)``) are read only when ``coef = β/λ > 0``;
    ``new_row`` may be ``old_row``. Returns ``(log μ(x), max_x̂ |new - old|)``."""
    _row_logits(log_q, dl_row, pyx_row, log_r_t, coef, row)
    return _row_finish(log_q, dl_row, coef, h_x, row, old_row, new_row, False)


#: the most labels whose sum ``Σ_y p(y|x) log p_k(y|x̂)`` the single-problem backend
#: forms inside its row pass (:func:`encoder_step`, in place); with more, one GEMM forms
#: it first (:func:`encoder_step_cross`). The row pass reads all of ``log_r_t`` (m·k
#: floats) for every row: at n = k = 1024 and 2048 it is 1.2× faster than the GEMM path
#: with 10 and 16 labels, even at 24 and slower from 32 (``bench_solver.py --crossover``,
#: ``docs/performance.md``)
FUSED_LABELS_MAX = 16


#: rows per block of :func:`encoder_step`: a block's new rows are added into the
#: marginals (eq. 17 steps 2–3) while they are still in cache
BLOCK_ROWS = 16
#: columns per tile of that sum (measured best of 128–512 at n = k = 1024, |Y| = 10)
TILE_COLS = 512


@njit(cache=True, nogil=True)
def _accumulate_rows(num, weights, enc, i0, i1):
    """``num[y] += Σ_{i0 ≤ x < i1} weights[x, y] · enc[x]``: the rows' share of the
    numerators of eq. (17) steps 2–3 (``weights = p(x, y)``, or ``p(x)`` as one column
    for step 2 alone), column tile by column tile so that a tile of ``num`` stays in
    cache for the whole block (slices, not index ranges: LLVM vectorises loops that
    start at 0)."""
    m, k = num.shape
    for j0 in range(0, k, TILE_COLS):
        j1 = min(j0 + TILE_COLS, k)
        i = i0
        while i + 4 <= i1:
            e0, e1, e2, e3 = enc[i][j0:j1], enc[i + 1][j0:j1], enc[i + 2][j0:j1], enc[i + 3][j0:j1]
            for y in range(m):
                w = weights[i : i + 4, y]
                add_rows4(num[y][j0:j1], e0, e1, e2, e3, w[0], w[1], w[2], w[3])
            i += 4
        while i < i1:
            e0 = enc[i][j0:j1]
            for y in range(m):
                add_row(num[y][j0:j1], e0, weights[i, y])
            i += 1


def _step_impl(
    log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, log_mu, row_resid, cross, weights, nums,
    in_place,
):  # fmt: skip
    """:func:`encoder_row` for every row (``in_place``: ``enc_new`` is ``enc_old``), in
    ``nums.shape[0]`` chunks of rows (``prange`` in the parallel build), each with its
    own scratch row and, unless ``weights`` has no columns, its own marginals
    accumulator ``nums[c]`` (:func:`_accumulate_rows`, every ``BLOCK_ROWS`` rows). With
    ``cross``, ``log_r_t`` is the n×k term ``Σ_y p(y|x) log p_k(y|x̂)`` itself: row x
    reads its own row of it, as one label of weight 1 (``pyx`` is not read)."""
    n, k = dl.shape
    chunks = nums.shape[0]
    accumulate = weights.shape[1] > 0
    one = np.ones(1)
    for c in prange(chunks):
        row = np.empty(k)
        num = nums[c]
        num[:] = 0.0
        lo, hi = c * n // chunks, (c + 1) * n // chunks
        for i0 in range(lo, hi, BLOCK_ROWS):
            i1 = min(i0 + BLOCK_ROWS, hi)
            for i in range(i0, i1):
                if cross:
                    _row_logits(log_q, dl[i], one, log_r_t[i : i + 1], coef, row)
                else:
                    _row_logits(log_q, dl[i], pyx[i], log_r_t, coef, row)
                lm, rr = _row_finish(
                    log_q, dl[i], coef, h_x[i], row, enc_old[i], enc_new[i], in_place
                )
                log_mu[i] = lm
                row_resid[i] = rr
            if accumulate:
                _accumulate_rows(num, weights, enc_new, i0, i1)


#: the serial and the ``parallel=True`` builds of :func:`_step_impl` (Numba callers such
#: as the batched backend call the serial one directly; Python callers use
#: :func:`encoder_step`, which picks one)
step_serial = njit(cache=True, nogil=True)(_step_impl)
step_parallel = njit(cache=True, nogil=True, parallel=True)(_step_impl)


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


def _run_step(
    log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, log_mu, row_resid, cross, weights, num
):
    threads = numba.get_num_threads()
    chunks = threads if dl.size >= PARALLEL_MIN_SIZE and threads > 1 else 1
    nums = np.empty((chunks, weights.shape[1], dl.shape[1]))
    build = step_parallel if chunks > 1 else step_serial
    build(
        log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, log_mu, row_resid, cross, weights,
        nums, enc_new is enc_old,
    )  # fmt: skip
    if num is not None:
        np.sum(nums, axis=0, out=num)


def encoder_step(
    log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, log_mu, row_resid, weights=None, num=None
) -> None:
    """Step 1 of eq. (17): ``enc_new = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)`` in the log
    domain, one fused pass per row (:func:`encoder_row`), with ``log_mu[x] = log μ(x)``
    and the stationarity residual ``row_resid[x] = max_x̂ |enc_new - enc_old|``.

    ``pyx = p(y|x)`` (n×m) and ``log_r_t`` (m×k: ``log p_k(y|x̂)``, ``-inf`` where 0,
    :func:`log_r_transposed`) are read only when ``coef = β/λ > 0``: the cross-entropy
    term ``Σ_y p(y|x) log p_k(y|x̂)`` is formed row by row inside the pass, so no n×k
    array of it is ever written (for at most ``FUSED_LABELS_MAX`` labels; beyond, see
    :func:`encoder_step_cross`). With ``weights`` (n×w) and ``num`` (w×k), also the
    numerators of steps 2–3 of the new encoder, ``num[y] = Σ_x weights[x, y]·enc_new[x]``
    (``weights = p(x, y)`` gives ``p_{k+1}(y, x̂)``; ``p(x)`` as one column gives
    ``p_{k+1}(x̂)``), summed block by block while the rows are in cache instead of by a
    GEMM that reads the encoder again. ``enc_new`` may be ``enc_old`` (the same array:
    updated in place, the faster way). The parallel build runs for
    ``n·k ≥ PARALLEL_MIN_SIZE`` when Numba has more than one thread.
    """
    if weights is None:
        weights = np.empty((dl.shape[0], 0))
    _run_step(
        log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, log_mu, row_resid, False, weights,
        num,
    )  # fmt: skip


def encoder_step_cross(log_q, dl, cross, coef, h_x, enc_old, enc_new, log_mu, row_resid) -> None:
    """:func:`encoder_step` from the n×k term ``cross = Σ_y p(y|x) log p_k(y|x̂)``
    formed beforehand (one GEMM, :func:`infotheory._logdomain.log_likelihood`: the faster
    way for more than ``FUSED_LABELS_MAX`` labels). ``cross`` may be ``enc_new``."""
    none = np.empty((dl.shape[0], 0))
    _run_step(
        log_q, dl, cross, cross, coef, h_x, enc_old, enc_new, log_mu, row_resid, True, none, None
    )
