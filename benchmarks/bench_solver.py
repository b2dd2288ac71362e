"""Speed of one plain eq. (17) iteration against a plain NumPy implementation and exp.

Run on demand (not in CI)::

    python benchmarks/bench_solver.py                 # the full table + breakdown
    python benchmarks/bench_solver.py --sizes 1024 --labels 10 --points 1,0.1

Problems: n = k points on [0, 1] with squared-error d_RD, uniform p(x), random
p(y|x) (Dirichlet(1), seed 0), the same random start for every implementation. For
every (n, |Y|, β, λ) the script prints the time per iteration of

* ``ours``: plain eq. (17) as :func:`infotheory.semantic_rd` runs it with
  ``accelerate=False, restarts=0``: :func:`infotheory.core.iterate` on the single-problem
  backend (:class:`infotheory.backend_numpy.NumpyBackend`; Numba kernels + BLAS, one
  BLAS thread) of the same problem, from the same start,
* ``numpy``: ``benchmarks/numpy_reference.py`` (vectorised, log domain, 1 BLAS thread),
* ``exp``: one ``numpy.exp`` over an n×k float64 array of ``-d/λ`` (normal range),
* ``RD`` and ``dit`` (β = 0, first |Y| only): the same iteration at β = 0 (what
  :func:`infotheory.rate_distortion` runs, Blahut's certificate included) and, if
  ``dit`` is importable, ``dit``'s Blahut–Arimoto,

and the time to reach ``tol`` (stationarity residual) for ``semantic_rd`` and the NumPy
reference from the same start, whole calls included.

Timing: in each of ``--repeat`` rounds every implementation runs ``--iters`` iterations
(continuing from where it stopped), one after the other; time per iteration is that
time over ``--iters``. The table gives the median over rounds of each time and, as
``numpy/ours`` (target ≥ 5) and ``ours/exp`` (target ≤ 3), the median over rounds of
the ratio within a round, with its interquartile range: on a shared machine the speed
of the CPU changes from second to second (a fixed ``numpy.exp`` over 1024² entries took
5.7–12.5 ms within 8 s here), and two timings taken back to back see nearly the same
machine. ``--breakdown`` adds the time of each pass of one iteration of ours at the given
cell (median of ``--repeat``), with the floor each pass is measured against.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from collections.abc import Callable

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

import infotheory
from infotheory import ConvergenceWarning, core, kernels, rowops
from infotheory._logdomain import log_likelihood, safe_log
from infotheory.backend_numpy import NumpyBackend
from infotheory.core import marginals
from infotheory.problem import Problem

try:
    from numpy_reference import NumpyReference, numpy_semantic_rd
except ImportError:  # run from the repository root
    from benchmarks.numpy_reference import NumpyReference, numpy_semantic_rd


def problem(n: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n)
    d = (x[:, None] - x[None, :]) ** 2
    p_x = np.full(n, 1.0 / n)
    pyx = rng.dirichlet(np.ones(m), size=n)
    init = rng.dirichlet(np.ones(n), size=n)
    return p_x, pyx, d, init


#: the clock of every timing: CPU time of this process (default; what a quiet machine's wall
#: clock would show, as every implementation runs on one thread) or wall time
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def seconds(fn: Callable[[], object]) -> float:
    t = clock()
    fn()
    return clock() - t


def paired_rounds(
    runs: dict[str, Callable[[int], object]], n_it: int, repeat: int
) -> dict[str, list[float]]:
    """Seconds per iteration of every entry of ``runs`` (a function of the iteration
    count) in each of ``repeat`` rounds; within a round the entries run one after the
    other, ``n_it`` iterations each."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            out[name].append(seconds(lambda: run(n_it)) / n_it)
    return out


def paired_ratio(num: list[float], den: list[float]) -> tuple[float, float, float]:
    """Median and quartiles over rounds of ``num / den`` within each round."""
    r = np.asarray(num) / np.asarray(den)
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    return float(med), float(q1), float(q3)


