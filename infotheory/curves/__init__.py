"""Theoretical semantic rate-distortion curves: sweeps, branches, transitions, targets.

Every point of a curve is one start of :func:`infotheory.semantic_rd` (eq. 17); this
package only decides *where* to solve and *from which start*, and collects the
results into a :class:`Curve`. Information quantities are in bits by default
(``base=2``). λ is the temperature of ``F = I(X;X̂) + D_S/λ`` (eq. 11, rate in nats
inside), so along a β = 0 curve the slope is ``dR/dD = -1/λ`` (nats per unit of
``d_RD``); ``D_S = D_RD + β·D_IB`` (eq. 6) with ``D_IB`` in nats (the solver's
convention).

Modules, one concern each: :mod:`.result` (:class:`Curve`, :class:`Transition`,
:class:`TargetResult`, CSV/JSON), :mod:`.lam_range` (where to solve),
:mod:`._problem` (one point: problem, options, start), :mod:`._jobs` (executor and
progress), :mod:`.sweep` (:func:`semantic_rd_curve`, warm starts), :mod:`.transitions`,
:mod:`.families` (:func:`beta_family`, :func:`curve_family`, :func:`ib_curve`),
:mod:`.targets` (:func:`solve_for_rate`, :func:`solve_for_distortion`).

Strategy
--------
- **Warm starts.** Each point starts from its neighbour's encoder, mixed with a small
  seeded random perturbation (``perturbation``) so that reproduction symbols out of
  use can come back and symmetric fixed points (the trivial IB solution) can break.
- **Direction.** β = 0 is convex (any start reaches the optimum): the default sweep
  goes from high rate to low rate (λ increasing), where symbols only leave.
  For β > 0 and the IB (not convex) the default is deterministic annealing: from
  the trivial solution at the largest λ down to the smallest (low rate → high
  rate), the continuation that follows the branch born at each phase transition.
  ``direction="both"`` runs both sweeps and keeps, per point, the branch with the
  lowest objective F, recording the disagreement in ``branch_gap``; ``restarts``
  adds seeded cold starts per point, likewise.
- **Transitions.** Where the effective number of reproduction symbols
  (:func:`effective_symbols`) changes between neighbours, the critical λ (or β) is
  bisected to a stated relative tolerance (:func:`locate_transition`).
- **Targets.** :func:`solve_for_rate` / :func:`solve_for_distortion` root-find on
  ``log λ`` (Brent), warm-starting every evaluation from the nearest solved point.
- **Parallelism.** A sweep is cut into independent jobs — warm chains (sequential
  inside), cold points, restarts, transition bisections, family members — by its
  arguments alone; ``executor=`` (any :class:`concurrent.futures.Executor`, e.g.
  ``dask.distributed``) or ``n_jobs > 1`` (a local process pool) runs them. Every
  executor gives the same numbers. See ``docs/curves.md``.
"""

from ._jobs import PROGRESS_DELAY  # noqa: F401  (importable from here, as before)
from ._problem import effective_symbols
from .families import beta_family, curve_family, ib_curve
from .lam_range import default_lam_range
from .result import (  # noqa: F401  (COLUMNS, csv_sidecar: importable from here, as before)
    COLUMNS,
    Curve,
    TargetResult,
    Transition,
    csv_sidecar,
    lower_convex_envelope,
)
from .sweep import semantic_rd_curve
from .targets import solve_for_distortion, solve_for_rate
from .transitions import locate_transition

__all__ = [
    "Curve",
    "Transition",
    "TargetResult",
    "semantic_rd_curve",
    "ib_curve",
    "beta_family",
    "curve_family",
    "locate_transition",
    "solve_for_rate",
    "solve_for_distortion",
    "effective_symbols",
    "default_lam_range",
    "lower_convex_envelope",
]
