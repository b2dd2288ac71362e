"""The accelerated phase for ``β > 0`` and the IB (not convex): damped Newton with
predicted pruning on the fixed-point equations of eqs. (12)–(15)
(:func:`newton_semantic`; package docstring). Its plain steps are the core's
(:func:`infotheory.core.eq17_step`), its re-entry rule the core's revival rule."""

from __future__ import annotations

import math

import numpy as np

from .._logdomain import log_likelihood
from ..core import REVIVE_LOG_C, REVIVE_MASS, Callback, eq17_step
from .common import SLACK, log_mu_support

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
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
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


def _newton_support(
    px: np.ndarray,
    pyx: np.ndarray,
    joint_xy: np.ndarray,
    dl: np.ndarray,
    coef: float,
    q: np.ndarray,
    r: np.ndarray,
    *,
    max_steps: int,
    callback: Callback | None,
    it0: int,
) -> tuple[np.ndarray, np.ndarray, int, str]:
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
        log_mu, e, q_new, num = eq17_step(
            log_q, r_s, px, pyx, joint_xy, neg_dl_s, coef, fallback=False
        )
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
                if delta is not None and keep is not None:
                    lq = np.where(keep[:s], log_q + delta[:s], -np.inf)
                    lq -= np.logaddexp.reduce(lq[keep[:s]])
                    lr = np.full((s, m), -np.inf)
                    lr[pos] = log_r[pos] + delta[s:]
                    lr -= np.logaddexp.reduce(lr, axis=1)[:, None]
                    rc = np.exp(lr)
                    with np.errstate(divide="ignore"):
                        g_c = _lyapunov(
                            eq17_step(lq, rc, px, pyx, joint_xy, neg_dl_s, coef, fallback=False)[0],
                            px,
                        )
                    if g_c <= f_enc + SLACK * abs(f_enc):
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


def _rows_out_of_use(
    px: np.ndarray, pyx: np.ndarray, dl: np.ndarray, coef: float, q: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
        base = np.log(px) - log_mu_support(np.log(q[sup]), -dl_eff_s)  # log p(x)/μ(x)
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
        done = ~ok | (gain <= 1e-13) | (reach < -REVIVE_LOG_C)
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
    ``REVIVE_MASS`` (the revival rule of :mod:`infotheory.core`).

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
        back = dead[log_c > REVIVE_LOG_C]  # violates c(x̂) <= 1: the core's revival rule
        if back.size == 0:
            return q, r, steps, f"{note}, {prunes} pruning(s), symbols out of use re-checked"
        revivals += 1
        if revivals > 10 * q.size:  # re-entries that keep being pruned again
            return q, r, steps, f"{note}, re-entries did not settle after {revivals - 1} rounds"
        q = q.copy()
        q[back] = REVIVE_MASS
        q /= q.sum()
    return q, r, steps, f"newton: reached {max_steps} steps"
