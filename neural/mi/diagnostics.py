"""Checks and diagnostics shared by the MI front ends: standardisation, device
validation, the trivial bounds, the plateau (convergence) test and the history plot.

All values in nats unless a ``units`` argument says otherwise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

if TYPE_CHECKING:  # pragma: no cover
    from .base import MIResult

__all__ = [
    "Standardizer",
    "check_device",
    "entropy_from_labels",
    "bounds_note",
    "plateau_test",
    "plot_history",
]


@dataclass(frozen=True)
class Standardizer:
    """Per-dimension affine map ``(a - mean) / scale`` fitted on a training split.

    ``scale`` is the population standard deviation of each column of the training
    split; a constant column (all values equal) gets scale 1 (it carries no
    information either way; its sd is then rounding noise of the mean, which must not
    be blown up to unit variance). Fitting and applying happen in float64, on columns
    divided by their largest magnitude (so squares of values near 1e200 do not
    overflow), so data at any scale maps to the same standardised values up to
    rounding: estimates that use it are invariant to affine rescaling of each
    dimension by construction.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, a: np.ndarray) -> Standardizer:
        a = np.asarray(a, dtype=np.float64)
        big = np.abs(a).max(0)
        big = np.where(big > 0, big, 1.0)
        mean = (a / big).mean(0) * big
        sd = (a / big).std(0) * big
        constant = a.max(0) == a.min(0)
        scale = np.where(constant | ~(sd > 0), 1.0, sd)
        return cls(mean, scale)

    def __call__(self, a: np.ndarray) -> np.ndarray:
        return (np.asarray(a, dtype=np.float64) - self.mean) / self.scale


def check_device(device: Any) -> torch.device:
    """A usable :class:`torch.device` from ``device``, or ``ValueError`` naming it
    (not a device name, or a device this machine does not have, e.g. ``'cuda'``
    without CUDA)."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as err:
        raise ValueError(f"device: not a valid torch device: {device!r}") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device: {device!r} requested but CUDA is not available on this machine (use 'cpu')"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device: {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    try:
        torch.zeros(1, device=dev)
    except (RuntimeError, AssertionError) as err:
        raise ValueError(f"device: {device!r} is not usable here: {err}") from err
    return dev


def entropy_from_labels(codes: np.ndarray) -> float:
    """Miller-Madow entropy (nats) of ``(N,)`` codes ``0..k-1`` with every code occupied:
    ``H_plugin + (k - 1) / (2N)``. The same correction as the plug-in MI, so that a
    deterministic relation gives ``I_plugin = H`` exactly (see :mod:`neural.mi.plugin`)."""
    import infotheory  # the exact measures (NumPy)

    counts = np.bincount(codes)
    counts = counts[counts > 0]
    n = counts.sum()
    return infotheory.entropy(counts / n, base=math.e) + (len(counts) - 1) / (2.0 * n)


#: absolute slack (nats) of the trivial-bounds check, for rounding only
BOUNDS_TOL = 1e-9


def bounds_note(
    value: float, low: float, high: float, stderr: float | None, what: str
) -> str | None:
    """``None`` if ``low <= value <= high`` (up to rounding), else a note saying by how
    much (and in standard errors) the value lies outside; ``what`` names the upper bound."""
    if low - BOUNDS_TOL <= value <= high + BOUNDS_TOL:
        return None
    side, gap = (
        ("below 0", low - value) if value < low else (f"above {what} = {high:.4g}", value - high)
    )
    se = "" if not stderr else f" ({gap / stderr:.1f} standard errors)"
    hint = (
        "consistent with sampling noise"
        if stderr and gap <= 2 * stderr
        else "the estimator is not valid here (see docs/mi-estimators.md)"
    )
    return f"estimate {value:.4g} nats is {side} by {gap:.3g} nats{se}: outside the trivial bounds; {hint}"


def warn_out_of_bounds(note: str, method: str) -> None:
    warnings.warn(f"estimate_mi(method={method!r}): {note}", UserWarning, stacklevel=4)


#: plateau test: relative and absolute slack on the drift of the held-out curve
PLATEAU_REL, PLATEAU_ABS = 0.02, 0.02
#: minimum number of evaluations in the window of the plateau test
PLATEAU_MIN_POINTS = 4


def plateau_test(step: np.ndarray, test: np.ndarray) -> tuple[bool, str]:
    """Has the held-out curve levelled off?

    Takes the last half of the evaluations (at least ``PLATEAU_MIN_POINTS``), fits a
    straight line by least squares, and computes its drift over the window (slope x
    window length). Converged iff

        |drift| <= max(2 * sd_drift, PLATEAU_ABS + PLATEAU_REL * |mean of window|)

    with ``sd_drift`` the standard error of the drift from the residuals (so noise alone
    does not fail the test, a trend of more than 0.02 nats + 2% over the window does).
    Returns ``(converged, explanation)``.
    """
    step, test = np.asarray(step, float), np.asarray(test, float)
    k = len(test)
    m = max(PLATEAU_MIN_POINTS, k // 2)
    if k < PLATEAU_MIN_POINTS:
        return False, f"only {k} held-out evaluations (need >= {PLATEAU_MIN_POINTS}): train longer"
    s, v = step[-m:], test[-m:]
    span = s[-1] - s[0]
    sc = s - s.mean()
    slope = float((sc * (v - v.mean())).sum() / (sc * sc).sum())
    resid = v - v.mean() - slope * sc
    dof = max(m - 2, 1)
    se_slope = math.sqrt(float((resid**2).sum()) / dof / float((sc * sc).sum()))
    drift, sd_drift = slope * span, se_slope * span
    tol = max(2 * sd_drift, PLATEAU_ABS + PLATEAU_REL * abs(float(v.mean())))
    ok = bool(abs(drift) <= tol)
    msg = (
        f"held-out estimate drifted {drift:+.3g} nats over the last {m} evaluations "
        f"(steps {int(s[0])}-{int(s[-1])}; allowed {tol:.3g})"
    )
    return ok, msg + ("" if ok else ": not converged, train longer")


def plot_history(result: MIResult, ax: Any = None, path: str | None = None) -> Any:
    """Training (batch) and held-out estimates per evaluation against the step; the
    reported value as a dashed line; the trivial upper bound when finite."""
    import matplotlib.pyplot as plt

    h = result.history
    if h is None or len(h.step) == 0:
        raise ValueError(
            f"plot: result of method {result.method!r} has no training history to draw"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ax.plot(h.step, h.train, label="training batches", color="tab:blue", alpha=0.7)
    ax.plot(h.step, h.test, marker="o", ms=3, label="held out", color="tab:orange")
    ax.axhline(result.estimate, ls="--", color="k", lw=1, label=f"reported {result.estimate:.3f}")
    if math.isfinite(result.bounds[1]):
        ax.axhline(
            result.bounds[1], ls=":", color="tab:red", lw=1, label="trivial upper bound (entropy)"
        )
    ax.set_xlabel("training step")
    ax.set_ylabel(f"MI estimate ({result.units}, {result.kind})")
    conv = {True: "converged", False: "NOT converged", None: ""}[result.converged]
    ax.set_title(f"{result.method}: {conv}")
    ax.legend(loc="lower right", fontsize=8)
    if path is not None:
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    return ax
