"""neural.bridge.relaxation: the cross-entropy bound of eqs. (25)–(29) against the exact D_IB."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from infotheory import conditional_entropy
from neural.bridge.codec import DeterministicCode, bridge_source
from neural.bridge.digits import digit_images
from neural.bridge.relaxation import ce_bound, classifier_log_probs

N = 80


@pytest.fixture(scope="module")
def fixture():
    """Four deterministic codes on 80 test digits: one codeword, labels mixed in cells, a code
    that separates every class and one that merges the classes in pairs."""
    im, lab = digit_images("test")
    im, lab = im[:N], lab[:N]
    rng = np.random.default_rng(0)
    codewords = rng.uniform(0, 1, size=(16, 64))
    codes = [
        DeterministicCode(4, codewords, np.zeros(N, dtype=np.int64), 1),
        DeterministicCode(4, codewords, rng.integers(0, 16, size=N), 1),
        DeterministicCode(4, codewords, lab.astype(np.int64), 1),
        DeterministicCode(4, codewords, (lab // 2).astype(np.int64), 1),
    ]
    return bridge_source(codes, im, lab, np.zeros((0, 64))), codewords


class Lookup(nn.Module):
    """A 'classifier' returning fixed logits for each of the 16 codewords (matched exactly)."""

    def __init__(self, codewords, logits):
        super().__init__()
        self.register_buffer("cw", torch.tensor(codewords, dtype=torch.float32).view(16, -1))
        self.register_buffer("logits", torch.tensor(logits, dtype=torch.float32))
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        idx = torch.cdist(x.flatten(1), self.cw).argmin(1)
        return self.logits[idx]


def _posterior(bridge, i):
    code, src = bridge.codes[i], bridge.source
    joint = np.zeros((16, 10))
    np.add.at(joint, code.indices, src.p_x[:, None] * src.p_y_given_x)
    return joint


@pytest.mark.parametrize("i", range(4))
@pytest.mark.parametrize("seed", range(3))
def test_ce_bound_is_above_the_exact_d_ib(fixture, i, seed):
    bridge, codewords = fixture
    torch.manual_seed(seed)
    clf = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    log_q = classifier_log_probs(clf, codewords, 1)
    r = ce_bound(bridge, i, log_q)
    assert r["ce_bound"] >= r["d_ib_exact"] - 1e-12
    # eq. (26): the gap is E_x̂ KL(p(y|x̂) || q(y|x̂)), computed independently here
    joint = _posterior(bridge, i)
    live = joint.sum(1) > 0
    post = joint[live] / joint[live].sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(post > 0, post * (np.log(post) - log_q[live]), 0.0)
    kl = float(np.sum(joint[live].sum(1) * terms.sum(1)))
    assert abs(r["gap_ce"] - kl) < 1e-12 and abs(r["kl_posterior"] - kl) < 1e-12
    # exact D_IB = H(Y|X̂) for one-hot labels, from the joint directly
    assert abs(r["d_ib_exact"] - conditional_entropy(joint[live], base=math.e)) < 1e-12


@pytest.mark.parametrize("i", range(4))
def test_the_bound_is_tight_for_the_true_posterior(fixture, i):
    bridge, codewords = fixture
    joint = _posterior(bridge, i)
    with np.errstate(divide="ignore", invalid="ignore"):
        post = joint / joint.sum(1, keepdims=True)
        logits = np.where(post > 0, np.log(np.where(post > 0, post, 1.0)), -60.0)
    logits = np.nan_to_num(logits, nan=0.0)
    log_q = classifier_log_probs(Lookup(codewords, logits), codewords, 1)
    r = ce_bound(bridge, i, log_q)
    assert 0 <= r["gap_ce"] < 1e-6  # q = p(y|x̂) up to float32 logits and e^-60
    if i == 2:  # every class its own codeword: D_IB = 0 and a perfect top-1 classifier
        assert abs(r["d_ib_exact"]) < 1e-12 and r["codeword_accuracy"] == pytest.approx(1.0)


def test_ce_bound_refuses_a_wrong_shape(fixture):
    bridge, _ = fixture
    with pytest.raises(ValueError, match="log_q must have shape"):
        ce_bound(bridge, 0, np.zeros((16, 9)))
