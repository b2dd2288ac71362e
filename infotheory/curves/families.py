"""Families of curves: the information-bottleneck curve (:func:`ib_curve`), the sweep
over β at fixed λ or fixed rate (:func:`beta_family`, cf. the paper's Fig. 9) and one
λ-curve per β (:func:`curve_family`)."""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np

from .._validation import check_int, check_positive
from ..options import DEFAULTS
from ..problem import Problem
from ._jobs import check_n_jobs, executor_for, progress_bar, run_jobs
from ._problem import curve_options, make_problem
from .lam_range import maximal_correlation_squared, resolve_lams
from .result import Curve
from .sweep import plan_sweep, semantic_rd_curve, warn_unconverged
from .warm import family_chain, run_chain

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
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    n_jobs: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
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
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    n_jobs: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
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
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=0.0, options=opts)
    seed = check_int(seed, "seed", minimum=0)
    lam = check_positive(lam, "lam") if lam is not None else None
    rate = check_positive(rate, "rate") if rate is not None else None
    rate_atol = check_positive(rate_atol, "rate_atol")
    if not 0 <= float(perturbation) < 1:
        raise ValueError(f"perturbation must lie in [0, 1), got {perturbation!r}")
    n_jobs = check_n_jobs(n_jobs, executor)
    pieces = [list(b)] if warm else [[beta] for beta in b]
    jobs = [(cp, [float(v) for v in p], lam, rate, rate_atol, perturbation, seed) for p in pieces]
    pool = min(n_jobs, len(jobs))  # no local pool for a single job
    with executor_for(executor, pool) as ex, progress_bar(b.size, progress, "beta family") as bar:
        outs = run_jobs(ex, family_chain, jobs, bar, [len(p) for p in pieces])
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
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    n_jobs: int = 1,
    executor: Executor | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> list[Curve]:
    """One λ-curve per β (each by :func:`semantic_rd_curve`), in parallel over β.

    Without ``lams``/``lam_range`` all members share one λ grid (the default range
    for the largest β), so the curves are comparable point by point. Each member is
    the default warm sweep of :func:`semantic_rd_curve` (with its ``restarts``); the
    warm chains and restarts of all members are the independent jobs of one map, on
    ``executor`` (any :class:`concurrent.futures.Executor`) or a local pool of
    ``n_jobs > 1`` processes; every executor gives the same numbers. Each member's
    ``wall_time`` is the summed run time of its jobs. The solver options ``tol``,
    ``max_iter``, ``base``, ``accelerate`` as for :func:`semantic_rd_curve`.
    """
    b = _check_betas(betas)
    n_jobs = check_n_jobs(n_jobs, executor)
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=float(b.max()), options=opts)
    lam_arr = resolve_lams(cp.problem, cp.beta, lams, n_points, lam_range)
    plans = [
        plan_sweep(
            replace(cp, beta=float(beta)),
            lam_arr,
            warm=True,
            direction="auto",
            restarts=restarts,
            perturbation=None,
            seed=seed,
            chains=1,
            default_chains=1,
            n_jobs=n_jobs,
        )
        for beta in b
    ]
    jobs = [job for p in plans for job in p.jobs]
    with executor_for(executor, min(n_jobs, len(jobs))) as ex:
        outs = run_jobs(ex, run_chain, jobs)
    curves, first = [], 0
    for p in plans:
        curves.append(p.assemble(outs[first : first + len(p.jobs)]))
        first += len(p.jobs)
    for c in curves:
        warn_unconverged(c, "curve_family")
    return curves
