"""Deep-learning side of the toolkit (PyTorch): the TOSC-SR system and MI estimators."""

from .mi import estimate_mi  # MI estimators (issue 4); see neural/mi
# TOSC-SR system (issue 5); training lives in neural.training (python -m neural.train)
from .channels import AWGNChannel, RayleighBlockFadingChannel  # noqa: E402
from .losses import tosc_loss  # noqa: E402
from .models import SPICS, TOSCSR, JSCCCodec, JSCCDecoder, JSCCEncoder, LatentClassifier, ResNet18  # noqa: E402
from .quantizer import BinaryQuantizer, bits_per_pixel  # noqa: E402
from .training import LoadedRun, load_run  # noqa: E402
