"""Figures of the experiments (matplotlib, Agg canvas, PNG): one file per figure.

* ``bpp`` (Fig. 4): accuracy, PSNR (dB) and SSIM against bits per pixel;
* ``snr`` (Fig. 6): the same against the evaluation SNR (dB); finite SNRs only;
* ``beta`` (Fig. 9): the same against β (symmetric-log axis, so β = 0 is shown);
* ``visual`` (Fig. 5): the first test images reconstructed by each method, titled with the
  classifier's prediction and its softmax confidence.

Curves show the mean over seeds; with two or more seeds a band shows the 95 % interval
(:func:`neural.experiments.results.mean_interval`). Digital methods are drawn once per
header policy (dashed ``full``, dotted ``payload``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neural.experiments.results import summarise

PANELS = (("accuracy", "accuracy"), ("psnr", "PSNR (dB)"), ("ssim", "SSIM"))
LABELS = {
    "rd": "RD baseline (β = 0)",
    "tosc": "TOSC-SR",
    "ib": "IB baseline",
    "spics": "SPICS",
    "jpeg": "JPEG CS",
    "jpeg2000": "JPEG2000 CS",
}
X_AXIS = {
    "bpp": ("bpp", "bits per pixel (channel uses per pixel)"),
    "snr": ("snr_db", "evaluation SNR (dB)"),
    "beta": ("beta", "β (trade-off factor of eq. 31)"),
}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def curve_figure(
    experiment: str,
    rows: list[dict[str, Any]],
    path: str,
    *,
    title: str,
    clean_accuracy: float | None = None,
) -> str:
    """Accuracy / PSNR / SSIM panels against the experiment's variable; saved to ``path``."""
    if experiment not in X_AXIS:
        raise ValueError(
            f"no curve figure for experiment {experiment!r}; choose one of {sorted(X_AXIS)}"
        )
    xname, xlabel = X_AXIS[experiment]
    summary = [e for e in summarise(rows) if math.isfinite(e[xname])]
    if not summary:
        raise ValueError(f"no rows with a finite {xname} to plot")
    curves: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in summary:
        curves.setdefault((e["method"], e["header"]), []).append(e)
    fig = _figure(13, 3.8)
    axes = fig.subplots(1, 3)
    for (method, header), entries in curves.items():
        entries.sort(key=lambda e: e[xname])
        x = np.array([e[xname] for e in entries])
        style = {"full": "--", "payload": ":"}.get(header, "-")
        label = LABELS.get(method, method) + (f" ({header})" if header else "")
        for ax, (metric, _) in zip(axes, PANELS):
            mean = np.array([e[metric][0] for e in entries])
            half = np.array([e[metric][1] for e in entries])
            ok = np.isfinite(mean)
            (line,) = ax.plot(x[ok], mean[ok], style, marker="o", ms=3, label=label)
            band = ok & np.isfinite(half)
            if band.any():
                ax.fill_between(
                    x[band],
                    (mean - half)[band],
                    (mean + half)[band],
                    color=line.get_color(),
                    alpha=0.2,
                )
    for ax, (_metric, ylabel) in zip(axes, PANELS):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if experiment == "bpp":
            ax.set_xscale("log", base=2)
        elif experiment == "beta":
            positive = sorted({e["beta"] for e in summary if e["beta"] > 0})
            ax.set_xscale("symlog", linthresh=positive[0] if positive else 1.0)
    if clean_accuracy is not None and math.isfinite(clean_accuracy):
        axes[0].axhline(
            clean_accuracy, color="grey", lw=0.8, ls="-.", label="classifier on original images"
        )
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def visual_figure(panels: list[tuple[str, dict[str, np.ndarray]]], path: str, *, title: str) -> str:
    """Fig. 5: row 0 the originals, then one row per method ``(label, arrays)`` where arrays
    holds ``original``, ``reconstruction`` ``(n, C, H, W)``, ``probabilities`` ``(n, classes)``
    and ``labels`` ``(n,)``; each image titled ``pred (confidence)``, green if correct."""
    if not panels:
        raise ValueError("visual_figure needs at least one method")
    first = panels[0][1]
    n = first["original"].shape[0]
    fig = _figure(1.25 * n + 1.6, 1.45 * (len(panels) + 1) + 0.4)
    axes = fig.subplots(len(panels) + 1, n, squeeze=False)

    def show(ax: Any, img: np.ndarray) -> None:
        # display only: values outside [0, 1] (an unclipped decoder output) are clipped for imshow
        ax.imshow(
            np.clip(img.transpose(1, 2, 0), 0, 1).squeeze(),
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        ax.set_xticks([])
        ax.set_yticks([])

    for c in range(n):
        show(axes[0][c], first["original"][c])
        axes[0][c].set_title(f"label {int(first['labels'][c])}", fontsize=7)
    axes[0][0].set_ylabel("original", fontsize=8)
    for r, (label, arrays) in enumerate(panels, start=1):
        if not np.array_equal(arrays["labels"], first["labels"]):
            raise ValueError(f"visual_figure: {label} shows other images than {panels[0][0]}")
        for c in range(n):
            ax = axes[r][c]
            show(ax, arrays["reconstruction"][c])
            p = arrays["probabilities"][c]
            pred = int(np.argmax(p))
            ax.set_title(
                f"{pred} ({p[pred]:.2f})",
                fontsize=7,
                color="green" if pred == int(arrays["labels"][c]) else "red",
            )
        axes[r][0].set_ylabel(label, fontsize=7)
    fig.suptitle(title + "\nprediction (softmax confidence); green = correct", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
