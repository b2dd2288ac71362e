"""What both accelerated phases share: the warm-up length, the slack of the monotone
test and ``log μ_q`` (eq. 13) over a support."""

from __future__ import annotations

import numpy as np

#: plain eq. (17) steps before any acceleration (they identify the bulk of the support
#: and are never slower than the accelerated ones early on)
WARMUP = 50

#: relative slack of the monotonicity test (rounding of G, F at ~1e-16 relative)
SLACK = 8 * np.finfo(float).eps


def log_mu_support(log_q_s: np.ndarray, neg_dl_s: np.ndarray) -> np.ndarray:
    """``log μ_q(x) = log Σ_{x̂∈S} q(x̂) exp(-d(x,x̂)/λ)`` (eq. 13) over the support ``S``."""
    z = neg_dl_s + log_q_s[None, :]
    m = z.max(axis=1)
    return m + np.log(np.exp(z - m[:, None]).sum(axis=1))
