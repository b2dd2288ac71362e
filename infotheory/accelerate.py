"""Accelerated Blahut–Arimoto: certified answers in a fraction of the iterations.

Plain iteration of eq. (17) converges linearly, and very slowly where reproduction
symbols must die out (their mass decays like ``Π c_t(x̂)`` with ``c`` just below 1)
or where neighbouring symbols share their mass (the Jacobian of the iteration has
eigenvalues close to 1). This module holds the accelerated phases that
:func:`infotheory.semantic_rd` runs between a short plain warm-up and a final
plain certification (see ``docs/acceleration.md``):

* ``β = 0`` (convex): an **active-set SQP (Newton) method** (:func:`sqp_rd`) on the
  reduced problem in ``q = p(x̂)`` alone,

  ``G(q) = -Σ_x p(x) log μ_q(x)``,  ``μ_q(x) = Σ_x̂ q(x̂) exp(-d(x,x̂)/λ)``  (eq. 13),

  whose minimum over the simplex is ``F*`` and whose optimality condition is
  Blahut's ``c(x̂) = ∂(-G)/∂q(x̂) ≤ 1`` with equality on the support.
  Symbols the QP step does not use are **pruned** (mass exactly 0); ``c`` is computed
  for every symbol at every step, so pruned symbols are **re-checked** against
  ``c(x̂) ≤ 1`` and re-enter if they violate it.
* ``β > 0`` and the IB (not convex): **damped Newton with predicted pruning**
  (:func:`newton_semantic`) on ``z = (log q, log r)``, ``r = p(y|x̂)``, over the
  support: Newton's method on the fixed-point equations ``T(z) = z`` of eqs. (12)–(15)
  (``T`` = one eq. (17) step), damped towards the plain step where its linear model
  fails, converges quadratically, including through the slow coupled modes near phase
  transitions (critical slowing down). A symbol that the step sends below ``_DYING``
  mass is pruned; at the fixed point every pruned symbol is re-checked against
  ``c(x̂) ≤ 1`` with its row of ``p(y|x̂)`` moved where plain iteration would take it,
  and re-enters if it violates it. Newton's target is the fixed point the plain
  iteration is heading for, so both paths end at the same stationary point (tested on
  random problems; for a non-convex problem this is a measured fact, not a theorem).

The monotone safeguard, stated for a general state ``z = (q, r)`` (``r = p(y|x̂)``):
let ``G(z) = -Σ p(x) log μ_z(x)`` (μ including the
``β·H(Y|X=x)/λ`` constant of eq. 13). For the encoder ``e = E(z)`` of eq. (12)
and its marginals ``z' = M(e)`` (eqs. 14–15), alternating minimisation gives

``G(z') ≤ F(e) ≤ G(z)``  and  ``F(e) = G(z) - KL(q'‖q) - (β/λ) Σ q'(x̂) KL(r'(·|x̂)‖r(·|x̂))``.

A proposal ``z̃`` is accepted only if ``G(z̃) ≤ F(e)``; then ``F(E(z̃)) ≤ G(z̃) ≤ F(e)``,
so the objective of successive encoders never increases. A rejected proposal is
replaced by the plain step ``z'``, which always satisfies the test. Everything here
is in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ._logdomain import log_likelihood

#: plain eq. (17) steps before any acceleration (they identify the bulk of the support
#: and are never slower than the accelerated ones early on)
WARMUP = 50

#: relative slack of the monotonicity test (rounding of G, F at ~1e-16 relative)
_SLACK = 8 * np.finfo(float).eps

#: exponents are clipped at -_EXP_FLOOR and entries below _TINY set to 0 in ``B`` (see sqp_rd)
_EXP_FLOOR = 240.0
_TINY = float(np.exp(-230.0))

Callback = Callable[[int, np.ndarray], bool | None]


def _log_mu(log_q_s: np.ndarray, neg_dl_s: np.ndarray) -> np.ndarray:
    """``log μ_q(x) = log Σ_{x̂∈S} q(x̂) exp(-d(x,x̂)/λ)`` (eq. 13) over the support ``S``."""
    z = neg_dl_s + log_q_s[None, :]
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))


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
        log_mu = _log_mu(log_q_s, neg_dl[:, sup])
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
                g_c = -float(px @ _log_mu(np.log(cand[cs]), neg_dl[:, cs]))
                if g_c <= f_enc + _SLACK * abs(f_enc):
                    q, accepted = cand, True
                    break
                alpha *= 0.5
        if not accepted:
            q = np.zeros(k)
            q[sup] = q_next / q_next.sum()  # plain eq. (17) step: G(q') <= F(E(q))
    return q, steps, f"sqp: reached {max_steps} steps"


#: Newton's step is used when its linear system has at most this many unknowns ``D``
#: (``|S|`` + the positive entries of ``p(y|x̂)`` on the support ``S``) and costs at
#: ``NEWTON_MAX_COST`` times the flops of a plain step on the support (``n·D² + D³``
#: against ``n·|S|·(m + 2)``; dense BLAS/LAPACK runs about 50x more flops per second
#: than the exp-bound plain step, so this is about 200 plain steps in time; any step
#: under 1e7 flops is cheap enough); otherwise the accelerated phase hands over to plain
#: iteration at once (no gain, no loss: e.g. a fine grid with soft labels, where
#: hundreds of symbols stay in use)
NEWTON_MAX_VARS = 2000
NEWTON_MAX_COST = 10_000.0

#: the accelerated phase for β > 0 hands over to plain certification once the
#: fixed-point equations hold to this (max |Δ log q|, |Δ log r|; nats)
_NEWTON_TOL = 1e-12

#: Newton's step may prune only symbols already below this mass (log); a prediction
#: that a heavier symbol dies is not trusted (far from the fixed point, plain iteration
#: often brings such a symbol back)
_PRUNE_FROM = math.log(1e-3)

#: a symbol that a step takes below this mass is pruned (mass exactly 0), and
#: re-checked against c(x̂) <= 1 at the fixed point
_DYING = 1e-12


def _semantic_step(
    log_q: np.ndarray,
    r_s: np.ndarray,
    px: np.ndarray,
    joint_xy: np.ndarray,
    pyx: np.ndarray,
    neg_dl_s: np.ndarray,
    coef: float,
):
    """One eq. (17) step from ``(q, r)`` on the support ``S`` (columns of ``neg_dl_s``).

    Returns ``log μ(x)`` (eq. 13, without the constant ``coef·H(Y|X=x)``), the encoder
    ``e = p(x̂|x)`` on ``S`` (eq. 12), ``q' = p(x̂)`` (eq. 14) and ``N = p(y, x̂)``
    (the numerator of eq. 15, shape ``(m, |S|)``)."""
    logits = log_likelihood(pyx, r_s)
    logits *= coef
    logits += neg_dl_s
    logits += log_q[None, :]
    top = logits.max(axis=1)
    reach = np.isfinite(top)  # False: x reaches no symbol of S (G = +inf: never accepted)
    logits -= np.where(reach, top, 0.0)[:, None]
    e = np.zeros_like(logits)
    np.exp(logits, out=e, where=logits > -700.0)  # exp(-700) ~ 1e-304: dropped, as in kernels
    tot = e.sum(axis=1)
    e /= np.where(reach, tot, 1.0)[:, None]
    log_mu = np.full(top.shape, -np.inf)
    log_mu[reach] = top[reach] + np.log(tot[reach])
    return log_mu, e, px @ e, joint_xy.T @ e


def _lyapunov(log_mu: np.ndarray, px: np.ndarray) -> float:
    """``G(z) = -Σ_x p(x) log μ_z(x)`` (module docstring; constant dropped; symbols with
    ``p(x) = 0`` do not count, even where ``μ(x) = 0``)."""
    used = px > 0
    return -float(px[used] @ log_mu[used])


def _newton_matrix(
    e: np.ndarray,
    px: np.ndarray,
    pyx: np.ndarray,
    coef: float,
    var_a: np.ndarray,
    var_j: np.ndarray,
) -> np.ndarray:
    """``I - J`` for Newton's method on ``T(z) = z`` (``T`` = one eq. (17) step).

    Unknowns ``i = (j, a)``: ``j = 0`` is ``log q(a)``, ``j = y + 1`` is ``log r(y|a)``
    (positive entries only); ``T`` maps them to ``log q'(a) = log Out_{0a}`` and
    ``log r'(y|a) = log Out_{y+1,a} - log Out_{0a}`` with
    ``Out_{ja} = Σ_x p(x) P̃_j(x) e(x,a)`` (``P̃_0 = 1``, ``P̃_{y+1} = p(y|x)``).
    Since ``∂e(x,a)/∂L(x,b) = e(x,a)(δ_ab - e(x,b))`` and the logit ``L(x,b)`` is linear
    in the unknowns (coefficient 1 for ``log q(b)``, ``coef·p(y|x)`` for
    ``log r(y|b)``): ``∂Out_i/∂z_i' = c_i'·(δ_{a a'} Σ_x p P̃_j P̃_j' e_a - Γ_{ii'})`` with
    ``Γ = AᵀA``, ``A[x, i] = √p(x) P̃_j(x) e(x, a)`` — one GEMM."""
    n = e.shape[0]
    pt = np.concatenate([np.ones((n, 1)), pyx], axis=1) * np.sqrt(px)[:, None]
    a_mat = pt[:, var_j] * e[:, var_a]
    gamma = a_mat.T @ a_mat
    out = a_mat.T @ np.sqrt(px)
    diag = (a_mat.T @ pt)[:, var_j]
    d_out = np.where(var_a[:, None] == var_a[None, :], diag, 0.0) - gamma
    d_out *= np.where(var_j == 0, 1.0, coef)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = d_out / out[:, None]
    jac = rel - (var_j > 0)[:, None] * rel[var_a]  # rows of log r': minus the row of log q'
    return np.eye(var_a.size) - jac


def _newton_solve(
    mat: np.ndarray, phi: np.ndarray, log_q: np.ndarray, var_a: np.ndarray, mu: float
):
    """Damped Newton step ``δ = (1 + μ)(I - J + μI)⁻¹ φ`` with **predicted pruning**.

    ``μ = 0`` is Newton's step; as ``μ → ∞`` it tends to the plain step ``δ = φ``
    (``T(z) = z + φ``), so ``μ`` interpolates between the two (Levenberg–Marquardt
    style) and keeps the step bounded where ``I - J`` is (nearly) singular — two
    clusters that coincide (a manifold of fixed points) or nearly so. A symbol the step
    would take below ``_DYING`` mass is dying (its mass decays geometrically under
    plain iteration); it is removed (mass 0, unknowns dropped) and the step re-solved
    for the others, up to 4 times. Returns ``(δ, keep)`` (``δ`` is 0 on dropped
    unknowns; ``keep`` masks the unknowns kept) or ``(None, None)``."""
    s = log_q.size
    keep = np.ones(var_a.size, dtype=bool)
    for _ in range(4):
        sub = mat[np.ix_(keep, keep)] + mu * np.eye(int(keep.sum()))
        try:
            step = (1.0 + mu) * np.linalg.solve(sub, phi[keep])
        except np.linalg.LinAlgError:
            return None, None
        if not np.all(np.isfinite(step)):
            return None, None
        delta = np.zeros(var_a.size)
        delta[keep] = step
        dying = keep[:s] & (log_q + delta[:s] < math.log(_DYING))
        if not dying.any():
            return delta, keep
        if dying.sum() >= keep[:s].sum() or np.any(log_q[dying] > _PRUNE_FROM):
            # a symbol with real mass predicted to die: the linear model is not to be
            # trusted this far from the fixed point (more damping, or plain steps)
            return None, None
        keep &= ~dying[var_a]
    return None, None


def _newton_support(px, pyx, joint_xy, dl, coef, q, r, *, max_steps, callback, it0):
    """Newton's method on ``T(z) = z`` over the support of ``q``, safeguarded by plain
    steps (:func:`newton_semantic`).

    A step solves ``(I - J + μI) δ = (1 + μ)(T(z) - z)`` (:func:`_newton_solve`, with
    predicted pruning) and is accepted if it passes the monotone test
    ``G(z + δ) ≤ F(E(z))``; ``μ`` falls tenfold after a success and rises tenfold
    (from 1e-3) after a failure, up to 6 tries per step. If none passes (far from the
    fixed point, where the linear model is poor), the plain step ``T(z)`` is taken — it
    always passes — and so are the next ``b`` plain steps before Newton is tried
    again, with ``b`` doubling (1, 2, 4, …, 32) while Newton keeps failing. Returns
    ``(q, r, steps, reason)``, ``reason`` one of ``"converged"`` (the fixed-point
    equations hold to ``_NEWTON_TOL``), ``"support"`` (symbols were pruned: restart
    on the new support), ``"floor"`` (no more progress: rounding), ``"callback"``,
    ``"budget"``."""
    n, k = dl.shape
    m = pyx.shape[1]
    sup = np.flatnonzero(q > 0)
    s = sup.size
    log_q = np.log(q[sup])
    log_q -= np.logaddexp.reduce(log_q)
    r_s = r[sup].copy()
    neg_dl_s = -dl[:, sup]
    steps, best, stalled = 0, np.inf, 0
    plain_left, backoff, newton_last, mu = 0, 1, False, 0.0
    reason = "budget"
    while steps < max_steps:
        log_mu, e, q_new, num = _semantic_step(log_q, r_s, px, joint_xy, pyx, neg_dl_s, coef)
        steps += 1
        if callback is not None:
            enc = np.zeros((n, k))
            enc[:, sup] = e
            if callback(it0 + steps, enc):
                reason = "callback"
                break
        pos = r_s > 0
        with np.errstate(divide="ignore"):
            log_q_new = np.log(q_new)
            log_r_new = np.log(num.T) - log_q_new[:, None]
            log_r = np.log(r_s)
        if not np.all(np.isfinite(log_q_new)) or not np.all(np.isfinite(log_r_new[pos])):
            # the plain step kills a symbol or an entry of p(y|x̂) (exp underflow): take it
            log_q = log_q_new
            r_s = np.where(pos & (num.T > 0), num.T / np.maximum(q_new, 1e-300)[:, None], 0.0)
            reason = "support"
            break
        phi = np.concatenate([log_q_new - log_q, log_r_new[pos] - log_r[pos]])
        res = float(np.max(np.abs(phi)))
        if res <= _NEWTON_TOL:
            reason = "converged"
            break
        r_new = np.exp(log_r_new)
        accepted = False
        var_a = np.concatenate([np.arange(s), np.nonzero(pos)[0]])
        if plain_left == 0:
            if res < 0.5 * best:
                best, stalled = res, 0
            elif newton_last and res < 1e-9:
                stalled += 1
                if stalled >= 4:  # Newton steps no longer gain: the rounding floor
                    reason = "floor"
                    break
            # F(E(z)) = G(z) - KL(q'||q) - coef Σ_a q'(a) KL(r'_a||r_a)  (module docstring)
            log_ratio = np.where(pos, log_r_new - np.where(pos, log_r, 0.0), 0.0)
            kl_r = float(np.sum(q_new[:, None] * r_new * log_ratio))
            f_enc = _lyapunov(log_mu, px) - float(q_new @ phi[:s]) - coef * kl_r
            var_j = np.concatenate([np.zeros(s, dtype=np.int64), np.nonzero(pos)[1] + 1])
            mat = _newton_matrix(e, px, pyx, coef, var_a, var_j)
            for _ in range(6):  # damping μ: down after a success, up after a failure
                delta, keep = _newton_solve(mat, phi, log_q, var_a, mu)
                if delta is not None:
                    lq = np.where(keep[:s], log_q + delta[:s], -np.inf)
                    lq -= np.logaddexp.reduce(lq[keep[:s]])
                    lr = np.full((s, m), -np.inf)
                    lr[pos] = log_r[pos] + delta[s:]
                    lr -= np.logaddexp.reduce(lr, axis=1)[:, None]
                    rc = np.exp(lr)
                    with np.errstate(divide="ignore"):
                        g_c = _lyapunov(
                            _semantic_step(lq, rc, px, joint_xy, pyx, neg_dl_s, coef)[0], px
                        )
                    if g_c <= f_enc + _SLACK * abs(f_enc):
                        log_q, r_s, accepted = lq, rc, True
                        mu = mu / 10.0 if mu > 1e-8 else 0.0
                        break
                mu = max(10.0 * mu, 1e-3)
            if accepted:
                backoff = 1
            else:
                plain_left, backoff = backoff, min(2 * backoff, 32)
        else:
            plain_left = max(plain_left - 1, 0)
        newton_last = accepted
        if not accepted:  # plain eq. (17) step: G(T(z)) <= F(E(z))
            log_q = log_q_new - np.logaddexp.reduce(log_q_new)
            r_s = np.where(pos, r_new, 0.0)
        dying = log_q < math.log(_DYING)
        if dying.any():  # pruned by Newton's step, or below _DYING mass after a plain step
            log_q[dying] = -np.inf
            reason = "support"
            break
    q_s = np.exp(log_q)
    q = np.zeros(k)
    q[sup] = q_s / q_s.sum()
    r = r.copy()
    r[sup] = r_s
    return q, r, steps, reason


#: row updates of a symbol out of use before its c(x̂) is trusted (see _rows_out_of_use)
_DEAD_ROW_STEPS = 500


def _rows_out_of_use(px, pyx, dl, coef, q, r):
    """Rows ``r_b = p(y|b)`` of the symbols out of use (``q(b) = 0``) moved to where plain
    iteration takes them, and their ``log c(b)``.

    Plain iteration keeps updating the row of a symbol whose mass is vanishing:
    ``e(x,b) ∝ q(b)·w_b(x)`` with ``w_b(x) = p(x) exp(-d_S(x,b; r_b)/λ)/μ(x)``, so
    ``r_b ← Σ_x w_b(x) p(y|x) / c_b`` (eq. 15) and ``q(b) ← q(b)·c_b`` with
    ``c_b = Σ_x w_b(x)`` (eqs. 13–14): the row map does not depend on ``q(b)``, and the
    symbol grows back exactly when ``c_b > 1`` at the row's limit. That map is a
    minorise–maximise ascent of ``c_b`` over the row (Jensen), so it is run to its fixed
    point (at most ``_DEAD_ROW_STEPS`` updates) and ``c_b`` is then the value that decides
    whether ``b`` must re-enter — with the row frozen at its last value instead, a symbol
    that plain iteration would bring back later is missed.
    """
    dead = np.flatnonzero(q <= 0)
    sup = np.flatnonzero(q > 0)
    dl_eff_s = dl[:, sup] - coef * log_likelihood(pyx, r[sup])
    with np.errstate(divide="ignore"):
        base = np.log(px) - _log_mu(np.log(q[sup]), -dl_eff_s)  # log p(x)/μ(x)
    base[px <= 0] = -np.inf
    rows = r[dead].copy()
    log_c = np.full(dead.size, -np.inf)
    todo = np.arange(dead.size)
    for t in range(_DEAD_ROW_STEPS):
        logw = base[:, None] - dl[:, dead[todo]] + coef * log_likelihood(pyx, rows[todo])
        top = logw.max(axis=0)
        ok = np.isfinite(top)
        w = np.zeros_like(logw)
        np.exp(logw - np.where(ok, top, 0.0)[None, :], out=w, where=np.isfinite(logw))
        tot = w.sum(axis=0)
        new_c = np.where(ok, top + np.log(np.where(ok, tot, 1.0)), -np.inf)
        new_rows = (w.T @ pyx) / np.where(ok, tot, 1.0)[:, None]
        rows[todo[ok]] = new_rows[ok]
        # done: converged, or so far below c = 1 that the (shrinking) increments of the
        # ascent cannot reach it in the updates left
        prev = log_c[todo]
        seen = ok & np.isfinite(prev)
        gain = np.where(seen, new_c - np.where(seen, prev, 0.0), np.inf)
        reach = np.where(
            seen, new_c + np.where(seen, gain, 0.0) * (_DEAD_ROW_STEPS - 1 - t), np.inf
        )
        done = ~ok | (gain <= 1e-13) | (reach < -1e-12)
        log_c[todo] = new_c
        todo = todo[~done]
        if todo.size == 0:
            break
    r = r.copy()
    r[dead] = rows
    return r, log_c


def newton_semantic(
    px: np.ndarray,
    pyx: np.ndarray,
    dl: np.ndarray,
    coef: float,
    q: np.ndarray,
    r: np.ndarray,
    *,
    max_steps: int,
    callback: Callback | None = None,
    it0: int = 0,
) -> tuple[np.ndarray, np.ndarray, int, str]:
    """The accelerated phase for ``β > 0`` and the IB, from the marginals ``(q, r)``.

    ``dl = d_RD/λ``, ``coef = β/λ``. Newton's method on the fixed-point equations of
    eqs. (12)–(15) in ``(log q, log r)`` over the support (:func:`_newton_support`),
    with predicted pruning of dying symbols and plain steps as the safeguard, restarted
    on the new support whenever symbols are pruned. At the fixed point, symbols out of
    use are re-checked: their rows are moved to where plain iteration would take them
    (:func:`_rows_out_of_use`) and a symbol with ``c(x̂) > 1`` re-enters with mass
    ``1e-8`` (as plain iteration's re-check does for ``β = 0``).

    Every step keeps ``G(q, r)`` non-increasing (module docstring), except a pruning
    (below ``_DYING`` mass) and a re-entry, which follows the plain iteration's own
    re-check. Returns
    ``(q, r, steps, reason)``; every Newton or plain step counts as one step.
    """
    joint_xy = px[:, None] * pyx
    steps, prunes, revivals = 0, 0, 0
    n, m = pyx.shape
    while steps < max_steps:
        sup = q > 0
        n_vars = int(sup.sum() + np.count_nonzero(r[sup] > 0))
        flops = n * n_vars**2 + float(n_vars) ** 3
        cost = flops / (n * sup.sum() * (m + 2))
        if n_vars > NEWTON_MAX_VARS or (cost > NEWTON_MAX_COST and flops > 1e7):
            return (
                q,
                r,
                steps,
                (
                    f"newton: not used ({n_vars} unknowns, a step would cost "
                    f"{cost:.0f}x the flops of a plain step), {prunes} pruning(s)"
                ),
            )
        q, r, st, why = _newton_support(
            px,
            pyx,
            joint_xy,
            dl,
            coef,
            q,
            r,
            max_steps=max_steps - steps,
            callback=callback,
            it0=it0 + steps,
        )
        steps += st
        if why == "callback":
            return q, r, steps, "stopped by callback"
        if why == "support":
            prunes += 1
            continue
        if why == "budget":
            break
        note = f"newton: {'fixed point' if why == 'converged' else 'rounding floor'} after {steps} steps"
        if np.all(q > 0):
            return q, r, steps, note
        r, log_c = _rows_out_of_use(px, pyx, dl, coef, q, r)
        dead = np.flatnonzero(q <= 0)
        back = dead[log_c > 1e-12]
        if back.size == 0:
            return q, r, steps, f"{note}, {prunes} pruning(s), symbols out of use re-checked"
        revivals += 1
        if revivals > 10 * q.size:  # re-entries that keep being pruned again
            return q, r, steps, f"{note}, re-entries did not settle after {revivals - 1} rounds"
        q = q.copy()
        q[back] = 1e-8
        q /= q.sum()
    return q, r, steps, f"newton: reached {max_steps} steps"
