"""Input checks shared by every public entry point of :mod:`infotheory`.

Each check raises ``ValueError`` (or ``TypeError`` for non-numeric input) with a
message that names the argument and the problem. Nothing is renormalised, clipped
or dropped: an input is either accepted as it is or rejected.
"""

from __future__ import annotations

import math

import numpy as np

#: Absolute tolerance on ``|sum(p) - 1|`` for a probability distribution.
SUM_TOL = 1e-8


def as_float_array(a: object, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return ``a`` as a float64 array, checking dimensionality and finiteness."""
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        raise ValueError(f"{name} contains {bad}")
    return arr


def check_distribution(p: object, name: str, *, ndim: int | None = None) -> np.ndarray:
    """A probability distribution (any shape): finite, non-negative, summing to 1."""
    arr = as_float_array(p, name, ndim=ndim)
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g})")
    total = float(arr.sum())
    if abs(total - 1.0) > SUM_TOL:
        raise ValueError(f"{name} sums to {total:.10g}, expected 1 (tolerance {SUM_TOL:g})")
    return arr


def check_conditional(p: object, name: str) -> np.ndarray:
    """A conditional distribution as a 2-D array whose every row sums to 1."""
    arr = as_float_array(p, name, ndim=2)
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g})")
    sums = arr.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > SUM_TOL:
        raise ValueError(
            f"{name} row {worst} sums to {sums[worst]:.10g}, expected 1 "
            f"(every row is a conditional distribution; tolerance {SUM_TOL:g})"
        )
    return arr


def check_base(base: object) -> float:
    """A logarithm base: a finite number > 0 and != 1. Returns ``log(base)``."""
    try:
        b = float(base)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"base must be a number, got {base!r}") from None
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise ValueError(f"base must be finite, positive and not 1, got {base!r}")
    return math.log(b)


def check_positive(x: object, name: str, *, allow_zero: bool = False) -> float:
    """A finite real scalar > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(x, bool):
        raise TypeError(f"{name} must be a real number, got {x!r}")
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {x!r}")
    return v


def check_int(x: object, name: str, *, minimum: int = 1) -> int:
    """An integer >= ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)
