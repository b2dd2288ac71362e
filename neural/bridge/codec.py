"""A K-bit codec on the 8×8 digits as a feasible point of the exact semantic R-D problem.

On 8×8 images the Table I encoder (down-sampling by 8) gives a ``1×1×K`` latent: at
SNR = ∞ the codec sends exactly K bits per image, and its decoder has at most ``2^K``
outputs. The codec is therefore a *deterministic encoder* ``x → x̂``: image ``x`` goes to
the codeword ``D_φ(Q(E_θ(x)))``. On a reproduction alphabet that contains the ``2^K``
decoder outputs (:func:`bridge_source`), that encoder is a feasible point of eq. (11), so
for every λ and β

    F_neural(λ, β) = I(X;X̂) + (D_RD + β·D_IB)/λ  ≥  F*(λ, β) = min over encoders,

with ``I(X;X̂) = H(X̂)`` (deterministic encoder) and everything exact (no estimator).
:mod:`neural.bridge.feasibility` checks this inequality against the solver's curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from infotheory import entropy
from neural.bridge.digits import PIXELS, DigitsSource, digits_problem
from neural.models import JSCCCodec

SIDE = 8  # the digits' native size: the 8× encoder gives a 1×1 latent
MAX_BITS = 16  # 2^16 codewords at most: the alphabet is enumerated


@dataclass(frozen=True)
class DeterministicCode:
    """What a K-bit codec does to a set of images.

    Attributes
    ----------
    bits : int
        ``K``, latent channels of the codec (bits per image).
    codewords : (2^K, C·64) float64
        ``codewords[j]``: the decoder output for the bit pattern of ``j`` (bit ``k`` of
        the latent is bit ``K−1−k`` of ``j``), flattened channel-major.
    indices : (n,) int64
        The codeword each image is sent to.
    channels : int
        ``C``, image channels of the codec.
    """

    bits: int
    codewords: np.ndarray
    indices: np.ndarray
    channels: int

    @property
    def used(self) -> np.ndarray:
        """Indices of the codewords some image is sent to."""
        return np.unique(self.indices)


def _image_batch(images: np.ndarray, channels: int) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    return x.view(-1, 1, SIDE, SIDE).repeat(1, channels, 1, 1)


def bit_patterns(k: int) -> torch.Tensor:
    """All ``2^k`` latents ``(2^k, k, 1, 1)`` float32; row ``j`` holds the bits of ``j``,
    most significant first."""
    j = torch.arange(2**k)
    shifts = torch.arange(k - 1, -1, -1)
    return ((j[:, None] >> shifts[None, :]) & 1).float().view(2**k, k, 1, 1)


@torch.no_grad()
def read_code(codec: JSCCCodec, images: np.ndarray) -> DeterministicCode:
    """The deterministic encoder of ``codec`` at SNR = ∞ on ``images`` ``(n, 64)`` in [0, 1].

    The images go through encoder and quantizer (eq. 18) as repeated grey channels;
    every bit pattern goes through the noiseless channel and the decoder (eval mode,
    float32 network, outputs stored as float64).
    """
    if not isinstance(codec, JSCCCodec):
        raise TypeError(f"codec must be a neural.models.JSCCCodec, got {type(codec).__name__}")
    imgs = np.asarray(images)
    if imgs.ndim != 2 or imgs.shape[1] != PIXELS or len(imgs) == 0:
        raise ValueError(f"images must have shape (n, {PIXELS}) with n >= 1, got {imgs.shape}")
    if not np.all(np.isfinite(imgs)) or imgs.min() < 0 or imgs.max() > 1:
        raise ValueError("images must be finite values in [0, 1]")
    k = codec.latent_channels
    if k > MAX_BITS:
        raise ValueError(f"codec has K = {k} latent channels; at most {MAX_BITS} are enumerated")
    device = next(codec.parameters()).device
    was_training = codec.training
    codec.eval()
    try:
        z = codec.bits(_image_batch(imgs, codec.image_channels).to(device))
        if z.shape[1:] != (k, 1, 1):
            raise ValueError(f"expected a (K, 1, 1) latent per 8×8 image, got {tuple(z.shape[1:])}")
        weights = 2 ** torch.arange(k - 1, -1, -1, device=device)
        indices = (z.view(-1, k).round().long() * weights).sum(1)
        patterns = bit_patterns(k).to(device)
        out = codec.decoder(codec.channel(patterns, math.inf))
    finally:
        codec.train(was_training)
    codewords = out.double().reshape(2**k, -1).cpu().numpy()
    if not np.all(np.isfinite(codewords)):
        raise FloatingPointError("the decoder's outputs are not finite")
    return DeterministicCode(
        k, codewords, indices.cpu().numpy().astype(np.int64), codec.image_channels
    )


@dataclass(frozen=True)
class BridgeSource:
    """The exact problem whose reproduction alphabet holds several codes' codewords.

    ``source.codebook`` is ``[block 0; block 1; ...; extra]`` where block ``i`` holds the
    codewords ``columns[i]`` of ``codes[i]`` (all ``2^K``, or only those the images use);
    ``offsets[i]`` is the alphabet index of block ``i``'s first codeword.
    """

    source: DigitsSource
    codes: tuple[DeterministicCode, ...]
    offsets: tuple[int, ...]
    columns: tuple[np.ndarray, ...]

    def symbols(self, i: int) -> np.ndarray:
        """``(n,)`` alphabet index of the codeword code ``i`` sends each image to."""
        return self.offsets[i] + np.searchsorted(self.columns[i], self.codes[i].indices)

    def encoder(self, i: int) -> np.ndarray:
        """The one-hot ``(n, k)`` encoder ``p(x̂|x)`` of code ``i`` on this alphabet."""
        n, k = self.source.d_rd.shape
        enc = np.zeros((n, k))
        enc[np.arange(n), self.symbols(i)] = 1.0
        return enc


def bridge_source(
    codes: list[DeterministicCode] | tuple[DeterministicCode, ...],
    images: np.ndarray,
    labels: np.ndarray,
    extra: np.ndarray,
    *,
    all_codewords: bool = True,
) -> BridgeSource:
    """The digits problem of ``images``/``labels`` on the alphabet made of every code's
    decoder outputs plus ``extra`` grey codewords ``(k, 64)`` (e.g. k-means centres,
    compared on every channel). ``codes`` must come from ``images``. ``all_codewords``:
    all ``2^K`` outputs of each code (default), or only those the images are sent to
    (a smaller alphabet that still holds every neural encoder)."""
    if not codes:
        raise ValueError("codes must hold at least one DeterministicCode")
    channels = codes[0].channels
    n = len(images)
    for i, c in enumerate(codes):
        if c.channels != channels:
            raise ValueError(f"codes[{i}] has {c.channels} channels, codes[0] has {channels}")
        if c.indices.shape != (n,):
            raise ValueError(f"codes[{i}] encodes {c.indices.shape[0]} images, not the {n} given")
    ex = np.asarray(extra, dtype=np.float64)
    if ex.ndim != 2 or ex.shape[1] != PIXELS:
        raise ValueError(f"extra must have shape (k, {PIXELS}), got {ex.shape}")
    columns = tuple(c.used if not all_codewords else np.arange(len(c.codewords)) for c in codes)
    blocks = [c.codewords[cols] for c, cols in zip(codes, columns)] + [np.tile(ex, channels)]
    offsets = tuple(int(v) for v in np.cumsum([0] + [len(cols) for cols in columns])[:-1])
    src = digits_problem(images, labels, np.concatenate(blocks), channels=channels)
    return BridgeSource(src, tuple(codes), offsets, columns)


def code_measures(
    code: DeterministicCode, images: np.ndarray, labels: np.ndarray, *, beta: float
) -> dict[str, float]:
    """The bridge's own exact evaluation of a deterministic code, from counts.

    ``rate = H(X̂)`` (bits; ``I(X;X̂) = H(X̂)`` for a deterministic encoder, uniform
    ``p(x)``), ``distortion_rd``: the mean over images of the per-pixel squared error of
    their codeword (eq. 30), ``distortion_ib = H(Y|X̂) − H(Y|X)`` (bits; eqs. 2–3 with
    one-hot labels, ``H(Y|X) = 0``), ``relevance = I(X̂;Y) = H(Y) − H(Y|X̂)`` (bits) and
    ``distortion = D_RD + β·D_IB`` with ``D_IB`` in nats (eq. 6). Independent of the
    solver: no ``d_rd`` matrix, no encoder matrix.
    """
    imgs = np.asarray(images, dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    n = len(imgs)
    err = np.tile(imgs, code.channels) - code.codewords[code.indices]
    d_rd = float(np.mean(np.mean(err**2, axis=1)))
    used, cell = np.unique(code.indices, return_inverse=True)
    counts = np.bincount(cell) / n
    joint = np.zeros((len(used), int(lab.max()) + 1))
    np.add.at(joint, (cell, lab), 1.0 / n)
    h_y = float(entropy(joint.sum(0)))
    h_y_given_xhat = float(entropy(joint.ravel())) - float(entropy(counts))
    d_ib = max(h_y_given_xhat, 0.0)
    return {
        "rate": float(entropy(counts)),
        "distortion_rd": d_rd,
        "distortion_ib": d_ib,
        "relevance": max(h_y - h_y_given_xhat, 0.0),
        "distortion": d_rd + beta * d_ib * math.log(2),
    }
