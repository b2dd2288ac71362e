"""The batched backend of the iteration core (Numba): all plain eq. (17) steps of one
problem of a batch in one call, no Python between steps (:func:`run`), each row of
step 1 fused with steps 2–3 (:func:`step`) so that the row stays in L1 and the problem
(``dl``, ``enc``: 2·8·n·k bytes) in L2. The stopping rules, Blahut's certificate and
the revival rule are the core's own Numba functions (:mod:`infotheory.core`).

The row pass, with the numerators of steps 2–3 summed in it, is the single-problem
backend's own (:func:`infotheory.kernels.encoder_step`, serial build, in place here);
the iterates agree with the single-problem backend's to rounding
(``tests/test_backends.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .core import marginals, rd_check_due, rd_verdict
from .kernels import dead_log_c, log_r_transposed, step_serial
from .problem import Point
from .rowops import FASTMATH


@njit(cache=True, nogil=True, fastmath=FASTMATH)
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
    use keep their value), ``log_mu = log μ_k(x)``. Step 1 is the single-problem
    backend's own row pass (:func:`infotheory.kernels.encoder_step`, serial build), in
    place, with the numerators of steps 2–3 summed in the same pass.
    Returns the residual ``max |p_{k+1}(x̂|x) - p_k(x̂|x)|``."""
    n, k = dl.shape
    m = p_y_given_x.shape[1]
    use_ce = coef > 0.0
    log_q = np.empty(k)
    log_r_t = np.empty((m if use_ce else 0, k))  # log r_k(y|x̂), transposed: rows of length k
    for j in range(k):
        log_q[j] = math.log(q[j]) if q[j] > 0.0 else -np.inf
    if use_ce:  # steps 2-3 summed in the pass: p_{k+1}(y, x̂) from the weights p(x, y)
        log_r_transposed(r, log_r_t)
        weights = np.empty((n, m))
        for i in range(n):
            for y in range(m):
                weights[i, y] = p_x[i] * p_y_given_x[i, y]
    else:  # step 2 alone: p_{k+1}(x̂) from the weights p(x)
        weights = np.empty((n, 1))
        weights[:, 0] = p_x
    nums = np.empty((1, weights.shape[1], k))
    row_resid = np.empty(n)
    step_serial(
        log_q, dl, p_y_given_x, log_r_t, coef, h_x, enc, enc, log_mu, row_resid, False, weights,
        nums, True,
    )  # fmt: skip
    num = nums[0]
    if use_ce:  # steps 2 and 3
        for j in range(k):
            s = 0.0
            for y in range(m):
                s += num[y, j]
            q_new[j] = s
            if s > 0.0:
                for y in range(m):
                    r[j, y] = num[y, j] / s
    else:
        q_new[:] = num[0]
    return row_resid.max()


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
