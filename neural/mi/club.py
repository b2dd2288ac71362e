"""CLUB: the contrastive log-ratio upper bound (Cheng et al. 2020), paper eq. (40).

    I_CLUB = E_{p(x,y)}[log q(y|x)] - E_{p(x)} E_{p(y)}[log q(y|x)]        (40)

``q(y|x)`` is a variational conditional fitted by maximum likelihood on the joint
samples (Algorithm 4, steps 3-9; the paper's "MSE" loss is the Gaussian negative
log-likelihood with a fixed variance, here the variance is learned).

What the number means. With the *exact* conditional ``q = p(y|x)``, I_CLUB >= I(X;Y),
with equality only in degenerate cases; it is **not** I(X;Y). For componentwise
correlated Gaussians of dimension d it equals ``d (exp(2 I / d) - 1)`` nats (see
:func:`neural.mi.testing.club_exact_q`). A well-fitted CLUB converges to *that* value;
estimates close to I(X;Y) come from an underfit q. With an imperfect q the bound holds
only when q is close enough to p (Cheng et al., Thm 3.2: KL(p(x)p(y)||q) >=
KL(p(x,y)||q)); treat the number as an upper-bound *estimate*.

The negative term averages over all ordered pairs ``(x_i, y_j)``, ``i != j``, of the
batch, an unbiased estimate of ``E_{p(x)}E_{p(y)}`` (the reference code also
averages the positive pair ``j = i`` in, which biases it downwards by O(I/N)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import MIEstimator, WeightAveraged, check_batch, mlp

__all__ = ["GaussianCLUB", "CLUBSample", "CategoricalCLUB", "PAPER_HIDDEN", "DEFAULT_HIDDEN"]

#: the MI network of the paper (an MLP 1024-512-512), as a ``hidden=`` option
PAPER_HIDDEN: tuple[int, ...] = (1024, 512, 512)
#: default hidden widths of q(y|x)
DEFAULT_HIDDEN: tuple[int, ...] = (128, 128)


def derangement(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random permutation ``s`` of ``range(n)`` with ``s[i] != i`` for all i (n >= 2).

    A random cyclic shift of a random ordering: every ``j != i`` is equally likely as
    ``s[i]``; negatives are drawn without replacement and never the positive itself.
    """
    order = torch.randperm(n, generator=generator)
    shift = int(torch.randint(1, n, (1,), generator=generator))
    s = torch.empty(n, dtype=torch.long)
    s[order] = order.roll(-shift)
    return s


