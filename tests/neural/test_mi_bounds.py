"""MINE (eq. 39), NWJ, InfoNCE, SMILE and CLUB on easy Gaussian cases with known I."""

import math

import numpy as np
import pytest
import torch

from neural.mi import CLUBSample, GaussianCLUB, InfoNCE, MINE, NWJ, SMILE, fit
from neural.mi.base import logmeanexp_offdiag
from neural.mi.testing import club_exact_q, gaussian_staircase_batches, sample_gaussian_pair

torch.set_num_threads(1)

D, MI = 2, 1.0  # the easy case: d = 2, I = 1 nat
STEPS = 1500
LOWER = {"mine": MINE, "nwj": NWJ, "infonce": InfoNCE, "smile": SMILE}


def _train(cls, mi: float, *, cubic: bool = False, seed: int = 0, steps: int = STEPS):
    torch.manual_seed(seed)
    est = cls(D, D)
    fit(est, gaussian_staircase_batches(D, mi, 64, cubic=cubic, seed=seed), steps, lr=1e-3)
    return est


def _heldout(est, mi: float, *, cubic: bool = False, n_batches: int = 60) -> tuple[float, float]:
    gen = torch.Generator().manual_seed(12345)
    vals = [
        float(est.estimate(*sample_gaussian_pair(64, D, mi, cubic=cubic, generator=gen)))
        for _ in range(n_batches)
    ]
    return float(np.mean(vals)), float(np.std(vals) / math.sqrt(n_batches))


@pytest.fixture(scope="module")
def trained():
    return {name: _train(cls, MI) for name, cls in LOWER.items()}


def test_logmeanexp_offdiag_matches_numpy():
    rng = np.random.default_rng(0)
    s = rng.normal(scale=30.0, size=(7, 7))  # large scores: needs logsumexp
    off = ~np.eye(7, dtype=bool)
    m = s[off].max()
    ref = m + np.log(np.mean(np.exp(s[off] - m)))
    assert float(logmeanexp_offdiag(torch.from_numpy(s))) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("name", sorted(LOWER))
def test_lower_bound_close_to_truth_and_below(trained, name):
    mean, se = _heldout(trained[name], MI)
    # stated tolerance: within 0.15 nats of I = 1 on the easy case, and not above
    # the truth by more than 3 standard errors of the held-out mean
    assert abs(mean - MI) < 0.15, (name, mean)
    assert mean < MI + 3 * se, (name, mean, se)


def test_infonce_never_exceeds_log_n():
    # at I = 8 nats the InfoNCE bound saturates at log N; it can never pass it
    torch.manual_seed(0)
    est = InfoNCE(D, D)
    fit(est, gaussian_staircase_batches(D, 8.0, 64, seed=0), 300, lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    for n in (8, 64):
        vals = [float(est.estimate(*sample_gaussian_pair(n, D, 8.0, generator=gen))) for _ in range(20)]
        assert max(vals) <= math.log(n) + 1e-5
        assert np.mean(vals) > math.log(n) - 0.5  # saturated, not trivially small


@pytest.mark.parametrize("cls", [GaussianCLUB, CLUBSample])
def test_club_above_truth(cls):
    est = _train(cls, MI)
    mean, se = _heldout(est, MI)
    assert mean > MI + 3 * se
    assert mean == pytest.approx(club_exact_q(MI, D), rel=0.06)  # its own bound, 3.44


@pytest.mark.parametrize("name", ["mine", "infonce", "club"])
def test_independence_gives_zero(name):
    cls = {"mine": MINE, "infonce": InfoNCE, "club": GaussianCLUB}[name]
    est = _train(cls, 0.0, steps=600)
    mean, _ = _heldout(est, 0.0)
    assert abs(mean) < 0.05, (name, mean)


def _affine(y: torch.Tensor) -> torch.Tensor:
    a = torch.tensor([[2.0, 1.0], [-0.5, 1.5]])  # invertible (det 3.5)
    return y @ a.T + torch.tensor([3.0, -1.0])


@pytest.mark.parametrize("name", ["mine", "nwj"])
def test_invariance_under_invertible_affine_map(trained, name):
    # y -> A y + b leaves I unchanged; so must the trained estimate (within 0.15 nats)
    torch.manual_seed(1)
    est = LOWER[name](D, D)
    batches = ((x, _affine(y)) for x, y in gaussian_staircase_batches(D, MI, 64, seed=1))
    fit(est, batches, STEPS, lr=1e-3)
    gen = torch.Generator().manual_seed(12345)
    vals = []
    for _ in range(60):
        x, y = sample_gaussian_pair(64, D, MI, generator=gen)
        vals.append(float(est.estimate(x, _affine(y))))
    a, _ = _heldout(trained[name], MI)
    assert abs(a - np.mean(vals)) < 0.15, (name, a, np.mean(vals))


def test_infonce_invariant_under_cubic_map(trained):
    # y -> y**3 (the staircase's non-linear invertible map); InfoNCE is robust to its tails
    est = _train(InfoNCE, MI, cubic=True, seed=1)
    a, _ = _heldout(trained["infonce"], MI)
    b, _ = _heldout(est, MI, cubic=True)
    assert abs(a - b) < 0.15, (a, b)


def test_estimate_is_pure_and_loss_updates_only_mine_state():
    torch.manual_seed(0)
    est = MINE(D, D)
    x, y = sample_gaussian_pair(64, D, MI, generator=torch.Generator().manual_seed(0))
    before = est.log_ma.clone()
    e1, e2 = est.estimate(x, y), est.estimate(x, y)
    assert torch.equal(e1, e2) and torch.isnan(before) and torch.isnan(est.log_ma)
    est.loss(x, y)
    assert torch.isfinite(est.log_ma)


@pytest.mark.parametrize("cls", [MINE, NWJ, InfoNCE, SMILE, GaussianCLUB])
def test_batch_validation(cls):
    est = cls(D, D)
    x = torch.zeros(8, D)
    with pytest.raises(ValueError, match="same number of samples"):
        est.loss(x, torch.zeros(7, D))
    with pytest.raises(ValueError, match=r"shape \(N, d_x\)"):
        est.estimate(torch.zeros(8), torch.zeros(8, D))
    with pytest.raises(ValueError, match="N >= 2"):
        est.estimate(torch.zeros(1, D), torch.zeros(1, D))


@pytest.mark.slow
def test_staircase_cell_mine_d5():
    # one cell of the benchmark protocol: d = 5, I = 2 then 4 nats, 4,000 steps each,
    # default learning rate; the last 1,000 steps of each level within 0.15 nats
    from neural.mi import make_estimator
    from neural.mi.testing import rho_from_mi

    est = make_estimator("mine", 5, 5, seed=0)
    for k, mi in enumerate((2.0, 4.0)):
        batches = gaussian_staircase_batches(5, mi, 64, seed=k)
        trace = fit(est, batches, 4000, lr=est.default_lr)
        assert abs(trace[-1000:].mean() - mi) < 0.15, (mi, trace[-1000:].mean())
    assert rho_from_mi(4.0, 5) > 0.8


@pytest.mark.slow
def test_staircase_cell_club_d5_reaches_exact_q():
    from neural.mi import make_estimator

    est = make_estimator("club", 5, 5, seed=0)
    trace = fit(est, gaussian_staircase_batches(5, 4.0, 64, seed=0), 4000, lr=est.default_lr)
    assert trace[-1000:].mean() == pytest.approx(club_exact_q(4.0, 5), rel=0.05)
