"""The TOSC-SR training loss, eq. (31): ``L_R = MSE(X, X̂) + β·CE(Y, Ŷ)``."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F


class LossTerms(NamedTuple):
    """Scalar tensors: ``total`` (what is minimised), ``mse`` (D_RD, eq. 30) and ``ce`` (relaxed D_IB, eq. 29)."""

    total: torch.Tensor
    mse: torch.Tensor
    ce: torch.Tensor


def tosc_loss(
    x: torch.Tensor,
    x_hat: torch.Tensor,
    logits: torch.Tensor,
    labels: torch.Tensor,
    beta: float,
    rd_weight: float = 1.0,
) -> LossTerms:
    """Eq. (31): ``rd_weight·MSE(x, x̂) + β·CE(y, ŷ)``.

    ``rd_weight = 1`` is the paper's loss (β = 0: the RD baseline); ``rd_weight = 0`` with
    β > 0 is the IB baseline (cross-entropy alone).

    Args:
        x, x_hat: images ``(B, C, H, W)``; MSE is the mean over all elements.
        logits: ``(B, classes)`` task-network outputs on ``x_hat``.
        labels: ``(B,)`` int64 class indices; CE is the batch mean, in nats.
        beta: trade-off factor β ≥ 0.
        rd_weight: weight of the MSE term, 0 or 1 in the paper's experiments.
    """
    for name, v in (("beta", beta), ("rd_weight", rd_weight)):
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if beta == 0 and rd_weight == 0:
        raise ValueError("beta and rd_weight are both 0: the loss would be identically zero")
    if x.shape != x_hat.shape:
        raise ValueError(
            f"x and x_hat must have the same shape, got {tuple(x.shape)} and {tuple(x_hat.shape)}"
        )
    if logits.dim() != 2 or labels.shape != (logits.shape[0],) or logits.shape[0] != x.shape[0]:
        raise ValueError(
            f"expected logits (B, classes) and labels (B,) with B = {x.shape[0]}, "
            f"got {tuple(logits.shape)} and {tuple(labels.shape)}"
        )
    mse = F.mse_loss(x_hat, x)
    ce = F.cross_entropy(logits, labels)
    return LossTerms(rd_weight * mse + beta * ce, mse, ce)
