"""PyTorch backend of the iteration core (imported only on demand): plain eq. (17) for a
batch of ``B`` problems on one source as ``(B, n, k)`` tensors (:class:`TorchBackend`),
with a per-problem convergence mask (:func:`run_torch`). The stopping rules, Blahut's
certificate and the revival rule are the core's (:func:`infotheory.core.rd_rule_rows`,
run on the small ``(B, k)`` marginals on the CPU). ``torch`` is imported inside, never
at ``infotheory`` import time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import LOGIT_FLOOR, rd_rule_rows
from .problem import Point, Problem


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("device='cpu'/'cuda' needs PyTorch: pip install torch") from None
    return torch


class TorchBackend:
    """Eq. (17) for the problems ``(β_b, λ_b)`` of ``pb`` from the encoder ``enc0``.

    :meth:`step` advances the problems ``active`` (indices) by one step and returns their
    residuals; afterwards ``q``/``q_new`` (numpy, ``(B, k)``) hold ``q_k``/``q_{k+1}``
    of those rows and ``dead_log_c`` Blahut's ``log c`` of every symbol by explicit column
    sums (the certificate of :mod:`infotheory.core`, read for symbols out of use)."""

    def __init__(
        self,
        pb: Problem,
        enc0: np.ndarray,
        lam: np.ndarray,
        beta: np.ndarray,
        device: str,
        dtype: str,
    ) -> None:
        torch = self.torch = _torch()
        if device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device='cuda' was requested but torch.cuda.is_available() is False")
        dt = self.dt = torch.float64 if dtype == "float64" else torch.float32
        dev = self.dev = torch.device(device)

        def t(a: Any) -> Any:
            return torch.as_tensor(np.asarray(a), dtype=dt, device=dev)

        bsz = lam.size
        self.beta = beta
        self.p, self.w = t(pb.p_x), t(pb.p_y_given_x)  # p(x), p(y|x)
        self.dl = t(pb.d_rd)[None] / t(lam)[:, None, None]  # (B, n, k): d_RD/λ_b
        self.coef = t(beta / lam)
        self.hx = t(pb.row_entropies)
        self.joint_xy = self.p[:, None] * self.w  # p(x, y)
        self.use_ib = bool((beta > 0).any())
        self.ninf = torch.tensor(-torch.inf, dtype=dt, device=dev)
        self.tiny = torch.finfo(dt).tiny
        self.enc = t(enc0)[None].repeat(bsz, 1, 1)
        q = torch.einsum("n,bnk->bk", self.p, self.enc)
        num = torch.einsum("ny,bnk->bky", self.joint_xy, self.enc)
        self.r = torch.where(
            q[..., None] > 0, num / q[..., None].clamp_min(self.tiny), 1.0 / pb.m
        ).to(dt)
        self.q_t = q
        self.q = np.zeros((bsz, pb.k))
        self.q_new = q.cpu().numpy().astype(np.float64)
        self.dead_log_c = np.full((bsz, pb.k), -np.inf)

    def step(self, a: Any) -> np.ndarray:
        """One eq. (17) step of the problems ``a`` (a tensor of indices)."""
        torch, ninf = self.torch, self.ninf
        qa = torch.as_tensor(self.q_new[a.cpu().numpy()], dtype=self.dt, device=self.dev)
        ra, ca, dla = self.r[a], self.coef[a], self.dl[a]
        log_q = torch.where(qa > 0, torch.log(qa), ninf)
        logits = log_q[:, None, :] - dla  # eq. (17) step 1 (log domain)
        if self.use_ib:
            w = self.w
            # Σ_y p(y|x) log p(y|x̂), -inf where p(y|x) > 0 meets p(y|x̂) = 0
            log_r = torch.where(ra > 0, torch.log(ra), torch.zeros_like(ra))
            ce = torch.einsum("ny,bky->bnk", w, log_r)
            zero = torch.einsum("ny,bky->bnk", (w > 0).to(self.dt), (ra <= 0).to(self.dt)) > 0
            with_ce = logits + ca[:, None, None] * torch.where(zero, ninf, ce)
            ib_rows = ca[:, None, None] > 0
            # a row with no finite entry falls back to the d_RD part (as the Numba kernel)
            finite = torch.isfinite(with_ce).any(dim=2, keepdim=True)
            logits = torch.where(ib_rows & finite, with_ce, logits)
        # shifted by the row maximum (exact), as the kernels do; the core's floor: an
        # entry more than -LOGIT_FLOOR below its row maximum is exactly 0
        top = logits.amax(dim=2, keepdim=True)
        shifted = logits - top
        shifted = torch.where(shifted < LOGIT_FLOOR, ninf, shifted)
        log_s = torch.logsumexp(shifted, dim=2)
        new = torch.exp(shifted - log_s[..., None])
        log_mu = top[..., 0] + log_s
        resid = (new - self.enc[a]).abs().amax(dim=(1, 2))
        q_new = torch.einsum("n,bnk->bk", self.p, new)  # eq. (17) step 2
        if self.use_ib:  # eq. (17) step 3; rows of symbols out of use keep their value
            num = torch.einsum("ny,bnk->bky", self.joint_xy, new)
            qn = q_new[..., None]
            self.r[a] = torch.where(qn > 0, num / qn.clamp_min(self.tiny), ra)
        idx = a.cpu().numpy()
        if bool((self.beta[idx] == 0).any()):
            # Blahut's c for every symbol: log Σ_x p(x) e^{-d/λ} / μ(x) (log μ of the d_RD
            # part: at β = 0 there is no d_IB)
            log_p = torch.where(self.p > 0, torch.log(self.p), ninf)
            dead_c = torch.logsumexp(log_p[None, :, None] - dla - log_mu[..., None], dim=1)
            self.dead_log_c[idx] = dead_c.cpu().numpy()
        self.enc[a] = new
        self.q[idx] = self.q_new[idx]
        self.q_new[idx] = q_new.cpu().numpy()
        return resid.cpu().numpy().astype(np.float64)


def run_torch(
    pb: Problem,
    enc0: np.ndarray,
    lam: np.ndarray,
    beta: np.ndarray,
    tol: float,
    gap_nats: float,
    max_iter: int,
    device: str,
    dtype: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain eq. (17) for every problem until its own stopping rules hold (the core's),
    or ``max_iter`` steps. Returns ``(encoders (B, n, k), iterations, converged)``."""
    be = TorchBackend(pb, enc0, lam, beta, device, dtype)
    torch = be.torch
    bsz = lam.size
    iters = np.zeros(bsz, dtype=np.int64)
    conv = np.zeros(bsz, dtype=bool)
    next_check = np.zeros(bsz, dtype=np.int64)
    active = np.ones(bsz, dtype=bool)
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        resid = be.step(torch.as_tensor(idx, device=be.dev))
        done = resid <= tol
        rd = be.beta[idx] == 0
        if rd.any():  # the core's β = 0 rule (certificate, revival) on the CPU
            sub, nc = idx[rd], next_check[idx[rd]]
            q_new = be.q_new[sub]
            done[rd] = rd_rule_rows(
                resid[rd], tol, gap_nats, be.q[sub], q_new, be.dead_log_c[sub], it, nc
            )
            be.q_new[sub], next_check[sub] = q_new, nc
        iters[idx] = it
        conv[idx[done]] = True
        active[idx[done]] = False
    return be.enc.cpu().numpy().astype(np.float64), iters, conv


class TorchSingle:
    """One problem on :class:`TorchBackend`, as the :class:`infotheory.core.Backend`
    protocol (for :func:`infotheory.core.iterate` and the conformance test)."""

    def __init__(self, point: Point, enc: np.ndarray, device: str = "cpu") -> None:
        pb = point.problem
        self.be = TorchBackend(
            pb, enc, np.array([point.lam]), np.array([point.beta]), device, "float64"
        )
        self._a = self.be.torch.zeros(1, dtype=self.be.torch.long)
        self.q, self.q_new = self.be.q[0], self.be.q_new[0]
        self.log_mu = np.empty(pb.n)
        self.encoder = self.previous = enc

    def step(self) -> float:
        """One eq. (17) step (:class:`infotheory.core.Backend`)."""
        self.previous = self.encoder
        resid = float(self.be.step(self._a)[0])
        self.q, self.q_new = self.be.q[0], self.be.q_new[0]
        self.encoder = self.be.enc[0].cpu().numpy()
        return resid

    def certify(self, log_c: np.ndarray) -> None:
        """Blahut's ``log c`` of the symbols out of use (:class:`infotheory.core.Backend`)."""
        dead = self.q <= 0
        log_c[dead] = self.be.dead_log_c[0][dead]
