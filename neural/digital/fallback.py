"""What the receiver outputs when an image's bitstream does not fit the budget (it is lost).

* ``"image-mean"`` (default, as in the deep-JSCC literature): every pixel of a coded
  channel set to that channel's mean, ``round(mean of the uint8 codec input)`` — one
  8-bit level per coded channel, i.e. ``8`` bits of side information for a grey
  (``"L"``) image and ``24`` for RGB. These bits are assumed delivered even when the
  budget is smaller (the literature's convention); they are reported in ``bits_used``.
* ``"train-mean"``: the training-set mean image (``train_mean``, ``(C, H, W)`` in
  [0, 1]), known to the receiver in advance: 0 bits.
"""

from __future__ import annotations

import numpy as np
import torch

FALLBACKS = ("image-mean", "train-mean")
MEAN_LEVEL_BITS = 8  # one uint8 level per coded channel


def check_train_mean(
    train_mean: torch.Tensor | None, on_failure: str, shape: tuple[int, int, int]
) -> torch.Tensor | None:
    """Validate the ``on_failure`` / ``train_mean`` pair for images of shape ``(C, H, W)``."""
    if on_failure not in FALLBACKS:
        raise ValueError(f"on_failure must be one of {FALLBACKS}, got {on_failure!r}")
    if on_failure == "image-mean":
        if train_mean is not None:
            raise ValueError("train_mean is used only with on_failure='train-mean'")
        return None
    if train_mean is None:
        raise ValueError("on_failure='train-mean' needs train_mean, a (C, H, W) tensor in [0, 1]")
    if not isinstance(train_mean, torch.Tensor):
        raise TypeError(
            f"train_mean must be a torch tensor (C, H, W), got {type(train_mean).__name__}"
        )
    if tuple(train_mean.shape) != tuple(shape):
        raise ValueError(
            f"train_mean must have the images' shape (C, H, W) = {tuple(shape)}, got {tuple(train_mean.shape)}"
        )
    if not torch.is_floating_point(train_mean):
        raise TypeError(f"train_mean must be floating point, got {train_mean.dtype}")
    if (
        not bool(torch.isfinite(train_mean).all())
        or float(train_mean.min()) < 0
        or float(train_mean.max()) > 1
    ):
        raise ValueError("train_mean must be finite with values in [0, 1]")
    return train_mean.detach()


def image_mean_fallback(coded: np.ndarray) -> np.ndarray:
    """Per-channel mean image of a uint8 codec input ``(H, W)`` or ``(H, W, 3)``, as uint8 levels."""
    axes = (0, 1)
    means = np.rint(coded.astype(np.float64).mean(axis=axes, keepdims=True))
    return np.broadcast_to(means.astype(np.uint8), coded.shape).copy()


def fallback_bits(on_failure: str, coded_channels: int) -> int:
    """Side-information bits of the fallback: ``8·channels`` for image-mean, 0 for train-mean."""
    return MEAN_LEVEL_BITS * coded_channels if on_failure == "image-mean" else 0
