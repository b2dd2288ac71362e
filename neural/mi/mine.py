"""MINE (Belghazi et al. 2018), paper eq. (39), and the critic shared by the lower bounds.

    I_MINE = E_{p(x,y)}[T(x,y)] - log E_{p(x)p(y)}[exp T(x,y)]             (39)

(the Donsker-Varadhan bound; a lower bound on I(X;Y) for every critic T).

On a batch of N joint samples the critic is evaluated on all N^2 pairs,
``scores[i, j] = T(x_i, y_j)``: the diagonal holds the N positives, the N(N-1)
off-diagonal pairs are the negatives (all pairs, none drawn with replacement, no
positive reused as a negative). The critic is *separable*, by default
``T(x, y) = a(x) + b(y) - ||f(x) - g(y)||^2 / 2``, so the N^2 scores cost one
matrix product; it can represent the exact log-ratio of correlated Gaussians.

Gradient of the log term: the minibatch gradient of ``log mean exp T`` is biased;
MINE replaces the denominator ``mean exp T`` by an exponential moving average over
batches (Belghazi et al., Sec. 3.2), kept in the log domain here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import SkipMLP, WeightAveraged, check_batch, logmeanexp_offdiag

__all__ = ["SeparableCritic", "CriticEstimator", "MINE", "DEFAULT_CRITIC_HIDDEN", "DEFAULT_EMBED"]

DEFAULT_CRITIC_HIDDEN: tuple[int, ...] = (128, 128)
DEFAULT_EMBED = 32
#: output layers of the critic MLPs start scaled down by this factor: the first
#: estimates are near 0 instead of about -5 nats (d = 5), which shortens the transient
#: of a fresh estimator (not 0: f = g = 0 is a saddle of the distance form)
INIT_OUT_SCALE = 0.3
#: default rate of the moving average of the critic weights used for the estimate
DEFAULT_AVERAGE = 0.02
#: default burn-in of a fresh critic estimator: (steps, learning-rate factor)
DEFAULT_BURN_IN: tuple[int, float] = (150, 8.0)


class SeparableCritic(nn.Module):
    """All-pairs critic from two embeddings; returns the ``(N, N)`` scores ``T(x_i, y_j)``.

    ``form="distance"`` (default):
    ``T(x, y) = a(x) + b(y) - ||f(x) - g(y)||^2 / 2``;
    ``form="dot"``: ``T(x, y) = a(x) + b(y) + f(x)^T g(y)``.
    The two forms span the same functions (``-|f-g|^2/2 = f.g - |f|^2/2 - |g|^2/2``),
    but the distance form is far better conditioned when X and Y are strongly
    dependent: the Gaussian log-ratio ``-|y - rho x|^2 / (2 s^2) + |y|^2 / 2`` is a
    distance between linear maps, whereas the dot form must cancel large quadratic
    terms (at d = 5, I = 6 nats: coefficients of about 5 on ``|x|^2`` and ``|y|^2``).
    ``f, a`` share one MLP (``embed + 1`` outputs), and so do ``g, b``; each MLP has a
    linear skip path (:class:`~neural.mi.base.SkipMLP`).
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden: Sequence[int],
        embed: int,
        activation: type[nn.Module] = nn.ReLU,
        form: str = "distance",
    ) -> None:
        super().__init__()
        if embed < 1:
            raise ValueError(f"embed must be >= 1, got {embed}")
        if form not in ("distance", "dot"):
            raise ValueError(f"form must be 'distance' or 'dot', got {form!r}")
        self.embed, self.form = int(embed), form
        self.f = SkipMLP(x_dim, hidden, embed + 1, activation)
        self.g = SkipMLP(y_dim, hidden, embed + 1, activation)
        with torch.no_grad():  # start near T = 0 (estimate ~ 0), not at a random large T
            for m in (self.f, self.g):
                m.net[-1].weight.mul_(INIT_OUT_SCALE)
                m.net[-1].bias.mul_(INIT_OUT_SCALE)
                m.skip.weight.mul_(INIT_OUT_SCALE)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fx, gy = self.f(x), self.g(y)
        e = self.embed
        f, g = fx[:, :e], gy[:, :e]
        base = fx[:, e : e + 1] + gy[:, e][None, :]  # a(x_i) + b(y_j)
        if self.form == "dot":
            return torch.addmm(base, f, g.T)
        # a + b - |f|^2/2 - |g|^2/2 + f.g  (one GEMM for the N^2 pairs)
        base = base - 0.5 * (f * f).sum(1, keepdim=True) - 0.5 * (g * g).sum(1)[None, :]
        return torch.addmm(base, f, g.T)


