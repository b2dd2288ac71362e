"""Gaussian-staircase benchmark of the MI estimators (Poole et al. 2019; as CLUB uses).

Protocol: x, y in R^d componentwise correlated, true I(X;Y) stepping through the levels
(2, 4, 6, 8, 10 nats by default), ``--steps`` training steps per level (4,000 in the
protocol), batch 64, fresh samples every step, one estimator trained continuously
through the staircase (one Adam optimiser). The per-step value is the estimate on the
step's fresh batch, taken before the update. Per level it reports, against the true I
(and for CLUB also against its exact-q value d (e^{2I/d} - 1)):

    bias = mean(est) - I,  sd = per-batch standard deviation,  mse = mean((est - I)^2)

over all steps of the level, ``bias_tail`` and ``sd_tail`` over its last ``--tail``
steps, and with several seeds the seed-to-seed sd of the per-level mean. Also: the
exact-critic reference table (eq. (39) per batch with the exact and shrunk critics,
no training), and with ``--categorical`` only the categorical-CLUB tables. Time per training step
(forward, backward, Adam, sampling) on ``--threads`` CPU threads: a best-of-7 table
first (robust to other load), then the mean over the whole run in the last column.

    python benchmarks/bench_mi.py                                   # full protocol
    python benchmarks/bench_mi.py --estimators mine --dims 5 --levels 2 4 6 --transforms gaussian
    python benchmarks/bench_mi.py --estimators mine --average 0 --burn-in 0 1     # MINE before weight averaging and burn-in
    python benchmarks/bench_mi.py --categorical 800 2000 4000 --seeds 0 1 2 3 4

Issue 11 tables (``estimate_mi`` with its defaults: 2,000 steps, batch 64, 20% held out):

    python benchmarks/bench_mi.py --auto      # accuracy on tasks with known MI -> the choice of method="auto"
    python benchmarks/bench_mi.py --scales    # scale sweep 1e-6 .. 1e6 per estimator
    python benchmarks/bench_mi.py --labels    # the label cases against their exact values
    python benchmarks/bench_mi.py --spread    # MINE per-batch sd against the exact-critic floor (d = 5, I = 2, 6)
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Iterator

import numpy as np
import torch

from neural.mi import fit, make_estimator
from neural.mi.estimate import METHODS
from neural.mi.testing import STAIRCASE_MI, club_exact_q, gaussian_staircase_batches

NEURAL_GAUSSIAN = ("club", "club-sample", "mine", "nwj", "infonce", "smile")


def staircase(
    dim: int, levels: list[float], steps: int, batch: int, cubic: bool, seed: int
) -> Iterator:
    for k, mi in enumerate(levels):
        yield from itertools.islice(
            gaussian_staircase_batches(dim, mi, batch, cubic=cubic, seed=1000 * seed + k), steps
        )


CRITIC = ("mine", "nwj", "infonce", "smile")


def critic_options(
    method: str, average: float | None, burn_in: list[float] | None, shrink: float | None = None
) -> dict:
    """Constructor options for ``--average`` / ``--burn-in`` / ``--shrink`` (critic estimators only)."""
    if method not in CRITIC:
        return {}
    opts: dict = {} if shrink is None else {"shrink": shrink}
    if average is not None:
        opts["average"] = average
    if burn_in is not None:
        opts["burn_in_steps"], opts["burn_in_lr_factor"] = int(burn_in[0]), float(burn_in[1])
    return opts


def run_cell(
    method: str,
    dim: int,
    levels: list[float],
    steps: int,
    batch: int,
    cubic: bool,
    seed: int,
    lr: float | None,
    hidden: list[int] | None,
    options: dict | None = None,
):
    est = make_estimator(method, dim, dim, seed=seed, hidden=hidden, options=options)
    batches = staircase(dim, levels, steps, batch, cubic, seed)
    t0 = time.perf_counter()
    trace = fit(est, batches, steps * len(levels), lr=lr if lr is not None else est.default_lr)
    ms = 1e3 * (time.perf_counter() - t0) / (steps * len(levels))
    return trace.reshape(len(levels), steps), ms


def time_per_step(
    method: str,
    dim: int,
    batch: int,
    *,
    repeats: int = 7,
    steps: int = 100,
    options: dict | None = None,
) -> tuple[float, float]:
    """Time (ms) of one training step (batch sampling, forward, backward, Adam):
    best-of-``repeats`` wall-clock mean over ``steps`` steps, and the same for the
    process CPU time (with one thread, what the wall time is on an idle core; robust to
    other jobs sharing the CPU)."""
    est = make_estimator(method, dim, dim, seed=0, options=options)
    batches = gaussian_staircase_batches(dim, 2.0, batch, seed=0)
    fit(est, batches, 20)  # warm-up
    best, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fit(est, batches, steps)
        best = min(best, (time.perf_counter() - t0) / steps)
        best_cpu = min(best_cpu, (time.process_time() - c0) / steps)
    return 1e3 * best, 1e3 * best_cpu


SHRINK = (1.0, 0.9, 0.8)


def exact_critic_reference(dim: int, mi: float, batch: int, n_batches: int = 4000) -> dict:
    """Eq. (39) per batch of ``batch`` with the *exact* critic T = log p(x,y)/(p(x)p(y))
    and with the shrunk critics a T (a in SHRINK), all pairs i != j; no training.

    Returns the theoretical joint-term sd sqrt(sum rho^2 / N) (the variance of the
    information density of componentwise-correlated Gaussians is sum_i rho_i^2), its
    Monte Carlo value, the sd of the marginal term log mean_{i!=j} e^{T_ij}, the
    correlation of the two terms, and per a the bias and sd of eq. (39); plus the mean
    InfoNCE value of the exact critic."""
    from neural.mi.base import logmeanexp_offdiag
    from neural.mi.testing import rho_from_mi, sample_gaussian_pair

    rho = rho_from_mi(mi, dim)
    s2 = 1.0 - rho * rho
    gen = torch.Generator().manual_seed(0)
    joint, marg, nce = [], [], []
    dv: dict[float, list[float]] = {a: [] for a in SHRINK}
    for _ in range(n_batches):
        x, y = sample_gaussian_pair(batch, dim, mi, generator=gen, dtype=torch.float64)
        diff = y[None, :, :] - rho * x[:, None, :]
        t = (-0.5 * diff**2 / s2 - 0.5 * np.log(s2)).sum(-1) + 0.5 * (y**2).sum(-1)[None, :]
        joint.append(float(torch.diagonal(t).mean()))
        marg.append(float(logmeanexp_offdiag(t)))
        for a in SHRINK:
            dv[a].append(float(a * torch.diagonal(t).mean() - logmeanexp_offdiag(a * t)))
        nce.append(float((torch.diagonal(t) - torch.logsumexp(t, 1)).mean() + np.log(batch)))
    out = {
        "sum_rho2": dim * rho * rho,
        "joint_sd_theory": float(np.sqrt(dim * rho * rho / batch)),
        "joint_sd": float(np.std(joint)),
        "marg_sd": float(np.std(marg)),
        "corr": float(np.corrcoef(joint, marg)[0, 1]),
        "nce": float(np.mean(nce)),
    }
    for a in SHRINK:
        out[f"bias{a}"] = float(np.mean(dv[a]) - mi)
        out[f"sd{a}"] = float(np.std(dv[a]))
    return out


def categorical_club_table(seeds: list[int], steps_list: list[int], lr: float | None) -> None:
    """Categorical CLUB on a random 8 x 8 Dirichlet(1) joint (the fast test's case):
    30,000 training samples (batches of 64 drawn with replacement), the value on 10,000
    held-out samples (chunks of 500), relative to the exact-q value, with and without
    the weight average; also the value of q = the empirical conditional of the training
    counts (what a perfectly fitted q would give)."""
    import infotheory
    from neural.mi import CategoricalCLUB
    from neural.mi.testing import sample_discrete_pair

    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(64)).reshape(8, 8)
    px, py = p.sum(1), p.sum(0)

    def club_value(q: np.ndarray) -> float:  # eq. (40) in population with the conditional q
        return float(np.sum(p * np.log(q)) - px @ np.log(q) @ py)

    exact_q = club_value(p / px[:, None])
    xs, ys = sample_discrete_pair(p, 40000, seed=2)
    cnt = np.zeros((8, 8))
    np.add.at(cnt, (xs[:30000], ys[:30000]), 1)
    x = torch.from_numpy(np.eye(8, dtype=np.float32)[xs])
    y = torch.from_numpy(ys)
    print(
        f"\n# categorical CLUB, 8 x 8 Dirichlet(1) joint: I = {infotheory.mutual_information(p, base=np.e):.3f} nats, "
        f"exact-q value {exact_q:.3f}, min p(y|x) {(p / px[:, None]).min():.4f}; "
        f"q = training counts: {100 * (club_value(cnt / cnt.sum(1, keepdims=True)) / exact_q - 1):+.1f}%"
    )
    print(f"# held-out value vs exact-q value (%), batch 64, lr {lr or 'default'}, seeds {seeds}")
    print("| average | steps | per seed | mean | range |")
    print("|---|---|---|---|---|")
    for average in (0.0, 0.02):
        vals: dict[int, list[float]] = {n: [] for n in steps_list}
        for seed in seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                est = CategoricalCLUB(8, 8, average=average)
            gen = torch.Generator().manual_seed(seed)

            def batches():
                while True:
                    idx = torch.randint(0, 30000, (64,), generator=gen)
                    yield x[idx], y[idx]

            b, done = batches(), 0
            for n in steps_list:
                fit(est, b, n - done, lr=lr or est.default_lr)
                done = n
                v = np.mean(
                    [
                        float(est.estimate(x[i : i + 500], y[i : i + 500]))
                        for i in range(30000, 40000, 500)
                    ]
                )
                vals[n].append(100 * (v / exact_q - 1))
        for n in steps_list:
            v = np.array(vals[n])
            print(
                f"| {average:g} | {n} | {' '.join(f'{a:+.1f}' for a in v)} | {v.mean():+.1f} | "
                f"{v.min():+.1f} .. {v.max():+.1f} |",
                flush=True,
            )

    # second case: I(X^;Y) of a semantic_rd solution (the fast test's case), through estimate_mi
    import warnings

    from neural.mi import estimate_mi
    from neural.mi.testing import semantic_rd_joints

    _, p2, _, _ = semantic_rd_joints()
    px2, py2 = p2.sum(1), p2.sum(0)
    logq2 = np.log(p2 / px2[:, None])
    exact_q2 = float(np.sum(p2 * logq2) - px2 @ logq2 @ py2)
    xh, yl = sample_discrete_pair(p2, 6000, seed=2)
    cnt2 = np.zeros(p2.shape)
    np.add.at(cnt2, (xh, yl), 1)
    print(
        f"\n# categorical CLUB on I(X^;Y) of semantic_rd_joints(): 6 x 3 joint, exact-q value {exact_q2:.3f}, "
        f"min p(y|x^) {(p2 / px2[:, None]).min():.1e}, {int((cnt2 == 0).sum())} of {cnt2.size} cells unobserved "
        f"in the 6,000 samples; estimate_mi(one-hot x^, y, 'club-categorical', steps, seed), lr {lr or 'default'}"
    )
    print("| steps | per seed (% vs exact-q) | mean |")
    print("|---|---|---|")
    onehot = np.eye(p2.shape[0], dtype=np.float32)[xh]
    for n in steps_list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = np.array(
                [
                    100
                    * (
                        estimate_mi(
                            onehot, yl, method="club-categorical", steps=n, seed=sd, lr=lr
                        ).estimate
                        / exact_q2
                        - 1
                    )
                    for sd in seeds
                ]
            )
        print(f"| {n} | {' '.join(f'{a:+.1f}' for a in v)} | {v.mean():+.1f} |", flush=True)


# ----------------------------------------------------------------------------------
# issue 11: auto choice, scale sweep, label cases, MINE spread against the exact critic

AUTO_CANDIDATES = ("mine", "nwj", "infonce", "smile")


def known_mi_tasks(n: int = 10000) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """Tasks with known MI beyond Gaussians (nats): name -> (x, y, I)."""
    from neural.mi.testing import rho_from_mi, sample_student_t_pair, student_t_mi

    def gauss(d: int, mi: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        rho = rho_from_mi(mi, d)
        x = rng.standard_normal((n, d))
        return x, rho * x + np.sqrt(1 - rho * rho) * rng.standard_normal((n, d))

    x1, y1 = gauss(5, 2.0, 11)
    xt, yt = sample_student_t_pair(n, 2, 0.8, 3.0, seed=12)
    x3, y3 = gauss(5, 2.0, 13)
    x4, y4 = gauss(5, 4.0, 14)
    return {
        "Gaussian d=5": (x1, y1, 2.0),
        "Student-t nu=3 d=2": (xt, yt, student_t_mi(2, 0.8, 3.0)),
        "Gaussian d=5, x^3 and exp(y)": (x3**3, np.exp(y3), 2.0),
        "Gaussian d=5, I near log 64": (x4, y4, 4.0),
    }


def auto_table(seeds: list[int], steps: int = 2000, only: list[str] | None = None) -> None:
    """Bias and RMSE of each continuous estimator (``estimate_mi`` defaults) on the
    tasks of :func:`known_mi_tasks`; the lowest mean RMSE among the candidates (not
    CLUB: an upper bound) is what ``method="auto"`` uses."""
    import warnings

    from neural.mi import estimate_mi

    tasks = known_mi_tasks()
    methods = tuple(m for m in AUTO_CANDIDATES + ("club",) if only is None or m in only)
    print(
        f"# known-MI tasks, N = 10,000, estimate_mi defaults but {steps} steps (batch 64), seeds {seeds} "
        f"(club: seed {seeds[0]}); bias / RMSE over seeds (nats)"
    )
    print("| task | I | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    rmse: dict[str, list[float]] = {m: [] for m in methods}
    if len(seeds) == 1:
        print("(one seed: RMSE = |error| of that seed)")
    for name, (x, y, mi) in tasks.items():
        cells = []
        for m in methods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = np.array(
                    [
                        estimate_mi(x, y, m, seed=sd, steps=steps).estimate
                        for sd in (seeds if m != "club" else seeds[:1])
                    ]
                )
            r = float(np.sqrt(np.mean((v - mi) ** 2)))
            rmse[m].append(r)
            cells.append(f"{v.mean() - mi:+.3f} / {r:.3f}")
        print(f"| {name} | {mi:.3f} | " + " | ".join(cells) + " |", flush=True)
    print(
        "| **mean RMSE** | | " + " | ".join(f"**{np.mean(rmse[m]):.3f}**" for m in methods) + " |"
    )
    cands = [m for m in AUTO_CANDIDATES if m in methods]
    best = min(cands, key=lambda m: np.mean(rmse[m]))
    print(f"\nlowest mean RMSE among {cands}: {best}")


SCALES = (1e-6, 1e-3, 1.0, 1e3, 1e6)


def issue_pair(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The issue's example: x ~ N(0, 1), y = 0.8 x + 0.6 noise (I = -log(0.6) = 0.511 nats)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1))
    return x, 0.8 * x + 0.6 * rng.standard_normal((n, 1))


def scale_table(seeds: list[int], steps: int = 300, only: list[str] | None = None) -> None:
    """Each estimator on ``issue_pair`` with x and y multiplied by s, s in SCALES (seed
    ``seeds[0]``), against scale 1 and its seed-to-seed sd at scale 1; and without
    standardisation at the two extreme scales. ``steps`` per run (500: the invariance
    is exact by construction, so a short budget shows it as well as a long one;
    300 steps keep the table affordable on a shared 2-core machine)."""
    import warnings

    from neural.mi import NonFiniteLossError, estimate_mi

    x, y = issue_pair()
    print(
        f"# scale sweep: x, y = s * (issue example), N = 2,000, I = {-np.log(0.6):.3f} nats, estimate_mi defaults; "
        f"{steps} steps; seed sd over seeds {seeds} at s = 1; max |est(s) - est(1)| over s in {SCALES} (seed {seeds[0]})"
    )
    print(
        "| method | kind | est (s = 1) | seed sd | max abs(est(s) - est(1)) | within seed sd | "
        "standardize=False: s = 1e-6 | s = 1e6 ([!]: flagged out of bounds) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for m in ("club", "club-sample", "mine", "nwj", "infonce", "smile"):  # "auto" runs one of these
        if only is not None and m not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = [estimate_mi(x, y, m, seed=sd, steps=steps) for sd in seeds]
            ref = base[0].estimate
            dev = max(
                abs(estimate_mi(s * x, s * y, m, seed=seeds[0], steps=steps).estimate - ref)
                for s in SCALES
                if s != 1.0
            )
            raw = []
            for s in (1e-6, 1e6):
                try:
                    r = estimate_mi(s * x, s * y, m, seed=seeds[0], standardize=False, steps=steps)
                    raw.append(f"{r.estimate:.3g}" + ("" if r.in_bounds else " [!]"))
                except NonFiniteLossError:
                    raw.append("NonFiniteLossError")
        sd = float(np.std([r.estimate for r in base], ddof=1))
        print(
            f"| {m} ({base[0].method}) | {base[0].kind} | {ref:.3f} | {sd:.3f} | {dev:.1e} | {dev <= sd} | "
            f"{raw[0]} | {raw[1]} |",
            flush=True,
        )


def label_table(seeds: list[int], steps: int = 2000) -> None:
    """The label cases (N = 2,000, y integer labels) against their exact values."""
    import warnings

    from neural.mi import estimate_mi
    from neural.mi.testing import LABEL_CASES, sample_label_case

    methods = ("auto", "club-categorical", "mine", "smile")
    print(
        f"# label cases, N = 2,000, estimate_mi defaults but {steps} steps, seeds {seeds}: mean (min .. max) nats; "
        "[!] = flagged out of the trivial bounds [0, H(Y)]"
    )
    print("| case | exact I | H(Y) bound | " + " | ".join(methods) + " |")
    print("|---|---|---|" + "---|" * len(methods))
    for case, mi in LABEL_CASES.items():
        x, y = sample_label_case(case, 2000, seed=0)
        cells, hy = [], None
        for m in methods:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rs = [estimate_mi(x, y, m, seed=sd, steps=steps) for sd in seeds]
            v = np.array([r.estimate for r in rs])
            hy = rs[0].bounds[1]
            flag = " [!]" if not all(r.in_bounds for r in rs) else ""
            cells.append(f"{v.mean():.3f} ({v.min():.3f} .. {v.max():.3f}){flag}")
        print(f"| {case} | {mi:.3f} | {hy:.3f} | " + " | ".join(cells) + " |", flush=True)


def spread_table(seeds: list[int], steps: int) -> None:
    """Issue 11's MINE spread target: per-batch sd of MINE (staircase d = 5, levels 2, 4, 6,
    ``steps`` per level, sd over each whole level, mean over seeds) <= 1.1 x the per-batch
    sd of eq. (39) with the exact critic at the same batch size (64), at I = 2 and I = 6;
    bias targets (issue 4) unchanged: |bias| <= 0.05 (I = 2), <= 0.1 (I = 6)."""
    levels = [2.0, 4.0, 6.0]
    traces = np.stack(
        [run_cell("mine", 5, levels, steps, 64, False, sd, None, None, {})[0] for sd in seeds]
    )
    print(
        f"# MINE spread at d = 5, batch 64, staircase levels {levels}, {steps} steps/level, seeds {seeds}, "
        "defaults (no shrink); exact critic: 4,000 batches"
    )
    print(
        "| I | MINE bias | bias target | MINE per-batch sd (whole level) | exact-critic sd (floor) | ratio | "
        "target ratio <= 1.1 | MINE sd, last 1,000 steps |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for k, mi in enumerate(levels):
        if mi not in (2.0, 6.0):
            continue
        v = traces[:, k, :]
        bias = v.mean() - mi
        sd = float(v.std(axis=1).mean())
        floor = exact_critic_reference(5, mi, 64)["sd1.0"]
        tgt = 0.05 if mi == 2.0 else 0.1
        tail = float(v[:, -1000:].std(axis=1).mean())
        print(
            f"| {mi:g} | {bias:+.3f} | {tgt} ({abs(bias) <= tgt}) | {sd:.3f} | {floor:.3f} | {sd / floor:.3f} | "
            f"{sd / floor <= 1.1} | {tail:.3f} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--estimators",
        nargs="+",
        default=list(NEURAL_GAUSSIAN),
        choices=[m for m in METHODS if m in NEURAL_GAUSSIAN],
    )
    ap.add_argument("--dims", nargs="+", type=int, default=[5, 20])
    ap.add_argument("--levels", nargs="+", type=float, default=list(STAIRCASE_MI))
    ap.add_argument(
        "--transforms", nargs="+", default=["gaussian", "cubic"], choices=["gaussian", "cubic"]
    )
    ap.add_argument("--steps", type=int, default=4000, help="training steps per level")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument(
        "--tail", type=int, default=1000, help="steps at the end of each level for bias_tail"
    )
    ap.add_argument(
        "--lr", type=float, default=None, help="Adam learning rate (default: per estimator)"
    )
    ap.add_argument(
        "--hidden", nargs="+", type=int, default=None, help="hidden widths (default: per estimator)"
    )
    ap.add_argument(
        "--average",
        type=float,
        default=None,
        help="critic estimators: rate of the critic-weight average behind the estimate (0: off; default per estimator)",
    )
    ap.add_argument(
        "--burn-in",
        nargs=2,
        type=float,
        default=None,
        metavar=("STEPS", "FACTOR"),
        help="critic estimators: learning-rate factor for the first STEPS steps (default per estimator; 0 1: off)",
    )
    ap.add_argument(
        "--shrink",
        type=float,
        default=None,
        help="critic estimators: report the bound of shrink * T (default: the estimator's, 1; NWJ 0.95)",
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--timing-only", action="store_true", help="only the time-per-step table")
    ap.add_argument(
        "--categorical",
        nargs="*",
        type=int,
        default=None,
        metavar="STEPS",
        help="only the categorical-CLUB table, at these cumulative step counts (default 800 2000 4000)",
    )
    ap.add_argument(
        "--no-reference", action="store_true", help="skip the exact-critic reference table"
    )
    ap.add_argument(
        "--auto", action="store_true", help="only the known-MI task table behind method='auto'"
    )
    ap.add_argument("--scales", action="store_true", help="only the scale-sweep table")
    ap.add_argument("--labels", action="store_true", help="only the label-case table")
    ap.add_argument(
        "--spread", action="store_true", help="only the MINE spread vs exact-critic table"
    )
    ap.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="METHOD",
        help="--auto / --scales: only these methods' rows or columns",
    )
    ap.add_argument(
        "--fit-steps",
        type=int,
        default=None,
        help="estimate_mi steps for --auto / --labels (default 2000) and --scales (default 300)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    issue11 = [(args.auto, auto_table), (args.scales, scale_table), (args.labels, label_table)]
    if any(flag for flag, _ in issue11) or args.spread:
        seeds = list(args.seeds)
        for flag, table in issue11:
            if flag:
                kw = {} if args.fit_steps is None else {"steps": args.fit_steps}
                if args.only is not None and table is not label_table:
                    kw["only"] = args.only
                table(seeds, **kw)
                print()
        if args.spread:
            spread_table(seeds, args.steps)
        return
    if args.categorical is not None:
        categorical_club_table(args.seeds, args.categorical or [800, 2000, 4000], args.lr)
        return

    print(
        f"# time per training step, batch {args.batch}, {args.threads} thread(s), best of 7 x 100 steps"
    )
    print("| estimator | d | wall ms/step | CPU ms/step |")
    print("|---|---|---|---|")
    for method, dim in itertools.product(args.estimators, args.dims):
        wall, cpu = time_per_step(
            method,
            dim,
            args.batch,
            options=critic_options(method, args.average, args.burn_in, args.shrink),
        )
        print(f"| {method} | {dim} | {wall:.2f} | {cpu:.2f} |", flush=True)
    if args.timing_only:
        return
    if not args.no_reference:
        print(
            f"\n# reference: eq. (39) per batch of {args.batch} with the exact critic T and shrunk critics a T "
            "(no training), 4000 batches"
        )
        shr = " | ".join(f"a = {a:g}: bias / sd" for a in SHRINK)
        print(
            f"| d | I | sum rho^2 | joint sd, theory | joint sd | marginal sd | corr | {shr} | InfoNCE mean |"
        )
        print("|---|---|---|---|---|---|---|" + "---|" * len(SHRINK) + "---|")
        for dim, mi in itertools.product(args.dims, args.levels):
            r = exact_critic_reference(dim, mi, args.batch)
            cols = " | ".join(f"{r[f'bias{a}']:+.3f} / {r[f'sd{a}']:.3f}" for a in SHRINK)
            print(
                f"| {dim} | {mi:g} | {r['sum_rho2']:.3f} | {r['joint_sd_theory']:.3f} | {r['joint_sd']:.3f} | "
                f"{r['marg_sd']:.3f} | {r['corr']:+.3f} | {cols} | {r['nce']:.3f} |",
                flush=True,
            )
        print()

    print(
        f"# staircase: batch {args.batch}, {args.steps} steps/level, levels {args.levels} nats, "
        f"seeds {args.seeds}, lr {args.lr or 'default'}, hidden {args.hidden or 'default'}, "
        f"average {'default' if args.average is None else args.average}, burn-in {args.burn_in or 'default'}, "
        f"shrink {args.shrink or 'default'}, "
        f"{args.threads} thread(s), torch {torch.__version__}"
    )
    print(
        "| estimator | d | transform | I | bias | sd | MSE | bias_tail | sd_tail | seed sd | CLUB exact-q | "
        "bias vs exact-q (%) | ms/step (loaded) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for method, dim, tf in itertools.product(args.estimators, args.dims, args.transforms):
        traces, times = [], []
        for seed in args.seeds:
            tr, ms = run_cell(
                method,
                dim,
                args.levels,
                args.steps,
                args.batch,
                tf == "cubic",
                seed,
                args.lr,
                args.hidden,
                critic_options(method, args.average, args.burn_in, args.shrink),
            )
            traces.append(tr)
            times.append(ms)
        traces = np.stack(traces)  # (seeds, levels, steps)
        for k, mi in enumerate(args.levels):
            v = traces[:, k, :]
            bias = v.mean() - mi
            sd = v.std(axis=1).mean()
            mse = np.mean((v - mi) ** 2)
            tail = v[:, -args.tail :].mean() - mi
            sd_tail = v[:, -args.tail :].std(axis=1).mean()
            seed_sd = v.mean(axis=1).std(ddof=1) if len(args.seeds) > 1 else float("nan")
            q = ""
            rel = ""
            if method.startswith("club"):
                qv = club_exact_q(mi, dim)
                q = f"{qv:.2f}"
                rel = f"{100 * (v.mean() - qv) / qv:+.1f}"
            print(
                f"| {method} | {dim} | {tf} | {mi:g} | {bias:+.3f} | {sd:.3f} | {mse:.3f} | {tail:+.3f} | {sd_tail:.3f} | "
                f"{seed_sd:.3f} | {q} | {rel} | {np.mean(times):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
