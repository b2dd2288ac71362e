"""The global strategy of :func:`infotheory.semantic_rd` for ``β > 0`` and the IB.

For ``β > 0`` the problem of eq. (11) is not convex: eq. (17) (plain or accelerated)
ends at *a* stationary point of eqs. (12)–(15), which depends on the start. The
default answer is the lowest ``F`` over several starts, each solved to convergence by
the same solver (:func:`infotheory.pipeline.solve_start`, passed in as ``solve``; independent starts through
:func:`infotheory.parallel.map_jobs`):

1. the start the caller asked for (``init``/``seed``): the single-start answer of
   ``restarts=0`` is always a candidate, so the default is never worse than it;
2. the uniform encoder;
3. the best deterministic encoders found by a hard-assignment local search
   (:func:`infotheory.hard_search.hard_local_search`, single moves and pair swaps as in
   sequential IB) from structured starts — nearest-distortion assignment
   ``argmin_x̂ d_RD(x, x̂)``, label-MAP clustering, the hard versions of the first two
   solutions — and ``HARD_RANDOM`` seeded random assignments; the distinct local
   minima with the lowest ``F`` are refined by eq. (17) from a slightly smoothed
   version (``HARD_SMOOTHING`` mixed in, so that every symbol may come back);
4. further seeded random starts (``seed + 1``, ``seed + 2``, ...) when ``restarts``
   asks for more.

``restarts`` counts the candidates after the first; ``DEFAULT_RESTARTS`` (= uniform
plus three local-search minima) was chosen by measurement on random problems
(``benchmarks/bench_global.py``, ``docs/performance.md``). Nothing here proves global
optimality: the answer is the best of the starts tried, and the result says how many
starts reached it and how far apart their objectives were (``docs/theory.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from . import hard_search
from ._validation import unit_name
from .core import Callback
from .options import DEFAULT_RESTARTS, SolverOptions
from .parallel import map_jobs
from .problem import Point, random_encoder
from .result import SemanticRDResult

__all__ = ["DEFAULT_RESTARTS", "best_of_starts", "local_minima", "random_encoder"]

#: local-search minima refined by eq. (17) (at most; fewer when restarts is smaller)
HARD_REFINED = 3
#: random deterministic encoders the local search starts from (besides the structured ones)
HARD_RANDOM = 8
#: sweeps of the local search (each: n single moves and n(n-1)/2 swaps)
HARD_SWEEPS = 100
#: weight of the uniform encoder mixed into a deterministic start
HARD_SMOOTHING = 1e-3
#: two starts "reached the same point" when their F agree to this (relative, min 1 unit)
SAME_POINT_RTOL = 1e-9


def structured_assignments(p_y_given_x: np.ndarray, d: np.ndarray) -> list[np.ndarray]:
    """Deterministic encoders ``x ↦ x̂`` used as local-search starts: the
    nearest-distortion assignment and the label-MAP clustering (every source symbol
    with the same most likely label ``argmax_y p(y|x)`` goes to the reproduction
    symbol of least mean ``d_RD`` for that group)."""
    nearest = np.argmin(d, axis=1)
    label = np.argmax(p_y_given_x, axis=1)
    label_map = np.empty(d.shape[0], dtype=np.int64)
    for y in np.unique(label):
        g = label == y
        label_map[g] = int(np.argmin(d[g].sum(axis=0)))
    return [nearest.astype(np.int64), label_map]


def smoothed(assign: np.ndarray, k: int, eps: float = HARD_SMOOTHING) -> np.ndarray:
    """The deterministic encoder of ``assign`` mixed with ``eps`` of the uniform one."""
    enc = np.full((assign.size, k), eps / k)
    enc[np.arange(assign.size), assign] += 1.0 - eps
    return enc


def local_minima(
    px: np.ndarray,
    pyx: np.ndarray,
    d: np.ndarray,
    beta: float,
    lam: float,
    starts: list[np.ndarray],
    count: int,
) -> list[np.ndarray]:
    """The ``count`` distinct local minima of the hard-assignment search with the
    lowest ``F``, from every assignment in ``starts``."""
    dl, coef = d / lam, beta / lam
    k = d.shape[1]
    found: dict[bytes, tuple[float, np.ndarray]] = {}
    for st in starts:
        a = np.ascontiguousarray(st, dtype=np.int64).copy()
        hard_search.hard_local_search(px, pyx, dl, coef, a, HARD_SWEEPS)
        found.setdefault(a.tobytes(), (hard_search.hard_objective(px, pyx, dl, coef, a, k), a))
    ranked = sorted(found.values(), key=lambda t: t[0])
    return [a for _, a in ranked[:count]]


def best_of_starts(
    point: Point,
    enc0: np.ndarray,
    options: SolverOptions,
    callback: Callback | None,
    *,
    restarts: int,
    first: str,
    executor: Any,
    solve: Callable[..., SemanticRDResult],
    warmup: int,
) -> SemanticRDResult:
    """Solve ``point`` from ``enc0`` (named ``first``) and ``restarts`` more starts
    (module docstring) with ``solve`` (:func:`infotheory.pipeline.solve_start`, a top-level
    function, ``warmup`` plain steps first), through ``executor``
    (:func:`infotheory.parallel.map_jobs`); return the result of lowest ``F`` with
    ``starts``, ``starts_at_best``, ``objective_spread``, ``start`` and ``message``
    filled in. Nothing warns here: the caller warns when the returned start did not
    converge."""
    pb = point.problem
    px, pyx, d = pb.p_x, pb.p_y_given_x, pb.d_rd
    n, k = pb.n, pb.k
    seed = options.seed

    def jobs(encs: list[np.ndarray]) -> list[tuple[Any, ...]]:
        return [(point, e, options, callback, warmup) for e in encs]

    names, encs = [first], [enc0]
    if restarts >= 1:
        names.append("uniform")
        encs.append(np.full((n, k), 1.0 / k))
    results = map_jobs(executor, solve, jobs(encs))
    n_hard = min(HARD_REFINED, restarts - 1) if restarts >= 2 else 0
    encs = []
    if n_hard:
        rng = np.random.default_rng([seed, 10])
        starts = structured_assignments(pyx, d) + [np.argmax(r.encoder, axis=1) for r in results]
        starts += [rng.integers(0, k, n) for _ in range(HARD_RANDOM)]
        minima = local_minima(px, pyx, d, point.beta, point.lam, starts, n_hard)
        names += [f"local search {i + 1}" for i in range(len(minima))]
        encs = [smoothed(a, k) for a in minima]
    # the rest (and the local-search places that found no distinct minimum): random starts
    for s in range(seed + 1, seed + 1 + max(restarts - 1, 0) - len(encs)):
        encs.append(random_encoder(n, k, s))
        names.append(f"random (seed {s})")
    results += map_jobs(executor, solve, jobs(encs))

    objectives = np.array([r.objective for r in results])
    best = int(np.argmin(objectives))
    f_best = float(objectives[best])
    same = np.abs(objectives - f_best) <= SAME_POINT_RTOL * max(1.0, abs(f_best))
    spread = float(objectives.max() - f_best)
    res = results[best]
    note = (
        f"best of {len(results)} starts (from {names[best]}); {int(same.sum())} of them "
        f"reached it; F spread {spread:.3g} {unit_name(res.base)}"
    )
    if not same.all():
        note += ": several stationary points, the landscape is rugged"
    return replace(
        res,
        starts=len(results),
        starts_at_best=int(same.sum()),
        objective_spread=spread,
        start=names[best],
        message=f"{note}. {res.message}",
    )
