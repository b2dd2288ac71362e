"""Accelerated Blahut–Arimoto: certified answers in a fraction of the iterations.

Plain iteration of eq. (17) converges linearly, and very slowly where reproduction
symbols must die out (their mass decays like ``Π c_t(x̂)`` with ``c`` just below 1)
or where neighbouring symbols share their mass (the Jacobian of the iteration has
eigenvalues close to 1). This package holds the accelerated phases that
:func:`infotheory.semantic_rd` runs between a short plain warm-up and a final
plain certification (see ``docs/acceleration.md``):

* ``β = 0`` (convex): an **active-set SQP (Newton) method** (:func:`sqp_rd`) on the
  reduced problem in ``q = p(x̂)`` alone,

  ``G(q) = -Σ_x p(x) log μ_q(x)``,  ``μ_q(x) = Σ_x̂ q(x̂) exp(-d(x,x̂)/λ)``  (eq. 13),

  whose minimum over the simplex is ``F*`` and whose optimality condition is
  Blahut's ``c(x̂) = ∂(-G)/∂q(x̂) ≤ 1`` with equality on the support.
  Symbols the QP step does not use are **pruned** (mass exactly 0); ``c`` is computed
  for every symbol at every step, so pruned symbols are **re-checked** against
  ``c(x̂) ≤ 1`` and re-enter if they violate it.
* ``β > 0`` and the IB (not convex): **damped Newton with predicted pruning**
  (:func:`newton_semantic`) on ``z = (log q, log r)``, ``r = p(y|x̂)``, over the
  support: Newton's method on the fixed-point equations ``T(z) = z`` of eqs. (12)–(15)
  (``T`` = one eq. (17) step), damped towards the plain step where its linear model
  fails, converges quadratically, including through the slow coupled modes near phase
  transitions (critical slowing down). A symbol that the step sends below ``_DYING``
  mass is pruned; at the fixed point every pruned symbol is re-checked against
  ``c(x̂) ≤ 1`` with its row of ``p(y|x̂)`` moved where plain iteration would take it,
  and re-enters if it violates it. Newton's target is the fixed point the plain
  iteration is heading for, so both paths end at the same stationary point (tested on
  random problems; for a non-convex problem this is a measured fact, not a theorem).

The monotone safeguard, stated for a general state ``z = (q, r)`` (``r = p(y|x̂)``):
let ``G(z) = -Σ p(x) log μ_z(x)`` (μ including the
``β·H(Y|X=x)/λ`` constant of eq. 13). For the encoder ``e = E(z)`` of eq. (12)
and its marginals ``z' = M(e)`` (eqs. 14–15), alternating minimisation gives

``G(z') ≤ F(e) ≤ G(z)``  and  ``F(e) = G(z) - KL(q'‖q) - (β/λ) Σ q'(x̂) KL(r'(·|x̂)‖r(·|x̂))``.

A proposal ``z̃`` is accepted only if ``G(z̃) ≤ F(e)``; then ``F(E(z̃)) ≤ G(z̃) ≤ F(e)``,
so the objective of successive encoders never increases. A rejected proposal is
replaced by the plain step ``z'``, which always satisfies the test. Everything here
is in nats.
"""

from .common import WARMUP
from .newton import NEWTON_MAX_COST, NEWTON_MAX_VARS, _newton_matrix, newton_semantic  # noqa: F401
from .sqp import sqp_rd

__all__ = ["NEWTON_MAX_COST", "NEWTON_MAX_VARS", "WARMUP", "newton_semantic", "sqp_rd"]
