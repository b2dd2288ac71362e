"""One start solved to its stopping rules: plain eq. (17), or the accelerated path
(a plain warm-up, the accelerated phase of :mod:`infotheory.accelerate`, then plain
steps that certify), and the evaluation of a given encoder. Every plain step runs
through the iteration core (:func:`infotheory.core.iterate`) on the single-problem
backend (:class:`infotheory.backend_numpy.NumpyBackend`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import accelerate as _accel
from . import core
from .backend_numpy import NumpyBackend
from .core import Callback
from .options import SolverOptions
from .problem import Point
from .result import SemanticRDResult, make_result


def solve_start(
    point: Point,
    enc: np.ndarray,
    options: SolverOptions,
    callback: Callback | None = None,
    warmup: int = _accel.WARMUP,
    it0: int = 0,
) -> SemanticRDResult:
    """Plain or accelerated solve of ``point`` from ``enc`` (``options.max_iter`` steps
    at most; ``it0`` steps were taken before, e.g. by the batched solver). Never warns.

    Accelerated: ``warmup`` plain steps, the accelerated phase
    (:func:`accelerate.sqp_rd` for β = 0, :func:`accelerate.newton_semantic` for
    β > 0), then plain steps that apply the same stopping rules and certificate as
    plain iteration (:func:`infotheory.core.iterate`)."""
    max_iter = options.max_iter
    if not options.accelerated or max_iter <= warmup:
        return plain(point, enc, options, callback, max_iter, it0)
    used = it0
    if warmup > 0:
        # warm-up: plain steps (they make the large early progress and identify most of
        # the support); a problem that converges here never sees the accelerated phase
        res = plain(point, enc, options, callback, warmup, it0)
        if res.converged or res.message == core.STOPPED_BY_CALLBACK:
            return res
        enc, used = res.encoder, res.iterations
    budget = max_iter + it0 - used
    pb = point.problem
    px, pyx, dl = pb.p_x, pb.p_y_given_x, point.dl
    r = np.full((pb.k, pb.m), 1.0 / pb.m)  # p(y|x̂), unused at β = 0
    if point.beta == 0:
        q, steps, why = _accel.sqp_rd(
            px,
            dl,
            px @ enc,
            gap_tol=0.5 * options.gap_tol_nats,
            log_c_tol=0.5 * options.tol,
            max_steps=budget - 1,
            callback=callback,
            it0=used,
        )
    else:
        q, r = core.marginals(pb.joint_xy, enc, r)
        q, r, steps, why = _accel.newton_semantic(
            px, pyx, dl, point.coef, q, r, max_steps=budget - 1, callback=callback, it0=used
        )
    enc = NumpyBackend.encoder_from_marginals(point, q, r)
    used += steps
    if why == core.STOPPED_BY_CALLBACK:
        ev = evaluate(point, enc, options.log_base)
        return replace(ev, iterations=used, converged=False, message=why)
    # final plain steps: the same stopping rules (and certificate) as plain iteration
    res = plain(point, enc, options, callback, max_iter + it0 - used, used)
    return replace(
        res, message=f"{res.message} [accelerated: {warmup} plain warm-up steps, then {why}]"
    )


def plain(
    point: Point,
    enc: np.ndarray,
    options: SolverOptions,
    callback: Callback | None,
    max_iter: int,
    it0: int,
) -> SemanticRDResult:
    """Plain eq. (17) from ``enc`` (taken over) by the single-problem backend."""
    backend = NumpyBackend(point, enc)
    outcome = core.iterate(
        backend,
        beta=point.beta,
        tol=options.tol,
        gap_tol=options.gap_tol_nats,
        max_iter=max_iter,
        callback=callback,
        it0=it0,
    )
    return make_result(point, backend, outcome, options.log_base, it0=it0)


def evaluate(point: Point, enc: np.ndarray, log_base: float) -> SemanticRDResult:
    """The result of the encoder ``enc`` (taken over) itself: one step measures its
    residual and, for β = 0, Blahut's bound (:func:`infotheory.core.evaluate`)."""
    backend = NumpyBackend(point, enc)
    outcome = core.evaluate(backend, beta=point.beta)
    return make_result(point, backend, outcome, log_base, evaluated=True)
