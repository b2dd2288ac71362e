"""The iteration core: eq. (17), its stopping rules, Blahut's certificate, in one place.

Notation (``docs/theory.md``): ``p(x)`` source, ``p(y|x)`` labels, ``p_k(x̂|x)`` the
encoder at step ``k``, ``q_k = p_k(x̂)``, ``r_k = p_k(y|x̂)``, ``dl = d_RD/λ``,
``coef = β/λ``; everything in nats.

**The step** (eq. 17), from ``(q_k, r_k)``:

1. ``p_k(x̂|x) = q_k(x̂)·exp(-d_RD(x,x̂)/λ + (β/λ)·Σ_y p(y|x) log r_k(y|x̂)) / μ_k(x)``
   (eq. 12; the ``Σ_y p(y|x) log p(y|x)`` part of ``d_IB`` cancels), in the log
   domain: logits shifted by their row maximum, an entry more than ``-LOGIT_FLOOR``
   below it set to exactly 0, ``μ_k(x)`` the row sum (eq. 13);
2. ``q_{k+1}(x̂) = Σ_x p(x) p_k(x̂|x)`` (eq. 14);
3. ``r_{k+1}(y|x̂) = Σ_x p(x, y) p_k(x̂|x) / q_{k+1}(x̂)`` (eq. 15; a symbol out of use
   keeps its last row).

:func:`eq17_step` is that step in NumPy (the accelerated phases use it); the
backends compute the same step fast and are held to it by one conformance test
(``tests/test_backends.py``): :class:`infotheory.backend_numpy.NumpyBackend` (Numba
kernels of :mod:`infotheory.kernels`, one problem), :mod:`infotheory.backend_batch`
(Numba, all steps of one problem of a batch in one call) and
:mod:`infotheory._torch_backend` (PyTorch, a batch as tensors). A backend offers the
:class:`Backend` protocol: ``step`` and ``certify``; :func:`iterate` runs it.

**The stopping rules.** ``β > 0``: the stationarity residual
``max |p_{k+1}(x̂|x) - p_k(x̂|x)| ≤ tol`` (a stationary point of eqs. 12–15; the problem
is not convex). ``β = 0`` (convex): that, and Blahut's certificate
``max_x̂ log c(x̂) - Σ_x̂ q_{k+1}(x̂) log c(x̂) ≤ gap_tol`` with
``c(x̂) = Σ_x p(x) exp(-d(x,x̂)/λ)/μ_k(x)`` (``= q_{k+1}/q_k`` for a symbol in use, an
explicit column sum for a symbol out of use, checked only when the rest holds and then at
most every ``DEAD_CHECK_EVERY`` steps). **Revival**: a symbol out of use with
``log c > REVIVE_LOG_C`` violates Blahut's condition ``c ≤ 1`` and is brought back with
mass ``REVIVE_MASS``. The rules are Numba functions, so the Python loop of
:func:`iterate`, the batch kernel and the torch backend run the same code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit

from ._logdomain import log_likelihood

#: a logit more than 690 below its row maximum gives an encoder entry below 3.4e-300
#: (relative to the largest entry of the row); such entries are set to exactly 0
LOGIT_FLOOR = -690.0
#: threshold between exp(LOGIT_FLOOR) = 3.4e-300 and exp(LOGIT_FLOOR - 10) = 1.5e-304
TINY = 1e-300
#: a symbol out of use with log c(x̂) above this violates Blahut's condition c(x̂) <= 1
REVIVE_LOG_C = 1e-12
#: the mass a violating symbol is brought back with (then q is renormalised)
REVIVE_MASS = 1e-8
#: while Blahut's certificate fails only through symbols out of use, re-check them at most
#: this often (their explicit check costs O(n) exps per symbol)
DEAD_CHECK_EVERY = 10

# why the iteration stopped (SemanticRDResult.message)
CERTIFIED = "certified: rate - rate_lower_bound <= gap_tol"
STATIONARY = "stationary point of eqs. (12)-(15): residual <= tol (non-convex for beta > 0)"
STOPPED_BY_CALLBACK = "stopped by callback"
EVALUATION = "evaluation of a given encoder"


def max_iter_message(max_iter: int) -> str:
    """The message of a run that used its whole budget."""
    return f"reached max_iter = {max_iter}"


def stop_message(converged: bool, beta: float, max_iter: int) -> str:
    """The message of a run that stopped by its rules (or at ``max_iter``)."""
    if not converged:
        return max_iter_message(max_iter)
    return CERTIFIED if beta == 0 else STATIONARY


# ---------------------------------------------------------------------------------------
# the step, in NumPy
# ---------------------------------------------------------------------------------------


def eq17_step(
    log_q: np.ndarray,
    r: np.ndarray,
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    joint_xy: np.ndarray,
    neg_dl: np.ndarray,
    coef: float,
    *,
    fallback: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One eq. (17) step from ``(log q_k, r_k)`` over the columns of ``neg_dl = -d_RD/λ``
    (all symbols, or a support); ``joint_xy = p(x, y)``.

    Returns ``log μ_k(x)`` (eq. 13, without the constant ``coef·H(Y|X=x)``), the encoder
    ``p_k(x̂|x)`` (eq. 12), ``q_{k+1}`` (eq. 14) and ``N = p_{k+1}(y, x̂)`` (the numerator
    of eq. 15, shape ``(m, k)``). A row ``x`` whose every logit is ``-inf`` (it reaches no
    symbol in use through ``d_IB``; possible for ``p(x) = 0``) falls back to the ``d_RD``
    part alone when ``fallback`` (the backends' rule), else gets ``log μ = -inf`` and an
    encoder row of zeros (the accelerated phase: such a state is never accepted)."""
    logits = log_likelihood(p_y_given_x, r) if coef > 0 else np.zeros_like(neg_dl)
    logits *= coef
    logits += neg_dl
    logits += log_q[None, :]
    top = logits.max(axis=1)
    if fallback and coef > 0 and not np.all(np.isfinite(top)):
        rows = ~np.isfinite(top)
        logits[rows] = neg_dl[rows] + log_q[None, :]
        top[rows] = logits[rows].max(axis=1)
    reach = np.isfinite(top)
    logits -= np.where(reach, top, 0.0)[:, None]
    enc = np.zeros_like(logits)
    np.exp(logits, out=enc, where=logits >= LOGIT_FLOOR)  # below: exactly 0
    tot = enc.sum(axis=1)
    enc /= np.where(reach, tot, 1.0)[:, None]
    log_mu = np.full(top.shape, -np.inf)
    log_mu[reach] = top[reach] + np.log(tot[reach])
    return log_mu, enc, p_x @ enc, joint_xy.T @ enc


