"""ONE conformance test of the iteration core's backends (issue 15): every backend of
:class:`infotheory.core.Backend` (the single-problem NumPy/Numba one, the batched Numba
one, the torch one) and the core's own NumPy step :func:`infotheory.core.eq17_step`
against an independent eq. (17) written here with ``d_S = d_RD + β·KL`` (eqs. 1, 12–15),
and the core's stopping rules driven over each backend against brute-force Blahut bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from infotheory import core
from infotheory.backend_batch import BatchBackend
from infotheory.backend_numpy import NumpyBackend
from infotheory.problem import Problem


def _torch_single(point, enc):
    pytest.importorskip("torch")
    from infotheory._torch_backend import TorchSingle

    return TorchSingle(point, enc)


BACKENDS = {"numpy": NumpyBackend, "batch": BatchBackend, "torch": _torch_single}


def reference_step(px, pyx, d, beta, lam, q, r):
    """Eq. (17) from ``(q, r)`` as the paper writes it: ``p(x̂|x) ∝ q(x̂) e^{-d_S/λ}`` with
    ``d_S = d_RD + β·KL(p(y|x) || r(y|x̂))``; rows with every ``d_S`` infinite use
    ``d_RD`` alone; entries below ``e^{LOGIT_FLOOR}`` of the row maximum are 0. Returns
    ``(encoder, q_new, r_new, c)`` with Blahut's ``c(x̂) = Σ_x p(x) e^{-d_RD/λ}/μ(x)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        log_ratio = np.log(pyx[:, None, :]) - np.log(r[None, :, :])
        kl = np.where(pyx[:, None, :] > 0, pyx[:, None, :] * log_ratio, 0.0).sum(axis=2)
    d_s = d + beta * kl if beta > 0 else d.astype(float)
    logits = log_q[None, :] - d_s / lam
    dead_row = ~np.isfinite(logits.max(axis=1))
    logits[dead_row] = log_q[None, :] - d[dead_row] / lam
    logits = logits - logits.max(axis=1, keepdims=True)
    logits[logits < core.LOGIT_FLOOR] = -np.inf
    enc = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    q_new = px @ enc
    num = (px[:, None] * pyx).T @ enc
    r_new = r.copy()
    r_new[q_new > 0] = (num[:, q_new > 0] / q_new[q_new > 0]).T
    log_mu = logsumexp(log_q[None, :] - d / lam, axis=1)  # β = 0 only
    c = np.exp(logsumexp(np.log(px)[:, None] - d / lam - log_mu[:, None], axis=0))
    return enc, q_new, r_new, c


CASES = {
    # name: (beta, lam, which symbols start out of use, scale of d beyond the floor, |Y|)
    "rd": (0.0, 0.3, [1], 1.0, 3),
    "rd-floor": (0.0, 0.01, [], 20.0, 3),
    "semantic": (0.7, 0.4, [2], 1.0, 3),
    "ib": (5.0, 1.0, [], 0.0, 3),
    # more labels than kernels.FUSED_LABELS_MAX: the label sum by one GEMM first
    "semantic-many-labels": (0.7, 0.4, [2], 1.0, 31),
}


def _case(name, n=9, k=6):
    beta, lam, dead, scale, m = CASES[name]
    rng = np.random.default_rng(len(name))
    px = rng.dirichlet(np.ones(n))
    pyx = rng.dirichlet(np.ones(m), size=n)
    d = scale * rng.random((n, k)) * rng.choice([1.0, 3.0], size=(n, k))
    enc = rng.dirichlet(np.ones(k), size=n)
    enc[:, dead] = 0.0
    enc /= enc.sum(axis=1, keepdims=True)
    return Problem.from_arrays(px, pyx, d).at(beta=beta, lam=lam), enc


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_backend_step_and_certificate_conform(backend, case):
    """Three steps: encoder (1e-13 relative, exact zeros where the reference has them),
    q_{k+1}, the residual, and for β = 0 Blahut's log c of the symbols out of use."""
    point, enc = _case(case)
    pb = point.problem
    be = BACKENDS[backend](point, enc.copy())
    q = pb.p_x @ enc
    r = core.marginals(pb.joint_xy, enc, np.full((pb.k, pb.m), 1.0 / pb.m))[1]
    old = enc
    for _ in range(3):
        ref, q_ref, r_ref, c_ref = reference_step(
            pb.p_x, pb.p_y_given_x, pb.d_rd, point.beta, point.lam, q, r
        )
        resid = be.step()
        np.testing.assert_allclose(be.encoder, ref, rtol=1e-12, atol=1e-300)
        np.testing.assert_array_equal(be.encoder == 0, ref == 0)
        np.testing.assert_allclose(be.q_new, q_ref, rtol=1e-12, atol=1e-300)
        assert resid == pytest.approx(np.abs(ref - old).max(), rel=1e-10, abs=1e-15)
        if point.beta == 0:
            log_c = np.full(pb.k, np.nan)
            be.certify(log_c)
            dead = q <= 0
            np.testing.assert_allclose(log_c[dead], np.log(c_ref[dead]), rtol=1e-12, atol=1e-13)
        q, r, old = q_ref, r_ref, ref
    if case == "rd-floor":
        assert (be.encoder == 0).sum() > 0  # the floor was exercised


