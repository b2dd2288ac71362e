"""Vectorised operations on one row of float64 (Numba), the building blocks of the step
kernels of eq. (17) (:mod:`infotheory.kernels`): the row maximum, exp with exact zeros
below the floor, the row sum, weighted row sums, and the bit casts they use.

Every function is compiled with ``cache=True``; loops run from 0 over whole rows (LLVM
vectorises those; a loop over an index range that starts elsewhere ran markedly slower
in a trial). The fast-math flags are chosen per function: re-association only where no
rounding trick depends on the order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .core import LOGIT_FLOOR, TINY  # the exact-zero floor of step 1 (eq. 17), in the core

#: the fast-math flags of the row loops: re-association lets LLVM vectorise the row sums;
#: no flag assumes finite values (the logits hold -inf for symbols out of use) or the
#: absence of NaN
FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

_LOG2E = 1.4426950408889634
#: ln 2 split in a high part with trailing zero bits and the rest (Cody–Waite reduction)
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
#: 1.5·2⁵²: ``x + _ROUND`` holds ``round(x)`` in its low mantissa bits (|x| < 2⁵¹)
_ROUND = 6755399441055744.0


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def row_max(a):
    """``max(a)`` with eight accumulators (LLVM does not vectorise a float max reduction
    without the no-NaN flag; eight independent chains at least hide the latency)."""
    k = a.shape[0]
    k8 = k - k % 8
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = -np.inf
    for j in range(0, k8, 8):
        m0 = max(m0, a[j])
        m1 = max(m1, a[j + 1])
        m2 = max(m2, a[j + 2])
        m3 = max(m3, a[j + 3])
        m4 = max(m4, a[j + 4])
        m5 = max(m5, a[j + 5])
        m6 = max(m6, a[j + 6])
        m7 = max(m7, a[j + 7])
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    for j in range(k8, k):
        m = max(m, a[j])
    return m


def _float_bits_typing(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


def _bits_float_typing(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


#: the IEEE-754 bits of a float64 as an int64, and back (bit casts in Numba code; LLVM
#: vectorises them)
float_bits: Any = intrinsic(_float_bits_typing)
bits_float: Any = intrinsic(_bits_float_typing)


@njit(cache=True, nogil=True, fastmath={"nsz", "contract"})
def exp_row(row, shift):
    """``row[j] = e^(row[j] - shift)`` in place for step 1 of eq. (17), exactly 0 where
    ``row[j] - shift < LOGIT_FLOOR`` (so below ``TINY``), in one loop that LLVM
    vectorises with AVX2 alone (Numba's ``math.exp`` is a scalar libm call, and NumPy's
    float64 ``exp`` is scalar too on a CPU without AVX-512).

    For ``w = row[j] - shift`` (``≤ 0``: ``shift`` is the row maximum) or, where
    ``w < LOGIT_FLOOR``, the sentinel ``LOGIT_FLOOR - 10``: ``w = k·ln 2 + t`` with
    ``k = round(w/ln 2)`` (by adding and subtracting 1.5·2⁵², no float→int conversion),
    ``|t| ≤ ln(2)/2`` (Cody–Waite, ``t`` exact to about 2⁻⁶⁰);
    ``e^t = 1 + (t + t²·P(t))``
    with ``P`` the Taylor polynomial of degree 11 (truncation below 5e-18 relative) by
    Estrin's scheme; ``2^k`` (``k ≥ -1010``: normal) from the bits ``(k + 1023) << 52``,
    read off the low mantissa bits of ``k + 1.5·2⁵²`` by a bit cast. Then
    ``e^w = e^t · 2^k`` exactly (a power of two), at most 1 ulp from the true value. No
    ``reassoc`` flag: it would cancel the rounding constant and merge the two halves of
    the reduction.
    """
    for j in range(row.shape[0]):
        w = row[j] - shift
        x = w if w >= LOGIT_FLOOR else LOGIT_FLOOR - 10.0
        kr = x * _LOG2E + _ROUND
        kf = kr - _ROUND  # round(x / ln 2), exactly
        t = (x - kf * _LN2_HI) - kf * _LN2_LO
        t2 = t * t
        t4 = t2 * t2
        a0 = 0.5 + t * (1.0 / 6.0)
        a1 = (1.0 / 24.0) + t * (1.0 / 120.0)
        a2 = (1.0 / 720.0) + t * (1.0 / 5040.0)
        a3 = (1.0 / 40320.0) + t * (1.0 / 362880.0)
        a4 = (1.0 / 3628800.0) + t * (1.0 / 39916800.0)
        a5 = (1.0 / 479001600.0) + t * (1.0 / 6227020800.0)
        p = (a0 + t2 * a1) + t4 * ((a2 + t2 * a3) + t4 * (a4 + t2 * a5))
        # the bits of kr are those of 1.5·2⁵² plus k; shifted by 52 only k + 1023 remains
        e = (1.0 + (t + t2 * p)) * bits_float((float_bits(kr) + 1023) << 52)
        row[j] = e if e >= TINY else 0.0


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def row_sum(row):
    """``Σ_j row[j]`` (re-associated: vectorised)."""
    s = 0.0
    for j in range(row.shape[0]):
        s += row[j]
    return s


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def add_rows4(a, e0, e1, e2, e3, w0, w1, w2, w3):
    """``a += w0·e0 + w1·e1 + w2·e2 + w3·e3`` (one pass over ``a`` for four rows)."""
    for j in range(a.shape[0]):
        a[j] += (w0 * e0[j] + w1 * e1[j]) + (w2 * e2[j] + w3 * e3[j])


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def add_row(a, e0, w0):
    """``a += w0·e0``."""
    for j in range(a.shape[0]):
        a[j] += w0 * e0[j]
