"""Inputs users actually have (issue 10): float32 arrays and tensors, numbers as strings."""

import numpy as np
import pytest

from infotheory import evaluate_encoder, semantic_rd, semantic_rd_curve
from infotheory._validation import SUM_TOL, check_conditional, check_distribution, sum_tolerance


def _float32_problem(seed=0, n=12, m=3, k=5):
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.ones(n)).astype(np.float32)
    logits = rng.normal(size=(n, m)).astype(np.float32)
    pyx = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # a float32 softmax
    return px, pyx, rng.random((n, k)).astype(np.float32)


def test_float32_inputs_are_accepted_and_computed_in_float64():
    px, pyx, d = _float32_problem()
    res = semantic_rd(px, pyx, d, beta=1.0, lam=0.5)
    assert res.converged and res.encoder.dtype == np.float64
    # the same problem given in float64 (normalised there) gives the same answer
    px64 = px.astype(np.float64) / px.astype(np.float64).sum()
    pyx64 = pyx.astype(np.float64) / pyx.astype(np.float64).sum(axis=1, keepdims=True)
    ref = semantic_rd(px64, pyx64, d.astype(np.float64), beta=1.0, lam=0.5)
    assert res.objective == pytest.approx(ref.objective, abs=1e-12)


def test_float32_rows_far_from_one_are_refused_naming_the_argument():
    px, pyx, d = _float32_problem()
    bad = pyx.copy()
    bad[3] *= np.float32(0.99)
    with pytest.raises(ValueError, match=r"p_y_given_x row 3 sums to 0\.99.*float32"):
        semantic_rd(px, bad, d, beta=1.0, lam=0.5)
    with pytest.raises(ValueError, match=r"p_x sums to 0\.99"):
        semantic_rd(px * np.float32(0.99), pyx, d, beta=1.0, lam=0.5)


def test_dtype_tolerance():
    assert sum_tolerance(np.dtype(np.float64), 10**6) == SUM_TOL
    assert sum_tolerance(np.dtype(np.float32), 10) == pytest.approx(4 * 2**-23 * 10)
    # float64 input is held to 1e-8 and never rescaled
    with pytest.raises(ValueError, match="sums to"):
        check_distribution(np.array([0.5, 0.5 + 1e-6]), "p")
    p = np.array([0.3, 0.7])
    np.testing.assert_array_equal(check_distribution(p, "p"), p)
    # float32 within its rounding: accepted and normalised in float64
    q = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    out = check_conditional(q[None, :], "q")
    assert out.dtype == np.float64 and abs(out.sum() - 1) < 1e-15


def test_torch_tensors_are_accepted_without_torch_in_infotheory():
    torch = pytest.importorskip("torch")
    px = torch.full((4,), 0.25)
    pyx = torch.softmax(torch.randn(4, 2, generator=torch.Generator().manual_seed(0)), dim=1)
    pyx.requires_grad_(True)  # a tensor straight out of a network
    res = semantic_rd(
        px, pyx, torch.rand(4, 3, generator=torch.Generator().manual_seed(1)), beta=1.0, lam=0.5
    )
    assert res.converged


def test_numbers_as_strings():
    px, pyx, d = [0.5, 0.5], np.eye(2), 1 - np.eye(2)
    a = semantic_rd(px, pyx, d, beta="1", lam="0.5", max_iter="1000", seed="3", restarts="2")
    b = semantic_rd(px, pyx, d, beta=1.0, lam=0.5, max_iter=1000, seed=3, restarts=2)
    assert a.objective == b.objective and a.starts == 3
    ev = evaluate_encoder(["0.5", "0.5"], pyx, d, np.eye(2), beta="0", lam="1")
    assert ev.rate == pytest.approx(1.0)
    curve = semantic_rd_curve(px, pyx, d, beta="0", lams=["0.5", "0.25"])
    assert len(curve) == 2
    with pytest.raises(TypeError, match="max_iter must be an integer"):
        semantic_rd(px, pyx, d, beta=1.0, lam=0.5, max_iter="many")
    with pytest.raises(TypeError, match="lam must be a real number"):
        semantic_rd(px, pyx, d, beta=1.0, lam="half")


def test_complex_input_is_refused_not_cast():
    _, pyx, d = [0.5, 0.5], np.eye(2), 1 - np.eye(2)
    for bad in (np.array([0.5 + 0j, 0.5]), [0.5 + 0j, 0.5]):
        with pytest.raises(TypeError, match="p_x must be an array of real numbers"):
            semantic_rd(bad, pyx, d, beta=1.0, lam=0.5)


def test_curve_lams_errors_name_the_problem():
    px, pyx, d = [0.5, 0.5], np.eye(2), 1 - np.eye(2)
    for lams, msg in (
        ([0.5, -1.0], r"lams must be > 0, got -1"),
        ([0.5, np.nan], "lams contains NaN"),
        ([], "lams is empty"),
        ([0.5 + 1j], "lams must be an array of real numbers"),
    ):
        with pytest.raises((ValueError, TypeError), match=msg):
            semantic_rd_curve(px, pyx, d, beta=0, lams=lams)


@pytest.mark.parametrize("entry", ["semantic_rd", "evaluate_encoder", "batch", "curve"])
def test_negative_distortion_is_refused_everywhere(entry):
    # d_RD >= 0 (DESIGN §1): the one validator (infotheory.problem.check_problem_arrays)
    from infotheory import semantic_rd_batch

    px, pyx, d = [0.5, 0.5], np.eye(2), -np.eye(2)
    call = {
        "semantic_rd": lambda: semantic_rd(px, pyx, d, beta=1.0, lam=0.5),
        "evaluate_encoder": lambda: evaluate_encoder(px, pyx, d, np.eye(2), beta=1.0, lam=0.5),
        "batch": lambda: semantic_rd_batch(px, pyx, d, lams=[0.5]),
        "curve": lambda: semantic_rd_curve(px, pyx, d, beta=0, lams=[0.5]),
    }[entry]
    with pytest.raises(ValueError, match="d_rd has negative entries"):
        call()


def test_shape_errors_are_worded_alike_everywhere():
    from infotheory import semantic_rd_batch

    px, pyx, d = [0.5, 0.5], np.eye(2), np.ones((3, 2))
    msg = r"d_rd must have 2 rows \(one per source symbol, like p_x\), got shape \(3, 2\)"
    for call in (
        lambda: semantic_rd(px, pyx, d, beta=1.0, lam=0.5),
        lambda: semantic_rd_batch(px, pyx, d, lams=[0.5]),
        lambda: semantic_rd_curve(px, pyx, d, beta=0, lams=[0.5]),
    ):
        with pytest.raises(ValueError, match=msg):
            call()


def test_bfloat16_is_refused_naming_the_argument():
    torch = pytest.importorskip("torch")
    pyx = torch.eye(2, dtype=torch.bfloat16)
    with pytest.raises(TypeError, match="p_y_given_x has dtype bfloat16"):
        semantic_rd([0.5, 0.5], pyx, 1 - np.eye(2), beta=1.0, lam=0.5)
