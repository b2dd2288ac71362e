"""neural.bridge.gradient: Adam on the exact Lagrangian F against the solver and closed forms."""

import math

import numpy as np
import pytest
import torch

from infotheory import evaluate_encoder, semantic_rd
from infotheory.sources import binary_source, gaussian_source
from neural.bridge import gradient as gr
from neural.bridge.gradient import (
    ExactLagrangian,
    gradient_vs_ba,
    plot_gradient,
    train_encoder,
    train_encoders,
)


def _random_problem(seed, n=7, m=3, k=5):
    rng = np.random.default_rng(seed)
    p_x = rng.dirichlet(np.ones(n))
    p_y = rng.dirichlet(np.ones(m), size=n)
    d = rng.uniform(0, 2, size=(n, k))
    enc = rng.dirichlet(np.ones(k), size=n)
    return p_x, p_y, d, enc


@pytest.mark.parametrize("seed", range(4))
def test_torch_lagrangian_equals_the_solvers_evaluation(seed):
    """Every term of the torch F against infotheory.evaluate_encoder (independent NumPy)."""
    p_x, p_y, d, enc = _random_problem(seed)
    betas, lams = [0.0, 0.7, 3.0], [0.5, 1.3, 0.2]
    lag = ExactLagrangian(p_x, p_y, d, beta=betas, lam=lams)
    log_enc = torch.from_numpy(np.log(np.stack([enc] * 3)))
    t = {k: v.numpy() for k, v in lag.terms(log_enc).items()}
    for b, (beta, lam) in enumerate(zip(betas, lams)):
        ev = evaluate_encoder(p_x, p_y, d, enc, beta=beta, lam=lam)
        ln2 = math.log(2)
        assert t["objective"][b] / ln2 == pytest.approx(ev.objective, abs=1e-12)
        assert t["rate"][b] / ln2 == pytest.approx(ev.rate, abs=1e-12)
        assert t["distortion_rd"][b] == pytest.approx(ev.distortion_rd, abs=1e-12)
        assert t["distortion_ib"][b] / ln2 == pytest.approx(ev.distortion_ib, abs=1e-12)
        assert t["relevance"][b] / ln2 == pytest.approx(ev.relevance, abs=1e-12)


