"""Highest quality whose coded size fits a bit budget.

The answer is ``q* = max{q : bits(q) ≤ budget}`` (``None`` if no quality fits). Coded
size is not guaranteed monotone in quality (JPEG sizes wiggle by a byte or two between
neighbouring qualities), so:

* ``search="exhaustive"`` codes every quality: exact, ``len(qualities)`` encodes.
* ``search="bisect"`` (default) bisects as if ``bits`` were monotone, then *verifies*
  upwards: starting after the last fitting quality it keeps coding the next quality
  until ``window`` consecutive ones do not fit, moving up whenever one fits. The result
  always fits, and the ``window`` qualities above it do not. It equals the exhaustive
  answer whenever consecutive fitting qualities are at most ``window`` steps apart and
  the lowest fitting one is among the ``window`` lowest qualities — true for every
  monotone size curve and for wiggles shorter than ``window`` steps (a fitting quality
  beyond a run of ``window`` or more non-fitting ones can be missed). About
  ``log2(len) + window`` encodes.

``bits`` is called at most once per quality (results are cached by :class:`SizeTable`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

SEARCHES = ("bisect", "exhaustive")
DEFAULT_WINDOW = 4


class SizeTable:
    """Lazily filled, cached ``quality -> bits`` table of one image (one call's codec settings)."""

    def __init__(self, bits: Callable[[int], int]) -> None:
        self._bits = bits
        self.table: dict[int, int] = {}

    def __call__(self, quality: int) -> int:
        if quality not in self.table:
            self.table[quality] = int(self._bits(quality))
        return self.table[quality]


def best_quality(
    bits: Callable[[int], int],
    qualities: Sequence[int],
    budget: float,
    *,
    search: str = "bisect",
    window: int = DEFAULT_WINDOW,
) -> int | None:
    """Highest ``q`` in ``qualities`` (ascending) with ``bits(q) ≤ budget``, or ``None``.

    See the module docstring for the two strategies and when ``"bisect"`` is exact.
    """
    qs = list(qualities)
    if not qs or any(b <= a for a, b in itertools.pairwise(qs)):
        raise ValueError("qualities must be a non-empty, strictly increasing sequence")
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {SEARCHES}, got {search!r}")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if math.isnan(budget):
        raise ValueError("budget must not be NaN")
    table = bits if isinstance(bits, SizeTable) else SizeTable(bits)

    def fits(i: int) -> bool:
        return table(qs[i]) <= budget

    if search == "exhaustive":
        fitting = [i for i in range(len(qs)) if fits(i)]
        return qs[fitting[-1]] if fitting else None
    # bisection: lo = -1 or a fitting index, hi = len(qs) or a non-fitting index
    lo, hi = -1, len(qs)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    # verification: walk up until `window` consecutive qualities do not fit
    best, i = lo, lo + 1
    while i < len(qs) and i - best <= window:
        if fits(i):
            best = i
        i += 1
    return qs[best] if best >= 0 else None
