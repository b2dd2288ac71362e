"""JSCC decoder of Table I (8× up-sampling by depth-to-space)."""

from __future__ import annotations

import torch
from torch import nn

from neural.layers import DepthToSpace, ResidualBlock, scaled_channels


class JSCCDecoder(nn.Module):
    """Table I decoder ``D_φ``: ẑ → x̂.

    Layers (channel counts times ``width``): Conv 512@1×1 + ReLU, 2 × ResBlock(512, mid 128),
    DepthToSpace(2), Conv 256@3×3 + ReLU, ResBlock(256, mid 128), DepthToSpace(4),
    Conv 32@3×3 + ReLU, Conv out_channels@3×3 (no activation).

    Shapes: ``(B, K, h, w)`` → ``(B, out_channels, 8h, 8w)`` (unbounded real values; the
    images are in [0, 1], nothing is clipped).
    """

    def __init__(self, latent_channels: int, width: float = 1.0, out_channels: int = 3) -> None:
        super().__init__()
        if not isinstance(latent_channels, int) or latent_channels < 1:
            raise ValueError(
                f"latent_channels (K) must be a positive integer, got {latent_channels!r}"
            )
        if not isinstance(out_channels, int) or out_channels < 1:
            raise ValueError(f"out_channels must be a positive integer, got {out_channels!r}")
        c512, c256, c128 = (
            scaled_channels(512, width),
            scaled_channels(256, width),
            scaled_channels(128, width),
        )
        c32 = scaled_channels(32, width)
        if c512 % 4:
            raise ValueError(
                f"width={width} gives {c512} channels before DepthToSpace(2); need a multiple of 4"
            )
        if c256 % 16:
            raise ValueError(
                f"width={width} gives {c256} channels before DepthToSpace(4); need a multiple of 16"
            )
        self.latent_channels = latent_channels
        self.net = nn.Sequential(
            nn.Conv2d(latent_channels, c512, 1),
            nn.ReLU(inplace=True),
            ResidualBlock(c512, c128),
            ResidualBlock(c512, c128),
            DepthToSpace(2),
            nn.Conv2d(c512 // 4, c256, 3, padding=1),
            nn.ReLU(inplace=True),
            ResidualBlock(c256, c128),
            DepthToSpace(4),
            nn.Conv2d(c256 // 16, c32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c32, out_channels, 3, padding=1),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(
                f"expected a latent of shape (B, {self.latent_channels}, h, w), got {tuple(z.shape)}"
            )
        return self.net(z)
