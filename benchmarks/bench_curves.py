"""Benchmark of theoretical curves: warm vs cold starts, parallel vs serial, targets.

A 100-point semantic R-D curve at |X| = |X̂| = n (default 1024), |Y| = 10, on a
ring source: n points on a circle with a smooth non-uniform p(x) (a von Mises
density), squared chordal distance as d_RD, labels = 10 arcs of the circle seen
through a 10-ary symmetric channel with error 0.05. All variants run in the same
process, one after the other, on the same λ grid:

1. warm starts, serial (the default sweep);
2. independent cold starts (seeded random encoders), serial;
3. warm starts split into ``--jobs`` independent chains in worker processes
   (β = 0 only) and cold starts in ``--jobs`` workers;
4. the target solver (rate = 4 bits) with warm vs cold evaluations;

once with the solver's default (``accelerate="auto"``: at β = 0, plain warm-up
steps then an accelerated phase) and once with the plain eq. (17) iteration
(``accelerate=False``; parallel variants only for the default). ``--max-iter``
caps every solve, so a capped cold count is a lower bound on the cold cost.

Reported: total solver iterations, wall time, points converged, and the largest
rate difference between warm and cold curves (they must agree: β = 0 is convex).

    python benchmarks/bench_curves.py [--n 1024] [--points 100] [--beta 0] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from infotheory.curves import semantic_rd_curve, solve_for_rate
from infotheory.sources import label_channel


def ring_source(n: int, n_classes: int = 10, label_error: float = 0.05):
    theta = 2 * np.pi * np.arange(n) / n
    w = np.exp(1.5 * np.cos(theta))
    p_x = w / w.sum()
    d = 2.0 - 2.0 * np.cos(theta[:, None] - theta[None, :])  # |e^{iθ} - e^{iθ'}|²
    labels = (np.arange(n) * n_classes) // n
    return p_x, label_channel(labels, n_classes, error=label_error), d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--beta", type=float, default=0.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--lam-min", type=float, default=0.003)
    ap.add_argument("--lam-max", type=float, default=0.15)
    ap.add_argument(
        "--max-iter", type=int, default=600, help="iteration cap per solve (cold starts hit it)"
    )
    ap.add_argument("--tol", type=float, default=1e-8, help="solver tol (and gap_tol at beta = 0)")
    ap.add_argument("--skip-parallel", action="store_true")
    args = ap.parse_args()

    p_x, p_y, d = ring_source(args.n)
    kw = dict(
        beta=args.beta,
        n_points=args.points,
        lam_range=(args.lam_min, args.lam_max),
        max_iter=args.max_iter,
        tol=args.tol,
        progress=False,
    )
    print(
        f"# bench_curves: n = k = {args.n}, |Y| = {p_y.shape[1]}, beta = {args.beta}, "
        f"{args.points} points, lam in [{args.lam_min}, {args.lam_max}], max_iter {args.max_iter}, tol {args.tol}"
    )
    print(
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    # compile the Numba kernels outside the timings
    semantic_rd_curve(p_x, p_y, d, beta=args.beta, lams=[1.0, 0.5], max_iter=60)
    semantic_rd_curve(p_x, p_y, d, beta=args.beta, lams=[1.0, 0.5], max_iter=60, accelerate=False)
    for accel in ("auto", False):
        mode = "accelerated solver (default)" if accel == "auto" else "plain eq. (17) iteration"
        print(f"## {mode}: accelerate={accel!r}")
        variants = [("warm, serial", dict(warm=True)), ("cold, serial", dict(warm=False))]
        if accel == "auto" and not args.skip_parallel and args.jobs > 1:
            if args.beta == 0:
                variants.append(
                    (
                        f"warm, {args.jobs} chains in {args.jobs} processes",
                        dict(warm=True, n_jobs=args.jobs),
                    )
                )
            variants.append((f"cold, {args.jobs} processes", dict(warm=False, n_jobs=args.jobs)))
        rows, curves = [], {}
        for label, extra in variants:
            t0 = time.perf_counter()
            c = semantic_rd_curve(p_x, p_y, d, accelerate=accel, **kw, **extra)
            dt = time.perf_counter() - t0
            curves[label] = c
            rows.append((label, c.total_iterations, dt))
            print(
                f"{label:<34} iterations {c.total_iterations:>9d}   wall {dt:8.2f} s   "
                f"converged {int(c.converged.sum())}/{len(c)}",
                flush=True,
            )
        w, cold = curves["warm, serial"], curves["cold, serial"]
        both = w.converged & cold.converged
        print(
            f"# warm starts: {cold.total_iterations / w.total_iterations:.2f}x fewer iterations than cold, "
            f"wall {rows[1][2] / rows[0][2]:.2f}x faster"
        )
        diff = np.max(np.abs(w.rate - cold.rate)[both]) if both.any() else float("nan")
        print(
            f"# max |rate_warm - rate_cold| over the {int(both.sum())} points both converged: {diff:.2e} bits"
        )
        for label, iters, dt in rows[2:]:
            ref = rows[0] if label.startswith("warm") else rows[1]
            print(
                f"# {label}: {ref[2] / dt:.2f}x the speed of serial ({iters} vs {ref[1]} iterations)"
            )
        for warm in (True, False):
            t0 = time.perf_counter()
            tr = solve_for_rate(
                p_x,
                p_y,
                d,
                beta=args.beta,
                rate=4.0,
                atol=1e-6,
                warm=warm,
                max_iter=args.max_iter,
                tol=args.tol,
                accelerate=accel,
            )
            dt = time.perf_counter() - t0
            print(
                f"target rate 4 bits, {'warm' if warm else 'cold'}: lambda = {tr.lam:.8g}, "
                f"rate {tr.value:.8f}, {tr.evaluations} evaluations, {tr.total_iterations} iterations, "
                f"{dt:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
