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

import math
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

import numpy as np
from threadpoolctl import threadpool_limits

from . import accelerate as _accel
from . import kernels
from . import search as _search
from ._logdomain import log_likelihood as _log_likelihood
from ._logdomain import safe_log as _log
from ._validation import (
    check_base,
    check_conditional,
    check_distribution,
    check_int,
    check_positive,
)
from .options import SolverOptions
from .parallel import check_executor
from .problem import InitSpec, Point, Problem


class ConvergenceWarning(RuntimeWarning):
    """The iteration stopped at ``max_iter`` before meeting its tolerances."""


@dataclass(frozen=True)
class SemanticRDResult:
    """Result of :func:`semantic_rd` (and its front ends).

    Every field is computed from the returned ``encoder`` (not from an earlier
    iterate). Information quantities are in units of ``base`` (bits by default).

    Attributes
    ----------
    encoder : ndarray, shape (n, k)
        The test channel ``p(x̂|x)``; each row sums to 1.
    p_xhat : ndarray, shape (k,)
        ``p(x̂) = Σ_x p(x) p(x̂|x)`` (eq. 14). Zero for reproduction symbols out of use.
    p_y_given_xhat : ndarray, shape (k, m)
        ``p(y|x̂) = Σ_x p(y|x) p(x|x̂)`` (eq. 15). For a symbol out of use the row is
        the last value it had while in use.
    rate : float
        ``I(X;X̂)``.
    distortion_rd : float
        ``D_RD = E[d_RD(X, X̂)]``, in the units of ``d_rd``.
    distortion_ib : float
        ``D_IB = E[KL(p(y|x) || p(y|x̂))] = I(X;Y|X̂) = I(X;Y) - I(X̂;Y)`` (eqs. 1–3).
    distortion : float
        ``D_S = D_RD + β·D_IB`` (eq. 6), with ``D_IB`` in nats (the unit in which
        β and λ are defined), in the units of ``d_rd``.
    relevance : float
        ``I(X̂;Y)``.
    objective : float
        ``F = I(X;X̂) + D_S/λ`` (nats inside), expressed in units of ``base``.
    iterations : int
        Number of eq. (17) steps taken.
    converged : bool
        True when the tolerances were met (for β = 0 the certificate included).
    residual : float
        Stationarity residual of eqs. (12)–(15): ``max |p_{t+1}(x̂|x) - p_t(x̂|x)|``
        over the last step.
    rate_lower_bound : float or None
        β = 0 only: Blahut's lower bound on ``R(D)`` at ``D = distortion_rd``.
        ``rate - rate_lower_bound`` certifies how far the point is from the R(D) curve.
    gap : float or None
        β = 0 only: ``rate - rate_lower_bound`` (≥ 0 up to rounding).
    beta, lam : float
        The trade-off parameters that were solved.
    base : float
        Logarithm base of the information quantities.
    message : str
        Why the iteration stopped. For β > 0 it says that the answer is a stationary
        point of eqs. (12)–(15) (the problem is not convex).
    objective_change : float or None
        ``F(previous encoder) - F(encoder)`` over the last step, units of ``base``
        (≥ 0 up to rounding: F never increases). For :func:`evaluate_encoder`, what
        one more eq. (17) step would gain. None when no step was taken.
    starts : int
        Number of starts solved (``1 + restarts``; see :mod:`infotheory.search`).
    starts_at_best : int
        How many of them reached the returned point (``F`` equal to 1e-9 relative).
        Small against ``starts`` means a rugged landscape: more ``restarts`` may
        find a lower ``F``.
    objective_spread : float
        ``max F - min F`` over the starts, units of ``base`` (0 for one start).
    max_iter_reached : bool
        True when the returned start used its whole ``max_iter`` budget without
        meeting its stopping rules (``converged`` is then False and a
        :class:`ConvergenceWarning` was issued).
    start : str
        The start that produced the returned point (``"random (seed 0)"``,
        ``"uniform"``, ``"local search 1"``, ``"the given start"``, ...).
    """

    encoder: np.ndarray
    p_xhat: np.ndarray
    p_y_given_xhat: np.ndarray
    rate: float
    distortion_rd: float
    distortion_ib: float
    distortion: float
    relevance: float
    objective: float
    iterations: int
    converged: bool
    residual: float
    rate_lower_bound: float | None
    gap: float | None
    beta: float
    lam: float
    base: float
    message: str = field(default="")
    objective_change: float | None = field(default=None)
    starts: int = field(default=1)
    starts_at_best: int = field(default=1)
    objective_spread: float = field(default=0.0)
    start: str = field(default="")
    max_iter_reached: bool = field(default=False)


