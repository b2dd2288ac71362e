"""Samplers with known mutual information, for validating the estimators.

Gaussian staircase (Poole et al. 2019, as used by CLUB): ``x ~ N(0, I_d)``,
``y = rho x + sqrt(1 - rho^2) eps`` componentwise, so
``I(X;Y) = -(d/2) log(1 - rho^2)`` nats and ``rho = sqrt(1 - exp(-2 I / d))``.
The "cubic" variant returns ``y**3`` (an invertible map: I is unchanged).

Exact CLUB value with the true conditional (derivation, per component, nats):
``log p(y|x) = -(y - rho x)^2 / (2 s^2) - log(2 pi s^2)/2`` with ``s^2 = 1 - rho^2``.
Under the joint, ``E[(y - rho x)^2] = s^2``; under the product of marginals
(x, y independent, unit variance) ``E[(y - rho x)^2] = 1 + rho^2``. Hence
``I_CLUB = ((1 + rho^2) - s^2) / (2 s^2) = rho^2 / (1 - rho^2) = exp(2 I/d) - 1`` per
component and ``d (exp(2 I / d) - 1)`` in all (16.44 nats at I = 6, d = 20). For the
cubic variant the same: the Jacobian of ``y -> y^3`` enters ``log p(y^3|x)`` as a
function of y alone, whose expectation is the same under joint and product.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

__all__ = [
    "rho_from_mi",
    "mi_from_rho",
    "club_exact_q",
    "sample_gaussian_pair",
    "gaussian_staircase_batches",
    "sample_discrete_pair",
    "semantic_rd_joints",
    "STAIRCASE_MI",
]

#: true MI levels of the staircase protocol, nats
STAIRCASE_MI: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)


def rho_from_mi(mi: float, dim: int) -> float:
    """Componentwise correlation giving ``I(X;Y) = mi`` nats in dimension ``dim``."""
    if mi < 0 or not math.isfinite(mi):
        raise ValueError(f"mi must be a finite value >= 0 (nats), got {mi}")
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    return math.sqrt(-math.expm1(-2.0 * mi / dim))


def mi_from_rho(rho: float, dim: int) -> float:
    """``-(dim/2) log(1 - rho^2)`` nats."""
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1), got {rho}")
    return -0.5 * dim * math.log1p(-rho * rho)


def club_exact_q(mi: float, dim: int) -> float:
    """CLUB (eq. 40) evaluated with the exact ``q = p(y|x)``: ``dim (exp(2 mi/dim) - 1)`` nats."""
    rho_from_mi(mi, dim)  # validates
    return dim * math.expm1(2.0 * mi / dim)


def sample_gaussian_pair(
    n: int,
    dim: int,
    mi: float,
    *,
    cubic: bool = False,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` joint samples ``x, y`` of shape ``(n, dim)`` with ``I(X;Y) = mi`` nats."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rho = rho_from_mi(mi, dim)
    x = torch.randn(n, dim, generator=generator, dtype=dtype)
    eps = torch.randn(n, dim, generator=generator, dtype=dtype)
    y = rho * x + math.sqrt(1.0 - rho * rho) * eps
    if cubic:
        y = y**3
    return x, y


def gaussian_staircase_batches(
    dim: int,
    mi: float,
    batch_size: int,
    *,
    cubic: bool = False,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless fresh batches (one new sample per step, the staircase protocol)."""
    gen = torch.Generator().manual_seed(int(seed))
    while True:
        x, y = sample_gaussian_pair(batch_size, dim, mi, cubic=cubic, generator=gen)
        yield x.to(device), y.to(device)


def sample_discrete_pair(p_xy: np.ndarray, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples ``(x, y)`` (two ``(n,)`` int64 arrays) from a joint pmf ``p_xy`` (kx, ky)."""
    p = np.asarray(p_xy, dtype=float)
    if p.ndim != 2 or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
        raise ValueError("p_xy must be a 2-D non-negative array summing to 1")
    rng = np.random.default_rng(seed)
    flat = rng.choice(p.size, size=n, p=p.ravel() / p.sum())
    x, y = np.unravel_index(flat, p.shape)
    return x.astype(np.int64), y.astype(np.int64)


def semantic_rd_joints(seed: int = 0) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Joints of a small ``infotheory.semantic_rd`` solution, for exact discrete tests.

    Source: 12 points on [-2, 2] with Dirichlet(5) probabilities, 3 soft labels, 6
    reproduction points, squared-error ``d_rd``, beta = 1, lam = 0.3.

    Returns ``(p(x, x_hat) (12, 6), p(x_hat, y) (6, 3), rate I(X;X_hat), relevance
    I(X_hat;Y))``, the last two in bits as ``infotheory`` reports them.
    """
    import infotheory

    rng = np.random.default_rng(seed)
    n, k = 12, 6
    pts = np.linspace(-2, 2, n)
    p_x = rng.dirichlet(np.full(n, 5.0))
    logits = np.stack([-((pts - c) ** 2) for c in (-1.5, 0.0, 1.5)], 1)
    p_y_given_x = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    d_rd = (pts[:, None] - np.linspace(-2, 2, k)[None, :]) ** 2
    res = infotheory.semantic_rd(p_x, p_y_given_x, d_rd, beta=1.0, lam=0.3, seed=seed)
    p_x_xhat = p_x[:, None] * res.encoder
    p_xhat_y = res.p_xhat[:, None] * res.p_y_given_xhat
    return p_x_xhat / p_x_xhat.sum(), p_xhat_y / p_xhat_y.sum(), float(res.rate), float(res.relevance)
