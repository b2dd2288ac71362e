"""Batched solving: many ``(λ, β)`` problems on the same source at once.

Every problem of the batch runs the eq. (17) iteration with its own state and its own
convergence mask: a problem stops when *its* stopping rules hold (residual of
eqs. (12)–(15) ``≤ tol`` and, for ``β = 0``, Blahut's certificate ``≤ gap_tol`` with
symbols out of use re-checked), exactly the rules of :func:`infotheory.semantic_rd`,
and its answer is the one-by-one answer.

Backends:

* ``device=None`` (default): Numba. Phase 1: :func:`infotheory.backend_batch.run`
  runs all plain steps of one problem in one call (the stopping rules included, no
  Python per step), each row of step 1 fused (logits, a vectorised ``exp``,
  normalisation, steps 2–3) so that the row stays in L1 and the problem in L2;
  problems are spread over ``numba.get_num_threads()`` threads (the kernel releases
  the GIL). Phase 2 (NumPy): with ``accelerate`` (default ``"auto"``), problems still
  running after the ``accelerate.WARMUP`` plain steps are finished by the accelerated
  path of :func:`infotheory.semantic_rd`; accelerated ``β > 0`` problems are solved by
  that path from the start, because its iteration count changes with rounding-level
  differences of the start (the batch kernel's ``exp`` is not NumPy's to the last bit).
* ``device="cpu"`` or ``"cuda"``: PyTorch (imported only here, on demand), plain
  iteration for the whole batch as ``(B, n, k)`` tensors, ``float64`` by default. Meant
  for large batches on a GPU.

Whatever the backend, every returned :class:`~infotheory.SemanticRDResult` is computed
from its final encoder by the NumPy code of :func:`infotheory.evaluate_encoder` (same
fields, same certificate).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from . import accelerate as _accel
from . import backend_batch
from ._validation import as_float_array
from .core import marginals, stop_message
from .options import DEFAULTS, SolverOptions
from .pipeline import evaluate, solve_start
from .problem import InitSpec, Point, Problem
from .result import ConvergenceWarning, SemanticRDResult

#: from this many encoder entries (n·k) up a pool thread runs both phases of a problem, so
#: one thread's Python (phase 2) overlaps another's Numba (phase 1)
OVERLAP_MIN_SIZE = 1 << 16

#: the float32 phase of the torch backend stops at this residual (and, at β = 0, this
#: Blahut gap in nats): ~100 float32 ulps, what float32 steps can still resolve
FLOAT32_TOL = 100 * float(np.finfo(np.float32).eps)


@dataclass(frozen=True)
class BatchResult:
    """Result of :func:`semantic_rd_batch`: one :class:`SemanticRDResult` per problem,
    plus the main fields gathered as arrays (in the order of ``lams``/``betas``).

    Attributes
    ----------
    results : list of SemanticRDResult
    lam, beta, rate, distortion_rd, distortion_ib, distortion, relevance, objective,
    residual, gap : ndarray, shape (B,)
        As in :class:`SemanticRDResult` (``gap`` is NaN where ``β > 0``).
    iterations : ndarray of int, shape (B,)
        Steps taken by each problem (its own count, not the batch's).
    converged : ndarray of bool, shape (B,)
    backend : str
        ``"numba"``, ``"torch-cpu"`` or ``"torch-cuda"``.
    """

    results: list
    lam: np.ndarray
    beta: np.ndarray
    rate: np.ndarray
    distortion_rd: np.ndarray
    distortion_ib: np.ndarray
    distortion: np.ndarray
    relevance: np.ndarray
    objective: np.ndarray
    residual: np.ndarray
    gap: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    backend: str

    def __len__(self) -> int:
        return len(self.results)


def _check_params(lams: object, betas: object) -> tuple[np.ndarray, np.ndarray]:
    lam = np.atleast_1d(as_float_array(lams, "lams"))
    beta = np.atleast_1d(as_float_array(betas, "betas"))
    if lam.ndim != 1 or beta.ndim != 1:
        raise ValueError(
            f"lams and betas must be scalars or 1-dimensional, got shapes "
            f"{lam.shape} and {beta.shape}"
        )
    try:
        lam, beta = np.broadcast_arrays(lam, beta)
    except ValueError:
        raise ValueError(
            f"lams (length {lam.size}) and betas (length {beta.size}) must have "
            "the same length, or one of them length 1"
        ) from None
    if np.any(lam <= 0):
        raise ValueError(f"lams must be > 0, got min {lam.min()!r}")
    if np.any(beta < 0):
        raise ValueError(f"betas must be >= 0, got min {beta.min()!r}")
    if not np.all(np.isfinite(beta / lam)):
        raise ValueError("betas/lams must be finite")
    return lam.astype(np.float64).copy(), beta.astype(np.float64).copy()


def semantic_rd_batch(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    lams: object,
    betas: object = 0.0,
    init: InitSpec = "random",
    seed: int = DEFAULTS.seed,
    tol: float = DEFAULTS.tol,
    gap_tol: float = DEFAULTS.gap_tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    accelerate: bool | str = DEFAULTS.accelerate,
    device: str | None = None,
    dtype: str = "float64",
) -> BatchResult:
    """Solve ``B`` semantic rate-distortion problems (eq. 11) on one source at once.

    Problem ``b`` is :func:`infotheory.semantic_rd` with ``beta=betas[b]``,
    ``lam=lams[b]``, ``restarts=0`` and the other arguments shared; its answer is the
    one-by-one answer (same start, same stopping rules, certificate included). The
    batch solves one start per problem: for ``β > 0`` (not convex) the global strategy
    of :func:`infotheory.semantic_rd` (its default) may find a lower ``F``.

    Parameters
    ----------
    p_x, p_y_given_x, d_rd : array_like
        The source, as for :func:`infotheory.semantic_rd`.
    lams : array_like, shape (B,) or scalar
        Temperatures ``λ_b > 0``.
    betas : array_like, shape (B,) or scalar
        Weights ``β_b ≥ 0`` (broadcast against ``lams``).
    init, seed, tol, gap_tol, max_iter, base
        As for :func:`infotheory.semantic_rd`, per problem (every problem starts from
        the same encoder).
    accelerate : {"auto", True, False}
        As for :func:`infotheory.semantic_rd` (Numba backend only; the torch backend
        iterates plainly): ``β = 0`` problems take the ``accelerate.WARMUP`` warm-up
        steps in the batch kernel, then the accelerated phase; ``β > 0`` problems are
        solved by the single-problem accelerated path (their iteration count depends on
        the last bit of the start).
    device : {None, "cpu", "cuda"}
        ``None``: Numba. ``"cpu"``/``"cuda"``: the PyTorch backend on that device.
    dtype : {"float64", "float32"}
        Floating type of the PyTorch backend. float32 is faster on GPUs but cannot
        reach the default tolerances (its residual stalls at rounding level, at times
        exactly 0 far from the answer): the float32 phase stops at ``FLOAT32_TOL``
        (1.2e-5), and every float32 problem is then finished
        in float64 on the CPU by the accelerated path of :func:`infotheory.semantic_rd`
        from its float32 encoder, so its result meets ``tol`` (and ``gap_tol`` at
        ``β = 0``) like a float64 one, or is reported unconverged (with a warning);
        ``iterations`` counts the steps of both phases.

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> import numpy as np
    >>> from infotheory import semantic_rd_batch
    >>> out = semantic_rd_batch([0.5, 0.5], np.ones((2, 1)), 1 - np.eye(2), lams=[0.25, 0.5])
    >>> bool(np.allclose(out.distortion_rd, 1 / (1 + np.exp(1 / out.lam)), atol=1e-10))
    True
    >>> bool(out.converged.all())
    True
    """
    pb = Problem.from_arrays(p_x, p_y_given_x, d_rd)
    lam, beta = _check_params(lams, betas)
    options = SolverOptions(
        tol=tol, gap_tol=gap_tol, max_iter=max_iter, base=base, accelerate=accelerate, seed=seed
    )
    if device not in (None, "cpu", "cuda"):
        raise ValueError(f"device must be None (Numba), 'cpu' or 'cuda', got {device!r}")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    enc0 = pb.start(init, options.seed)
    points = [Point(pb, float(b_), float(l_)) for b_, l_ in zip(beta, lam)]

    with threadpool_limits(limits=1, user_api="blas"):
        if device is None:
            # accelerated problems run the plain warm-up in the batch kernel, then the
            # accelerated phase of semantic_rd (as it does one by one)
            results = _run_numba(points, enc0, options)
            backend = "numba"
        else:
            from ._torch_backend import run_torch

            # float32 stops at what float32 can resolve (FLOAT32_TOL); float64 finishes
            tol_t, gap_t = (options.tol, options.gap_tol_nats)
            if dtype == "float32":
                tol_t, gap_t = max(tol_t, FLOAT32_TOL), max(gap_t, FLOAT32_TOL)
            encs, iters, conv = run_torch(
                pb, enc0, lam, beta, tol_t, gap_t, options.max_iter, device, dtype
            )
            backend = f"torch-{device}"
            # float32 cannot reach the float64 tolerances (its residual stalls at
            # rounding, sometimes at exactly 0 far from the answer): every problem is
            # finished in float64 by the accelerated path of semantic_rd from its
            # float32 encoder, so it meets tol/gap_tol or is reported unconverged
            finish = _finish_float64 if dtype == "float32" else _evaluate
            results = [
                finish(pt, encs[b], options, int(iters[b]), bool(conv[b]))
                for b, pt in enumerate(points)
            ]
    if not all(r.converged for r in results):
        bad = [b for b, r in enumerate(results) if not r.converged]
        warnings.warn(
            f"semantic_rd_batch: problems {bad} reached max_iter = {options.max_iter}; "
            "their results are not converged",
            ConvergenceWarning,
            stacklevel=2,
        )

    def col(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in results], dtype=np.float64)

    return BatchResult(
        results=results,
        lam=lam,
        beta=beta,
        rate=col("rate"),
        distortion_rd=col("distortion_rd"),
        distortion_ib=col("distortion_ib"),
        distortion=col("distortion"),
        relevance=col("relevance"),
        objective=col("objective"),
        residual=col("residual"),
        gap=np.array([np.nan if r.gap is None else r.gap for r in results]),
        iterations=np.array([r.iterations for r in results], dtype=np.int64),
        converged=np.array([r.converged for r in results], dtype=bool),
        backend=backend,
    )


def _finish_float64(
    point: Point, enc32: np.ndarray, options: SolverOptions, steps32: int, _conv: bool
) -> SemanticRDResult:
    """A float32 result finished in float64 (the accelerated path of
    :func:`infotheory.semantic_rd`, no warm-up, up to ``max_iter`` more steps);
    ``iterations`` counts both phases."""
    enc = enc32 / enc32.sum(axis=1, keepdims=True)
    res = solve_start(point, enc, options, None, 0)
    return replace(
        res,
        iterations=steps32 + res.iterations,
        message=f"{res.message} [after {steps32} float32 steps, finished in float64]",
    )


def _evaluate(
    point: Point, enc: np.ndarray, options: SolverOptions, iterations: int, converged: bool
) -> SemanticRDResult:
    """The result of a problem from its final encoder (the NumPy code of
    :func:`infotheory.evaluate_encoder`), with the batch's iteration count."""
    ev = evaluate(point, enc, options.log_base)
    return replace(
        ev,
        iterations=iterations,
        converged=converged,
        message=stop_message(converged, point.beta, options.max_iter),
        max_iter_reached=not converged,
    )


def _run_numba(
    points: list[Point], enc0: np.ndarray, options: SolverOptions
) -> list[SemanticRDResult]:
    """Every problem of the batch, each with its own stopping rules.

    Phase 1, :func:`plain`: plain eq. (17) by :func:`infotheory.backend_batch.run`
    (all steps of a problem in one call, its data cache-resident), for ``accelerate``
    only the ``accelerate.WARMUP`` warm-up steps. Phase 2, :func:`finish`: the
    accelerated phase of :func:`infotheory.pipeline.solve_start` where needed, and the
    result.

    Problems are independent: a pool of ``numba.get_num_threads()`` threads takes them
    one at a time, each thread with Numba's parallel builds limited to itself
    (``numba.set_num_threads(1)`` is per thread): the parallelism is over problems, the
    coarse grain, and never nested."""
    pb = points[0].problem
    accel, max_iter = options.accelerated, options.max_iter
    q0, r0 = _marginals0(pb, enc0)
    limit = min(_accel.WARMUP, max_iter) if accel else max_iter

    def plain(b: int) -> tuple[np.ndarray, int, bool] | None:
        """Phase 1 (Numba, without the GIL): the plain steps of problem ``b``."""
        pt = points[b]
        if accel and pt.beta > 0:
            return None  # solved entirely in phase 2
        enc, q, r = enc0.copy(), q0.copy(), r0.copy()
        steps, conv, _ = backend_batch.run(
            pb.p_x,
            pb.p_y_given_x,
            pb.row_entropies,
            pt.dl,
            pt.coef,
            enc,
            q,
            r,
            options.tol,
            options.gap_tol_nats,
            limit,
        )
        return enc, int(steps), bool(conv)

    def finish(b: int, state: tuple[np.ndarray, int, bool] | None) -> SemanticRDResult:
        """Phase 2 (NumPy): the accelerated phase where needed, and the result."""
        pt = points[b]
        if state is None:
            # the accelerated β > 0 path (SQP and Newton) turns rounding-level differences
            # of its start into different iteration counts: the single-problem path
            # gives the one-by-one answer exactly
            return solve_start(pt, enc0.copy(), options)
        enc, steps, conv = state
        if not conv and accel and steps < max_iter:
            # finish on the accelerated single-problem path (semantic_rd after its warm-up)
            rest = replace(options, max_iter=max_iter - steps)
            return solve_start(pt, enc, rest, None, 0, steps)
        return _evaluate(pt, enc, options, steps, conv)

    bsz = len(points)
    workers = min(numba.get_num_threads(), bsz)
    if workers <= 1:
        return [finish(b, plain(b)) for b in range(bsz)]
    with ThreadPoolExecutor(
        max_workers=workers, initializer=numba.set_num_threads, initargs=(1,)
    ) as pool:
        if pb.n * pb.k >= OVERLAP_MIN_SIZE and numba.threading_layer() != "workqueue":
            # large problems: each task runs both phases, so one thread's Python (phase 2)
            # overlaps the other's Numba (phase 1); phase 2 calls the parallel builds of
            # the single-problem step, which the workqueue layer cannot run from two
            # threads at once
            return list(pool.map(lambda b: finish(b, plain(b)), range(bsz)))
        states = list(pool.map(plain, range(bsz)))
    # small problems: phase 2 is mostly Python, which two threads only fight over (GIL)
    # (and, under the workqueue layer, phase 2 must stay in one thread)
    return [finish(b, states[b]) for b in range(bsz)]


def _marginals0(pb: Problem, enc0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``q_0``, ``r_0`` of the start (as the single-problem backend forms them)."""
    return marginals(pb.joint_xy, enc0, np.full((pb.k, pb.m), 1.0 / pb.m))
