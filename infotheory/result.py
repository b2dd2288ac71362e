"""The result of the eq. (17) solver (:class:`SemanticRDResult`), computed afresh from
an encoder (:func:`make_result`), and the warning of an unconverged run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core import Backend, Outcome, blahut_bound
from .problem import Point


class ConvergenceWarning(RuntimeWarning):
    """The iteration stopped at ``max_iter`` before meeting its tolerances."""


@dataclass(frozen=True)
class SemanticRDResult:
    """Result of :func:`semantic_rd` (and its front ends).

    Every field is computed from the returned ``encoder`` (not from an earlier
    iterate). Information quantities are in units of ``base`` (bits by default).

    Attributes
    ----------
    encoder : ndarray, shape (n, k)
        The test channel ``p(x̂|x)``; each row sums to 1.
    p_xhat : ndarray, shape (k,)
        ``p(x̂) = Σ_x p(x) p(x̂|x)`` (eq. 14). Zero for reproduction symbols out of use.
    p_y_given_xhat : ndarray, shape (k, m)
        ``p(y|x̂) = Σ_x p(y|x) p(x|x̂)`` (eq. 15). For a symbol out of use the row is
        the last value it had while in use.
    rate : float
        ``I(X;X̂)``.
    distortion_rd : float
        ``D_RD = E[d_RD(X, X̂)]``, in the units of ``d_rd``.
    distortion_ib : float
        ``D_IB = E[KL(p(y|x) || p(y|x̂))] = I(X;Y|X̂) = I(X;Y) - I(X̂;Y)`` (eqs. 1–3).
    distortion : float
        ``D_S = D_RD + β·D_IB`` (eq. 6), with ``D_IB`` in nats (the unit in which
        β and λ are defined), in the units of ``d_rd``.
    relevance : float
        ``I(X̂;Y)``.
    objective : float
        ``F = I(X;X̂) + D_S/λ`` (nats inside), expressed in units of ``base``.
    iterations : int
        Number of eq. (17) steps taken.
    converged : bool
        True when the tolerances were met (for β = 0 the certificate included).
    residual : float
        Stationarity residual of eqs. (12)–(15): ``max |p_{t+1}(x̂|x) - p_t(x̂|x)|``
        over the last step.
    rate_lower_bound : float or None
        β = 0 only: Blahut's lower bound on ``R(D)`` at ``D = distortion_rd``.
        ``rate - rate_lower_bound`` certifies how far the point is from the R(D) curve.
    gap : float or None
        β = 0 only: ``rate - rate_lower_bound`` (≥ 0 up to rounding).
    beta, lam : float
        The trade-off parameters that were solved.
    base : float
        Logarithm base of the information quantities.
    message : str
        Why the iteration stopped. For β > 0 it says that the answer is a stationary
        point of eqs. (12)–(15) (the problem is not convex).
    objective_change : float or None
        ``F(previous encoder) - F(encoder)`` over the last step, units of ``base``
        (≥ 0 up to rounding: F never increases). For :func:`evaluate_encoder`, what
        one more eq. (17) step would gain. None when no step was taken.
    starts : int
        Number of starts solved (``1 + restarts``; see :mod:`infotheory.search`).
    starts_at_best : int
        How many of them reached the returned point (``F`` equal to 1e-9 relative).
        Small against ``starts`` means a rugged landscape: more ``restarts`` may
        find a lower ``F``.
    objective_spread : float
        ``max F - min F`` over the starts, units of ``base`` (0 for one start).
    max_iter_reached : bool
        True when the returned start used its whole ``max_iter`` budget without
        meeting its stopping rules (``converged`` is then False and a
        :class:`ConvergenceWarning` was issued).
    start : str
        The start that produced the returned point (``"random (seed 0)"``,
        ``"uniform"``, ``"local search 1"``, ``"the given start"``, ...).
    """

    encoder: np.ndarray
    p_xhat: np.ndarray
    p_y_given_xhat: np.ndarray
    rate: float
    distortion_rd: float
    distortion_ib: float
    distortion: float
    relevance: float
    objective: float
    iterations: int
    converged: bool
    residual: float
    rate_lower_bound: float | None
    gap: float | None
    beta: float
    lam: float
    base: float
    message: str = field(default="")
    objective_change: float | None = field(default=None)
    starts: int = field(default=1)
    starts_at_best: int = field(default=1)
    objective_spread: float = field(default=0.0)
    start: str = field(default="")
    max_iter_reached: bool = field(default=False)


def _plogp(a: np.ndarray) -> float:
    """``Σ a log a`` (nats) with ``0 log 0 = 0``."""
    nz = a[a > 0]
    return float(np.dot(nz, np.log(nz)))


def summarise(point: Point, enc: np.ndarray, r_prev: np.ndarray) -> dict[str, Any]:
    """All result quantities (nats) from one encoder, computed afresh (rows of
    ``p(y|x̂)`` of symbols out of use from ``r_prev``)."""
    pb, beta, lam = point.problem, point.beta, point.lam
    p_x, d_rd = pb.p_x, pb.d_rd
    joint = p_x[:, None] * enc  # p(x, x̂)
    q = joint.sum(axis=0)
    # I(X;X̂) = Σ p(x,x̂) [log p(x̂|x) - log p(x̂)], in logs (products of tiny numbers underflow)
    i, j = np.nonzero(joint)
    rate = float(np.dot(joint[i, j], np.log(enc[i, j]) - np.log(q[j])))
    d_rd_mean = float(np.sum(joint * d_rd))
    joint_xy = pb.joint_xy
    joint_xhat_y = enc.T @ joint_xy  # p(x̂, y)
    alive = joint_xhat_y.sum(axis=1) > 0
    r = r_prev.copy()
    r[alive] = joint_xhat_y[alive] / joint_xhat_y[alive].sum(axis=1, keepdims=True)  # eq. (15)
    # D_IB = E[KL(p(y|x) || p(y|x̂))] = H(Y|X̂) - H(Y|X)  (eqs. 1–3); this form stays finite
    # even where p(x, x̂) is subnormal
    h_y_given_xhat = -_plogp(joint_xhat_y) + _plogp(joint_xhat_y.sum(axis=1))
    h_y_given_x = -_plogp(joint_xy) + _plogp(p_x)
    d_ib = max(h_y_given_xhat - h_y_given_x, 0.0)
    # I(X̂;Y) = H(Y) - H(Y|X̂)
    relevance = max(-_plogp(joint_xhat_y.sum(axis=0)) - h_y_given_xhat, 0.0)
    rate = max(rate, 0.0)
    d_s = d_rd_mean + beta * d_ib
    return dict(
        q=q,
        r=r,
        rate=rate,
        d_rd=d_rd_mean,
        d_ib=d_ib,
        d_s=d_s,
        relevance=relevance,
        objective=rate + d_s / lam,
    )


def make_result(
    point: Point,
    backend: Backend,
    outcome: Outcome,
    log_base: float,
    *,
    it0: int = 0,
    evaluated: bool = False,
) -> SemanticRDResult:
    """The result of a run of :func:`infotheory.core.iterate` on ``backend`` (or, with
    ``evaluated``, of :func:`infotheory.core.evaluate`: the result of the encoder the
    step started from). Every quantity is computed from the returned encoder;
    ``objective_change`` is ``F(previous) - F(encoder)`` over the last step (for an
    evaluation: what one more step would gain); ``iterations`` is ``it0 + steps``."""
    r = backend.r  # type: ignore[attr-defined]
    enc, other = (
        (backend.previous, backend.encoder) if evaluated else (backend.encoder, backend.previous)
    )
    s = summarise(point, enc, r)
    d_obj = None
    if outcome.steps > 0 or evaluated:
        d_obj = (summarise(point, other, r)["objective"] - s["objective"]) / log_base
        if evaluated:
            d_obj = -d_obj
    rate_lb = gap = None
    if point.beta == 0:
        g_lb = blahut_bound(point.problem.p_x, backend.log_mu, outcome.log_c)
        # rounding can put the bound a few ulps above the rate it bounds; lowering a
        # lower bound keeps it valid (R(D) <= rate at the reached D)
        rate_lb = min((g_lb - s["d_rd"] / point.lam) / log_base, s["rate"] / log_base)
        gap = s["rate"] / log_base - rate_lb
    return SemanticRDResult(
        encoder=enc,
        p_xhat=s["q"],
        p_y_given_xhat=s["r"],
        rate=s["rate"] / log_base,
        distortion_rd=s["d_rd"],
        distortion_ib=s["d_ib"] / log_base,
        distortion=s["d_s"],
        relevance=s["relevance"] / log_base,
        objective=s["objective"] / log_base,
        iterations=it0 + outcome.steps,
        converged=outcome.converged,
        residual=outcome.residual,
        rate_lower_bound=rate_lb,
        gap=gap,
        beta=point.beta,
        lam=point.lam,
        base=math.exp(log_base),
        message=outcome.message,
        objective_change=d_obj,
        max_iter_reached=outcome.max_iter_reached,
    )
