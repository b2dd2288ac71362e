"""Discrete plug-in MI from counts, against exact values from ``infotheory``."""

import math

import numpy as np
import pytest

import infotheory
from neural.mi import plugin_mi
from neural.mi.testing import sample_discrete_pair, semantic_rd_joints


def _mi_from_counts_numpy(x: np.ndarray, y: np.ndarray) -> float:
    """Independent plug-in: H(X) + H(Y) - H(X,Y) of the empirical distributions, nats."""

    def h(labels):
        _, c = np.unique(labels, axis=0, return_counts=True)
        p = c / c.sum()
        return -np.sum(p * np.log(p))

    return h(x) + h(y) - h(np.stack([x, y], 1))


def test_plugin_without_correction_equals_independent_computation():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(12 * 10)).reshape(12, 10)
    x, y = sample_discrete_pair(p, 3000, seed=0)
    r = plugin_mi(x, y, correction="none")
    assert r.estimate == pytest.approx(_mi_from_counts_numpy(x, y), rel=1e-10)
    assert r.kind == "point estimate" and r.units == "nats"


def test_miller_madow_term_and_units():
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 5, 400), rng.integers(0, 3, 400)
    raw = plugin_mi(x, y, correction="none").estimate
    mm = plugin_mi(x, y)
    # all 15 cells occupied: correction (15 - 5 - 3 + 1) / (2N)
    assert raw - mm.estimate == pytest.approx(8 / 800, rel=1e-12)
    bits = plugin_mi(x, y, units="bits")
    assert bits.estimate == pytest.approx(mm.estimate / math.log(2), rel=1e-12)
    assert bits.ci[0] == pytest.approx(mm.ci[0] / math.log(2), rel=1e-12)


def test_plugin_of_a_variable_with_itself_is_miller_madow_entropy():
    # I(X; f(X)) = H(X) for deterministic f: how I(X; Y_hat) is obtained at SNR = inf
    rng = np.random.default_rng(4)
    x = rng.choice(10, size=3000, p=rng.dirichlet(np.ones(10)))
    counts = np.bincount(x)
    m = np.count_nonzero(counts)
    h = infotheory.entropy(counts / counts.sum(), base=math.e)
    r = plugin_mi(x, x)
    assert r.estimate == pytest.approx(h + (m - 1) / 6000, rel=1e-12)
    assert plugin_mi(x, (x * 7) % 10).estimate == pytest.approx(r.estimate, rel=1e-12)


def test_label_relabelling_and_torch_input_invariance():
    import torch

    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(16)).reshape(4, 4)
    x, y = sample_discrete_pair(p, 1000, seed=3)
    relab = np.array([7, -2, 40, 3])[x]  # an invertible map of one side
    a, b = plugin_mi(x, y), plugin_mi(torch.from_numpy(relab), y)
    assert a.estimate == b.estimate and a.stderr == b.stderr


@pytest.mark.parametrize("shape", [(8, 8), (16, 32), (64, 64)])
def test_plugin_close_to_exact_on_random_joint(shape):
    rng = np.random.default_rng(sum(shape))
    p = rng.dirichlet(np.ones(shape[0] * shape[1])).reshape(shape)
    exact = infotheory.mutual_information(p, base=math.e)
    x, y = sample_discrete_pair(p, 200_000, seed=1)
    r = plugin_mi(x, y)
    assert r.ci[0] <= exact <= r.ci[1]
    assert abs(r.estimate - exact) < 4 * r.stderr
    assert r.stderr < 0.01  # tight at this N


@pytest.mark.parametrize("alpha,n", [(1.0, 5000), (0.3, 20000)])
def test_interval_coverage_over_seeds(alpha, n):
    # the stated 95% interval contains the exact value in about 95% of seeds
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(64, alpha)).reshape(8, 8)
    exact = infotheory.mutual_information(p, base=math.e)
    hits = 0
    for seed in range(300):
        x, y = sample_discrete_pair(p, n, seed=seed)
        lo, hi = plugin_mi(x, y).ci
        hits += lo <= exact <= hi
    # binomial(300, 0.95): sd 1.3%; accept 90%..99%
    assert 0.90 <= hits / 300 <= 0.99, hits


def test_independence_interval_covers_zero_and_mm_removes_bias():
    rng = np.random.default_rng(3)
    raw, mm, cover = [], [], 0
    for _ in range(200):
        x, y = rng.integers(0, 8, 2000), rng.integers(0, 8, 2000)
        r = plugin_mi(x, y)
        raw.append(plugin_mi(x, y, correction="none").estimate)
        mm.append(r.estimate)
        cover += r.ci[0] <= 0.0 <= r.ci[1]
    assert np.mean(raw) == pytest.approx(49 / 4000, rel=0.1)  # (k-1)^2/(2N) bias
    assert abs(np.mean(mm)) < 0.0005
    assert cover / 200 >= 0.9


def test_plugin_on_semantic_rd_joints():
    p_x_xhat, p_xhat_y, rate, relevance = semantic_rd_joints()
    for joint, exact_bits in [(p_x_xhat, rate), (p_xhat_y, relevance)]:
        assert infotheory.mutual_information(joint) == pytest.approx(exact_bits, abs=1e-6)
        a, b = sample_discrete_pair(joint, 100_000, seed=5)
        r = plugin_mi(a, b, units="bits")
        assert r.ci[0] <= exact_bits <= r.ci[1], (r, exact_bits)
        assert abs(r.estimate - exact_bits) < 0.02


@pytest.mark.parametrize(
    "x,y,match",
    [
        (np.array([0.5, 1.0, 2.0]), np.array([0, 1, 1]), "non-integer"),
        (np.array([0, 1, np.nan]), np.array([0, 1, 1]), "NaN"),
        (np.array([0, 1, 1]), np.array([0, 1]), "same number of samples"),
        (np.zeros((2, 2, 2)), np.zeros(2), "shape"),
        (np.array(["a", "b"]), np.array([0, 1]), "numeric"),
    ],
)
def test_plugin_bad_inputs(x, y, match):
    with pytest.raises(ValueError, match=match):
        plugin_mi(x, y)


def test_plugin_bad_options():
    x = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="correction"):
        plugin_mi(x, x, correction="jackknife")
    with pytest.raises(ValueError, match="confidence"):
        plugin_mi(x, x, confidence=1.5)
    with pytest.raises(ValueError, match="units"):
        plugin_mi(x, x, units="hartley")
