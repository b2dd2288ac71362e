"""transmit_digital: budget respected, best fitting quality, failure → fallback exactly, the cliff,
colour handling, header policies and input checks."""

import json
import math

import numpy as np
import pytest
import torch

from neural.data.datasets import load_digits_dataset
from neural.digital import bit_budget, bpsk_capacity, get_codec, transmit_digital
from neural.digital.transmit import to_codec_input
from neural.metrics import psnr


@pytest.fixture(scope="module")
def digits():
    return load_digits_dataset("test").images[:12]  # (12, 3, 32, 32), grey replicated to RGB


def _psnr(a, b):
    return psnr(b, a).double()


def _exhaustive_bits(image, codec, header, side):
    c = get_codec(codec)
    sizes = {}
    for q in c.qualities:
        e = c.encode(image, q)
        sizes[q] = 8 * e.payload_bytes + side if header == "payload" else 8 * e.file_bytes
    return sizes


@pytest.mark.parametrize("codec", ["jpeg", "jpeg2000"])
def test_chosen_quality_is_best_fitting(digits, codec):
    res = transmit_digital(digits[:6], codec=codec, bpp=16 / 64, snr_db=math.inf)
    coded, mode = to_codec_input(digits[:6])
    assert mode == "L" and res.color_mode == "L"
    assert res.bits_budget == 256.0 and res.channel_uses == 256 and res.side_info_bits == 8
    for i in range(6):
        sizes = _exhaustive_bits(coded[i], codec, "payload", 8)
        fitting = [q for q, s in sizes.items() if s <= res.bits_budget]
        expected = max(fitting) if fitting else -1
        assert int(res.quality[i]) == expected
        if expected > 0:
            assert int(res.bits_used[i]) == sizes[expected] <= res.bits_budget
            # the reconstruction is the decoded codestream at that quality
            c = get_codec(codec)
            dec = c.decode(c.encode(coded[i], expected).data, coded[i])
            assert torch.equal(
                res.reconstruction[i],
                torch.from_numpy(np.array(dec)).float().div(255).expand(3, 32, 32),
            )


def test_failure_gives_image_mean_exactly(digits):
    res = transmit_digital(
        digits, codec="jpeg", bpp=4 / 64, snr_db=math.inf
    )  # 64 bits: JPEG cannot fit
    assert res.failed.all() and res.failure_rate == 1.0
    assert (res.quality == -1).all() and (res.bits_used == 8).all() and res.fallback_bits == 8
    u8 = torch.round(digits.double() * 255)
    level = torch.round(u8[:, :1].mean(dim=(2, 3), keepdim=True))  # one level per grey image
    expected = (level / 255).float().expand_as(digits)
    assert torch.equal(res.reconstruction, expected)


def test_failure_gives_train_mean_exactly(digits):
    train_mean = load_digits_dataset("train").images.mean(dim=0)
    res = transmit_digital(
        digits,
        codec="jpeg",
        bpp=4 / 64,
        snr_db=math.inf,
        on_failure="train-mean",
        train_mean=train_mean,
    )
    assert res.failed.all() and res.fallback_bits == 0 and (res.bits_used == 0).all()
    assert torch.equal(res.reconstruction, train_mean.expand_as(digits))


def test_rgb_mean_fallback_and_rgb_coding():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 16, 16, generator=g)
    res = transmit_digital(x, codec="jpeg", bpp=1 / 64, snr_db=math.inf)  # 4 bits: nothing fits
    assert res.color_mode == "RGB" and res.fallback_bits == 24 and res.failed.all()
    levels = torch.round(torch.round(x.double() * 255).mean(dim=(2, 3), keepdim=True))
    assert torch.equal(res.reconstruction, (levels / 255).float().expand_as(x))
    ramp = torch.linspace(0, 1, 16)
    smooth = torch.stack(
        [
            ramp[None, :].expand(16, 16),
            ramp[:, None].expand(16, 16),
            1 - ramp[None, :].expand(16, 16),
        ]
    )
    for codec in ("jpeg", "jpeg2000"):
        ok = transmit_digital(smooth[None], codec=codec, bpp=4.0, snr_db=math.inf)
        assert ok.color_mode == "RGB" and not ok.failed.any()
        assert ok.reconstruction.shape == (1, 3, 16, 16) and int(ok.bits_used[0]) <= ok.bits_budget
        assert float(_psnr(ok.reconstruction, smooth[None])) > 25


