"""Additive white Gaussian noise channel (Section IV-A-3 of the paper).

Conventions (used by every channel in this package):

* **Symbol mapping**: the bits ``z ∈ {0, 1}`` are sent as BPSK symbols
  ``s = 2z − 1 ∈ {−1, +1}``, so the signal power is exactly ``E[s²] = 1``.
* **SNR**: ``SNR = E[s²] / σ² = 1 / σ²`` per real channel use, in dB
  ``snr_db = 10·log10(1/σ²)``; ``snr_db = +inf`` is the noiseless channel.
* **Receiver output**: ``ẑ = (y + 1) / 2`` with ``y = s + n``, ``n ~ N(0, σ²)``, i.e.
  ``ẑ = z + n/2``: the paper's ``ẑ = z + n`` with ``dẑ/dz = 1`` (the paper's noise
  σ is half of the BPSK noise σ here).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def snr_to_noise_std(snr_db: torch.Tensor | float) -> torch.Tensor | float:
    """Noise standard deviation ``σ = 10^(−snr_db/20)`` for unit signal power (0 at +inf)."""
    if isinstance(snr_db, torch.Tensor):
        return torch.pow(10.0, -snr_db / 20.0)
    if math.isnan(snr_db):
        raise ValueError("snr_db must not be NaN")
    return 0.0 if snr_db == math.inf else 10.0 ** (-snr_db / 20.0)


def per_sample_snr(snr_db: torch.Tensor | float, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Validate ``snr_db`` and return it as a ``(B,)`` tensor on ``like``'s device and dtype.

    ``snr_db`` may be a Python number (same SNR for the whole batch), a 0-d tensor, or a
    ``(B,)`` tensor (one SNR per sample). NaN and −inf are rejected.
    """
    if isinstance(snr_db, torch.Tensor):
        t = snr_db.detach().to(device=like.device, dtype=like.dtype)
        if t.dim() == 0:
            t = t.expand(batch)
        elif t.shape != (batch,):
            raise ValueError(
                f"snr_db must be a scalar or a ({batch},) tensor, got shape {tuple(snr_db.shape)}"
            )
    elif isinstance(snr_db, (int, float)) and not isinstance(snr_db, bool):
        t = torch.full((batch,), float(snr_db), device=like.device, dtype=like.dtype)
    else:
        raise TypeError(f"snr_db must be a number or a tensor, got {type(snr_db).__name__}")
    if torch.isnan(t).any():
        raise ValueError("snr_db contains NaN")
    if (t == -math.inf).any():
        raise ValueError("snr_db = -inf (zero signal power) is not a valid channel")
    return t


def _check_bits(z: torch.Tensor) -> None:
    if z.dim() < 2:
        raise ValueError(f"channel input must be batched (B, ...), got shape {tuple(z.shape)}")
    if not torch.is_floating_point(z):
        raise TypeError(f"channel input must be floating point, got dtype {z.dtype}")


class AWGNChannel(nn.Module):
    """AWGN channel with BPSK mapping; see the module docstring for the conventions.

    ``forward(z, snr_db, generator=None)``:
        z: ``(B, K, h, w)`` bits in {0, 1} (any real values are accepted and mapped
            linearly, ``s = 2z − 1``, so gradients pass with ``dẑ/dz = 1``).
        snr_db: SNR in dB, a number or a ``(B,)`` tensor (per-sample SNR); +inf = no noise.
        generator: optional :class:`torch.Generator` for the noise (on ``z``'s device).
    Returns ``ẑ`` of the same shape: ``z + n/2`` with ``n ~ N(0, 10^(−snr_db/10))``
    drawn independently per element.
    """

    def forward(
        self,
        z: torch.Tensor,
        snr_db: torch.Tensor | float,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        _check_bits(z)
        snr = per_sample_snr(snr_db, z.shape[0], z)
        sigma = snr_to_noise_std(snr)  # (B,), 0 where snr = +inf
        if bool((sigma == 0).all()):
            return z
        s = 2.0 * z - 1.0  # BPSK, unit power
        noise = torch.randn(z.shape, device=z.device, dtype=z.dtype, generator=generator)
        shape = (-1,) + (1,) * (z.dim() - 1)
        y = s + sigma.view(shape) * noise
        return (y + 1.0) / 2.0
