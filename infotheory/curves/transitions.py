"""Phase transitions: bisection of the critical λ where the effective number of
reproduction symbols (:func:`effective_symbols`) changes, for one bracket
(:func:`locate_transition`) or for every change along a curve (:func:`transition_jobs`:
one independent :func:`locate_between` job per transition)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._validation import check_int, check_positive
from ..options import DEFAULTS
from ._problem import CurveProblem, curve_options, effective_symbols, make_problem, perturb
from .result import Curve, Transition

__all__ = ["locate_between", "locate_transition", "transition_jobs"]

#: iterations of one bisection probe (and of its second, trend-deciding stage)
PROBE_ITER = 4_000


def locate_transition(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    lam_low_rate: float,
    lam_high_rate: float,
    rtol: float = 1e-3,
    perturbation: float = 1e-3,
    probe_iter: int = PROBE_ITER,
    seed: int = 0,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> Transition:
    """Bisect the critical λ between a low-rate and a high-rate state.

    ``lam_low_rate > lam_high_rate`` must bracket a change of the effective number
    of reproduction symbols (:func:`effective_symbols`), e.g. the birth of the
    first non-trivial IB solution at ``λ_c = β·ρ²(X;Y)`` (``β_IB,c = 1/ρ²``, ρ²
    the squared maximal correlation). Each probe anneals from the low-rate side's
    solution (perturbed), as deterministic annealing would. Stops when
    ``upper - lower ≤ rtol · critical``. A bisection is sequential (each probe
    depends on the last), so this function takes no executor; a curve's
    transitions are located in parallel (``semantic_rd_curve(...,
    locate_transitions=True, executor=...)``). The solver options ``tol``,
    ``max_iter`` (of the two end points; each probe has ``probe_iter``), ``base``,
    ``accelerate`` as for :func:`semantic_rd_curve`.
    """
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=beta, options=opts)
    a = check_positive(lam_low_rate, "lam_low_rate")
    b = check_positive(lam_high_rate, "lam_high_rate")
    if not a > b:
        raise ValueError(f"lam_low_rate must be > lam_high_rate, got {a!r} <= {b!r}")
    rtol = check_positive(rtol, "rtol")
    probe_iter = check_int(probe_iter, "probe_iter", minimum=10)
    seed = check_int(seed, "seed", minimum=0)
    ra = cp.solve(a, "random", seed=seed)
    rb = cp.solve(b, perturb(ra.encoder, perturbation, np.random.default_rng(seed)), seed=seed)
    na, nb = effective_symbols(ra, cp.groups), effective_symbols(rb, cp.groups)
    if na == nb:
        raise ValueError(
            f"no change of the effective number of symbols between lam={a:g} "
            f"and lam={b:g} (both {na}); widen the bracket"
        )
    t = _bisect(cp, a, ra.encoder, na, b, nb, rtol, perturbation, seed, probe_iter)
    return replace(t, iterations=t.iterations + ra.iterations + rb.iterations)


def transition_jobs(
    cp: CurveProblem, curve: Curve, rtol: float, eps: float, seed: int
) -> list[tuple[CurveProblem, list[float], float, int, int, float, float, int]]:
    """The arguments of :func:`locate_between` for every change of ``n_effective``
    between neighbours of ``curve`` (in curve order): independent jobs."""
    ne = curve.n_effective
    lams = [float(v) for v in curve.lam]
    return [
        (cp, lams[: i + 1], lams[i + 1], int(ne[i]), int(ne[i + 1]), rtol, eps, seed)
        for i in range(len(curve) - 1)
        if ne[i] != ne[i + 1]
    ]


def locate_between(
    cp: CurveProblem,
    path: list[float],
    b: float,
    na: int,
    nb: int,
    rtol: float,
    eps: float,
    seed: int,
) -> Transition:
    """The transition between ``a = path[-1]`` and the next point ``b`` of a curve.
    The low-rate state at ``a`` is solved cold at β = 0 (convex) and otherwise
    annealed along ``path`` from the curve's first point, as the sweep did."""
    anneal = path[-1:] if cp.beta == 0 else path
    ra = cp.solve(anneal[0], "random", seed=seed)
    its = ra.iterations
    for lam in anneal[1:]:
        ra = cp.solve(lam, perturb(ra.encoder, eps, np.random.default_rng(seed)))
        its += ra.iterations
    t = _bisect(cp, path[-1], ra.encoder, na, b, nb, rtol, eps, seed, PROBE_ITER)
    return replace(t, iterations=t.iterations + its)


def _bisect(
    cp: CurveProblem,
    a: float,
    enc_a: np.ndarray,
    na: int,
    b: float,
    nb: int,
    rtol: float,
    eps: float,
    seed: int,
    probe_iter: int,
) -> Transition:
    """Geometric bisection of ``[b, a]`` from the low-rate state ``enc_a`` at ``a``;
    ``iterations`` counts the probes' solver iterations."""
    rng = np.random.default_rng(seed + 104729)
    probes = its = 0
    while (a - b) > rtol * math.sqrt(a * b):
        mid = math.sqrt(a * b)
        state, enc, it = _classify(cp, mid, enc_a, eps, rng, probe_iter)
        probes += 1
        its += it
        if state == na or state == -1:
            a, enc_a = mid, enc
        else:
            b = mid
    return Transition("lam", b, a, math.sqrt(a * b), rtol, na, nb, probes, its)


def _classify(
    cp: CurveProblem,
    lam: float,
    start: np.ndarray,
    eps: float,
    rng: np.random.Generator,
    probe_iter: int,
) -> tuple[int | None, np.ndarray, int]:
    """Effective symbol count at ``lam`` from a perturbed ``start``.

    When the solver does not converge within ``probe_iter`` iterations (critical
    slowing down near a continuous transition), a second stage of the same length
    decides by the trend of the rate: growing means the start (low-rate state)
    is unstable (returned as ``None`` = "high-rate side")."""
    res = cp.solve(lam, perturb(start, eps, rng), max_iter=probe_iter)
    its = res.iterations
    if res.converged:
        return effective_symbols(res, cp.groups), res.encoder, its
    res2 = cp.solve(lam, res.encoder, max_iter=probe_iter)
    its += res2.iterations
    if res2.converged:
        return effective_symbols(res2, cp.groups), res2.encoder, its
    return (None if res2.rate > res.rate else -1), res2.encoder, its
