"""The digital separation baseline: image codec + (ideal) channel code over the JSCC's channel.

Per image: quantise to uint8, code with JPEG or JPEG 2000 at the highest quality whose
size fits the bit budget (:mod:`neural.digital.budget`), deliver it (a capacity-achieving
channel code is assumed: no bit errors), decode; if no quality fits, the image is lost
and the receiver outputs the fallback (:mod:`neural.digital.fallback`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from neural.digital.budget import bit_budget, channel_uses
from neural.digital.capacity import CAPACITIES, capacity_per_use
from neural.digital.codecs import Encoded, get_codec
from neural.digital.fallback import check_train_mean, fallback_bits, image_mean_fallback
from neural.digital.search import DEFAULT_WINDOW, SizeTable, best_quality

HEADERS = ("payload", "full")
# Default side information of the payload policy: one byte, enough for the quality index
# (at most 100 levels) — the only parameter a fixed-parameter receiver does not know.
DEFAULT_SIDE_INFO_BITS = 8


@dataclass(frozen=True)
class DigitalResult:
    """Result of :func:`transmit_digital` (per-image arrays have length B).

    Attributes:
        reconstruction: ``(B, C, H, W)`` float in [0, 1] (the input's dtype and device).
        failed: ``(B,)`` bool, True where no quality fitted and the fallback was output.
        quality: ``(B,)`` int64, the chosen codec quality, ``-1`` where failed.
        bits_used: ``(B,)`` int64, bits counted against the budget: the coded size under
            the header policy for delivered images; the fallback's side information
            (8 bits per coded channel for ``"image-mean"``, 0 for ``"train-mean"``) for
            lost ones.
        bits_budget: bits per image, ``channel_uses · capacity_per_use``.
        failure_rate: fraction of lost images.
        header: ``"payload"`` or ``"full"``.
        capacity: ``"bpsk"`` or ``"gaussian"``.
        codec: ``"jpeg"`` or ``"jpeg2000"``.
        channel_uses: real (BPSK) channel uses per image, ``bpp·H·W``.
        capacity_per_use: bits per channel use at ``snr_db``.
        side_info_bits: bits added to the payload of every delivered image (0 for ``"full"``).
        fallback: ``"image-mean"`` or ``"train-mean"``.
        fallback_bits: side-information bits of one fallback image.
        color_mode: ``"L"`` (coded as one grey channel) or ``"RGB"``.
        bpp, snr_db: the arguments.
    """

    reconstruction: torch.Tensor
    failed: torch.Tensor
    quality: torch.Tensor
    bits_used: torch.Tensor
    bits_budget: float
    failure_rate: float
    header: str
    capacity: str
    codec: str
    channel_uses: int
    capacity_per_use: float
    side_info_bits: int
    fallback: str
    fallback_bits: int
    color_mode: str
    bpp: float
    snr_db: float

    def metadata(self) -> dict[str, object]:
        """The conventions and scalar outcomes as plain Python values (for result rows): every
        non-tensor field, plus ``mean_bits_used`` and ``mean_quality`` (over delivered images;
        NaN when every image was lost). ``snr_db`` and ``bits_budget`` may be ``inf``."""
        delivered = ~self.failed
        return {
            "codec": self.codec,
            "header": self.header,
            "capacity": self.capacity,
            "bpp": self.bpp,
            "snr_db": self.snr_db,
            "channel_uses": self.channel_uses,
            "capacity_per_use": self.capacity_per_use,
            "bits_budget": self.bits_budget,
            "side_info_bits": self.side_info_bits,
            "fallback": self.fallback,
            "fallback_bits": self.fallback_bits,
            "color_mode": self.color_mode,
            "failure_rate": self.failure_rate,
            "mean_bits_used": float(self.bits_used.double().mean()),
            "mean_quality": float(self.quality[delivered].double().mean())
            if bool(delivered.any())
            else math.nan,
        }

    def describe(self) -> str:
        """One line stating the channel, header policy and failure handling of this result."""
        side = f"+{self.side_info_bits} side bits" if self.header == "payload" else "whole file"
        return (
            f"{self.codec} ({self.color_mode}), header={self.header} ({side}), capacity={self.capacity} "
            f"({self.capacity_per_use:.4f} bit/use at {self.snr_db} dB), {self.channel_uses} uses -> "
            f"budget {self.bits_budget:.1f} bits/image, failures -> {self.fallback} "
            f"({self.fallback_bits} bits), failure_rate={self.failure_rate:.3f}"
        )


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch tensor (B, C, H, W), got {type(images).__name__}")
    if (
        images.dim() != 4
        or images.shape[0] < 1
        or images.shape[1] not in (1, 3)
        or min(images.shape[2:]) < 1
    ):
        raise ValueError(
            f"images must be (B, C, H, W) with B, H, W ≥ 1 and C in (1, 3), got shape {tuple(images.shape)}"
        )
    if not torch.is_floating_point(images):
        raise TypeError(f"images must be floating point in [0, 1], got dtype {images.dtype}")
    if not bool(torch.isfinite(images).all()):
        raise ValueError("images contain NaN or inf")
    lo, hi = float(images.min()), float(images.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"images must lie in [0, 1], got values in [{lo:.6g}, {hi:.6g}]")


def to_codec_input(images: torch.Tensor) -> tuple[np.ndarray, str]:
    """uint8 codec input ``round(255·x)`` and colour mode for a checked ``(B, C, H, W)`` batch.

    ``"L"`` (arrays ``(B, H, W)``) when C = 1 or when every image's three channels are
    identical after quantisation (grey images stored as RGB, e.g. the digits preset);
    ``"RGB"`` (arrays ``(B, H, W, 3)``) otherwise.
    """
    u8 = torch.round(images.detach().to("cpu", torch.float64) * 255.0).to(torch.uint8).numpy()
    if u8.shape[1] == 1 or (
        np.array_equal(u8[:, 0], u8[:, 1]) and np.array_equal(u8[:, 0], u8[:, 2])
    ):
        return np.ascontiguousarray(u8[:, 0]), "L"
    return np.ascontiguousarray(u8.transpose(0, 2, 3, 1)), "RGB"


def transmit_digital(
    images: torch.Tensor,
    *,
    codec: str,
    bpp: float,
    snr_db: float,
    capacity: str = "bpsk",
    header: str = "payload",
    side_info_bits: int | None = None,
    on_failure: str = "image-mean",
    train_mean: torch.Tensor | None = None,
    search: str = "bisect",
    progress: bool = False,
) -> DigitalResult:
    """Send ``images`` through the digital separation baseline with the JSCC's channel uses.

    Args:
        images: ``(B, C, H, W)`` float in [0, 1], C in (1, 3); quantised to uint8 as
            ``round(255·x)`` for the codec.
        codec: ``"jpeg"`` (quality 1..95) or ``"jpeg2000"`` (quality 1..100); see
            :mod:`neural.digital.codecs`.
        bpp: the JSCC's bits per pixel (eq. 21); the link has ``bpp·H·W`` BPSK channel uses.
        snr_db: channel SNR in dB (:mod:`neural.digital.capacity` convention), ``inf`` allowed.
        capacity: ``"bpsk"`` (binary-input AWGN) or ``"gaussian"`` (``½·log2(1 + SNR)``).
        header: ``"payload"``: entropy-coded bytes × 8 + ``side_info_bits``; ``"full"``:
            the whole file × 8.
        side_info_bits: fixed side information per delivered image under ``"payload"``
            (default 8: the quality index); must be 0 or None under ``"full"``.
        on_failure: ``"image-mean"`` or ``"train-mean"`` (then ``train_mean`` ``(C, H, W)``).
        search: ``"bisect"`` (default, verified) or ``"exhaustive"``; see :mod:`neural.digital.search`.
        progress: show a tqdm bar over the images.

    Returns:
        :class:`DigitalResult`.
    """
    _check_images(images)
    if capacity not in CAPACITIES:
        raise ValueError(f"capacity must be one of {CAPACITIES}, got {capacity!r}")
    if header not in HEADERS:
        raise ValueError(f"header must be one of {HEADERS}, got {header!r}")
    if side_info_bits is None:
        side_info_bits = DEFAULT_SIDE_INFO_BITS if header == "payload" else 0
    if (
        isinstance(side_info_bits, bool)
        or not isinstance(side_info_bits, (int, np.integer))
        or side_info_bits < 0
    ):
        raise ValueError(f"side_info_bits must be a non-negative integer, got {side_info_bits!r}")
    side_info_bits = int(side_info_bits)
    if header == "full" and side_info_bits != 0:
        raise ValueError(
            "side_info_bits applies to header='payload' only (a full file carries its own header)"
        )
    image_codec = get_codec(codec)
    b, c, h, w = images.shape
    mean_image = check_train_mean(train_mean, on_failure, (c, h, w))
    uses = channel_uses(bpp, (h, w))
    per_use = capacity_per_use(capacity, snr_db)
    budget = bit_budget(bpp, (h, w), snr_db, capacity)
    coded, color_mode = to_codec_input(images)
    lost_bits = fallback_bits(on_failure, 1 if color_mode == "L" else 3)

    out = np.empty_like(coded)
    failed = np.zeros(b, dtype=bool)
    quality = np.full(b, -1, dtype=np.int64)
    bits_used = np.full(b, lost_bits, dtype=np.int64)
    for i in tqdm(range(b), desc=f"{codec} images", disable=not progress, leave=False):
        image = coded[i]
        encoded: dict[int, Encoded] = {}

        def bits(q: int, image: np.ndarray = image, encoded: dict[int, Encoded] = encoded) -> int:
            encoded[q] = enc = image_codec.encode(image, q)
            return (
                8 * enc.payload_bytes + side_info_bits
                if header == "payload"
                else 8 * enc.file_bytes
            )

        table = SizeTable(bits)
        q = best_quality(table, image_codec.qualities, budget, search=search, window=DEFAULT_WINDOW)
        if q is None:
            failed[i] = True
            out[i] = image_mean_fallback(image)  # overwritten below for train-mean
        else:
            quality[i], bits_used[i] = q, table(q)
            out[i] = image_codec.decode(encoded[q].data, image)

    recon = torch.from_numpy(out).to(images.dtype) / 255.0
    recon = (
        recon.unsqueeze(1).expand(b, c, h, w) if color_mode == "L" else recon.permute(0, 3, 1, 2)
    )
    recon = recon.to(images.device).contiguous()
    failed_t = torch.from_numpy(failed)
    if mean_image is not None and failed.any():
        recon[failed_t.to(images.device)] = mean_image.to(device=images.device, dtype=images.dtype)
    return DigitalResult(
        reconstruction=recon,
        failed=failed_t,
        quality=torch.from_numpy(quality),
        bits_used=torch.from_numpy(bits_used),
        bits_budget=float(budget),
        failure_rate=float(failed.mean()),
        header=header,
        capacity=capacity,
        codec=codec,
        channel_uses=uses,
        capacity_per_use=float(per_use),
        side_info_bits=side_info_bits,
        fallback=on_failure,
        fallback_bits=lost_bits,
        color_mode=color_mode,
        bpp=float(bpp),
        snr_db=float(snr_db),
    )
