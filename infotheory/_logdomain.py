"""Log-domain helpers shared by the solver, its accelerated phases and the
channel-capacity iteration (NumPy only; nats)."""

from __future__ import annotations

import numpy as np


def safe_log(a: np.ndarray) -> np.ndarray:
    """Natural log with ``log 0 = -inf`` and no NumPy warning (state not touched)."""
    out = np.full(a.shape, -np.inf)
    np.log(a, out=out, where=a > 0)
    return out


def log_likelihood(
    p_y_given_x: np.ndarray, p_y_given_xhat: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``out[x, x̂] = Σ_y p(y|x) log p(y|x̂)`` (nats; minus the cross-entropy, the part of
    ``d_IB`` of eq. (1) that depends on ``x̂``) as one GEMM, ``-inf`` where ``p(y|x) > 0``
    meets ``p(y|x̂) = 0``, ``0·log 0 = 0`` elsewhere."""
    zero = p_y_given_xhat <= 0
    log_r = safe_log(p_y_given_xhat)
    if not zero.any():
        return np.matmul(p_y_given_x, log_r.T, out=out)
    log_r[zero] = 0.0
    out = np.matmul(p_y_given_x, log_r.T, out=out)
    out[(p_y_given_x @ zero.T.astype(np.float64)) > 0] = -np.inf
    return out


def row_entropies(p_y_given_x: np.ndarray) -> np.ndarray:
    """``H(Y|X=x)`` in nats for every row of a conditional distribution (``0 log 0 = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p_y_given_x > 0, p_y_given_x * np.log(p_y_given_x), 0.0)
    return -t.sum(axis=1)