@pytest.mark.parametrize("codec", ["jpeg", "jpeg2000"])
def test_cliff_below_some_snr(digits, codec):
    """Toy setting: 12 digits at bpp = 32/64. Capacity-based budget: above the cliff every image
    is delivered at a good quality, below it every image falls to the image-mean floor."""
    floor = transmit_digital(
        digits, codec=codec, bpp=1 / 64, snr_db=math.inf
    )  # all lost: the floor
    assert floor.failed.all()
    psnr_floor = _psnr(floor.reconstruction, digits).mean()
    curve = {}
    for snr_db in (10.0, 3.0, 0.0, -3.0, -6.0, -10.0):
        r = transmit_digital(digits, codec=codec, bpp=32 / 64, snr_db=snr_db)
        curve[snr_db] = (r.failure_rate, float(_psnr(r.reconstruction, digits).mean()))
    assert curve[10.0][0] == 0.0 and curve[10.0][1] > psnr_floor + 10
    assert curve[-10.0][0] == 1.0 and curve[-10.0][1] == pytest.approx(float(psnr_floor), abs=1e-9)
    rates = [curve[s][0] for s in sorted(curve, reverse=True)]
    assert rates == sorted(rates)  # failures only grow as SNR falls


def test_budget_follows_capacity(digits):
    r = transmit_digital(digits[:2], codec="jpeg", bpp=16 / 64, snr_db=2.0, capacity="bpsk")
    assert r.bits_budget == bit_budget(16 / 64, (32, 32), 2.0) == 256 * bpsk_capacity(2.0)
    assert r.capacity_per_use == bpsk_capacity(2.0)
    g = transmit_digital(
        digits[:2], codec="jpeg", bpp=16 / 64, snr_db=math.inf, capacity="gaussian"
    )
    assert g.bits_budget == math.inf and (g.quality == 95).all()


def test_full_header_counts_whole_file(digits):
    r = transmit_digital(digits[:2], codec="jpeg", bpp=64 / 64, snr_db=math.inf, header="full")
    assert r.side_info_bits == 0
    coded, _ = to_codec_input(digits[:2])
    smallest_file = min(8 * get_codec("jpeg").encode(coded[0], q).file_bytes for q in (1, 2, 3))
    assert smallest_file > r.bits_budget  # a 32×32 JPEG file (headers) exceeds 1024 bits
    assert r.failed.all()
    big = transmit_digital(digits[:2], codec="jpeg", bpp=8.0, snr_db=math.inf, header="full")
    for i in range(2):
        q = int(big.quality[i])
        assert (
            int(big.bits_used[i])
            == 8 * get_codec("jpeg").encode(coded[i], q).file_bytes
            <= big.bits_budget
        )


def test_side_info_bits_added_to_payload(digits):
    a = transmit_digital(
        digits[:3], codec="jpeg2000", bpp=16 / 64, snr_db=math.inf, side_info_bits=0
    )
    b = transmit_digital(
        digits[:3], codec="jpeg2000", bpp=16 / 64, snr_db=math.inf, side_info_bits=40
    )
    coded, _ = to_codec_input(digits[:3])
    c = get_codec("jpeg2000")
    for i in range(3):
        assert int(a.bits_used[i]) == 8 * c.encode(coded[i], int(a.quality[i])).payload_bytes
        assert int(b.bits_used[i]) == 8 * c.encode(coded[i], int(b.quality[i])).payload_bytes + 40
        assert int(b.quality[i]) <= int(a.quality[i])


