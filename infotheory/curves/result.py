"""The result types of the curves package and their files: :class:`Curve`,
:class:`Transition`, :class:`TargetResult`; CSV and JSON round trips; the lower
convex envelope of a sampled curve."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._validation import unit_name
from ..solver import SemanticRDResult

__all__ = ["COLUMNS", "Curve", "TargetResult", "Transition", "csv_sidecar", "lower_convex_envelope"]

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


def _dtype(column: str) -> type:
    """The NumPy dtype of a column of :data:`COLUMNS`."""
    if column in _INT_COLUMNS:
        return np.int64
    return bool if column in _BOOL_COLUMNS else np.float64


def _from_text(column: str, text: str) -> Any:
    """One CSV cell of ``column`` back to its Python value (inverse of :func:`_to_text`)."""
    if column in _BOOL_COLUMNS:
        return text == "True"
    return int(text) if column in _INT_COLUMNS else float(text)


def _to_text(column: str, value: Any) -> str:
    """One value of ``column`` as CSV text, full precision."""
    if column in _BOOL_COLUMNS:
        return str(bool(value))
    return str(int(value)) if column in _INT_COLUMNS else repr(float(value))


def _columns(points: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """Per-column lists (None for NaN) to the typed arrays of a :class:`Curve`."""
    return {
        c: np.array([np.nan if v is None else v for v in points[c]], dtype=_dtype(c))
        for c in COLUMNS
    }


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
    symbols on the low-rate and high-rate sides. ``probes`` counts the bisection
    probes and ``iterations`` the solver iterations spent locating it (the
    bisection and, in a curve, the solves that reach its low-rate side).
    """

    parameter: str
    lower: float
    upper: float
    critical: float
    rtol: float
    n_before: int
    n_after: int
    probes: int = 0
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (inverse: ``Transition(**d)``)."""
        return asdict(self)


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
    including discarded branches, restarts and the location of transitions;
    ``transitions`` lists the located phase transitions; ``meta`` describes how
    the curve was computed.
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
    def from_points(cls, points: Sequence[dict[str, Any]], **fields: Any) -> Curve:
        """A curve from per-point dicts (keys :data:`COLUMNS`) and its other fields."""
        return cls(**_columns({c: [p[c] for p in points] for c in COLUMNS}), **fields)

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
            return cls(
                **_columns(d["points"]),
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
                w.writerow([_to_text(c, getattr(self, c)[i]) for c in COLUMNS])

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
        try:
            meta["points"] = {c: [_from_text(c, r[c]) for r in rows] for c in COLUMNS}
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a curve CSV ({exc})") from None
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
        idx: Sequence[int] = range(len(self))
        if max_rows is not None and len(self) > max_rows:
            idx = np.unique(np.linspace(0, len(self) - 1, max_rows).round().astype(int)).tolist()
        for i in idx:
            lb = self.rate_lower_bound[i]
            bound = f"{lb:10.6f}" if np.isfinite(lb) else f"{'-':>10}"
            lines.append(
                f"{self.lam[i]:11.5g} {second[i]:8.4g} {self.rate[i]:10.6f} "
                f"{self.distortion_rd[i]:11.6g} {self.distortion_ib[i]:10.6f} "
                f"{self.relevance[i]:10.6f} {bound} "
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

        Returns the matplotlib ``Figure``; writes a PNG when ``path`` is given.
        (:mod:`infotheory.plotting` does not import this package: no import loop.)"""
        from ..plotting import plot_curve, save_figure

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
