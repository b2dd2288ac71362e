"""The options of the eq. (17) solver: one set of defaults for every entry point.

:func:`infotheory.semantic_rd`, its front ends (:func:`~infotheory.rate_distortion`,
:func:`~infotheory.information_bottleneck`), :func:`~infotheory.semantic_rd_batch` and
the curves take these as keyword arguments and build one :class:`SolverOptions`
from them (validated once, in ``__post_init__``; every error names the field).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._validation import check_base, check_int, check_positive

#: candidates after the caller's own start, by default at β > 0 (infotheory.search)
DEFAULT_RESTARTS = 4


@dataclass(frozen=True)
class SolverOptions:
    """How the eq. (17) iteration is run and stopped (not *what* is solved).

    Attributes
    ----------
    tol : float
        Stop when the stationarity residual ``max |p_{t+1}(x̂|x) - p_t(x̂|x)|``
        (eqs. 12–15) is ``≤ tol``.
    gap_tol : float
        β = 0 only: additionally require Blahut's certificate
        ``rate - rate_lower_bound ≤ gap_tol`` (units of ``base``).
    max_iter : int
        Maximum number of eq. (17) steps **per start** (each of the ``1 + restarts``
        starts has its own budget); hitting it sets ``converged=False`` and
        ``max_iter_reached=True`` and warns (:class:`~infotheory.ConvergenceWarning`).
    base : float
        Logarithm base of the reported information quantities (2: bits, e: nats).
    accelerate : {"auto", True, False}
        ``"auto"``/``True``: the accelerated path (SQP for β = 0, damped Newton for
        β > 0, after a plain warm-up; ``docs/acceleration.md``); ``False``: plain eq. (17).
    restarts : int or None
        Further starts besides ``init`` (:mod:`infotheory.search`); ``None``: the
        default rule (:meth:`restarts_for`).
    seed : int
        Seed of the random start (``init="random"``) and of the random restarts.
    """

    tol: float = 1e-10
    gap_tol: float = 1e-10
    max_iter: int = 100_000
    base: float = 2
    accelerate: bool | str = "auto"
    restarts: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731
        put("tol", check_positive(self.tol, "tol"))
        put("gap_tol", check_positive(self.gap_tol, "gap_tol"))
        put("max_iter", check_int(self.max_iter, "max_iter", minimum=1))
        check_base(self.base)
        if not any(self.accelerate is v or self.accelerate == v for v in ("auto", True, False)):
            raise ValueError(f"accelerate must be 'auto', True or False, got {self.accelerate!r}")
        if self.restarts is not None:
            put("restarts", check_int(self.restarts, "restarts", minimum=0))
        put("seed", check_int(self.seed, "seed", minimum=0))

    @property
    def log_base(self) -> float:
        """``log(base)``: information quantities in nats are divided by it."""
        return check_base(self.base)

    @property
    def gap_tol_nats(self) -> float:
        """``gap_tol`` in nats (the unit of the iteration)."""
        return self.gap_tol * self.log_base

    @property
    def accelerated(self) -> bool:
        """True for ``accelerate="auto"`` or ``True``."""
        return self.accelerate == "auto" or bool(self.accelerate)

    def restarts_for(self, beta: float, k: int) -> int:
        """``restarts``, or its default: 0 at ``β = 0`` (convex: every start reaches the
        certified optimum) and for ``k = 1`` (one encoder exists), ``DEFAULT_RESTARTS``
        otherwise."""
        if self.restarts is not None:
            return self.restarts
        return 0 if beta == 0 or k == 1 else DEFAULT_RESTARTS


#: the defaults of every entry point (their keyword arguments default to these fields)
DEFAULTS = SolverOptions()
