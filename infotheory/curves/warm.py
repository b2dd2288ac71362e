"""Warm starts: a chain of points solved in order, each from its neighbour's encoder —
over λ at fixed β (:func:`run_chain`, the unit of work of a sweep) or over β at fixed λ
or fixed rate (:func:`family_chain`). A chain of one point is a cold start. Chains are
top-level functions of picklable arguments: the jobs an executor runs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._problem import CurveProblem, perturb, point_row
from .targets import TargetSearch, solve_target

__all__ = ["family_chain", "run_chain"]


def run_chain(
    cp: CurveProblem, lams: Sequence[float], eps: float, seed: int
) -> tuple[list[dict[str, Any]], int, float]:
    """Warm-started chain over ``lams`` in the given order, the first point from a
    seeded random start (a chain of one λ is a cold start). Returns the points, the
    solver iterations spent and the seconds it ran.

    The neighbour's encoder is handed on as it is (plus the perturbation): no symbol is
    dropped. (Dropping symbols below 1e-6 mass was tried here and was the cause of
    uncertified β = 0 points: on a discretised Gaussian the tails legitimately use
    symbols of mass ~1e-7, and the accelerated phase, started without them, stalled
    far from Blahut's certificate — ``docs/curves.md``.) A point that does not converge
    from its warm start (for β = 0: is not certified) is solved again from a cold
    seeded start, and the better result is kept (converged first, then lower F)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed + 7919)
    points, total = [], 0
    start: Any = "random"
    for lam in lams:
        res = cp.solve(lam, start, seed=seed)
        total += res.iterations
        if not res.converged and not isinstance(start, str):
            cold = cp.solve(lam, "random", seed=seed)
            total += cold.iterations
            if (cold.converged, -cold.objective) > (res.converged, -res.objective):
                res = cold
        points.append(point_row(res, cp))
        start = perturb(res.encoder, eps, rng)
    return points, total, time.perf_counter() - t0


def family_chain(
    cp: CurveProblem,
    betas: list[float],
    lam: float | None,
    rate: float | None,
    rate_atol: float,
    eps: float,
    seed: int,
) -> tuple[list[dict[str, Any]], int]:
    """Continuation over ``betas`` (increasing) at fixed ``lam`` or fixed ``rate``, the
    first point from a seeded random start (a chain of one β is a cold point)."""
    rng = np.random.default_rng(seed + 31)
    points, total = [], 0
    start: np.ndarray | None = None
    lam_guess: float | None = None
    for beta in betas:
        if lam is not None:
            res = cp.solve(lam, "random" if start is None else start, seed=seed, beta=beta)
            total += res.iterations
            start = perturb(res.encoder, eps, rng)
        else:
            assert rate is not None
            search = TargetSearch(rate_atol, True, lam_guess, eps, 80, seed, start)
            tr = solve_target(cp, beta, "rate", rate, search)
            total += tr.total_iterations
            res, start, lam_guess = tr.result, tr.result.encoder, tr.lam
        points.append(point_row(res, cp, beta))
    return points, total
