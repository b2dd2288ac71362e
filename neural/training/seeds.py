"""Seeds derived from keys, so that every epoch's data order and noise are reproducible."""

from __future__ import annotations

import numpy as np


def derive_seed(*keys: int) -> int:
    """A 63-bit seed determined by the integer ``keys`` (NumPy SeedSequence hashing)."""
    return int(
        np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0]
        >> np.uint64(1)
    )
