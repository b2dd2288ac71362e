"""Canonical JSON and configuration hashes: the identity of a sweep job.

A job is identified by its resolved configuration. :func:`canonical_json` writes a
JSON-ready value with sorted keys, no whitespace and non-finite floats as the strings
``"inf"``/``"-inf"``/``"nan"`` (JSON has no such numbers); :func:`config_hash` is the
first 16 hex digits of its SHA-256. Equal configurations give equal keys in every
process and on every machine; any change of a field gives another key.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists and non-finite floats as strings (see the module docstring)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"dictionary keys must be strings, got {bad[0]!r}")
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")


def canonical_json(value: Any) -> str:
    """Sorted keys, compact separators, non-finite floats as strings: one text per value."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(value: Any) -> str:
    """First 16 hex digits of the SHA-256 of :func:`canonical_json` (64 bits)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:16]


def parse_float(value: Any) -> float:
    """Inverse of :func:`jsonable` for one number: ``"inf"`` → ``math.inf``, ``None`` → NaN."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "+inf", "infinity"):
            return math.inf
        if text in ("-inf", "-infinity"):
            return -math.inf
        if text == "nan" or text == "":
            return math.nan
        raise ValueError(f"expected a number or 'inf'/'-inf'/'nan', got {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)
