"""Mutual-information estimators (PyTorch), validated against exact values.

Neural: CLUB (paper eq. 40; Gaussian, sample and categorical q), MINE (eq. 39),
NWJ, InfoNCE, SMILE. Discrete: exact plug-in from counts via ``infotheory``.
See ``docs/mi-estimators.md`` for what each number means.
"""

from .base import MIEstimator, MIResult, fit
from .club import DEFAULT_HIDDEN, PAPER_HIDDEN, CategoricalCLUB, CLUBSample, GaussianCLUB
from .estimate import METHODS, MIBand, estimate_mi, estimate_mi_seeds, make_estimator, plot_mi_band
from .lower_bounds import NWJ, SMILE, InfoNCE
from .mine import MINE, SeparableCritic
from .plugin import plugin_mi

__all__ = [
    "MIEstimator",
    "MIResult",
    "MIBand",
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
