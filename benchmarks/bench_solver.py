"""Speed of one plain eq. (17) iteration against a plain NumPy implementation and exp.

Run on demand (not in CI)::

    python benchmarks/bench_solver.py                 # the full table + breakdown
    python benchmarks/bench_solver.py --sizes 1024 --labels 10 --points 1,0.1

Problems: n = k points on [0, 1] with squared-error d_RD, uniform p(x), random
p(y|x) (Dirichlet(1), seed 0), the same random start for every implementation. For
every (n, |Y|, β, λ) the script prints the time per iteration of

* ``ours``: plain eq. (17) by :func:`infotheory.semantic_rd` (``accelerate=False``,
  ``restarts=0``; Numba kernels + BLAS, one BLAS thread),
* ``numpy``: ``benchmarks/numpy_reference.py`` (vectorised, log domain, 1 BLAS thread),
* ``exp``: one ``numpy.exp`` over an n×k float64 array of ``-d/λ`` (normal range),
* ``RD`` and ``dit`` (β = 0, first |Y| only): :func:`infotheory.rate_distortion`
  (plain iteration) and, if ``dit`` is importable, ``dit``'s Blahut–Arimoto,

and the time to reach ``tol`` (stationarity residual) for ours and numpy from the
same start. Time per iteration is ``(time of 2N iterations - time of N) / N`` (the
fixed cost of a call cancels); the implementations take turns within each of
``--repeat`` repetitions and the median is reported, so load on the machine hits
them alike. ``numpy/ours`` (target ≥ 5) and ``ours/exp`` (target ≤ 3) are ratios of
those medians. ``--breakdown`` adds the time of each pass of one iteration of ours at
the given cell (median of ``--repeat``), with the floor each pass is measured against.
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
from infotheory import ConvergenceWarning, kernels
from infotheory._logdomain import log_likelihood, safe_log
from infotheory.backend_numpy import NumpyBackend
from infotheory.core import marginals
from infotheory.problem import Problem

try:
    from numpy_reference import numpy_semantic_rd
except ImportError:  # run from the repository root
    from benchmarks.numpy_reference import numpy_semantic_rd


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


def per_iteration(runs: dict[str, Callable[[int], object]], n_it: int, repeat: int) -> dict:
    """Median over ``repeat`` rounds of ``(t(2N) - t(N)) / N`` for every entry of ``runs``
    (a function of the iteration count); within a round the entries take turns."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            t1 = seconds(lambda: run(n_it))
            t2 = seconds(lambda: run(2 * n_it))
            out[name].append((t2 - t1) / n_it)
    return {name: float(np.median(v)) for name, v in out.items()}


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
def _rows_in_l1(log_q, dl, cen, coef, h_x, enc_old, enc_new, n_rows):
    """Step 1 of eq. (17) on row 0, ``n_rows`` times: the kernel's arithmetic with every
    operand in L1 (no memory traffic)."""
    k = dl.shape[1]
    row, scale = np.empty(k), np.empty(k)
    s = 0.0
    for _ in range(n_rows):
        lm, rr = kernels.encoder_row(
            log_q, dl[0], cen[0], coef, h_x[0], enc_old[0], enc_new[0], row, scale
        )
        s += lm + rr
    return s


@njit(cache=True)
def _exp_rows(a, out, scale):
    """The kernel's exp (:func:`infotheory.kernels.exp_row`) over every row of ``a``."""
    for i in range(a.shape[0]):
        out[i, :] = a[i]
        kernels.exp_row(out[i], 0.0, scale)


