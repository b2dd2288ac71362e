"""The batched backend of the iteration core (Numba): all plain eq. (17) steps of one
problem of a batch in one call, no Python between steps (:func:`run`), each row of
step 1 fused with steps 2–3 (:func:`step`) so that the row stays in L1 and the problem
(``dl``, ``enc``: 2·8·n·k bytes) in L2. The stopping rules, Blahut's certificate and
the revival rule are the core's own Numba functions (:mod:`infotheory.core`).

``q_{k+1}`` is summed row by row (NumPy's ``p_x @ enc`` in another order) and ``exp``
(:func:`batch_exp_row`) is not NumPy's to the last bit: the iterates agree with the
single-problem backend to rounding (~1e-15), not bit for bit (``tests/test_backends.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .core import LOGIT_FLOOR, TINY, marginals, rd_check_due, rd_verdict
from .kernels import dead_log_c
from .problem import Point

# Re-association lets LLVM vectorise the row reductions; no flag assumes finite values
_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

_LOG2E = 1.4426950408889634
#: ln 2 split in a high part with trailing zero bits and the rest (Cody–Waite reduction)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@njit(cache=True, nogil=True, fastmath={"nsz", "contract"})
def batch_exp_row(row: np.ndarray, shift: float, scale: np.ndarray) -> None:
    """First half of ``exp`` for step 1 of eq. (17), in a loop that LLVM vectorises
    (Numba's ``math.exp`` is a scalar libm call, about 10× slower than NumPy's SIMD one).

    For ``w = row[j] - shift`` (``≤ 0``: ``shift`` is the row maximum) or, where
    ``w < LOGIT_FLOOR``, the sentinel ``LOGIT_FLOOR - 10`` of :func:`infotheory.kernels._row_logits`:
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
def _batch_max(a: np.ndarray) -> float:
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
def batch_encoder_row(
    log_q: np.ndarray,
    dl_row: np.ndarray,
    cen_row: np.ndarray,
    coef: float,
    h_x: float,
    enc_row: np.ndarray,
    p_x: float,
    q_new: np.ndarray,
    row: np.ndarray,
    scale: np.ndarray,
) -> tuple[float, float]:
    """One row of step 1 of eq. (17), fused, in place: ``enc_row`` becomes the new
    ``p(x̂|x)`` from the logits ``log p_k(x̂) - d_RD/λ + (β/λ)·Σ_y p(y|x) log p_k(y|x̂)``
    (``cen_row``, read only when ``coef > 0``), and ``q_new += p(x)·enc_row`` (eq. 17
    step 2). The arithmetic of :func:`infotheory.kernels._row_logits` then :func:`infotheory.kernels._row_normalise` (row
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
def step(
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    h_x: np.ndarray,
    dl: np.ndarray,
    coef: float,
    enc: np.ndarray,
    q: np.ndarray,
    q_new: np.ndarray,
    r: np.ndarray,
    log_mu: np.ndarray,
) -> float:
    """One eq. (17) step of one problem, in place: ``enc`` (n×k) from the encoder the
    marginals ``q = q_k`` and, when ``coef = β/λ > 0``, ``r = r_k`` (k×m) came from, to
    ``p_k(x̂|x)``; ``q_new = q_{k+1}``, ``r`` becomes ``r_{k+1}`` (rows of symbols out of
    use keep their value), ``log_mu = log μ_k(x)``. Each row of step 1 is fused by
    :func:`batch_encoder_row` (the row ``Σ_y p(y|x) log r_k(y|x̂)`` formed on the fly).
    Returns the residual ``max |p_{k+1}(x̂|x) - p_k(x̂|x)|``."""
    n, k = dl.shape
    m = p_y_given_x.shape[1]
    use_ce = coef > 0.0
    row = np.empty(k)
    scale = np.empty(k, dtype=np.int64)
    cen = np.zeros(k)
    log_q = np.empty(k)
    log_r_t = np.empty((m, k))  # log r_k(y|x̂), transposed: rows of length k
    joint_t = np.zeros((m, k))  # p_{k+1}(x̂, y), transposed
    for j in range(k):
        log_q[j] = math.log(q[j]) if q[j] > 0.0 else -np.inf
    if use_ce:
        for j in range(k):
            for y in range(m):
                log_r_t[y, j] = math.log(r[j, y]) if r[j, y] > 0.0 else -np.inf
    q_new[:] = 0.0
    resid = 0.0
    for i in range(n):
        if use_ce:  # -inf where p(y|x) > 0 meets r_k(y|x̂) = 0
            cen[:] = 0.0
            for y in range(m):
                pv = p_y_given_x[i, y]
                if pv > 0.0:
                    for j in range(k):
                        cen[j] += pv * log_r_t[y, j]
        px_i = 0.0 if use_ce else p_x[i]
        lm, rr = batch_encoder_row(log_q, dl[i], cen, coef, h_x[i], enc[i], px_i, q_new, row, scale)
        log_mu[i] = lm
        resid = max(resid, rr)
        if use_ce:  # eq. (17) step 3, numerator
            for y in range(m):
                w = p_x[i] * p_y_given_x[i, y]
                if w > 0.0:
                    for j in range(k):
                        joint_t[y, j] += w * enc[i, j]
    if use_ce:  # steps 2 and 3
        for j in range(k):
            s = 0.0
            for y in range(m):
                s += joint_t[y, j]
            q_new[j] = s
            if s > 0.0:
                for y in range(m):
                    r[j, y] = joint_t[y, j] / s
    return resid


@njit(cache=True, nogil=True)
def certify(
    p_x: np.ndarray, dl: np.ndarray, log_mu: np.ndarray, q: np.ndarray, log_c: np.ndarray
) -> None:
    """Blahut's ``log c`` of the symbols out of use in ``q`` (explicit column sums)."""
    n_dead = 0
    for j in range(q.shape[0]):
        if q[j] <= 0.0:
            n_dead += 1
    if n_dead:
        dead = np.flatnonzero(q <= 0.0)
        vals = dead_log_c(p_x, dl, log_mu, dead)
        for t in range(n_dead):
            log_c[dead[t]] = vals[t]