def marginals(
    joint_xy: np.ndarray, enc: np.ndarray, previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Eq. (17) steps 2–3 from one GEMM: ``q = Σ_x p(x) p(x̂|x)`` and
    ``r = Σ_x p(x,y) p(x̂|x) / q``; rows of symbols out of use keep their ``previous``
    value."""
    num = joint_xy.T @ enc  # (m, k): p(y, x̂)
    q = num.sum(axis=0)
    alive = q > 0
    r = previous.copy()
    r[alive] = (num[:, alive] / q[alive]).T
    return q, r


def blahut_bound(p_x: np.ndarray, log_mu: np.ndarray, log_c: np.ndarray) -> float:
    """Blahut's lower bound on ``F*`` (nats) from one step:
    ``-Σ_x p(x) log μ_k(x) - max_x̂ log c(x̂)``; ``R(D) ≥ bound - D/λ`` for every ``D``."""
    return -float(np.dot(p_x, log_mu)) - float(log_c.max())


# ---------------------------------------------------------------------------------------
# the stopping rules (Numba: the same code for every backend)
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def blahut_gap(log_c: np.ndarray, q_new: np.ndarray) -> float:
    """``max log c - Σ_{q_new > 0} q_new log c`` (nats): ``F(encoder)`` minus Blahut's
    lower bound on ``F*``."""
    mx = -np.inf
    s = 0.0
    for j in range(log_c.shape[0]):
        mx = max(mx, log_c[j])
        if q_new[j] > 0.0:
            s += q_new[j] * log_c[j]
    return mx - s


@njit(cache=True, nogil=True)
def rd_check_due(
    residual: float,
    tol: float,
    gap_tol: float,
    q: np.ndarray,
    q_new: np.ndarray,
    log_c: np.ndarray,
    it: int,
    next_check: int,
) -> bool:
    """β = 0, after step ``it``: fill ``log c = log q_{k+1} - log q_k`` for the symbols in
    use (``-inf`` for those out of use) and say whether the rest of the certificate holds
    (residual ``≤ tol``, gap over the symbols in use ``≤ gap_tol``) and the symbols out of
    use are due for their explicit check (``it ≥ next_check``)."""
    for j in range(q.shape[0]):
        if q[j] > 0.0 and q_new[j] > 0.0:
            log_c[j] = math.log(q_new[j]) - math.log(q[j])
        else:
            log_c[j] = -np.inf
    return residual <= tol and it >= next_check and blahut_gap(log_c, q_new) <= gap_tol


@njit(cache=True, nogil=True)
def rd_verdict(
    log_c: np.ndarray, q: np.ndarray, q_new: np.ndarray, gap_tol: float, it: int
) -> tuple[bool, int]:
    """β = 0, once ``log c`` holds every symbol (those out of use by their column sums):
    revive the symbols out of use that violate ``c ≤ 1`` (mass ``REVIVE_MASS`` in
    ``q_new``, renormalised; not converged), else certify (``gap ≤ gap_tol``), else
    schedule the next check. Returns ``(converged, next_check)``."""
    k = q.shape[0]
    violated = False
    for j in range(k):
        if q[j] <= 0.0 and log_c[j] > REVIVE_LOG_C:
            violated = True
            q_new[j] = REVIVE_MASS
    if violated:
        s = 0.0
        for j in range(k):
            s += q_new[j]
        for j in range(k):
            q_new[j] /= s
        return False, 0
    if blahut_gap(log_c, q_new) <= gap_tol:
        return True, 0
    return False, it + DEAD_CHECK_EVERY


@njit(cache=True, nogil=True)
def rd_rule_rows(
    residual: np.ndarray,
    tol: float,
    gap_tol: float,
    q: np.ndarray,
    q_new: np.ndarray,
    dead_log_c: np.ndarray,
    it: int,
    next_check: np.ndarray,
) -> np.ndarray:
    """:func:`rd_check_due` then :func:`rd_verdict` for every row of a batch whose
    ``log c`` of the symbols out of use was computed with the step (``dead_log_c``;
    the torch backend). ``q_new`` and ``next_check`` are updated; returns ``converged``."""
    bsz, k = q.shape
    out = np.zeros(bsz, dtype=np.bool_)
    log_c = np.empty(k)
    for b in range(bsz):
        if rd_check_due(residual[b], tol, gap_tol, q[b], q_new[b], log_c, it, next_check[b]):
            for j in range(k):
                if q[b, j] <= 0.0:
                    log_c[j] = dead_log_c[b, j]
            out[b], next_check[b] = rd_verdict(log_c, q[b], q_new[b], gap_tol, it)
    return out


# ---------------------------------------------------------------------------------------
# backends and the loop
# ---------------------------------------------------------------------------------------


class Backend(Protocol):
    """One problem's eq. (17) state and its two operations.

    After :meth:`step`, ``q`` is ``q_k`` (the marginal the step started from), ``q_new``
    is ``q_{k+1}`` (writable: a revival changes it; the next step starts from it),
    ``log_mu`` is ``log μ_k(x)`` and ``encoder`` the new ``p_k(x̂|x)``; ``previous`` is
    the encoder the step started from."""

    q: np.ndarray
    q_new: np.ndarray
    log_mu: np.ndarray
    encoder: np.ndarray

    @property
    def previous(self) -> np.ndarray:
        """The encoder the last step started from."""
        ...

    def step(self) -> float:
        """One eq. (17) step; returns the residual ``max |p_{k+1}(x̂|x) - p_k(x̂|x)|``."""
        ...

    def certify(self, log_c: np.ndarray) -> None:
        """Fill ``log c(x̂)`` of the symbols out of use (``q(x̂) = 0``) from the last step's
        ``μ_k`` (explicit column sums: ``log Σ_x p(x) exp(-d(x,x̂)/λ)/μ_k(x)``)."""
        ...


@dataclass
class Outcome:
    """How a run of :func:`iterate` ended. ``log_c`` (β = 0) holds Blahut's ``log c`` of
    every symbol for the last step (for the bound: :func:`blahut_bound`)."""

    steps: int
    converged: bool
    residual: float
    message: str
    max_iter_reached: bool
    log_c: np.ndarray


Callback = Callable[[int, np.ndarray], bool | None]


def iterate(
    backend: Backend,
    *,
    beta: float,
    tol: float,
    gap_tol: float,
    max_iter: int,
    callback: Callback | None = None,
    it0: int = 0,
) -> Outcome:
    """Eq. (17) steps of ``backend`` until the stopping rules hold (module docstring),
    ``callback`` returns True (called with ``(it0 + step, copy of the encoder)``) or
    ``max_iter`` steps (``gap_tol`` in nats). ``it0`` steps were taken before."""
    rd = beta == 0
    log_c = np.full(backend.q.shape[0], -np.inf)
    next_check, converged, residual, it = 0, False, math.inf, 0
    message = max_iter_message(it0 + max_iter)
    for it in range(1, max_iter + 1):
        residual = backend.step()
        if rd:
            q, q_new = backend.q, backend.q_new
            if rd_check_due(residual, tol, gap_tol, q, q_new, log_c, it, next_check):
                backend.certify(log_c)
                converged, next_check = rd_verdict(log_c, q, q_new, gap_tol, it)
        else:
            converged = residual <= tol
        if converged:
            message = CERTIFIED if rd else STATIONARY
        if callback is not None and callback(it0 + it, backend.encoder.copy()):
            message = STOPPED_BY_CALLBACK
            break
        if converged:
            break
    if rd:
        backend.certify(log_c)
    reached = not converged and message != STOPPED_BY_CALLBACK
    return Outcome(it, converged, residual, message, reached, log_c)


def evaluate(backend: Backend, *, beta: float) -> Outcome:
    """One step from the backend's encoder, not accepted: its residual and (β = 0)
    Blahut's ``log c`` of every symbol, for the bound at that encoder."""
    residual = backend.step()
    log_c = np.full(backend.q.shape[0], -np.inf)
    if beta == 0:
        rd_check_due(residual, 0.0, 0.0, backend.q, backend.q_new, log_c, 0, 0)
        backend.certify(log_c)
    return Outcome(0, False, residual, EVALUATION, False, log_c)