def breakdown(n: int, m: int, beta: float, lam: float, warm: int, repeat: int) -> None:
    """Time of each pass of one plain iteration (as the single-problem backend,
    :class:`infotheory.backend_numpy.NumpyBackend`, runs them) from the encoder after
    ``warm`` iterations, the whole step and iteration, and the floors."""
    p_x, pyx, d, init = problem(n, m)
    enc = infotheory.semantic_rd(
        p_x, pyx, d, beta=beta, lam=lam, init=init, max_iter=warm, tol=1e-300,
        accelerate=False, restarts=0,
    ).encoder  # fmt: skip
    point = Problem.from_arrays(p_x, pyx, d).at(beta=beta, lam=lam)
    backend = NumpyBackend(point, enc.copy())
    backend.step()  # now q, r, encoder as after `warm` + 1 iterations
    q, r, old, new = backend.q_new, backend.r, backend.encoder, backend.previous
    dl, coef, h_x, joint_xy = (
        point.dl,
        point.coef,
        point.problem.row_entropies,
        point.problem.joint_xy,
    )
    log_q, log_mu, resid = safe_log(q), np.empty(n), np.empty(n)
    scale, a = np.empty(d.shape[1]), -d / lam

    passes: dict[str, Callable[[], object]] = {
        "log p(x̂) (k logs)": lambda: np.log(q, out=log_q, where=q > 0),
        "Σ_y p(y|x) log p(y|x̂): GEMM n×|Y|·|Y|×k": lambda: log_likelihood(pyx, r, out=new),
        "step 1, fused row pass (encoder_step)": lambda: kernels.encoder_step(
            log_q, dl, new, coef, h_x, old, new, log_mu, resid
        ),
        "steps 2-3, marginals: GEMM |Y|×n·n×k": lambda: marginals(joint_xy, new, r),
        "residual max over n rows": lambda: float(resid.max()),
    }
    floors: dict[str, Callable[[], object]] = {
        "step 1 on one L1-resident row, n times": lambda: _rows_in_l1(
            log_q, dl, new, coef, h_x, old, new, n
        ),
        "floor: numpy.exp over n×k": lambda: np.exp(a, out=new),
        "floor: the kernel's exp_row over n×k": lambda: _exp_rows(a, new, scale),
        "floor: copy of an n×k array": lambda: np.copyto(new, a),
    }
    log_likelihood(pyx, r, out=new)  # cen in `new`, as in the backend
    _rows_in_l1(log_q, dl, new, coef, h_x, old, new, 1)  # compile
    _exp_rows(a[:1], new[:1], scale)
    times = {name: median_time(fn, repeat) for name, fn in {**passes, **floors}.items()}
    step = median_time(backend.step, repeat)

    def ours(it: int) -> object:
        return infotheory.semantic_rd(
            p_x, pyx, d, beta=beta, lam=lam, init=enc, max_iter=it, tol=1e-300,
            accelerate=False, restarts=0,
        )  # fmt: skip

    whole = per_iteration({"ours": ours}, 10, repeat)["ours"]
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
    print(f"  {'whole iteration in semantic_rd':<46} {whole * 1e3:8.3f} ms")
    for name in floors:
        print(f"  {name:<46} {times[name] * 1e3:8.3f} ms")


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
    ap.add_argument("--iters", type=int, default=10, help="N: per iteration = (t(2N) - t(N)) / N")
    ap.add_argument("--repeat", type=int, default=5, help="rounds (median); at least 5")
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--max-iter", type=int, default=300, help="cap for time-to-tol")
    ap.add_argument(
        "--breakdown",
        default="1024,10,1,0.1",
        help="n,|Y|,beta,lam of the per-pass breakdown ('' for none)",
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
        f"clock: {args.clock}; tol={args.tol} (time-to-tol capped at {args.max_iter} iterations); per iteration: "
        f"median of {args.repeat} rounds of (t(2N) - t(N))/N, N = {args.iters}\n"
    )
    head = (
        f"{'n=k':>5} {'|Y|':>4} {'beta':>5} {'lam':>5} | {'ours ms/it':>10} {'numpy ms/it':>11} "
        f"{'numpy/ours':>10} {'exp ms':>7} {'ours/exp':>8} {'RD ms/it':>9} {'dit ms/it':>9} | "
        f"{'iters':>6} {'ours s':>7} {'numpy s':>7} {'ratio':>6} {'load':>5}"
    )
    print(head)
    print("-" * len(head))
    warnings.simplefilter("ignore", ConvergenceWarning)
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
        "ours": lambda it: infotheory.semantic_rd(
            p_x, pyx, d, **kw, **plain, tol=1e-300, max_iter=it
        ),
        "numpy": lambda it: numpy_semantic_rd(p_x, pyx, d, **kw, tol=1e-300, max_iter=it),
    }
    if with_rd:

        def rd(it: int) -> object:
            return infotheory.rate_distortion(
                p_x, d, lam=lam, init=init, tol=1e-300, gap_tol=1e-300, max_iter=it,
                accelerate=False,
            )  # fmt: skip

        runs["RD"] = rd
    a = -d / lam
    out = np.empty_like(a)
    runs["exp"] = lambda it: [np.exp(a, out=out) for _ in range(it)]
    t = per_iteration(runs, args.iters, args.repeat)
    t_dit = time_dit_iteration(p_x, d, lam, args.iters) if with_rd else None
    t0 = clock()
    res = infotheory.semantic_rd(p_x, pyx, d, **kw, **plain, tol=args.tol, max_iter=args.max_iter)
    t_ours_tol = clock() - t0
    t0 = clock()
    numpy_semantic_rd(p_x, pyx, d, **kw, tol=args.tol, max_iter=args.max_iter)
    t_np_tol = clock() - t0
    iters = f"{res.iterations}" + ("" if res.converged else "*")
    dit_s = f"{t_dit * 1e3:9.2f}" if t_dit is not None else f"{'-':>9}"
    rd_s = f"{t['RD'] * 1e3:9.2f}" if "RD" in t else f"{'-':>9}"
    print(
        f"{n:>5} {m:>4} {beta:>5g} {lam:>5g} | {t['ours'] * 1e3:10.2f} {t['numpy'] * 1e3:11.2f} "
        f"{t['numpy'] / t['ours']:10.1f} {t['exp'] * 1e3:7.2f} {t['ours'] / t['exp']:8.2f} "
        f"{rd_s} {dit_s} | {iters:>6} {t_ours_tol:7.2f} {t_np_tol:7.2f} "
        f"{t_np_tol / t_ours_tol:6.1f} {os.getloadavg()[0]:5.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
