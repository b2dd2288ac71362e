"""Channel conventions: BPSK s = 2z - 1 (unit power), SNR = 1/sigma^2, z_hat = (y + 1)/2."""

import math

import pytest
import torch

from neural.channels import AWGNChannel, RayleighBlockFadingChannel, snr_to_noise_std

N = 1_000_000


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 7.5, 20.0])
def test_awgn_measured_snr_within_005_db(snr_db):
    g = torch.Generator().manual_seed(1234)
    z = torch.randint(0, 2, (100, 10_000), generator=g).to(torch.float64)
    z_hat = AWGNChannel()(z, snr_db, torch.Generator().manual_seed(99))
    s = 2 * z - 1
    noise = 2 * z_hat - 1 - s  # y - s
    measured = 10 * math.log10(float((s**2).mean()) / float((noise**2).mean()))
    assert z.numel() == N
    assert abs(measured - snr_db) < 0.05
    assert abs(float(noise.mean())) < 5 * 10 ** (-snr_db / 20) / math.sqrt(N)  # zero mean


def test_awgn_per_sample_snr():
    snr = torch.tensor([0.0, 10.0, 20.0, math.inf])
    z = torch.ones(4, 250_000, dtype=torch.float64)
    z_hat = AWGNChannel()(z, snr, torch.Generator().manual_seed(5))
    noise_power = ((2 * (z_hat - z)) ** 2).mean(dim=1)
    measured = 10 * torch.log10(1 / noise_power[:3])
    assert torch.all((measured - snr[:3]).abs() < 0.05)
    assert float(noise_power[3]) == 0.0


def test_awgn_noiseless_identity_and_gradient():
    z = torch.rand(3, 2, 4, 4, requires_grad=True)
    assert torch.equal(AWGNChannel()(z, math.inf), z)
    AWGNChannel()(z, 10.0).sum().backward()
    assert torch.equal(z.grad, torch.ones_like(z))  # d z_hat / d z = 1 as in the paper


def test_awgn_reproducible_with_generator():
    z = torch.zeros(2, 8)
    a = AWGNChannel()(z, 0.0, torch.Generator().manual_seed(3))
    b = AWGNChannel()(z, 0.0, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_channel_input_validation():
    ch = AWGNChannel()
    with pytest.raises(ValueError, match="NaN"):
        ch(torch.zeros(2, 3), float("nan"))
    with pytest.raises(ValueError, match="-inf"):
        ch(torch.zeros(2, 3), -math.inf)
    with pytest.raises(ValueError, match=r"\(2,\) tensor"):
        ch(torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(TypeError, match="number or a tensor"):
        ch(torch.zeros(2, 3), "10")
    with pytest.raises(TypeError, match="floating point"):
        ch(torch.zeros(2, 3, dtype=torch.int64), 1.0)


def test_snr_to_noise_std():
    assert snr_to_noise_std(math.inf) == 0.0
    assert snr_to_noise_std(20.0) == pytest.approx(0.1, rel=1e-12)


def test_rayleigh_average_snr_and_noiseless():
    z = torch.randint(0, 2, (4000, 256), generator=torch.Generator().manual_seed(0)).double()
    assert torch.equal(RayleighBlockFadingChannel()(z, math.inf), z)
    snr_db, n = 10.0, z.shape[1]
    z_hat = RayleighBlockFadingChannel()(z, snr_db, torch.Generator().manual_seed(1))
    # Equalised noise per sample: n / a, variance sigma^2 / a^2. With the per-sample sample
    # variance v_i (chi-square, n dof), E[sigma^2 / v_i] = E[a^2] * n / (n - 2) and E[a^2] = 1.
    v = ((2 * (z_hat - z)) ** 2).mean(dim=1)
    est = float((10 ** (-snr_db / 10) / v).mean()) * (n - 2) / n
    assert abs(est - 1.0) < 0.08  # ~5 standard errors of the mean of an Exp(1) over 4000 samples
