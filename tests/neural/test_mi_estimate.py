"""``estimate_mi``: API, units, dispatch, reproducibility, seed bands and bad inputs."""

import math
import warnings

import numpy as np
import pytest
import torch

import neural
from neural.mi import MIBand, estimate_mi, estimate_mi_seeds, plot_mi_band
from neural.mi.testing import sample_discrete_pair, sample_gaussian_pair

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def gauss():
    x, y = sample_gaussian_pair(3000, 2, 1.0, generator=torch.Generator().manual_seed(0))
    return x, y


def test_exported_from_neural():
    assert neural.estimate_mi is estimate_mi


def test_result_fields_units_and_reproducibility(gauss):
    x, y = gauss
    r = estimate_mi(x, y, method="infonce", steps=400, batch_size=64, seed=3, lr=1e-3)
    assert r.kind == "lower bound" and r.units == "nats" and r.method == "infonce"
    assert r.n_test == 600 and r.n_train == 2400 and r.trace.shape == (400,)
    assert abs(r.estimate - 1.0) < 0.2 and 0 < r.stderr < 0.1
    # numpy input, bits on request: the same number divided by ln 2
    rb = estimate_mi(
        x.numpy(),
        y.numpy(),
        method="infonce",
        steps=400,
        batch_size=64,
        seed=3,
        lr=1e-3,
        units="bits",
    )
    assert rb.estimate == pytest.approx(r.estimate / math.log(2), rel=1e-6)
    assert rb.units == "bits"
    assert r.to("bits").estimate == pytest.approx(rb.estimate, rel=1e-6)


@pytest.mark.parametrize(
    "method,kind",
    [
        ("club", "upper bound"),
        ("club-sample", "upper bound"),
        ("mine", "lower bound"),
        ("nwj", "lower bound"),
        ("smile", "point estimate"),
    ],
)
def test_every_method_runs_and_says_what_it_is(gauss, method, kind):
    x, y = gauss
    r = estimate_mi(x, y, method=method, steps=200, batch_size=64, seed=0)
    assert r.kind == kind and math.isfinite(r.estimate) and math.isfinite(r.stderr)


def test_auto_dispatch_and_discrete_warning():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(64)).reshape(8, 8)
    x, y = sample_discrete_pair(p, 4000, seed=0)
    assert estimate_mi(x, y).method == "plugin"
    with pytest.warns(UserWarning, match="plug-in"):
        r = estimate_mi(x, y, method="club-categorical", steps=50, seed=0)
    assert r.kind == "upper bound"
    xc = np.eye(8, dtype=np.float32)[x] + 0.01 * rng.standard_normal((4000, 8)).astype(np.float32)
    from neural.mi import AUTO_CONTINUOUS

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # one discrete side: the classifier bound H(Y) - CE (issue 11); none: the measured choice
        assert estimate_mi(xc, y, steps=20).method == "classifier"
        assert estimate_mi(xc, xc, steps=20).method == AUTO_CONTINUOUS
    assert not any("plug-in" in str(w.message) for w in caught)


def test_neural_on_one_hot_discrete_joint_vs_exact():
    import infotheory

    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(64)).reshape(8, 8)
    exact = infotheory.mutual_information(p, base=math.e)  # 0.37 nats
    x, y = sample_discrete_pair(p, 8000, seed=1)
    with pytest.warns(UserWarning):
        r = estimate_mi(x, y, method="infonce", steps=600, batch_size=64, seed=0, lr=1e-3)
    assert r.estimate < exact + 3 * r.stderr
    assert r.estimate > exact - 0.1
    assert estimate_mi(x, y, method="plugin").ci[0] <= exact


