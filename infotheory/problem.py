"""The problem of eq. (11), validated once: a source, its task labels, a distortion.

:class:`Problem` holds the three arrays of ``DESIGN.md`` §1 as float64 (checked by the
ONE validator of the package, :func:`check_problem_arrays`: every entry point accepts
and refuses the same inputs), the quantities every step needs (``H(Y|X=x)``,
``p(x, y)``) and the start of the iteration (:meth:`Problem.start`).
:meth:`Problem.at` fixes the trade-off ``(β, λ)``: a :class:`Point` carries
``d_RD/λ`` and ``β/λ``, the two numbers the iteration of eq. (17) sees.

Units: ``d_rd`` in the user's units (``D_RD`` is reported in them); the iteration
works in nats (``exp(-d_S/λ)`` of eq. 17 fixes the unit of ``d_IB``); information
quantities are reported in units of ``SolverOptions.base`` (bits by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Union

import numpy as np

from ._logdomain import row_entropies
from ._validation import as_float_array, check_conditional, check_distribution, check_positive

#: a start of the iteration: "random" (seeded Dirichlet(1) rows), "uniform" or an (n, k) array
InitSpec = Union[str, np.ndarray]  # noqa: UP007 (a runtime alias)


def check_problem_arrays(
    p_x: object, p_y_given_x: object, d_rd: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one check of a problem's arrays (float64 copies): ``p_x`` a distribution,
    ``p_y_given_x`` rows that are distributions, ``d_rd ≥ 0`` finite (DESIGN §1), both
    with one row per source symbol. Errors name the argument."""
    px = check_distribution(p_x, "p_x", ndim=1)
    pyx = check_conditional(p_y_given_x, "p_y_given_x")
    d = as_float_array(d_rd, "d_rd", ndim=2)
    n = px.shape[0]
    for name, a in (("p_y_given_x", pyx), ("d_rd", d)):
        if a.shape[0] != n:
            raise ValueError(
                f"{name} must have {n} rows (one per source symbol, like p_x), got shape {a.shape}"
            )
    if np.any(d < 0):
        raise ValueError(f"d_rd has negative entries (min {d.min():.3g}); d_RD must be >= 0")
    return px, pyx, d


def random_encoder(n: int, k: int, seed: int) -> np.ndarray:
    """The seeded random start (``init="random"``): Dirichlet(1) rows, strictly positive."""
    enc = np.random.default_rng(seed).exponential(size=(n, k)) + 1e-12
    return enc / enc.sum(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Problem:
    """``p(x)`` (n,), ``p(y|x)`` (n, m) and ``d_RD(x, x̂)`` (n, k), validated on
    construction (:func:`check_problem_arrays`; float64).

    >>> import numpy as np
    >>> pb = Problem.from_arrays([0.5, 0.5], np.eye(2), 1 - np.eye(2))
    >>> pb.n, pb.m, pb.k
    (2, 2, 2)
    """

    p_x: np.ndarray
    p_y_given_x: np.ndarray
    d_rd: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        px, pyx, d = check_problem_arrays(self.p_x, self.p_y_given_x, self.d_rd)
        object.__setattr__(self, "p_x", px)
        object.__setattr__(self, "p_y_given_x", pyx)
        object.__setattr__(self, "d_rd", d)

    @classmethod
    def from_arrays(cls, p_x: object, p_y_given_x: object, d_rd: object) -> Problem:
        """The problem of these arrays (validated; errors name the argument)."""
        return cls(p_x, p_y_given_x, d_rd)  # type: ignore[arg-type]

    @property
    def n(self) -> int:
        """Source alphabet size."""
        return int(self.p_x.shape[0])

    @property
    def m(self) -> int:
        """Label alphabet size."""
        return int(self.p_y_given_x.shape[1])

    @property
    def k(self) -> int:
        """Reproduction alphabet size."""
        return int(self.d_rd.shape[1])

    @cached_property
    def row_entropies(self) -> np.ndarray:
        """``H(Y|X=x)`` in nats for every row (``0 log 0 = 0``)."""
        return row_entropies(self.p_y_given_x)

    @cached_property
    def joint_xy(self) -> np.ndarray:
        """``p(x, y) = p(x) p(y|x)``, shape (n, m)."""
        return self.p_x[:, None] * self.p_y_given_x

    def at(self, *, beta: float, lam: float) -> Point:
        """This problem at the trade-off ``(β ≥ 0, λ > 0)`` (checked; ``β/λ`` finite)."""
        beta = check_positive(beta, "beta", allow_zero=True)
        lam = check_positive(lam, "lam")
        if not math.isfinite(beta / lam):
            raise ValueError(f"beta/lam must be finite, got beta={beta!r}, lam={lam!r}")
        return Point(self, beta, lam)

    def start(self, init: InitSpec, seed: int) -> np.ndarray:
        """The starting encoder (a new array): ``"random"`` (Dirichlet(1) rows from
        ``seed``), ``"uniform"`` or a given (n, k) conditional distribution."""
        n, k = self.n, self.k
        if isinstance(init, str):
            if init == "random":
                return random_encoder(n, k, seed)
            if init == "uniform":
                return np.full((n, k), 1.0 / k)
            raise ValueError(f"init must be 'random', 'uniform' or an (n, k) array, got {init!r}")
        enc = check_conditional(init, "init")
        if enc.shape != (n, k):
            raise ValueError(f"init must have shape (n, k) = {(n, k)}, got {enc.shape}")
        return enc.copy()


@dataclass(frozen=True, eq=False)
class Point:
    """A :class:`Problem` at one trade-off: ``β ≥ 0`` (weight of ``D_IB``, eq. 6) and
    the temperature ``λ > 0`` (eq. 11). The iteration sees ``dl = d_RD/λ`` and
    ``coef = β/λ`` only."""

    problem: Problem
    beta: float
    lam: float

    @cached_property
    def dl(self) -> np.ndarray:
        """``d_RD/λ`` (n, k)."""
        return self.problem.d_rd / self.lam

    @property
    def coef(self) -> float:
        """``β/λ``: the weight of ``d_IB`` in the exponent of eq. (12)."""
        return self.beta / self.lam
