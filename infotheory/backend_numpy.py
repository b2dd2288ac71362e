"""The single-problem backend of the iteration core: eq. (17) by the Numba step kernels
of :mod:`infotheory.kernels` and BLAS (:class:`NumpyBackend`, the
:class:`infotheory.core.Backend` protocol).

Buffers are allocated once per run; a step allocates nothing of size ``n·k``.
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
        self.joint_xy = pb.joint_xy
        self.joint_yx = np.ascontiguousarray(pb.joint_xy.T)  # p(x, y) as rows of length n
        self._p_x_col = np.ascontiguousarray(pb.p_x[:, None])
        self.dl, self.coef = point.dl, point.coef
        self.use_ib = self.coef > 0
        self.encoder, self.previous = enc, np.empty_like(enc)
        q, self.r = marginals(pb.joint_xy, enc, np.full((k, pb.m), 1.0 / pb.m))
        self.q, self.q_new = np.empty(k), q  # the first step starts from q_new
        self.log_q = np.empty(k)
        self.log_mu = np.empty(n)
        self._row_resid = np.empty(n)
        self._num = np.empty((pb.m, k))
        self._q_row = np.empty((1, k))
        # Σ_y p(y|x) log p_k(y|x̂): inside the row pass for few labels, else one GEMM
        self.fused_labels = pb.m <= kernels.FUSED_LABELS_MAX
        self._log_r_t = np.empty((pb.m, k)) if self.fused_labels else np.empty((0, k))

    def step(self) -> float:
        """Eq. (17) from ``(q_new, r)``; see :class:`infotheory.core.Backend`."""
        self.q, self.q_new = self.q_new, self.q
        q, log_q, new = self.q, self.log_q, self.previous
        log_q.fill(-np.inf)
        np.log(q, out=log_q, where=q > 0)
        args = (self.coef, self.h_x, self.encoder, new, self.log_mu, self._row_resid)
        if not self.use_ib:  # step 1 and, summed in the same pass, step 2
            kernels.encoder_step(
                log_q, self.dl, self.p_y_given_x, self._log_r_t, *args, self._p_x_col, self._q_row
            )
            self.q_new[:] = self._q_row[0]
            return self._finish(new)
        if self.fused_labels:  # log p_k(y|x̂) for Σ_y p(y|x) log p_k(y|x̂) of eq. (17) step 1
            kernels.log_r_transposed(self.r, self._log_r_t)
            kernels.encoder_step(
                log_q, self.dl, self.p_y_given_x, self._log_r_t, *args, self.joint_xy, self._num
            )
            num = self._num  # p_{k+1}(y, x̂), summed in the same pass
        else:  # Σ_y p(y|x) log p_k(y|x̂) by one GEMM, into `new`; then the marginals by one
            log_likelihood(self.p_y_given_x, self.r, out=new)
            kernels.encoder_step_cross(log_q, self.dl, new, *args)
            num = np.matmul(self.joint_yx, new, out=self._num)
        # eq. (17) steps 2 and 3 (rows of symbols out of use keep their value)
        np.sum(num, axis=0, out=self.q_new)
        np.divide(num.T, self.q_new[:, None], out=self.r, where=self.q_new[:, None] > 0)
        return self._finish(new)

    def _finish(self, new: np.ndarray) -> float:
        self.previous, self.encoder = self.encoder, new
        return float(self._row_resid.max())

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
