"""Targets: the λ at which a solution reaches a given rate or distortion, by Brent's
method on ``log λ`` with every evaluation warm-started from the nearest λ solved."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int, check_positive, unit_name
from ..measures import _entropy_nats
from ..options import DEFAULTS
from ..solver import SemanticRDResult
from ._problem import CurveProblem, curve_options, make_problem, perturb
from .lam_range import lam_range_of
from .result import TargetResult

__all__ = ["TargetSearch", "solve_for_distortion", "solve_for_rate", "solve_target"]


@dataclass(frozen=True)
class TargetSearch:
    """How a target is searched: stop when ``|value - target| ≤ atol``; ``warm``
    starts (from the nearest λ solved, else from ``init`` when given) mixed with
    ``perturbation`` of a random encoder (None: 0 at β = 0, 1e-3 otherwise); the
    first λ tried ``lam_guess`` (None: the middle of :func:`default_lam_range`); at
    most ``max_evals`` solver calls; ``seed`` of the random starts."""

    atol: float
    warm: bool = True
    lam_guess: float | None = None
    perturbation: float | None = None
    max_evals: int = 100
    seed: int = 0
    init: np.ndarray | None = None

    def __post_init__(self) -> None:  # checked values stored (numbers given as text parsed)
        set_ = object.__setattr__
        set_(self, "atol", check_positive(self.atol, "atol"))
        set_(self, "max_evals", check_int(self.max_evals, "max_evals", minimum=2))
        set_(self, "seed", check_int(self.seed, "seed", minimum=0))
        if self.lam_guess is not None:
            set_(self, "lam_guess", check_positive(self.lam_guess, "lam_guess"))


def solve_for_rate(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    rate: float,
    atol: float = 1e-6,
    warm: bool = True,
    lam_guess: float | None = None,
    perturbation: float | None = None,
    max_evals: int = 100,
    seed: int = 0,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> TargetResult:
    """Find the λ whose solution has ``I(X;X̂) = rate`` (units of ``base``) within ``atol``.

    Brent's method on ``log λ`` (rate decreases with λ along the optimal curve;
    eq. 11); every evaluation warm-starts from the nearest λ solved so far
    (``warm=False``: cold seeded starts), mixed with ``perturbation`` of a random
    encoder (default: 0 at β = 0, 1e-3 otherwise). The solver options ``tol``,
    ``max_iter``, ``base``, ``accelerate`` as for :func:`semantic_rd_curve`. Raises
    ValueError if the rate is not reachable (e.g. above ``log k`` or
    ``H(X)``). The search is sequential (each λ depends on the last): no executor.
    """
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=beta, options=opts)
    rate = check_positive(rate, "rate")
    search = TargetSearch(atol, warm, lam_guess, perturbation, max_evals, seed)
    return solve_target(cp, cp.beta, "rate", rate, search)


def solve_for_distortion(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    distortion: float,
    which: str = "distortion",
    atol: float = 1e-6,
    warm: bool = True,
    lam_guess: float | None = None,
    perturbation: float | None = None,
    max_evals: int = 100,
    seed: int = 0,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> TargetResult:
    """Find the λ whose solution has the given distortion within ``atol``.

    ``which`` picks the distortion: ``"distortion"`` (D_S of eq. 6, the default;
    equals D_RD at β = 0) or ``"distortion_rd"`` (D_RD, eq. 4). Brent's method on
    ``log λ`` with warm starts, as :func:`solve_for_rate`.
    """
    if which not in ("distortion", "distortion_rd"):
        raise ValueError(f"which must be 'distortion' or 'distortion_rd', got {which!r}")
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=beta, options=opts)
    distortion = check_positive(distortion, "distortion")
    search = TargetSearch(atol, warm, lam_guess, perturbation, max_evals, seed)
    return solve_target(cp, cp.beta, which, distortion, search)


class _Found(Exception):
    def __init__(self, log_lam: float) -> None:
        self.log_lam = log_lam


def solve_target(
    cp: CurveProblem, beta: float, quantity: str, target: float, search: TargetSearch
) -> TargetResult:
    """Root-find ``u = log λ`` so that ``quantity(λ) = target`` at ``beta`` (along the
    optimal β = 0 curve the rate decreases and the distortion increases with λ)."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(search.seed + 17)
    eps = search.perturbation
    if eps is None:
        eps = 0.0 if beta == 0 else 1e-3  # as in semantic_rd_curve
    cache: dict[float, SemanticRDResult] = {}
    total = [0]

    def solve(u: float) -> SemanticRDResult:
        if u in cache:
            return cache[u]
        if len(cache) >= search.max_evals:
            raise RuntimeError(f"no solution within {search.max_evals} solver calls")
        start: Any = "random"
        if search.warm and cache:
            near = min(cache, key=lambda v: abs(v - u))
            start = perturb(cache[near].encoder, eps, rng)
        elif search.warm and search.init is not None:
            start = perturb(np.asarray(search.init), eps, rng)
        res = cp.solve(math.exp(u), start, seed=search.seed, beta=beta)
        total[0] += res.iterations
        cache[u] = res
        return res

    def f(u: float) -> float:
        v = float(getattr(solve(u), quantity)) - target
        if abs(v) <= search.atol:
            raise _Found(u)
        return v

    unit = unit_name(cp.base)
    if quantity == "rate":
        # I(X;X̂) <= min(H(X), log |X̂|): the reachable rates (approached as λ → 0, ∞)
        top = min(_entropy_nats(cp.problem.p_x), math.log(cp.problem.k)) / cp.options.log_base
        if not 0 <= target <= top:
            raise ValueError(
                f"target rate {target:g} {unit} is not reachable: rates lie between "
                f"0 and {top:.6g} {unit} (min(H(X), log |X̂|))"
            )
    # rate falls and distortion rises with λ: g(u) = sign·f(u) is increasing in u
    sign = -1.0 if quantity == "rate" else 1.0
    if search.lam_guess is None:
        lo_l, hi_l = lam_range_of(cp.problem, beta)
        u0 = 0.5 * (math.log(lo_l) + math.log(hi_l))
    else:
        u0 = math.log(search.lam_guess)
    try:
        g0 = sign * f(u0)
        step = 0.5 if search.lam_guess is not None else 1.0
        ua, ub = u0, u0
        ga = gb = g0
        while ga > 0 or gb < 0:  # expand until g(ua) < 0 < g(ub)
            if ga > 0:
                ub, gb = ua, ga
                ua -= step
                ga = sign * f(ua)
            else:
                ua, ga = ub, gb
                ub += step
                gb = sign * f(ub)
            step *= 2.0
            if step > 200:
                va = float(getattr(solve(ua), quantity))
                vb = float(getattr(solve(ub), quantity))
                raise ValueError(
                    f"target {quantity} {target:g} is not reachable: {quantity} "
                    f"ranges over {min(va, vb):.6g} to {max(va, vb):.6g} "
                    f"({unit if quantity != 'distortion_rd' else 'units of d_rd'}) "
                    f"for lam from {math.exp(ua):.3g} to {math.exp(ub):.3g}"
                )
        u = brentq(lambda v: sign * f(v), ua, ub, xtol=1e-13, rtol=1e-15, maxiter=search.max_evals)
    except _Found as hit:
        u = hit.log_lam
    except RuntimeError as exc:
        raise ValueError(f"target {quantity}={target!r}: {exc}") from None
    res = solve(u)
    value = float(getattr(res, quantity))
    return TargetResult(
        lam=math.exp(u),
        result=res,
        target=float(target),
        value=value,
        atol=search.atol,
        achieved=abs(value - target) <= search.atol,
        evaluations=len(cache),
        total_iterations=total[0],
    )
