"""Exact semantic rate-distortion theory on discrete sources (NumPy/Numba; no torch).

Bits by default; ``base=`` changes the unit. See ``docs/theory.md``.
"""

from . import sources  # standard sources (issue 3)
from .batched import BatchResult, semantic_rd_batch  # issue 6
from .capacity import CapacityResult, channel_capacity  # issue 6
from .curves import (  # theoretical curves (issue 3)
    Curve,
    TargetResult,
    Transition,
    beta_family,
    curve_family,
    ib_curve,
    locate_transition,
    semantic_rd_curve,
    solve_for_distortion,
    solve_for_rate,
)
from .measures import (
    conditional_entropy,
    conditional_mutual_information,
    entropy,
    kl_divergence,
    mutual_information,
)
from .solver import (
    ConvergenceWarning,
    SemanticRDResult,
    evaluate_encoder,
    information_bottleneck,
    rate_distortion,
    semantic_rd,
)

__all__ = [
    "ConvergenceWarning",
    "SemanticRDResult",
    "conditional_entropy",
    "conditional_mutual_information",
    "entropy",
    "evaluate_encoder",
    "information_bottleneck",
    "kl_divergence",
    "mutual_information",
    "rate_distortion",
    "semantic_rd",
]

__all__ += [  # theoretical curves (issue 3)
    "Curve",
    "TargetResult",
    "Transition",
    "beta_family",
    "curve_family",
    "ib_curve",
    "locate_transition",
    "semantic_rd_curve",
    "solve_for_distortion",
    "solve_for_rate",
    "sources",
]

__all__ += ["BatchResult", "CapacityResult", "channel_capacity", "semantic_rd_batch"]  # issue 6

__version__ = "0.1.0"