def test_gradient_of_f_is_the_analytic_one():
    """dF/dp(x̂|x) = p(x) [log p(x̂|x)/p(x̂) + d_RD/λ − β/λ Σ_y p(y|x) log p(y|x̂)] (nats), the
    derivative behind eq. (12) (its zero on the simplex is Theorem 2), against autograd."""
    p_x, p_y, d, enc = _random_problem(11)
    beta, lam = 0.8, 0.6
    lag = ExactLagrangian(p_x, p_y, d, beta=beta, lam=lam)
    e = torch.from_numpy(enc[None].copy()).requires_grad_(True)
    lag(torch.log(e)).backward()
    q = p_x @ enc
    p_y_xhat = (enc * p_x[:, None]).T @ p_y / q[:, None]
    ce = -p_y @ np.log(p_y_xhat).T  # (n, k)
    analytic = p_x[:, None] * (np.log(enc / q) + d / lam + beta / lam * ce)
    np.testing.assert_allclose(e.grad[0].numpy(), analytic, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("encoder", ["table", "net"])
def test_binary_source_reaches_the_closed_form(encoder):
    """Acceptance (issue 13): gradient training on the binary source with Hamming distortion
    reaches R(D) = h(p) − h(D) to 1e-4 bits (and the solver's F* to 1e-6 bits)."""
    src = binary_source(0.3)
    lams = (1 / math.log(9), 0.3)  # D ≈ 0.1 and a lower distortion
    trained = train_encoders(
        *src,
        beta=[0.0, 0.0],
        lam=list(lams),
        encoder=encoder,
        features=src.x_points if encoder == "net" else None,
        steps=600,
    )
    for lam, g in zip(lams, trained):
        closed = float(src.closed_form(g.distortion_rd))
        assert 0 < g.distortion_rd < 0.3
        assert abs(g.rate - closed) <= 1e-4
        r = semantic_rd(*src, beta=0.0, lam=lam)
        assert abs(g.objective - r.objective) <= 1e-6
        assert g.evaluation.objective == pytest.approx(g.objective, abs=1e-12)


def test_batched_training_equals_separate_runs():
    src = gaussian_source(1.0, n_points=9)
    betas, lams = [0.0, 0.5], [0.5, 0.3]
    both = train_encoders(*src, beta=betas, lam=lams, steps=60)
    for b, lam, g in zip(betas, lams, both):
        one = train_encoder(*src, beta=b, lam=lam, steps=60)
        np.testing.assert_allclose(one.encoder, g.encoder, rtol=0, atol=1e-12)
        np.testing.assert_allclose(one.trace_objective, g.trace_objective, rtol=0, atol=1e-12)


def test_gaussian_table_and_net_approach_the_solver():
    src = gaussian_source(1.0, n_points=15, width=4.0)
    r = semantic_rd(*src, beta=0.0, lam=0.5)
    for enc, tol in (("table", 3e-3), ("net", 4e-2)):  # the network converges slower
        g = train_encoder(
            *src,
            beta=0.0,
            lam=0.5,
            encoder=enc,
            features=src.x_points if enc == "net" else None,
            steps=500,
        )
        assert -1e-9 <= g.objective - r.objective <= tol  # β = 0: F* is certified optimal
        assert g.trace_objective[-1] == pytest.approx(g.objective, abs=1e-12)
        assert g.trace_objective[0] > g.objective


def test_invalid_inputs_are_refused():
    src = binary_source(0.3)
    with pytest.raises(ValueError, match="encoder"):
        train_encoder(*src, beta=0, lam=1, encoder="mlp")
    with pytest.raises(ValueError, match="features"):
        train_encoder(*src, beta=0, lam=1, encoder="net")
    with pytest.raises(ValueError, match="features"):
        train_encoder(*src, beta=0, lam=1, encoder="table", features=src.x_points)
    with pytest.raises(ValueError, match="lam"):
        train_encoder(*src, beta=0, lam=0.0)
    with pytest.raises(ValueError, match="beta"):
        train_encoder(*src, beta=-1, lam=1.0)
    with pytest.raises(ValueError, match="equal length"):
        train_encoders(*src, beta=[0, 1], lam=[1.0])
    with pytest.raises(ValueError, match="steps"):
        train_encoder(*src, beta=0, lam=1, steps=0)
    with pytest.raises(ValueError, match="d_rd"):
        train_encoder(src.p_x, src.p_y_given_x, -src.d_rd, beta=0, lam=1)
    with pytest.raises(ValueError, match="preset"):
        gradient_vs_ba(preset="huge", seed=0, progress=False)


def test_gradient_vs_ba_rows_and_figure(monkeypatch, tmp_path):
    tiny = {
        "binary_lams": (0.455,),
        "binary_betas": (0.0, 1.0),
        "gaussian_points": 9,
        "gaussian_lams": (0.5,),
        "gaussian_betas": (0.0,),
        "digits_codebook": 4,
        "digits_split": "test",
        "digits_lams": (0.02,),
        "digits_betas": (0.0,),
        "steps": {"binary": 100, "gaussian": 60, "digits": 60},
    }
    monkeypatch.setitem(gr.GRADIENT_PRESETS, "tiny", tiny)
    rows = gradient_vs_ba(preset="tiny", seed=0, progress=False)
    final = [r for r in rows if r["part"] == "gradient"]
    assert len(final) == 2 * (2 + 1 + 1)
    src = binary_source(0.3, label_error=0.1)
    for r in final:
        assert r["gap_F"] == r["F"] - r["F_star"]
        assert r["F_polished"] <= r["F"] + 1e-12  # eq. (17) never increases F
        assert r["status"] in (
            "reached",
            "below solver",
            "not converged",
            "worse stationary point",
            "stalled",
        )
        assert (r["status"] == "reached") == (abs(r["gap_F"]) <= r["tol"])
        if r["source"] == "binary":
            s = semantic_rd(*src, beta=r["beta"], lam=r["lam"], seed=0)
            assert r["F_star"] == s.objective and r["rate_star"] == s.rate
            assert (r["gap_closed_form"] is None) == (r["beta"] > 0)
    trace = [r for r in rows if r["part"] == "gradient_trace"]
    assert {r["step"] for r in trace} >= {0, 60, 100}
    path = tmp_path / "gradient.png"
    plot_gradient(rows, path)
    assert path.stat().st_size > 10_000


def test_status_classification():
    tol = gr.TOL_BITS
    # (gap, F drop over the second half, gap after eq. (17) from the trained encoder)
    assert gr._status(0.5 * tol, 0.0, 0.0) == "reached"
    assert gr._status(-2 * tol, 0.0, 0.0) == "below solver"
    assert gr._status(1.0, 0.2, 0.5) == "not converged"  # fell by 20% of the gap
    assert gr._status(1.0, 0.01, 0.5) == "worse stationary point"
    assert gr._status(1.0, 0.01, 0.1 * tol) == "stalled"
