"""The semantic rate-distortion solver: the Blahut–Arimoto iteration of eq. (17).

One solver serves three problems (``docs/theory.md``):

* semantic rate-distortion, ``min I(X;X̂) + (D_RD + β·D_IB)/λ``  (eqs. 6, 11);
* classical rate-distortion, ``β = 0`` (:func:`rate_distortion`);
* the information bottleneck, ``d_RD ≡ 0`` with ``β_IB = β/λ``
  (:func:`information_bottleneck`).

The default path is accelerated (a short plain warm-up; the active-set SQP of
:mod:`infotheory.accelerate` for ``β = 0``, its damped Newton method for ``β > 0`` and
the IB; then plain certification); ``accelerate=False`` gives plain iteration
throughout.

Internally everything is in nats (the ``exp(-d_S/λ)`` of eq. 17 fixes the unit of
``d_IB``); information quantities are reported in units of ``base`` (bits by
default).
"""

from __future__ import annotations

import warnings
from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
from threadpoolctl import threadpool_limits

from . import accelerate as _accel
from . import search as _search
from ._validation import (
    check_base,
    check_conditional,
    check_distribution,
    check_int,
    check_positive,
)
from .core import Callback
from .options import DEFAULTS, SolverOptions
from .parallel import check_executor
from .pipeline import evaluate, solve_start
from .problem import InitSpec, Point, Problem
from .result import ConvergenceWarning, SemanticRDResult

__all__ = [
    "ConvergenceWarning",
    "SemanticRDResult",
    "evaluate_encoder",
    "information_bottleneck",
    "rate_distortion",
    "semantic_rd",
    "solve_problem",
]


def semantic_rd(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    lam: float,
    init: InitSpec = "random",
    seed: int = DEFAULTS.seed,
    tol: float = DEFAULTS.tol,
    gap_tol: float = DEFAULTS.gap_tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    callback: Callback | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
    restarts: int | None = DEFAULTS.restarts,
    executor: Executor | None = None,
) -> SemanticRDResult:
    """Solve the semantic rate-distortion problem (eq. 11) by the iteration of eq. (17).

    Minimises ``F = I(X;X̂) + (D_RD + β·D_IB)/λ`` over encoders ``p(x̂|x)`` for a
    discrete source, its task label and a reproduction alphabet of any size.

    Parameters
    ----------
    p_x : array_like, shape (n,)
        Source distribution ``p(x)``; zeros allowed.
    p_y_given_x : array_like, shape (n, m)
        Task channel ``p(y|x)``; every row sums to 1.
    d_rd : array_like, shape (n, k)
        Reconstruction distortion ``d_RD(x, x̂) ≥ 0``, finite (adding a constant
        changes only ``distortion_rd``).
    beta : float, keyword-only
        Weight of the semantic distortion ``D_IB`` (eq. 6), ``β ≥ 0``.
    lam : float, keyword-only
        Temperature ``λ > 0``; the solution sits where ``dR/dD_S = -1/λ`` (nats).
    init : {"random", "uniform"} or ndarray (n, k)
        Starting encoder. ``"random"`` (default) draws Dirichlet(1) rows from
        ``seed``; the uniform encoder is a fixed point of the pure IB iteration.
    seed : int
        Seed of the random start.
    tol : float
        Stop when the stationarity residual ``max |p_{t+1}(x̂|x) - p_t(x̂|x)|``
        (eqs. 12–15) is ``≤ tol``.
    gap_tol : float
        β = 0 only: additionally require Blahut's certificate
        ``rate - rate_lower_bound ≤ gap_tol`` (units of ``base``).
    max_iter : int
        Maximum number of steps **per start** (each of the ``1 + restarts`` starts has
        its own budget); hitting it sets ``converged=False`` and
        ``max_iter_reached=True`` and warns.
    base : float
        Logarithm base of the reported information quantities (2: bits, e: nats).
    callback : callable(iteration, encoder) -> bool or None, optional
        Called after every step with a copy of the new encoder; returning True stops
        (that start). With ``restarts``, it sees the steps of every start in turn.
    accelerate : {"auto", True, False}
        ``"auto"`` or ``True`` (default ``"auto"``): accelerated. For ``β = 0``
        (convex) an active-set SQP, and the answer is certified by Blahut's bound
        whichever path produced it; for ``β > 0`` and the IB (not convex) a damped
        Newton method on eqs. (12)–(15), which ends at the same stationary point as
        plain iteration on 1,206 of 1,210 random problems tested (in the other 4 it
        ends at another stationary point, 3 times lower and once higher; see
        ``docs/acceleration.md``). ``False``: plain eq. (17) only. The accelerated path
        first takes ``accelerate.WARMUP`` plain steps, so short runs are exactly plain
        iteration; it keeps the objective monotone, and always finishes with plain
        steps that check the same stopping rules as plain iteration (see
        :mod:`infotheory.accelerate`).
    restarts : int or None
        Further starts besides ``init`` (the problem is not convex for ``β > 0``):
        the uniform encoder, the best minima of a hard-assignment local search
        refined by eq. (17), then seeded random starts (:mod:`infotheory.search`);
        the lowest ``F`` is returned, and ``starts``, ``starts_at_best``,
        ``objective_spread``, ``start`` and ``message`` say how sure it is. ``0``:
        the single start ``init`` only. ``None`` (default): 0 at ``β = 0``
        (convex: every start reaches the certified optimum) and for ``k = 1`` (one
        encoder exists), ``search.DEFAULT_RESTARTS`` (4) otherwise. The answer is never above the ``restarts=0`` answer.
    executor : concurrent.futures.Executor, optional
        Runs the independent starts (e.g. a process pool or a ``dask.distributed``
        client); default: one after the other in this process.

    Returns
    -------
    SemanticRDResult

    Examples
    --------
    Binary source, Hamming distortion: at slope ``s = 1/λ`` the optimum has
    ``D = 1/(1+e^s)`` and ``R = h(p) - h(D)``.

    >>> import numpy as np
    >>> from infotheory import semantic_rd
    >>> res = semantic_rd([0.5, 0.5], np.ones((2, 1)), 1 - np.eye(2), beta=0, lam=0.5)
    >>> bool(abs(res.distortion_rd - 1 / (1 + np.exp(2.0))) < 1e-10)
    True
    >>> res.converged and bool(res.gap < 1e-10)
    True

    At ``β > 0`` several starts are tried by default; here every one of them ends at
    the identity encoder (the label-swapped stationary point has F = 3.70 bits):

    >>> res = semantic_rd([.25, .75], [[.9, .1], [.1, .9]], 1 - np.eye(2), beta=10, lam=0.5)
    >>> bool(np.allclose(res.encoder, np.eye(2), atol=1e-6)), res.starts
    (True, 5)
    """
    problem = Problem.from_arrays(p_x, p_y_given_x, d_rd)
    point = problem.at(beta=beta, lam=lam)
    options = SolverOptions(
        tol=tol,
        gap_tol=gap_tol,
        max_iter=max_iter,
        base=base,
        accelerate=accelerate,
        restarts=restarts,
        seed=seed,
    )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    executor = check_executor(executor)
    if executor is not None and callback is not None:
        raise ValueError("callback cannot be combined with executor (the starts run elsewhere)")
    return _answer(point, init, options, callback, executor, "semantic_rd")


