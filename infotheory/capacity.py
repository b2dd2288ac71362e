"""Channel capacity by the Blahut–Arimoto algorithm, with Arimoto's two-sided bounds.

For a channel ``W = p(y|x)`` and an input distribution ``r(x)``, let ``q = rᵀW`` be
the output distribution and ``D(x) = KL(W(·|x) ‖ q)`` (nats). Then

* ``I(r) = Σ_x r(x) D(x)`` is the mutual information of the input ``r``;
* ``I_L(r) = log Σ_x r(x) e^{D(x)} ≤ C ≤ I_U(r) = max_x D(x)`` (Arimoto 1972,
  Blahut 1972, Theorem 2 for capacity), and both bounds meet at the optimum;
* the iteration ``r ← r·e^{D} / Σ r e^{D}`` increases ``I`` monotonically; an
  over-relaxed step ``r ← r·e^{ωD} / Σ r e^{ωD}`` with adaptive ``ω ≥ 1`` (Matz &
  Duhamel 2004) is taken instead whenever its ``I`` is at least the plain step's.

The log-likelihood ``Σ_y W(y|x) log q(y)`` is the same GEMM helper the rate-distortion
solver uses for ``d_IB`` (:func:`infotheory._logdomain.log_likelihood`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ._logdomain import log_likelihood as _log_likelihood
from ._logdomain import row_entropies
from ._validation import check_conditional
from .options import DEFAULTS, SolverOptions
from .result import ConvergenceWarning


@dataclass(frozen=True)
class CapacityResult:
    """Result of :func:`channel_capacity`. Information in units of ``base`` (bits default).

    Attributes
    ----------
    capacity : float
        ``I(X;Y)`` of the returned ``input_distribution``: an achievable rate, so
        ``capacity ≤ C ≤ capacity + gap``.
    input_distribution : ndarray, shape (n,)
        The capacity-achieving input ``r(x)`` (to the stated accuracy).
    output_distribution : ndarray, shape (m,)
        ``q(y) = Σ_x r(x) W(y|x)``.
    lower_bound, upper_bound : float
        Certified bounds ``capacity ≤ lower_bound ≤ C ≤ upper_bound`` (Arimoto's
        ``I_L = log Σ r e^D`` and ``I_U = max_x D(x)``).
    gap : float
        ``upper_bound - capacity`` (≥ 0): how far ``capacity`` can be below C.
    iterations : int
    converged : bool
        True when ``gap ≤ tol``.
    base : float
    message : str
    """

    capacity: float
    input_distribution: np.ndarray
    output_distribution: np.ndarray
    lower_bound: float
    upper_bound: float
    gap: float
    iterations: int
    converged: bool
    base: float
    message: str


def _divergences(w: np.ndarray, h_w: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``D(x) = KL(W(·|x) ‖ q)`` (nats) for every x, and ``q = rᵀW``; ``+inf`` impossible
    (every y with W(y|x) > 0 has q(y) ≥ r(x) W(y|x) > 0 when r > 0 everywhere)."""
    q = r @ w
    return -h_w - _log_likelihood(w, q[None, :])[:, 0], q


def _information(w: np.ndarray, h_w: np.ndarray, r: np.ndarray) -> float:
    """``I(r) = Σ_x r(x) D(x)`` (nats)."""
    dv, _ = _divergences(w, h_w, r)
    pos = r > 0
    return float(r[pos] @ dv[pos])


def channel_capacity(
    p_y_given_x: object,
    *,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
) -> CapacityResult:
    """Capacity ``C = max_r I(X;Y)`` of a discrete memoryless channel (Blahut–Arimoto).

    Parameters
    ----------
    p_y_given_x : array_like, shape (n, m)
        The channel ``W(y|x)``; every row sums to 1 (checked, never renormalised).
    tol : float
        Stop when the certificate ``upper_bound - capacity ≤ tol`` holds (units of
        ``base``): the returned capacity is then within ``tol`` of the true one.
    max_iter : int
        Maximum number of iterations; hitting it sets ``converged=False`` and warns.
    base : float
        Logarithm base of the results (2: bits, e: nats).

    Returns
    -------
    CapacityResult

    Examples
    --------
    Binary symmetric channel with crossover 0.1: ``C = 1 - h(0.1)`` bits.

    >>> import numpy as np
    >>> from infotheory import channel_capacity
    >>> res = channel_capacity([[0.9, 0.1], [0.1, 0.9]])
    >>> h = lambda p: -p * np.log2(p) - (1 - p) * np.log2(1 - p)
    >>> bool(abs(res.capacity - (1 - h(0.1))) < 1e-10), res.converged
    (True, True)
    """
    w = check_conditional(p_y_given_x, "p_y_given_x")
    opts = SolverOptions(tol=tol, max_iter=max_iter, base=base)  # the solver's checks and defaults
    tol, max_iter, log_base = opts.tol, opts.max_iter, opts.log_base
    n = w.shape[0]
    h_w = row_entropies(w)  # H(Y|X=x), so that Σ_y W log W = -h_w
    r = np.full(n, 1.0 / n)
    omega = 2.0
    converged = False
    message = f"reached max_iter = {max_iter}"
    it = 0
    lower = upper = 0.0
    for it in range(1, max_iter + 1):  # noqa: B007 (reported)
        dv, q = _divergences(w, h_w, r)
        upper = float(dv.max())  # I_U = max_x D(x)
        m = upper
        lower = m + math.log(float(r @ np.exp(dv - m)))  # I_L = log Σ r e^D
        pos = r > 0
        info = float(r[pos] @ dv[pos])  # I(r) <= I_L <= C <= I_U
        if upper - info <= tol * log_base:
            converged, message = True, "certified: upper_bound - capacity <= tol"
            break
        # Blahut–Arimoto update r ← r e^D / Σ r e^D (in the log domain); it never lowers I
        r_plain = r * np.exp(dv - m)
        r_plain /= r_plain.sum()
        # over-relaxed (natural-gradient) step r ← r e^{ωD} / Σ (Matz & Duhamel 2004), kept
        # only if its I is at least that of the plain step: I stays monotone, and flat
        # problems (nearly identical rows of W) no longer crawl
        r_try = r * np.exp(omega * (dv - m))
        r_try /= r_try.sum()
        if _information(w, h_w, r_try) >= _information(w, h_w, r_plain):
            r, omega = r_try, min(2.0 * omega, 1e6)
        else:
            r, omega = r_plain, max(1.0, omega / 4.0)
    if not converged:
        warnings.warn(
            f"channel_capacity: {message} (gap {(upper - lower) / log_base:.3g}); "
            "the result is not converged",
            ConvergenceWarning,
            stacklevel=2,
        )
    # I(r) of the returned input, and the bounds at that input
    dv, q = _divergences(w, h_w, r)
    pos = r > 0
    info = max(float(r[pos] @ dv[pos]), 0.0)
    upper = float(dv.max())
    lower = max(upper + math.log(float(r @ np.exp(dv - upper))), info)
    return CapacityResult(
        capacity=info / log_base,
        input_distribution=r,
        output_distribution=q,
        lower_bound=lower / log_base,
        upper_bound=upper / log_base,
        gap=(upper - info) / log_base,
        iterations=it,
        converged=converged,
        base=math.exp(log_base),
        message=message,
    )
