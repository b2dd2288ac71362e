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
from collections.abc import Iterator

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
    "student_t_mi",
    "exact_critic_scores",
    "exact_critic_dv_sd",
    "sample_student_t_pair",
    "sample_label_case",
    "LABEL_CASES",
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


def sample_discrete_pair(
    p_xy: np.ndarray, n: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
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
    return (
        p_x_xhat / p_x_xhat.sum(),
        p_xhat_y / p_xhat_y.sum(),
        float(res.rate),
        float(res.relevance),
    )


def _t_entropy_term(a: float) -> float:
    from scipy.special import digamma, gammaln

    return float(gammaln(a / 2.0) - (a / 2.0) * digamma(a / 2.0))


def student_t_mi(dim: int, rho: float, nu: float) -> float:
    """I(X;Y) in nats of a multivariate Student-t pair: ``(x, y) = z / sqrt(w)``,
    ``z ~ N(0, [[I, rho I], [rho I, I]])`` with ``x, y`` of dimension ``dim`` each and
    ``w ~ chi^2_nu / nu``. Closed form (Arellano-Valle et al. 2013):

        I = -(dim/2) log(1 - rho^2) + g(nu) + g(nu + 2 dim) - 2 g(nu + dim),
        g(a) = log Gamma(a/2) - (a/2) psi(a/2).

    The second part (> 0) is the dependence through the shared scale w: it remains at
    ``rho = 0``. Heavy tails: the marginals have only ``nu - 1`` finite moments."""
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1), got {rho}")
    if not nu > 0:
        raise ValueError(f"nu must be > 0, got {nu}")
    return (
        -0.5 * dim * math.log1p(-rho * rho)
        + _t_entropy_term(nu)
        + _t_entropy_term(nu + 2 * dim)
        - 2 * _t_entropy_term(nu + dim)
    )


def sample_student_t_pair(
    n: int, dim: int, rho: float, nu: float, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples ``(x, y)``, each ``(n, dim)`` float64, of the pair of :func:`student_t_mi`."""
    student_t_mi(dim, rho, nu)  # validates
    rng = np.random.default_rng(seed)
    zx = rng.standard_normal((n, dim))
    zy = rho * zx + math.sqrt(1 - rho * rho) * rng.standard_normal((n, dim))
    w = np.sqrt(rng.chisquare(nu, size=(n, 1)) / nu)
    return zx / w, zy / w


#: the label cases of issue 11: name -> exact I(X;Y) in nats
LABEL_CASES: dict[str, float] = {
    "x>0": math.log(2.0),
    "x>0, 1% flipped": math.log(2.0) - (-(0.01 * math.log(0.01) + 0.99 * math.log(0.99))),
    "argmax of 4": math.log(4.0),
}


def sample_label_case(case: str, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Continuous x and integer labels y with known I(X;Y) (:data:`LABEL_CASES`):
    ``"x>0"``: x ~ N(0, 1) (n, 1), y = [x > 0] (I = H(Y) = ln 2); ``"x>0, 1% flipped"``:
    the same label flipped with probability 0.01 independently of x (I = ln 2 - h(0.01));
    ``"argmax of 4"``: x ~ N(0, I_4), y = argmax x (I = H(Y) = ln 4)."""
    if case not in LABEL_CASES:
        raise ValueError(f"case must be one of {sorted(LABEL_CASES)}, got {case!r}")
    rng = np.random.default_rng(seed)
    if case == "argmax of 4":
        x = rng.standard_normal((n, 4))
        return x, x.argmax(1).astype(np.int64)
    x = rng.standard_normal((n, 1))
    y = (x[:, 0] > 0).astype(np.int64)
    if case == "x>0, 1% flipped":
        y = np.where(rng.random(n) < 0.01, 1 - y, y)
    return x, y


def exact_critic_scores(x: torch.Tensor, y: torch.Tensor, mi: float) -> torch.Tensor:
    """``(N, N)`` scores ``T*(x_i, y_j) = log p(y_j|x_i) / p(y_j)`` of the componentwise
    correlated Gaussian pair with ``I = mi`` nats (the exact critic of eq. (39))."""
    rho = rho_from_mi(mi, x.shape[1])
    s2 = 1.0 - rho * rho
    diff = y[None, :, :] - rho * x[:, None, :]
    return (-0.5 * diff**2 / s2 - 0.5 * math.log(s2)).sum(-1) + 0.5 * (y**2).sum(-1)[None, :]


def exact_critic_dv_sd(
    dim: int, mi: float, batch: int, *, n_batches: int = 4000, seed: int = 0
) -> float:
    """Per-batch sd of eq. (39) (all pairs i != j) with the exact critic: the floor that
    issue 11 sets MINE's per-batch sd against (target: <= 1.1 x this, same batch size)."""
    from .base import logmeanexp_offdiag

    gen = torch.Generator().manual_seed(int(seed))
    vals = []
    for _ in range(n_batches):
        x, y = sample_gaussian_pair(batch, dim, mi, generator=gen, dtype=torch.float64)
        t = exact_critic_scores(x, y, mi)
        vals.append(float(torch.diagonal(t).mean() - logmeanexp_offdiag(t)))
    return float(np.std(vals))
