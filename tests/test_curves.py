"""Tests of infotheory.curves: sweeps, certified band, targets, transitions, export.

Tolerances are stated per test; every reference is computed independently of
the curve code (closed forms, eigenvalues, direct solver calls).
"""

import math

import numpy as np
import pytest

from infotheory import semantic_rd
from infotheory.curves import (
    Curve,
    beta_family,
    ib_curve,
    locate_transition,
    lower_convex_envelope,
    semantic_rd_curve,
    solve_for_distortion,
    solve_for_rate,
)
from infotheory.sources import binary_source

LN2 = math.log(2.0)


def h2(t):
    return -t * np.log2(t) - (1 - t) * np.log2(1 - t)


def random_problem(n=6, k=5, m=3, seed=4):
    rng = np.random.default_rng(seed)
    p_x = rng.dirichlet(np.ones(n))
    p_y = rng.dirichlet(np.ones(m), size=n)
    d = rng.uniform(0, 1, size=(n, k))
    return p_x, p_y, d


@pytest.fixture(scope="module")
def binary_curves():
    src = binary_source(0.3)
    lams = np.geomspace(1.1, 0.08, 15)
    warm = semantic_rd_curve(*src, beta=0, lams=lams)
    cold = semantic_rd_curve(*src, beta=0, lams=lams, warm=False)
    up = semantic_rd_curve(*src, beta=0, lams=lams, direction="up")
    return src, warm, cold, up


def test_binary_curve_matches_closed_form(binary_curves):
    src, warm, _, _ = binary_curves
    # R(D) = h(p) - h(D), and the point sits where the slope is -1/λ nats:
    # D = 1/(1+e^{1/λ}) for D < min(p, 1-p)
    np.testing.assert_allclose(warm.rate, h2(0.3) - h2(warm.distortion_rd), rtol=0, atol=1e-8)
    np.testing.assert_allclose(warm.distortion_rd, 1 / (1 + np.exp(1 / warm.lam)), rtol=1e-8)


def test_warm_and_cold_agree_at_every_point_beta0(binary_curves):
    _, warm, cold, up = binary_curves
    np.testing.assert_array_equal(warm.lam, cold.lam)
    for other in (cold, up):
        np.testing.assert_allclose(warm.rate, other.rate, rtol=0, atol=1e-9)
        np.testing.assert_allclose(warm.distortion_rd, other.distortion_rd, rtol=0, atol=1e-9)
    assert warm.converged.all() and cold.converged.all()


def test_beta0_curve_monotone_convex_and_certified():
    p_x, p_y, d = random_problem()
    c = semantic_rd_curve(p_x, p_y, d, beta=0, n_points=14)
    warm_vs_cold = semantic_rd_curve(p_x, p_y, d, beta=0, lams=c.lam, warm=False)
    np.testing.assert_allclose(c.rate, warm_vs_cold.rate, rtol=0, atol=1e-8)
    np.testing.assert_allclose(c.distortion, warm_vs_cold.distortion, rtol=0, atol=1e-8)
    assert c.rate[0] < 1e-9  # the default range reaches R = 0 ...
    # ... and the top rate: at small λ the encoder maps x to its nearest x̂, rate H(f(X))
    f = np.argmin(d, axis=1)
    q = np.bincount(f, weights=p_x, minlength=d.shape[1])
    q = q[q > 0]
    h_f = float(-(q * np.log2(q)).sum())
    assert 0.95 * h_f <= c.rate[-1] <= h_f + 1e-9
    o = np.argsort(c.distortion)
    # keep points with R > 0 (beyond λ_max all points are (D_max, 0)) and distinct D
    pos = [i for i in o if c.rate[i] > 1e-9]
    pos = [
        i for j, i in enumerate(pos) if j == 0 or c.distortion[i] > c.distortion[pos[j - 1]] + 1e-9
    ]
    D, R, lam = c.distortion[pos], c.rate[pos], c.lam[pos]
    assert len(D) >= 8
    assert np.all(np.diff(D) > 0) and np.all(np.diff(lam) > 0)
    assert np.all(np.diff(R) <= 1e-12)  # rate non-increasing in distortion
    chords = np.diff(R) / np.diff(D)
    assert np.all(np.diff(chords) >= -1e-7)  # convex
    # tangent slopes bracket the chords: -1/(λ_i ln2) <= chord_i <= -1/(λ_{i+1} ln2) (bits)
    assert np.all(chords >= -1 / (lam[:-1] * LN2) - 1e-6)
    assert np.all(chords <= -1 / (lam[1:] * LN2) + 1e-6)
    # Blahut's certified band
    assert np.all(c.rate_lower_bound <= c.rate + 1e-12)
    assert np.all(c.rate - c.rate_lower_bound <= 1e-8)
    ex, ey = c.lower_convex_envelope()
    # every optimal β = 0 point lies on the convex envelope of the curve
    np.testing.assert_allclose(np.interp(c.distortion, ex, ey), c.rate, rtol=0, atol=1e-9)


