"""Gaussian-staircase benchmark of the MI estimators (Poole et al. 2019; as CLUB uses).

Protocol: x, y in R^d componentwise correlated, true I(X;Y) stepping through the levels
(2, 4, 6, 8, 10 nats by default), ``--steps`` training steps per level (4,000 in the
protocol), batch 64, fresh samples every step, one estimator trained continuously
through the staircase (one Adam optimiser). The per-step value is the estimate on the
step's fresh batch, taken before the update. Per level it reports, against the true I
(and for CLUB also against its exact-q value d (e^{2I/d} - 1)):

    bias = mean(est) - I,  sd = per-batch standard deviation,  mse = mean((est - I)^2)

over all steps of the level, ``bias_tail`` over the last ``--tail`` steps, and with
several seeds the seed-to-seed sd of the per-level mean. Time per training step
(forward, backward, Adam, sampling) on ``--threads`` CPU threads: a best-of-7 table
first (robust to other load), then the mean over the whole run in the last column.

    python benchmarks/bench_mi.py                                   # full protocol
    python benchmarks/bench_mi.py --estimators mine --dims 5 --levels 2 4 6 --transforms gaussian
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Iterator

import numpy as np
import torch

from neural.mi import fit, make_estimator
from neural.mi.estimate import METHODS
from neural.mi.testing import STAIRCASE_MI, club_exact_q, gaussian_staircase_batches

NEURAL_GAUSSIAN = ("club", "club-sample", "mine", "nwj", "infonce", "smile")


def staircase(dim: int, levels: list[float], steps: int, batch: int, cubic: bool, seed: int) -> Iterator:
    for k, mi in enumerate(levels):
        yield from itertools.islice(
            gaussian_staircase_batches(dim, mi, batch, cubic=cubic, seed=1000 * seed + k), steps
        )


def run_cell(
    method: str, dim: int, levels: list[float], steps: int, batch: int, cubic: bool, seed: int,
    lr: float | None, hidden: list[int] | None,
):
    est = make_estimator(method, dim, dim, seed=seed, hidden=hidden)
    batches = staircase(dim, levels, steps, batch, cubic, seed)
    t0 = time.perf_counter()
    trace = fit(est, batches, steps * len(levels), lr=lr if lr is not None else est.default_lr)
    ms = 1e3 * (time.perf_counter() - t0) / (steps * len(levels))
    return trace.reshape(len(levels), steps), ms


def time_per_step(method: str, dim: int, batch: int, *, repeats: int = 7, steps: int = 100) -> tuple[float, float]:
    """Time (ms) of one training step (batch sampling, forward, backward, Adam):
    best-of-``repeats`` wall-clock mean over ``steps`` steps, and the same for the
    process CPU time (with one thread, what the wall time is on an idle core; robust to
    other jobs sharing the CPU)."""
    est = make_estimator(method, dim, dim, seed=0)
    batches = gaussian_staircase_batches(dim, 2.0, batch, seed=0)
    fit(est, batches, 20)  # warm-up
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fit(est, batches, steps)
        best = min(best, (time.perf_counter() - t0) / steps)
        best_cpu = min(best_cpu, (time.process_time() - c0) / steps)
    return 1e3 * best, 1e3 * best_cpu


def exact_critic_reference(dim: int, mi: float, batch: int, n_batches: int = 1000) -> tuple[float, float, float]:
    """Eq. (39) per batch with the *exact* critic T = log p(x,y)/(p(x)p(y)), all pairs
    i != j: (bias, per-batch sd, InfoNCE mean). The floor a trained MINE can reach at
    this batch size; no training involved."""
    from neural.mi.base import logmeanexp_offdiag
    from neural.mi.testing import rho_from_mi, sample_gaussian_pair

    rho = rho_from_mi(mi, dim)
    s2 = 1.0 - rho * rho
    gen = torch.Generator().manual_seed(0)
    dv, nce = [], []
    for _ in range(n_batches):
        x, y = sample_gaussian_pair(batch, dim, mi, generator=gen, dtype=torch.float64)
        diff = y[None, :, :] - rho * x[:, None, :]
        t = (-0.5 * diff**2 / s2 - 0.5 * np.log(s2)).sum(-1) + 0.5 * (y**2).sum(-1)[None, :]
        dv.append(float(torch.diagonal(t).mean() - logmeanexp_offdiag(t)))
        nce.append(float((torch.diagonal(t) - torch.logsumexp(t, 1)).mean() + np.log(batch)))
    return float(np.mean(dv) - mi), float(np.std(dv)), float(np.mean(nce))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--estimators", nargs="+", default=list(NEURAL_GAUSSIAN), choices=[m for m in METHODS if m in NEURAL_GAUSSIAN])
    ap.add_argument("--dims", nargs="+", type=int, default=[5, 20])
    ap.add_argument("--levels", nargs="+", type=float, default=list(STAIRCASE_MI))
    ap.add_argument("--transforms", nargs="+", default=["gaussian", "cubic"], choices=["gaussian", "cubic"])
    ap.add_argument("--steps", type=int, default=4000, help="training steps per level")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--tail", type=int, default=1000, help="steps at the end of each level for bias_tail")
    ap.add_argument("--lr", type=float, default=None, help="Adam learning rate (default: per estimator)")
    ap.add_argument("--hidden", nargs="+", type=int, default=None, help="hidden widths (default: per estimator)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timing-only", action="store_true", help="only the time-per-step table")
    ap.add_argument("--no-reference", action="store_true", help="skip the exact-critic reference table")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    print(f"# time per training step, batch {args.batch}, {args.threads} thread(s), best of 7 x 100 steps")
    print("| estimator | d | wall ms/step | CPU ms/step |")
    print("|---|---|---|---|")
    for method, dim in itertools.product(args.estimators, args.dims):
        wall, cpu = time_per_step(method, dim, args.batch)
        print(f"| {method} | {dim} | {wall:.2f} | {cpu:.2f} |", flush=True)
    if args.timing_only:
        return
    if not args.no_reference:
        print(f"\n# reference: eq. (39) per batch of {args.batch} with the exact critic (no training), 1000 batches")
        print("| d | I | MINE bias | MINE sd | InfoNCE mean |")
        print("|---|---|---|---|---|")
        for dim, mi in itertools.product(args.dims, args.levels):
            b, sd, nce = exact_critic_reference(dim, mi, args.batch)
            print(f"| {dim} | {mi:g} | {b:+.3f} | {sd:.3f} | {nce:.3f} |", flush=True)
        print()

    print(f"# staircase: batch {args.batch}, {args.steps} steps/level, levels {args.levels} nats, "
          f"seeds {args.seeds}, lr {args.lr or 'default'}, hidden {args.hidden or 'default'}, "
          f"{args.threads} thread(s), torch {torch.__version__}")
    print("| estimator | d | transform | I | bias | sd | MSE | bias_tail | seed sd | CLUB exact-q | bias vs exact-q (%) | ms/step (loaded) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for method, dim, tf in itertools.product(args.estimators, args.dims, args.transforms):
        traces, times = [], []
        for seed in args.seeds:
            tr, ms = run_cell(method, dim, args.levels, args.steps, args.batch, tf == "cubic", seed, args.lr, args.hidden)
            traces.append(tr)
            times.append(ms)
        traces = np.stack(traces)  # (seeds, levels, steps)
        for k, mi in enumerate(args.levels):
            v = traces[:, k, :]
            bias = v.mean() - mi
            sd = v.std(axis=1).mean()
            mse = np.mean((v - mi) ** 2)
            tail = v[:, -args.tail :].mean() - mi
            seed_sd = v.mean(axis=1).std(ddof=1) if len(args.seeds) > 1 else float("nan")
            q = ""
            rel = ""
            if method.startswith("club"):
                qv = club_exact_q(mi, dim)
                q = f"{qv:.2f}"
                rel = f"{100 * (v.mean() - qv) / qv:+.1f}"
            print(f"| {method} | {dim} | {tf} | {mi:g} | {bias:+.3f} | {sd:.3f} | {mse:.3f} | {tail:+.3f} | "
                  f"{seed_sd:.3f} | {q} | {rel} | {np.mean(times):.2f} |", flush=True)


if __name__ == "__main__":
    main()
