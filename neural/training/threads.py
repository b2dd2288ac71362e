"""CPU threads for training (see docs/performance.md, "Training threads")."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def training_threads(num_threads: int | None, device: torch.device) -> Iterator[int]:
    """Use ``num_threads`` torch threads inside the block and restore the previous count after."""
    before = torch.get_num_threads()
    n = before if num_threads is None else num_threads
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)
