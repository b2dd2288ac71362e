"""The accelerated phase for ``β = 0`` (convex): an active-set SQP (Newton) method on the
reduced problem in ``q = p(x̂)`` (:func:`sqp_rd`; package docstring)."""

from __future__ import annotations

import numpy as np

from ..core import Callback
from .common import SLACK, log_mu_support

#: exponents are clipped at -_EXP_FLOOR and entries below _TINY set to 0 in ``B`` (see sqp_rd)
_EXP_FLOOR = 240.0
_TINY = float(np.exp(-230.0))


def _nnqp(
    px: np.ndarray, b_mat: np.ndarray, c: np.ndarray, start: np.ndarray, tol: float
) -> np.ndarray:
    """Lawson–Hanson active-set solution of ``min ½ yᵀHy + bᵀy, y ≥ 0`` with
    ``H = Bᵀ diag(p) B`` and ``b = 1 - 2c`` (the SQP subproblem of :func:`sqp_rd`).

    Frees one variable at a time (the one with the most negative gradient), from
    the free set ``start`` (the previous solution's support, pruned until its
    solution is positive) or from ``y = 0``; only the columns of ``H`` of variables
    that are ever freed are computed, and only the few columns the solution uses
    enter a linear solve: the whole ``H`` is far too ill-conditioned to factor
    (neighbouring reproduction points have nearly identical columns).
    """
    k = b_mat.shape[1]
    wb = b_mat * px[:, None]
    cols: dict[int, np.ndarray] = {}

    def h_cols(idx: np.ndarray) -> np.ndarray:
        for j in idx:
            if j not in cols:
                cols[j] = wb.T @ b_mat[:, j]
        return np.stack([cols[j] for j in idx], axis=1)  # H[:, idx]

    def solve(idx: np.ndarray) -> np.ndarray:
        h_ff = h_cols(idx)[idx]
        rhs = 2.0 * c[idx] - 1.0
        try:
            return np.linalg.solve(h_ff, rhs)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(h_ff, rhs, rcond=None)[0]

    y = np.zeros(k)
    free = np.zeros(k, dtype=bool)
    idx = np.flatnonzero(start)
    while idx.size:  # warm start: keep the positive part of the previous support
        z = solve(idx)
        if np.all(z > 0):
            y[idx] = z
            free[idx] = True
            break
        idx = idx[z > 0]
    for _ in range(3 * k):
        fi = np.flatnonzero(free)
        grad_neg = 2.0 * c - 1.0 - (h_cols(fi) @ y[fi] if fi.size else 0.0)
        cand = np.where(free, -np.inf, grad_neg)
        j = int(np.argmax(cand))
        if cand[j] <= tol:
            break
        free[j] = True
        for _inner in range(3 * k):
            idx = np.flatnonzero(free)
            z = solve(idx)
            if np.all(z > 0):
                y[:] = 0.0
                y[idx] = z
                break
            # step from y towards z until the first free variable reaches zero
            y_f = y[idx]
            neg = z <= 0
            den = y_f[neg] - z[neg]
            # a variable already at 0 whose solution is <= 0 stops the step at once
            # (alpha = 0); without this guard 0/0 made alpha NaN
            alpha = float(np.min(np.where(den > 0, y_f[neg] / np.where(den > 0, den, 1.0), 0.0)))
            y_f = y_f + alpha * (z - y_f)
            out = idx[y_f <= 1e-300]
            y[idx] = np.maximum(y_f, 0.0)
            free[out] = False
            y[out] = 0.0
            if not free.any():
                break
    return y


