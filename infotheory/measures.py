"""Discrete information measures (bits by default).

Conventions: ``0·log 0 = 0``; ``kl_divergence`` is ``inf`` where ``p`` puts mass
where ``q`` has none. Joints are arrays indexed ``[x, y]`` (or ``[x, y, z]``).
Every function validates its input (see :mod:`infotheory._validation`): a
distribution must be finite, non-negative and sum to 1 within ``1e-8``.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_base, check_distribution


def _plogp_sum(p: np.ndarray) -> float:
    """``Σ p log p`` in nats with ``0 log 0 = 0``."""
    nz = p[p > 0]
    return float(np.dot(nz, np.log(nz)))


def _entropy_nats(p: np.ndarray) -> float:
    return -_plogp_sum(p)


def _mi_nats(p_xy: np.ndarray) -> float:
    """I(X;Y) in nats from a 2-D joint, as Σ p(x,y) log p(x,y)/(p(x)p(y)).

    Computed term by term (not as H(X)+H(Y)-H(X,Y)) so that it is exactly 0 for
    a product joint up to rounding and never negative by cancellation.
    """
    px = p_xy.sum(axis=1)
    py = p_xy.sum(axis=0)
    i, j = np.nonzero(p_xy)
    v = p_xy[i, j]
    return max(float(np.dot(v, np.log(v) - np.log(px[i]) - np.log(py[j]))), 0.0)


def entropy(p: object, *, base: float = 2) -> float:
    """Shannon entropy ``H(P) = -Σ p log p`` of a distribution of any shape.

    A multi-dimensional array is treated as a joint distribution, giving the
    joint entropy.

    >>> entropy([0.5, 0.5])
    1.0
    >>> round(entropy([0.25] * 4, base=4), 12)
    1.0
    """
    lb = check_base(base)
    return _entropy_nats(check_distribution(p, "p")) / lb


def conditional_entropy(p_xy: object, *, base: float = 2) -> float:
    """``H(Y|X) = Σ_x p(x) H(Y|X=x) = H(X,Y) - H(X)`` from a 2-D joint ``p_xy[x, y]``.

    The conditioning variable is the row index (axis 0), as in ``p_y_given_x``.

    >>> conditional_entropy([[0.25, 0.25], [0.5, 0.0]])
    0.5
    """
    lb = check_base(base)
    p = check_distribution(p_xy, "p_xy", ndim=2)
    px = p.sum(axis=1)
    i, j = np.nonzero(p)
    v = p[i, j]
    # Σ p(x,y) log(p(x)/p(x,y)), term by term: exact 0 for deterministic rows
    return max(float(np.dot(v, np.log(px[i]) - np.log(v))), 0.0) / lb


def mutual_information(p_xy: object, *, base: float = 2) -> float:
    """``I(X;Y) = Σ p(x,y) log p(x,y) / (p(x) p(y))`` from a 2-D joint ``p_xy[x, y]``.

    >>> mutual_information([[0.5, 0.0], [0.0, 0.5]])
    1.0
    >>> mutual_information([[0.25, 0.25], [0.25, 0.25]])
    0.0
    """
    lb = check_base(base)
    return _mi_nats(check_distribution(p_xy, "p_xy", ndim=2)) / lb


def conditional_mutual_information(p_xyz: object, *, base: float = 2) -> float:
    """``I(X;Y|Z) = Σ_z p(z) I(X;Y|Z=z)`` from a 3-D joint ``p_xyz[x, y, z]``.

    Equals ``H(X,Z) + H(Y,Z) - H(X,Y,Z) - H(Z)``.

    >>> p = [[[0.25, 0.0], [0.0, 0.25]], [[0.0, 0.25], [0.25, 0.0]]]  # Y = X xor Z
    >>> conditional_mutual_information(p)
    1.0
    """
    lb = check_base(base)
    p = check_distribution(p_xyz, "p_xyz", ndim=3)
    total = 0.0
    for z in range(p.shape[2]):
        pz = float(p[:, :, z].sum())
        if pz > 0:
            total += pz * _mi_nats(p[:, :, z] / pz)
    return total / lb


def kl_divergence(p: object, q: object, *, base: float = 2) -> float:
    """``D(P||Q) = Σ p log(p/q)``; ``inf`` if some ``p > 0`` meets ``q = 0``.

    ``p`` and ``q`` must have the same shape.

    >>> kl_divergence([0.5, 0.5], [0.25, 0.75]) > 0
    True
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])
    inf
    """
    lb = check_base(base)
    pa = check_distribution(p, "p")
    qa = check_distribution(q, "q")
    if pa.shape != qa.shape:
        raise ValueError(f"p and q must have the same shape, got {pa.shape} and {qa.shape}")
    mask = pa > 0
    if np.any(qa[mask] == 0):
        return float("inf")
    v = float(np.dot(pa[mask], np.log(pa[mask]) - np.log(qa[mask])))
    return max(v, 0.0) / lb
