"""The single-problem backend of the iteration core: eq. (17) by the Numba step kernels
of :mod:`infotheory.kernels` and BLAS (:class:`NumpyBackend`, the
:class:`infotheory.core.Backend` protocol).

Buffers are allocated once per run; a step allocates nothing of size ``n·k`` (but the
first, in place, copies the start encoder). With at
most ``kernels.FUSED_LABELS_MAX`` labels (and always at β = 0) a step is one pass over
the encoder, in place: step 1 row by row with the label sum ``Σ_y p(y|x) log p_k(y|x̂)``
formed in the row and the numerators of steps 2–3 summed in the same pass. The encoder
before the last step (``previous``, read once, for the result's ``objective_change``)
is then recomputed from the inputs of that step, which are kept (``k + m·k`` floats):
the kernel is deterministic, so it is the same array bit for bit. With more labels,
the label sum is one GEMM into a second n×k buffer and the marginals another.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from ._logdomain import log_likelihood
from .core import marginals
from .problem import Point


class NumpyBackend:
    """Eq. (17) on one problem from the encoder ``enc`` (taken over, not copied).

    ``q``/``q_new``, ``encoder``/``previous`` and ``log_mu`` follow
    :class:`infotheory.core.Backend`; ``r`` is ``p(y|x̂)`` of the newest marginal
    (rows of symbols out of use keep their last value)."""

    def __init__(self, point: Point, enc: np.ndarray) -> None:
        pb = point.problem
        n, k = enc.shape
        self.p_x, self.p_y_given_x, self.h_x = pb.p_x, pb.p_y_given_x, pb.row_entropies
        self.dl, self.coef = point.dl, point.coef
        self.use_ib = self.coef > 0
        # Σ_y p(y|x) log p_k(y|x̂): inside the row pass for few labels, else one GEMM
        self.fused_labels = pb.m <= kernels.FUSED_LABELS_MAX
        self.in_place = self.fused_labels or not self.use_ib
        # the weights of the numerators summed in the pass: p(x, y) (steps 2-3), p(x) (step 2)
        self._weights = pb.joint_xy if self.use_ib else np.ascontiguousarray(pb.p_x[:, None])
        self._num = np.empty((self._weights.shape[1], k))
        self.encoder = enc
        # the GEMM path: a second encoder buffer and p(x, y) as rows of length n
        self._other = None if self.in_place else np.empty_like(enc)
        self._joint_yx = None if self.in_place else np.ascontiguousarray(pb.joint_xy.T)
        q, self.r = marginals(pb.joint_xy, enc, np.full((k, pb.m), 1.0 / pb.m))
        self.q, self.q_new = np.empty(k), q  # the first step starts from q_new
        self.log_q = np.empty(k)
        self.log_mu = np.empty(n)
        self._row_resid = np.empty(n)
        self._log_r_t = np.empty((pb.m if self.use_ib and self.fused_labels else 0, k))
        self.steps = 0
        # in place: the encoder before the first step, and the inputs (log q, log r) of
        # the last two steps: what `previous` is recomputed from
        self._start: np.ndarray | None = None
        self._inputs: list[tuple[np.ndarray, np.ndarray]] = []
        self._previous, self._previous_at = enc, -1

    def step(self) -> float:
        """Eq. (17) from ``(q_new, r)``; see :class:`infotheory.core.Backend`."""
        self.q, self.q_new = self.q_new, self.q
        q, log_q = self.q, self.log_q
        log_q.fill(-np.inf)
        np.log(q, out=log_q, where=q > 0)
        if self.use_ib and self.fused_labels:  # log p_k(y|x̂), for Σ_y p(y|x) log p_k(y|x̂)
            kernels.log_r_transposed(self.r, self._log_r_t)
        if self.in_place:
            if self.steps == 0:
                self._start = self.encoder.copy()
            elif self.steps == 1:
                self._start = None  # from now on `previous` is recomputed
            self._inputs = [*self._inputs[-1:], (log_q.copy(), self._log_r_t.copy())]
            new = self.encoder  # step 1 and the numerators of steps 2-3 in one pass
            self._step_1(log_q, self._log_r_t, new, self.log_mu, self._row_resid, self._num)
        else:  # Σ_y p(y|x) log p_k(y|x̂) by one GEMM, into the other buffer; marginals by one
            assert self._other is not None and self._joint_yx is not None
            new = self._other
            log_likelihood(self.p_y_given_x, self.r, out=new)
            kernels.encoder_step_cross(
                log_q, self.dl, new, self.coef, self.h_x, self.encoder, new, self.log_mu,
                self._row_resid,
            )  # fmt: skip
            np.matmul(self._joint_yx, new, out=self._num)
            self._other, self.encoder = self.encoder, new
        num = self._num
        if self.use_ib:  # eq. (17) steps 2 and 3 (rows of symbols out of use keep their value)
            np.sum(num, axis=0, out=self.q_new)
            np.divide(num.T, self.q_new[:, None], out=self.r, where=self.q_new[:, None] > 0)
        else:  # eq. (17) step 2
            self.q_new[:] = num[0]
        self.steps += 1
        return float(self._row_resid.max())

    def _step_1(self, log_q, log_r_t, enc, log_mu, row_resid, num) -> None:
        kernels.encoder_step(
            log_q, self.dl, self.p_y_given_x, log_r_t, self.coef, self.h_x, enc, enc, log_mu,
            row_resid, self._weights, num,
        )  # fmt: skip

    @property
    def previous(self) -> np.ndarray:
        """The encoder the last step started from (before any step, the encoder). In
        place, it is recomputed (once per step count) from the kept inputs of the step
        that made it; see the module docstring."""
        if self.steps == 0:
            return self.encoder
        if not self.in_place:
            assert self._other is not None
            return self._other
        if self.steps == 1:
            assert self._start is not None
            return self._start
        if self._previous_at != self.steps:
            log_q, log_r_t = self._inputs[0]
            out = np.zeros_like(self.encoder)
            n = out.shape[0]
            self._step_1(log_q, log_r_t, out, np.empty(n), np.empty(n), np.empty_like(self._num))
            self._previous, self._previous_at = out, self.steps
        return self._previous

    def certify(self, log_c: np.ndarray) -> None:
        """Blahut's ``log c`` of the symbols out of use in ``q`` (explicit column sums)."""
        dead = np.flatnonzero(self.q <= 0)
        if dead.size:
            log_c[dead] = kernels.dead_log_c(self.p_x, self.dl, self.log_mu, dead)

    @classmethod
    def encoder_from_marginals(cls, point: Point, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Eq. (12) from the marginals: ``p(x̂|x) = q(x̂) e^{-d_S(x,x̂)/λ} / μ(x)`` (``d_IB``
        through ``r = p(y|x̂)`` when ``β > 0``), by the same kernel as step 1 of eq. (17)."""
        pb = point.problem
        backend = cls(point, np.full((pb.n, pb.k), 1.0 / pb.k))
        backend.q_new, backend.r = q.copy(), r.copy()
        backend.step()
        return backend.encoder
