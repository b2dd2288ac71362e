"""Closed-form rate-distortion functions and the binary entropy (bits by default).

``R(D) = h(p) - h(D)`` for a Bernoulli(p) source with Hamming distortion, and
``R(D) = ½ log(σ²/D)`` for a Gaussian source with squared error (Cover & Thomas,
Thms. 10.3.1 and 10.3.2). They are the independent references the solver's curves are
tested against; :mod:`infotheory.sources` re-exports them.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_base

__all__ = ["binary_entropy", "binary_rate_distortion", "gaussian_rate_distortion"]


def binary_entropy(p: object, *, base: float = 2) -> np.ndarray:
    """Binary entropy ``h(p) = -p log p - (1-p) log(1-p)`` (bits by default), elementwise."""
    lb = check_base(base)
    pa = np.asarray(p, dtype=np.float64)
    if np.any((pa < 0) | (pa > 1)) or not np.all(np.isfinite(pa)):
        raise ValueError("p must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(
            np.where(pa > 0, pa * np.log(pa), 0.0) + np.where(pa < 1, (1 - pa) * np.log1p(-pa), 0.0)
        )
    return h / lb


def binary_rate_distortion(p: float, distortion: object, *, base: float = 2) -> np.ndarray:
    """Closed-form ``R(D) = h(p) - h(D)`` of a Bernoulli(p) source, Hamming distortion.

    Valid for ``0 ≤ D ≤ min(p, 1-p)``; ``R(D) = 0`` above. Returns NaN for ``D < 0``.
    """
    p = float(p)
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    d = np.asarray(distortion, dtype=np.float64)
    dmax = min(p, 1 - p)
    dc = np.clip(d, 0.0, dmax)
    r = binary_entropy(p, base=base) - binary_entropy(dc, base=base)
    return np.where(d < 0, np.nan, np.where(d >= dmax, 0.0, r))


def gaussian_rate_distortion(variance: float, distortion: object, *, base: float = 2) -> np.ndarray:
    """Closed-form ``R(D) = ½ log(σ²/D)`` of a Gaussian source with squared error.

    ``R(D) = 0`` for ``D ≥ σ²``; NaN for ``D ≤ 0``.
    """
    lb = check_base(base)
    v = float(variance)
    if not v > 0:
        raise ValueError(f"variance must be > 0, got {variance!r}")
    d = np.asarray(distortion, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 0.5 * np.log(v / d) / lb
    return np.where(d <= 0, np.nan, np.where(d >= v, 0.0, r))
