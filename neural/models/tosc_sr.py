"""The TOSC-SR system of Fig. 3: encoder → quantizer → channel → decoder → task network."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from neural.channels import AWGNChannel
from neural.models.decoder import JSCCDecoder
from neural.models.encoder import DOWNSAMPLING, JSCCEncoder, check_image_batch
from neural.quantizer import BinaryQuantizer, bits_per_pixel


class JSCCCodec(nn.Module):
    """JSCC codec: ``x → e = E_θ(x) → z = Q(e) → ẑ = channel(z) → x̂ = D_φ(ẑ)``.

    Every stage is an ``nn.Module`` attribute and may be swapped (e.g. another channel
    with the same ``forward(z, snr_db, generator)`` signature).

    Shapes: ``x (B, C, H, W)`` in [0, 1], H and W multiples of 8 → ``x̂ (B, C, H, W)``.
    """

    def __init__(
        self,
        latent_channels: int,
        width: float = 1.0,
        image_channels: int = 3,
        channel: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.encoder = JSCCEncoder(latent_channels, width, image_channels)
        self.quantizer = BinaryQuantizer()
        self.channel = channel if channel is not None else AWGNChannel()
        self.decoder = JSCCDecoder(latent_channels, width, image_channels)
        self.image_channels = image_channels
        self.latent_channels = latent_channels

    def bits(self, x: torch.Tensor) -> torch.Tensor:
        """Channel input bits ``z`` (eq. 18), shape ``(B, K, H/8, W/8)``."""
        return self.quantizer(self.encoder(x))

    def forward(
        self,
        x: torch.Tensor,
        snr_db: torch.Tensor | float,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Reconstruct ``x`` through the channel at ``snr_db`` (number or ``(B,)`` tensor, dB)."""
        return self.decoder(self.channel(self.bits(x), snr_db, generator))

    def bpp(self, image_size: tuple[int, int]) -> float:
        """Bits per pixel (eq. 21) for an ``H×W`` image, from the latent shape the encoder produces."""
        h, w = image_size
        check_image_batch(
            torch.empty(1, self.image_channels, h, w, device="meta"), self.image_channels
        )
        latent = (self.latent_channels, h // DOWNSAMPLING, w // DOWNSAMPLING)
        return bits_per_pixel(latent, (self.image_channels, h, w))


class TOSCOutput(NamedTuple):
    """Outputs of :class:`TOSCSR`: reconstruction ``(B, C, H, W)`` and class logits ``(B, classes)``."""

    reconstruction: torch.Tensor
    logits: torch.Tensor


class TOSCSR(nn.Module):
    """Fig. 3 cascade: JSCC codec followed by the task network (any classifier ``nn.Module``)."""

    def __init__(self, codec: JSCCCodec, classifier: nn.Module) -> None:
        super().__init__()
        self.codec = codec
        self.classifier = classifier

    def forward(
        self,
        x: torch.Tensor,
        snr_db: torch.Tensor | float,
        generator: torch.Generator | None = None,
    ) -> TOSCOutput:
        x_hat = self.codec(x, snr_db, generator)
        return TOSCOutput(x_hat, self.classifier(x_hat))
