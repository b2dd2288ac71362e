"""Information bottleneck on a small source, with its phase transitions located.

Anneals in β_IB from the trivial solution (d_RD ≡ 0, λ = 1/β_IB), records the
effective number of clusters, bisects every change of it to a relative tolerance
of 1e-4, and checks the first one against the analytic value β_IB = 1/ρ², ρ² the
largest non-trivial eigenvalue of ``M[x, x'] = Σ_y p(y|x) p(x'|y)``.

    python examples/ib_phase_transitions.py [--out ib_phase_transitions.png]
"""

from __future__ import annotations

import argparse

import numpy as np

from infotheory.curves import ib_curve
from infotheory.plotting import new_figure, plot_information_plane, save_figure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="ib_phase_transitions.png", help="PNG path")
    args = ap.parse_args()

    # 6 source symbols in three groups, 3 labels
    p_x = np.array([0.25, 0.15, 0.2, 0.1, 0.2, 0.1])
    p_y = np.array(
        [
            [0.85, 0.10, 0.05],
            [0.75, 0.15, 0.10],
            [0.10, 0.80, 0.10],
            [0.20, 0.70, 0.10],
            [0.05, 0.15, 0.80],
            [0.30, 0.30, 0.40],
        ]
    )
    joint = p_x[:, None] * p_y
    m = p_y @ (joint / joint.sum(axis=0)).T
    rho2 = np.sort(np.linalg.eigvals(m).real)[-2]
    betas = np.geomspace(0.8 / rho2, 200.0, 40)
    c = ib_curve(p_x, p_y, 6, beta_ibs=betas, transition_rtol=1e-4)
    print(f"analytic first transition: beta_IB = 1/rho^2 = {1 / rho2:.6f}")
    for t in c.transitions:
        print(
            f"transition: beta_IB in [{1 / t.upper:.6f}, {1 / t.lower:.6f}], "
            f"clusters {t.n_before} -> {t.n_after} ({t.probes} probes)"
        )
    first = 1 / c.transitions[0].critical
    print(
        f"first located transition {first:.6f}: relative error {abs(first * rho2 - 1):.1e}; "
        f"{len(c)} points, {c.total_iterations} iterations, {c.wall_time:.1f} s"
    )
    fig, axes = new_figure(2, width=4.4)
    plot_information_plane(c, ax=axes[0], title="IB information plane, transitions ★")
    ax = axes[1]
    ax.step(1 / c.lam, c.n_effective, where="post")
    for t in c.transitions:
        ax.axvline(1 / t.critical, ls=":", color="crimson", lw=1)
    ax.axvline(1 / rho2, ls="--", color="k", lw=1, label="1/ρ² (analytic)")
    ax.set_xscale("log")
    ax.set_xlabel("β_IB")
    ax.set_ylabel("effective clusters")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    save_figure(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
