"""The ``reconstructions.png`` of a run: test images against each stage's reconstructions."""

from __future__ import annotations

import torch


def save_reconstructions(examples: dict[str, torch.Tensor], path: str) -> None:
    """Originals against reconstructions, one row each (display only: values clipped to [0, 1])."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(examples)
    n = examples[rows[0]].shape[0]
    fig = Figure(figsize=(1.2 * n + 1.5, 1.3 * len(rows)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, name in enumerate(rows):
        imgs = examples[name].clamp(0, 1).permute(0, 2, 3, 1).numpy()
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(imgs[c], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                shown = {"codec": "Alg. 3 codec"}.get(name, name.replace("beta=", "β="))
                ax.set_ylabel(shown, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