def solve_problem(
    problem: Problem,
    *,
    beta: float,
    lam: float,
    init: InitSpec = "random",
    options: SolverOptions | None = None,
    executor: Executor | None = None,
) -> SemanticRDResult:
    """:func:`semantic_rd` on a validated :class:`~infotheory.problem.Problem`: a
    top-level (picklable) function that a process pool or a cluster runs for one
    ``(β, λ)``. ``options`` default to ``SolverOptions()``; ``executor`` runs the
    restarts. Warns (:class:`ConvergenceWarning`) as :func:`semantic_rd` does."""
    options = SolverOptions() if options is None else options
    point = problem.at(beta=beta, lam=lam)
    return _answer(point, init, options, None, check_executor(executor), "solve_problem")


def _answer(
    point: Point,
    init: InitSpec,
    options: SolverOptions,
    callback: Callback | None,
    executor: object,
    who: str,
) -> SemanticRDResult:
    """The answer at ``point`` from ``init``, with the warning of an unconverged answer
    (the flag ``max_iter_reached``, never the message text) at the caller of ``who``."""
    first = _start_name(init, options.seed)
    res = _solve_point(
        point, point.problem.start(init, options.seed), options, first, callback, executor
    )
    if res.max_iter_reached:
        warnings.warn(
            f"{who}: {res.message} (residual {res.residual:.3g}); the result is not converged",
            ConvergenceWarning,
            stacklevel=3,
        )
    return res


def _solve_point(
    point: Point,
    enc: np.ndarray,
    options: SolverOptions,
    first: str,
    callback: Callback | None,
    executor: object,
) -> SemanticRDResult:
    """The answer at one ``(β, λ)``: one start, or the best of ``1 + restarts``."""
    restarts = options.restarts_for(point.beta, point.problem.k)
    with threadpool_limits(limits=1, user_api="blas"):
        if restarts == 0:
            return replace(solve_start(point, enc, options, callback), start=first)
        return _search.best_of_starts(
            point,
            enc,
            options,
            callback,
            restarts=restarts,
            first=first,
            executor=executor,
            solve=solve_start,
            warmup=_accel.WARMUP,
        )


def _start_name(init: InitSpec, seed: int) -> str:
    if isinstance(init, str):
        return f"random (seed {seed})" if init == "random" else init
    return "the given start"