def test_lower_convex_envelope_known_points():
    x = [0, 1, 2, 3, 4]
    y = [4, 1.5, 1.2, 0.2, 0]  # (2, 1.2) lies above the chord from (1, 1.5) to (3, 0.2)
    ex, ey = lower_convex_envelope(x, y)
    np.testing.assert_array_equal(ex, [0, 1, 3, 4])
    np.testing.assert_array_equal(ey, [4, 1.5, 0.2, 0])


def test_targets_hit_within_tolerance():
    src = binary_source(0.3)
    tr = solve_for_rate(*src, beta=0, rate=0.4, atol=1e-7)
    assert tr.achieved and abs(tr.result.rate - 0.4) <= 1e-7
    # independent: the closed form at the reached distortion
    assert abs(h2(0.3) - h2(tr.result.distortion_rd) - 0.4) <= 1e-7 + 1e-9
    td = solve_for_distortion(*src, beta=0, distortion=0.1, atol=1e-8)
    assert td.achieved and abs(td.result.distortion_rd - 0.1) <= 1e-8
    assert abs(td.result.rate - (h2(0.3) - h2(0.1))) <= 1e-6
    cold = solve_for_rate(*src, beta=0, rate=0.4, atol=1e-7, warm=False)
    assert abs(cold.lam - tr.lam) <= 1e-4 * tr.lam


def test_target_semantic_rate():
    p_x, p_y, d = random_problem(seed=7)
    tr = solve_for_rate(p_x, p_y, d, beta=0.5, rate=0.6, atol=1e-6)
    assert tr.achieved and abs(tr.value - 0.6) <= 1e-6
    again = semantic_rd(p_x, p_y, d, beta=0.5, lam=tr.lam, init=tr.result.encoder)
    assert abs(again.rate - 0.6) <= 1e-6


def test_unreachable_target_is_a_clear_error():
    src = binary_source(0.3)
    with pytest.raises(ValueError, match="not reachable"):
        solve_for_rate(*src, beta=0, rate=1.5)  # rate above H(X) = 0.881 bits


def test_ib_first_transition_binary_symmetric():
    # X ~ Bern(1/2), Y = X through BSC(ε): the trivial IB solution is optimal iff
    # β_IB <= 1/(1-2ε)^2 (strong data processing constant of the BSC)
    eps = 0.1
    p_x = np.array([0.5, 0.5])
    p_y = np.array([[1 - eps, eps], [eps, 1 - eps]])
    c = ib_curve(p_x, p_y, 2, beta_ibs=np.geomspace(1.0, 5.0, 8))
    assert len(c.transitions) == 1
    t = c.transitions[0]
    assert (t.n_before, t.n_after) == (1, 2)
    beta_c = 1 / (1 - 2 * eps) ** 2
    assert abs(1 / t.critical - beta_c) <= 2e-3 * beta_c
    assert 1 / t.upper <= beta_c * (1 + 1e-4) and 1 / t.lower >= beta_c * (1 - 1e-4)
    assert np.all(c.rate[c.lam > 1 / beta_c * 1.01] < 1e-8)  # trivial before the transition


