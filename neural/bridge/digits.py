"""The 8×8 digits as an exact semantic rate-distortion problem (the bridge's source).

The neural side trains on ``neural.data`` digits (grey levels 0..16 divided by 16); this
module states the *same* images as a discrete source for :mod:`infotheory`:

* ``X``: one symbol per image, ``p(x)`` uniform over the ``n`` images;
* ``Y``: the digit label, ``p(y|x)`` one-hot (``H(Y|X) = 0``);
* ``X̂``: a reproduction alphabet of codewords, ``d_RD(x, x̂)`` the squared error per
  pixel (mean over the 64 pixels; eq. 5 / eq. 30 with the MSE of eq. 31).

Codewords may have ``C`` channels (``(k, C·64)``, channel-major, as a decoder with ``C``
output channels produces them): the grey image is then compared with each of its ``C``
copies, so ``d_RD`` is the mean over the ``C·64`` values — exactly ``F.mse_loss`` of the
training loss on images repeated to ``C`` channels. Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infotheory.sources import source_from_data
from neural.data.datasets import load_digits_dataset

PIXELS = 64  # 8×8
SPLITS = ("all", "train", "test")


@dataclass(frozen=True)
class DigitsSource:
    """A digits source as the three arrays of :func:`infotheory.semantic_rd`, with its data.

    Attributes
    ----------
    images : (n, 64) float64
        The grey images in [0, 1], flattened row-major.
    labels : (n,) int64
        Digit of each image (0–9).
    p_x : (n,) float64
        ``p(x)``, uniform ``1/n``.
    p_y_given_x : (n, 10) float64
        One-hot rows from ``labels``.
    codebook : (k, C·64) float64
        The reproduction points (``C = channels``; ``C = 1`` for :func:`digits_source`).
    d_rd : (n, k) float64
        ``d_RD(x, x̂) = ‖tile(x, C) − c_x̂‖² / (C·64)``, squared error per pixel.
    channels : int
        ``C``, the number of channels of a codeword.
    """

    images: np.ndarray
    labels: np.ndarray
    p_x: np.ndarray
    p_y_given_x: np.ndarray
    codebook: np.ndarray
    d_rd: np.ndarray
    channels: int = 1

    @property
    def problem(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(p_x, p_y_given_x, d_rd)``, the positional arguments of the solver."""
        return self.p_x, self.p_y_given_x, self.d_rd


def digit_images(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """The digits of ``neural.data`` at their native 8×8 size: ``(n, 64)`` float64 in [0, 1]
    and ``(n,)`` labels. ``split``: ``"train"`` (1437 images) and ``"test"`` (360) as the
    neural side splits them, ``"all"`` (1797) the two in that order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    parts = ("train", "test") if split == "all" else (split,)
    xs, ys = [], []
    for part in parts:
        data = load_digits_dataset(part, image_size=8)
        xs.append(data.images[:, 0].reshape(len(data), PIXELS).double().numpy())
        ys.append(data.labels.numpy())
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def digits_problem(
    images: np.ndarray, labels: np.ndarray, codebook: np.ndarray, *, channels: int = 1
) -> DigitsSource:
    """The source of ``images`` / ``labels`` on the reproduction alphabet ``codebook``
    (``(k, channels·64)``, channel-major); see the module docstring for the arrays."""
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim != 2 or imgs.shape[1] != PIXELS:
        raise ValueError(f"images must have shape (n, {PIXELS}), got {imgs.shape}")
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    cb = np.asarray(codebook, dtype=np.float64)
    if cb.ndim != 2 or cb.shape[1] != channels * PIXELS:
        raise ValueError(
            f"codebook must have shape (k, {channels * PIXELS}) for channels={channels}, "
            f"got {cb.shape}"
        )
    src = source_from_data(np.tile(imgs, channels), labels, codebook=cb, n_classes=10)
    return DigitsSource(
        images=imgs,
        labels=np.asarray(labels, dtype=np.int64),
        p_x=src.p_x,
        p_y_given_x=src.p_y_given_x,
        codebook=cb,
        d_rd=src.d_rd,
        channels=channels,
    )


def digits_source(*, codebook_size: int = 64, seed: int = 0, split: str = "all") -> DigitsSource:
    """The 8×8 digits as a semantic R-D problem with a k-means reproduction alphabet.

    ``p(x)`` uniform over the images of ``split`` (default all 1797), ``p(y|x)`` one-hot
    labels, ``codebook_size`` k-means centres (seeded by ``seed``) as the codebook and the
    squared error per pixel as ``d_RD`` (see :class:`DigitsSource`).

    >>> src = digits_source(codebook_size=8, split="test")
    >>> src.images.shape, src.p_y_given_x.shape, src.codebook.shape, src.d_rd.shape
    ((360, 64), (360, 10), (8, 64), (360, 8))
    """
    if not isinstance(codebook_size, int) or isinstance(codebook_size, bool) or codebook_size < 1:
        raise ValueError(f"codebook_size must be a positive integer, got {codebook_size!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    images, labels = digit_images(split)
    if codebook_size > len(images):
        raise ValueError(
            f"codebook_size must be <= the {len(images)} images of split {split!r}, "
            f"got {codebook_size}"
        )
    src = source_from_data(images, labels, n_codebook=codebook_size, seed=seed, n_classes=10)
    return DigitsSource(
        images=images,
        labels=labels,
        p_x=src.p_x,
        p_y_given_x=src.p_y_given_x,
        codebook=np.asarray(src.xhat_points, dtype=np.float64),
        d_rd=src.d_rd,
    )
