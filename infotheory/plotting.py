"""Matplotlib figures of theoretical curves (Agg canvas, no pyplot, no global state).

Every function returns a :class:`matplotlib.figure.Figure` built on the Agg
canvas, so it works headless and never touches the user's pyplot backend;
:func:`save_figure` writes it as a PNG. Units: rates and informations in bits by
default (the curve's ``base``), distortions in units of ``d_RD``.

A curve here is anything with the fields of :class:`infotheory.curves.Curve`; this
module does not import :mod:`infotheory.curves` at run time (``Curve.plot`` imports
this one), so the two never import each other in a loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._validation import unit_name

if TYPE_CHECKING:  # for the annotations only: infotheory.curves imports this module lazily
    from .curves import Curve

__all__ = ["plot_curve", "plot_information_plane", "plot_beta_family", "save_figure", "new_figure"]


def _as_list(curves: Curve | Sequence[Curve]) -> list[Curve]:
    """One curve (anything with a ``lam`` field) or a sequence of curves, as a list."""
    return [curves] if hasattr(curves, "lam") else list(curves)  # type: ignore[list-item]


def new_figure(
    ncols: int = 1, *, width: float = 4.6, height: float = 3.6
) -> tuple[Figure, list[Any]]:
    """A Figure on the Agg canvas with ``ncols`` axes side by side."""
    fig = Figure(figsize=(width * ncols, height), dpi=100)
    FigureCanvasAgg(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 90) -> None:
    """Write ``fig`` as PNG to ``path`` (parent directories are created)."""
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, format="png")


def plot_curve(
    curve: Curve | Sequence[Curve],
    *,
    ax: Any = None,
    x: str = "distortion",
    y: str = "rate",
    closed_form: Callable[..., np.ndarray] | None = None,
    bound: bool = True,
    envelope: bool = True,
    transitions: bool = True,
    title: str | None = None,
) -> Figure:
    """Rate against distortion (eq. 11) for one curve or a family.

    Draws the solved points, at β = 0 Blahut's lower bound per point (the certified
    band) and the lower convex envelope, the closed form ``closed_form(D, base=)``
    where given, and the located phase transitions as markers.
    """
    curves = _as_list(curve)
    if not curves:
        raise ValueError("curve must be a Curve or a non-empty sequence of Curves")
    if ax is None:
        fig, (ax,) = new_figure()
    else:
        fig = ax.figure
    base = curves[0].base
    for c in curves:
        order = np.argsort(getattr(c, x))
        xs, ys = getattr(c, x)[order], getattr(c, y)[order]
        label = f"β = {c.beta[0]:g}" if len(curves) > 1 else "solver (eq. 17)"
        (line,) = ax.plot(xs, ys, "o", ms=3, label=label)
        if envelope and y == "rate" and np.all(c.beta == 0):
            ex, ey = c.lower_convex_envelope()
            ax.plot(ex, ey, "-", lw=1, color=line.get_color(), alpha=0.6)
        lb = c.rate_lower_bound[order]
        if bound and y == "rate" and np.any(np.isfinite(lb)):
            ax.plot(
                xs, lb, "_", ms=8, color="k", label="Blahut lower bound" if c is curves[0] else None
            )
        if transitions:
            for t in c.transitions:
                i = int(np.argmin(np.abs(np.log(c.lam / t.critical))))
                ax.axvline(getattr(c, x)[i], ls=":", color=line.get_color(), lw=1)
    if closed_form is not None:
        allx = np.concatenate([getattr(c, x) for c in curves])
        grid = np.linspace(max(float(np.nanmin(allx)), 1e-12), float(np.nanmax(allx)), 400)
        ax.plot(grid, closed_form(grid, base=base), "k--", lw=1, label="closed form")
    ax.set_xlabel({"distortion": "distortion D_S", "distortion_rd": "D_RD"}.get(x, x))
    ax.set_ylabel(f"rate I(X;X̂) [{unit_name(base)}]" if y == "rate" else y)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def plot_information_plane(
    curves: Curve | Sequence[Curve],
    *,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Relevance I(X̂;Y) against rate I(X;X̂) (the information plane), transitions marked."""
    cs = _as_list(curves)
    if not cs:
        raise ValueError("curves must be a Curve or a non-empty sequence of Curves")
    if ax is None:
        fig, (ax,) = new_figure()
    else:
        fig = ax.figure
    for i, c in enumerate(cs):
        lab = labels[i] if labels is not None else (f"β = {c.beta[0]:g}" if len(cs) > 1 else None)
        order = np.argsort(c.rate)
        (line,) = ax.plot(c.rate[order], c.relevance[order], "o-", ms=3, lw=1, label=lab)
        for t in c.transitions:
            j = int(np.argmin(np.abs(np.log(c.lam / t.critical))))
            ax.plot(
                c.rate[j],
                c.relevance[j],
                "*",
                ms=11,
                color="crimson",
                label="phase transition" if (i == 0 and t is c.transitions[0]) else None,
            )
    u = unit_name(cs[0].base)
    ax.set_xlabel(f"I(X;X̂) [{u}]")
    ax.set_ylabel(f"I(X̂;Y) [{u}]")
    if title:
        ax.set_title(title, fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def plot_beta_family(
    curve: Curve, *, axes: Sequence[Any] | None = None, title: str | None = None
) -> Figure:
    """A β family (``parameter == "beta"``): D_RD and I(X̂;Y) against β (cf. Fig. 9)."""
    if curve.parameter != "beta":
        raise ValueError(
            f"plot_beta_family needs a beta family (parameter 'beta'), got {curve.parameter!r}"
        )
    if axes is None:
        fig, axes = new_figure(2, width=4.0)
    else:
        fig = axes[0].figure
    b = curve.beta
    xb = np.where(b > 0, b, np.nan)
    a0, a1 = axes[0], axes[1]
    for ax, yv, lab in (
        (a0, curve.distortion_rd, "D_RD"),
        (a1, curve.relevance, f"I(X̂;Y) [{unit_name(curve.base)}]"),
    ):
        ax.plot(xb, yv, "o-", ms=3, lw=1)
        if b[0] == 0:
            ax.axhline(yv[0], ls=":", color="gray", lw=1, label="β = 0 (RD)")
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("β")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