def iterations_of_ours(p_x, pyx, d, beta: float, lam: float, init) -> Callable[[int], object]:
    """``it`` plain eq. (17) iterations as ``semantic_rd(accelerate=False, restarts=0)``
    runs them (:func:`infotheory.core.iterate` on the single-problem backend), continuing
    from the last call; ``tol`` and ``gap_tol`` so small that every call runs ``it``."""
    point = Problem.from_arrays(p_x, pyx, d).at(beta=beta, lam=lam)
    backend = NumpyBackend(point, init.copy())
    return lambda it: core.iterate(backend, beta=beta, tol=1e-300, gap_tol=1e-300, max_iter=it)


def iterations_of_numpy(p_x, pyx, d, beta: float, lam: float, init) -> Callable[[int], object]:
    """``it`` iterations of the NumPy reference, continuing from the last call."""
    ref = NumpyReference(p_x, pyx, d, beta=beta, lam=lam, init=init)
    return lambda it: [ref.step() for _ in range(it)]


def median_time(fn: Callable[[], object], repeat: int) -> float:
    return float(np.median([seconds(fn) for _ in range(repeat)]))


def time_dit_iteration(p_x, d, lam, iters):
    """Seconds per iteration of dit's BA (β = 0); None if dit is not installed."""
    try:
        from dit.rate_distortion.blahut_arimoto import _blahut_arimoto
    except ImportError:
        return None
    calls = [0]

    def distortion(_p, _q):
        calls[0] += 1
        return d

    n = len(p_x)
    start = np.full((n, n), 1.0 / n)
    t = clock()
    _blahut_arimoto(p_x, 1.0 / (lam * np.log(2)), start, distortion, max_iters=iters)
    dt = clock() - t
    n_iter = max((calls[0] - 1) // 2, 1)  # two distortion calls per dit iteration
    return dt / n_iter


@njit(cache=True)
def _rows_in_l1(log_q, dl, pyx, log_r_t, coef, h_x, enc_old, enc_new, n_rows):
    """Step 1 of eq. (17) on row 0, ``n_rows`` times: the kernel's arithmetic with the
    row's operands in L1 (``log_r_t``, m×k, stays in L2)."""
    row = np.empty(dl.shape[1])
    s = 0.0
    for _ in range(n_rows):
        lm, rr = kernels.encoder_row(
            log_q, dl[0], pyx[0], log_r_t, coef, h_x[0], enc_old[0], enc_new[0], row
        )
        s += lm + rr
    return s


@njit(cache=True)
def _exp_rows(a, out):
    """The kernel's exp (:func:`infotheory.rowops.exp_row`) over every row of ``a``."""
    for i in range(a.shape[0]):
        row = out[i]
        src = a[i]
        for j in range(row.shape[0]):
            row[j] = src[j]
        rowops.exp_row(row, 0.0)


def breakdown(n: int, m: int, beta: float, lam: float, warm: int, repeat: int) -> None:
    """Time of each pass of one plain iteration (as the single-problem backend,
    :class:`infotheory.backend_numpy.NumpyBackend`, runs them) from the encoder after
    ``warm`` iterations, the whole step and iteration, and the floors.

    Every pass reads the same inputs each time it is timed and writes its own output
    buffer, so repeating it measures the same work (an earlier version let the row pass
    read its own output back as the cross-entropy term, which made its repetitions
    cheaper than an iteration's; the sum of its passes came out above the whole
    iteration)."""
    p_x, pyx, d, init = problem(n, m)
    enc = infotheory.semantic_rd(
        p_x, pyx, d, beta=beta, lam=lam, init=init, max_iter=warm, tol=1e-300,
        accelerate=False, restarts=0,
    ).encoder  # fmt: skip
    point = Problem.from_arrays(p_x, pyx, d).at(beta=beta, lam=lam)
    backend = NumpyBackend(point, enc.copy())
    backend.step()  # now q, r, encoder as after `warm` + 1 iterations
    q, r, old = backend.q_new.copy(), backend.r.copy(), backend.encoder.copy()
    new = np.empty_like(old)
    dl, coef, h_x, joint_xy = (
        point.dl,
        point.coef,
        point.problem.row_entropies,
        point.problem.joint_xy,
    )
    log_q, log_mu, resid = safe_log(q), np.empty(n), np.empty(n)
    log_r_t = np.empty((m, d.shape[1]))
    kernels.log_r_transposed(r, log_r_t)
    a, cen = -d / lam, np.empty_like(old)

    num, q_new, r_new = np.empty((m, d.shape[1])), np.empty(d.shape[1]), r.copy()
    cur = old.copy()  # the encoder the in-place pass updates (as the backend does)

    def marginals_from_num() -> None:
        np.sum(num, axis=0, out=q_new)
        np.divide(num.T, q_new[:, None], out=r_new, where=q_new[:, None] > 0)

    passes: dict[str, Callable[[], object]] = {
        "log p(x̂), log p(y|x̂) (k + k·|Y| logs)": lambda: (
            np.log(q, out=log_q, where=q > 0),
            kernels.log_r_transposed(r, log_r_t),
        ),
        "step 1 + numerators of 2-3, one pass in place": lambda: kernels.encoder_step(
            log_q, dl, pyx, log_r_t, coef, h_x, cur, cur, log_mu, resid, joint_xy, num
        ),
        "steps 2-3: q, r from the numerators": marginals_from_num,
        "residual max over n rows": lambda: float(resid.max()),
    }
    floors: dict[str, Callable[[], object]] = {
        "the same pass, old and new encoder apart": lambda: kernels.encoder_step(
            log_q, dl, pyx, log_r_t, coef, h_x, old, new, log_mu, resid, joint_xy, num
        ),
        "step 1 alone (no numerators), in place": lambda: kernels.encoder_step(
            log_q, dl, pyx, log_r_t, coef, h_x, cur, cur, log_mu, resid
        ),
        "step 1 on one row in L1, n times": lambda: _rows_in_l1(
            log_q, dl, pyx, log_r_t, coef, h_x, old, new, n
        ),
        "was: Σ_y p(y|x) log p(y|x̂), GEMM into n×k": lambda: log_likelihood(pyx, r, out=cen),
        "was: numerators of 2-3, GEMM |Y|×n·n×k": lambda: marginals(joint_xy, new, r),
        "floor: numpy.exp over n×k": lambda: np.exp(a, out=cen),
        "floor: the kernel's exp_row over n×k": lambda: _exp_rows(a, cen),
        "floor: copy of an n×k array": lambda: np.copyto(cen, a),
    }
    _rows_in_l1(log_q, dl, pyx, log_r_t, coef, h_x, old, new, 1)  # compile
    _exp_rows(a[:1], cen[:1])
    times = {name: median_time(fn, repeat) for name, fn in {**passes, **floors}.items()}
    step = median_time(backend.step, repeat)

    ours = iterations_of_ours(p_x, pyx, d, beta, lam, enc)
    ours(1)
    whole = float(np.median(paired_rounds({"ours": ours}, 5, repeat)["ours"]))
    total = sum(times[name] for name in passes)
    print(
        f"\nbreakdown of one plain iteration at n=k={n}, |Y|={m}, beta={beta}, lam={lam} "
        f"(from the encoder after {warm} iterations; median of {repeat}; load "
        f"{os.getloadavg()[0]:.2f}):"
    )
    for name in passes:
        print(f"  {name:<46} {times[name] * 1e3:8.3f} ms")
    print(f"  {'sum of the passes':<46} {total * 1e3:8.3f} ms")
    print(f"  {'NumpyBackend.step (the passes + Python)':<46} {step * 1e3:8.3f} ms")
    print(f"  {'whole iteration (core.iterate, as semantic_rd)':<46} {whole * 1e3:8.3f} ms")
    for name in floors:
        print(f"  {name:<46} {times[name] * 1e3:8.3f} ms")


def label_sum_crossover(sizes: list[int], labels: list[int], iters: int, repeat: int) -> None:
    """Per iteration (β = 1, λ = 0.1) of the single-problem backend with the label sum
    ``Σ_y p(y|x) log p(y|x̂)`` formed in the row pass (one in-place pass) and by one
    GEMM first (two buffers, the marginals by a second GEMM), in paired rounds: the
    measurement behind ``kernels.FUSED_LABELS_MAX``."""
    print(
        f"\nlabel sum in the row pass vs by a GEMM (beta=1, lam=0.1; {iters} iterations per "
        f"timing, {repeat} rounds; kernels.FUSED_LABELS_MAX = {kernels.FUSED_LABELS_MAX}):"
    )
    print(
        f"  {'n=k':>5} {'|Y|':>4} | {'in pass ms':>10} {'GEMM ms':>8} {'GEMM/in pass':>20} default"
    )
    default = kernels.FUSED_LABELS_MAX
    for n in sizes:
        for m in labels:
            p_x, pyx, d, init = problem(n, m)
            runs = {}
            try:
                for name, limit in (("fused", m), ("gemm", m - 1)):
                    kernels.FUSED_LABELS_MAX = limit  # read when a backend is built
                    runs[name] = iterations_of_ours(p_x, pyx, d, 1.0, 0.1, init)
            finally:
                kernels.FUSED_LABELS_MAX = default
            for run in runs.values():
                run(1)
            t = paired_rounds(runs, iters, repeat)
            med = {name: float(np.median(v)) for name, v in t.items()}
            r = paired_ratio(t["gemm"], t["fused"])
            pick = "in pass" if m <= default else "GEMM"
            print(
                f"  {n:>5} {m:>4} | {med['fused'] * 1e3:10.2f} {med['gemm'] * 1e3:8.2f} "
                f"{r[0]:8.2f} [{r[1]:4.2f},{r[2]:4.2f}] {pick}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    ap.add_argument("--labels", type=int, nargs="+", default=[10, 100])
    ap.add_argument(
        "--points",
        nargs="+",
        default=["1,0.1", "0.5,0.05"],
        help="beta,lam pairs (default: the issue's cell 1,0.1 and 0.5,0.05)",
    )
    ap.add_argument("--iters", type=int, default=5, help="iterations per timing")
    ap.add_argument("--repeat", type=int, default=11, help="rounds (median); at least 5")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--max-iter", type=int, default=300, help="cap for time-to-tol")
    ap.add_argument(
        "--breakdown",
        default="1024,10,1,0.1",
        help="n,|Y|,beta,lam of the per-pass breakdown ('' for none)",
    )
    ap.add_argument(
        "--crossover",
        default="",
        help="n,n,...:m,m,...: time the label sum in the row pass against a GEMM at these "
        "sizes and label counts (instead of the table), e.g. 256,1024:16,24,32,48",
    )
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: CPU time of this process (robust to other jobs on the machine); wall",
    )
    args = ap.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    if args.repeat < 5:
        ap.error(f"--repeat must be at least 5, got {args.repeat}")
    points = [tuple(float(v) for v in p.split(",")) for p in args.points]

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python "
        f"{platform.python_version()}, numpy {np.__version__}; load average at start "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(
        f"clock: {args.clock}; tol={args.tol} (time-to-tol capped at {args.max_iter} "
        f"iterations); per iteration: {args.iters} iterations per timing, {args.repeat} "
        "rounds; times: medians over rounds; ratios: median [quartiles] over rounds of the "
        "ratio within a round\n"
    )
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.crossover:
        sizes, labels = (list(map(int, part.split(","))) for part in args.crossover.split(":"))
        with threadpool_limits(limits=1, user_api="blas"):
            label_sum_crossover(sizes, labels, args.iters, args.repeat)
        return
    head = (
        f"{'n=k':>5} {'|Y|':>4} {'beta':>5} {'lam':>5} | {'ours ms/it':>10} {'numpy ms/it':>11} "
        f"{'numpy/ours':>17} {'exp ms':>7} {'ours/exp':>17} {'RD ms/it':>9} {'dit ms/it':>9} | "
        f"{'iters':>6} {'ours s':>7} {'numpy s':>7} {'ratio':>6} {'load':>5}"
    )
    print(head)
    print("-" * len(head))
    with threadpool_limits(limits=1, user_api="blas"):
        for n in args.sizes:
            for m in args.labels:
                p_x, pyx, d, init = problem(n, m)
                for beta, lam in points:
                    row_of_table(args, n, m, beta, lam, p_x, pyx, d, init, m == args.labels[0])
        if args.breakdown:
            n, m, beta, lam = (float(v) for v in args.breakdown.split(","))
            breakdown(int(n), int(m), beta, lam, warm=30, repeat=max(args.repeat, 11))
    print("\n* = not converged within the cap (same iteration count for both: same iteration).")
    print("RD / dit: beta = 0 (dit's BA has no semantic term), plain iteration, first |Y| row:")
    print("  RD = infotheory.rate_distortion(accelerate=False); dit = dit's _blahut_arimoto.")


def row_of_table(args, n, m, beta, lam, p_x, pyx, d, init, with_rd) -> None:
    kw = dict(beta=beta, lam=lam, init=init)
    plain = dict(accelerate=False, restarts=0)
    infotheory.semantic_rd(p_x, pyx, d, **kw, **plain, max_iter=2)  # compile / warm up

    runs: dict[str, Callable[[int], object]] = {
        "ours": iterations_of_ours(p_x, pyx, d, beta, lam, init),
        "numpy": iterations_of_numpy(p_x, pyx, d, beta, lam, init),
    }
    if with_rd:
        runs["RD"] = iterations_of_ours(p_x, np.ones((n, 1)), d, 0.0, lam, init)
    a = -d / lam
    out = np.empty_like(a)
    runs["exp"] = lambda it: [np.exp(a, out=out) for _ in range(it)]
    for run in runs.values():
        run(1)
    t = paired_rounds(runs, args.iters, args.repeat)
    med = {name: float(np.median(v)) for name, v in t.items()}
    speedup = paired_ratio(t["numpy"], t["ours"])
    over_exp = paired_ratio(t["ours"], t["exp"])
    t_dit = time_dit_iteration(p_x, d, lam, args.iters) if with_rd else None
    t0 = clock()
    res = infotheory.semantic_rd(p_x, pyx, d, **kw, **plain, tol=args.tol, max_iter=args.max_iter)
    t_ours_tol = clock() - t0
    t0 = clock()
    numpy_semantic_rd(p_x, pyx, d, **kw, tol=args.tol, max_iter=args.max_iter)
    t_np_tol = clock() - t0
    iters = f"{res.iterations}" + ("" if res.converged else "*")
    dit_s = f"{t_dit * 1e3:9.2f}" if t_dit is not None else f"{'-':>9}"
    rd_s = f"{med['RD'] * 1e3:9.2f}" if "RD" in med else f"{'-':>9}"

    def ratio(r: tuple[float, float, float]) -> str:
        return f"{r[0]:5.2f} [{r[1]:4.2f},{r[2]:4.2f}]"

    print(
        f"{n:>5} {m:>4} {beta:>5g} {lam:>5g} | {med['ours'] * 1e3:10.2f} "
        f"{med['numpy'] * 1e3:11.2f} {ratio(speedup):>17} {med['exp'] * 1e3:7.2f} "
        f"{ratio(over_exp):>17} {rd_s} {dit_s} | {iters:>6} {t_ours_tol:7.2f} "
        f"{t_np_tol:7.2f} {t_np_tol / t_ours_tol:6.1f} {os.getloadavg()[0]:5.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
