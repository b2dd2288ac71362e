"""Hard-assignment local search: the global strategy of :mod:`infotheory.search`.

``F`` of deterministic encoders ``x ↦ x̂`` (eqs. 1–3, 11) and a descent over them by
single moves and pair swaps, as sequential IB does (Numba, ``cache=True``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _cluster_term(
    q: float, joint_row: np.ndarray, coef: float, shift: np.ndarray, sign: float
) -> float:
    """``-(1 - coef)·q'·log q' - coef·Σ_y J'_y log J'_y`` of one cluster whose mass and
    row of ``p(x̂, y)`` are ``q + sign·shift[0]`` and ``joint_row + sign·shift[1:]``:
    the part of ``F`` (nats) that a deterministic encoder puts on one reproduction
    symbol (``I(X;X̂) = H(X̂)``, ``D_IB = H(Y|X̂) - H(Y|X)``, eqs. 1-3)."""
    qq = q + sign * shift[0]
    s = 0.0
    if qq > 1e-300:
        s -= (1.0 - coef) * qq * math.log(qq)
    for y in range(joint_row.shape[0]):
        j = joint_row[y] + sign * shift[y + 1]
        if j > 1e-300:
            s -= coef * j * math.log(j)
    return s


@njit(cache=True, nogil=True)
def hard_objective(
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    dl: np.ndarray,
    coef: float,
    assign: np.ndarray,
    k: int,
) -> float:
    """``F`` (nats, up to the constant ``-coef·H(Y|X)``) of the deterministic encoder
    ``x ↦ assign[x]``: ``H(X̂) + D_RD/λ + (β/λ)·H(Y|X̂)`` (eqs. 1-3, 11)."""
    n, m = p_y_given_x.shape
    q = np.zeros(k)
    joint = np.zeros((k, m))
    zero = np.zeros(m + 1)
    f = 0.0
    for x in range(n):
        c = assign[x]
        q[c] += p_x[x]
        f += p_x[x] * dl[x, c]
        for y in range(m):
            joint[c, y] += p_x[x] * p_y_given_x[x, y]
    for c in range(k):
        f += _cluster_term(q[c], joint[c], coef, zero, 0.0)
    return f


@njit(cache=True, nogil=True)
def hard_local_search(
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    dl: np.ndarray,
    coef: float,
    assign: np.ndarray,
    max_sweeps: int,
) -> int:
    """Descent of ``F`` over deterministic encoders (``assign``, modified in place), as
    sequential IB does: each sweep moves every ``x`` to the reproduction symbol that
    lowers ``F`` most, then swaps the symbols of pairs ``(x, x')`` where that lowers
    ``F`` (a swap crosses between two assignments that single moves cannot join
    without merging clusters, which at large ``β/λ`` costs a lot of ``D_IB``). Stops at a
    sweep without improvement (a local minimum for both kinds of move) or after
    ``max_sweeps``. Returns the number of sweeps."""
    n, k = dl.shape
    m = p_y_given_x.shape[1]
    q = np.zeros(k)
    joint = np.zeros((k, m))
    for x in range(n):
        q[assign[x]] += p_x[x]
        for y in range(m):
            joint[assign[x], y] += p_x[x] * p_y_given_x[x, y]
    sx = np.empty(m + 1)
    zero = np.zeros(m + 1)
    # each cluster's current term, kept up to date (recomputing it for every candidate
    # move and pair doubled the work of both loops)
    term = np.empty(k)
    for c in range(k):
        term[c] = _cluster_term(q[c], joint[c], coef, zero, 0.0)
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):  # noqa: B007 (returned)
        improved = False
        for x in range(n):
            if p_x[x] <= 0:
                continue
            sx[0] = p_x[x]
            for y in range(m):
                sx[y + 1] = p_x[x] * p_y_given_x[x, y]
            c0 = assign[x]
            out = _cluster_term(q[c0], joint[c0], coef, sx, -1.0) - term[c0] - p_x[x] * dl[x, c0]
            best, bc = -1e-13 * (1.0 + abs(out)), c0
            for c in range(k):
                if c != c0:
                    delta = (
                        out
                        + _cluster_term(q[c], joint[c], coef, sx, 1.0)
                        - term[c]
                        + p_x[x] * dl[x, c]
                    )
                    if delta < best:
                        best, bc = delta, c
            if bc != c0:
                q[c0] -= sx[0]
                q[bc] += sx[0]
                for y in range(m):
                    joint[c0, y] -= sx[y + 1]
                    joint[bc, y] += sx[y + 1]
                term[c0] = _cluster_term(q[c0], joint[c0], coef, zero, 0.0)
                term[bc] = _cluster_term(q[bc], joint[bc], coef, zero, 0.0)
                assign[x] = bc
                improved = True
        for x in range(n):
            for z in range(x + 1, n):
                a, b = assign[x], assign[z]
                if a == b:
                    continue
                # x: a -> b and z: b -> a; the net change of cluster a is (z's mass) - (x's)
                sx[0] = p_x[z] - p_x[x]
                for y in range(m):
                    sx[y + 1] = p_x[z] * p_y_given_x[z, y] - p_x[x] * p_y_given_x[x, y]
                delta = (
                    _cluster_term(q[a], joint[a], coef, sx, 1.0)
                    - term[a]
                    + _cluster_term(q[b], joint[b], coef, sx, -1.0)
                    - term[b]
                    + p_x[x] * (dl[x, b] - dl[x, a])
                    + p_x[z] * (dl[z, a] - dl[z, b])
                )
                if delta < -1e-13:
                    q[a] += sx[0]
                    q[b] -= sx[0]
                    for y in range(m):
                        joint[a, y] += sx[y + 1]
                        joint[b, y] -= sx[y + 1]
                    term[a] = _cluster_term(q[a], joint[a], coef, zero, 0.0)
                    term[b] = _cluster_term(q[b], joint[b], coef, zero, 0.0)
                    assign[x], assign[z] = b, a
                    improved = True
        if not improved:
            break
    return sweeps
