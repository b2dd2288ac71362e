"""The SPICS baseline (multi-task JSCC): a small classification head on the received latent.

SPICS (the paper's ref. [4], "semantic-preserving image communication system") shares the
JSCC codec of TOSC-SR but classifies from the channel output ``ẑ`` instead of from the
reconstruction ``x̂``; codec and head are trained jointly on ``MSE(x, x̂) + β·CE(y, head(ẑ))``
(a multi-task loss, unlike the cascade of Fig. 3).
"""

from __future__ import annotations

import torch
from torch import nn

from neural.layers import scaled_channels
from neural.models.tosc_sr import JSCCCodec, TOSCOutput


class LatentClassifier(nn.Module):
    """Classification head on a latent ``(B, K, h, w)``: two 3×3 convolutions with ReLU,
    global average pooling, one linear layer.

    Args:
        latent_channels: K.
        num_classes: outputs (≥ 2).
        width: multiplier on the 128 hidden channels (the codec's ``codec_width``).

    Shapes: ``(B, K, h, w)`` → logits ``(B, num_classes)``.
    """

    def __init__(self, latent_channels: int, num_classes: int, width: float = 1.0) -> None:
        super().__init__()
        if not isinstance(latent_channels, int) or latent_channels < 1:
            raise ValueError(
                f"latent_channels (K) must be a positive integer, got {latent_channels!r}"
            )
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        c = scaled_channels(128, width)
        self.latent_channels = latent_channels
        self.net = nn.Sequential(
            nn.Conv2d(latent_channels, c, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(c, num_classes),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(
                f"expected a latent of shape (B, {self.latent_channels}, h, w), got {tuple(z.shape)}"
            )
        return self.net(z)


class SPICS(nn.Module):
    """Codec plus latent head: ``ẑ = channel(Q(E(x)))``, ``x̂ = D(ẑ)``, ``ŷ = head(ẑ)``.

    ``forward(x, snr_db, generator=None)`` → :class:`TOSCOutput` ``(reconstruction, logits)``;
    the noise is drawn exactly as :meth:`JSCCCodec.forward` draws it.
    """

    def __init__(self, codec: JSCCCodec, head: nn.Module) -> None:
        super().__init__()
        self.codec = codec
        self.head = head

    def forward(
        self,
        x: torch.Tensor,
        snr_db: torch.Tensor | float,
        generator: torch.Generator | None = None,
    ) -> TOSCOutput:
        z_hat = self.codec.channel(self.codec.bits(x), snr_db, generator)
        return TOSCOutput(self.codec.decoder(z_hat), self.head(z_hat))
