"""Digital separation baselines (JPEG, JPEG 2000 over the JSCC's channel); see docs/digital-baselines.md.

* :func:`transmit_digital` — code a batch at the highest quality that fits the bit budget
  of ``bpp·H·W`` BPSK channel uses at ``snr_db``, decode, or output the fallback.
* :func:`bpsk_capacity`, :func:`gaussian_capacity` — bits per channel use.
* :func:`channel_uses`, :func:`bit_budget` — the accounting.
"""

from neural.digital.budget import bit_budget, channel_uses
from neural.digital.capacity import (
    CAPACITIES,
    bpsk_capacity,
    capacity_per_use,
    gaussian_capacity,
)
from neural.digital.codecs import CODECS, JPEG2000Codec, JPEGCodec, get_codec
from neural.digital.search import best_quality
from neural.digital.transmit import HEADERS, DigitalResult, transmit_digital

__all__ = [
    "CAPACITIES",
    "CODECS",
    "HEADERS",
    "DigitalResult",
    "JPEG2000Codec",
    "JPEGCodec",
    "best_quality",
    "bit_budget",
    "bpsk_capacity",
    "capacity_per_use",
    "channel_uses",
    "gaussian_capacity",
    "get_codec",
    "transmit_digital",
]
