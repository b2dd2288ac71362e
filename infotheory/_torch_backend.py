"""PyTorch backend of :func:`infotheory.semantic_rd_batch` (imported only on demand).

Plain eq. (17) on ``(B, n, k)`` tensors with a per-problem convergence mask; the
stopping rules are those of :func:`infotheory.solver._iterate` (residual of
eqs. (12)–(15), and for ``β = 0`` Blahut's gap with symbols out of use re-checked).
``torch`` is imported inside :func:`run_torch`, never at ``infotheory`` import time.
"""

from __future__ import annotations

import numpy as np


def run_torch(px, pyx, d, enc0, lam, beta, tol, gap_nats, max_iter, device, dtype):
    """Returns ``(encoders (B, n, k) ndarray, iterations, converged)``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("device='cpu'/'cuda' needs PyTorch: pip install torch") from None
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but torch.cuda.is_available() is False")
    dt = torch.float64 if dtype == "float64" else torch.float32
    dev = torch.device(device)
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=dt, device=dev)
    bsz = lam.size
    p = t(px)
    w = t(pyx)  # (n, m)
    dl = t(d)[None] / t(lam)[:, None, None]  # (B, n, k): d_RD/λ_b
    coef = t(beta / lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_x = -np.where(pyx > 0, pyx * np.log(pyx), 0.0).sum(axis=1)
    hx = t(h_x)
    joint_xy = p[:, None] * w  # p(x, y)
    enc = t(enc0)[None].repeat(bsz, 1, 1)
    q = torch.einsum("n,bnk->bk", p, enc)
    num = torch.einsum("ny,bnk->bky", joint_xy, enc)
    r = torch.where(
        q[..., None] > 0,
        num / q[..., None].clamp_min(torch.finfo(dt).tiny),
        torch.full_like(num, 1.0 / pyx.shape[1]),
    )
    final = enc.clone()
    iters = np.zeros(bsz, dtype=np.int64)
    conv = np.zeros(bsz, dtype=bool)
    active = torch.ones(bsz, dtype=torch.bool, device=dev)
    ninf = torch.tensor(-torch.inf, dtype=dt, device=dev)
    use_ib = bool((beta > 0).any())
    for it in range(1, max_iter + 1):
        a = torch.nonzero(active).flatten()
        if a.numel() == 0:
            break
        qa, ra, ca = q[a], r[a], coef[a]
        log_q = torch.where(qa > 0, torch.log(qa), ninf)
        logits = log_q[:, None, :] - dl[a]  # eq. (17) step 1 (log domain)
        if use_ib:
            # Σ_y p(y|x) log p(y|x̂), -inf where p(y|x) > 0 meets p(y|x̂) = 0
            log_r = torch.where(ra > 0, torch.log(ra), torch.zeros_like(ra))
            ce = torch.einsum("ny,bky->bnk", w, log_r)
            zero = torch.einsum("ny,bky->bnk", (w > 0).to(dt), (ra <= 0).to(dt)) > 0
            ce = torch.where(zero, ninf, ce)
            with_ce = logits + ca[:, None, None] * ce
            ib_rows = ca[:, None, None] > 0
            # a row with no finite entry falls back to the d_RD part (as the Numba kernel)
            finite = torch.isfinite(with_ce).any(dim=2, keepdim=True)
            logits = torch.where(ib_rows & finite, with_ce, logits)
            fallback = ~(ib_rows[..., 0] & finite[..., 0])
        else:
            fallback = torch.ones(logits.shape[:2], dtype=torch.bool, device=dev)
        log_mu = torch.logsumexp(logits, dim=2)
        new = torch.exp(logits - log_mu[..., None])
        log_mu = log_mu + torch.where(fallback, torch.zeros_like(log_mu), ca[:, None] * hx[None, :])
        resid = (new - enc[a]).abs().amax(dim=(1, 2))
        q_new = torch.einsum("n,bnk->bk", p, new)  # eq. (17) step 2
        if use_ib:  # eq. (17) step 3; rows of symbols out of use keep their value
            num = torch.einsum("ny,bnk->bky", joint_xy, new)
            ra = torch.where(
                q_new[..., None] > 0, num / q_new[..., None].clamp_min(torch.finfo(dt).tiny), ra
            )
        done = resid <= tol
        bz = torch.as_tensor(beta[a.cpu().numpy()] == 0, device=dev)
        if bool(bz.any()):
            # Blahut's certificate: c = q_{k+1}/q_k, gap = max log c - Σ q_{k+1} log c
            alive = qa > 0
            log_c = torch.where(
                alive, torch.log(q_new.clamp_min(torch.finfo(dt).tiny)) - log_q, ninf
            )
            # symbols out of use: log c = log Σ_x p(x) e^{-d/λ} / μ(x) computed explicitly
            log_p = torch.where(p > 0, torch.log(p), ninf)
            dead_c = torch.logsumexp(log_p[None, :, None] - dl[a] - log_mu[..., None], dim=1)
            log_c = torch.where(alive, log_c, dead_c)
            terms = torch.where(
                q_new > 0,
                q_new * torch.where(alive, log_c, torch.zeros_like(log_c)),
                torch.zeros_like(q_new),
            )
            gap = log_c.amax(dim=1) - terms.sum(dim=1)
            violated = (~alive) & (dead_c > 1e-12)
            revive = bz & done & violated.any(dim=1)
            if bool(revive.any()):
                q_new = torch.where(revive[:, None] & violated, torch.full_like(q_new, 1e-8), q_new)
                q_new = q_new / q_new.sum(dim=1, keepdim=True)
            done = done & ~(bz & ((gap > gap_nats) | revive))
        q[a], enc[a], final[a] = q_new, new, new
        if use_ib:
            r[a] = ra
        iters[a.cpu().numpy()] = it
        da = a[done]
        conv[da.cpu().numpy()] = True
        active[da] = False
    return final.cpu().numpy().astype(np.float64), iters, conv
