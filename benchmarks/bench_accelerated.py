"""Plain against accelerated Blahut–Arimoto (issue 6), and batched against one-by-one.

Measures iterations and wall time to a certified gap (β = 0: Blahut's bound,
``gap_tol``, residual test off) or to a stationarity residual (β > 0: ``tol``), plain
(``accelerate=False``) and accelerated in the same run, on:

* line problems: n = k points on [0, 1], uniform p(x), squared error, λ grid;
* the semantic problem: scikit-learn digits (300 images and a 64-vector codebook; all
  1,797 images and a 256-vector codebook), |Y| = 10, β = 0.5;
* an IB problem just above its first (continuous) phase transition;
* batched against one-by-one: many λ on one line problem.

Plain iteration is capped (``--plain-cap``); a capped cell reports the gap it had
reached and the speed-ups as lower bounds (">=").

    python benchmarks/bench_accelerated.py                        # full grid
    python benchmarks/bench_accelerated.py --sizes 64 256 --lams 0.1 0.01 --plain-cap 20000
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

from infotheory import (
    ConvergenceWarning,
    information_bottleneck,
    rate_distortion,
    semantic_rd,
    semantic_rd_batch,
)


def line(n):
    x = np.linspace(0, 1, n)
    return np.full(n, 1 / n), (x[:, None] - x[None, :]) ** 2


def timed(fn):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fn()
    return res, time.perf_counter() - t0


def row(name, plain, tp, acc, ta, metric):
    ge = "" if plain.converged else ">="
    m_p = getattr(plain, metric)
    print(
        f"| {name} | {plain.iterations}{'' if plain.converged else ' (cap)'} | {tp:.2f} | "
        f"{m_p:.1e} | {acc.iterations} | {ta:.3f} | {getattr(acc, metric):.1e} | "
        f"{ge}{plain.iterations / acc.iterations:.0f}x | {ge}{tp / ta:.0f}x | "
        f"{abs(acc.objective - plain.objective):.1e} |",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--lams", type=float, nargs="+", default=[0.1, 0.01, 0.001])
    ap.add_argument(
        "--plain-cap",
        type=int,
        nargs="+",
        default=[100_000, 20_000, 3_000],
        help="max plain iterations per size (one value, or one per size)",
    )
    ap.add_argument("--gap", type=float, default=1e-6, help="certified gap for beta = 0 (bits)")
    ap.add_argument("--resid", type=float, default=1e-8, help="stationarity residual, beta > 0")
    ap.add_argument("--batch-n", type=int, nargs="+", default=[256, 32])
    ap.add_argument("--batch-lams", type=int, default=64)
    ap.add_argument("--skip", nargs="*", default=[], choices=["line", "semantic", "ib", "batch"])
    a = ap.parse_args()
    caps = a.plain_cap * len(a.sizes) if len(a.plain_cap) == 1 else a.plain_cap
    print(
        f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    rate_distortion([0.5, 0.5], 1 - np.eye(2), lam=0.5)  # JIT / cache load outside timing
    semantic_rd_batch([0.5, 0.5], np.eye(2), 1 - np.eye(2), lams=[0.5, 0.4], betas=[0, 1])
    hdr = (
        "| problem | plain it | plain s | plain {m} | acc it | acc s | acc {m} | it ratio | "
        "time ratio | abs(dF) bits |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    if "line" not in a.skip:
        print(hdr.format(m="gap"))
        for n, cap in zip(a.sizes, caps):
            p, d = line(n)
            for lam in a.lams:
                kw = dict(lam=lam, tol=1.0, gap_tol=a.gap)
                plain, tp = timed(
                    lambda: rate_distortion(p, d, accelerate=False, max_iter=cap, **kw)
                )
                acc, ta = timed(lambda: rate_distortion(p, d, **kw))
                row(f"line n=k={n}, λ={lam}", plain, tp, acc, ta, "gap")
    if "semantic" not in a.skip or "ib" not in a.skip:
        print("\n" + hdr.format(m="resid"))
    if "semantic" not in a.skip:
        from infotheory.sources import digits_source

        for n_samples, n_code in ((300, 64), (None, 256)):
            s = digits_source(n_samples=n_samples, n_codebook=n_code)
            for lam in (0.1, 0.03):
                kw = dict(beta=0.5, lam=lam, tol=a.resid, max_iter=100_000)
                plain, tp = timed(
                    lambda: semantic_rd(s.p_x, s.p_y_given_x, s.d_rd, accelerate=False, **kw)
                )
                acc, ta = timed(lambda: semantic_rd(s.p_x, s.p_y_given_x, s.d_rd, **kw))
                row(
                    f"digits n={s.p_x.size}, k={n_code}, |Y|=10, β=0.5, λ={lam}",
                    plain,
                    tp,
                    acc,
                    ta,
                    "residual",
                )
    if "ib" not in a.skip:
        # binary Y through a logistic curve on 32 points of [-1, 1], 4 clusters: its first
        # IB transition is continuous, at β_c = 1/λ_2 of C[x, x'] = Σ_y p(x'|y) p(y|x)
        # (the trivial solution loses stability there), and plain iteration slows down
        # like 1/(β - β_c) just above it
        n = 32
        x = np.linspace(-1, 1, n)
        p1 = 1 / (1 + np.exp(-3 * x))
        p_x, pyx = np.full(n, 1 / n), np.stack([1 - p1, p1], axis=1)
        p_xy = p_x[:, None] * pyx
        c = pyx @ (p_xy / p_xy.sum(axis=0)).T
        beta_c = 1 / np.sort(np.linalg.eigvals(c).real)[-2]
        for f in (1.01, 1.02, 1.05, 1.3):
            kw = dict(beta_ib=f * beta_c, tol=a.resid, max_iter=100_000)
            plain, tp = timed(lambda: information_bottleneck(p_x, pyx, 4, accelerate=False, **kw))
            acc, ta = timed(lambda: information_bottleneck(p_x, pyx, 4, **kw))
            row(
                f"IB logistic n=32, |Y|=2, 4 clusters, β_IB={f}·β_c={f * beta_c:.3f}",
                plain,
                tp,
                acc,
                ta,
                "residual",
            )
    for bn in [] if "batch" in a.skip else a.batch_n:
        import numba  # the batch spreads its problems over Numba's threads

        p, d = line(bn)
        lams = np.geomspace(1e-3, 1e-1, a.batch_lams)
        print(
            f"\n| {a.batch_lams} λ in [1e-3, 0.1], line n=k={bn}, gap {a.gap:g} "
            f"({numba.get_num_threads()} Numba threads) | total it | wall s |\n|---|---|---|"
        )
        for label, fn in [
            (
                "one-by-one, accelerated",
                lambda: [rate_distortion(p, d, lam=lam, tol=1.0, gap_tol=a.gap) for lam in lams],
            ),
            (
                "batched (Numba warm-up, then accelerated)",
                lambda: (
                    semantic_rd_batch(
                        p, np.ones((bn, 1)), d, lams=lams, tol=1.0, gap_tol=a.gap
                    ).results
                ),
            ),
            (
                "one-by-one, plain, 200 steps each",
                lambda: [
                    rate_distortion(
                        p, d, lam=lam, tol=1.0, gap_tol=a.gap, accelerate=False, max_iter=200
                    )
                    for lam in lams
                ],
            ),
            (
                "batched plain (Numba), 200 steps each",
                lambda: (
                    semantic_rd_batch(
                        p,
                        np.ones((bn, 1)),
                        d,
                        lams=lams,
                        tol=1.0,
                        gap_tol=a.gap,
                        accelerate=False,
                        max_iter=200,
                    ).results
                ),
            ),
        ]:
            res, t = timed(fn)
            conv = sum(r.converged for r in res)
            print(
                f"| {label} ({conv}/{len(res)} certified) | {sum(r.iterations for r in res)} | {t:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