@pytest.mark.parametrize("case", sorted(CASES))
def test_core_numpy_step_conforms(case):
    """The core's own eq. (17) step (used by the accelerated phases)."""
    point, enc = _case(case)
    pb = point.problem
    q = pb.p_x @ enc
    r = core.marginals(pb.joint_xy, enc, np.full((pb.k, pb.m), 1.0 / pb.m))[1]
    with np.errstate(divide="ignore"):
        log_q = np.log(q)
    _, got, q_new, _ = core.eq17_step(
        log_q, r, pb.p_x, pb.p_y_given_x, pb.joint_xy, -point.dl, point.coef
    )
    ref, q_ref, _, _ = reference_step(pb.p_x, pb.p_y_given_x, pb.d_rd, point.beta, point.lam, q, r)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(got == 0, ref == 0)
    np.testing.assert_allclose(q_new, q_ref, rtol=1e-12)


def _objective_and_bound(point, enc):
    """F (nats) of ``enc`` and Blahut's lower bound on F* from its marginal (brute force)."""
    pb = point.problem
    px, d, lam = pb.p_x, pb.d_rd, point.lam
    q = px @ enc
    joint = px[:, None] * enc
    nz = joint > 0
    rate = np.sum(joint[nz] * np.log((enc / q[None, :])[nz]))
    f = rate + np.sum(joint * d) / lam
    with np.errstate(divide="ignore"):
        log_mu = logsumexp(np.log(q)[None, :] - d / lam, axis=1)
    log_c = logsumexp(np.log(px)[:, None] - d / lam - log_mu[:, None], axis=0)
    return f, -px @ log_mu - log_c.max()


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_stopping_rules_conform(backend):
    """The core's loop over each backend. β = 0 from a start that leaves out a symbol the
    optimum needs: the revival rule brings it back and the run stops certified (brute-force
    gap ≤ gap_tol). β > 0: stops at residual ≤ tol. max_iter: flagged, not converged."""
    x = np.linspace(0, 1, 12)
    pb = Problem.from_arrays(np.full(12, 1 / 12), np.ones((12, 1)), (x[:, None] - x[::3]) ** 2)
    point = pb.at(beta=0.0, lam=0.02)
    init = np.full((12, 4), 1 / 3)
    init[:, 0] = 0.0
    be = BACKENDS[backend](point, init.copy())
    out = core.iterate(be, beta=0.0, tol=1e-10, gap_tol=1e-10, max_iter=20_000)
    assert out.converged and out.message == core.CERTIFIED and not out.max_iter_reached
    f, bound = _objective_and_bound(point, be.encoder)
    assert 0 <= f - bound <= 1e-10 and (pb.p_x @ be.encoder)[0] > 0.1  # revived

    point, enc = _case("semantic")
    be = BACKENDS[backend](point, enc.copy())
    out = core.iterate(be, beta=point.beta, tol=1e-11, gap_tol=0.0, max_iter=50_000)
    assert out.converged and out.message == core.STATIONARY and out.residual <= 1e-11
    be = BACKENDS[backend](point, enc.copy())
    out = core.iterate(be, beta=point.beta, tol=1e-11, gap_tol=0.0, max_iter=3)
    assert out.steps == 3 and not out.converged and out.max_iter_reached
    assert out.message == core.max_iter_message(3)


def test_both_ways_of_the_label_sum_are_among_the_cases():
    """The single-problem backend forms Σ_y p(y|x) log r(y|x̂) inside its row pass for
    few labels and by a GEMM for many; the cases above exercise both."""
    ways = {
        name: NumpyBackend(*_case(name)).fused_labels
        for name in ("semantic", "semantic-many-labels")
    }
    assert ways == {"semantic": True, "semantic-many-labels": False}


@pytest.mark.parametrize("case", ["rd", "semantic", "semantic-many-labels"])
def test_previous_is_the_encoder_the_last_step_started_from(case):
    """The single-problem backend steps in place (few labels) and recomputes `previous`
    from the kept inputs of the step that made it: bit for bit the encoder the last step
    started from, after one step (the start) and after more, read twice, and while
    stepping on; with many labels it keeps two buffers."""
    point, enc = _case(case)
    backend = NumpyBackend(point, enc.copy())
    assert backend.in_place == (case != "semantic-many-labels")
    for _ in range(4):
        before = backend.encoder.copy()
        backend.step()
        np.testing.assert_array_equal(backend.previous, before)
        np.testing.assert_array_equal(backend.previous, before)