def sqp_rd(
    px: np.ndarray,
    dl: np.ndarray,
    q: np.ndarray,
    *,
    gap_tol: float,
    log_c_tol: float,
    max_steps: int,
    callback: Callback | None = None,
    it0: int = 0,
) -> tuple[np.ndarray, int, str]:
    """Active-set SQP (Newton) method for rate-distortion (``β = 0``) from marginal ``q``.

    Minimises ``f(q) = -Σ_x p(x) log Σ_x̂ q(x̂) e^{-d(x,x̂)/λ} + Σ_x̂ q(x̂) - 1`` over
    ``q ≥ 0``; its minimiser lies on the simplex and equals the optimal ``p*(x̂)``
    (the sum constraint is implied: at a KKT point ``Σ q = Σ q c = 1``). With
    ``B[x, x̂] = e^{-d(x,x̂)/λ}/μ_q(x)``: gradient ``1 - c``, ``c = Bᵀp`` (Blahut's
    ``c(x̂)``, eq. 13), Hessian ``H = Bᵀ diag(p) B``. Each step solves the quadratic
    model with ``y ≥ 0`` by :func:`_nnqp` (as mixsqp does for mixture proportions),
    which **prunes** the symbols it does not need, then moves towards ``y`` with a
    backtracking test that keeps the objective monotone (module docstring); if no
    step passes, it takes the plain eq. (17) step instead.

    ``c`` is computed for *every* symbol (pruned ones included) at every step, so
    Blahut's certificate ``max log c - Σ q' log c`` covers the pruned symbols:
    a pruned symbol the optimum needs shows ``c > 1`` and re-enters through the QP.
    Stops when that gap is ``≤ gap_tol`` and ``max |log c| ≤ log_c_tol`` on the
    support (nats). Returns ``(q, steps, reason)``.
    """
    n, k = dl.shape
    neg_dl = -dl
    q = q / q.sum()
    b_mat = np.empty((n, k))
    start = np.zeros(k, dtype=bool)
    best, stalled = np.inf, 0
    steps = 0
    while steps < max_steps:
        sup = np.flatnonzero(q > 0)
        log_q_s = np.log(q[sup])
        log_mu = log_mu_support(log_q_s, neg_dl[:, sup])
        g = -float(px @ log_mu)
        np.subtract(neg_dl, log_mu[:, None], out=b_mat)
        # entries below e^-230 (~1e-100) are set to 0: they change c by < n·1e-100, and
        # products of subnormal numbers would slow the BLAS calls down a hundredfold;
        # the cap at e^300 only matters for a symbol that violates c <= 1 by far anyway
        np.clip(b_mat, -_EXP_FLOOR, 300.0, out=b_mat)
        np.exp(b_mat, out=b_mat)
        b_mat[b_mat <= _TINY] = 0.0
        c = px @ b_mat  # Blahut's c(x̂) for every symbol
        c_s = c[sup]
        q_next = q[sup] * c_s  # eq. (14): the plain step
        log_c = np.log(np.maximum(c, 1e-300))
        kl = float(q_next @ log_c[sup])  # KL(q'||q)
        f_enc = g - kl  # F(E(q)) (module docstring)
        steps += 1
        if callback is not None:
            enc = np.zeros((n, k))
            enc[:, sup] = b_mat[:, sup] * q[sup][None, :]
            if callback(it0 + steps, enc):
                return q, steps, "stopped by callback"
        gap = float(log_c.max()) - kl  # Blahut's certificate, pruned symbols included
        if gap <= gap_tol and float(np.max(np.abs(log_c[sup]))) <= log_c_tol:
            return q, steps, "sqp: Blahut's conditions met on every symbol"
        if gap < 0.5 * best:
            best, stalled = gap, 0
        else:
            stalled += 1
            if stalled >= 5:  # rounding floor reached: hand over to plain iteration
                return q, steps, "sqp: stalled at the rounding floor"
        y = _nnqp(px, b_mat, c, start, 1e-14)
        start = y > 0
        accepted = False
        if y.sum() > 0:
            alpha = 1.0
            for _ in range(20):
                cand = (1.0 - alpha) * q + alpha * y
                cand /= cand.sum()
                cs = np.flatnonzero(cand > 0)
                g_c = -float(px @ log_mu_support(np.log(cand[cs]), neg_dl[:, cs]))
                if g_c <= f_enc + SLACK * abs(f_enc):
                    q, accepted = cand, True
                    break
                alpha *= 0.5
        if not accepted:
            q = np.zeros(k)
            q[sup] = q_next / q_next.sum()  # plain eq. (17) step: G(q') <= F(E(q))
    return q, steps, f"sqp: reached {max_steps} steps"
