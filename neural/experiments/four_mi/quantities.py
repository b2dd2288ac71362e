"""The four quantities of Fig. 7 at SNR = ∞ from counts, with their kinds and bound checks.

At SNR = ∞ the chain ``X → Z = E(X) → X̂ = D(Z) → Ŷ = F(X̂)`` is deterministic, so on the
N evaluated images (X uniform on them) three of the four quantities are entropies of
codes, computed exactly from counts (bits):

* ``I(X;Z) = H(Z)`` (Z is a function of X). N images cannot show more than ``log2 N``
  bits: when every image gets its own code the value is ``log2 N`` (*saturated*) and says
  only that the source's H(Z) is not measurable from N samples. Two upper bounds hold for
  every distribution: ``H(Z) ≤ Σ_i H(Z_i)`` (subadditivity; each bit's entropy from its
  counts, reliable at any N) ``≤ bits sent`` (the number of bits of Z, eq. 21).
* ``I(Z;Ŷ)``: from the joint counts of (Z, Ŷ), ``H(Z) + H(Ŷ) − H(Z, Ŷ)``; equal to
  ``H(Ŷ)`` because Ŷ is a function of Z (checked: ``not_function`` counts the codes that
  meet two predictions).
* ``I(X;Ŷ) = H(Ŷ)`` (Ŷ is a function of X).
* ``I(Ŷ;Y)``: the plug-in of the 10 × 10 table of predicted and true labels.

Each value is exact for the N images; the 95 % interval (``ci``, Miller–Madow-centred,
:func:`neural.mi.plugin_mi`) is that of the source value. Relations checked exactly (to
``TOL`` bits; they hold for every distribution, hence for the empirical one):
``I(Ŷ;Y) ≤ H(Ŷ) = I(X;Ŷ) ≤ I(Z;Ŷ) ≤ I(X;Z) = H(Z) ≤ Σ_i H(Z_i) ≤ bits sent``,
``I(X;Z) ≤ log2 N``, ``I(·;Ŷ) ≤ log2 K`` and ``I(Ŷ;Y) ≤ H(Y)``; the data-processing
inequalities of the chain are the paper's eqs. (32) and (38) (docs/four-mi.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import entr

#: quantities in the order of Fig. 7's panels (a)–(d)
QUANTITIES = ("I(X;Z)", "I(Z;Ŷ)", "I(X;Ŷ)", "I(Ŷ;Y)")
#: what a value is: exact (for the N images), plug-in (from counts of a joint table,
#: with a source interval), or an upper / lower bound (hard, or estimated by a network)
KINDS = ("exact", "plug-in", "upper bound", "lower bound")
#: slack (bits) of the exact relations, for rounding only
TOL = 1e-9


def _entropy_of_codes(codes: np.ndarray) -> float:
    """Plug-in entropy (bits) of ``(N,)`` integer codes: the exact entropy of their counts."""
    import infotheory  # the exact measures (NumPy)

    counts = np.bincount(codes)
    counts = counts[counts > 0]
    return float(infotheory.entropy(counts / counts.sum(), base=2))


def bit_entropy_sum(bits: np.ndarray) -> float:
    """``Σ_i H(Z_i)`` (bits) over the columns of a ``(N, d)`` 0/1 array: each column's
    entropy from its counts (``h(p_i)``, ``p_i`` the fraction of ones)."""
    p = np.asarray(bits, dtype=np.float64).mean(0)
    return float((entr(p) + entr(1.0 - p)).sum() / math.log(2.0))


@dataclass(frozen=True)
class CountValues:
    """The count-based values of one system on N images (bits; see the module docstring).

    ``ci_*`` are 95 % intervals of the source value (``None`` where the count value is
    saturated and no interval means anything); ``not_function`` is the number of codes z
    that met more than one prediction (0 when Ŷ is a function of Z, as it must be)."""

    n: int
    bits_sent: int
    n_classes: int
    distinct: int
    h_z: float
    h_bits: float
    h_yhat: float
    i_z_yhat: float
    i_yhat_y: float
    h_y: float
    ci_h_z: tuple[float, float] | None
    ci_h_yhat: tuple[float, float]
    ci_i_yhat_y: tuple[float, float]
    not_function: int

    @property
    def saturated(self) -> bool:
        """Every image has its own code: H(Z) on the images is ``log2 N``, the most N samples show."""
        return self.distinct == self.n


def _labels(name: str, a: Any, n: int, n_classes: int) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name}: expected ({n},) integer labels, got shape {arr.shape} {arr.dtype}"
        )
    if n and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name}: labels must lie in 0..{n_classes - 1}")
    return arr.astype(np.int64)


def count_values(
    bits: Any, y_hat: Any, y: Any, *, n_classes: int, bits_sent: int | None = None
) -> CountValues:
    """Count-based values from the codes ``bits`` ``(N, d)`` (0/1), the predictions
    ``y_hat`` and the labels ``y`` (``(N,)`` integers in ``0..n_classes-1``).
    ``bits_sent``: the bits of Z per image (default ``d``)."""
    from neural.mi.plugin import as_labels, plugin_mi

    z = np.asarray(bits)
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 1:
        raise ValueError(f"bits: expected a (N, d) array with N >= 2, got shape {z.shape}")
    if not np.all((z == 0) | (z == 1)):
        raise ValueError("bits: values must be 0 or 1 (the quantizer's output, eq. 18)")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    n, d = z.shape
    bits_sent = d if bits_sent is None else bits_sent
    if isinstance(bits_sent, bool) or not isinstance(bits_sent, int) or bits_sent < d:
        raise ValueError(f"bits_sent must be an integer >= the {d} bits of Z, got {bits_sent!r}")
    yh, yt = _labels("y_hat", y_hat, n, n_classes), _labels("y", y, n, n_classes)
    zc = as_labels("bits", z.astype(np.int8))
    distinct = int(zc.max()) + 1
    h_z, h_yhat = _entropy_of_codes(zc), _entropy_of_codes(yh)
    h_zy = _entropy_of_codes(zc * n_classes + yh)
    not_function = len(np.unique(zc * n_classes + yh)) - distinct  # extra (z, ŷ) pairs
    i_yy = plugin_mi(yh, yt, units="bits", correction="none").estimate
    ci_yy = plugin_mi(yh, yt, units="bits").ci
    ci_hy = plugin_mi(yh, yh, units="bits").ci
    ci_hz = None if distinct == n else plugin_mi(zc, zc, units="bits").ci
    assert ci_yy is not None and ci_hy is not None
    return CountValues(
        n=n,
        bits_sent=int(bits_sent),
        n_classes=n_classes,
        distinct=distinct,
        h_z=h_z,
        h_bits=bit_entropy_sum(z),
        h_yhat=h_yhat,
        i_z_yhat=h_z + h_yhat - h_zy,
        i_yhat_y=float(i_yy),
        h_y=_entropy_of_codes(yt),
        ci_h_z=ci_hz,
        ci_h_yhat=ci_hy,
        ci_i_yhat_y=ci_yy,
        not_function=int(not_function),
    )


def _row(
    quantity: str,
    estimator: str,
    kind: str,
    values: list[float] | float,
    lower: float,
    upper: float,
    check: str,
    *,
    ci: tuple[float, float] | None = None,
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One row: ``value`` the mean of ``values`` (several: repeated estimation), ``min``/``max``;
    ``in_bounds`` 1 when every value lies in ``[lower, upper]`` (to ``TOL``), else 0."""
    v = np.atleast_1d(np.asarray(values, dtype=np.float64))
    ok = bool(np.all(v >= lower - TOL) and np.all(v <= upper + TOL))
    if not ok:
        side = "below" if v.min() < lower - TOL else "above"
        note = "; ".join(
            x
            for x in (
                note,
                f"OUT OF BOUNDS: {side} [{lower:.4g}, {upper:.4g}] bits",
            )
            if x
        )
    return {
        "quantity": quantity,
        "estimator": estimator,
        "kind": kind,
        "value": float(v.mean()),
        "min": float(v.min()),
        "max": float(v.max()),
        "repeats": int(v.size),
        "ci_low": None if ci is None else float(ci[0]),
        "ci_high": None if ci is None else float(ci[1]),
        "lower": float(lower),
        "upper": float(upper),
        "in_bounds": int(ok),
        "check": check,
        "note": note,
        **extra,
    }


