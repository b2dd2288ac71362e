"""Discretised Gaussian source, squared error: R(D) against ½·log₂(σ²/D).

A N(0, σ²) source on a uniform grid, reproduction on the same grid, β = 0.
The finite grid follows the continuous closed form at moderate rates and
saturates at ``H(X)`` at high rates; the figure shows both, and a semantic curve
(β > 0, task label = sign of x through a noisy channel) for comparison.

    python examples/gaussian_rd.py [--out gaussian_rd.png]
"""

from __future__ import annotations

import argparse

import numpy as np

from infotheory.curves import semantic_rd_curve
from infotheory.plotting import new_figure, plot_curve, plot_information_plane, save_figure
from infotheory.sources import gaussian_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="gaussian_rd.png", help="PNG path (default ./gaussian_rd.png)")
    ap.add_argument("--grid", type=int, default=41, help="grid points (default 41)")
    ap.add_argument("--beta", type=float, default=0.5, help="β of the semantic curve (default 0.5)")
    args = ap.parse_args()

    src = gaussian_source(1.0, n_points=args.grid, width=4.0, label_error=0.05)
    lams = np.geomspace(1.8, 0.03, 20)  # slope -1/λ: D ≈ λ/2 for the continuous source
    kw = dict(lams=lams, tol=1e-9, max_iter=20_000)
    c0 = semantic_rd_curve(*src, beta=0.0, **kw)
    cb = semantic_rd_curve(*src, beta=args.beta, **kw)
    cf = src.closed_form(c0.distortion_rd)
    mid = (c0.rate > 0.2) & (c0.rate < 2.0)
    print(f"{src.name}")
    print(
        f"beta = 0: {len(c0)} points, {c0.total_iterations} iterations, {c0.wall_time:.1f} s; "
        f"max |R - 0.5 log2(var/D)| for 0.2 < R < 2 bits: {np.abs(c0.rate - cf)[mid].max():.3e} bits"
    )
    print(
        f"          D = lambda/2 (continuous slope rule): max rel. error "
        f"{np.max(np.abs(c0.distortion_rd[mid] / (c0.lam[mid] / 2) - 1)):.2e}"
    )
    print(
        f"beta = {args.beta}: {cb.total_iterations} iterations, {cb.wall_time:.1f} s; at lambda = "
        f"{lams[10]:.3g}: I(Xh;Y) {c0.relevance[10]:.4f} -> {cb.relevance[10]:.4f} bits, "
        f"D_RD {c0.distortion_rd[10]:.4f} -> {cb.distortion_rd[10]:.4f}"
    )
    fig, axes = new_figure(2, width=4.4)
    plot_curve(
        c0,
        ax=axes[0],
        x="distortion_rd",
        closed_form=src.closed_form,
        title="Gaussian σ² = 1: R(D) vs ½ log₂(σ²/D)",
    )
    plot_information_plane(
        [c0, cb],
        ax=axes[1],
        labels=["β = 0", f"β = {args.beta:g}"],
        title="task relevance (label = sign of x)",
    )
    save_figure(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
