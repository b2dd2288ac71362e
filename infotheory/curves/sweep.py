"""The λ sweep at fixed β (:func:`semantic_rd_curve`): warm-started chains of points,
cold starts and restarts, cut into independent jobs for an executor, and the choice
of the best branch per point."""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_int, check_positive
from ..options import DEFAULTS
from ..solver import ConvergenceWarning
from ._jobs import check_n_jobs, executor_for, progress_bar, run_jobs
from ._problem import CurveProblem, curve_options, make_problem
from .lam_range import resolve_lams
from .result import Curve
from .transitions import locate_between, transition_jobs
from .warm import run_chain

__all__ = ["SweepPlan", "plan_sweep", "semantic_rd_curve", "warn_unconverged"]


def semantic_rd_curve(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    lams: object | None = None,
    n_points: int = 40,
    lam_range: tuple[float, float] | None = None,
    warm: bool = True,
    direction: str = "auto",
    restarts: int = 0,
    perturbation: float | None = None,
    locate_transitions: bool = False,
    transition_rtol: float = 1e-3,
    seed: int = 0,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    n_jobs: int = 1,
    executor: Executor | None = None,
    chains: int | None = None,
    progress: bool | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> Curve:
    """Trace the semantic rate-distortion curve of eq. (11) over λ at fixed β.

    Each point minimises ``F = I(X;X̂) + (D_RD + β·D_IB)/λ`` with one start of
    :func:`infotheory.semantic_rd` (eq. 17); the curve chooses the starts.

    Parameters
    ----------
    p_x, p_y_given_x, d_rd : arrays
        The problem, as for :func:`infotheory.semantic_rd` (or a
        :class:`infotheory.sources.Source` unpacked with ``*``).
    beta : float, keyword-only
        Weight of ``D_IB`` in ``D_S`` (eq. 6); 0 gives the classical R(D).
    lams : array, optional
        The temperatures to solve at (any order; the curve is returned in order of
        decreasing λ, i.e. increasing rate). Default: ``n_points`` values
        geometrically spaced over ``lam_range`` (default :func:`default_lam_range`).
    warm : bool
        Warm-start each point from its neighbour (default). ``False``: every point
        from an independent seeded random start (cold).
    direction : {"auto", "up", "down", "both"}
        Sweep direction of the warm chain: "up" anneals from the largest λ (low
        rate, the trivial solution) to the smallest; "down" the reverse; "both"
        runs both and keeps the lower F per point. "auto": "down" at β = 0
        (convex), "up" otherwise.
    restarts : int
        Extra seeded cold starts per point; the lowest F is kept.
    perturbation : float, optional
        Weight ε of the random encoder mixed into each warm start (0 ≤ ε < 1).
        Default: 0 at β = 0 (the solver itself revives a symbol out of use that
        violates Blahut's optimality condition), 1e-3 for β > 0 (to leave the
        symmetric fixed points of the non-convex problem).
    locate_transitions : bool
        Bisect the critical λ of every change of ``n_effective`` to
        ``transition_rtol`` (relative); results in ``Curve.transitions``.
    seed : int
        Seed of cold starts and perturbations (restart r uses ``seed + r``).
    tol, max_iter, base, accelerate
        The solver's options (:class:`infotheory.options.SolverOptions`, whose
        defaults these are, as for :func:`infotheory.semantic_rd`): stationarity
        tolerance — at β = 0 also ``gap_tol``, the width of Blahut's certificate
        (units of ``base``) —, iteration cap per start, logarithm base of the
        information quantities (2: bits), and ``accelerate`` ("auto"/True: the SQP
        method at β = 0, damped Newton at β > 0, after plain warm-up steps; False:
        plain eq. (17) iteration only).
    n_jobs : int
        With no ``executor``: ``n_jobs > 1`` runs the jobs in a local
        :class:`~concurrent.futures.ProcessPoolExecutor` of that many spawned
        processes (one Numba/BLAS thread each), shut down at the end; -1: one per
        CPU; 1 (default): in this process.
    executor : concurrent.futures.Executor, optional
        Runs the independent jobs instead (a process pool, a ``dask.distributed``
        ``Client.get_executor()``, ...); left open. The jobs are: each warm chain (one
        per direction; at β = 0 ``chains`` of them), each cold point
        (``warm=False``), each restart, each transition bisection. A warm chain is
        sequential by nature (each point starts from the previous one), so at β > 0
        a warm sweep is one job per direction. The jobs depend only on the
        arguments, never on the executor: every executor gives the same numbers.
    chains : int, optional
        β = 0 with ``direction="down"`` (convex: any start reaches the optimum)
        only: cut the warm sweep into this many consecutive pieces, each a warm
        chain from its own cold start, run as independent jobs. Default: ``n_jobs``
        (1 with an ``executor``). Points agree with one chain to the solver's
        tolerance, not bit for bit.
    progress : bool or None
        Show a tqdm progress bar (advancing per job); None (default): on a terminal,
        once the sweep has run for ``PROGRESS_DELAY`` (2) seconds.

    Returns
    -------
    Curve
    """
    t0 = time.perf_counter()
    opts = curve_options(tol, max_iter, base, accelerate)
    cp = make_problem(p_x, p_y_given_x, d_rd, beta=beta, options=opts)
    lam_arr = resolve_lams(cp.problem, cp.beta, lams, n_points, lam_range)
    n_jobs = check_n_jobs(n_jobs, executor)
    transition_rtol = check_positive(transition_rtol, "transition_rtol")
    plan = plan_sweep(
        cp,
        lam_arr,
        warm=warm,
        direction=direction,
        restarts=restarts,
        perturbation=perturbation,
        seed=seed,
        chains=chains,
        default_chains=n_jobs if executor is None else 1,
        n_jobs=n_jobs,
    )
    with executor_for(executor, n_jobs) as ex:
        with progress_bar(sum(plan.sizes), progress, "semantic R-D curve") as bar:
            curve = plan.assemble(run_jobs(ex, run_chain, plan.jobs, bar, plan.sizes))
        if locate_transitions:
            jobs = transition_jobs(cp, curve, transition_rtol, plan.eps, plan.seed)
            curve.transitions = run_jobs(ex, locate_between, jobs)
            curve.total_iterations += sum(t.iterations for t in curve.transitions)
    curve.meta["executor"] = None if executor is None else type(executor).__name__
    curve.wall_time = time.perf_counter() - t0
    warn_unconverged(curve, "semantic_rd_curve")
    return curve


@dataclass(frozen=True)
class SweepPlan:
    """A λ sweep cut into independent jobs (arguments of :func:`~.warm.run_chain`,
    each with its number of points in ``sizes``), and how their points become a
    :class:`Curve` (:meth:`assemble`)."""

    cp: CurveProblem
    lams: np.ndarray
    jobs: list[tuple[CurveProblem, list[float], float, int]]
    eps: float
    seed: int
    meta: dict[str, Any]

    @property
    def sizes(self) -> list[int]:
        """Points per job."""
        return [len(job[1]) for job in self.jobs]

    def assemble(self, outs: Sequence[tuple[list[dict[str, Any]], int, float]]) -> Curve:
        """The curve from the jobs' ``(points, iterations, seconds)``, in job order: per
        λ the candidate of lowest F (ties: the earlier job); ``wall_time`` is the jobs'
        summed run time."""
        candidates: dict[float, list[dict[str, Any]]] = {}
        for pts, _, _ in outs:  # branches in job order: "up" before "down", then restarts
            for p in pts:
                candidates.setdefault(p["lam"], []).append(p)
        return Curve.from_points(
            [_best(candidates[float(lam)]) for lam in self.lams],
            base=self.cp.base,
            parameter="lam",
            total_iterations=sum(out[1] for out in outs),
            wall_time=sum(out[2] for out in outs),
            meta=dict(self.meta),
        )


def plan_sweep(
    cp: CurveProblem,
    lam_arr: np.ndarray,
    *,
    warm: bool,
    direction: str,
    restarts: int,
    perturbation: float | None,
    seed: int,
    chains: int | None,
    default_chains: int,
    n_jobs: int,
) -> SweepPlan:
    """Check the sweep's arguments (as :func:`semantic_rd_curve` documents them) and
    cut the sweep over ``lam_arr`` (decreasing) into jobs."""
    if direction not in ("auto", "up", "down", "both"):
        raise ValueError(f"direction must be 'auto', 'up', 'down' or 'both', got {direction!r}")
    restarts = check_int(restarts, "restarts", minimum=0)
    eps = (0.0 if cp.beta == 0 else 1e-3) if perturbation is None else float(perturbation)
    if not 0 <= eps < 1:
        raise ValueError(f"perturbation must lie in [0, 1), got {perturbation!r}")
    seed = check_int(seed, "seed", minimum=0)
    if direction == "auto":
        direction = "down" if cp.beta == 0 else "up"
    chains = _check_chains(chains, default_chains, cp.beta, warm, direction)
    jobs = [
        (cp, lams, eps, job_seed)
        for lams, job_seed in _cut(lam_arr, warm, direction, chains, restarts, seed)
    ]
    meta = dict(
        kind="lambda sweep",
        beta=cp.beta,
        warm=warm,
        direction=direction,
        restarts=restarts,
        perturbation=eps,
        seed=seed,
        n_jobs=n_jobs,
        chains=chains,
        accelerate=cp.options.accelerate,
        shape=[cp.problem.n, cp.problem.m, cp.problem.k],
    )
    return SweepPlan(cp, lam_arr, jobs, eps, seed, meta)


def _check_chains(chains: int | None, default: int, beta: float, warm: bool, direction: str) -> int:
    """The number of warm chains of a β = 0 "down" sweep (1 for every other sweep)."""
    splittable = warm and direction == "down" and beta == 0
    if chains is None:
        return default if splittable else 1
    chains = check_int(chains, "chains", minimum=1)
    if chains > 1 and not splittable:
        raise ValueError(
            "chains > 1 needs a warm sweep at beta = 0 with direction 'down' (convex: each "
            f"piece may start cold); got beta={beta:g}, warm={warm}, "
            f"direction={direction!r}"
        )
    return chains


def _cut(
    lam_arr: np.ndarray, warm: bool, direction: str, chains: int, restarts: int, seed: int
) -> list[tuple[list[float], int]]:
    """The jobs of a sweep, ``(λ values in solving order, seed)`` each: the warm chains
    ("up" first, then the "down" pieces) or one cold point per λ, then the restarts."""
    up = [float(v) for v in lam_arr]  # λ decreasing: low rate -> high rate
    jobs: list[tuple[list[float], int]] = []
    if not warm:
        jobs += [([lam], seed) for lam in up]
    if warm and direction in ("up", "both"):
        jobs.append((up, seed))
    if warm and direction in ("down", "both"):
        jobs += [(piece, seed) for piece in _split(up[::-1], chains)]
    jobs += [([lam], seed + r) for lam in up for r in range(1, restarts + 1)]
    return jobs


def _split(seq: Sequence[float], parts: int) -> list[list[float]]:
    """``seq`` cut into ``parts`` consecutive pieces of (nearly) equal length."""
    parts = max(1, min(parts, len(seq)))
    bounds = np.linspace(0, len(seq), parts + 1).round().astype(int)
    return [list(seq[bounds[i] : bounds[i + 1]]) for i in range(parts)]


def _best(cands: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the lowest objective; ``branch_gap`` = max F − min F."""
    objs = [c["objective"] for c in cands]
    i = int(np.argmin(objs))
    best = dict(cands[i])
    best["branch_gap"] = float(max(objs) - min(objs))
    return best


def warn_unconverged(curve: Curve, who: str) -> None:
    """Warn, with the λ values, when a point of ``curve`` did not converge (warm and
    cold starts both failed; for β = 0: not certified)."""
    bad = np.flatnonzero(~curve.converged)
    if bad.size:
        warnings.warn(
            f"{who}: {bad.size} point(s) did not converge (for beta = 0: not "
            f"certified) at lam = {[float(f'{v:.6g}') for v in curve.lam[bad]]}; "
            "raise max_iter or loosen tol",
            ConvergenceWarning,
            stacklevel=3,
        )
