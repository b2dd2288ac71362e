"""Speed of the eq. (17) solver against a plain NumPy implementation, dit and exp.

Run on demand (not in CI)::

    python benchmarks/bench_solver.py                 # the full table
    python benchmarks/bench_solver.py --sizes 256 --labels 10 --iters 20

Problems: n = k points on [0, 1] with squared-error d_RD, uniform p(x), random
p(y|x) (Dirichlet(1), seed 0), β = 0.5, λ = 0.05. For every (n, |Y|) the script
prints the time per iteration of

* ``ours``: :func:`infotheory.semantic_rd` (Numba kernels + BLAS, 1 BLAS thread),
* ``numpy``: ``benchmarks/numpy_reference.py`` (vectorised, log domain, 1 BLAS thread),
* ``exp``: one ``numpy.exp`` over an n×k float64 array (the floor of any iteration),
* ``RD`` and ``dit`` (β = 0): :func:`infotheory.rate_distortion` (plain iteration) and,
  if ``dit`` is importable, ``dit``'s Blahut–Arimoto on the same d_RD,

and the time to reach ``tol`` (stationarity residual) for ours and numpy from the
same start. All in one run; ratios are computed within the run.
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import infotheory
from infotheory.solver import ConvergenceWarning

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


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


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
    t = time.perf_counter()
    _blahut_arimoto(p_x, 1.0 / (lam * np.log(2)), start, distortion, max_iters=iters)
    dt = time.perf_counter() - t
    n_iter = max((calls[0] - 1) // 2, 1)  # two distortion calls per dit iteration
    return dt / n_iter


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    ap.add_argument("--labels", type=int, nargs="+", default=[10, 100])
    ap.add_argument(
        "--iters",
        type=int,
        default=30,
        help="N: time per iteration is (time of 2N - time of N) / N",
    )
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--max-iter", type=int, default=300, help="cap for time-to-tol")
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--lam", type=float, default=0.05)
    args = ap.parse_args(argv)

    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"beta={args.beta} lam={args.lam} tol={args.tol} (time-to-tol capped at "
        f"{args.max_iter} iterations)\n"
    )
    head = (
        f"{'n=k':>5} {'|Y|':>4} | {'ours ms/it':>10} {'numpy ms/it':>11} {'speed-up':>8} "
        f"{'exp ms':>7} {'ours/exp':>8} {'RD ms/it':>9} {'dit ms/it':>9} | {'iters':>6} {'ours s':>8} "
        f"{'numpy s':>8} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    warnings.simplefilter("ignore", ConvergenceWarning)
    with threadpool_limits(limits=1, user_api="blas"):
        for n in args.sizes:
            for m in args.labels:
                p_x, pyx, d, init = problem(n, m)
                kw = dict(beta=args.beta, lam=args.lam, init=init)
                infotheory.semantic_rd(p_x, pyx, d, **kw, max_iter=2)  # compile / warm up

                # per iteration = (time of 2N iterations - time of N) / N: the fixed cost of a
                # call (validation, start, final summary) cancels
                def ours(it):
                    return lambda: infotheory.semantic_rd(
                        p_x, pyx, d, **kw, tol=1e-300, max_iter=it
                    )

                def plain_numpy(it):
                    return lambda: numpy_semantic_rd(p_x, pyx, d, **kw, tol=1e-300, max_iter=it)

                n_it = args.iters
                t_ours = (best_of(ours(2 * n_it), 3) - best_of(ours(n_it), 3)) / n_it
                t_np = (best_of(plain_numpy(2 * n_it), 3) - best_of(plain_numpy(n_it), 3)) / n_it
                a = -d / args.lam
                t_exp = best_of(lambda: np.exp(a), 10)
                t_dit = t_rd = None
                if m == args.labels[0]:  # β = 0: dit against our rate_distortion, plain iteration
                    t_dit = time_dit_iteration(p_x, d, args.lam, args.iters)

                    def rd(it):
                        return lambda: infotheory.rate_distortion(
                            p_x,
                            d,
                            lam=args.lam,
                            init=init,
                            tol=1e-300,
                            gap_tol=1e-300,
                            max_iter=it,
                            accelerate=False,
                        )

                    t_rd = (best_of(rd(2 * n_it), 3) - best_of(rd(n_it), 3)) / n_it
                t0 = time.perf_counter()
                res = infotheory.semantic_rd(
                    p_x, pyx, d, **kw, tol=args.tol, max_iter=args.max_iter
                )
                t_ours_tol = time.perf_counter() - t0
                t0 = time.perf_counter()
                _, it_np = numpy_semantic_rd(
                    p_x, pyx, d, **kw, tol=args.tol, max_iter=args.max_iter
                )
                t_np_tol = time.perf_counter() - t0
                iters = f"{res.iterations}" + ("" if res.converged else "*")
                dit_s = f"{t_dit * 1e3:9.2f}" if t_dit is not None else f"{'-':>9}"
                rd_s = f"{t_rd * 1e3:9.2f}" if t_rd is not None else f"{'-':>9}"
                print(
                    f"{n:>5} {m:>4} | {t_ours * 1e3:10.2f} {t_np * 1e3:11.2f} {t_np / t_ours:8.1f} "
                    f"{t_exp * 1e3:7.2f} {t_ours / t_exp:8.1f} {rd_s} {dit_s} | {iters:>6} "
                    f"{t_ours_tol:8.2f} {t_np_tol:8.2f} {t_np_tol / t_ours_tol:6.1f}",
                    flush=True,
                )
    print("\n* = not converged within the cap (same iteration count for both: same iteration).")
    print("RD / dit: beta = 0 (dit's BA has no semantic term), plain iteration, first |Y| row:")
    print("  RD = infotheory.rate_distortion(accelerate=False); dit = dit's _blahut_arimoto.")


if __name__ == "__main__":
    main()
