"""Accelerated against plain iteration for β > 0 and the IB on random problems (issue 6).

The problem is not convex, so "the accelerated path ends at the stationary point plain
iteration reaches" is a measured fact, not a theorem. This script measures it: for
each random problem both paths run from the same seeded start to a residual of 1e-10
(plain capped at ``--cap`` steps), and the final objectives are compared (1e-9 bits).

Three families (all seeds fixed, so the run is reproducible):

* ``small``: n = 2-13, k = 2-8, |Y| = 2-4, β in [0.01, 10], λ in [0.02, 5], a quarter IB;
* ``medium``: n = 10-59, k = 4-23, |Y| = 2-6, labels from nearly one-hot to uniform;
* ``ib-heavy``: n = 6-39, k = 3-15, 60 % IB, β in [0.5, 30] (many clusters, transitions).

    python benchmarks/bench_agreement.py            # 1,210 problems, about 1 minute
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from infotheory import ConvergenceWarning, semantic_rd


def random_problem(rng, n_range, k_range, m_max, label_conc):
    """Semantic RD (a quarter of the time d_RD = 0: the IB) with β in [0.01, 10] and λ
    in [0.02, 5]; Dirichlet labels with a concentration drawn from ``label_conc``."""
    n, k, m = rng.integers(*n_range), rng.integers(*k_range), rng.integers(2, m_max + 1)
    px = rng.dirichlet(np.ones(n))
    pyx = rng.dirichlet(np.ones(m) * rng.choice(label_conc), size=n)
    d = rng.random((n, k)) * rng.choice([0, 1, 1, 1])
    beta = float(np.exp(rng.uniform(math.log(0.01), math.log(10))))
    lam = float(np.exp(rng.uniform(math.log(0.02), math.log(5))))
    return px, pyx, d, beta, lam, int(rng.integers(100))


def small(rng):
    return random_problem(rng, (2, 14), (2, 9), 4, [0.2, 1, 5])


def medium(rng):
    return random_problem(rng, (10, 60), (4, 24), 6, [0.05, 0.2, 1, 5])


def ib_heavy(rng):
    n, k, m = rng.integers(6, 40), rng.integers(3, 16), rng.integers(2, 5)
    px = rng.dirichlet(np.ones(n))
    pyx = rng.dirichlet(np.ones(m) * rng.choice([0.1, 0.5, 2]), size=n)
    ib = rng.random() < 0.6
    d = np.zeros((n, k)) if ib else rng.random((n, k))
    beta = float(np.exp(rng.uniform(math.log(0.5), math.log(30))))
    lam = 1.0 if ib else float(np.exp(rng.uniform(math.log(0.05), math.log(2))))
    return px, pyx, d, beta, lam, int(rng.integers(100))


RUNS = [
    ("small", small, 0, 300),
    ("small", small, 1, 300),
    ("medium", medium, 3, 80),
    ("medium", medium, 4, 80),
    ("ib-heavy", ib_heavy, 10, 150),
    ("ib-heavy", ib_heavy, 11, 150),
    ("ib-heavy", ib_heavy, 12, 150),
]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--cap", type=int, default=200_000, help="max plain iterations")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(
        "| family (seed) | problems | same (1e-9 bits) | acc lower | acc higher | plain capped "
        "| plain it | acc it | plain s | acc s |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    for name, gen, seed, count in RUNS:
        rng = np.random.default_rng(seed)
        same = lower = higher = capped = 0
        it_p = it_a = 0
        t_p = t_a = 0.0
        odd = []
        for i in range(count):
            px, pyx, d, beta, lam, s0 = gen(rng)
            kw = dict(beta=beta, lam=lam, seed=s0, tol=1e-10)
            t0 = time.perf_counter()
            p = semantic_rd(px, pyx, d, accelerate=False, max_iter=a.cap, **kw)
            t1 = time.perf_counter()
            q = semantic_rd(px, pyx, d, max_iter=a.cap, **kw)
            t2 = time.perf_counter()
            t_p, t_a = t_p + t1 - t0, t_a + t2 - t1
            it_p, it_a = it_p + p.iterations, it_a + q.iterations
            capped += not p.converged
            df = q.objective - p.objective
            if abs(df) <= 1e-9:
                same += 1
            else:
                lower, higher = lower + (df < 0), higher + (df > 0)
                odd.append(f"#{i}: {df:+.2e}{'' if p.converged else ' (plain capped)'}")
        print(
            f"| {name} ({seed}) | {count} | {same} | {lower} | {higher} | {capped} | {it_p} | {it_a} | "
            f"{t_p:.1f} | {t_a:.1f} |",
            flush=True,
        )
        for o in odd:
            print(f"|   {o} bits |||||||||", flush=True)


if __name__ == "__main__":
    main()