@njit(cache=True, nogil=True)
def run(
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    h_x: np.ndarray,
    dl: np.ndarray,
    coef: float,
    enc: np.ndarray,
    q: np.ndarray,
    r: np.ndarray,
    tol: float,
    gap_tol: float,
    max_steps: int,
) -> tuple[int, bool, float]:
    """Plain eq. (17) on one problem of a batch until its own stopping rules hold
    (:mod:`infotheory.core`: residual ``≤ tol``; at ``β = 0`` Blahut's certificate
    ``≤ gap_tol`` nats, symbols out of use re-checked and revived) or ``max_steps``
    steps: the loop of :func:`infotheory.core.iterate` in one call.

    State (updated in place): ``enc`` (in: the encoder whose marginals are ``q`` and
    ``r``, out: the last encoder), ``q`` and (``coef > 0``) ``r``. ``dl = d_RD/λ``.
    Returns ``(steps, converged, residual)``."""
    n, k = dl.shape
    rd = coef == 0.0
    q_new = np.empty(k)
    log_c = np.empty(k)
    log_mu = np.empty(n)
    next_check = 0
    converged = False
    resid = np.inf
    steps = 0
    for it in range(1, max_steps + 1):
        resid = step(p_x, p_y_given_x, h_x, dl, coef, enc, q, q_new, r, log_mu)
        steps = it
        if rd:
            if rd_check_due(resid, tol, gap_tol, q, q_new, log_c, it, next_check):
                certify(p_x, dl, log_mu, q, log_c)
                converged, next_check = rd_verdict(log_c, q, q_new, gap_tol, it)
        else:
            converged = resid <= tol
        q[:] = q_new
        if converged:
            break
    return steps, converged, resid


class BatchBackend:
    """One problem on the batch kernels as the :class:`infotheory.core.Backend` protocol
    (:func:`step` and :func:`certify` driven from Python: for
    :func:`infotheory.core.iterate` and the conformance test; :func:`run` is the fast
    path)."""

    def __init__(self, point: Point, enc: np.ndarray) -> None:
        pb = point.problem
        self.p_x, self.p_y_given_x, self.h_x = pb.p_x, pb.p_y_given_x, pb.row_entropies
        self.dl, self.coef = point.dl, point.coef
        self.q_new, self.r = marginals(pb.joint_xy, enc, np.full((pb.k, pb.m), 1.0 / pb.m))
        self.q = np.empty(pb.k)
        self.log_mu = np.empty(pb.n)
        self.encoder, self.previous = enc, enc.copy()

    def step(self) -> float:
        """One eq. (17) step (:class:`infotheory.core.Backend`)."""
        self.q, self.q_new = self.q_new, self.q
        self.previous[:] = self.encoder
        return float(
            step(
                self.p_x,
                self.p_y_given_x,
                self.h_x,
                self.dl,
                self.coef,
                self.encoder,
                self.q,
                self.q_new,
                self.r,
                self.log_mu,
            )
        )

    def certify(self, log_c: np.ndarray) -> None:
        """Blahut's ``log c`` of the symbols out of use (:class:`infotheory.core.Backend`)."""
        certify(self.p_x, self.dl, self.log_mu, self.q, log_c)
