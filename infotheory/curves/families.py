"""Families of curves: the information-bottleneck curve (:func:`ib_curve`), the sweep
over β at fixed λ or fixed rate (:func:`beta_family`, cf. the paper's Fig. 9) and one
λ-curve per β (:func:`curve_family`)."""

from __future__ import annotations

import time
from concurrent.futures import Executor
from typing import Any

import numpy as np

from .._validation import check_int, check_positive
from ..problem import Problem
from ._jobs import check_n_jobs, executor_for, progress_bar, run_jobs
from ._problem import CurveProblem, make_problem, perturb, point_row
from .lam_range import maximal_correlation_squared, resolve_lams
from .result import Curve
from .sweep import semantic_rd_curve, warn_unconverged
from .targets import TargetSearch, solve_target

__all__ = ["beta_family", "curve_family", "ib_curve"]


def ib_curve(
    p_x: object,
    p_y_given_x: object,
    n_clusters: int,
    *,
    beta_ibs: object | None = None,
    n_points: int = 40,
    beta_ib_range: tuple[float, float] | None = None,
    locate_transitions: bool = True,
    transition_rtol: float = 1e-3,
    restarts: int = 0,
    seed: int = 0,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    n_jobs: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
    accelerate: bool | str = "auto",
) -> Curve:
    """The information-bottleneck curve (information plane) by annealing in β_IB.

    The semantic problem with ``d_RD ≡ 0`` (``n_clusters`` reproduction symbols),
    ``β = 1`` and ``λ = 1/β_IB`` (DESIGN §1): minimises ``I(X;T) − β_IB·I(T;Y)``.
    Default β_IB grid: ``n_points`` values geometric over
    ``beta_ib_range`` (default ``(0.5/ρ², 50/ρ²)``, ρ² the squared maximal
    correlation of X and Y, so the first transition ``β_IB = 1/ρ²`` is inside).
    Returns a λ-sweep :class:`Curve` (``lam = 1/β_IB``) with transitions located;
    ``n_jobs``, ``executor``, ``progress`` and the solver options ``tol``,
    ``max_iter``, ``base``, ``accelerate`` as for :func:`semantic_rd_curve` (the
    annealing is one sequential job; restarts and transitions are independent jobs).
    """
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    pb = Problem.from_arrays(p_x, p_y_given_x, np.zeros((np.asarray(p_x).shape[0], 1)))
    px, py = pb.p_x, pb.p_y_given_x
    if beta_ibs is not None:
        b = np.asarray(beta_ibs, dtype=np.float64).ravel()
        if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 0):
            raise ValueError("beta_ibs must be non-empty, finite and > 0")
        lams = 1.0 / b
    else:
        rho2 = maximal_correlation_squared(px, py)
        if rho2 <= 0:
            raise ValueError("Y is independent of X: the IB curve is the single trivial point")
        lo, hi = beta_ib_range if beta_ib_range is not None else (0.5 / rho2, 50.0 / rho2)
        if not (0 < lo < hi):
            raise ValueError(f"beta_ib_range must satisfy 0 < low < high, got {beta_ib_range!r}")
        lams = 1.0 / np.geomspace(lo, hi, check_int(n_points, "n_points", minimum=2))
    c = semantic_rd_curve(
        px,
        py,
        np.zeros((px.shape[0], n_clusters)),
        beta=1.0,
        lams=lams,
        direction="up",
        restarts=restarts,
        locate_transitions=locate_transitions,
        transition_rtol=transition_rtol,
        seed=seed,
        tol=tol,
        max_iter=max_iter,
        base=base,
        n_jobs=n_jobs,
        executor=executor,
        progress=progress,
        accelerate=accelerate,
    )
    c.meta["kind"] = "information bottleneck (lam = 1/beta_IB)"
    return c


def _check_betas(betas: object) -> np.ndarray:
    """``betas`` as a float64 vector: non-empty, finite, ``>= 0``."""
    b = np.asarray(betas, dtype=np.float64).ravel()
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b < 0):
        raise ValueError("betas must be non-empty, finite and >= 0")
    return b