def evaluate_encoder(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    encoder: object,
    *,
    beta: float,
    lam: float,
    base: float = DEFAULTS.base,
) -> SemanticRDResult:
    """Every quantity of :class:`SemanticRDResult` for a *given* encoder ``p(x̂|x)``.

    Useful to score an encoder obtained elsewhere (e.g. from a neural system) or to
    check a solution: ``residual`` is the stationarity residual of eqs. (12)–(15),
    ``max |T(p)(x̂|x) - p(x̂|x)|`` where ``T`` is one step of eq. (17) with the
    marginals of this encoder; it is 0 exactly at a stationary point.
    ``iterations`` is 0, ``converged`` False and, for β = 0, ``rate_lower_bound``
    is Blahut's bound computed from this encoder's marginal.

    >>> import numpy as np
    >>> from infotheory import evaluate_encoder
    >>> ev = evaluate_encoder([0.5, 0.5], np.eye(2), np.zeros((2, 2)), np.eye(2), beta=1, lam=1)
    >>> ev.rate, ev.relevance, ev.distortion_ib
    (1.0, 1.0, 0.0)
    """
    pb = Problem.from_arrays(p_x, p_y_given_x, d_rd)
    enc = check_conditional(encoder, "encoder")
    if enc.shape != pb.d_rd.shape:
        raise ValueError(
            f"encoder must have shape (n, k) = {pb.d_rd.shape} like d_rd, got {enc.shape}"
        )
    point = pb.at(beta=beta, lam=lam)
    log_base = check_base(base)
    with threadpool_limits(limits=1, user_api="blas"):
        return evaluate(point, enc.copy(), log_base)


def rate_distortion(
    p_x: object,
    d: object,
    *,
    lam: float,
    init: InitSpec = "random",
    seed: int = DEFAULTS.seed,
    tol: float = DEFAULTS.tol,
    gap_tol: float = DEFAULTS.gap_tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    callback: Callback | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
) -> SemanticRDResult:
    """Classical rate-distortion by Blahut–Arimoto: :func:`semantic_rd` with ``β = 0``.

    The returned point ``(distortion_rd, rate)`` lies on ``R(D)`` where its slope
    is ``-1/λ`` (rate in nats), certified by ``rate_lower_bound`` (Blahut's bound).

    >>> import numpy as np
    >>> from infotheory import rate_distortion
    >>> res = rate_distortion([0.5, 0.5], 1 - np.eye(2), lam=0.5)
    >>> h = lambda t: -t * np.log2(t) - (1 - t) * np.log2(1 - t)
    >>> bool(abs(res.rate - (1 - h(res.distortion_rd))) < 1e-9)
    True
    """
    px = check_distribution(p_x, "p_x", ndim=1)
    # a single trivial label: D_IB ≡ 0 and the problem is exactly classical RD
    return semantic_rd(
        px,
        np.ones((px.shape[0], 1)),
        d,
        beta=0.0,
        lam=lam,
        init=init,
        seed=seed,
        tol=tol,
        gap_tol=gap_tol,
        max_iter=max_iter,
        base=base,
        callback=callback,
        accelerate=accelerate,
    )


def information_bottleneck(
    p_x: object,
    p_y_given_x: object,
    n_clusters: int,
    *,
    beta_ib: float,
    init: InitSpec = "random",
    seed: int = DEFAULTS.seed,
    tol: float = DEFAULTS.tol,
    max_iter: int = DEFAULTS.max_iter,
    base: float = DEFAULTS.base,
    callback: Callback | None = None,
    accelerate: bool | str = DEFAULTS.accelerate,
    restarts: int | None = DEFAULTS.restarts,
    executor: Executor | None = None,
) -> SemanticRDResult:
    """Tishby's iterative information bottleneck: :func:`semantic_rd` with ``d_RD ≡ 0``.

    Minimises ``I(X;T) - β_IB·I(T;Y)`` over ``p(t|x)`` with ``n_clusters`` values of
    ``T`` (= X̂). It is the semantic problem with ``d_RD ≡ 0``, ``λ = 1`` and
    ``β = β_IB`` (only ``β/λ = β_IB`` matters). The problem is not convex: the
    result is a stationary point; by default (``restarts=None``) the lowest ``F`` over
    several starts, as :func:`semantic_rd` does for ``β > 0`` (``restarts=0``: the
    single start ``init``/``seed``).

    >>> import numpy as np
    >>> from infotheory import information_bottleneck
    >>> pyx = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    >>> res = information_bottleneck(np.full(4, 0.25), pyx, 2, beta_ib=20.0)
    >>> res.converged and bool(res.relevance > 0.39)  # 1 - h(0.15) = 0.3902 at the optimum
    True
    """
    px = check_distribution(p_x, "p_x", ndim=1)
    n_clusters = check_int(n_clusters, "n_clusters", minimum=1)
    beta_ib = check_positive(beta_ib, "beta_ib", allow_zero=True)
    return semantic_rd(
        px,
        p_y_given_x,
        np.zeros((px.shape[0], n_clusters)),
        beta=beta_ib,
        lam=1.0,
        init=init,
        seed=seed,
        tol=tol,
        max_iter=max_iter,
        base=base,
        callback=callback,
        accelerate=accelerate,
        restarts=restarts,
        executor=executor,
    )
