"""Capacity per channel use of the real AWGN channel the JSCC uses (bits per channel use).

SNR convention — identical to :mod:`neural.channels.awgn`: one *real* channel use carries
one symbol ``s`` of power ``E[s²] = 1`` (BPSK ``s = ±1``) plus noise ``n ~ N(0, σ²)``, and

    SNR = E[s²] / σ² = 1 / σ²,   snr_db = 10·log10(SNR),   snr_db = +inf: no noise.

This is the energy per symbol over the noise variance *per real dimension*; in the
textbook notation ``σ² = N0/2`` it equals ``2·Es/N0`` (3.01 dB above ``Es/N0``). Both
capacities below use it, so they are the capacities of exactly the channel
:class:`~neural.channels.AWGNChannel` simulates.

* ``"bpsk"`` (default): equiprobable binary input ``s ∈ {−1, +1}`` (the input the JSCC
  uses, and capacity-achieving for a binary input by symmetry). With ``γ = SNR`` and the
  log-likelihood ratio ``L = 2y/σ² ~ N(2γ, 4γ)`` given ``s = +1``,

      C_BPSK(γ) = 1 − E[ log2(1 + e^(−L)) ]
                = 1 − ∫ φ(t) · log2(1 + exp(−2γ − 2√γ·t)) dt        [bits / channel use],

  ``φ`` the standard normal density; computed by adaptive quadrature
  (:func:`scipy.integrate.quad`; within 1e-12 bits of a 30-digit mpmath evaluation).
  ``C → 1`` as ``γ → ∞`` (``C = 1`` exactly at ``snr_db = +inf``) and
  ``C ≈ γ/(2 ln 2) → 0`` as ``γ → 0``.
* ``"gaussian"``: Gaussian input of the same power, ``C = ½·log2(1 + γ)`` bits per
  channel use (Shannon); infinite at ``snr_db = +inf``. It upper-bounds every input of
  power 1, so it is the most favourable case for separation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

CAPACITIES = ("bpsk", "gaussian")

# The integrand is negligible (< 1e-30) outside [-sqrt(γ) - _TAIL, _TAIL].
_TAIL = 12.0


def _check_snr_db(snr_db: float) -> float:
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, np.integer, np.floating)):
        raise TypeError(f"snr_db must be a real number (dB), got {type(snr_db).__name__}")
    value = float(snr_db)
    if math.isnan(value):
        raise ValueError("snr_db must not be NaN")
    if value == -math.inf:
        raise ValueError("snr_db = -inf (zero signal power) is not a valid channel")
    return value


def _softplus_log2(u: float) -> float:
    """``log2(1 + e^u)`` without overflow."""
    return float(np.logaddexp(0.0, u)) / math.log(2.0)


def bpsk_capacity(snr_db: float) -> float:
    """Capacity of the binary-input (BPSK, ±1) real AWGN channel, bits per channel use.

    ``snr_db`` follows the convention of :mod:`neural.channels.awgn` (``SNR = 1/σ²`` per
    real channel use, see the module docstring); ``+inf`` gives exactly 1.

    >>> round(bpsk_capacity(0.0), 4)
    0.4859
    >>> bpsk_capacity(float("inf"))
    1.0
    """
    snr_db = _check_snr_db(snr_db)
    if snr_db == math.inf:
        return 1.0
    gamma = 10.0 ** (snr_db / 10.0)
    root = math.sqrt(gamma)

    def integrand(t: float) -> float:
        return (
            math.exp(-0.5 * t * t)
            / math.sqrt(2.0 * math.pi)
            * _softplus_log2(-2.0 * gamma - 2.0 * root * t)
        )

    # the softplus switches on at t = -sqrt(γ): give quad that breakpoint
    lo, hi = -root - _TAIL, _TAIL
    loss, _err = integrate.quad(
        integrand, lo, hi, points=[-root], epsabs=1e-13, epsrel=1e-12, limit=200
    )
    capacity = 1.0 - loss
    if not (-1e-12 <= capacity <= 1.0 + 1e-12) or not math.isfinite(capacity):
        raise ArithmeticError(f"bpsk_capacity: quadrature gave {capacity!r} at snr_db={snr_db}")
    return min(max(capacity, 0.0), 1.0)  # only rounding (≤ 1e-12) is removed here


def gaussian_capacity(snr_db: float) -> float:
    """Shannon capacity ``½·log2(1 + SNR)`` of the real AWGN channel, bits per channel use.

    Same SNR convention as :func:`bpsk_capacity`; ``+inf`` gives ``inf``.

    >>> gaussian_capacity(10 * math.log10(3))  # SNR = 3 -> 1 bit
    1.0
    """
    snr_db = _check_snr_db(snr_db)
    if snr_db == math.inf:
        return math.inf
    return 0.5 * math.log2(1.0 + 10.0 ** (snr_db / 10.0))


def capacity_per_use(capacity: str, snr_db: float) -> float:
    """Bits per channel use of the named capacity (``"bpsk"`` or ``"gaussian"``) at ``snr_db``."""
    if capacity == "bpsk":
        return bpsk_capacity(snr_db)
    if capacity == "gaussian":
        return gaussian_capacity(snr_db)
    raise ValueError(f"capacity must be one of {CAPACITIES}, got {capacity!r}")
