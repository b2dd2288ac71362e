"""Input checks shared by every public entry point of :mod:`infotheory`.

Each check raises ``ValueError`` (or ``TypeError`` for non-numeric input) with a
message that names the argument and the problem. Nothing is clipped or dropped: an
input is either accepted or rejected.

Inputs of lower precision than float64 (float32 softmax outputs, ``np.float32``
Dirichlet draws, arrays from ``.npz`` files, torch tensors — converted without
importing torch) are computed with in float64. Their sums can only be 1 to their own
rounding, so a distribution in float32 (or float16) is accepted when it sums to 1
within ``SUM_ULPS`` units in the last place of its dtype per summed entry
(:func:`sum_tolerance`), and is then normalised in float64 — the float64 distribution
it stands for. Anything further from 1 (e.g. rows summing to 0.99) is refused, naming
the argument. float64 input is never rescaled: it must sum to 1 within ``SUM_TOL``.
Numbers given as strings (``lam="0.5"``, ``max_iter="100"``) are parsed.
"""

from __future__ import annotations

import math

import numpy as np

#: Absolute tolerance on ``|sum(p) - 1|`` for a probability distribution (float64).
SUM_TOL = 1e-8

#: units in the last place, per summed entry, allowed on the sum of a low-precision input
SUM_ULPS = 4


def sum_tolerance(dtype: np.dtype, terms: int) -> float:
    """Tolerance on ``|sum - 1|`` for ``terms`` entries stored as ``dtype``:
    ``SUM_TOL`` for float64 and wider (and non-float input), else
    ``SUM_ULPS · eps(dtype) · terms`` (e.g. 4.8e-6 for 10 float32 entries)."""
    if not np.issubdtype(dtype, np.floating) or np.finfo(dtype).eps <= np.finfo(np.float64).eps:
        return SUM_TOL
    return max(SUM_TOL, SUM_ULPS * float(np.finfo(dtype).eps) * max(int(terms), 1))


def _native(a: object) -> np.ndarray:
    """``a`` as a NumPy array of its own dtype (torch tensors through ``.numpy()``,
    detached and on the CPU; torch is not imported here)."""
    if hasattr(a, "detach") and hasattr(a, "cpu") and hasattr(a, "numpy"):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype.kind in "US":  # numbers given as strings
        arr = arr.astype(np.float64)
    return arr


def as_float_array(a: object, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return ``a`` as a float64 array, checking dimensionality and finiteness."""
    return _as_float(a, name, ndim)[0]


def _as_float(a: object, name: str, ndim: int | None) -> tuple[np.ndarray, np.dtype]:
    """``(float64 array, dtype of the input)`` (:func:`as_float_array`). bfloat16 input (a
    torch tensor, or NumPy through ``ml_dtypes``) is refused with a ``TypeError`` naming
    ``name``: 8 significant bits cannot hold a distribution to the checks' tolerance."""
    if "bfloat16" in str(getattr(a, "dtype", "")):
        raise TypeError(
            f"{name} has dtype bfloat16 (8 significant bits): too coarse for a distribution "
            "checked to 1e-8, and not a NumPy type; convert it first, e.g. tensor.double()"
        )
    try:
        native = _native(a)
        if native.dtype.kind == "c":  # astype would drop the imaginary part (a warning only)
            raise TypeError(f"complex dtype {native.dtype}")
        arr = native.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        raise ValueError(f"{name} contains {bad}")
    return arr, native.dtype


def check_distribution(p: object, name: str, *, ndim: int | None = None) -> np.ndarray:
    """A probability distribution (any shape): finite, non-negative, summing to 1
    (within :func:`sum_tolerance` of its dtype; low-precision input is then
    normalised in float64, see the module docstring)."""
    arr, dtype = _as_float(p, name, ndim)
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g})")
    total = float(arr.sum())
    tol = sum_tolerance(dtype, arr.size)
    if abs(total - 1.0) > tol:
        raise ValueError(
            f"{name} sums to {total:.10g}, expected 1 (tolerance {tol:.3g} for {dtype} input)"
        )
    return arr / total if tol > SUM_TOL else arr


def check_conditional(p: object, name: str) -> np.ndarray:
    """A conditional distribution as a 2-D array whose every row sums to 1 (within
    :func:`sum_tolerance` of its dtype; low-precision rows are then normalised in
    float64, see the module docstring)."""
    arr, dtype = _as_float(p, name, 2)
    if np.any(arr < 0):
        raise ValueError(f"{name} has negative entries (min {arr.min():.3g})")
    sums = arr.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    tol = sum_tolerance(dtype, arr.shape[1])
    if abs(sums[worst] - 1.0) > tol:
        raise ValueError(
            f"{name} row {worst} sums to {sums[worst]:.10g}, expected 1 "
            f"(every row is a conditional distribution; tolerance {tol:.3g} for {dtype} input)"
        )
    return arr / sums[:, None] if tol > SUM_TOL else arr


def check_base(base: object) -> float:
    """A logarithm base: a finite number > 0 and != 1. Returns ``log(base)``."""
    try:
        b = float(base)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"base must be a number, got {base!r}") from None
    if not math.isfinite(b) or b <= 0 or b == 1:
        raise ValueError(f"base must be finite, positive and not 1, got {base!r}")
    return math.log(b)


def unit_name(base: float) -> str:
    """The unit of information quantities in log ``base``: "bits", "nats", ..."""
    b = float(base)
    if b == 2.0:
        return "bits"
    if abs(b - math.e) < 1e-12:
        return "nats"
    return "hartleys" if b == 10.0 else f"log-{b:g} units"


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
    """An integer >= ``minimum`` (a string of digits, e.g. ``"100"``, is parsed)."""
    if isinstance(x, str):
        try:
            x = int(x.strip())
        except ValueError:
            raise TypeError(f"{name} must be an integer, got {x!r}") from None
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)
