"""Files of a run: atomic writes, JSON with infinities, SHA-256, weights loaded without foreign code.

Every weights file is read with ``torch.load(..., weights_only=True)``: PyTorch's restricted
unpickler, which rebuilds tensors, containers and plain Python values and refuses anything
else (a pickle that names ``os.system`` or any other callable is rejected before it runs).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from typing import Any, BinaryIO

import torch


def _atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary file in ``path``'s directory, then ``os.replace`` it
    onto ``path``: a reader (or a resumed run) sees the old file or the new one, never a
    partial one."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(obj: Any, path: str) -> None:
    """``torch.save`` to ``path`` atomically (temporary file + ``os.replace``)."""
    _atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file + ``os.replace``)."""
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def to_json(obj: Any) -> str:
    """JSON text with non-finite floats written as the strings ``"inf"``, ``"-inf"``, ``"nan"``."""

    def fix(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [fix(x) for x in v]
        return v

    return json.dumps(fix(obj), indent=2, allow_nan=False)


def sha256_file(path: str) -> str:
    """Hex SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_weights(path: str, what: str) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)`` with errors that name ``what``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is not
    a weights file or that needs foreign code to load (the restricted unpickler refused it).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what}: {path!r} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"{what}: {path!r} cannot be loaded as plain weights (torch.load(weights_only=True) refused it: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from exc
