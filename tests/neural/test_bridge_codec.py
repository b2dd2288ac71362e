"""neural.bridge.codec / feasibility: a K-bit codec on the 8×8 digits is a feasible point of the
exact problem, so it never lies below the (certified, β = 0) exact curve; the bridge's own
evaluation of a deterministic code agrees with the solver's."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from infotheory import evaluate_encoder
from neural.bridge.codec import (
    DeterministicCode,
    bit_patterns,
    bridge_source,
    code_measures,
    read_code,
)
from neural.bridge.digits import digit_images, digits_source
from neural.bridge.feasibility import TOL_BITS, exact_curve, feasibility_row
from neural.config import make_config
from neural.models import JSCCCodec
from neural.training import train

N_IMAGES = 60  # the exact source: the first test images (uniform p(x))


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_run():
    """K = 2 on native 8×8 digits, a few epochs on 64 images: RD (β = 0) and TOSC (β = 1)."""
    cfg = make_config(
        "quick",
        overrides={
            "image_size": 8,
            "latent_channels": 2,
            "codec_width": 0.0625,
            "classifier_width": 0.0625,
            "snr_db": math.inf,
            "betas": [0.0, 1.0],
            "max_train_images": 64,
            "classifier": {"epochs": 1, "batch_size": 32, "lr": 3e-3, "lr_final": None},
            "codec": {"epochs": 2, "batch_size": 32, "lr": 3e-3, "lr_final": 1e-3},
            "tosc": {"epochs": 1, "batch_size": 32, "lr": 1e-3},
            "progress": False,
            "num_threads": 1,
            "eval_every": 10,
        },
    )
    return train(cfg)


@pytest.fixture(scope="module")
def images():
    im, lab = digit_images("test")
    return im[:N_IMAGES], lab[:N_IMAGES]


def test_read_code_is_the_codec_at_infinite_snr(tiny_run, images):
    im, _ = images
    for codec in tiny_run.codecs.values():
        code = read_code(codec, im)
        assert code.codewords.shape == (4, 3 * 64) and code.indices.shape == (N_IMAGES,)
        x = torch.from_numpy(im.astype(np.float32)).view(-1, 1, 8, 8).repeat(1, 3, 1, 1)
        with torch.no_grad():
            out = codec.eval()(x, math.inf).double().reshape(N_IMAGES, -1).numpy()
        np.testing.assert_array_equal(out, code.codewords[code.indices])


def test_bit_patterns_enumerate_every_latent():
    z = bit_patterns(3).view(8, 3)
    assert torch.equal(z[5], torch.tensor([1.0, 0.0, 1.0]))
    assert len({tuple(r.tolist()) for r in z}) == 8


def _random_code(rng, n, k_bits, used):
    codewords = rng.uniform(-0.1, 1.1, size=(2**k_bits, 3 * 64))
    indices = rng.choice(rng.choice(2**k_bits, size=used, replace=False), size=n)
    return DeterministicCode(k_bits, codewords, indices.astype(np.int64), 3)


@pytest.mark.parametrize("beta, all_codewords", [(0.0, True), (0.3, False)])
def test_bridge_and_solver_evaluations_agree(tiny_run, images, beta, all_codewords):
    """code_measures (counts, direct MSE) against evaluate_encoder (one-hot encoder on the
    d_rd matrix), to 1e-12, for the trained codecs and random codes using many codewords."""
    im, lab = images
    rng = np.random.default_rng(3)
    codes = [read_code(c, im) for c in tiny_run.codecs.values()]
    codes += [_random_code(rng, N_IMAGES, 4, used) for used in (1, 5, 16)]
    bridge = bridge_source(
        codes, im, lab, rng.uniform(0, 1, size=(3, 64)), all_codewords=all_codewords
    )
    k = sum(2**c.bits if all_codewords else len(c.used) for c in codes) + 3
    assert bridge.source.d_rd.shape == (N_IMAGES, k)
    for i, code in enumerate(codes):
        ev = evaluate_encoder(*bridge.source.problem, bridge.encoder(i), beta=beta, lam=0.7)
        mine = code_measures(code, im, lab, beta=beta)
        for key, value in mine.items():
            assert abs(getattr(ev, key) - value) <= 1e-12, (i, key, getattr(ev, key), value)


@pytest.mark.parametrize("trained", [True, False])
def test_feasibility_holds_for_a_tiny_codec(tiny_run, images, trained):
    """F_neural(λ) ≥ F*(λ) − certificate at β = 0 on every λ of the curve, trained or not;
    at β > 0 any shortfall is reported and the neural start reaches F ≤ F_neural."""
    im, lab = images
    if trained:
        codecs = list(tiny_run.codecs.values())
    else:
        torch.manual_seed(0)
        codecs = [JSCCCodec(2, 0.0625)]
    codes = [read_code(c, im) for c in codecs]
    kmeans = digits_source(codebook_size=4, split="test").codebook
    bridge = bridge_source(codes, im, lab, kmeans)
    for beta in (0.0, 1.0):
        curve = exact_curve(bridge.source.problem, beta=beta, n_points=5)
        for i in range(len(codes)):
            row = feasibility_row(bridge.source.problem, bridge.encoder(i), curve, beta=beta)
            if beta == 0:
                assert row["violations"] == 0 and row["violation"] == ""
                assert row["gap_rate_bits"] >= -1e-6  # equal-distortion solve to 1e-9 in D
                assert row["gap_lagrangian_bits"] >= -TOL_BITS
                cert = np.maximum(curve.rate - curve.rate_lower_bound, 0)
                f_neural = row["rate"] + row["distortion"] / (curve.lam * math.log(2))
                assert np.all(f_neural >= curve.objective - cert - TOL_BITS)
            else:
                assert row["violation"] in ("", "solver not global")
                if "objective_neural_start" in row:
                    f_at = row["rate"] + row["distortion"] / (
                        row["lam_equal_distortion"] * math.log(2)
                    )
                    assert row["objective_neural_start"] <= f_at + TOL_BITS


def test_a_point_below_a_certified_curve_is_flagged_as_a_bug(images):
    """The check can fail: a curve whose F is raised above the neural point's is a violation."""
    im, lab = images
    rng = np.random.default_rng(0)
    code = _random_code(rng, N_IMAGES, 3, 8)
    bridge = bridge_source([code], im, lab, rng.uniform(0, 1, size=(2, 64)))
    curve = exact_curve(bridge.source.problem, beta=0.0, n_points=5)
    fake = dataclasses.replace(curve, objective=curve.objective + 50.0)
    row = feasibility_row(bridge.source.problem, bridge.encoder(0), fake, beta=0.0)
    assert row["violation"] == "bug" and row["violations"] >= len(fake)


def test_read_code_refuses_bad_input(tiny_run):
    codec = next(iter(tiny_run.codecs.values()))
    with pytest.raises(ValueError, match="images must have shape"):
        read_code(codec, np.zeros((3, 63)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        read_code(codec, np.full((3, 64), 2.0))
    with pytest.raises(TypeError, match="JSCCCodec"):
        read_code(torch.nn.Linear(2, 2), np.zeros((3, 64)))
