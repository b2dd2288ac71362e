"""MI with one discrete side from a trained classifier (Barber-Agakov bound).

For a discrete Y (class labels) and any X,

    I(X;Y) = H(Y) - H(Y|X) >= H(Y) - CE(q),    CE(q) = E_p(x,y)[-log q(y|x)],

for every conditional q(y|x), with equality at q = p(y|x) (the gap is
``E_x KL(p(y|x) || q(y|x))``). The estimator trains a softmax classifier q(y|x) by
cross-entropy and reports ``H(Y) - CE`` with H(Y) from the label counts and CE on
held-out samples. Since ``CE >= 0`` the value can never exceed H(Y), the trivial upper
bound that categorical CLUB violates when q(y|x) is near one-hot (its negative term
``-E_p(x)p(y) log q(y|x)`` is then unbounded). All values in nats.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .club import DEFAULT_HIDDEN, SoftmaxQ

__all__ = ["ClassifierMI"]


class ClassifierMI(SoftmaxQ):
    """``H(Y) - CE(q)`` with a softmax classifier ``q(y|x)``: a lower bound on I(X;Y)
    that never exceeds H(Y).

    Args:
        x_dim: dimension of ``x: (N, d_x)``.
        n_classes: number K of values of ``y: (N,)`` (integer indices ``0..K-1``).
        hidden: hidden widths of the classifier MLP.
        entropy: H(Y) in nats (from the label counts; :func:`~neural.mi.estimate.estimate_mi`
            sets it); can also be set later with :meth:`set_entropy`.
        average: rate of the moving average of the classifier weights that gives the
            estimate (:class:`~neural.mi.base.WeightAveraged`; 0: the trained network).

    ``loss`` is the cross-entropy of the trained classifier (nats); ``estimate`` on a
    batch is ``H(Y) + mean_i log q(y_i|x_i)`` with q from the weight average.
    """

    kind = "lower bound"

    def __init__(
        self,
        x_dim: int,
        n_classes: int,
        hidden: Sequence[int] = DEFAULT_HIDDEN,
        *,
        entropy: float = 0.0,
        average: float = 0.02,
    ) -> None:
        super().__init__(x_dim, n_classes, hidden, average)
        self.register_buffer("entropy_y", torch.tensor(0.0))
        self.set_entropy(entropy)

    def set_entropy(self, entropy: float) -> None:
        """Set H(Y) (nats) used by the estimate."""
        if not (0 <= float(entropy) < float("inf")):
            raise ValueError(f"entropy must be a finite value >= 0 (nats), got {entropy}")
        self.entropy_y.fill_(float(entropy))

    def loss_and_estimate(
        self, x: torch.Tensor, y: torch.Tensor, *, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits, y = self._logits(x, y, update)
        ce = torch.nn.functional.cross_entropy(logits, y)
        with torch.no_grad():
            ce_avg = (
                ce
                if self.net_avg is None
                else torch.nn.functional.cross_entropy(self.net_avg(x), y)
            )
            est = self.entropy_y - ce_avg
        return ce, est
