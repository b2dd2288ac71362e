"""Theoretical semantic rate-distortion curves: sweeps, branches, transitions, targets.

Every point of a curve is one call of :func:`infotheory.semantic_rd` (eq. 17); this
module only decides *where* to solve and *from which start*, and collects the
results into a :class:`Curve`. Information quantities are in bits by default
(``base=2``). λ is the temperature of ``F = I(X;X̂) + D_S/λ`` (eq. 11, rate in nats
inside), so along a β = 0 curve the slope is ``dR/dD = -1/λ`` (nats per unit of
``d_RD``); ``D_S = D_RD + β·D_IB`` (eq. 6) with ``D_IB`` in nats (the solver's
convention).

Strategy
--------
- **Warm starts.** Each point starts from its neighbour's encoder, mixed with a small
  seeded random perturbation (``perturbation``) so that reproduction symbols out of
  use can come back and symmetric fixed points (the trivial IB solution) can break.
- **Direction.** β = 0 is convex (any start reaches the optimum): the default sweep
  goes from high rate to low rate (λ increasing), where symbols only leave.
  For β > 0 and the IB (not convex) the default is deterministic annealing: from
  the trivial solution at the largest λ down to the smallest (low rate → high
  rate), the continuation that follows the branch born at each phase transition.
  ``direction="both"`` runs both sweeps and keeps, per point, the branch with the
  lowest objective F, recording the disagreement in ``branch_gap``; ``restarts``
  adds seeded cold starts per point, likewise.
- **Transitions.** Where the effective number of reproduction symbols
  (:func:`effective_symbols`) changes between neighbours, the critical λ (or β) is
  bisected to a stated relative tolerance (:func:`locate_transition`).
- **Targets.** :func:`solve_for_rate` / :func:`solve_for_distortion` root-find on
  ``log λ`` (Brent), warm-starting every evaluation from the nearest solved point.
- **Parallelism.** Cold starts and restarts are independent; at β = 0 a warm
  sweep splits into ``n_jobs`` independent warm chains. They run in worker
  processes (``n_jobs > 1``). See ``docs/performance.md`` for when it pays.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validation import as_float_array, check_base, check_int, check_positive, unit_name
from .measures import _entropy_nats
from .solver import ConvergenceWarning, SemanticRDResult, semantic_rd
from .sources import check_source_arrays

__all__ = [
    "Curve",
    "Transition",
    "TargetResult",
    "semantic_rd_curve",
    "ib_curve",
    "beta_family",
    "curve_family",
    "locate_transition",
    "solve_for_rate",
    "solve_for_distortion",
    "effective_symbols",
    "default_lam_range",
    "lower_convex_envelope",
]

#: the per-point columns of a :class:`Curve`, in CSV order
COLUMNS: tuple[str, ...] = (
    "lam",
    "beta",
    "rate",
    "distortion_rd",
    "distortion_ib",
    "distortion",
    "relevance",
    "objective",
    "rate_lower_bound",
    "iterations",
    "converged",
    "n_effective",
    "branch_gap",
)
_INT_COLUMNS = {"iterations", "n_effective"}
_BOOL_COLUMNS = {"converged"}


# ---------------------------------------------------------------------------
# result containers
# ---------------------------------------------------------------------------


def csv_sidecar(path: str | os.PathLike[str]) -> str:
    """The JSON file beside a curve CSV that holds its metadata: ``curve.csv`` →
    ``curve.meta.json``."""
    root, ext = os.path.splitext(os.fspath(path))
    return (root if ext.lower() == ".csv" else os.fspath(path)) + ".meta.json"


@dataclass(frozen=True)
class Transition:
    """A located phase transition of a sweep.

    ``lower``/``upper`` bracket the critical value of ``parameter`` ("lam" or "beta")
    with ``upper - lower <= rtol * critical``; ``critical`` is their geometric
    mean. ``n_before``/``n_after`` are the effective numbers of reproduction
    symbols on the low-rate and high-rate sides.
    """

    parameter: str
    lower: float
    upper: float
    critical: float
    rtol: float
    n_before: int
    n_after: int
    probes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(
            parameter=self.parameter,
            lower=self.lower,
            upper=self.upper,
            critical=self.critical,
            rtol=self.rtol,
            n_before=self.n_before,
            n_after=self.n_after,
            probes=self.probes,
        )


@dataclass
class Curve:
    """A sampled semantic rate-distortion curve (or a β family).

    Per-point arrays (all of equal length, ordered along the sweep: λ decreasing
    for λ sweeps — rate increasing —, β increasing for β families):

    - ``lam``, ``beta``: the trade-off parameters of the point;
    - ``rate`` = I(X;X̂), ``relevance`` = I(X̂;Y), ``distortion_ib`` = D_IB
      (units of ``base``; bits by default) — eqs. (7), (3);
    - ``distortion_rd`` = D_RD (units of d_RD, eq. 4); ``distortion`` = D_S
      (eq. 6, D_IB in nats inside); ``objective`` = F (units of ``base``);
    - ``rate_lower_bound``: Blahut's lower bound on R(D) at the point (β = 0;
      NaN otherwise) — with ``rate`` it brackets R(D): a certified band;
    - ``iterations``, ``converged``: solver statistics of the kept solution;
    - ``n_effective``: effective number of reproduction symbols in use;
    - ``branch_gap``: objective of the worst minus the best branch tried at the
      point (0 when only one was tried; units of ``base``).

    ``total_iterations`` counts every solver iteration spent on the curve,
    including discarded branches and restarts; ``transitions`` lists the
    located phase transitions; ``meta`` describes how the curve was computed.
    """

    lam: np.ndarray
    beta: np.ndarray
    rate: np.ndarray
    distortion_rd: np.ndarray
    distortion_ib: np.ndarray
    distortion: np.ndarray
    relevance: np.ndarray
    objective: np.ndarray
    rate_lower_bound: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    n_effective: np.ndarray
    branch_gap: np.ndarray
    base: float = 2.0
    parameter: str = "lam"
    total_iterations: int = 0
    wall_time: float = 0.0
    transitions: list[Transition] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.lam.shape[0])

    # -- construction -------------------------------------------------------------

    @classmethod
    def _from_points(cls, points: Sequence[dict[str, Any]], **kw: Any) -> Curve:
        cols = {}
        for c in COLUMNS:
            dtype = np.int64 if c in _INT_COLUMNS else bool if c in _BOOL_COLUMNS else np.float64
            cols[c] = np.array([p[c] for p in points], dtype=dtype)
        return cls(**cols, **kw)

    # -- derived quantities --------------------------------------------------------

    def disagreements(self, tol: float = 1e-9) -> np.ndarray:
        """Indices of points where the branches tried differ in F by more than ``tol``."""
        return np.flatnonzero(self.branch_gap > tol)

    def lower_convex_envelope(self) -> tuple[np.ndarray, np.ndarray]:
        """The lower convex envelope of the points ``(distortion, rate)``.

        At β = 0 this is the estimate of the convex R(D) (eq. 11 with β = 0)."""
        return lower_convex_envelope(self.distortion, self.rate)

    # -- export --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: per-point lists plus metadata (NaN written as None)."""

        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            return v

        out: dict[str, Any] = {
            "base": self.base,
            "parameter": self.parameter,
            "total_iterations": int(self.total_iterations),
            "wall_time": float(self.wall_time),
            "transitions": [t.to_dict() for t in self.transitions],
            "meta": self.meta,
            "points": {c: [clean(v) for v in getattr(self, c).tolist()] for c in COLUMNS},
        }
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Curve:
        """Inverse of :meth:`to_dict`."""
        try:
            pts = d["points"]
            cols = {}
            for c in COLUMNS:
                vals = [np.nan if v is None else v for v in pts[c]]
                dtype = (
                    np.int64 if c in _INT_COLUMNS else bool if c in _BOOL_COLUMNS else np.float64
                )
                cols[c] = np.array(vals, dtype=dtype)
            return cls(
                **cols,
                base=float(d["base"]),
                parameter=str(d["parameter"]),
                total_iterations=int(d.get("total_iterations", 0)),
                wall_time=float(d.get("wall_time", 0.0)),
                transitions=[Transition(**t) for t in d.get("transitions", [])],
                meta=dict(d.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a Curve dictionary: {exc}") from None

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the curve (points and metadata) as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Curve:
        """Read a curve written by :meth:`to_json`."""
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_dict(d)

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write one row per point (columns :data:`COLUMNS`, full precision) as plain
        CSV (``pandas.read_csv(path)`` reads it without options), and the metadata
        (provenance, transitions) as JSON to the sidecar :func:`csv_sidecar` ``(path)``,
        so that :meth:`from_csv` restores the curve exactly."""
        meta = self.to_dict()
        del meta["points"]
        with open(csv_sidecar(path), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            for i in range(len(self)):
                row = []
                for c in COLUMNS:
                    v = getattr(self, c)[i]
                    row.append(
                        str(bool(v))
                        if c in _BOOL_COLUMNS
                        else str(int(v))
                        if c in _INT_COLUMNS
                        else repr(float(v))
                    )
                w.writerow(row)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> Curve:
        """Read a curve written by :meth:`to_csv` (metadata from its sidecar when
        present; a first ``#`` line of JSON, the format before issue 10, is read too)."""
        meta: dict[str, Any] = {"base": 2.0, "parameter": "lam"}
        side = csv_sidecar(path)
        if os.path.isfile(side):
            with open(side, encoding="utf-8") as f:
                meta = json.load(f)
        with open(path, encoding="utf-8", newline="") as f:
            first = f.readline()
            if first.startswith("#"):
                meta = json.loads(first[1:])
            else:
                f.seek(0)
            rows = list(csv.DictReader(f))
        points = {c: [] for c in COLUMNS}
        try:
            for r in rows:
                for c in COLUMNS:
                    v = r[c]
                    points[c].append(
                        v == "True"
                        if c in _BOOL_COLUMNS
                        else int(v)
                        if c in _INT_COLUMNS
                        else float(v)
                    )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a curve CSV ({exc})") from None
        meta["points"] = points
        return cls.from_dict(meta)

    def table(self, *, max_rows: int | None = None) -> str:
        """A fixed-width text table of the points (units in the header). For an IB
        curve (:func:`ib_curve`) the second column is ``β_IB = 1/λ`` (β is 1 there)."""
        unit = unit_name(self.base)
        ib = str(self.meta.get("kind", "")).startswith("information bottleneck")
        second = 1.0 / self.lam if ib else self.beta
        head = (
            f"{'lambda':>11} {'beta_IB' if ib else 'beta':>8} {'rate':>10} {'D_RD':>11} "
            f"{'D_IB':>10} {'I(Xh;Y)':>10} {'bound':>10} {'n_eff':>5} {'iters':>6}"
        )
        lines = [f"# rate, D_IB, I(Xh;Y), bound in {unit}; D_RD in units of d_rd", head]
        idx = range(len(self))
        if max_rows is not None and len(self) > max_rows:
            idx = np.unique(np.linspace(0, len(self) - 1, max_rows).round().astype(int))
        for i in idx:
            lb = self.rate_lower_bound[i]
            lines.append(
                f"{self.lam[i]:11.5g} {second[i]:8.4g} {self.rate[i]:10.6f} "
                f"{self.distortion_rd[i]:11.6g} {self.distortion_ib[i]:10.6f} "
                f"{self.relevance[i]:10.6f} {('%10.6f' % lb) if np.isfinite(lb) else '         -'} "
                f"{self.n_effective[i]:5d} {self.iterations[i]:6d}"
            )
        return "\n".join(lines)

    def plot(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        closed_form: Any = None,
        title: str | None = None,
    ) -> Any:
        """Plot rate against distortion (see :func:`infotheory.plotting.plot_curve`).

        Returns the matplotlib ``Figure``; writes a PNG when ``path`` is given."""
        from .plotting import plot_curve, save_figure

        fig = plot_curve(self, closed_form=closed_form, title=title)
        if path is not None:
            save_figure(fig, path)
        return fig


@dataclass(frozen=True)
class TargetResult:
    """Result of :func:`solve_for_rate` / :func:`solve_for_distortion`.

    ``lam`` is the temperature found, ``result`` the solver result there,
    ``value`` the achieved rate (units of ``base``) or distortion, ``target`` the
    requested one, ``achieved`` whether ``|value - target| <= atol``,
    ``evaluations`` the number of solver calls and ``total_iterations`` their
    summed iterations.
    """

    lam: float
    result: SemanticRDResult
    target: float
    value: float
    atol: float
    achieved: bool
    evaluations: int
    total_iterations: int


# ---------------------------------------------------------------------------
# the problem wrapper (picklable, for worker processes)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    p_x: np.ndarray
    p_y_given_x: np.ndarray
    d_rd: np.ndarray
    beta: float
    base: float
    tol: float | None
    max_iter: int | None
    groups: np.ndarray  # group id of each reproduction symbol (identical d_rd columns)
    accelerate: bool | str = "auto"

    def solve(
        self,
        lam: float,
        init: Any,
        *,
        seed: int = 0,
        beta: float | None = None,
        max_iter: int | None = None,
    ) -> SemanticRDResult:
        opts: dict[str, Any] = {}
        if self.tol is not None:
            opts["tol"] = self.tol
            if (self.beta if beta is None else beta) == 0:
                opts["gap_tol"] = self.tol  # β = 0: the certificate tolerance follows tol
        mi = max_iter if max_iter is not None else self.max_iter
        if mi is not None:
            opts["max_iter"] = mi
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # one start per solve: the curve's own strategy (continuation, restarts)
            # chooses the starts
            return semantic_rd(
                self.p_x,
                self.p_y_given_x,
                self.d_rd,
                beta=self.beta if beta is None else beta,
                lam=float(lam),
                init=init,
                seed=int(seed),
                base=self.base,
                accelerate=self.accelerate,
                restarts=0,
                **opts,
            )


def _make_problem(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    beta: float,
    base: float,
    tol: float | None,
    max_iter: int | None,
    accelerate: bool | str = "auto",
) -> _Problem:
    px, py, d = check_source_arrays(p_x, p_y_given_x, d_rd)
    beta = check_positive(beta, "beta", allow_zero=True)
    check_base(base)
    if tol is not None:
        tol = check_positive(tol, "tol")
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter", minimum=1)
    if accelerate not in ("auto", True, False):
        raise ValueError(f"accelerate must be 'auto', True or False, got {accelerate!r}")
    _, groups = np.unique(d.T, axis=0, return_inverse=True)
    return _Problem(
        px, py, d, float(beta), float(base), tol, max_iter, np.asarray(groups).ravel(), accelerate
    )


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
    q = np.asarray(result.p_xhat)
    used = np.flatnonzero(q > use_threshold)
    if groups is None:
        groups = np.zeros(q.shape[0], dtype=np.int64)
    r = np.asarray(result.p_y_given_xhat)
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

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


def _point(res: SemanticRDResult, problem: _Problem, beta: float | None = None) -> dict[str, Any]:
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


def _perturb(enc: np.ndarray, eps: float, rng: np.random.Generator) -> np.ndarray:
    """``(1-eps)·enc + eps·R`` with R a random (Dirichlet(1)) encoder: keeps every
    row a distribution, gives every symbol positive mass, breaks symmetries."""
    if eps <= 0:
        return enc
    r = rng.exponential(size=enc.shape)
    r /= r.sum(axis=1, keepdims=True)
    out = (1.0 - eps) * enc + eps * r
    out /= out.sum(axis=1, keepdims=True)
    return out


def _run_chain(
    problem: _Problem,
    lams: Sequence[float],
    init: Any,
    eps: float,
    seed: int,
    return_encoders: bool = False,
) -> tuple[list[dict[str, Any]], list[np.ndarray], int]:
    """Warm-started chain over ``lams`` in the given order (first point from ``init``).

    The neighbour's encoder is handed on as it is (plus the perturbation): no symbol is
    dropped. (Dropping symbols below 1e-6 mass was tried here and was the cause of
    uncertified β = 0 points: on a discretised Gaussian the tails legitimately use
    symbols of mass ~1e-7, and the accelerated phase, started without them, stalled
    far from Blahut's certificate — ``docs/curves.md``.) A point that does not converge
    from its warm start (for β = 0: is not certified) is solved again from a cold
    seeded start, and the better result is kept (converged first, then lower F)."""
    rng = np.random.default_rng(seed + 7919)
    points, encs, total = [], [], 0
    start: Any = init
    for lam in lams:
        res = problem.solve(lam, start, seed=seed)
        total += res.iterations
        if not res.converged and not isinstance(start, str):
            cold = problem.solve(lam, "random", seed=seed)
            total += cold.iterations
            if (cold.converged, -cold.objective) > (res.converged, -res.objective):
                res = cold
        points.append(_point(res, problem))
        if return_encoders:
            encs.append(res.encoder)
        start = _perturb(res.encoder, eps, rng)
    return points, encs, total


def _run_cold(
    problem: _Problem, lams: Sequence[float], seeds: Sequence[int]
) -> tuple[list[dict[str, Any]], int]:
    """Independent cold (random) starts, one per ``(lam, seed)`` pair."""
    points, total = [], 0
    for lam, s in zip(lams, seeds):
        res = problem.solve(lam, "random", seed=s)
        total += res.iterations
        points.append(_point(res, problem))
    return points, total


def _worker_init() -> None:
    """Worker processes: one thread each (numba and BLAS), no oversubscription."""
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # pragma: no cover - numba always present, but be safe
        pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _executor(n_jobs: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    return ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init
    )


def _check_n_jobs(n_jobs: int) -> int:
    if n_jobs == -1:
        return os.cpu_count() or 1
    return check_int(n_jobs, "n_jobs", minimum=1)


def _split(seq: Sequence[Any], parts: int) -> list[list[Any]]:
    parts = max(1, min(parts, len(seq)))
    bounds = np.linspace(0, len(seq), parts + 1).round().astype(int)
    return [list(seq[bounds[i] : bounds[i + 1]]) for i in range(parts)]


def _progress(total: int, show: bool | None, desc: str) -> Any:
    """A tqdm bar over ``total`` points. ``show=None``: on a terminal (stderr), and
    only once the work has run for ``PROGRESS_DELAY`` seconds; True: always, at once;
    False: never."""
    from tqdm.auto import tqdm

    if show is None:
        return tqdm(
            total=total,
            disable=not sys.stderr.isatty(),
            desc=desc,
            unit="pt",
            leave=False,
            delay=PROGRESS_DELAY,
        )
    return tqdm(total=total, disable=not show, desc=desc, unit="pt", leave=False)


#: seconds after which the automatic progress bar (``progress=None``) appears
PROGRESS_DELAY = 2.0


# ---------------------------------------------------------------------------
# λ range
# ---------------------------------------------------------------------------


def _second_eigenvalue(p_x: np.ndarray, p_y_given_x: np.ndarray) -> float:
    """Largest non-trivial eigenvalue of ``M[x,x'] = Σ_y p(y|x) p(x'|y)`` (the squared
    maximal correlation of X and Y), computed on the m×m matrix ``Σ_x p(x|y) p(y'|x)``
    which has the same non-zero spectrum."""
    p_y = p_x @ p_y_given_x
    alive = p_y > 0
    p_x_given_y = (p_x[:, None] * p_y_given_x[:, alive]) / p_y[alive][None, :]  # n×m'
    small = p_x_given_y.T @ p_y_given_x[:, alive]  # m'×m'
    ev = np.sort(np.real(np.linalg.eigvals(small)))[::-1]
    return float(ev[1]) if ev.size > 1 else 0.0


def default_lam_range(
    p_x: object, p_y_given_x: object, d_rd: object, *, beta: float
) -> tuple[float, float]:
    """A λ range ``(lam_min, lam_max)`` spanning a curve from near-full rate to near 0.

    ``lam_max``: at β = 0, where the trivial (rate-0) solution becomes optimal —
    Blahut's condition ``max_x̂ Σ_x p(x) exp(-(d(x,x̂) - d(x,x̂*))/λ) ≤ 1`` with x̂*
    the best single reproduction —, times 1.5 (capped at 8× the mean distortion
    spread when R reaches 0 only as λ → ∞, e.g. a symmetric binary source); for
    β > 0 the IB part adds ``β·ρ²`` with ρ² the squared maximal correlation of X
    and Y (the IB trivial solution is unstable below ``λ = β ρ²``).
    ``lam_min``: a tenth of the (p-weighted) median over source symbols of the
    gap between their best and second-best reproduction distortion (a nearly
    deterministic encoder); for β > 0 at most ``β ρ² / 50``.
    """
    px, py, d = check_source_arrays(p_x, p_y_given_x, d_rd)
    beta = check_positive(beta, "beta", allow_zero=True)
    dmin = d.min(axis=1, keepdims=True)
    spread = float(np.dot(px, d.mean(axis=1) - dmin[:, 0]))
    hi_rd = lo_rd = 0.0
    if spread > 0:
        cap = 8.0 * spread
        star = int(np.argmin(px @ d))
        delta = d - d[:, [star]]

        def unstable(lam: float) -> bool:
            z = -delta / lam
            zmax = z.max(axis=0)
            c = zmax + np.log(np.maximum(px @ np.exp(z - zmax), 1e-300))
            return bool(np.max(c) > 1e-12)

        if unstable(cap):
            hi_rd = cap
        else:
            lo, hi = cap * 1e-9, cap
            for _ in range(60):
                mid = math.sqrt(lo * hi)
                if unstable(mid):
                    lo = mid
                else:
                    hi = mid
            hi_rd = 1.5 * hi
        srt = np.sort(d, axis=1)
        gaps = np.diff(srt, axis=1)
        big = gaps > 1e-12 * max(1.0, float(d.max()))
        # per source symbol, the first positive gap between its best reproductions
        first = np.where(
            big.any(axis=1),
            np.take_along_axis(
                np.where(big, gaps, np.inf), np.argmax(big, axis=1)[:, None], axis=1
            )[:, 0],
            np.nan,
        )
        ok = np.isfinite(first) & (px > 0)
        if ok.any():
            o = np.argsort(first[ok])
            cum = np.cumsum(px[ok][o]) / px[ok].sum()
            lo_rd = float(first[ok][o][np.searchsorted(cum, 0.5)]) / 10.0  # p-weighted median / 10
        else:
            lo_rd = hi_rd / 1e3
    if beta > 0:
        rho2 = _second_eigenvalue(px, py)
        ib = beta * rho2
        if ib > 0:
            hi = 1.5 * (hi_rd + ib)
            lo = min(lo_rd, ib / 50.0) if lo_rd > 0 else ib / 50.0
            return lo, hi
    if hi_rd <= 0:
        raise ValueError(
            "d_rd is constant in x̂ and beta = 0 (or Y independent of X): "
            "the curve is a single point; give lams explicitly"
        )
    return lo_rd, hi_rd


def _resolve_lams(
    problem: _Problem, lams: object | None, n_points: int, lam_range: tuple[float, float] | None
) -> np.ndarray:
    if lams is not None:
        arr = as_float_array(lams, "lams").ravel()  # finite, non-empty, real
        if np.any(arr <= 0):
            raise ValueError(f"lams must be > 0, got {float(arr.min()):g}")
        if np.unique(arr).size != arr.size:
            raise ValueError("lams contains duplicates")
        return np.sort(arr)[::-1]
    n = check_int(n_points, "n_points", minimum=2)
    if lam_range is None:
        lo, hi = default_lam_range(
            problem.p_x, problem.p_y_given_x, problem.d_rd, beta=problem.beta
        )
    else:
        try:
            lo, hi = (float(v) for v in lam_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"lam_range must be a pair (lam_min, lam_max), got {lam_range!r}"
            ) from None
        if not (0 < lo < hi and math.isfinite(hi)):
            raise ValueError(
                f"lam_range must satisfy 0 < lam_min < lam_max < inf, got {lam_range!r}"
            )
    return np.geomspace(hi, lo, n)


# ---------------------------------------------------------------------------
# the curve
# ---------------------------------------------------------------------------


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
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    n_jobs: int = 1,
    progress: bool | None = None,
    accelerate: bool | str = "auto",
) -> Curve:
    """Trace the semantic rate-distortion curve of eq. (11) over λ at fixed β.

    Each point minimises ``F = I(X;X̂) + (D_RD + β·D_IB)/λ`` with
    :func:`infotheory.semantic_rd` (eq. 17).

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
    tol, max_iter : optional
        Passed to the solver (its defaults when None); at β = 0 ``tol`` is also
        the solver's ``gap_tol`` (Blahut certificate, units of ``base``).
    base : float
        Logarithm base of the information quantities (2: bits).
    n_jobs : int
        Worker processes for cold starts, restarts, the two directions of "both",
        and (β = 0 only) independent warm chains; -1: one per CPU.
    progress : bool or None
        Show a tqdm progress bar; None (default): on a terminal, once the sweep has
        run for ``PROGRESS_DELAY`` (2) seconds.
    accelerate : {"auto", True, False}
        Passed to the solver (accelerated after plain warm-up steps: the SQP
        method at β = 0, damped Newton at β > 0; False: plain eq. (17) iteration only).

    Returns
    -------
    Curve
    """
    t0 = time.perf_counter()
    problem = _make_problem(p_x, p_y_given_x, d_rd, beta, base, tol, max_iter, accelerate)
    lam_arr = _resolve_lams(problem, lams, n_points, lam_range)
    if direction not in ("auto", "up", "down", "both"):
        raise ValueError(f"direction must be 'auto', 'up', 'down' or 'both', got {direction!r}")
    restarts = check_int(restarts, "restarts", minimum=0)
    eps = (0.0 if problem.beta == 0 else 1e-3) if perturbation is None else float(perturbation)
    if not 0 <= eps < 1:
        raise ValueError(f"perturbation must lie in [0, 1), got {perturbation!r}")
    seed = check_int(seed, "seed", minimum=0)
    n_jobs = _check_n_jobs(n_jobs)
    transition_rtol = check_positive(transition_rtol, "transition_rtol")
    if direction == "auto":
        direction = "down" if problem.beta == 0 else "up"
    n, k = problem.d_rd.shape
    bar = _progress(
        len(lam_arr) * (1 + restarts) * (2 if direction == "both" and warm else 1),
        progress,
        "semantic R-D curve",
    )
    total = 0
    pool = _executor(n_jobs) if n_jobs > 1 else None
    try:
        if not warm:
            chunks = _split(list(range(len(lam_arr))), n_jobs)
            args = [(problem, [lam_arr[i] for i in ch], [seed] * len(ch)) for ch in chunks]
            outs = _map(pool, _run_cold, args, bar, [len(ch) for ch in chunks])
            points = [p for pts, _ in outs for p in pts]
            total += sum(t for _, t in outs)
        else:
            up = list(lam_arr)  # λ decreasing: low rate -> high rate
            tasks, sizes = [], []
            if direction in ("up", "both"):
                tasks.append((problem, up, "random", eps, seed))
                sizes.append(len(up))
            if direction in ("down", "both"):
                if direction == "down" and problem.beta == 0 and n_jobs > 1:
                    for ch in _split(up[::-1], n_jobs):
                        tasks.append((problem, ch, "random", eps, seed))
                        sizes.append(len(ch))
                else:
                    tasks.append((problem, up[::-1], "random", eps, seed))
                    sizes.append(len(up))
            outs = _map(pool, _run_chain, tasks, bar, sizes)
            total += sum(t for _, _, t in outs)
            branches: list[dict[float, dict[str, Any]]] = []
            if direction == "both":
                branches = [
                    {p["lam"]: p for p in outs[0][0]},
                    {p["lam"]: p for o in outs[1:] for p in o[0]},
                ]
            else:
                branches = [{p["lam"]: p for o in outs for p in o[0]}]
            points = [_best([b[float(lam)] for b in branches]) for lam in lam_arr]
        if restarts:
            pairs = [(float(lam), seed + r) for lam in lam_arr for r in range(1, restarts + 1)]
            chunks = _split(pairs, n_jobs)
            args = [(problem, [p[0] for p in ch], [p[1] for p in ch]) for ch in chunks]
            outs = _map(pool, _run_cold, args, bar, [len(ch) for ch in chunks])
            total += sum(t for _, t in outs)
            extra: dict[float, list[dict[str, Any]]] = {}
            for pts, _ in outs:
                for p in pts:
                    extra.setdefault(p["lam"], []).append(p)
            points = [_best([p] + extra.get(p["lam"], [])) for p in points]
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown()
    curve = Curve._from_points(
        points,
        base=problem.base,
        parameter="lam",
        total_iterations=total,
        meta=dict(
            kind="lambda sweep",
            beta=problem.beta,
            warm=warm,
            direction=direction,
            restarts=restarts,
            perturbation=eps,
            seed=seed,
            n_jobs=n_jobs,
            accelerate=accelerate,
            shape=[int(n), int(problem.p_y_given_x.shape[1]), int(k)],
        ),
    )
    if locate_transitions:
        curve.transitions = _locate_all(problem, curve, transition_rtol, eps, seed)
        curve.total_iterations += int(curve.meta.pop("_transition_iterations", 0))
    curve.wall_time = time.perf_counter() - t0
    _warn_unconverged(curve, "semantic_rd_curve")
    return curve


def _warn_unconverged(curve: Curve, who: str) -> None:
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


def _best(cands: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the lowest objective; ``branch_gap`` = max F − min F."""
    objs = [c["objective"] for c in cands]
    i = int(np.argmin(objs))
    best = dict(cands[i])
    best["branch_gap"] = (
        float(max(objs) - min(objs)) if len(cands) > 1 else float(best.get("branch_gap", 0.0))
    )
    return best


def _map(
    pool: ProcessPoolExecutor | None, fn: Any, args: list[tuple], bar: Any, sizes: list[int]
) -> list[Any]:
    """Run ``fn(*a)`` for every ``a`` (in worker processes when ``pool``), in order."""
    if pool is None:
        outs = []
        for a, s in zip(args, sizes):
            outs.append(fn(*a))
            bar.update(s)
        return outs
    futs = [pool.submit(fn, *a) for a in args]
    outs = []
    for f, s in zip(futs, sizes):
        outs.append(f.result())
        bar.update(s)
    return outs


# ---------------------------------------------------------------------------
# phase transitions
# ---------------------------------------------------------------------------


def _classify(
    problem: _Problem,
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
    res = problem.solve(lam, _perturb(start, eps, rng), max_iter=probe_iter)
    its = res.iterations
    if res.converged:
        return effective_symbols(res, problem.groups), res.encoder, its
    res2 = problem.solve(lam, res.encoder, max_iter=probe_iter)
    its += res2.iterations
    if res2.converged:
        return effective_symbols(res2, problem.groups), res2.encoder, its
    return (None if res2.rate > res.rate else -1), res2.encoder, its


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
    probe_iter: int = 4_000,
    seed: int = 0,
    tol: float | None = None,
    base: float = 2,
) -> Transition:
    """Bisect the critical λ between a low-rate and a high-rate state.

    ``lam_low_rate > lam_high_rate`` must bracket a change of the effective number
    of reproduction symbols (:func:`effective_symbols`), e.g. the birth of the
    first non-trivial IB solution at ``λ_c = β·ρ²(X;Y)`` (``β_IB,c = 1/ρ²``, ρ²
    the squared maximal correlation). Each probe anneals from the low-rate side's
    solution (perturbed), as deterministic annealing would. Stops when
    ``upper - lower ≤ rtol · critical``.
    """
    problem = _make_problem(p_x, p_y_given_x, d_rd, beta, base, tol, None)
    a = check_positive(lam_low_rate, "lam_low_rate")
    b = check_positive(lam_high_rate, "lam_high_rate")
    if not a > b:
        raise ValueError(f"lam_low_rate must be > lam_high_rate, got {a!r} <= {b!r}")
    rtol = check_positive(rtol, "rtol")
    probe_iter = check_int(probe_iter, "probe_iter", minimum=10)
    seed = check_int(seed, "seed", minimum=0)
    ra = problem.solve(a, "random", seed=seed)
    rb = problem.solve(
        b, _perturb(ra.encoder, perturbation, np.random.default_rng(seed)), seed=seed
    )
    na, nb = effective_symbols(ra, problem.groups), effective_symbols(rb, problem.groups)
    if na == nb:
        raise ValueError(
            f"no change of the effective number of symbols between lam={a:g} "
            f"and lam={b:g} (both {na}); widen the bracket"
        )
    t, _ = _bisect(problem, a, ra.encoder, na, b, nb, rtol, perturbation, seed, probe_iter)
    return t


def _bisect(
    problem: _Problem,
    a: float,
    enc_a: np.ndarray,
    na: int,
    b: float,
    nb: int,
    rtol: float,
    eps: float,
    seed: int,
    probe_iter: int,
) -> tuple[Transition, int]:
    rng = np.random.default_rng(seed + 104729)
    probes = its = 0
    while (a - b) > rtol * math.sqrt(a * b):
        mid = math.sqrt(a * b)
        state, enc, it = _classify(problem, mid, enc_a, eps, rng, probe_iter)
        probes += 1
        its += it
        if state == na or state == -1:
            a, enc_a = mid, enc
        else:
            b = mid
    return Transition("lam", b, a, math.sqrt(a * b), rtol, na, nb, probes), its


def _locate_all(
    problem: _Problem, curve: Curve, rtol: float, eps: float, seed: int
) -> list[Transition]:
    out: list[Transition] = []
    its = 0
    ne = curve.n_effective
    for i in range(len(curve) - 1):
        if ne[i] != ne[i + 1]:
            a, b = float(curve.lam[i]), float(curve.lam[i + 1])
            ra = problem.solve(a, "random", seed=seed) if problem.beta == 0 else None
            if ra is None:  # anneal to a from the first point of the curve
                ra = problem.solve(float(curve.lam[0]), "random", seed=seed)
                for lam in curve.lam[1 : i + 1]:
                    ra = problem.solve(
                        float(lam), _perturb(ra.encoder, eps, np.random.default_rng(seed))
                    )
            t, it = _bisect(
                problem, a, ra.encoder, int(ne[i]), b, int(ne[i + 1]), rtol, eps, seed, 4_000
            )
            its += it + ra.iterations
            out.append(t)
    curve.meta["_transition_iterations"] = its
    return out


# ---------------------------------------------------------------------------
# IB, families
# ---------------------------------------------------------------------------


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
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    n_jobs: int = 1,
    progress: bool | None = None,
) -> Curve:
    """The information-bottleneck curve (information plane) by annealing in β_IB.

    The semantic problem with ``d_RD ≡ 0`` (``n_clusters`` reproduction symbols),
    ``β = 1`` and ``λ = 1/β_IB`` (DESIGN §1): minimises ``I(X;T) − β_IB·I(T;Y)``.
    Default β_IB grid: ``n_points`` values geometric over
    ``beta_ib_range`` (default ``(0.5/ρ², 50/ρ²)``, ρ² the squared maximal
    correlation of X and Y, so the first transition ``β_IB = 1/ρ²`` is inside).
    Returns a λ-sweep :class:`Curve` (``lam = 1/β_IB``) with transitions located;
    ``progress`` as for :func:`semantic_rd_curve`.
    """
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    px, py, _ = check_source_arrays(p_x, p_y_given_x, np.zeros((np.asarray(p_x).shape[0], 1)))
    if beta_ibs is not None:
        b = np.asarray(beta_ibs, dtype=np.float64).ravel()
        if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 0):
            raise ValueError("beta_ibs must be non-empty, finite and > 0")
        lams = 1.0 / b
    else:
        rho2 = _second_eigenvalue(px, py)
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
        progress=progress,
    )
    c.meta["kind"] = "information bottleneck (lam = 1/beta_IB)"
    return c


def beta_family(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    betas: object,
    lam: float | None = None,
    rate: float | None = None,
    perturbation: float = 1e-3,
    rate_atol: float = 1e-4,
    seed: int = 0,
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    progress: bool | None = None,
) -> Curve:
    """Sweep β at fixed λ or at fixed rate: the theoretical counterpart of Fig. 9.

    Continuation in β from the smallest (β = 0 is convex) upwards, each point
    warm-started from the previous one. With ``rate=`` every point is solved for
    that rate (:func:`solve_for_rate`, to ``rate_atol``), so the family shows how
    ``D_RD`` grows and ``I(X̂;Y)`` rises as β goes from 0 to ∞ at equal rate.
    Returns a :class:`Curve` with ``parameter="beta"``; ``progress`` as for
    :func:`semantic_rd_curve`.
    """
    t0 = time.perf_counter()
    if (lam is None) == (rate is None):
        raise ValueError("give exactly one of lam= (fixed temperature) or rate= (fixed rate)")
    b = np.asarray(betas, dtype=np.float64).ravel()
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b < 0):
        raise ValueError("betas must be non-empty, finite and >= 0")
    if np.unique(b).size != b.size:
        raise ValueError("betas contains duplicates")
    b = np.sort(b)
    problem = _make_problem(p_x, p_y_given_x, d_rd, 0.0, base, tol, max_iter)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed + 31)
    points, total = [], 0
    start: Any = "random"
    lam = check_positive(lam, "lam") if lam is not None else None
    rate = check_positive(rate, "rate") if rate is not None else None
    lam_guess: float | None = None
    with _progress(b.size, progress, "beta family") as bar:
        for beta in b:
            if lam is not None:
                res = problem.solve(lam, start, seed=seed, beta=float(beta))
                total += res.iterations
                points.append(_point(res, problem, float(beta)))
                start = _perturb(res.encoder, perturbation, rng)
            else:
                tr = _solve_target(
                    problem,
                    float(beta),
                    "rate",
                    rate,
                    rate_atol,
                    True,
                    start,
                    lam_guess,
                    perturbation,
                    seed,
                    80,
                )
                total += tr.total_iterations
                points.append(_point(tr.result, problem, float(beta)))
                start = tr.result.encoder
                lam_guess = tr.lam
            bar.update(1)
    curve = Curve._from_points(
        points,
        base=problem.base,
        parameter="beta",
        total_iterations=total,
        meta=dict(kind="beta family", lam=lam, rate=rate, seed=seed),
    )
    curve.wall_time = time.perf_counter() - t0
    _warn_unconverged(curve, "beta_family")
    return curve


def _curve_member(args: tuple) -> Curve:
    p_x, p_y, d, beta, kw = args
    return semantic_rd_curve(p_x, p_y, d, beta=beta, **kw)


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
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    n_jobs: int = 1,
) -> list[Curve]:
    """One λ-curve per β (each by :func:`semantic_rd_curve`), in parallel over β.

    Without ``lams``/``lam_range`` all members share one λ grid (the default range
    for the largest β), so the curves are comparable point by point.
    """
    b = np.asarray(betas, dtype=np.float64).ravel()
    if b.size == 0 or not np.all(np.isfinite(b)) or np.any(b < 0):
        raise ValueError("betas must be non-empty, finite and >= 0")
    n_jobs = _check_n_jobs(n_jobs)
    problem = _make_problem(p_x, p_y_given_x, d_rd, float(b.max()), base, tol, max_iter)
    lam_arr = _resolve_lams(problem, lams, n_points, lam_range)
    kw = dict(lams=lam_arr, restarts=restarts, seed=seed, tol=tol, max_iter=max_iter, base=base)
    args = [(problem.p_x, problem.p_y_given_x, problem.d_rd, float(beta), kw) for beta in b]
    if n_jobs > 1 and len(args) > 1:
        with _executor(min(n_jobs, len(args))) as pool:
            return list(pool.map(_curve_member, args))
    return [_curve_member(a) for a in args]


# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------


class _Found(Exception):
    def __init__(self, lam: float) -> None:
        self.lam = lam


def _solve_target(
    problem: _Problem,
    beta: float,
    quantity: str,
    target: float,
    atol: float,
    warm: bool,
    init: Any,
    lam_guess: float | None,
    eps: float | None,
    seed: int,
    max_evals: int,
) -> TargetResult:
    """Root-find ``log λ`` so that ``quantity(λ) = target`` (both decrease/increase
    monotonically along the optimal β = 0 curve: rate decreases, distortion increases)."""
    from scipy.optimize import brentq

    rng = np.random.default_rng(seed + 17)
    if eps is None:
        eps = 0.0 if beta == 0 else 1e-3  # as in semantic_rd_curve
    cache: dict[float, SemanticRDResult] = {}
    total = [0]

    def solve(u: float) -> SemanticRDResult:
        if u in cache:
            return cache[u]
        if len(cache) >= max_evals:
            raise RuntimeError(f"no solution within {max_evals} solver calls")
        start: Any = "random"
        if warm and cache:
            near = min(cache, key=lambda v: abs(v - u))
            start = _perturb(cache[near].encoder, eps, rng)
        elif warm and init is not None and not isinstance(init, str):
            start = _perturb(np.asarray(init), eps, rng)
        res = problem.solve(math.exp(u), start, seed=seed, beta=beta)
        total[0] += res.iterations
        cache[u] = res
        return res

    def f(u: float) -> float:
        res = solve(u)
        v = float(getattr(res, quantity)) - target
        if abs(v) <= atol:
            raise _Found(u)
        return v

    unit = unit_name(problem.base)
    if quantity == "rate":
        # I(X;X̂) <= min(H(X), log |X̂|): the reachable rates (approached as λ → 0, ∞)
        top = min(_entropy_nats(problem.p_x), math.log(problem.d_rd.shape[1]))
        top /= math.log(problem.base)
        if not 0 <= target <= top:
            raise ValueError(
                f"target rate {target:g} {unit} is not reachable: rates lie between "
                f"0 and {top:.6g} {unit} (min(H(X), log |X̂|))"
            )
    # rate falls and distortion rises with λ: g(u) = sign·f(u) is increasing in u
    sign = -1.0 if quantity == "rate" else 1.0
    if lam_guess is None:
        lo_l, hi_l = default_lam_range(problem.p_x, problem.p_y_given_x, problem.d_rd, beta=beta)
        u0 = 0.5 * (math.log(lo_l) + math.log(hi_l))
    else:
        u0 = math.log(lam_guess)
    try:
        g0 = sign * f(u0)
        step = 0.5 if lam_guess is not None else 1.0
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
        u = brentq(lambda v: sign * f(v), ua, ub, xtol=1e-13, rtol=1e-15, maxiter=max_evals)
    except _Found as hit:
        u = hit.lam
    except RuntimeError as exc:
        raise ValueError(f"target {quantity}={target!r}: {exc}") from None
    res = solve(u)
    value = float(getattr(res, quantity))
    return TargetResult(
        lam=math.exp(u),
        result=res,
        target=float(target),
        value=value,
        atol=atol,
        achieved=abs(value - target) <= atol,
        evaluations=len(cache),
        total_iterations=total[0],
    )


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
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    accelerate: bool | str = "auto",
) -> TargetResult:
    """Find the λ whose solution has ``I(X;X̂) = rate`` (units of ``base``) within ``atol``.

    Brent's method on ``log λ`` (rate decreases with λ along the optimal curve;
    eq. 11); every evaluation warm-starts from the nearest λ solved so far
    (``warm=False``: cold seeded starts), mixed with ``perturbation`` of a random
    encoder (default: 0 at β = 0, 1e-3 otherwise). ``accelerate`` is passed to the
    solver. Raises ValueError if the rate is not reachable (e.g. above ``log k`` or
    ``H(X)``).
    """
    problem = _make_problem(p_x, p_y_given_x, d_rd, beta, base, tol, max_iter, accelerate)
    rate = check_positive(rate, "rate")
    atol = check_positive(atol, "atol")
    max_evals = check_int(max_evals, "max_evals", minimum=2)
    if lam_guess is not None:
        lam_guess = check_positive(lam_guess, "lam_guess")
    return _solve_target(
        problem,
        problem.beta,
        "rate",
        rate,
        atol,
        warm,
        None,
        lam_guess,
        perturbation,
        check_int(seed, "seed", minimum=0),
        max_evals,
    )


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
    tol: float | None = None,
    max_iter: int | None = None,
    base: float = 2,
    accelerate: bool | str = "auto",
) -> TargetResult:
    """Find the λ whose solution has the given distortion within ``atol``.

    ``which`` picks the distortion: ``"distortion"`` (D_S of eq. 6, the default;
    equals D_RD at β = 0) or ``"distortion_rd"`` (D_RD, eq. 4). Brent's method on
    ``log λ`` with warm starts, as :func:`solve_for_rate`.
    """
    if which not in ("distortion", "distortion_rd"):
        raise ValueError(f"which must be 'distortion' or 'distortion_rd', got {which!r}")
    problem = _make_problem(p_x, p_y_given_x, d_rd, beta, base, tol, max_iter, accelerate)
    distortion = check_positive(distortion, "distortion")
    atol = check_positive(atol, "atol")
    max_evals = check_int(max_evals, "max_evals", minimum=2)
    if lam_guess is not None:
        lam_guess = check_positive(lam_guess, "lam_guess")
    return _solve_target(
        problem,
        problem.beta,
        which,
        distortion,
        atol,
        warm,
        None,
        lam_guess,
        perturbation,
        check_int(seed, "seed", minimum=0),
        max_evals,
    )


# ---------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------


def lower_convex_envelope(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Lower convex envelope (hull) of points ``(x, y)``, sorted by x (Andrew's monotone chain)."""
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    ok = np.isfinite(xa) & np.isfinite(ya)
    order = np.lexsort((ya[ok], xa[ok]))
    pts = np.column_stack([xa[ok][order], ya[ok][order]])
    hull: list[np.ndarray] = []
    for p in pts:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    h = np.array(hull).reshape(-1, 2)
    return h[:, 0], h[:, 1]
