"""A straightforward NumPy implementation of eq. (17), as a careful user would write it.

Vectorised and in the log domain (no underflow), but with no fused kernels. It exists
only as a reference for benchmarks; the package never imports it.
"""

from __future__ import annotations

import numpy as np


def numpy_semantic_rd(p_x, p_y_given_x, d_rd, *, beta, lam, init, tol, max_iter):
    """Iterate eq. (17) from the encoder ``init`` until ``max |Δ p(x̂|x)| ≤ tol``.

    Returns ``(encoder, iterations)``. Assumes strictly positive ``p_y_given_x`` and
    ``p_x`` (benchmark problems only).
    """
    enc = init.copy()
    joint_xy = p_x[:, None] * p_y_given_x
    h_x = -np.sum(p_y_given_x * np.log(p_y_given_x), axis=1)
    for it in range(1, max_iter + 1):
        q = p_x @ enc  # eq. (17) step 2
        r = (enc.T @ joint_xy) / q[:, None]  # eq. (17) step 3
        with np.errstate(divide="ignore"):
            log_q = np.log(q)
            d_ib = -(p_y_given_x @ np.log(r).T) - h_x[:, None]  # eq. (1)
        logits = log_q[None, :] - (d_rd + beta * d_ib) / lam  # eq. (17) step 1
        logits -= logits.max(axis=1, keepdims=True)
        new = np.exp(logits)
        new /= new.sum(axis=1, keepdims=True)
        resid = np.max(np.abs(new - enc))
        enc = new
        if resid <= tol:
            return enc, it
    return enc, max_iter
