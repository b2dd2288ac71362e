"""Channel-use accounting and the bit budget of the digital (separation) baseline.

The JSCC codec sends ``K·(H/8)·(W/8)`` bits per ``H×W`` image, one BPSK symbol per bit
over one real channel use, so its rate in bits per pixel is eq. (21),
``bpp = K·(H/8)·(W/8) / (H·W)`` (:func:`neural.quantizer.bits_per_pixel`,
:meth:`neural.models.JSCCCodec.bpp`). The digital baseline gets exactly the same channel:

    n = bpp · H · W               real (BPSK) channel uses per image,
    budget = n · C(snr_db)        bits per image,

with ``C`` the capacity per channel use of :mod:`neural.digital.capacity`. The budget is
the idealised separation bound: it assumes a capacity-achieving channel code, so a
bitstream that fits is delivered without error and one that does not is lost.
"""

from __future__ import annotations

import math

import numpy as np

from neural.digital.capacity import capacity_per_use

# bpp·H·W may differ from an integer by floating-point rounding only (bpp = K/64 etc.)
_INTEGER_TOL = 1e-9


def _check_image_size(image_size: tuple[int, int]) -> tuple[int, int]:
    try:
        h, w = (int(s) for s in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be (H, W), got {image_size!r}") from None
    if h < 1 or w < 1 or (h, w) != tuple(image_size):
        raise ValueError(f"image_size must be two positive integers (H, W), got {image_size!r}")
    return h, w


def channel_uses(bpp: float, image_size: tuple[int, int]) -> int:
    """Real (BPSK) channel uses per image, ``n = bpp·H·W`` — the JSCC's bit count (eq. 21).

    ``bpp`` is the JSCC's bits (= channel uses) per pixel; ``n`` must be a whole number
    (it is for ``bpp = K/64`` and ``H, W`` multiples of 8), otherwise ``ValueError``.
    """
    if isinstance(bpp, bool) or not isinstance(bpp, (int, float, np.integer, np.floating)):
        raise TypeError(f"bpp must be a real number, got {type(bpp).__name__}")
    bpp = float(bpp)
    if not math.isfinite(bpp) or bpp <= 0:
        raise ValueError(f"bpp must be positive and finite, got {bpp}")
    h, w = _check_image_size(image_size)
    n = bpp * h * w
    rounded = round(n)
    if rounded < 1 or abs(n - rounded) > _INTEGER_TOL * max(1.0, n):
        raise ValueError(
            f"bpp·H·W = {bpp}·{h}·{w} = {n:.6g} channel uses is not a positive whole number; "
            "use the JSCC's bpp = K·(H/8)·(W/8)/(H·W) (eq. 21)"
        )
    return int(rounded)


def bit_budget(
    bpp: float, image_size: tuple[int, int], snr_db: float, capacity: str = "bpsk"
) -> float:
    """Bits per image the digital link delivers: ``channel_uses(bpp, image_size) · C(snr_db)``.

    ``capacity`` is ``"bpsk"`` (binary-input AWGN, 1 bit/use at ``snr_db = inf``) or
    ``"gaussian"`` (``½·log2(1 + SNR)``, ``inf`` at ``snr_db = inf``).
    """
    return channel_uses(bpp, image_size) * capacity_per_use(capacity, snr_db)