def count_rows(v: CountValues) -> list[dict[str, Any]]:
    """The count-based rows of one system: I(X;Z) (exact H(Z), Σ_i H(Z_i), bits sent),
    I(Z;Ŷ), I(X;Ŷ) (exact) and I(Ŷ;Y) (plug-in), each with its bounds and check."""
    log_n, log_k = math.log2(v.n), math.log2(v.n_classes)
    common = {"samples": v.n, "distinct": v.distinct, "saturated": int(v.saturated)}
    sat = (
        f"saturated: all {v.n} images have distinct codes, and N images cannot show more than "
        f"log2 N = {log_n:.3f} bits; the source's H(Z) lies between H(Ŷ) and Σ_i H(Z_i)"
        if v.saturated
        else (
            f"{v.distinct} distinct codes in {v.n} images"
            + (
                f" (N / codes = {v.n / v.distinct:.1f} < 80: the interval's coverage is untested there)"
                if v.n < 80 * v.distinct
                else ""
            )
        )
    )
    func = (
        ""
        if v.not_function == 0
        else f"Ŷ is NOT a function of Z on these images ({v.not_function} extra (z, ŷ) pairs)"
    )
    return [
        _row(
            "I(X;Z)",
            "counts",
            "exact",
            v.h_z,
            v.h_yhat,
            min(v.h_bits, v.bits_sent, log_n),
            "I(X;Z) = H(Z) (Z = E(X)); H(Ŷ) = I(X;Ŷ) <= I(X;Z) (DPI on X -> Z -> Ŷ, the form of "
            "eq. 32); H(Z) <= sum_i H(Z_i) <= bits sent; <= log2 N",
            ci=v.ci_h_z,
            note=sat,
            **common,
        ),
        _row(
            "I(X;Z)",
            "bit-entropies",
            "upper bound",
            v.h_bits,
            v.h_z,
            v.bits_sent,
            "sum_i H(Z_i) >= H(Z) = I(X;Z) (subadditivity); each H(Z_i) from the bit's counts; "
            "<= bits sent",
            **common,
        ),
        _row(
            "I(X;Z)",
            "bits-sent",
            "upper bound",
            float(v.bits_sent),
            v.h_bits,
            float(v.bits_sent),
            "H(Z) <= the number of bits of Z (eq. 21: bpp x H x W)",
            **common,
        ),
        _row(
            "I(Z;Ŷ)",
            "counts",
            "exact",
            v.i_z_yhat,
            v.i_yhat_y,
            min(v.h_yhat, v.h_z, log_k),
            "I(Z;Ŷ) = H(Z) + H(Ŷ) - H(Z,Ŷ) = H(Ŷ) (Ŷ = F(D(Z))); <= I(X;Z) = H(Z); <= log2 K; "
            ">= I(Ŷ;Y)",
            ci=v.ci_h_yhat,
            note=func,
            **common,
        ),
        _row(
            "I(X;Ŷ)",
            "counts",
            "exact",
            v.h_yhat,
            v.i_yhat_y,
            min(v.h_z, v.i_z_yhat, log_k),
            "I(X;Ŷ) = H(Ŷ) (Ŷ = F(D(E(X)))); <= I(X;Z) and <= I(Z;Ŷ) (DPI on X -> Z -> Ŷ, "
            "eq. 32 form); <= log2 K; >= I(Ŷ;Y)",
            ci=v.ci_h_yhat,
            **common,
        ),
        _row(
            "I(Ŷ;Y)",
            "plug-in",
            "plug-in",
            v.i_yhat_y,
            0.0,
            min(v.h_yhat, v.h_y),
            "from the K x K table of predicted and true labels; <= H(Ŷ) = I(X;Ŷ); <= H(Y); "
            "a lower bound on I(X̂;Y) (eq. 38: Y -> X -> Z -> X̂ -> Ŷ)",
            ci=v.ci_i_yhat_y,
            **common,
        ),
    ]


def estimator_row(
    estimator: str, kind: str, values: list[float], *, bits_sent: int, samples: int, note: str = ""
) -> dict[str, Any]:
    """A neural estimate of I(X;Z) over repeated estimation (bits): bounds ``[0, bits sent]``,
    which hold for every distribution of X."""
    if kind not in ("upper bound", "lower bound"):
        raise ValueError(f"kind must be 'upper bound' or 'lower bound', got {kind!r}")
    return _row(
        "I(X;Z)",
        estimator,
        kind,
        values,
        0.0,
        float(bits_sent),
        "0 <= I(X;Z) <= bits sent for every source; estimated on (X, Z) samples "
        f"({'an upper' if kind == 'upper bound' else 'a lower'}-bound estimator)",
        note=note,
        samples=samples,
        distinct=None,
        saturated=None,
    )
