"""Image codecs of the digital baselines: JPEG and JPEG 2000 through Pillow.

Both take one uint8 image, ``(H, W)`` (Pillow mode ``"L"``) or ``(H, W, 3)`` (``"RGB"``),
and an integer quality (higher = better); fixed settings, so that a receiver knows every
parameter except the quality:

* ``"jpeg"`` — libjpeg through Pillow, baseline sequential, IJG quality 1..95, the
  standard (Annex K) Huffman tables (``optimize=False``), 4:2:0 chroma subsampling for
  RGB. A JPEG file is ``JFIF`` as Pillow writes it.
* ``"jpeg2000"`` — OpenJPEG through Pillow, raw codestream (``.j2k``, no JP2 boxes),
  irreversible 9/7 wavelet, one quality layer, colour transform (ICT) for RGB,
  ``num_resolutions = min(6, 1 + floor(log2(min(H, W)/4)))`` (the coarsest band is at
  least 4 pixels). Quality ``q ∈ 1..100`` is OpenJPEG's distortion target
  (``quality_mode="dB"``): the layer is truncated (post-compression rate-distortion
  optimisation) at the smallest rate whose estimated PSNR reaches ``10 + q/2`` dB
  (10.5 … 60 dB). Coded size grows with q; OpenJPEG's rate-distortion slope search makes
  it monotone in practice, but the quality search does not rely on it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from neural.digital.codestream import jpeg2000_payload_bytes, jpeg_payload_bytes

CODECS = ("jpeg", "jpeg2000")


@dataclass(frozen=True)
class Encoded:
    """One coded image: the file bytes Pillow wrote and the entropy-coded payload size."""

    data: bytes
    payload_bytes: int

    @property
    def file_bytes(self) -> int:
        return len(self.data)


def _mode(image: np.ndarray) -> str:
    if image.dtype != np.uint8:
        raise TypeError(f"codec input must be uint8, got {image.dtype}")
    if image.ndim == 2:
        return "L"
    if image.ndim == 3 and image.shape[2] == 3:
        return "RGB"
    raise ValueError(f"codec input must be (H, W) or (H, W, 3), got shape {image.shape}")


def _decode(data: bytes, mode: str, shape: tuple[int, ...]) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        if im.mode != mode:
            raise ValueError(f"decoded image has mode {im.mode!r}, expected {mode!r}")
        out = np.asarray(im, dtype=np.uint8)
    if out.shape != shape:
        raise ValueError(f"decoded image has shape {out.shape}, expected {shape}")
    return out


class ImageCodec:
    """Base class: ``encode(image, quality) -> Encoded``, ``decode(data, like) -> image``.

    A subclass gives ``name``, ``qualities``, the Pillow save options of a quality
    (:meth:`save_options`) and the payload parser (:meth:`payload_bytes`).
    """

    name: str = ""
    qualities: range = range(0)

    def _check_quality(self, quality: int) -> int:
        if (
            isinstance(quality, bool)
            or not isinstance(quality, (int, np.integer))
            or int(quality) not in self.qualities
        ):
            raise ValueError(
                f"{self.name} quality must be an integer in {self.qualities.start}..{self.qualities.stop - 1}, got {quality!r}"
            )
        return int(quality)

    def save_options(self, quality: int, mode: str, shape: tuple[int, ...]) -> dict[str, object]:
        """Keyword arguments of ``PIL.Image.save`` (format included) for ``quality``."""
        raise NotImplementedError

    def payload_bytes(self, data: bytes) -> int:
        """Entropy-coded bytes of the coded file ``data``."""
        raise NotImplementedError

    def encode(self, image: np.ndarray, quality: int) -> Encoded:
        """Code a uint8 ``(H, W)`` or ``(H, W, 3)`` image at ``quality``."""
        quality = self._check_quality(quality)
        mode = _mode(image)
        buf = io.BytesIO()
        Image.fromarray(image, mode).save(buf, **self.save_options(quality, mode, image.shape))
        data = buf.getvalue()
        return Encoded(data, self.payload_bytes(data))

    def decode(self, data: bytes, like: np.ndarray) -> np.ndarray:
        """Decode ``data`` to a uint8 array of ``like``'s shape and colour mode."""
        return _decode(data, _mode(like), like.shape)


class JPEGCodec(ImageCodec):
    """JPEG (libjpeg via Pillow), IJG quality 1..95; see the module docstring."""

    name = "jpeg"
    qualities = range(1, 96)

    def save_options(self, quality: int, mode: str, shape: tuple[int, ...]) -> dict[str, object]:
        options: dict[str, object] = {
            "format": "JPEG",
            "quality": quality,
            "optimize": False,
            "progressive": False,
        }
        if mode == "RGB":
            options["subsampling"] = "4:2:0"
        return options

    def payload_bytes(self, data: bytes) -> int:
        return jpeg_payload_bytes(data)


def jpeg2000_target_db(quality: int) -> float:
    """OpenJPEG's PSNR target for JPEG 2000 quality ``q``: ``10 + q/2`` dB."""
    return 10.0 + quality / 2.0


def jpeg2000_resolutions(height: int, width: int) -> int:
    """Wavelet resolutions used at ``H×W``: ``min(6, 1 + floor(log2(min(H, W)/4)))``, at least 1."""
    side = min(height, width)
    return max(1, min(6, 1 + math.floor(math.log2(side / 4)))) if side >= 4 else 1


class JPEG2000Codec(ImageCodec):
    """JPEG 2000 (OpenJPEG via Pillow), raw codestream, quality 1..100 = PSNR target ``10 + q/2`` dB."""

    name = "jpeg2000"
    qualities = range(1, 101)

    def save_options(self, quality: int, mode: str, shape: tuple[int, ...]) -> dict[str, object]:
        return {
            "format": "JPEG2000",
            "no_jp2": True,
            "irreversible": True,
            "quality_mode": "dB",
            "quality_layers": [jpeg2000_target_db(quality)],
            "mct": 1 if mode == "RGB" else 0,
            "num_resolutions": jpeg2000_resolutions(shape[0], shape[1]),
        }

    def payload_bytes(self, data: bytes) -> int:
        return jpeg2000_payload_bytes(data)


def get_codec(name: str) -> ImageCodec:
    """The codec called ``name`` (``"jpeg"`` or ``"jpeg2000"``)."""
    if name == "jpeg":
        return JPEGCodec()
    if name == "jpeg2000":
        return JPEG2000Codec()
    raise ValueError(f"codec must be one of {CODECS}, got {name!r}")
