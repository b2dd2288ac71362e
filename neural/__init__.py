"""Deep-learning side of the toolkit (PyTorch): the TOSC-SR system, its training and MI estimators."""

# First, before anything imports torch: OMP_WAIT_POLICY=PASSIVE (see neural/_openmp.py).
from . import _openmp  # noqa: F401  # isort: skip
from .channels import AWGNChannel, RayleighBlockFadingChannel
from .losses import tosc_loss
from .mi import estimate_mi  # MI estimators (issue 4); see neural/mi
from .models import SPICS, TOSCSR, JSCCCodec, JSCCDecoder, JSCCEncoder, LatentClassifier, ResNet18
from .quantizer import BinaryQuantizer, bits_per_pixel
from .training import LoadedRun, load_run  # training: neural.training (python -m neural.train)

__all__ = [
    "SPICS",
    "TOSCSR",
    "AWGNChannel",
    "BinaryQuantizer",
    "JSCCCodec",
    "JSCCDecoder",
    "JSCCEncoder",
    "LatentClassifier",
    "LoadedRun",
    "RayleighBlockFadingChannel",
    "ResNet18",
    "bits_per_pixel",
    "estimate_mi",
    "load_run",
    "tosc_loss",
]