Callback = Callable[[int, np.ndarray], bool | None]


def _row_entropies(p_y_given_x: np.ndarray) -> np.ndarray:
    """``H(Y|X=x)`` in nats for every row (``0 log 0 = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p_y_given_x > 0, p_y_given_x * np.log(p_y_given_x), 0.0)
    return -t.sum(axis=1)


def _plogp(a: np.ndarray) -> float:
    """``Σ a log a`` (nats) with ``0 log 0 = 0``."""
    nz = a[a > 0]
    return float(np.dot(nz, np.log(nz)))


def _marginals(
    joint_xy: np.ndarray, enc: np.ndarray, previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Eq. (17) steps 2–3 from one GEMM: ``p(x̂) = Σ_x p(x) p(x̂|x)`` and
    ``p(y|x̂) = Σ_x p(x,y) p(x̂|x) / p(x̂)``; rows of symbols out of use keep their
    ``previous`` value."""
    num = joint_xy.T @ enc  # (m, k): p(y, x̂)
    q = num.sum(axis=0)
    alive = q > 0
    r = previous.copy()
    r[alive] = (num[:, alive] / q[alive]).T
    return q, r


def _initial_encoder(init: InitSpec, n: int, k: int, seed: int) -> np.ndarray:
    if isinstance(init, str):
        if init == "random":
            return _search.random_encoder(n, k, seed)  # Dirichlet(1) rows, strictly positive
        if init == "uniform":
            return np.full((n, k), 1.0 / k)
        raise ValueError(f"init must be 'random', 'uniform' or an (n, k) array, got {init!r}")
    enc = check_conditional(init, "init")
    if enc.shape != (n, k):
        raise ValueError(f"init must have shape (n, k) = {(n, k)}, got {enc.shape}")
    return enc.copy()


def _summarise(
    enc: np.ndarray,
    p_x: np.ndarray,
    p_y_given_x: np.ndarray,
    d_rd: np.ndarray,
    r_prev: np.ndarray,
    beta: float,
    lam: float,
) -> dict:
    """All result quantities (nats) from one encoder, computed afresh."""
    joint = p_x[:, None] * enc  # p(x, x̂)
    q = joint.sum(axis=0)
    # I(X;X̂) = Σ p(x,x̂) [log p(x̂|x) - log p(x̂)], in logs (products of tiny numbers underflow)
    i, j = np.nonzero(joint)
    rate = float(np.dot(joint[i, j], np.log(enc[i, j]) - np.log(q[j])))
    d_rd_mean = float(np.sum(joint * d_rd))
    joint_xy = p_x[:, None] * p_y_given_x
    joint_xhat_y = enc.T @ joint_xy  # p(x̂, y)
    alive = joint_xhat_y.sum(axis=1) > 0
    r = r_prev.copy()
    r[alive] = joint_xhat_y[alive] / joint_xhat_y[alive].sum(axis=1, keepdims=True)  # eq. (15)
    # D_IB = E[KL(p(y|x) || p(y|x̂))] = H(Y|X̂) - H(Y|X)  (eqs. 1–3); this form stays finite
    # even where p(x, x̂) is subnormal
    h_y_given_xhat = -_plogp(joint_xhat_y) + _plogp(joint_xhat_y.sum(axis=1))
    h_y_given_x = -_plogp(joint_xy) + _plogp(p_x)
    d_ib = max(h_y_given_xhat - h_y_given_x, 0.0)
    # I(X̂;Y) = H(Y) - H(Y|X̂)
    relevance = max(-_plogp(joint_xhat_y.sum(axis=0)) - h_y_given_xhat, 0.0)
    rate = max(rate, 0.0)
    d_s = d_rd_mean + beta * d_ib
    return dict(
        q=q,
        r=r,
        rate=rate,
        d_rd=d_rd_mean,
        d_ib=d_ib,
        d_s=d_s,
        relevance=relevance,
        objective=rate + d_s / lam,
    )


