"""The paper's relaxation of D_IB (eqs. 25–29) measured exactly on a deterministic code.

Eq. (31) trains on ``MSE + β·CE`` with a fixed classifier ``q(y|x̂)``; the theory's
semantic distortion is ``D_IB = I(X;Y) − I(X̂;Y)`` (eqs. 2–3). With
``CE = −E_{p(y,x̂)}[log q(y|x̂)]`` the identity (26),
``CE = H(Y|X̂) + E_{x̂} KL(p(y|x̂) ‖ q(y|x̂))``, gives the variational upper bound (27):

    D_IB ≤ I(X;Y) − H(Y) + CE = CE − H(Y|X)        (nats; = CE for one-hot labels),

with gap ``E_{x̂} KL(p(y|x̂) ‖ q(y|x̂)) ≥ 0``: the bound is tight exactly when the
classifier's output on each codeword is the true posterior ``p(y|x̂)`` of the cell of
images sent there. For a K-bit codec every term is an exact finite sum: ``p(x̂, y)``
counts images per codeword and label, ``q(y|x̂)`` is the classifier on the ``2^K``
decoder outputs. Everything here is in nats (the unit of CE and of β in eq. 31).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from infotheory import conditional_entropy, evaluate_encoder
from neural.bridge.codec import SIDE, BridgeSource


@torch.no_grad()
def classifier_log_probs(classifier: nn.Module, codewords: np.ndarray, channels: int) -> np.ndarray:
    """``log q(y|x̂)`` ``(k, classes)`` float64 of ``classifier`` (eval mode) on codewords
    ``(k, channels·64)``."""
    if not isinstance(classifier, nn.Module):
        raise TypeError(f"classifier must be an nn.Module, got {type(classifier).__name__}")
    device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    try:
        x = torch.from_numpy(np.ascontiguousarray(codewords, dtype=np.float32))
        logits = classifier(x.view(-1, channels, SIDE, SIDE).to(device))
    finally:
        classifier.train(was_training)
    out = F.log_softmax(logits.double(), dim=1).cpu().numpy()
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("the classifier's log-probabilities are not finite")
    return out


def ce_bound(bridge: BridgeSource, i: int, log_q: np.ndarray) -> dict[str, Any]:
    """Exact ``D_IB`` of code ``i`` of ``bridge`` and its cross-entropy bound (eq. 27).

    ``log_q``: ``log q(y|x̂)`` on the code's ``2^K`` codewords (:func:`classifier_log_probs`).
    Returns (nats): ``d_ib_exact`` (the solver's formulas, :func:`infotheory.evaluate_encoder`),
    ``ce`` (``−E log q(y|x̂)``), ``ce_bound`` (``CE − H(Y|X)``), ``gap_ce``
    (``ce_bound − d_ib_exact``), ``kl_posterior`` (``E_x̂ KL(p(y|x̂) ‖ q(y|x̂))``, computed
    separately: equals ``gap_ce`` by eq. 26) and ``codeword_accuracy`` (fraction of images
    whose label is the classifier's top class on their codeword).
    """
    src = bridge.source
    code = bridge.codes[i]
    if log_q.shape != (len(code.codewords), src.p_y_given_x.shape[1]):
        raise ValueError(
            f"log_q must have shape {(len(code.codewords), src.p_y_given_x.shape[1])}, "
            f"got {log_q.shape}"
        )
    ev = evaluate_encoder(*src.problem, bridge.encoder(i), beta=0.0, lam=1.0, base=math.e)
    # p(x̂, y) over the code's own codewords
    joint = np.zeros_like(log_q)
    np.add.at(joint, code.indices, src.p_x[:, None] * src.p_y_given_x)
    ce = float(-np.sum(joint[joint > 0] * log_q[joint > 0]))
    h_y_given_x = float(conditional_entropy(src.p_x[:, None] * src.p_y_given_x, base=math.e))
    p_xhat = joint.sum(1)
    live = p_xhat > 0
    post = joint[live] / p_xhat[live, None]
    with np.errstate(divide="ignore"):
        log_post = np.where(post > 0, np.log(post), 0.0)
    kl = float(np.sum(p_xhat[live, None] * post * (log_post - log_q[live])))
    top = log_q.argmax(axis=1)
    correct = float(np.sum(joint[np.arange(len(top)), top]))
    bound = ce - h_y_given_x
    return {
        "d_ib_exact": float(ev.distortion_ib),
        "ce": ce,
        "ce_bound": bound,
        "gap_ce": bound - float(ev.distortion_ib),
        "kl_posterior": kl,
        "codeword_accuracy": correct,
    }
