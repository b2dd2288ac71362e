"""The global strategy of ``semantic_rd`` (β > 0) against best-of-31 starts (issue 10).

Family (seeded, reproducible): 120 random problems with n, k ∈ {2..6}, |Y| ∈ {2, 3},
p(x) and every row of p(y|x) Dirichlet(1), d_RD uniform on [0, 1), β ∈ {1, 10, 100},
λ log-uniform on [0.03, 3].

For every problem:

* the reference: the lowest F of 31 single-start solves (``restarts=0``): random
  starts with seeds 1..30 and the uniform start;
* for each ``--restarts`` value R: ``semantic_rd(..., restarts=R)`` (R = ``default``:
  the default call); reported are the problems where its F is above the reference by
  more than ``--tie`` bits ("worse", with the gap), those where it is below by more
  than ``--tie`` ("better"), and its wall time over that of one single-start solve
  (``restarts=0``, seed 0, timed just before it) — median and max; each time is the
  minimum of ``--repeat`` runs.

    python benchmarks/bench_global.py                        # default call only
    python benchmarks/bench_global.py --restarts 0 1 2 3 default 8
"""

from __future__ import annotations

import argparse
import math
import platform
import time
import warnings

import numpy as np

from infotheory import ConvergenceWarning, semantic_rd


def family(seed: int, count: int) -> list[tuple]:
    """``count`` problems ``(p_x, p_y_given_x, d_rd, beta, lam)`` (module docstring)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n, k, m = int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.integers(2, 4))
        px = rng.dirichlet(np.ones(n))
        pyx = rng.dirichlet(np.ones(m), size=n)
        d = rng.random((n, k))
        beta = float(rng.choice([1.0, 10.0, 100.0]))
        lam = float(np.exp(rng.uniform(math.log(0.03), math.log(3))))
        out.append((px, pyx, d, beta, lam))
    return out


def timed(repeat: int, fn):
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2026, help="seed of the problem family")
    ap.add_argument("--count", type=int, default=120)
    ap.add_argument(
        "--restarts",
        nargs="+",
        default=["default"],
        help="restarts values to measure ('default' = the default call)",
    )
    ap.add_argument(
        "--tie", type=float, default=1e-6, help="F differences below this (bits) are ties"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timings: minimum of this many runs")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    probs = family(a.seed, a.count)
    semantic_rd(*probs[0][:3], beta=probs[0][3], lam=probs[0][4])  # compile the kernels
    t0 = time.perf_counter()
    ref = []
    for px, pyx, d, beta, lam in probs:
        kw = dict(beta=beta, lam=lam, restarts=0)
        fs = [semantic_rd(px, pyx, d, seed=s, **kw).objective for s in range(1, 31)]
        fs.append(semantic_rd(px, pyx, d, init="uniform", **kw).objective)
        ref.append(min(fs))
    print(
        f"# family seed {a.seed}, {a.count} problems; reference (31 starts) in "
        f"{time.perf_counter() - t0:.1f} s; {platform.processor() or platform.machine()}"
    )
    summary = {}
    print(
        "| restarts | worse than best-of-31 (> tie) | largest gap (bits) | better | "
        "median cost (× single start) | max cost |\n|---|---|---|---|---|---|"
    )
    for spec in a.restarts:
        r_arg = None if spec == "default" else int(spec)
        worse, better, ratio = [], 0, []
        for i, (px, pyx, d, beta, lam) in enumerate(probs):
            # the single-start solve (restarts=0, seed 0) timed right before, alike
            _, t1 = timed(a.repeat, lambda: semantic_rd(px, pyx, d, beta=beta, lam=lam, restarts=0))
            res, t = timed(
                a.repeat, lambda: semantic_rd(px, pyx, d, beta=beta, lam=lam, restarts=r_arg)
            )
            gap = res.objective - ref[i]
            if gap > a.tie:
                worse.append((i, beta, lam, gap))
            elif gap < -a.tie:
                better += 1
            ratio.append(t / t1)
        largest = max((w[3] for w in worse), default=0.0)
        print(
            f"| {spec} | {len(worse)} | {largest:.3g} | {better} | {np.median(ratio):.1f} | "
            f"{np.max(ratio):.1f} |"
        )
        for i, beta, lam, gap in worse if len(worse) <= 5 else []:
            print(f"|   worse: problem {i} (β = {beta:g}, λ = {lam:.3g}) | by {gap:.3g} bits |||||")
        summary[spec] = dict(
            worse=worse,
            better=better,
            median_ratio=float(np.median(ratio)),
            max_ratio=float(np.max(ratio)),
        )
    return summary


if __name__ == "__main__":
    main()
