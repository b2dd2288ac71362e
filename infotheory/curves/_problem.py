"""One point of a curve: the validated problem with its solver options, the solve at
one (λ, β) from a given start, the row a point adds to a :class:`Curve`, the warm-start
perturbation and the effective number of symbols in use.

A :class:`CurveProblem` is a frozen, picklable value: the jobs of a sweep carry it to
whatever executor runs them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .._validation import check_positive
from ..options import SolverOptions
from ..problem import InitSpec, Problem
from ..solver import ConvergenceWarning, SemanticRDResult, solve_problem

__all__ = [
    "CurveProblem",
    "curve_options",
    "effective_symbols",
    "make_problem",
    "perturb",
    "point_row",
]


@dataclass(frozen=True, eq=False)
class CurveProblem:
    """A validated :class:`~infotheory.problem.Problem`, the β of its sweep and the
    :class:`~infotheory.options.SolverOptions` every point uses (one start per point:
    ``restarts=0``; the sweep chooses the starts). ``groups`` is the group id of each
    reproduction symbol (symbols with identical ``d_rd`` columns share one), for
    :func:`effective_symbols`."""

    problem: Problem
    beta: float
    options: SolverOptions
    groups: np.ndarray

    @property
    def base(self) -> float:
        """Logarithm base of the information quantities."""
        return self.options.base

    def solve(
        self,
        lam: float,
        init: InitSpec,
        *,
        seed: int = 0,
        beta: float | None = None,
        max_iter: int | None = None,
    ) -> SemanticRDResult:
        """One start of eq. (17) at ``(lam, beta)`` (default: the sweep's β) from
        ``init`` (``seed`` for ``"random"``; ``max_iter`` overrides the options').
        ConvergenceWarning is left to the caller, who reads ``converged``."""
        opts = replace(self.options, seed=seed)
        if max_iter is not None:
            opts = replace(opts, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return solve_problem(
                self.problem,
                beta=self.beta if beta is None else beta,
                lam=float(lam),
                init=init,
                options=opts,
            )


def curve_options(tol: float, max_iter: int, base: float, accelerate: bool | str) -> SolverOptions:
    """The solver options of every point of a curve (validated; errors name the
    argument): one start per point (``restarts=0``) and ``gap_tol = tol`` (β = 0:
    the certificate's width follows ``tol``, units of ``base``)."""
    return SolverOptions(
        tol=tol, gap_tol=tol, max_iter=max_iter, base=base, accelerate=accelerate, restarts=0
    )


def make_problem(
    p_x: object, p_y_given_x: object, d_rd: object, *, beta: float, options: SolverOptions
) -> CurveProblem:
    """Validate the arrays once (:meth:`Problem.from_arrays`, the one validator), for
    every point of a sweep at ``beta`` with ``options`` (:func:`curve_options`)."""
    problem = Problem.from_arrays(p_x, p_y_given_x, d_rd)
    beta = check_positive(beta, "beta", allow_zero=True)
    _, groups = np.unique(problem.d_rd.T, axis=0, return_inverse=True)
    return CurveProblem(problem, float(beta), options, np.asarray(groups).ravel())


def effective_symbols(
    result: SemanticRDResult,
    groups: np.ndarray | None = None,
    *,
    use_threshold: float = 1e-6,
    merge_tol: float = 1e-4,
) -> int:
    """Effective number of reproduction symbols in use.

    A symbol x̂ is in use when ``p(x̂) > use_threshold``. Symbols whose ``d_RD``
    columns are identical (same ``groups`` id — all of them for the IB, where
    ``d_RD ≡ 0``) are merged when their ``p(y|x̂)`` differ by at most ``merge_tol``
    (max-norm): they are copies of one cluster. A change of this count along a
    sweep is a phase transition.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    q = np.asarray(result.p_xhat)
    used = np.flatnonzero(q > use_threshold)
    if groups is None:
        groups = np.zeros(q.shape[0], dtype=np.int64)
    r = np.asarray(result.p_y_given_xhat)
    gu = groups[used]
    count = 0
    for g in np.unique(gu):
        members = used[gu == g]
        if members.size == 1:
            count += 1
            continue
        rows = r[members]
        # symbols within merge_tol (max-norm) of each other are one cluster
        close = np.max(np.abs(rows[:, None, :] - rows[None, :, :]), axis=2) <= merge_tol
        count += connected_components(csr_matrix(close), directed=False)[0]
    return int(count)


def point_row(
    res: SemanticRDResult, problem: CurveProblem, beta: float | None = None
) -> dict[str, Any]:
    """The row (keys :data:`~infotheory.curves.result.COLUMNS`) a solved point adds."""
    lb = res.rate_lower_bound
    return dict(
        lam=float(res.lam),
        beta=float(res.beta if beta is None else beta),
        rate=float(res.rate),
        distortion_rd=float(res.distortion_rd),
        distortion_ib=float(res.distortion_ib),
        distortion=float(res.distortion),
        relevance=float(res.relevance),
        objective=float(res.objective),
        rate_lower_bound=float(lb) if lb is not None else float("nan"),
        iterations=int(res.iterations),
        converged=bool(res.converged),
        n_effective=effective_symbols(res, problem.groups),
        branch_gap=0.0,
    )


def perturb(enc: np.ndarray, eps: float, rng: np.random.Generator) -> np.ndarray:
    """``(1-eps)·enc + eps·R`` with R a random (Dirichlet(1)) encoder: keeps every
    row a distribution, gives every symbol positive mass, breaks symmetries."""
    if eps <= 0:
        return enc
    r = rng.exponential(size=enc.shape)
    r /= r.sum(axis=1, keepdims=True)
    out = (1.0 - eps) * enc + eps * r
    out /= out.sum(axis=1, keepdims=True)
    return out