def test_ib_transition_matches_eigenvalue_asymmetric():
    # the trivial solution loses stability at β_IB = 1/λ₂(M), M[x,x'] = Σ_y p(y|x) p(x'|y)
    p_x = np.array([0.5, 0.3, 0.2])
    p_y = np.array([[0.9, 0.1], [0.4, 0.6], [0.15, 0.85]])
    p_xy = p_x[:, None] * p_y
    p_x_given_y = p_xy / p_xy.sum(axis=0)
    M = p_y @ p_x_given_y.T
    lam2 = np.sort(np.linalg.eigvals(M).real)[-2]
    beta = 2.0  # semantic_rd's β; λ_c = β·λ₂
    t = locate_transition(
        p_x,
        p_y,
        np.zeros((3, 3)),
        beta=beta,
        lam_low_rate=beta * lam2 * 1.5,
        lam_high_rate=beta * lam2 / 1.5,
        rtol=1e-3,
    )
    assert abs(t.critical - beta * lam2) <= 2e-3 * beta * lam2


def test_both_directions_and_restarts_keep_lowest_objective():
    p_x, p_y, d = random_problem(n=5, k=4, m=3, seed=11)
    lams = np.geomspace(2.0, 0.05, 8)
    up = semantic_rd_curve(p_x, p_y, d, beta=1.0, lams=lams, direction="up")
    down = semantic_rd_curve(p_x, p_y, d, beta=1.0, lams=lams, direction="down")
    both = semantic_rd_curve(p_x, p_y, d, beta=1.0, lams=lams, direction="both", restarts=2)
    assert np.all(both.objective <= np.minimum(up.objective, down.objective) + 1e-10)
    assert np.all(both.branch_gap >= 0)
    assert both.total_iterations > up.total_iterations


def test_beta_family_fixed_lambda_and_fixed_rate():
    p_x, p_y, d = random_problem(seed=5)
    fam = beta_family(p_x, p_y, d, betas=[0, 0.3, 1, 3], lam=0.2)
    assert fam.parameter == "beta"
    ref = semantic_rd(p_x, p_y, d, beta=0, lam=0.2)
    assert (
        abs(fam.rate[0] - ref.rate) <= 1e-8
        and abs(fam.distortion_rd[0] - ref.distortion_rd) <= 1e-8
    )
    fr = beta_family(p_x, p_y, d, betas=[0, 0.5, 2, 8], rate=0.8, rate_atol=1e-6)
    np.testing.assert_allclose(fr.rate, 0.8, atol=1e-6, rtol=0)
    # at equal rate, weighting D_IB more never lowers the relevance on the kept branch
    # nor the reconstruction distortion (a trade-off along β)
    assert np.all(np.diff(fr.relevance) >= -1e-7)
    assert np.all(np.diff(fr.distortion_rd) >= -1e-7)


def test_beta_family_validation():
    p_x, p_y, d = random_problem()
    with pytest.raises(ValueError, match="perturbation must lie in"):
        beta_family(p_x, p_y, d, betas=[0, 1], lam=0.2, perturbation=1.5)
    with pytest.raises(ValueError, match="exactly one of lam"):
        beta_family(p_x, p_y, d, betas=[0, 1])
    with pytest.raises(ValueError, match="betas contains duplicates"):
        beta_family(p_x, p_y, d, betas=[1, 1], lam=0.2)


def test_csv_and_json_round_trip(tmp_path):
    p_x, p_y, d = random_problem()
    c = semantic_rd_curve(p_x, p_y, d, beta=0.5, n_points=5, restarts=1)
    c2 = semantic_rd_curve(*binary_source(0.3), beta=0, n_points=6, locate_transitions=True)
    for curve in (c, c2):
        curve.to_csv(tmp_path / "c.csv")
        curve.to_json(tmp_path / "c.json")
        for back in (Curve.from_csv(tmp_path / "c.csv"), Curve.from_json(tmp_path / "c.json")):
            for col in (
                "lam",
                "beta",
                "rate",
                "distortion_rd",
                "distortion_ib",
                "distortion",
                "relevance",
                "objective",
                "rate_lower_bound",
                "branch_gap",
            ):
                np.testing.assert_array_equal(getattr(back, col), getattr(curve, col), err_msg=col)
            for col in ("iterations", "converged", "n_effective"):
                np.testing.assert_array_equal(getattr(back, col), getattr(curve, col))
            assert back.transitions == curve.transitions
            assert back.base == curve.base and back.parameter == curve.parameter
            assert back.meta == curve.meta and back.total_iterations == curve.total_iterations


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(beta=-1.0), "beta"),
        (dict(beta=0, lams=[0.5, -1.0]), "lams"),
        (dict(beta=0, direction="sideways"), "direction"),
        (dict(beta=0, lam_range=(2.0, 1.0)), "lam_range"),
        (dict(beta=0, perturbation=1.5), "perturbation"),
        (dict(beta=0, n_points=1), "n_points"),
    ],
)
def test_curve_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        semantic_rd_curve(*binary_source(0.3), **kwargs)


