"""Channel-use accounting: the digital link gets exactly the JSCC's BPSK channel uses."""

import math

import pytest
import torch

from neural.digital import bit_budget, bpsk_capacity, channel_uses, gaussian_capacity
from neural.models import JSCCCodec


@pytest.mark.parametrize("k", [1, 4, 16, 48])
@pytest.mark.parametrize("size", [(32, 32), (16, 24), (96, 96)])
def test_channel_uses_equal_jscc_bits(k, size):
    codec = JSCCCodec(latent_channels=k, width=0.25)
    h, w = size
    x = torch.rand(2, 3, h, w)
    with torch.no_grad():
        bits_per_image = codec.bits(x)[0].numel()  # the BPSK symbols the JSCC sends per image
    assert channel_uses(codec.bpp(size), size) == bits_per_image
    assert (
        bit_budget(codec.bpp(size), size, math.inf) == bits_per_image
    )  # 1 bit per use at SNR = inf


def test_budget_is_uses_times_capacity():
    assert bit_budget(16 / 64, (32, 32), 3.0) == 256 * bpsk_capacity(3.0)
    assert bit_budget(16 / 64, (32, 32), 3.0, "gaussian") == 256 * gaussian_capacity(3.0)
    assert bit_budget(1 / 64, (32, 32), math.inf, "gaussian") == math.inf


@pytest.mark.parametrize(
    "bpp, size, match",
    [
        (0.1, (32, 32), "not a positive whole number"),
        (0.0, (32, 32), "positive"),
        (float("nan"), (32, 32), "positive and finite"),
        (1 / 64, (4, 4), "not a positive whole number"),
        (0.25, (32, 0), "two positive integers"),
        (0.25, (32,), "image_size"),
    ],
)
def test_invalid_accounting(bpp, size, match):
    with pytest.raises(ValueError, match=match):
        channel_uses(bpp, size)
