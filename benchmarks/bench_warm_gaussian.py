"""Warm against cold starts on the discretised Gaussian (issue 10): certified and no slower.

The 201-point Gaussian of ``infotheory.sources.gaussian_source()`` (σ² = 1, squared
error, |X̂| = 201), β = 0, 12 points over the default λ range; the default warm sweep
against ``warm=False`` (independent seeded cold starts), ``--runs`` times each,
alternating. Reports wall time, total iterations and whether every point is
certified (Blahut gap ≤ 1e-10 bits).

    python benchmarks/bench_warm_gaussian.py [--runs 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from infotheory import semantic_rd_curve
from infotheory.sources import gaussian_source


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--points", type=int, default=12)
    a = ap.parse_args(argv)
    s = gaussian_source()
    semantic_rd_curve(s.p_x, s.p_y_given_x, s.d_rd, beta=0, n_points=2)  # compile
    print(
        "| run | start | wall s | iterations | certified points | max gap (bits) |\n"
        "|---|---|---|---|---|---|"
    )
    for run in range(a.runs):
        for warm in (True, False):
            t = time.perf_counter()
            c = semantic_rd_curve(
                s.p_x, s.p_y_given_x, s.d_rd, beta=0, n_points=a.points, warm=warm
            )
            wall = time.perf_counter() - t
            gap = c.rate - c.rate_lower_bound
            ok = int(np.sum(c.converged & (gap <= 1e-10)))
            print(
                f"| {run + 1} | {'warm' if warm else 'cold'} | {wall:.2f} | {c.total_iterations} | "
                f"{ok}/{len(c)} | {gap.max():.2g} |"
            )


if __name__ == "__main__":
    main()