def test_curve_rejects_bad_arrays():
    with pytest.raises(ValueError, match="p_x"):
        semantic_rd_curve([0.5, 0.6], np.eye(2), 1 - np.eye(2), beta=0)
    with pytest.raises(ValueError, match="d_rd must have 2 rows"):
        semantic_rd_curve([0.5, 0.5], np.eye(2), np.ones((3, 2)), beta=0)


def test_gaussian_warm_curve_certified_at_every_point():
    """Issue 10: the default (warm) β = 0 curve on the 201-point Gaussian certifies every
    point (it used to leave points at max_iter: the warm chain dropped tail symbols of
    mass < 1e-6 that the Gaussian's optimum uses)."""
    from infotheory.sources import gaussian_source

    s = gaussian_source()
    c = semantic_rd_curve(s.p_x, s.p_y_given_x, s.d_rd, beta=0, n_points=12)
    assert c.converged.all()
    gap = c.rate - c.rate_lower_bound  # Blahut's certificate, bits
    assert np.all(gap <= 1e-10) and np.all(gap >= -1e-12)
    assert np.all(np.diff(c.rate) > 0)  # λ decreasing: rate increasing


def test_unconverged_points_warn_with_their_lambdas():
    from infotheory import ConvergenceWarning

    p_x, p_y, d = binary_source(0.3, label_error=0.1)
    with pytest.warns(ConvergenceWarning, match=r"did not converge .* at lam = \[0\.5"):
        c = semantic_rd_curve(p_x, p_y, d, beta=0.5, lams=[0.5, 0.2], max_iter=2)
    assert not c.converged.any()


def test_solver_options_defaults_are_those_of_semantic_rd():
    """Issue 15: one set of defaults; every curve entry point takes ``accelerate``."""
    import inspect

    from infotheory import curves
    from infotheory.options import SolverOptions

    want = SolverOptions()
    for fn in (
        curves.semantic_rd_curve,
        curves.ib_curve,
        curves.beta_family,
        curves.curve_family,
        curves.locate_transition,
        curves.solve_for_rate,
        curves.solve_for_distortion,
    ):
        params = inspect.signature(fn).parameters
        for name in ("tol", "max_iter", "base", "accelerate"):
            assert params[name].default == getattr(want, name), (fn.__name__, name)
        assert "executor" in params or fn in (
            curves.locate_transition,
            curves.solve_for_rate,
            curves.solve_for_distortion,
        ), fn.__name__


def test_transition_iterations_are_fields_and_counted():
    c = semantic_rd_curve(*binary_source(0.3), beta=0, n_points=6, locate_transitions=True)
    assert c.transitions and all(t.iterations > 0 and t.probes > 0 for t in c.transitions)
    assert not any(k.startswith("_") for k in c.meta)
    # one warm chain, every point converged from its warm start: nothing else was spent
    assert c.converged.all()
    assert c.total_iterations == c.iterations.sum() + sum(t.iterations for t in c.transitions)
    d = c.to_dict()
    del d["transitions"][0]["iterations"]  # a file written before the field existed
    assert Curve.from_dict(d).transitions[0].iterations == 0


def test_chains_only_where_the_sweep_may_be_cut():
    src = binary_source(0.3, label_error=0.1)
    with pytest.raises(ValueError, match="chains > 1 needs a warm sweep at beta = 0"):
        semantic_rd_curve(*src, beta=0.5, n_points=4, chains=2)
    with pytest.raises(ValueError, match="chains"):
        semantic_rd_curve(*src, beta=0, n_points=4, chains=0)


def test_plotting_does_not_import_curves_at_run_time():
    """No import loop: ``Curve.plot`` imports plotting lazily, plotting imports curves
    only for type checking."""
    import ast
    from pathlib import Path

    import infotheory.plotting

    tree = ast.parse(Path(infotheory.plotting.__file__).read_text(encoding="utf-8"))
    runtime = [
        n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module is not None
    ]
    assert runtime and not any("curves" in m for m in runtime)
