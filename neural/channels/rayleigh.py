"""Rayleigh block-fading channel with coherent equalisation.

Same conventions as :mod:`neural.channels.awgn` (BPSK ``s = 2z − 1``, unit power,
``ẑ = (ŝ + 1)/2``). Each sample (one image's latent) sees one fading amplitude
``a = |h|``, ``h ~ CN(0, 1)`` (so ``E[a²] = 1``), constant over the block:
``y = a·s + n``, ``n ~ N(0, σ²)``, ``σ² = 10^(−snr_db/10)``; ``snr_db`` is the
*average* SNR ``E[a²]·E[s²]/σ²``. The receiver knows ``a`` and equalises ``ŝ = y/a``.
"""

from __future__ import annotations

import torch
from torch import nn

from neural.channels.awgn import _check_bits, per_sample_snr, snr_to_noise_std


class RayleighBlockFadingChannel(nn.Module):
    """Rayleigh block fading + AWGN, one fading coefficient per sample.

    ``forward(z, snr_db, generator=None)``: shapes as :class:`~neural.channels.AWGNChannel`;
    returns ``ẑ = z + n/(2a)``.
    """

    def forward(
        self,
        z: torch.Tensor,
        snr_db: torch.Tensor | float,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        _check_bits(z)
        snr = per_sample_snr(snr_db, z.shape[0], z)
        sigma = snr_to_noise_std(snr)
        b = z.shape[0]
        # |h| with h ~ CN(0,1): sqrt of (X² + Y²)/2 with X, Y ~ N(0,1).
        g = torch.randn((b, 2), device=z.device, dtype=z.dtype, generator=generator)
        amp = torch.sqrt((g**2).sum(dim=1) / 2.0).clamp_min(torch.finfo(z.dtype).tiny)
        noise = torch.randn(z.shape, device=z.device, dtype=z.dtype, generator=generator)
        shape = (-1,) + (1,) * (z.dim() - 1)
        s = 2.0 * z - 1.0
        y = amp.view(shape) * s + sigma.view(shape) * noise
        s_hat = y / amp.view(shape)
        return (s_hat + 1.0) / 2.0
