"""The global strategy of semantic_rd at β > 0 (issue 10): never worse than one start,
finds the obvious optimum the single start misses, and says how sure it is."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infotheory import evaluate_encoder, information_bottleneck, semantic_rd
from infotheory.hard_search import hard_local_search, hard_objective
from infotheory.search import DEFAULT_RESTARTS

P_X = [0.25, 0.75]
P_YX = [[0.9, 0.1], [0.1, 0.9]]
D = 1 - np.eye(2)


@pytest.mark.parametrize("seed", range(20))
def test_two_by_two_returns_the_identity_for_every_seed(seed):
    res = semantic_rd(P_X, P_YX, D, beta=10, lam=0.5, seed=seed)
    np.testing.assert_allclose(res.encoder, np.eye(2), atol=1e-6)
    # independent: F of the identity encoder, evaluated directly (0.81 bits), is the
    # returned F; the label-swapped encoder scores 3.70 bits
    ident = evaluate_encoder(P_X, P_YX, D, np.eye(2), beta=10, lam=0.5)
    swap = evaluate_encoder(P_X, P_YX, D, np.eye(2)[::-1], beta=10, lam=0.5)
    assert res.objective == pytest.approx(ident.objective, abs=1e-8)
    assert swap.objective > res.objective + 2.8
    assert res.converged and res.starts == 1 + DEFAULT_RESTARTS
    assert 1 <= res.starts_at_best <= res.starts and res.objective_spread >= 0


def test_single_start_misses_it_and_reports_itself():
    fs = [semantic_rd(P_X, P_YX, D, beta=10, lam=0.5, seed=s, restarts=0) for s in range(20)]
    assert max(r.objective for r in fs) > 3.6  # the label-swapped point exists
    assert all(r.starts == 1 and r.starts_at_best == 1 and r.objective_spread == 0 for r in fs)


@st.composite
def problems(draw):
    n = draw(st.integers(2, 5))
    k = draw(st.integers(2, 5))
    m = draw(st.integers(2, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.ones(n))
    pyx = rng.dirichlet(np.ones(m), size=n)
    d = rng.random((n, k)) * draw(st.sampled_from([0.0, 1.0]))  # a share of pure IB problems
    beta = draw(st.sampled_from([1.0, 10.0, 100.0]))
    lam = float(np.exp(draw(st.floats(np.log(0.03), np.log(3.0)))))
    return px, pyx, d, beta, lam, int(rng.integers(100))


@settings(max_examples=40, deadline=None)
@given(problems())
def test_default_never_above_the_single_start(prob):
    px, pyx, d, beta, lam, seed = prob
    one = semantic_rd(px, pyx, d, beta=beta, lam=lam, seed=seed, restarts=0)
    best = semantic_rd(px, pyx, d, beta=beta, lam=lam, seed=seed)
    assert best.objective <= one.objective + 1e-9
    assert best.starts_at_best >= 1
    assert best.objective_spread >= max(one.objective - best.objective, 0) - 1e-9
    # every field describes the returned encoder (independent evaluation)
    ev = evaluate_encoder(px, pyx, d, best.encoder, beta=beta, lam=lam)
    assert ev.objective == pytest.approx(best.objective, abs=1e-9)


def test_restarts_and_message():
    rng = np.random.default_rng(5)
    px, pyx, d = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(3), size=6), rng.random((6, 5))
    res = semantic_rd(px, pyx, d, beta=100, lam=0.1, restarts=8)
    assert res.starts == 9
    assert f"best of 9 starts (from {res.start})" in res.message
    assert f"{res.starts_at_best} of them reached it" in res.message
    assert semantic_rd(px, pyx, d, beta=0, lam=0.1).starts == 1  # convex: one start
    assert semantic_rd(px, pyx, d[:, :1], beta=1, lam=0.1).starts == 1  # k = 1: one encoder
    with pytest.raises(ValueError, match="restarts must be >= 0"):
        semantic_rd(px, pyx, d, beta=1, lam=0.1, restarts=-1)
    with pytest.raises(TypeError, match="executor must be"):
        semantic_rd(px, pyx, d, beta=1, lam=0.1, executor="threads")


def test_executor_gives_the_same_answer():
    rng = np.random.default_rng(9)
    px, pyx, d = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(2), size=5), rng.random((5, 4))
    local = semantic_rd(px, pyx, d, beta=10, lam=0.2)
    with ThreadPoolExecutor(2) as ex:
        pooled = semantic_rd(px, pyx, d, beta=10, lam=0.2, executor=ex)
    np.testing.assert_array_equal(local.encoder, pooled.encoder)
    assert local.message == pooled.message


def test_information_bottleneck_uses_the_strategy():
    pyx = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    res = information_bottleneck(np.full(4, 0.25), pyx, 2, beta_ib=20.0, init="uniform")
    one = information_bottleneck(np.full(4, 0.25), pyx, 2, beta_ib=20.0, init="uniform", restarts=0)
    assert one.relevance < 1e-9  # the uniform encoder is an IB fixed point ...
    assert res.relevance > 0.39 and res.start != "uniform"  # ... which the strategy leaves


def test_hard_local_search_finds_the_brute_force_optimum():
    """The kernel's F of a deterministic encoder, and its descent, against brute force."""
    import itertools

    rng = np.random.default_rng(3)
    n, k = 5, 3
    px, pyx, d = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(3), size=n), rng.random((n, k))
    beta, lam = 10.0, 0.2
    h_yx = -np.sum(px[:, None] * pyx * np.log(pyx))

    def f_direct(a):
        enc = np.eye(k)[a]
        return evaluate_encoder(px, pyx, d, enc, beta=beta, lam=lam, base=np.e).objective

    best = min(itertools.product(range(k), repeat=n), key=lambda a: f_direct(np.array(a)))
    for a in (np.array(best), np.zeros(n, dtype=np.int64)):
        f_kernel = hard_objective(px, pyx, d / lam, beta / lam, a.astype(np.int64), k)
        assert f_kernel - beta / lam * h_yx == pytest.approx(f_direct(a), abs=1e-12)
    found = []
    for s in range(4):
        a = np.random.default_rng(s).integers(0, k, n).astype(np.int64)
        hard_local_search(px, pyx, d / lam, beta / lam, a, 100)
        f_a = f_direct(a)
        # a local minimum for single moves and pair swaps (checked by direct evaluation)
        for x in range(n):
            for c in range(k):
                b = a.copy()
                b[x] = c
                assert f_direct(b) >= f_a - 1e-12
            for z in range(x + 1, n):
                b = a.copy()
                b[x], b[z] = a[z], a[x]
                assert f_direct(b) >= f_a - 1e-12
        found.append(f_a)
    assert min(found) == pytest.approx(f_direct(np.array(best)), abs=1e-12)
