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

import numpy as np
from numba import njit, prange

from .core import LOGIT_FLOOR, TINY  # the exact-zero floor of step 1 (eq. 17), in the core

#: below this many encoder entries (n·k) the serial kernel is used
PARALLEL_MIN_SIZE = 1 << 16


@njit(cache=True, nogil=True, inline="always")
def _row_logits(log_q, dl_row, cen_row, coef, out_row):
    """One row of step 1 of eq. (17), first half: the log-domain numerator
    ``log p_k(x̂) - d_RD(x, x̂)/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂)`` shifted by its max.

    Returns ``(row_max, fallback)``. ``cen_row`` may hold ``-inf`` (a label x can emit
    that x̂ never does) and may alias ``out_row``. A row whose every entry is ``-inf``
    (possible only for a source symbol that reaches no used x̂ through ``d_IB``, e.g.
    one with p(x) = 0) falls back to the ``d_RD`` part alone (``fallback`` True).
    """
    k = dl_row.shape[0]
    m = -np.inf
    if coef > 0.0:
        for j in range(k):
            v = log_q[j] - dl_row[j] + coef * cen_row[j]
            out_row[j] = v
            m = max(m, v)
    else:
        for j in range(k):
            v = log_q[j] - dl_row[j]
            out_row[j] = v
            m = max(m, v)
    flag = False
    if m == -np.inf:
        flag = True
        for j in range(k):
            v = log_q[j] - dl_row[j]
            out_row[j] = v
            m = max(m, v)
    for j in range(k):
        w = out_row[j] - m
        # far below the row maximum the entry is < 1e-300 relative: it becomes exactly 0 in
        # _row_normalise; the sentinel keeps numpy.exp on its fast path (an exp that
        # underflows to a subnormal or to 0 costs 15-100x a normal one)
        out_row[j] = w if w >= LOGIT_FLOOR else LOGIT_FLOOR - 10.0
    return m, flag


@njit(cache=True, nogil=True, inline="always")
def _row_normalise(new_row, old_row, row_max, fallback, coef, h_x):
    """One row of step 1 of eq. (17), second half, after ``new_row = exp(logits)``:
    division by μ(x) (eq. 13). Returns ``(log μ(x), max_x̂ |new - old|)``; ``log μ``
    includes the constant ``β·H(Y|X=x)/λ`` part of ``d_IB`` that cancels in the encoder."""
    k = new_row.shape[0]
    s = 0.0
    for j in range(k):
        e = new_row[j]
        if e < TINY:  # the sentinel of _row_logits: an entry below exp(LOGIT_FLOOR)
            e = 0.0
            new_row[j] = 0.0
        s += e
    inv = 1.0 / s
    r = 0.0
    for j in range(k):
        e = new_row[j] * inv
        new_row[j] = e
        r = max(r, abs(e - old_row[j]))
    log_mu = row_max + math.log(s)
    if not fallback:
        log_mu += coef * h_x
    return log_mu, r


def _logits_impl(log_q, dl, cen, coef, out, row_max, row_fallback):
    """First half of step 1 of eq. (17) for every row (:func:`_row_logits`)."""
    n = dl.shape[0]
    for i in prange(n):
        m, flag = _row_logits(log_q, dl[i], cen[i], coef, out[i])
        row_max[i] = m
        row_fallback[i] = flag


def _normalise_impl(enc_new, enc_old, row_max, row_fallback, coef, h_x, log_mu, row_resid):
    """Second half of step 1 of eq. (17), after ``enc_new = exp(logits)``, for every row
    (:func:`_row_normalise`): the encoder, ``log μ(x)`` and the stationarity residual
    ``row_resid[x] = max_x̂ |enc_new - enc_old|``."""
    n = enc_new.shape[0]
    for i in prange(n):
        lm, r = _row_normalise(enc_new[i], enc_old[i], row_max[i], row_fallback[i], coef, h_x[i])
        log_mu[i] = lm
        row_resid[i] = r


# Re-association lets LLVM vectorise the row reductions; no flag assumes finite values
# (the logits hold -inf for symbols out of use).
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
_logits_serial = njit(cache=True, nogil=True, fastmath=_FASTMATH)(_logits_impl)
_logits_parallel = njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)(_logits_impl)
_normalise_serial = njit(cache=True, nogil=True, fastmath=_FASTMATH)(_normalise_impl)
_normalise_parallel = njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)(
    _normalise_impl
)


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


def encoder_step(
    log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid, row_max, row_fallback
) -> None:
    """Step 1 of eq. (17): ``enc_new = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)`` in the log domain.

    Logits in a Numba pass, ``exp`` by NumPy (SIMD) in place, normalisation and the
    residual in a second Numba pass; the parallel builds are used for large problems.
    ``cen`` (``Σ_y p(y|x) log p_k(y|x̂)``, n×k) is read only when ``coef > 0`` and may
    be the same buffer as ``enc_new``.
    """
    par = dl.size >= PARALLEL_MIN_SIZE
    (_logits_parallel if par else _logits_serial)(
        log_q, dl, cen, coef, enc_new, row_max, row_fallback
    )
    np.exp(enc_new, out=enc_new)
    (_normalise_parallel if par else _normalise_serial)(
        enc_new, enc_old, row_max, row_fallback, coef, h_x, log_mu, row_resid
    )
