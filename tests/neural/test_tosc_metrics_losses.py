"""Metrics against independent NumPy computations; the loss of eq. (31)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neural.losses import tosc_loss
from neural.metrics import accuracy, psnr, ssim


def _ssim_bruteforce(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. (2004) SSIM, written out window by window: 11x11 Gaussian (sigma 1.5),
    K1 = 0.01, K2 = 0.03, L = 1, weighted population statistics, valid positions only."""
    r = np.arange(11) - 5
    g = np.exp(-(r**2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for ch in range(a.shape[0]):
        for i in range(a.shape[1] - 10):
            for j in range(a.shape[2] - 10):
                pa, pb = a[ch, i : i + 11, j : j + 11], b[ch, i : i + 11, j : j + 11]
                ma, mb = (w * pa).sum(), (w * pb).sum()
                va, vb = (w * (pa - ma) ** 2).sum(), (w * (pb - mb) ** 2).sum()
                cov = (w * (pa - ma) * (pb - mb)).sum()
                vals.append(
                    ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
                )
    return float(np.mean(vals))


def test_ssim_matches_bruteforce_reference():
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 14, 17))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    y[1] = 0.5 * x[1] + 0.1  # structured distortion
    got = ssim(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)).numpy()
    ref = [
        _ssim_bruteforce(
            x[i].astype(np.float32).astype(np.float64), y[i].astype(np.float32).astype(np.float64)
        )
        for i in range(2)
    ]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)  # float64 computation
    assert float(ssim(torch.tensor(x).float(), torch.tensor(x).float())[0]) == pytest.approx(
        1.0, abs=1e-6
    )


def test_ssim_rejects_small_images():
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))


def test_psnr_per_image():
    x = torch.zeros(2, 1, 4, 4)
    y = x.clone()
    y[0] += 0.1  # MSE 0.01 -> 20 dB
    y[1, 0, 0, 0] = 1.0  # MSE 1/16 -> 10 log10(16)
    np.testing.assert_allclose(psnr(x, y).numpy(), [20.0, 10 * math.log10(16)], rtol=1e-6)
    with pytest.raises(ValueError, match="equal shape"):
        psnr(x, y[:1])


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 0, 0])) == pytest.approx(2 / 3)


def test_loss_eq31():
    torch.manual_seed(0)
    x, x_hat = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 8, 8)
    logits, y = torch.randn(4, 10), torch.tensor([1, 2, 3, 4])
    mse = float(((x - x_hat) ** 2).mean())
    ce = float(-F.log_softmax(logits, 1)[torch.arange(4), y].mean())
    terms = tosc_loss(x, x_hat, logits, y, beta=0.3)
    assert float(terms.total) == pytest.approx(mse + 0.3 * ce, rel=1e-6)
    assert float(tosc_loss(x, x_hat, logits, y, 0.0).total) == pytest.approx(
        mse, rel=1e-6
    )  # RD baseline
    assert float(tosc_loss(x, x_hat, logits, y, 2.0, rd_weight=0.0).total) == pytest.approx(
        2 * ce, rel=1e-6
    )  # IB


def test_loss_validation():
    x = torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="beta"):
        tosc_loss(x, x, torch.randn(2, 10), torch.tensor([0, 1]), -1.0)
    with pytest.raises(ValueError, match="identically zero"):
        tosc_loss(x, x, torch.randn(2, 10), torch.tensor([0, 1]), 0.0, rd_weight=0.0)
    with pytest.raises(ValueError, match="logits"):
        tosc_loss(x, x, torch.randn(3, 10), torch.tensor([0, 1]), 1.0)
