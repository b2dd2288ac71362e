"""Codecs and the header/payload split: hand-built codestreams, and a fixed-parameter receiver
that rebuilds every header itself and decodes the payload alone."""

import io

import numpy as np
import pytest
from PIL import Image

from neural.data.datasets import load_digits_dataset
from neural.digital import get_codec
from neural.digital.codecs import jpeg2000_resolutions, jpeg2000_target_db
from neural.digital.codestream import jpeg2000_payload_bytes, jpeg_payload_bytes
from neural.digital.transmit import to_codec_input


@pytest.fixture(scope="module")
def grey():
    coded, mode = to_codec_input(load_digits_dataset("test").images[:3])
    assert mode == "L" and coded.shape == (3, 32, 32)
    return coded


def _seg(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body


def test_jpeg_payload_of_hand_built_file():
    data = (
        b"\xff\xd8"
        + _seg(0xE0, b"JFIF\x00" + b"\x01" * 9)
        + _seg(0xDB, b"\x00" * 65)
        + _seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x12\x34\xff\x00\x56"
        + b"\xff\xd0"
        + b"\x78\x9a"
        + b"\xff\xd9"
    )
    # entropy-coded bytes: 12 34 FF 00 56 | 78 9A (stuffed FF00 counted, RST0 marker not)
    assert jpeg_payload_bytes(data) == 7


def test_jpeg2000_payload_of_hand_built_codestream():
    siz = _seg(0x51, b"\x00" * 39)

    def sot(psot):
        return b"\xff\x90\x00\x0a\x00\x00" + psot.to_bytes(4, "big") + b"\x00\x01"

    body1, body2 = b"\xaa" * 11, b"\xbb" * 5
    tp1 = sot(12 + 2 + len(body1)) + b"\xff\x93" + body1
    tp2 = (
        sot(0) + _seg(0x58, b"\x00" * 3) + b"\xff\x93" + body2
    )  # Psot = 0: up to EOC, with a PLT segment
    assert jpeg2000_payload_bytes(b"\xff\x4f" + siz + tp1 + tp2 + b"\xff\xd9") == 16


@pytest.mark.parametrize(
    "bad", [b"", b"\x00\x01", b"\xff\xd8\xff\xda\x00\x02\x12\x34", b"\xff\xd8\xff\xd9"]
)
def test_jpeg_malformed_raises(bad):
    with pytest.raises(ValueError, match="JPEG"):
        jpeg_payload_bytes(bad)


@pytest.mark.parametrize(
    "bad",
    [
        b"\xff\xd8\xff\xd9",
        b"\xff\x4f" + _seg(0x51, b"\x00" * 4) + b"\xff\xd9",
        b"\xff\x4f\xff\x90\x00\x0a\x00\x00\x00\x00\x01\x00\x00\x01\xff\xd9",
    ],
)
def test_jpeg2000_malformed_raises(bad):
    with pytest.raises(ValueError, match="JPEG 2000|codestream"):
        jpeg2000_payload_bytes(bad)


def test_jpeg_fixed_parameter_receiver(grey):
    """At one quality every 32×32 grey JPEG has the same header bytes: a receiver that knows the
    quality (the side information) rebuilds them, appends the payload (plus channel padding)
    and EOI, and decodes exactly what the full file decodes to."""
    c = get_codec("jpeg")
    for q in (5, 50, 95):
        a, b = c.encode(grey[0], q), c.encode(grey[1], q)
        header = a.data[: a.file_bytes - 2 - a.payload_bytes]
        assert b.data.startswith(header) and b.data.endswith(b"\xff\xd9")
        payload = b.data[len(header) : -2]
        assert len(payload) == b.payload_bytes
        rebuilt = header + payload + b"\x00" * 9 + b"\xff\xd9"
        assert np.array_equal(c.decode(rebuilt, grey[1]), c.decode(b.data, grey[1]))


def test_jpeg2000_fixed_parameter_receiver(grey):
    """The JPEG 2000 header does not depend on the image or the quality except the tile-part length
    Psot; with Psot = 0 ("up to EOC") the receiver decodes payload + padding exactly."""
    c = get_codec("jpeg2000")
    ref = c.encode(grey[0], 20)
    template = bytearray(ref.data[: ref.file_bytes - 2 - ref.payload_bytes])
    sot = template.find(b"\xff\x90")
    template[sot + 6 : sot + 10] = bytes(4)
    for q in (20, 60, 100):
        b = c.encode(grey[1], q)
        header = b.data[: b.file_bytes - 2 - b.payload_bytes]
        differ = [i for i in range(len(header)) if header[i] != template[i]]
        assert len(header) == len(template) and all(sot + 6 <= i < sot + 10 for i in differ)
        rebuilt = bytes(template) + b.data[len(header) : -2] + b"\x00" * 5 + b"\xff\xd9"
        assert np.array_equal(c.decode(rebuilt, grey[1]), c.decode(b.data, grey[1]))


def test_jpeg_settings(grey):
    c = get_codec("jpeg")
    assert c.qualities == range(1, 96)
    e = c.encode(grey[0], 40)
    with Image.open(io.BytesIO(e.data)) as im:
        assert im.format == "JPEG" and im.mode == "L" and im.size == (32, 32)
    rgb = np.dstack([grey[0], grey[1], grey[2]])
    with Image.open(io.BytesIO(c.encode(rgb, 40).data)) as im:
        assert im.mode == "RGB" and [layer[1:3] for layer in im.layer] == [
            (2, 2),
            (1, 1),
            (1, 1),
        ]  # 4:2:0


def test_jpeg2000_settings_and_quality_scale(grey):
    c = get_codec("jpeg2000")
    assert c.qualities == range(1, 101)
    assert jpeg2000_target_db(1) == 10.5 and jpeg2000_target_db(100) == 60.0
    assert [jpeg2000_resolutions(s, s) for s in (4, 8, 16, 32, 96, 512)] == [1, 2, 3, 4, 5, 6]
    e = c.encode(grey[0], 50)
    assert e.data[:2] == b"\xff\x4f"  # raw codestream, no JP2 box
    with Image.open(io.BytesIO(e.data)) as im:
        assert im.format == "JPEG2000" and im.mode == "L"
    # higher quality: more bytes and a closer reconstruction
    sizes = [c.encode(grey[0], q).payload_bytes for q in (10, 40, 70)]
    errs = [
        np.abs(c.decode(c.encode(grey[0], q).data, grey[0]).astype(int) - grey[0]).mean()
        for q in (10, 40, 70)
    ]
    assert sizes == sorted(sizes) and sizes[0] < sizes[2] and errs[0] > errs[1] > errs[2]


@pytest.mark.parametrize("name", ["jpeg", "jpeg2000"])
def test_codec_input_checks(grey, name):
    c = get_codec(name)
    with pytest.raises(ValueError, match="quality must be an integer"):
        c.encode(grey[0], 0)
    with pytest.raises(ValueError, match="quality must be an integer"):
        c.encode(grey[0], 50.0)
    with pytest.raises(TypeError, match="uint8"):
        c.encode(grey[0].astype(np.float32), 50)
    with pytest.raises(ValueError, match="shape"):
        c.encode(np.zeros((8, 8, 2), np.uint8), 50)


def test_unknown_codec():
    with pytest.raises(ValueError, match="codec must be one of"):
        get_codec("webp")
