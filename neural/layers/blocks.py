"""Residual block and depth-to-space up-sampling used by the JSCC codec (Table I)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def scaled_channels(base: int, width: float) -> int:
    """Channel count ``round(base * width)``, validated to be at least 1.

    Args:
        base: the channel count of Table I (e.g. 128, 256, 512).
        width: width multiplier (> 0); 1.0 gives the paper's network.
    """
    if not (isinstance(width, (int, float)) and width > 0):
        raise ValueError(f"width must be a positive number, got {width!r}")
    n = int(round(base * width))
    if n < 1:
        raise ValueError(
            f"width={width} leaves {base}-channel layer with {n} channels; use a larger width"
        )
    return n


class ResidualBlock(nn.Module):
    """Table I residual block: ``ReLU(x + Conv3x3(ReLU(Conv3x3(x))))``.

    The first 3×3 convolution maps ``channels → mid_channels`` and the second maps
    ``mid_channels → channels`` (Table I lists e.g. "128x3x3, 256x3x3" for a block on a
    256-channel tensor). Padding keeps the spatial size.

    Shapes: input ``(B, channels, H, W)`` → output ``(B, channels, H, W)``.
    """

    def __init__(self, channels: int, mid_channels: int) -> None:
        super().__init__()
        if channels < 1 or mid_channels < 1:
            raise ValueError(
                f"channels and mid_channels must be >= 1, got {channels}, {mid_channels}"
            )
        self.conv1 = nn.Conv2d(channels, mid_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(mid_channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class DepthToSpace(nn.Module):
    """Depth-to-space (sub-pixel) up-sampling by ``factor`` (Table I, Up-Sampling1/2).

    Output element ``y[b, c, h*r + i, w*r + j] = x[b, c*r*r + i*r + j, h, w]`` (the
    channel-major ordering of :func:`torch.nn.functional.pixel_shuffle`).

    Shapes: ``(B, C·r², H, W)`` → ``(B, C, H·r, W·r)``.
    """

    def __init__(self, factor: int) -> None:
        super().__init__()
        if not isinstance(factor, int) or factor < 1:
            raise ValueError(f"factor must be a positive integer, got {factor!r}")
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"DepthToSpace expects a (B, C, H, W) tensor, got shape {tuple(x.shape)}"
            )
        if x.shape[1] % (self.factor**2) != 0:
            raise ValueError(
                f"DepthToSpace({self.factor}) needs channels divisible by {self.factor**2}, got {x.shape[1]}"
            )
        return F.pixel_shuffle(x, self.factor)

    def extra_repr(self) -> str:
        return f"factor={self.factor}"