class CriticEstimator(WeightAveraged):
    """Base of the critic-based (variational lower-bound) estimators.

    Args:
        x_dim, y_dim: dimensions of ``x: (N, d_x)`` and ``y: (N, d_y)``.
        hidden: hidden widths of each of the two critic MLPs.
        embed: embedding dimension of the separable critic.
        form: ``"distance"`` (default) or ``"dot"``, see :class:`SeparableCritic`.
        average: rate of the exponential moving average of the critic weights (Polyak
            averaging) that gives the *estimate*; the loss is always that of the trained
            critic. 0 reports the trained critic itself. Default 0.02 (a window of about
            50 steps).
        burn_in_steps, burn_in_lr_factor: the first ``burn_in_steps`` training steps of
            a fresh estimator use ``burn_in_lr_factor`` times the learning rate
            (via :meth:`lr_scale`, applied by :func:`~neural.mi.base.fit`).
        shrink: the estimate is the bound of the critic ``shrink * T`` (training is
            unchanged). ``None`` (default): the class's ``default_shrink``, 1 (0.95
            for NWJ). A value below 1 trades bias for variance: the bound's loss is
            second order in ``1 - shrink`` near the optimal critic, the per-batch sd
            falls at first order (see docs/mi-estimators.md, "The sd
            floor"). ``shrink * T`` is a critic like any other, so the bounds stay bounds.

    The critic MLPs use SiLU units: smooth, they fit the quadratic log-ratios of
    Gaussian-like data better than ReLU in the same budget (measured on the
    staircase: MINE bias -0.07 vs -0.12 nats at d = 5, I = 2, last 750 of 3,000
    steps, dot form, lr 3e-4, one seed).

    Weight averaging (:class:`~neural.mi.base.WeightAveraged`): SGD noise in the
    critic weights lowers a variational bound (the bound is concave in the critic)
    and adds to the per-batch spread, so the estimate uses ``critic_avg``, an
    exponential moving average of the critic weights. Measured on the staircase
    (MINE, d = 5, 3 seeds, 4,000 steps per level, with burn-in): bias over the level
    at I = 4 / 6 nats -0.054 / -0.090 without, -0.023 / -0.004 with averaging (rate
    0.02); per-batch sd at I = 6 0.622 -> 0.604. Cost: one more forward pass of the
    critic per step (MINE 1.4 -> 1.7-1.9 ms per step, batch 64, one CPU thread).

    Burn-in. A fresh critic starts near T = 0 (estimate ~ 0); at the default
    learning rate MINE needs ~200 steps to reach I = 2 nats (d = 5), with 8x the rate
    for the first 150 steps ~40 (staircase bias over the first level -0.053 -> -0.017,
    sd 0.325 -> 0.246; 3 seeds, with averaging).

    Subclasses implement :meth:`bound` mapping the ``(N, N)`` scores to
    ``(training objective to maximise, estimate)``.
    """

    kind = "lower bound"
    default_lr = 2.5e-4
    #: ``shrink`` when none is given (subclasses may override; NWJ: 0.95)
    default_shrink = 1.0

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden: Sequence[int] = DEFAULT_CRITIC_HIDDEN,
        embed: int = DEFAULT_EMBED,
        form: str = "distance",
        *,
        average: float = DEFAULT_AVERAGE,
        burn_in_steps: int = DEFAULT_BURN_IN[0],
        burn_in_lr_factor: float = DEFAULT_BURN_IN[1],
        shrink: float | None = None,
    ) -> None:
        super().__init__()
        if shrink is None:
            shrink = self.default_shrink
        if not 0 < shrink <= 1:
            raise ValueError(f"shrink must be in (0, 1], got {shrink}")
        self.shrink = float(shrink)
        if burn_in_steps < 0:
            raise ValueError(f"burn_in_steps must be >= 0, got {burn_in_steps}")
        if not burn_in_lr_factor > 0:
            raise ValueError(f"burn_in_lr_factor must be > 0, got {burn_in_lr_factor}")
        self.x_dim, self.y_dim = int(x_dim), int(y_dim)
        self.burn_in_steps, self.burn_in_lr_factor = int(burn_in_steps), float(burn_in_lr_factor)
        self.critic = SeparableCritic(x_dim, y_dim, hidden, embed, nn.SiLU, form)
        self._init_average("critic", average)  # critic_avg, n_updates

    def bound(self, scores: torch.Tensor, update: bool) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def lr_scale(self) -> float:
        return self.burn_in_lr_factor if int(self.n_updates) < self.burn_in_steps else 1.0

    def loss_and_estimate(
        self, x: torch.Tensor, y: torch.Tensor, *, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch(x, y)
        if update:
            self._fold_average()
        scores = self.critic(x, y)
        objective, est = self.bound(scores, update)
        if self.critic_avg is not None or self.shrink != 1.0:
            est = self._estimate(self.averaged(), x, y)
        return -objective, est.detach()

    @torch.no_grad()
    def _estimate(self, critic: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scores = critic(x, y)
        if self.shrink != 1.0:
            scores = scores * self.shrink
        return self.bound(scores, False)[1]

    def estimate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """MI estimate on a batch (nats), from the averaged critic when averaging is on;
        pure: reads no cache filled by :meth:`loss` and changes no state."""
        check_batch(x, y)
        return self._estimate(self.averaged(), x, y)


class MINE(CriticEstimator):
    """MINE, eq. (39), all-pairs negatives, moving-average gradient correction.

    Args: as :class:`CriticEstimator`, plus ``ema`` (weight of the newest batch in the
    moving average of ``mean exp T`` used in the gradient; 0.01 as in Belghazi et al.).
    """

    def __init__(
        self,
        x_dim: int,
        y_dim: int,
        hidden: Sequence[int] = DEFAULT_CRITIC_HIDDEN,
        embed: int = DEFAULT_EMBED,
        form: str = "distance",
        *,
        ema: float = 0.01,
        **kwargs: float,
    ) -> None:
        super().__init__(x_dim, y_dim, hidden, embed, form, **kwargs)
        if not 0 < ema <= 1:
            raise ValueError(f"ema must be in (0, 1], got {ema}")
        self.ema = float(ema)
        # log of the moving average of mean_{i!=j} exp T(x_i, y_j); NaN = not started
        self.register_buffer("log_ma", torch.tensor(float("nan")))

    def bound(self, scores: torch.Tensor, update: bool) -> tuple[torch.Tensor, torch.Tensor]:
        joint = torch.diagonal(scores).mean()
        log_marg = logmeanexp_offdiag(scores)
        est = joint - log_marg  # eq. (39) on the batch
        if not update:
            return est, est
        lm = log_marg.detach()
        if self.ema == 1.0 or torch.isnan(self.log_ma):
            self.log_ma.copy_(lm)
        else:
            self.log_ma.copy_(
                torch.logaddexp(self.log_ma + math.log1p(-self.ema), lm + math.log(self.ema))
            )
        # surrogate whose gradient is grad(E T) - grad(mean exp T) / moving average
        surrogate = joint - torch.exp(log_marg - self.log_ma)
        return surrogate, est
