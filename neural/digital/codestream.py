"""Split JPEG files and JPEG 2000 codestreams into headers and entropy-coded payload.

Used by the ``header="payload"`` policy: the payload is what a receiver with fixed, known
codec parameters still needs, everything else (markers, tables, image size) it can
rebuild itself.

* JPEG (ITU-T T.81): the entropy-coded segments that follow each SOS (start of scan)
  header, up to the next marker that is not a restart marker (``FFD0..FFD7``); stuffed
  ``FF00`` bytes are part of the payload.
* JPEG 2000 (ITU-T T.800, raw codestream ``.j2k``): the packet data of every tile-part,
  i.e. the bytes between the end of its SOD marker and the end of the tile-part (its
  SOT's ``Psot``; ``Psot = 0`` means "up to EOC").
"""

from __future__ import annotations


def _u16(data: bytes, i: int) -> int:
    if i + 2 > len(data):
        raise ValueError(f"truncated codestream: need 2 bytes at offset {i}, have {len(data) - i}")
    return int.from_bytes(data[i : i + 2], "big")


def jpeg_payload_bytes(data: bytes) -> int:
    """Bytes of entropy-coded data in a JPEG file (all scans, restart markers excluded)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file: missing SOI marker FFD8")
    i, total, scans = 2, 0, 0
    while True:
        if i + 2 > len(data) or data[i] != 0xFF:
            raise ValueError(f"malformed JPEG: expected a marker at offset {i}")
        marker = data[i + 1]
        if marker == 0xD9:  # EOI
            break
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        i += 2 + _u16(data, i + 2)  # marker segment: FFxx + length (length counts itself)
        if marker != 0xDA:  # not SOS
            continue
        start = i  # entropy-coded segment until a marker other than FF00 / RSTn
        while True:
            j = data.find(b"\xff", i)
            if j < 0 or j + 1 >= len(data):
                raise ValueError("malformed JPEG: entropy-coded data runs past the end of the file")
            nxt = data[j + 1]
            if nxt == 0x00:
                i = j + 2
            elif 0xD0 <= nxt <= 0xD7:
                total -= 2  # restart markers are framing, not payload
                i = j + 2
            else:
                break
        total += j - start
        scans += 1
        i = j
    if scans == 0:
        raise ValueError("malformed JPEG: no SOS (start of scan) marker")
    return total


def jpeg2000_payload_bytes(data: bytes) -> int:
    """Bytes of packet data (all tile-parts) in a raw JPEG 2000 codestream."""
    if data[:2] != b"\xff\x4f":
        raise ValueError("not a raw JPEG 2000 codestream: missing SOC marker FF4F")
    if data[-2:] != b"\xff\xd9":
        raise ValueError("malformed JPEG 2000 codestream: missing EOC marker FFD9 at the end")
    end = len(data) - 2
    i = 2
    while _u16(data, i) != 0xFF90:  # main header segments until the first SOT
        i += 2 + _u16(data, i + 2)
        if i >= end:
            raise ValueError("malformed JPEG 2000 codestream: no SOT (tile-part) marker")
    total = 0
    while i < end:
        if _u16(data, i) != 0xFF90:
            raise ValueError(f"malformed JPEG 2000 codestream: expected SOT at offset {i}")
        psot = int.from_bytes(data[i + 6 : i + 10], "big")
        tp_end = end if psot == 0 else i + psot
        if tp_end > end:
            raise ValueError("malformed JPEG 2000 codestream: tile-part runs past EOC")
        j = i + 2 + _u16(data, i + 2)
        while _u16(data, j) != 0xFF93:  # tile-part header segments until SOD
            j += 2 + _u16(data, j + 2)
            if j >= tp_end:
                raise ValueError("malformed JPEG 2000 codestream: tile-part without SOD")
        total += tp_end - (j + 2)
        i = tp_end
    return total
