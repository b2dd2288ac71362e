"""Mutual-information estimators (PyTorch), validated against exact values.

Neural: CLUB (paper eq. 40; Gaussian, sample and categorical q), MINE (eq. 39),
NWJ, InfoNCE, SMILE; one discrete side: H(Y) minus a classifier's held-out
cross-entropy. Both discrete: plug-in from counts via ``infotheory``. Units: nats
(the module's convention; ``units="bits"`` on request).
See ``docs/mi-estimators.md`` for what each number means.
"""

from .base import MIEstimator, MIHistory, MIResult, NonFiniteLossError, fit
from .classifier import ClassifierMI
from .club import (
    DEFAULT_HIDDEN,
    PAPER_HIDDEN,
    CategoricalCLUB,
    CLUBSample,
    GaussianCLUB,
)
from .estimate import (
    AUTO_CONTINUOUS,
    METHODS,
    MIBand,
    estimate_mi,
    estimate_mi_seeds,
    make_estimator,
    plot_mi_band,
)
from .lower_bounds import NWJ, SMILE, InfoNCE
from .mine import MINE, SeparableCritic
from .plugin import plugin_mi

__all__ = [
    "MIEstimator",
    "MIResult",
    "MIBand",
    "MIHistory",
    "NonFiniteLossError",
    "ClassifierMI",
    "AUTO_CONTINUOUS",
    "fit",
    "GaussianCLUB",
    "CLUBSample",
    "CategoricalCLUB",
    "MINE",
    "NWJ",
    "InfoNCE",
    "SMILE",
    "SeparableCritic",
    "plugin_mi",
    "estimate_mi",
    "estimate_mi_seeds",
    "plot_mi_band",
    "make_estimator",
    "METHODS",
    "PAPER_HIDDEN",
    "DEFAULT_HIDDEN",
]
