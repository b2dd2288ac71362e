"""The semantic R-D family over β on the 8×8 handwritten digits (scikit-learn, offline).

Discrete analogue of the paper's image experiments: source = digit images,
reproduction codebook = k-means centroids, d_RD = per-pixel MSE, task label = the
digit. At a fixed rate, sweeping β from 0 (pure reconstruction) upwards trades
reconstruction distortion D_RD for task relevance I(X̂;Y) — the theoretical
counterpart of the paper's Fig. 9. Also draws the rate–D_RD curves and the
information plane for a few β.

    python examples/digits_semantic_family.py [--out digits_semantic_family.png]
"""

from __future__ import annotations

import argparse

from infotheory.curves import beta_family, curve_family
from infotheory.plotting import new_figure, plot_curve, plot_information_plane, save_figure
from infotheory.sources import digits_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="digits_semantic_family.png", help="PNG path")
    ap.add_argument("--samples", type=int, default=200, help="number of images (default 200)")
    ap.add_argument("--codebook", type=int, default=24, help="codebook size (default 24)")
    ap.add_argument("--rate", type=float, default=1.5, help="fixed rate of the β family, bits")
    args = ap.parse_args()

    src = digits_source(n_samples=args.samples, n_codebook=args.codebook, label_error=0.02)
    print(src.name)
    betas = [0.0, 0.003, 0.01, 0.03, 0.1, 0.3]
    fam = beta_family(*src, betas=betas, rate=args.rate, rate_atol=1e-4, tol=1e-7, max_iter=3000)
    print(
        f"beta family at rate {args.rate} bits ({fam.total_iterations} iterations, {fam.wall_time:.1f} s; "
        f"{int(fam.converged.sum())}/{len(fam)} points converged to tol 1e-7 within 3000 iterations)"
    )
    print(f"{'beta':>7} {'lambda':>9} {'rate':>7} {'D_RD':>9} {'I(Xh;Y)':>8}")
    for i in range(len(fam)):
        print(
            f"{fam.beta[i]:7.3g} {fam.lam[i]:9.4g} {fam.rate[i]:7.4f} {fam.distortion_rd[i]:9.5f} "
            f"{fam.relevance[i]:8.4f}"
        )
    curves = curve_family(
        *src, betas=[0.0, 0.03, 0.3], lam_range=(0.003, 1.0), n_points=16, tol=1e-7, max_iter=3000
    )
    for c in curves:
        print(
            f"curve beta = {c.beta[0]:g}: {len(c)} points, rate {c.rate.min():.3f}..{c.rate.max():.3f} bits, "
            f"I(Xh;Y) up to {c.relevance.max():.3f} bits, {c.total_iterations} iterations, {c.wall_time:.1f} s"
        )
    fig, axes = new_figure(3, width=4.0)
    a = axes[0]
    a.plot(fam.beta[1:], fam.distortion_rd[1:], "o-", ms=3, label="D_RD")
    a.axhline(fam.distortion_rd[0], ls=":", color="gray", label="β = 0")
    a2 = a.twinx()
    a2.plot(fam.beta[1:], fam.relevance[1:], "s-", ms=3, color="C1", label="I(X̂;Y)")
    a2.axhline(fam.relevance[0], ls=":", color="C1")
    a.set_xscale("log")
    a.set_xlabel("β")
    a.set_ylabel("D_RD (per-pixel MSE)")
    a2.set_ylabel("I(X̂;Y) [bits]", color="C1")
    a.set_title(f"β family at I(X;X̂) = {args.rate} bits", fontsize=9)
    a.legend(fontsize=7, loc="center left")
    plot_curve(
        curves,
        ax=axes[1],
        x="distortion_rd",
        bound=False,
        envelope=False,
        title="rate vs D_RD for three β",
    )
    plot_information_plane(curves, ax=axes[2], title="information plane")
    save_figure(fig, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
