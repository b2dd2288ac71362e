"""Fig. 7: the four quantities against bpp, one colour per method (matplotlib, PNG).

Panel (a) I(X;Z): the exact count value H(Z) (solid, saturated at log2 N when every
image has its own code), the upper bound Σ_i H(Z_i) (dash-dot), the neural estimators as
min–max bands with their mean (CLUB dashed, the lower-bound estimator dotted), and the
bits sent (black) and log2 N (grey) as method-independent lines; symmetric-log axis
(the CLUB values can be orders of magnitude away from the rest), from −1 to twice the
bits sent: a curve with a value beyond that range is listed in red with its extremes
instead of drawn. Panels (b)–(d): the
count values (mean over seeds, solid) with the band from the smallest to the largest
end of the 95 % source intervals over seeds, and log2 K (the entropy of K equiprobable
classes) as a grey line. The band of a neural estimator spans every repeat of every seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neural.experiments.plots import LABELS, _figure

STYLES = {
    "counts": "-",
    "plug-in": "-",
    "bit-entropies": "-.",
    "club": "--",
    "mine": ":",
    "nwj": ":",
}
ESTIMATOR_LABELS = {
    "counts": "H(Z) from counts (exact on N images)",
    "bit-entropies": "Σ_i H(Z_i) (upper bound)",
    "club": "CLUB (upper-bound estimate)",
    "mine": "MINE (lower-bound estimate)",
    "nwj": "NWJ (lower-bound estimate)",
}
PANELS = ("I(X;Z)", "I(Z;Ŷ)", "I(X;Ŷ)", "I(Ŷ;Y)")


def _group(rows: list[dict[str, Any]], quantity: str, estimator: str, method: str):
    """bpp → (mean over seeds of value, smallest low, largest high) for one curve."""
    out: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        if r["quantity"] == quantity and r["estimator"] == estimator and r["method"] == method:
            out.setdefault(r["bpp"], []).append(r)
    xs = sorted(out)
    mean = np.array([np.mean([r["value"] for r in out[b]]) for b in xs])
    if estimator in ("counts", "plug-in") and quantity != "I(X;Z)":
        lo = np.array([min(r["ci_low"] for r in out[b]) for b in xs])
        hi = np.array([max(r["ci_high"] for r in out[b]) for b in xs])
    else:
        lo = np.array([min(r["min"] for r in out[b]) for b in xs])
        hi = np.array([max(r["max"] for r in out[b]) for b in xs])
    return np.array(xs), mean, lo, hi


def mi_figure(rows: list[dict[str, Any]], path: str, *, title: str, n_classes: int) -> str:
    """Draw Fig. 7 from ``mi`` rows (see the module docstring); saved to ``path``.
    ``n_classes``: K, for the log2 K line of panels (b)-(d)."""
    from matplotlib.lines import Line2D

    if not rows:
        raise ValueError("mi_figure: no rows to plot")
    methods = list(dict.fromkeys(r["method"] for r in rows))
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    xz_estimators = list(
        dict.fromkeys(
            r["estimator"]
            for r in rows
            if r["quantity"] == "I(X;Z)" and r["estimator"] != "bits-sent"
        )
    )
    fig = _figure(16, 4.8)
    axes = fig.subplots(1, 4)
    sent = sorted({(r["bpp"], r["value"]) for r in rows if r["estimator"] == "bits-sent"})
    # display range of panel (a): from -1 to twice the bits sent; a curve with a value beyond
    # it (an estimate flagged out of bounds in its row) is listed in red instead of drawn
    top = 2.0 * max(s[1] for s in sent)
    off: list[tuple[str, str, float, float]] = []
    for method in methods:
        c = colours[method]
        for est in xz_estimators:
            x, mean, lo, hi = _group(rows, "I(X;Z)", est, method)
            if lo.min() < -1.0 or hi.max() > top:
                off.append((est, method, float(lo.min()), float(hi.max())))
                continue
            axes[0].plot(x, mean, STYLES.get(est, "--"), color=c, marker="o", ms=3)
            if est not in ("counts", "bit-entropies"):
                axes[0].fill_between(x, lo, hi, color=c, alpha=0.15, linewidth=0)
        for ax, q in zip(axes[1:], PANELS[1:]):
            x, mean, lo, hi = _group(rows, q, "plug-in" if q == "I(Ŷ;Y)" else "counts", method)
            ax.plot(x, mean, "-", color=c, marker="o", ms=3, label=LABELS.get(method, method))
            ok = np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(x[ok], lo[ok], hi[ok], color=c, alpha=0.2, linewidth=0)
    axes[0].plot([s[0] for s in sent], [s[1] for s in sent], "-", color="k", lw=2.5, alpha=0.5)
    n = int(max(r["samples"] for r in rows if r["estimator"] == "counts"))
    axes[0].axhline(math.log2(n), color="grey", lw=0.8, ls=":")
    handles = [
        Line2D([], [], color="k", ls=STYLES.get(e, "--"), label=ESTIMATOR_LABELS.get(e, e))
        for e in xz_estimators
    ]
    handles += [
        Line2D([], [], color="k", lw=2.5, alpha=0.5, label="bits sent (upper bound)"),
        Line2D(
            [], [], color="grey", lw=0.8, ls=":", label=f"log2 N = {math.log2(n):.2f} (N = {n})"
        ),
    ]
    handles += [Line2D([], [], color=colours[m], label=LABELS.get(m, m)) for m in methods]
    axes[0].set_yscale("symlog", linthresh=10.0)
    axes[0].set_ylim(-1.0, top)
    if off:
        text = "\n".join(
            f"{est} of {LABELS.get(m, m)}: {lo:.3g} to {hi:.3g} bits" for est, m, lo, hi in off
        )
        axes[0].text(
            0.02,
            0.02,
            "off scale, not drawn:\n" + text,
            transform=axes[0].transAxes,
            fontsize=5.5,
            color="red",
            va="bottom",
        )
    fig.legend(handles=handles, fontsize=7, loc="lower center", ncol=len(handles))
    for ax in axes[1:]:
        ax.axhline(
            math.log2(n_classes), color="grey", lw=0.8, ls=":", label=f"log2 K (K = {n_classes})"
        )
    axes[1].legend(fontsize=7, loc="lower right")
    for ax, q in zip(axes, PANELS):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bits per pixel (channel uses per pixel)")
        ax.set_ylabel(f"{q} (bits)")
        ax.set_title(q, fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    return path
