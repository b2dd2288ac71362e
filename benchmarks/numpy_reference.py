"""A straightforward NumPy implementation of eq. (17), as a careful user would write it.

Vectorised and in the log domain (no underflow), but with no fused kernels. It exists
only as a reference for benchmarks; the package never imports it.
"""

from __future__ import annotations

import numpy as np


class NumpyReference:
    """Eq. (17) on one problem from the encoder ``init`` (copied): :meth:`step` takes one
    iteration and returns its residual ``max |Δ p(x̂|x)|``. Assumes strictly positive
    ``p_y_given_x`` and ``p_x`` (benchmark problems only)."""

    def __init__(self, p_x, p_y_given_x, d_rd, *, beta, lam, init):
        self.p_x, self.p_y_given_x, self.d_rd = p_x, p_y_given_x, d_rd
        self.beta, self.lam = beta, lam
        self.enc = init.copy()
        self.joint_xy = p_x[:, None] * p_y_given_x
        self.h_x = -np.sum(p_y_given_x * np.log(p_y_given_x), axis=1)

    def step(self) -> float:
        enc = self.enc
        q = self.p_x @ enc  # eq. (17) step 2
        r = (enc.T @ self.joint_xy) / q[:, None]  # eq. (17) step 3
        with np.errstate(divide="ignore"):
            log_q = np.log(q)
            d_ib = -(self.p_y_given_x @ np.log(r).T) - self.h_x[:, None]  # eq. (1)
        logits = log_q[None, :] - (self.d_rd + self.beta * d_ib) / self.lam  # eq. (17) step 1
        logits -= logits.max(axis=1, keepdims=True)
        new = np.exp(logits)
        new /= new.sum(axis=1, keepdims=True)
        resid = float(np.max(np.abs(new - enc)))
        self.enc = new
        return resid


def numpy_semantic_rd(p_x, p_y_given_x, d_rd, *, beta, lam, init, tol, max_iter):
    """Iterate eq. (17) from the encoder ``init`` until ``max |Δ p(x̂|x)| ≤ tol``.

    Returns ``(encoder, iterations)``."""
    ref = NumpyReference(p_x, p_y_given_x, d_rd, beta=beta, lam=lam, init=init)
    for it in range(1, max_iter + 1):
        if ref.step() <= tol:
            return ref.enc, it
    return ref.enc, max_iter