class GaussianCLUB(MIEstimator):
    """CLUB with a diagonal Gaussian ``q(y|x) = N(mu(x), diag(exp(logvar(x))))``.

    Args:
        x_dim, y_dim: dimensions d_x, d_y of the inputs ``x: (N, d_x)``, ``y: (N, d_y)``.
        hidden: hidden widths of the shared trunk; ``PAPER_HIDDEN`` is the paper's
            1024-512-512 MLP. The mean and log-variance heads are linear (the mean
            head has a linear skip path from x, so the mean is fitted precisely: an
            error delta in the mean lowers CLUB by about delta^2 / var); the
            log-variance is unbounded (no tanh squashing, which would stop q from
            fitting small conditional variances and make CLUB underestimate its bound).

    ``loss`` is the negative log-likelihood of q on the joint samples (nats per sample);
    ``estimate`` is eq. (40) with all-pairs negatives, nats.
    """

    kind = "upper bound"

    def __init__(self, x_dim: int, y_dim: int, hidden: Sequence[int] = DEFAULT_HIDDEN) -> None:
        super().__init__()
        hidden = tuple(hidden)
        if len(hidden) == 0:
            raise ValueError("hidden must have at least one layer for GaussianCLUB")
        self.x_dim, self.y_dim = int(x_dim), int(y_dim)
        self.trunk = nn.Sequential(*list(mlp(x_dim, hidden[:-1], hidden[-1])), nn.ReLU())
        self.mu = nn.Linear(hidden[-1], y_dim)
        self.mu_skip = nn.Linear(x_dim, y_dim, bias=False)  # linear path for the mean
        self.logvar = nn.Linear(hidden[-1], y_dim)

    def q_params(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(y|x), each ``(N, d_y)``."""
        h = self.trunk(x)
        return self.mu(h) + self.mu_skip(x), self.logvar(h)

    def _negative(
        self, y: torch.Tensor, mu: torch.Tensor, prec: torch.Tensor, pos_sq: torch.Tensor
    ) -> torch.Tensor:
        # mean over j != i of sum_k prec_ik (y_jk - mu_ik)^2, in O(N d):
        # sum_j (y_jk - mu_ik)^2 = sum_j (y_jk - ybar_k)^2 + N (ybar_k - mu_ik)^2
        n = y.shape[0]
        ybar = y.mean(0, keepdim=True)
        ss = ((y - ybar) ** 2).sum(0, keepdim=True)
        all_sq = (prec * (ss + n * (ybar - mu) ** 2)).sum(1)
        return (all_sq - pos_sq) / (n - 1)

    def loss_and_estimate(
        self, x: torch.Tensor, y: torch.Tensor, *, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_batch(x, y)
        mu, logvar = self.q_params(x)
        prec = torch.exp(-logvar)
        pos_sq = (prec * (y - mu) ** 2).sum(1)  # (N,)
        # -log q(y_i|x_i), averaged: the maximum-likelihood loss (Algorithm 4, step 6)
        nll = 0.5 * (pos_sq + logvar.sum(1)).mean() + 0.5 * self.y_dim * math.log(2 * math.pi)
        with torch.no_grad():
            # eq. (40): log q(y_i|x_i) - mean_{j!=i} log q(y_j|x_i); the log-variance
            # and 2*pi terms are the same for all j and cancel.
            neg_sq = self._negative(y, mu, prec, pos_sq)
            est = 0.5 * (neg_sq - pos_sq).mean()
        return nll, est


class CLUBSample(GaussianCLUB):
    """CLUB-sample: eq. (40) with one negative ``y_{s(i)}`` per ``x_i``, ``s`` a random
    derangement (no fixed points). Same q and loss as :class:`GaussianCLUB`; unbiased for
    the same quantity, with a higher per-batch variance.

    Args: as :class:`GaussianCLUB`, plus ``seed`` for the derangements.
    """

    def __init__(
        self, x_dim: int, y_dim: int, hidden: Sequence[int] = DEFAULT_HIDDEN, *, seed: int = 0
    ) -> None:
        super().__init__(x_dim, y_dim, hidden)
        self._gen = torch.Generator().manual_seed(int(seed))

    def _negative(
        self, y: torch.Tensor, mu: torch.Tensor, prec: torch.Tensor, pos_sq: torch.Tensor
    ) -> torch.Tensor:
        s = derangement(y.shape[0], self._gen).to(y.device)
        return (prec * (y[s] - mu) ** 2).sum(1)


class SoftmaxQ(WeightAveraged):
    """Shared part of the estimators with a softmax ``q(y|x) = softmax(f(x))`` over K
    classes (:class:`CategoricalCLUB`, :class:`~neural.mi.classifier.ClassifierMI`): the
    network ``net`` (weights averaged for the estimate), and the checked forward pass."""

    y_is_labels = True

    def __init__(self, x_dim: int, n_classes: int, hidden: Sequence[int], average: float) -> None:
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.x_dim, self.n_classes = int(x_dim), int(n_classes)
        self.net = mlp(x_dim, hidden, n_classes)
        self._init_average("net", average)  # net_avg, n_updates

    def _logits(
        self, x: torch.Tensor, y: torch.Tensor, update: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Validate the batch, fold the weight average in (training passes), and return
        the trained network's logits ``(N, K)`` and ``y`` as int64."""
        check_batch(x, y, y_labels=True)
        if int(y.min()) < 0 or int(y.max()) >= self.n_classes:
            raise ValueError(f"y: class indices must lie in 0..{self.n_classes - 1}")
        if update:
            self._fold_average()
        return self.net(x), y.long()


class CategoricalCLUB(SoftmaxQ):
    """CLUB with a categorical ``q(y|x) = softmax(f(x))`` for discrete ``y``.

    Args:
        x_dim: dimension of ``x: (N, d_x)`` (one-hot encode discrete x).
        n_classes: number K of values of ``y: (N,)`` (integer indices in ``0..K-1``).
        hidden: hidden widths of f.
        average: rate of the moving average of the weights of f that gives the
            estimate (:class:`~neural.mi.base.WeightAveraged`; 0: the trained f).

    ``loss`` is the cross-entropy (nats) of the trained f; ``estimate`` is eq. (40)
    with all-pairs negatives, ``mean_i [log q(y_i|x_i) - mean_{j!=i} log q(y_j|x_i)]``,
    with q from the weight average ``net_avg``.

    Why the average: eq. (40) is linear in ``log q``, and its negative term weighs
    ``log q(y|x)`` by ``p(x) p(y)``, so classes that are rare given x (small
    ``p(y|x)``) count far more than their likelihood does. Their logits get few and
    small gradients, and under Adam they wander between occurrences; the estimate
    inherits that noise (8 x 8 Dirichlet(1) joint, 30,000 samples, lr 1e-3, 5 seeds,
    4,000 steps: -3.3% .. +8.0% of the exact-q value without averaging, -2.3% .. +2.9%
    with). The same rare logits make a short run *under*-shoot: they take thousands of
    steps to descend to their small values (-5.9% / -3.7% on average after 800 steps,
    without / with averaging). A pair (x, y) never seen in training has no finite
    maximum-likelihood log q: its logit keeps falling, and the value keeps growing
    with training (``benchmarks/bench_mi.py --categorical``).
    """

    kind = "upper bound"

    def __init__(
        self,
        x_dim: int,
        n_classes: int,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        *,
        average: float = 0.02,
    ) -> None:
        super().__init__(x_dim, n_classes, hidden, average)

    def loss_and_estimate(
        self, x: torch.Tensor, y: torch.Tensor, *, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits, y = self._logits(x, y, update)
        logq = torch.log_softmax(logits, dim=1)  # (N, K), logsumexp-normalised
        pos = logq.gather(1, y[:, None]).squeeze(1)
        loss = -pos.mean()
        with torch.no_grad():
            if self.net_avg is not None:
                logq = torch.log_softmax(self.net_avg(x), dim=1)
                pos = logq.gather(1, y[:, None]).squeeze(1)
            n = y.shape[0]
            counts = torch.bincount(y, minlength=self.n_classes).to(logq.dtype)  # (K,)
            all_sum = logq @ counts  # sum_j log q(y_j | x_i)
            neg = (all_sum - pos) / (n - 1)
            est = (pos - neg).mean()
        return loss, est
