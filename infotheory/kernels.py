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

#: below this many encoder entries (n·k) the serial kernel is used
PARALLEL_MIN_SIZE = 1 << 16


def _logits_impl(log_q, dl, cen, coef, out, row_max, row_fallback):
    """First half of step 1 of eq. (17): the log-domain numerator, shifted by its row max.

    ``out[x, x̂] = log p_k(x̂) - d_RD(x, x̂)/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂) - row_max[x]``.
    ``cen`` may hold ``-inf`` (a label x can emit that x̂ never does) and may be the
    same array as ``out`` (the update is in place). A row whose every entry is
    ``-inf`` (possible only for a source symbol that reaches no used x̂ through
    ``d_IB``, e.g. one with p(x) = 0) falls back to the ``d_RD`` part alone and is
    flagged in ``row_fallback``.
    """
    n, k = dl.shape
    use_ce = coef > 0.0
    for i in prange(n):
        m = -np.inf
        if use_ce:
            for j in range(k):
                v = log_q[j] - dl[i, j] + coef * cen[i, j]
                out[i, j] = v
                m = max(m, v)
        else:
            for j in range(k):
                v = log_q[j] - dl[i, j]
                out[i, j] = v
                m = max(m, v)
        flag = False
        if m == -np.inf:
            flag = True
            for j in range(k):
                v = log_q[j] - dl[i, j]
                out[i, j] = v
                m = max(m, v)
        for j in range(k):
            out[i, j] -= m
        row_max[i] = m
        row_fallback[i] = flag


def _normalise_impl(enc_new, enc_old, row_max, row_fallback, coef, h_x, log_mu, row_resid):
    """Second half of step 1 of eq. (17), after ``enc_new = exp(logits)``.

    Normalises each row (division by μ(x), eq. 13), stores ``log μ(x)`` including
    the constant ``β·H(Y|X=x)/λ`` part of ``d_IB`` that cancels in the encoder, and
    the stationarity residual ``row_resid[x] = max_x̂ |enc_new - enc_old|``.
    """
    n, k = enc_new.shape
    for i in prange(n):
        s = 0.0
        for j in range(k):
            s += enc_new[i, j]
        inv = 1.0 / s
        r = 0.0
        for j in range(k):
            e = enc_new[i, j] * inv
            enc_new[i, j] = e
            r = max(r, abs(e - enc_old[i, j]))
        row_resid[i] = r
        log_mu[i] = row_max[i] + math.log(s)
        if not row_fallback[i]:
            log_mu[i] += coef * h_x[i]


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


def encoder_step(log_q, dl, cen, coef, h_x, enc_old, enc_new, log_mu, row_resid, row_max,
                 row_fallback) -> None:
    """Step 1 of eq. (17): ``enc_new = p_k(x̂) exp(-d_S,k(x,x̂)/λ) / μ(x)`` in the log domain.

    Logits in a Numba pass, ``exp`` by NumPy (SIMD) in place, normalisation and the
    residual in a second Numba pass; the parallel builds are used for large problems.
    ``cen`` (``Σ_y p(y|x) log p_k(y|x̂)``, n×k) is read only when ``coef > 0`` and may
    be the same buffer as ``enc_new``.
    """
    par = dl.size >= PARALLEL_MIN_SIZE
    (_logits_parallel if par else _logits_serial)(log_q, dl, cen, coef, enc_new, row_max, row_fallback)
    np.exp(enc_new, out=enc_new)
    (_normalise_parallel if par else _normalise_serial)(enc_new, enc_old, row_max, row_fallback,
                                                        coef, h_x, log_mu, row_resid)