def test_neural_bounds_sandwich_semantic_rd_relevance():
    # I(X^;Y) of a semantic_rd solution (exact, infotheory): categorical CLUB above, MINE below
    from neural.mi.testing import semantic_rd_joints

    _, p_xhat_y, _, relevance_bits = semantic_rd_joints()
    exact = relevance_bits * math.log(2)
    xh, y = sample_discrete_pair(p_xhat_y, 6000, seed=2)
    xh_onehot = np.eye(p_xhat_y.shape[0], dtype=np.float32)[xh]  # one-hot input: no warning
    up = estimate_mi(xh_onehot, y, method="club-categorical", steps=400, seed=0, lr=3e-3)
    low = estimate_mi(
        xh_onehot, np.eye(3, dtype=np.float32)[y], method="mine", steps=400, seed=0, lr=1e-3
    )
    assert up.kind == "upper bound" and low.kind == "lower bound"
    assert low.estimate - 3 * low.stderr <= exact <= up.estimate + 3 * up.stderr
    assert abs(low.estimate - exact) < 0.1, (low, exact)  # MINE: within 0.1 nats of 0.58
    # CLUB with exact q is 2.45 nats here (tiny p(y|x^) make the negative term large);
    # after 400 steps their log q have not descended yet (measured -9% to -6% at lr 3e-3,
    # seeds 0-2; 2 of the 18 cells never occur, so longer training keeps raising the
    # value: docs/mi-estimators.md): within -15% / +3% of that value
    assert np.all(p_xhat_y > 0)  # else the exact-q CLUB value is +inf
    px, py = p_xhat_y.sum(1), p_xhat_y.sum(0)
    logq = np.log(p_xhat_y / px[:, None])
    club_q = float(np.sum(p_xhat_y * logq) - px @ logq @ py)
    assert 0.85 * club_q <= up.estimate <= 1.03 * club_q, (up, club_q)


def test_seed_band_and_plot(gauss):
    import matplotlib

    matplotlib.use("Agg")
    x, y = gauss
    band = estimate_mi_seeds(x, y, method="infonce", seeds=(0, 1, 2), steps=150, batch_size=64)
    assert isinstance(band, MIBand) and band.estimates.shape == (3,)
    assert band.min <= band.mean <= band.max and band.min < band.max and band.sd > 0
    ax = plot_mi_band([0.1, 0.2], [band, band], label="TOSC-SR")
    assert len(ax.collections) == 1 and len(ax.lines) == 1


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"method": "kraskov"}, "method must be one of"),
        ({"units": "hartley"}, "units"),
        ({"steps": 0}, "steps"),
        ({"batch_size": 1}, "batch_size"),
        ({"batch_size": 5000}, "too few"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"lr": -1.0}, "lr"),
        ({"device": "gpu0"}, "device"),
    ],
)
def test_bad_options(gauss, kwargs, match):
    x, y = gauss
    with pytest.raises(ValueError, match=match):
        estimate_mi(x, y, **{"method": "club", **kwargs})


def test_bad_data():
    x = np.random.default_rng(0).standard_normal((100, 2))
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        estimate_mi(bad, x, method="club")
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="y: contains NaN or inf"):
        estimate_mi(x, bad, method="mine")
    with pytest.raises(ValueError, match="same number of samples"):
        estimate_mi(x, x[:99], method="club")
    with pytest.raises(ValueError, match="shape"):
        estimate_mi(x[:, :, None], x, method="club")
    with pytest.raises(ValueError, match="non-integer"):
        estimate_mi(x[:, 0], x[:, 1], method="plugin")
    with pytest.raises(ValueError, match="club-categorical"):
        estimate_mi(x, x[:, 0], method="club-categorical")


def test_make_estimator_options_are_checked():
    """Class options reach the estimator (also through a subclass's **kwargs); an unknown
    name is an error that names it."""
    import pytest

    from neural.mi import make_estimator

    assert make_estimator("mine", 3, 3, options={"average": 0.0}).average == 0.0
    assert make_estimator("club-categorical", 3, 4, options={"average": 0.1}).average == 0.1
    with pytest.raises(ValueError, match=r"options: MINE does not take \['averag'\]"):
        make_estimator("mine", 3, 3, options={"averag": 0.0})
