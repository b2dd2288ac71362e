"""Batched solving: many ``(λ, β)`` problems on the same source at once.

Every problem of the batch runs the eq. (17) iteration with its own state and its own
convergence mask: a problem stops when *its* stopping rules hold (residual of
eqs. (12)–(15) ``≤ tol`` and, for ``β = 0``, Blahut's certificate ``≤ gap_tol`` with
symbols out of use re-checked), exactly the rules of :func:`infotheory.semantic_rd`.
Finished problems drop out of the batch; the others go on.

Backends:

* ``device=None`` (default): :func:`infotheory.kernels.batch_step` (Numba passes,
  parallel over problems and rows, with NumPy's SIMD ``exp`` in between), built on the
  same row kernels as the single-problem step.
  With ``accelerate`` (default ``"auto"``: for ``β = 0``), problems still running after
  the batched warm-up are finished one by one by the accelerated path of
  :func:`infotheory.semantic_rd` (SQP with pruning, then plain certification).
* ``device="cpu"`` or ``"cuda"``: PyTorch (imported only here, on demand), plain
  iteration for the whole batch as ``(B, n, k)`` tensors, ``float64`` by default. Meant
  for large batches on a GPU.

Whatever the backend, every returned :class:`~infotheory.SemanticRDResult` is computed
from its final encoder by the NumPy code of :func:`infotheory.evaluate_encoder` (same
fields, same certificate).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Optional, Union

import numpy as np
from threadpoolctl import threadpool_limits

from . import accelerate as _accel
from . import kernels
from ._validation import as_float_array, check_base, check_int, check_positive
from .solver import (
    ConvergenceWarning,
    InitSpec,
    _check_problem,
    _dead_log_c,
    _initial_encoder,
    _iterate,
    _gap,
    _row_entropies,
    _solve,
)


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
        raise ValueError(f"lams and betas must be scalars or 1-dimensional, got shapes "
                         f"{lam.shape} and {beta.shape}")
    try:
        lam, beta = np.broadcast_arrays(lam, beta)
    except ValueError:
        raise ValueError(f"lams (length {lam.size}) and betas (length {beta.size}) must have "
                         "the same length, or one of them length 1") from None
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
    seed: int = 0,
    tol: float = 1e-10,
    gap_tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    accelerate: Union[bool, str] = "auto",
    device: Optional[str] = None,
    dtype: str = "float64",
) -> BatchResult:
    """Solve ``B`` semantic rate-distortion problems (eq. 11) on one source at once.

    Problem ``b`` is :func:`infotheory.semantic_rd` with ``beta=betas[b]``,
    ``lam=lams[b]`` and the other arguments shared; its answer is the one-by-one answer
    (same start, same stopping rules, certificate included).

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
        As for :func:`infotheory.semantic_rd`; applies after the batched warm-up of
        ``accelerate.WARMUP`` steps (Numba backend only; the torch backend iterates
        plainly).
    device : {None, "cpu", "cuda"}
        ``None``: Numba. ``"cpu"``/``"cuda"``: the PyTorch backend on that device.
    dtype : {"float64", "float32"}
        Floating type of the PyTorch backend (float32 is faster on GPUs, but cannot
        reach the default tolerances).

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
    px, pyx, d = _check_problem(p_x, p_y_given_x, d_rd)
    n, k = d.shape
    lam, beta = _check_params(lams, betas)
    tol = check_positive(tol, "tol")
    gap_tol = check_positive(gap_tol, "gap_tol")
    max_iter = check_int(max_iter, "max_iter", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    log_base = check_base(base)
    if accelerate not in ("auto", True, False):
        raise ValueError(f"accelerate must be 'auto', True or False, got {accelerate!r}")
    if device not in (None, "cpu", "cuda"):
        raise ValueError(f"device must be None (Numba), 'cpu' or 'cuda', got {device!r}")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    enc0 = _initial_encoder(init, n, k, seed)
    gap_nats = gap_tol * log_base

    with threadpool_limits(limits=1, user_api="blas"):
        if device is None:
            accel = (beta == 0) & (accelerate == "auto" or bool(accelerate))
            # accelerated problems leave the batch after the warm-up (when they need more)
            limit = np.where(accel, min(_accel.WARMUP, max_iter), max_iter)
            encs, iters, conv = _run_numba(px, pyx, d, enc0, lam, beta, tol, gap_nats, limit)
            backend = "numba"
        else:
            from ._torch_backend import run_torch
            encs, iters, conv = run_torch(px, pyx, d, enc0, lam, beta, tol, gap_nats, max_iter,
                                          device, dtype)
            backend = f"torch-{device}"
        results = []
        for b in range(lam.size):
            accel = beta[b] == 0 and (accelerate == "auto" or bool(accelerate))
            if not conv[b] and backend == "numba" and accel and iters[b] < max_iter:
                # finish this problem on the accelerated single-problem path
                res = _solve(px, pyx, d, encs[b], float(beta[b]), float(lam[b]), tol, gap_nats,
                             max_iter - iters[b], log_base, None, True, warmup=0,
                             it0=int(iters[b]))
            else:
                ev = _iterate(px, pyx, d, encs[b], float(beta[b]), float(lam[b]), 0.0, 0.0, 1,
                              log_base, None, evaluate_only=True)
                res = replace(ev, iterations=int(iters[b]), converged=bool(conv[b]),
                              message=_message(bool(conv[b]), float(beta[b]), max_iter))
            results.append(res)
    if not all(r.converged for r in results):
        bad = [b for b, r in enumerate(results) if not r.converged]
        warnings.warn(f"semantic_rd_batch: problems {bad} reached max_iter = {max_iter}; "
                      "their results are not converged", ConvergenceWarning, stacklevel=2)
    col = lambda name: np.array([getattr(r, name) for r in results], dtype=np.float64)
    return BatchResult(
        results=results, lam=lam, beta=beta, rate=col("rate"), distortion_rd=col("distortion_rd"),
        distortion_ib=col("distortion_ib"), distortion=col("distortion"),
        relevance=col("relevance"), objective=col("objective"), residual=col("residual"),
        gap=np.array([np.nan if r.gap is None else r.gap for r in results]),
        iterations=np.array([r.iterations for r in results], dtype=np.int64),
        converged=np.array([r.converged for r in results], dtype=bool), backend=backend,
    )


def _message(converged: bool, beta: float, max_iter: int) -> str:
    if not converged:
        return f"reached max_iter = {max_iter}"
    if beta == 0:
        return "certified: rate - rate_lower_bound <= gap_tol"
    return "stationary point of eqs. (12)-(15): residual <= tol (non-convex for beta > 0)"


def _run_numba(px, pyx, d, enc0, lam, beta, tol, gap_nats, limit):
    """Plain eq. (17) for the whole batch, problem ``b`` for at most ``limit[b]`` steps,
    each with its own convergence mask (the rules of :func:`infotheory.solver._iterate`)."""
    n, k = d.shape
    m = pyx.shape[1]
    bsz = lam.size
    n_steps = int(limit.max())
    coef = beta / lam
    h_x = _row_entropies(pyx)
    joint_xy = px[:, None] * pyx
    enc_old = np.repeat(enc0[None], bsz, axis=0)
    enc_new = np.empty_like(enc_old)
    q = np.repeat((px @ enc0)[None], bsz, axis=0)
    num = joint_xy.T @ enc0  # (m, k)
    r0 = np.full((k, m), 1.0 / m)
    alive0 = num.sum(axis=0) > 0
    r0[alive0] = (num[:, alive0] / num[:, alive0].sum(axis=0)).T
    log_r = np.repeat(np.log(np.where(r0 > 0, r0, 1.0))[None], bsz, axis=0)
    log_r[:, r0 <= 0] = -np.inf
    r_last = np.repeat(r0[None], bsz, axis=0)
    log_mu = np.empty((bsz, n))
    resid = np.empty(bsz)
    q_new = np.empty((bsz, k))
    joint_new = np.empty((bsz, k, m))
    final = np.empty_like(enc_old)
    row_max = np.empty((bsz, n))
    row_fb = np.zeros((bsz, n), dtype=np.bool_)
    iters = np.zeros(bsz, dtype=np.int64)
    conv = np.zeros(bsz, dtype=bool)
    active = np.ones(bsz, dtype=bool)
    for it in range(1, n_steps + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        with np.errstate(divide="ignore"):
            log_q = np.log(q)
        kernels.batch_step(idx, log_q, log_r, d, lam, coef, px, pyx, h_x, enc_old, enc_new,
                           log_mu, resid, q_new, joint_new, row_max, row_fb)
        for b in idx:
            iters[b] = it
            if coef[b] > 0:  # eq. (17) step 3; rows of symbols out of use keep their value
                used = q_new[b] > 0
                r_last[b, used] = joint_new[b, used] / q_new[b, used, None]
                with np.errstate(divide="ignore"):
                    log_r[b] = np.log(r_last[b])
            done = False
            if beta[b] == 0:
                alive = q[b] > 0
                log_c = np.full(k, -np.inf)
                with np.errstate(divide="ignore"):  # a symbol may die in this step
                    log_c[alive] = np.log(q_new[b, alive]) - log_q[b, alive]
                if resid[b] <= tol and _gap(log_c, q_new[b]) <= gap_nats:
                    _dead_log_c(px, d / lam[b], log_mu[b], q[b], log_c)
                    violated = (q[b] <= 0) & (log_c > 1e-12)
                    if violated.any():  # Blahut's c(x̂) <= 1 violated: bring the symbol back
                        q_new[b, violated] = 1e-8
                        q_new[b] /= q_new[b].sum()
                    elif _gap(log_c, q_new[b]) <= gap_nats:
                        done = True
            elif resid[b] <= tol:
                done = True
            if done or it >= limit[b]:
                conv[b], active[b] = done, False
                final[b] = enc_new[b]  # this problem leaves the batch: keep its encoder
            q[b] = q_new[b]
        enc_old, enc_new = enc_new, enc_old
    return final, iters, conv

