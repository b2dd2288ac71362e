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

#: a logit more than 690 below its row maximum gives an encoder entry below 3.4e-300
#: (relative to the largest entry of the row); such entries are set to exactly 0
LOGIT_FLOOR = -690.0
#: threshold between exp(LOGIT_FLOOR) = 3.4e-300 and exp(LOGIT_FLOOR - 10) = 1.5e-304
TINY = 1e-300


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


def _batch_logits_impl(active, log_q, log_r, d, lam, coef, p_y_given_x, out, row_max, row_fallback):
    """First half of step 1 of eq. (17) for every problem in ``active`` and every row
    (:func:`_row_logits`), the cross-entropy row ``Σ_y p(y|x) log p_k(y|x̂)`` formed on
    the fly (``-inf`` where p(y|x) > 0 meets p_k(y|x̂) = 0). Parallel over (problem, row)."""
    n, k = d.shape
    m = p_y_given_x.shape[1]
    na = active.shape[0]
    for t in prange(na * n):
        b = active[t // n]
        i = t % n
        dl_row = np.empty(k)
        cen_row = np.zeros(k)
        for j in range(k):
            dl_row[j] = d[i, j] / lam[b]
        if coef[b] > 0.0:
            for j in range(k):
                s = 0.0
                for y in range(m):
                    pv = p_y_given_x[i, y]
                    if pv > 0.0:
                        s += pv * log_r[b, j, y]
                cen_row[j] = s
        mx, flag = _row_logits(log_q[b], dl_row, cen_row, coef[b], out[b, i])
        row_max[b, i] = mx
        row_fallback[b, i] = flag


def _batch_normalise_impl(active, enc_new, enc_old, row_max, row_fallback, coef, h_x, p_x,
                     p_y_given_x, log_mu, resid, q_new, joint_new):
    """Second half of step 1 of eq. (17) (:func:`_row_normalise`) and steps 2–3 before
    division, per problem in ``active``: ``resid[b] = max |enc_new - enc_old|``,
    ``q_new[b] = Σ_x p(x) enc_new[b, x]`` and, when ``coef[b] > 0``, ``joint_new[b] =
    p_{k+1}(x̂, y)``. Parallel over problems."""
    n, k = enc_new.shape[1], enc_new.shape[2]
    m = p_y_given_x.shape[1]
    for t in prange(active.shape[0]):
        b = active[t]
        use_ce = coef[b] > 0.0
        for j in range(k):
            q_new[b, j] = 0.0
            for y in range(m):
                joint_new[b, j, y] = 0.0
        rmax = 0.0
        for i in range(n):
            row = enc_new[b, i]
            lm, r = _row_normalise(row, enc_old[b, i], row_max[b, i], row_fallback[b, i],
                                   coef[b], h_x[i])
            log_mu[b, i] = lm
            rmax = max(rmax, r)
            pi = p_x[i]
            for j in range(k):
                q_new[b, j] += pi * row[j]
            if use_ce:
                for y in range(m):
                    pxy = pi * p_y_given_x[i, y]
                    if pxy > 0.0:
                        for j in range(k):
                            joint_new[b, j, y] += pxy * row[j]
        resid[b] = rmax


_batch_logits_serial = njit(cache=True, nogil=True, fastmath=_FASTMATH)(_batch_logits_impl)
_batch_logits_parallel = njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)(
    _batch_logits_impl)
_batch_normalise_serial = njit(cache=True, nogil=True, fastmath=_FASTMATH)(_batch_normalise_impl)
_batch_normalise_parallel = njit(cache=True, nogil=True, parallel=True, fastmath=_FASTMATH)(
    _batch_normalise_impl)


def batch_step(active, log_q, log_r, d, lam, coef, p_x, p_y_given_x, h_x, enc_old, enc_new,
               log_mu, resid, q_new, joint_new, row_max, row_fallback) -> None:
    """One eq. (17) step for every problem ``b`` in ``active`` of a batch on one source.

    Problem ``b`` has temperature ``lam[b]`` and ``coef[b] = β_b/λ_b``; its state is
    ``log_q[b]`` (log p_k(x̂)) and, when ``coef[b] > 0``, ``log_r[b]`` (log p_k(y|x̂),
    k×m). As :func:`encoder_step`: logits in a Numba pass, ``exp`` by NumPy (SIMD) in
    place, normalisation in a second Numba pass, both built on the same row kernels
    (:func:`_row_logits`, :func:`_row_normalise`); the parallel builds are used when the
    active batch has at least ``PARALLEL_MIN_SIZE`` encoder entries. Outputs per problem: ``enc_new[b]``,
    ``log_mu[b]``, ``resid[b]``, ``q_new[b]`` (eq. 17 step 2) and, when ``coef[b] > 0``,
    ``joint_new[b] = p_{k+1}(x̂, y)`` (eq. 17 step 3 before division).
    """
    par = active.shape[0] * d.size >= PARALLEL_MIN_SIZE
    (_batch_logits_parallel if par else _batch_logits_serial)(
        active, log_q, log_r, d, lam, coef, p_y_given_x, enc_new, row_max, row_fallback)
    if active.shape[0] == enc_new.shape[0]:
        np.exp(enc_new, out=enc_new)
    else:
        for b in active:
            np.exp(enc_new[b], out=enc_new[b])
    (_batch_normalise_parallel if par else _batch_normalise_serial)(
        active, enc_new, enc_old, row_max, row_fallback, coef, h_x, p_x, p_y_given_x, log_mu,
        resid, q_new, joint_new)