def test_float64_and_single_channel_input(digits):
    x = digits[:2, :1].double()
    r = transmit_digital(x, codec="jpeg", bpp=32 / 64, snr_db=math.inf)
    assert r.reconstruction.dtype == torch.float64 and r.reconstruction.shape == x.shape
    assert r.color_mode == "L"
    assert ((r.reconstruction * 255) - torch.round(r.reconstruction * 255)).abs().max() < 1e-9


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        ({"codec": "png"}, ValueError, "codec must be one of"),
        ({"capacity": "complex"}, ValueError, "capacity must be one of"),
        ({"header": "none"}, ValueError, "header must be one of"),
        ({"header": "full", "side_info_bits": 8}, ValueError, "side_info_bits applies"),
        ({"side_info_bits": -1}, ValueError, "side_info_bits"),
        ({"on_failure": "zeros"}, ValueError, "on_failure must be one of"),
        ({"on_failure": "train-mean"}, ValueError, "needs train_mean"),
        ({"on_failure": "train-mean", "train_mean": torch.zeros(3, 8, 8)}, ValueError, "shape"),
        ({"train_mean": torch.zeros(3, 32, 32)}, ValueError, "only with on_failure"),
        ({"bpp": 0.1}, ValueError, "whole number"),
        ({"snr_db": float("nan")}, ValueError, "NaN"),
        ({"search": "greedy"}, ValueError, "search must be one of"),
    ],
)
def test_invalid_arguments(digits, kwargs, err, match):
    args = {"codec": "jpeg", "bpp": 16 / 64, "snr_db": math.inf} | kwargs
    with pytest.raises(err, match=match):
        transmit_digital(digits[:1], **args)


@pytest.mark.parametrize(
    "images, err, match",
    [
        (torch.rand(3, 32, 32), ValueError, r"\(B, C, H, W\)"),
        (torch.rand(1, 2, 32, 32), ValueError, "C in"),
        (torch.rand(1, 3, 0, 32), ValueError, "H, W ≥ 1"),
        (torch.full((1, 3, 32, 32), 1.5), ValueError, r"in \[0, 1\]"),
        (torch.full((1, 3, 32, 32), float("nan")), ValueError, "NaN"),
        (torch.zeros(1, 3, 32, 32, dtype=torch.uint8), TypeError, "floating point"),
        (np.zeros((1, 3, 32, 32)), TypeError, "torch tensor"),
    ],
)
def test_invalid_images(images, err, match):
    with pytest.raises(err, match=match):
        transmit_digital(images, codec="jpeg", bpp=16 / 64, snr_db=0.0)


def test_metadata_is_plain_and_complete(digits):
    r = transmit_digital(digits[:4], codec="jpeg2000", bpp=16 / 64, snr_db=1.0, capacity="gaussian")
    meta = r.metadata()
    assert json.loads(json.dumps(meta)) == meta
    assert (
        meta["codec"] == "jpeg2000"
        and meta["capacity"] == "gaussian"
        and meta["header"] == "payload"
    )
    assert meta["failure_rate"] == r.failure_rate and meta["bits_budget"] == r.bits_budget
    assert meta["mean_bits_used"] == pytest.approx(float(r.bits_used.double().mean()))
    assert "gaussian" in r.describe() and "payload" in r.describe()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_images(digits):
    x = digits[:3].cuda()
    r = transmit_digital(
        x,
        codec="jpeg",
        bpp=4 / 64,
        snr_db=math.inf,
        on_failure="train-mean",
        train_mean=torch.full((3, 32, 32), 0.25, device="cuda"),
    )
    assert r.reconstruction.device == x.device and torch.equal(
        r.reconstruction.cpu(), torch.full((3, 3, 32, 32), 0.25)
    )
