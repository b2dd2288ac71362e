"""JSCC encoder of Table I (8× spatial down-sampling, sigmoid output in [0, 1])."""

from __future__ import annotations

import torch
from torch import nn

from neural.layers import ResidualBlock, scaled_channels

#: Total spatial down-sampling factor of :class:`JSCCEncoder` (stride 4 × stride 2).
DOWNSAMPLING = 8


class JSCCEncoder(nn.Module):
    """Table I encoder ``E_θ``: x → e.

    Layers (channel counts times ``width``): Conv 128@8×8 stride 4 + ReLU,
    ResBlock(128, mid 128), Conv 256@4×4 stride 2 + ReLU, 2 × ResBlock(256, mid 128),
    Conv K@3×3 + sigmoid. Paddings 2, 1, 1 make the output exactly ``H/8 × W/8``.

    Shapes: ``(B, in_channels, H, W)`` with ``H, W`` divisible by 8, values in [0, 1]
    → ``(B, K, H/8, W/8)`` with values in (0, 1).
    """

    def __init__(self, latent_channels: int, width: float = 1.0, in_channels: int = 3) -> None:
        super().__init__()
        if not isinstance(latent_channels, int) or latent_channels < 1:
            raise ValueError(
                f"latent_channels (K) must be a positive integer, got {latent_channels!r}"
            )
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"in_channels must be a positive integer, got {in_channels!r}")
        c128, c256 = scaled_channels(128, width), scaled_channels(256, width)
        self.in_channels = in_channels
        self.latent_channels = latent_channels
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, c128, 8, stride=4, padding=2),
            nn.ReLU(inplace=True),
            ResidualBlock(c128, c128),
            nn.Conv2d(c128, c256, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            ResidualBlock(c256, c128),
            ResidualBlock(c256, c128),
            nn.Conv2d(c256, latent_channels, 3, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels)
        return self.net(x)


def check_image_batch(x: torch.Tensor, channels: int) -> None:
    """Raise a clear error unless ``x`` is ``(B, channels, H, W)`` with H, W divisible by 8."""
    if x.dim() != 4:
        raise ValueError(
            f"expected an image batch of shape (B, C, H, W), got shape {tuple(x.shape)}"
        )
    if x.shape[1] != channels:
        raise ValueError(
            f"expected {channels} image channels, got {x.shape[1]} (shape {tuple(x.shape)})"
        )
    h, w = x.shape[-2:]
    if h % DOWNSAMPLING or w % DOWNSAMPLING or h < DOWNSAMPLING or w < DOWNSAMPLING:
        raise ValueError(
            f"image size {h}x{w} cannot be down-sampled by {DOWNSAMPLING}: height and width must be "
            f"positive multiples of {DOWNSAMPLING}"
        )