def beta_family(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    betas: object,
    lam: float | None = None,
    rate: float | None = None,
    warm: bool = True,
    perturbation: float = 1e-3,
    rate_atol: float = 1e-4,
    seed: int = 0,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    n_jobs: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
    accelerate: bool | str = "auto",
) -> Curve:
    """Sweep β at fixed λ or at fixed rate: the theoretical counterpart of Fig. 9.

    Continuation in β from the smallest (β = 0 is convex) upwards, each point
    warm-started from the previous one (``perturbation`` of a random encoder mixed
    in). With ``rate=`` every point is solved for that rate (:func:`solve_for_rate`,
    to ``rate_atol``), so the family shows how ``D_RD`` grows and ``I(X̂;Y)`` rises
    as β goes from 0 to ∞ at equal rate. Returns a :class:`Curve` with
    ``parameter="beta"``; ``progress`` and the solver options ``tol``, ``max_iter``,
    ``base``, ``accelerate`` as for :func:`semantic_rd_curve`.

    The continuation is sequential: with ``warm=True`` (default) the family is one
    job. ``warm=False`` solves every β from its own seeded random start (and, with
    ``rate=``, its own search for λ), one independent job per β, which ``executor``
    (any :class:`concurrent.futures.Executor`, e.g. a ``dask.distributed``
    ``Client.get_executor()``) or a local pool of ``n_jobs > 1`` processes runs in
    parallel. The jobs depend only on the arguments: every executor gives the same
    numbers. Cold points at β > 0 may sit on another stationary point than the
    continuation's (compare ``objective``).
    """
    t0 = time.perf_counter()
    if (lam is None) == (rate is None):
        raise ValueError("give exactly one of lam= (fixed temperature) or rate= (fixed rate)")
    b = _check_betas(betas)
    if np.unique(b).size != b.size:
        raise ValueError("betas contains duplicates")
    b = np.sort(b)
    cp = make_problem(
        p_x,
        p_y_given_x,
        d_rd,
        beta=0.0,
        tol=tol,
        max_iter=max_iter,
        base=base,
        accelerate=accelerate,
    )
    seed = check_int(seed, "seed", minimum=0)
    lam = check_positive(lam, "lam") if lam is not None else None
    rate = check_positive(rate, "rate") if rate is not None else None
    rate_atol = check_positive(rate_atol, "rate_atol")
    n_jobs = check_n_jobs(n_jobs, executor)
    pieces = [list(b)] if warm else [[beta] for beta in b]
    jobs = [(cp, [float(v) for v in p], lam, rate, rate_atol, perturbation, seed) for p in pieces]
    with executor_for(executor, n_jobs) as ex, progress_bar(b.size, progress, "beta family") as bar:
        outs = run_jobs(ex, _family_chain, jobs, bar, [len(p) for p in pieces])
    curve = Curve.from_points(
        [p for pts, _ in outs for p in pts],
        base=cp.base,
        parameter="beta",
        total_iterations=sum(its for _, its in outs),
        meta=dict(kind="beta family", lam=lam, rate=rate, seed=seed, warm=warm),
    )
    curve.wall_time = time.perf_counter() - t0
    warn_unconverged(curve, "beta_family")
    return curve


def _family_chain(
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


def curve_family(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    betas: object,
    lams: object | None = None,
    n_points: int = 40,
    lam_range: tuple[float, float] | None = None,
    restarts: int = 0,
    seed: int = 0,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    n_jobs: int = 1,
    executor: Executor | None = None,
    accelerate: bool | str = "auto",
) -> list[Curve]:
    """One λ-curve per β (each by :func:`semantic_rd_curve`), in parallel over β.

    Without ``lams``/``lam_range`` all members share one λ grid (the default range
    for the largest β), so the curves are comparable point by point. Each member is
    one job (its own sweep runs inside it, in order), on ``executor`` (any
    :class:`concurrent.futures.Executor`) or a local pool of ``n_jobs > 1`` processes;
    every executor gives the same numbers. The solver options ``tol``, ``max_iter``,
    ``base``, ``accelerate`` as for :func:`semantic_rd_curve`.
    """
    b = _check_betas(betas)
    n_jobs = check_n_jobs(n_jobs, executor)
    cp = make_problem(
        p_x,
        p_y_given_x,
        d_rd,
        beta=float(b.max()),
        tol=tol,
        max_iter=max_iter,
        base=base,
        accelerate=accelerate,
    )
    lam_arr = resolve_lams(cp.problem, cp.beta, lams, n_points, lam_range)
    restarts = check_int(restarts, "restarts", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    jobs = [(cp, float(beta), lam_arr, restarts, seed) for beta in b]
    with executor_for(executor, min(n_jobs, len(jobs))) as ex:
        return run_jobs(ex, _curve_member, jobs)


def _curve_member(
    cp: CurveProblem, beta: float, lams: np.ndarray, restarts: int, seed: int
) -> Curve:
    """One member of :func:`curve_family`, in this process."""
    pb, opts = cp.problem, cp.options
    return semantic_rd_curve(
        pb.p_x,
        pb.p_y_given_x,
        pb.d_rd,
        beta=beta,
        lams=lams,
        restarts=restarts,
        seed=seed,
        tol=opts.tol,
        max_iter=opts.max_iter,
        base=opts.base,
        accelerate=opts.accelerate,
    )