def semantic_rd(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    *,
    beta: float,
    lam: float,
    init: InitSpec = "random",
    seed: int = 0,
    tol: float = 1e-10,
    gap_tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    callback: Callback | None = None,
    accelerate: bool | str = "auto",
    restarts: int | None = None,
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
        Reconstruction distortion ``d_RD(x, x̂)``, any finite reals (adding a
        constant changes only ``distortion_rd``).
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
        Maximum number of steps; hitting it sets ``converged=False`` and warns.
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
    res = _solve_point(
        point,
        problem.start(init, options.seed),
        options,
        _start_name(init, options.seed),
        callback,
        executor,
    )
    _warn_if_unconverged(res, "semantic_rd", stacklevel=3)
    return res


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
    res = _solve_point(
        point,
        problem.start(init, options.seed),
        options,
        _start_name(init, options.seed),
        None,
        check_executor(executor),
    )
    _warn_if_unconverged(res, "solve_problem", stacklevel=3)
    return res


def _warn_if_unconverged(res: SemanticRDResult, who: str, stacklevel: int) -> None:
    if res.max_iter_reached:
        warnings.warn(
            f"{who}: {res.message} (residual {res.residual:.3g}); the result is not converged",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def _solve_point(
    point: Point,
    enc: np.ndarray,
    options: SolverOptions,
    first: str,
    callback: Callback | None,
    executor: Executor | None,
) -> SemanticRDResult:
    """The answer at one ``(β, λ)``: one start, or the best of ``1 + restarts``."""
    pb = point.problem
    px, pyx, d = pb.p_x, pb.p_y_given_x, pb.d_rd
    beta, lam = point.beta, point.lam
    restarts = options.restarts_for(beta, pb.k)
    log_base = options.log_base
    with threadpool_limits(limits=1, user_api="blas"):
        if restarts == 0:
            res = _solve(
                px,
                pyx,
                d,
                enc,
                beta,
                lam,
                options.tol,
                options.gap_tol_nats,
                options.max_iter,
                log_base,
                callback,
                options.accelerated,
                warn=False,
            )
            return replace(res, start=first)
        return _search.best_of_starts(
            px,
            pyx,
            d,
            enc,
            beta,
            lam,
            options.tol,
            options.gap_tol_nats,
            options.max_iter,
            log_base,
            callback,
            options.accelerated,
            restarts=restarts,
            seed=options.seed,
            first=first,
            executor=executor,
            solve=_solve,
            warmup=_accel.WARMUP,
        )


def _start_name(init: InitSpec, seed: int) -> str:
    if isinstance(init, str):
        return f"random (seed {seed})" if init == "random" else init
    return "the given start"


def _solve(
    px,
    pyx,
    d,
    enc,
    beta,
    lam,
    tol,
    gap_tol_nats,
    max_iter,
    log_base,
    callback,
    accel,
    warmup: int = _accel.WARMUP,
    it0: int = 0,
    warn: bool = True,
) -> SemanticRDResult:
    """Plain or accelerated solve from ``enc`` (validated inputs; nats inside).

    Accelerated: ``warmup`` plain steps, the accelerated phase
    (:func:`accelerate.sqp_rd` for β = 0, :func:`accelerate.newton_semantic` for
    β > 0), then plain steps that apply the same stopping rules and certificate as
    plain iteration. ``it0`` steps were taken
    before (the batched solver's warm-up); ``warn=False`` leaves the warning at
    ``max_iter`` to the caller."""
    if not accel or max_iter <= warmup:
        return _iterate(
            px,
            pyx,
            d,
            enc,
            beta,
            lam,
            tol,
            gap_tol_nats,
            max_iter,
            log_base,
            callback,
            it0=it0,
            warn=warn,
        )
    if warmup > 0:
        # warm-up: plain steps (they make the large early progress and identify most of
        # the support); a problem that converges here never sees the accelerated phase
        res = _iterate(
            px,
            pyx,
            d,
            enc,
            beta,
            lam,
            tol,
            gap_tol_nats,
            warmup,
            log_base,
            callback,
            it0=it0,
            warn=False,
        )
        if res.converged or res.message == "stopped by callback":
            return res
        enc, used = res.encoder, res.iterations
    else:
        used = it0
    budget = max_iter + it0 - used
    dl = d / lam
    r = np.full((d.shape[1], pyx.shape[1]), 1.0 / pyx.shape[1])  # p(y|x̂), unused at β = 0
    if beta == 0:
        q, steps, why = _accel.sqp_rd(
            px,
            dl,
            px @ enc,
            gap_tol=0.5 * gap_tol_nats,
            log_c_tol=0.5 * tol,
            max_steps=budget - 1,
            callback=callback,
            it0=used,
        )
    else:
        q, r = _marginals(px[:, None] * pyx, enc, r)
        q, r, steps, why = _accel.newton_semantic(
            px, pyx, dl, beta / lam, q, r, max_steps=budget - 1, callback=callback, it0=used
        )
    enc = _encoder_from_marginals(q, r, dl, pyx, beta / lam)
    used += steps
    if why == "stopped by callback":
        ev = _iterate(px, pyx, d, enc, beta, lam, 0.0, 0.0, 1, log_base, None, evaluate_only=True)
        return replace(ev, iterations=used, converged=False, message=why)
    # final plain steps: the same stopping rules (and certificate) as plain iteration
    res = _iterate(
        px,
        pyx,
        d,
        enc,
        beta,
        lam,
        tol,
        gap_tol_nats,
        max_iter + it0 - used,
        log_base,
        callback,
        it0=used,
        warn=warn,
    )
    return replace(
        res, message=f"{res.message} [accelerated: {warmup} plain warm-up steps, then {why}]"
    )


def _encoder_from_marginals(
    q: np.ndarray, r: np.ndarray, dl: np.ndarray, pyx: np.ndarray, coef: float
) -> np.ndarray:
    """Eq. (12) from the marginals: ``p(x̂|x) = q(x̂) e^{-d_S(x,x̂)/λ} / μ(x)``, with
    ``d_IB`` through ``r = p(y|x̂)`` when ``coef = β/λ > 0``, by the same kernel as
    step 1 of eq. (17) (its residual output is not used here)."""
    n, k = dl.shape
    enc = np.empty((n, k))
    if coef > 0:
        _log_likelihood(pyx, r, out=enc)
    kernels.encoder_step(
        _log(q),
        dl,
        enc,
        coef,
        _row_entropies(pyx),
        enc,
        enc,
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.zeros(n, dtype=np.bool_),
    )
    return enc


def evaluate_encoder(
    p_x: object,
    p_y_given_x: object,
    d_rd: object,
    encoder: object,
    *,
    beta: float,
    lam: float,
    base: float = 2,
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
    px, pyx, d = pb.p_x, pb.p_y_given_x, pb.d_rd
    enc = check_conditional(encoder, "encoder")
    if enc.shape != d.shape:
        raise ValueError(f"encoder must have shape (n, k) = {d.shape} like d_rd, got {enc.shape}")
    beta = check_positive(beta, "beta", allow_zero=True)
    lam = check_positive(lam, "lam")
    log_base = check_base(base)
    with threadpool_limits(limits=1, user_api="blas"):
        res = _iterate(
            px, pyx, d, enc.copy(), beta, lam, 0.0, 0.0, 1, log_base, None, evaluate_only=True
        )
    return res


def _dead_log_c(px, dl, log_mu, q_prev, log_c) -> None:
    """Fill ``log_c`` for the symbols out of use in ``q_prev`` (explicit column sums)."""
    dead = np.flatnonzero(q_prev <= 0)
    if dead.size:
        log_c[dead] = kernels.dead_log_c(px, dl, log_mu, dead.astype(np.int64))


#: while Blahut's certificate fails only through symbols out of use, re-check them at most
#: this often (their explicit check costs O(n) exps per symbol)
_DEAD_CHECK_EVERY = 10


def _iterate(
    px,
    pyx,
    d,
    enc,
    beta,
    lam,
    tol,
    gap_tol_nats,
    max_iter,
    log_base,
    callback,
    evaluate_only=False,
    it0=0,
    warn=True,
):
    """Run eq. (17) from ``enc``. With ``evaluate_only`` one step is taken only to
    measure the residual and Blahut's bound, and ``enc`` itself is summarised.
    ``it0`` steps were taken before (by a warm-up or an accelerated phase): they
    count in ``iterations`` and in the numbering seen by ``callback``; ``warn=False``
    silences the warning at ``max_iter`` (a warm-up that is followed by more work)."""
    n, k = d.shape
    coef = beta / lam
    use_ib = coef > 0
    dl = d / lam
    h_x = _row_entropies(pyx)
    joint_xy = px[:, None] * pyx
    q, r = _marginals(joint_xy, enc, np.full((k, pyx.shape[1]), 1.0 / pyx.shape[1]))
    enc_new = np.empty_like(enc)
    log_mu = np.empty(n)
    row_resid = np.empty(n)
    row_max = np.empty(n)
    row_fallback = np.zeros(n, dtype=np.bool_)
    log_c = np.zeros(k)
    q_prev = q
    converged = False
    message = f"reached max_iter = {it0 + max_iter}"
    residual = np.inf
    next_dead_check = 0
    it = 0
    for it in range(1, max_iter + 1):
        log_q = _log(q)
        if use_ib:  # d_IB through p_k(y|x̂) (eq. 17, step 1), computed into enc_new
            _log_likelihood(pyx, r, out=enc_new)
        kernels.encoder_step(
            log_q, dl, enc_new, coef, h_x, enc, enc_new, log_mu, row_resid, row_max, row_fallback
        )
        if use_ib:
            q_new, r = _marginals(joint_xy, enc_new, r)  # eq. (17) steps 2 and 3
        else:
            q_new = px @ enc_new  # eq. (17) step 2
        residual = float(row_resid.max())
        if evaluate_only:
            q_prev, q = q, q_new
            message = "evaluation of a given encoder"
            break
        enc, enc_new = enc_new, enc
        if beta == 0:
            # Blahut's certificate (nats): c(x̂) = p_{k+1}(x̂)/p_k(x̂) for symbols in use,
            # gap = max_x̂ log c - Σ p_{k+1}(x̂) log c  =  F(encoder) - (lower bound on F*)
            alive = q > 0
            log_c[~alive] = -np.inf
            log_c[alive] = _log(q_new[alive]) - log_q[alive]
            if residual <= tol and _gap(log_c, q_new) <= gap_tol_nats and it >= next_dead_check:
                # the symbols out of use need explicit column sums (O(n) exps each): done
                # when the rest of the certificate holds, and then at most every
                # _DEAD_CHECK_EVERY steps while it keeps failing on them
                _dead_log_c(px, dl, log_mu, q, log_c)
                violated = (q <= 0) & (log_c > 1e-12)
                if violated.any():
                    # a symbol out of use violates Blahut's condition c(x̂) <= 1: bring it back
                    q_new = q_new.copy()
                    q_new[violated] = 1e-8
                    q_new /= q_new.sum()
                elif _gap(log_c, q_new) <= gap_tol_nats:
                    converged, message = True, "certified: rate - rate_lower_bound <= gap_tol"
                else:
                    next_dead_check = it + _DEAD_CHECK_EVERY
        elif residual <= tol:
            converged = True
            message = (
                "stationary point of eqs. (12)-(15): residual <= tol (non-convex for beta > 0)"
            )
        q_prev, q = q, q_new
        if callback is not None and callback(it0 + it, enc.copy()):
            message = "stopped by callback"
            break
        if converged:
            break
    if evaluate_only:
        it = 0
        if beta == 0:  # Blahut's c(x̂) for the step just taken from this encoder's marginal
            log_c[:] = -np.inf
            alive = q_prev > 0
            log_c[alive] = _log(q[alive]) - _log(q_prev[alive])
    elif message.startswith("reached") and warn:
        warnings.warn(
            f"semantic_rd: {message} (residual {residual:.3g}); the result is not converged",
            ConvergenceWarning,
            stacklevel=4,
        )

    s = _summarise(enc, px, pyx, d, r, beta, lam)
    d_obj = None
    if it > 0 or evaluate_only:
        # change in F over the last step: enc_new holds the previous encoder after the
        # swap (or, when only evaluating, the encoder one step on)
        f_other = _summarise(enc_new, px, pyx, d, r, beta, lam)["objective"]
        d_obj = (f_other - s["objective"]) / log_base
        if evaluate_only:
            d_obj = -d_obj
    rate_lb = gap = None
    if beta == 0:
        _dead_log_c(px, dl, log_mu, q_prev, log_c)
        # Blahut: F* >= G_lb = -Σ p(x) log μ(x) - max log c(x̂); R(D) >= G_lb - D/λ for every D
        g_lb = -float(np.dot(px, log_mu)) - float(log_c.max())
        # rounding can put the bound a few ulps above the rate it bounds; lowering a
        # lower bound keeps it valid (R(D) <= rate at the reached D)
        rate_lb = min((g_lb - s["d_rd"] / lam) / log_base, s["rate"] / log_base)
        gap = s["rate"] / log_base - rate_lb
    return SemanticRDResult(
        encoder=enc,
        p_xhat=s["q"],
        p_y_given_xhat=s["r"],
        rate=s["rate"] / log_base,
        distortion_rd=s["d_rd"],
        distortion_ib=s["d_ib"] / log_base,
        distortion=s["d_s"],
        relevance=s["relevance"] / log_base,
        objective=s["objective"] / log_base,
        iterations=it0 + it,
        converged=converged,
        residual=residual,
        rate_lower_bound=rate_lb,
        gap=gap,
        beta=beta,
        lam=lam,
        base=math.exp(log_base),
        message=message,
        objective_change=d_obj,
        max_iter_reached=message.startswith("reached max_iter"),
    )


def _gap(log_c: np.ndarray, q_new: np.ndarray) -> float:
    """``max log c - Σ q_new log c`` (nats) over the filled entries of ``log_c``."""
    used = q_new > 0
    return float(log_c.max() - np.dot(q_new[used], log_c[used]))


def rate_distortion(
    p_x: object,
    d: object,
    *,
    lam: float,
    init: InitSpec = "random",
    seed: int = 0,
    tol: float = 1e-10,
    gap_tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    callback: Callback | None = None,
    accelerate: bool | str = "auto",
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
    seed: int = 0,
    tol: float = 1e-10,
    max_iter: int = 100_000,
    base: float = 2,
    callback: Callback | None = None,
    accelerate: bool | str = "auto",
    restarts: int | None = None,
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
