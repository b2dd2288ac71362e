"""Information measures against closed forms, brute force and identities."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from infotheory import (
    conditional_entropy,
    conditional_mutual_information,
    entropy,
    kl_divergence,
    mutual_information,
)

TOL = 1e-12


def h2(p):
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_entropy_closed_forms():
    assert entropy([0.5, 0.5]) == pytest.approx(1.0, abs=TOL)
    assert entropy(np.full(8, 1 / 8)) == pytest.approx(3.0, abs=TOL)
    assert entropy([0.3, 0.7]) == pytest.approx(h2(0.3), abs=TOL)
    assert entropy([1.0, 0.0, 0.0]) == 0.0  # 0 log 0 = 0
    assert entropy([0.5, 0.5], base=math.e) == pytest.approx(math.log(2), abs=TOL)
    assert entropy(np.full(9, 1 / 9), base=3) == pytest.approx(2.0, abs=TOL)


def test_joint_entropy_of_independent_is_sum():
    p, q = np.array([0.2, 0.8]), np.array([0.1, 0.3, 0.6])
    assert entropy(np.outer(p, q)) == pytest.approx(entropy(p) + entropy(q), abs=TOL)


def test_mutual_information_closed_forms():
    eps = 0.11  # binary symmetric channel with uniform input: I = 1 - h(eps)
    p_xy = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])
    assert mutual_information(p_xy) == pytest.approx(1 - h2(eps), abs=TOL)
    assert mutual_information(np.outer([0.3, 0.7], [0.5, 0.25, 0.25])) == pytest.approx(0, abs=TOL)
    assert mutual_information(np.eye(4) / 4) == pytest.approx(2.0, abs=TOL)


def test_conditional_entropy_and_cmi_closed_forms():
    assert conditional_entropy([[0.25, 0.25], [0.5, 0.0]]) == pytest.approx(0.5, abs=TOL)
    # Y = X xor Z with X, Z fair and independent: I(X;Y) = 0 but I(X;Y|Z) = 1
    p = np.zeros((2, 2, 2))
    for x in range(2):
        for z in range(2):
            p[x, x ^ z, z] = 0.25
    assert mutual_information(p.sum(axis=2)) == pytest.approx(0, abs=TOL)
    assert conditional_mutual_information(p) == pytest.approx(1.0, abs=TOL)


def test_kl_divergence():
    assert kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(
        0.5 * math.log2(2) + 0.5 * math.log2(0.5 / 0.75), abs=TOL
    )
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0, abs=TOL)  # 0 log 0/q = 0


def _joint(shape):
    return (
        arrays(np.float64, shape, elements=st.floats(0, 1))
        .filter(lambda a: a.sum() > 0.1)
        .map(lambda a: a / a.sum())
    )


@settings(max_examples=60, deadline=None)
@given(_joint((4, 5)))
def test_mi_brute_force_and_chain_rules(p):
    px, py = p.sum(1), p.sum(0)
    brute = sum(
        p[i, j] * (math.log2(p[i, j]) - math.log2(px[i]) - math.log2(py[j]))
        for i in range(4)
        for j in range(5)
        if p[i, j] > 0
    )
    assert mutual_information(p) == pytest.approx(brute, abs=1e-12)
    assert mutual_information(p) == pytest.approx(entropy(px) + entropy(py) - entropy(p), abs=1e-12)
    assert conditional_entropy(p) == pytest.approx(entropy(p) - entropy(px), abs=1e-12)
    assert mutual_information(p) == pytest.approx(entropy(py) - conditional_entropy(p), abs=1e-12)
    assert mutual_information(p.T) == pytest.approx(mutual_information(p), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(_joint((3, 3, 4)))
def test_cmi_entropy_identity(p):
    h = entropy
    expected = h(p.sum(1)) + h(p.sum(0)) - h(p) - h(p.sum((0, 1)))
    assert conditional_mutual_information(p) == pytest.approx(expected, abs=1e-12)
    assert conditional_mutual_information(p) >= 0


@pytest.mark.parametrize(
    "func,args,match",
    [
        (entropy, ([0.5, 0.6],), r"p sums to 1\.1, expected 1"),
        (entropy, ([1.5, -0.5],), "p has negative entries"),
        (entropy, ([np.nan, 1.0],), "p contains NaN"),
        (entropy, ([np.inf, 1.0],), "p contains inf"),
        (entropy, ([],), "p is empty"),
        (mutual_information, ([0.5, 0.5],), r"p_xy must be 2-dimensional, got shape \(2,\)"),
        (conditional_entropy, ([0.5, 0.5],), "p_xy must be 2-dimensional"),
        (conditional_mutual_information, (np.eye(2) / 2,), "p_xyz must be 3-dimensional"),
        (kl_divergence, ([0.5, 0.5], [1 / 3] * 3), "p and q must have the same shape"),
        (kl_divergence, ([0.5, 0.5], [0.5, 0.4]), r"q sums to 0\.9"),
    ],
)
def test_bad_input(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)


@pytest.mark.parametrize("base", [1, 0, -2, math.inf, math.nan])
def test_bad_base(base):
    with pytest.raises(ValueError, match="base must be finite, positive and not 1"):
        entropy([0.5, 0.5], base=base)


def test_non_numeric_input():
    with pytest.raises(TypeError, match="p must be an array of real numbers"):
        entropy(["a", "b"])
