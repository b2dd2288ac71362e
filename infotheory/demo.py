"""The fresh-machine demo of ``python -m infotheory`` (no arguments): the binary
source's R(D) against its closed form ``h(p) − h(D)`` and a semantic R-D example,
printed and drawn to ``<out>/theoretical_curves.png``."""

from __future__ import annotations

import math
import os
import time

import numpy as np

__all__ = ["run_demo"]


def run_demo(out: str) -> int:
    """The fresh-machine check: binary R(D) vs closed form + one semantic R-D example.

    Prints two small tables and writes ``<out>/theoretical_curves.png``."""
    from .curves import semantic_rd_curve
    from .plotting import new_figure, plot_curve, plot_information_plane, save_figure
    from .sources import binary_rate_distortion, binary_source, source_from_data

    t0 = time.perf_counter()
    p = 0.25
    src = binary_source(p)
    c = semantic_rd_curve(
        *src, beta=0.0, lam_range=(0.1, 1.0 / math.log((1 - p) / p) * 1.3), n_points=12
    )
    cf = binary_rate_distortion(p, c.distortion_rd)
    print(
        f"Binary source p = {p}, Hamming distortion: R(D) from the solver (eq. 17, beta = 0) "
        "against h(p) - h(D) [bits]"
    )
    print(
        f"{'lambda':>9} {'D':>10} {'R solver':>10} {'h(p)-h(D)':>10} {'|diff|':>9} {'Blahut LB':>10}"
    )
    for i in range(len(c)):
        print(
            f"{c.lam[i]:9.4f} {c.distortion_rd[i]:10.6f} {c.rate[i]:10.6f} {cf[i]:10.6f} "
            f"{abs(c.rate[i] - cf[i]):9.2e} {c.rate_lower_bound[i]:10.6f}"
        )
    err = float(np.max(np.abs(c.rate - cf)))
    print(
        f"max |R_solver - R_closed| = {err:.2e} bits over {len(c)} points "
        f"({c.total_iterations} iterations)"
    )

    # semantic example: 8 amplitude levels, the task label is the sign, seen through a BSC(0.1)
    levels = np.arange(8, dtype=float)[:, None]
    sem = source_from_data(
        levels / 7.0,
        (levels[:, 0] >= 4).astype(int),
        codebook=levels / 7.0,
        label_error=0.1,
        name="8-level source, sign label",
    )
    lams = np.geomspace(0.3, 0.004, 14)
    sem_curves = [semantic_rd_curve(*sem, beta=b, lams=lams) for b in (0.0, 0.05)]
    print()
    print(
        f"Semantic R-D ({sem.name}): D_S = D_RD + beta*D_IB (eq. 6); beta > 0 steers the encoder "
        "towards the task: more I(Xh;Y) at comparable rate, paid in D_RD"
    )
    print(f"{'beta':>6} {'lambda':>9} {'rate':>9} {'D_RD':>9} {'I(Xh;Y)':>9}")
    for cc in sem_curves:
        for i in range(0, len(cc), 3):
            print(
                f"{cc.beta[i]:6.3g} {cc.lam[i]:9.4f} {cc.rate[i]:9.4f} {cc.distortion_rd[i]:9.5f} "
                f"{cc.relevance[i]:9.4f}"
            )
    fig, axes = new_figure(3, width=4.0)
    plot_curve(
        c,
        ax=axes[0],
        x="distortion_rd",
        closed_form=src.closed_form,
        title=f"binary p={p}: R(D) vs h(p)-h(D)",
    )
    plot_curve(
        sem_curves,
        ax=axes[1],
        x="distortion_rd",
        bound=False,
        envelope=False,
        title="semantic R-D: rate vs D_RD",
    )
    plot_information_plane(sem_curves, ax=axes[2], title="information plane")
    path = os.path.join(out, "theoretical_curves.png")
    save_figure(fig, path)
    print(f"\nwrote {path} ({time.perf_counter() - t0:.1f} s)")
    return 0
