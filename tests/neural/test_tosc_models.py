"""Shapes, layers, rate (bpp) and the ResNet-18 of the TOSC-SR system (Table I, eq. 21)."""

import numpy as np
import pytest
import torch

from neural.layers import DepthToSpace, ResidualBlock
from neural.models import TOSCSR, JSCCCodec, JSCCDecoder, JSCCEncoder, ResNet18
from neural.quantizer import bits_per_pixel


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread for these small networks (the CPU is shared); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_depth_to_space_matches_explicit_formula():
    r, c, h, w = 2, 3, 2, 3
    x = torch.arange(1 * c * r * r * h * w, dtype=torch.float32).reshape(1, c * r * r, h, w)
    y = DepthToSpace(r)(x).numpy()
    xn = x.numpy()
    expected = np.zeros((1, c, h * r, w * r), dtype=np.float32)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                expected[0, ch, i::r, j::r] = xn[0, ch * r * r + i * r + j]
    np.testing.assert_array_equal(y, expected)


def test_depth_to_space_rejects_bad_channels():
    with pytest.raises(ValueError, match="divisible by 16"):
        DepthToSpace(4)(torch.zeros(1, 8, 2, 2))


def test_residual_block_keeps_shape_and_is_residual():
    blk = ResidualBlock(6, 3)
    x = torch.rand(2, 6, 5, 7)
    assert blk(x).shape == x.shape
    with torch.no_grad():
        blk.conv2.weight.zero_()
        blk.conv2.bias.zero_()
    torch.testing.assert_close(blk(x), torch.relu(x), rtol=0, atol=0)


@pytest.mark.parametrize("size", [(8, 8), (16, 24), (32, 32), (48, 16)])
@pytest.mark.parametrize("k", [1, 3, 16])
def test_pipeline_shapes_and_bpp(size, k):
    h, w = size
    codec = JSCCCodec(k, width=0.0625)
    x = torch.rand(2, 3, h, w)
    e = codec.encoder(x).detach()
    assert e.shape == (2, k, h // 8, w // 8)
    assert float(e.min()) > 0 and float(e.max()) < 1  # sigmoid
    z = codec.bits(x)
    assert set(torch.unique(z).tolist()) <= {0.0, 1.0}
    assert codec(x, 3.0).shape == x.shape
    # bpp from the actual latent: bits per image / pixels per image; eq. (21) gives K/64.
    assert codec.bpp((h, w)) == z[0].numel() / (h * w) == k / 64
    model = TOSCSR(codec, ResNet18(10, width=0.0625))
    out = model(x, float("inf"))
    assert out.reconstruction.shape == x.shape and out.logits.shape == (2, 10)


def test_bits_per_pixel_paper_setting():
    # eq. (21): K x 16 x 16 latent for a 128 x 128 image gives K/64.
    assert bits_per_pixel((2, 128, 16, 16), (2, 3, 128, 128)) == 128 / 64
    assert bits_per_pixel((5, 3, 4), (3, 24, 32)) == 5 * 12 / (24 * 32)
    with pytest.raises(ValueError):
        bits_per_pixel((5, 3), (3, 24, 32))


@pytest.mark.parametrize("size", [(36, 32), (32, 12), (4, 8)])
def test_encoder_rejects_sizes_not_divisible_by_8(size):
    codec = JSCCCodec(2, width=0.0625)
    with pytest.raises(ValueError, match="cannot be down-sampled by 8"):
        codec(torch.rand(1, 3, *size), 0.0)
    with pytest.raises(ValueError, match="cannot be down-sampled by 8"):
        codec.bpp(size)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="latent_channels"):
        JSCCEncoder(0)
    with pytest.raises(ValueError, match="DepthToSpace"):
        JSCCDecoder(4, width=0.03)  # 15 channels before DepthToSpace(2)
    with pytest.raises(ValueError, match="width"):
        JSCCEncoder(4, width=-1.0)
    with pytest.raises(ValueError, match="stem"):
        ResNet18(10, stem="tiny")
    with pytest.raises(ValueError, match="expected 3 image channels"):
        JSCCEncoder(4, 0.0625)(torch.rand(1, 1, 8, 8))


def test_table_one_widths():
    enc, dec = JSCCEncoder(8), JSCCDecoder(8)
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in (convs[0], convs[3], convs[-1])] == [
        (128, (8, 8), (4, 4)),
        (256, (4, 4), (2, 2)),
        (8, (3, 3), (1, 1)),
    ]
    dconvs = [m for m in dec.net if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in dconvs] == [512, 256, 32, 3]


def test_resnet18_parameter_count_matches_standard():
    # torchvision's resnet18(num_classes=10) has 11,181,642 parameters (7x7 stem);
    # the small stem replaces the 3*64*7*7 conv by a 3*64*3*3 conv.
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(ResNet18(10, stem="imagenet")) == 11_181_642
    assert n(ResNet18(10, stem="small")) == 11_181_642 - 3 * 64 * 49 + 3 * 64 * 9


def test_pipeline_on_meta_device_is_device_agnostic():
    codec = JSCCCodec(4, width=0.0625).to("meta")
    x = torch.empty(2, 3, 16, 16, device="meta")
    assert codec.encoder(x).shape == (2, 4, 2, 2)
