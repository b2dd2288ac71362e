"""Where to solve: the default λ range of a curve (:func:`default_lam_range`) and the
checked grid of temperatures a sweep runs over."""

from __future__ import annotations

import math

import numpy as np

from .._validation import as_float_array, check_int, check_positive
from ..problem import Problem

__all__ = ["default_lam_range", "lam_range_of", "maximal_correlation_squared", "resolve_lams"]


def maximal_correlation_squared(p_x: np.ndarray, p_y_given_x: np.ndarray) -> float:
    """ρ²: the largest non-trivial eigenvalue of ``M[x,x'] = Σ_y p(y|x) p(x'|y)`` (the
    squared maximal correlation of X and Y), computed on the m×m matrix
    ``Σ_x p(x|y) p(y'|x)``, which has the same non-zero spectrum. The IB trivial
    solution loses stability at ``β_IB = 1/ρ²``."""
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
    return lam_range_of(Problem.from_arrays(p_x, p_y_given_x, d_rd), beta)


def lam_range_of(problem: Problem, beta: float) -> tuple[float, float]:
    """:func:`default_lam_range` of a validated problem."""
    beta = check_positive(beta, "beta", allow_zero=True)
    hi_rd, lo_rd = _rd_range(problem.p_x, problem.d_rd)
    if beta > 0:
        ib = beta * maximal_correlation_squared(problem.p_x, problem.p_y_given_x)
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


def _rd_range(px: np.ndarray, d: np.ndarray) -> tuple[float, float]:
    """``(lam_max, lam_min)`` of the β = 0 part (both 0 when d_rd is constant in x̂)."""
    dmin = d.min(axis=1, keepdims=True)
    spread = float(np.dot(px, d.mean(axis=1) - dmin[:, 0]))
    if spread <= 0:
        return 0.0, 0.0
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
        np.take_along_axis(np.where(big, gaps, np.inf), np.argmax(big, axis=1)[:, None], axis=1)[
            :, 0
        ],
        np.nan,
    )
    ok = np.isfinite(first) & (px > 0)
    if not ok.any():
        return hi_rd, hi_rd / 1e3
    o = np.argsort(first[ok])
    cum = np.cumsum(px[ok][o]) / px[ok].sum()
    return hi_rd, float(first[ok][o][np.searchsorted(cum, 0.5)]) / 10.0  # p-weighted median / 10


def resolve_lams(
    problem: Problem,
    beta: float,
    lams: object | None,
    n_points: int,
    lam_range: tuple[float, float] | None,
) -> np.ndarray:
    """The temperatures of a sweep, decreasing (rate increasing): ``lams`` checked
    (positive, distinct) or ``n_points`` geometric over ``lam_range`` (default
    :func:`default_lam_range`)."""
    if lams is not None:
        arr = as_float_array(lams, "lams").ravel()  # finite, non-empty, real
        if np.any(arr <= 0):
            raise ValueError(f"lams must be > 0, got {float(arr.min()):g}")
        if np.unique(arr).size != arr.size:
            raise ValueError("lams contains duplicates")
        return np.sort(arr)[::-1]
    n = check_int(n_points, "n_points", minimum=2)
    if lam_range is None:
        lo, hi = lam_range_of(problem, beta)
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
