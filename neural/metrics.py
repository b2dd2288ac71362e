"""Evaluation metrics: accuracy, PSNR and SSIM (per image, data range 1).

All functions take batches and return one value **per image** (so that sums over
batches and processes give exact dataset means). PSNR and SSIM are computed and returned
in float64; they agree with scikit-image's ``peak_signal_noise_ratio`` and
``structural_similarity`` (settings below) to 1e-6 (tests/neural/test_training_metrics.py).

* PSNR: ``10·log10(L² / MSE)`` per image, MSE over all C·H·W elements, ``L = 1``.
* SSIM (Wang et al., 2004): 11×11 Gaussian window with σ = 1.5, ``K1 = 0.01``,
  ``K2 = 0.03``, ``L = 1``, population (biased) local statistics, computed on the
  "valid" region (no padding) of each channel, averaged over positions and channels.
  This matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False, data_range=1)``.

The reconstruction is evaluated as the decoder outputs it (no clipping).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape != y.shape:
        raise ValueError(
            f"expected two (B, C, H, W) tensors of equal shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )


def correct_predictions(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``(B,)`` float tensor, 1.0 where ``argmax(logits) == label``."""
    if logits.dim() != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(
            f"expected logits (B, classes) and labels (B,), got {tuple(logits.shape)}, {tuple(labels.shape)}"
        )
    return (logits.argmax(dim=1) == labels).to(torch.float32)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of correct top-1 predictions in the batch."""
    return float(correct_predictions(logits, labels).mean())


def psnr(x: torch.Tensor, x_hat: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB, shape ``(B,)``, float64; ``+inf`` for a perfect reconstruction."""
    _check_pair(x, x_hat)
    if not 0 < data_range < math.inf:
        raise ValueError(f"data_range must be a positive finite number, got {data_range}")
    mse = ((x.double() - x_hat.double()) ** 2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(data_range**2 / mse)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """Normalised 1-D Gaussian of length ``size`` (float64)."""
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    g = torch.exp(-(r**2) / (2.0 * sigma**2))
    return g / g.sum()


def ssim(x: torch.Tensor, x_hat: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image SSIM, shape ``(B,)``, float64 (conventions in the module docstring)."""
    _check_pair(x, x_hat)
    if not 0 < data_range < math.inf:
        raise ValueError(f"data_range must be a positive finite number, got {data_range}")
    b, c, h, w = x.shape
    if h < SSIM_WINDOW or w < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {h}x{w}")
    g = gaussian_window().to(x.device)
    gx = g.view(1, 1, 1, -1).expand(c, 1, 1, SSIM_WINDOW)
    gy = g.view(1, 1, -1, 1).expand(c, 1, SSIM_WINDOW, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, gx, groups=c), gy, groups=c)

    a, bb = x.double(), x_hat.double()
    mu_a, mu_b = blur(a), blur(bb)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(bb * bb) - mu_b**2
    cov = blur(a * bb) - mu_a * mu_b
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    smap = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    )
    return smap.flatten(1).mean(dim=1)
