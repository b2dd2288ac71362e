"""Binary quantizer with the straight-through proxy of eqs. (18)–(20)."""

from __future__ import annotations

import torch
from torch import nn


class _BinarizeProxy(torch.autograd.Function):
    """Forward eq. (18), backward derivative of the proxy eq. (19), i.e. eq. (20)."""

    @staticmethod
    def forward(ctx, e: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(e)
        return (e > 0.5).to(e.dtype)  # eq. (18): 1 if e > 0.5, else 0

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (e,) = ctx.saved_tensors
        inside = (e >= 0.0) & (e <= 1.0)  # eq. (20): dz/de = 1 on [0, 1], 0 outside
        return grad_out * inside.to(grad_out.dtype)


class BinaryQuantizer(nn.Module):
    """Binarise the encoder output ``e ∈ [0, 1]`` into bits ``z ∈ {0, 1}``.

    Forward (eq. 18): ``z = 1 if e > 0.5 else 0``. Backward (eqs. 19–20): the gradient
    of the proxy ``clip(e, 0, 1)``, i.e. 1 where ``0 ≤ e ≤ 1`` and 0 elsewhere.

    Shapes: ``(B, K, h, w)`` float → same shape, values in {0., 1.}.
    """

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        if not torch.is_floating_point(e):
            raise TypeError(f"BinaryQuantizer expects a floating-point tensor, got dtype {e.dtype}")
        return _BinarizeProxy.apply(e)


def bits_per_pixel(
    latent_shape: tuple[int, ...] | torch.Size, image_shape: tuple[int, ...] | torch.Size
) -> float:
    """Rate in bits per (spatial) pixel of one image, eq. (21).

    Each binary latent element is one bit, so ``bpp = K·h·w / (H·W)``; with the 8×
    down-sampling encoder this is ``K/64`` (eq. 21). Computed from the actual shapes.

    Args:
        latent_shape: ``(K, h, w)`` or ``(B, K, h, w)`` of the binary latent.
        image_shape: ``(C, H, W)`` or ``(B, C, H, W)`` of the image.
    """
    lat = tuple(int(s) for s in latent_shape)
    img = tuple(int(s) for s in image_shape)
    if len(lat) == 4:
        lat = lat[1:]
    if len(img) == 4:
        img = img[1:]
    if len(lat) != 3 or len(img) != 3:
        raise ValueError(
            f"expected (K, h, w) and (C, H, W) shapes (optionally batched), got {latent_shape}, {image_shape}"
        )
    if min(lat) < 1 or min(img) < 1:
        raise ValueError(f"shapes must be positive, got {latent_shape}, {image_shape}")
    k, h, w = lat
    return k * h * w / (img[1] * img[2])
