"""Quality search: the highest quality whose size fits, against exhaustive search."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neural.data.datasets import load_digits_dataset
from neural.digital import best_quality, get_codec
from neural.digital.search import DEFAULT_WINDOW, SizeTable
from neural.digital.transmit import to_codec_input


def _reference(sizes: dict[int, int], budget: float) -> int | None:
    fitting = [q for q, s in sizes.items() if s <= budget]
    return max(fitting) if fitting else None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.integers(-5, 1200))
def test_bisect_exact_on_monotone_sizes(steps, budget):
    sizes = dict(zip(range(1, len(steps) + 1), np.cumsum(steps).tolist()))
    for search in ("bisect", "exhaustive"):
        assert best_quality(sizes.__getitem__, sizes, budget, search=search) == _reference(
            sizes, budget
        )


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=60),
    st.lists(st.integers(-3, 3), min_size=60, max_size=60),
    st.integers(-5, 1000),
)
def test_bisect_exact_on_wiggly_sizes(steps, wiggle, budget):
    """Monotone trend + wiggles of a few units: wherever the gaps between fitting qualities are
    shorter than the verification window, bisect equals exhaustive; it always returns a fitting
    quality with `window` non-fitting qualities above it."""
    trend = np.cumsum(steps)
    sizes = {q: int(trend[q - 1] + wiggle[q - 1]) for q in range(1, len(steps) + 1)}
    got = best_quality(sizes.__getitem__, sizes, budget, search="bisect")
    exact = _reference(sizes, budget)
    assert best_quality(sizes.__getitem__, sizes, budget, search="exhaustive") == exact
    if got is not None:
        assert sizes[got] <= budget
        assert all(
            sizes[q] > budget for q in range(got + 1, min(got + DEFAULT_WINDOW, len(sizes)) + 1)
        )
    fitting = sorted(q for q, s in sizes.items() if s <= budget)
    gaps_short = all(b - a <= DEFAULT_WINDOW for a, b in itertools.pairwise(fitting))
    if gaps_short and (not fitting or fitting[0] <= DEFAULT_WINDOW):
        assert got == exact


def test_bisect_limit_is_the_documented_one():
    """A fitting quality after a run of ≥ window non-fitting ones can be missed by bisect (documented);
    exhaustive finds it."""
    sizes = {q: 10 for q in range(1, 11)} | {q: 100 for q in range(11, 21)} | {21: 5}
    assert best_quality(sizes.__getitem__, sizes, 50, search="exhaustive") == 21
    assert best_quality(sizes.__getitem__, sizes, 50, search="bisect") == 10


def test_each_quality_coded_at_most_once():
    calls = []
    table = SizeTable(lambda q: calls.append(q) or 3 * q)
    assert best_quality(table, range(1, 101), 150) == 50
    assert len(calls) == len(set(calls)) <= math.ceil(math.log2(101)) + DEFAULT_WINDOW
    assert best_quality(table, range(1, 101), 150, search="exhaustive") == 50
    assert len(calls) == len(set(calls)) == 100


def test_no_fit_and_infinite_budget():
    sizes = {q: 10 + q for q in range(1, 30)}
    assert best_quality(sizes.__getitem__, sizes, 5) is None
    assert best_quality(sizes.__getitem__, sizes, math.inf) == 29


@pytest.mark.parametrize("codec", ["jpeg", "jpeg2000"])
def test_bisect_equals_exhaustive_on_digits(codec):
    """Real size curves (payload bits of 8 test digits, every quality) at budgets across the range."""
    c = get_codec(codec)
    coded, _ = to_codec_input(load_digits_dataset("test").images[:8])
    for image in coded:
        sizes = {q: 8 * c.encode(image, q).payload_bytes for q in c.qualities}
        for budget in np.linspace(min(sizes.values()) - 8, max(sizes.values()) + 8, 25):
            got = best_quality(sizes.__getitem__, c.qualities, float(budget), search="bisect")
            assert got == _reference(sizes, float(budget))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"qualities": []}, "strictly increasing"),
        ({"qualities": [3, 2]}, "strictly increasing"),
        ({"search": "linear"}, "search must be one of"),
        ({"window": 0}, "window"),
        ({"budget": math.nan}, "NaN"),
    ],
)
def test_invalid(kwargs, match):
    args = {"qualities": range(1, 5), "budget": 3.0} | kwargs
    with pytest.raises(ValueError, match=match):
        best_quality(lambda q: q, args.pop("qualities"), args.pop("budget"), **args)
