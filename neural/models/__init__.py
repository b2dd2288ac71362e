"""Networks of the TOSC-SR system (Table I) and the SPICS baseline's latent head."""

from neural.models.decoder import JSCCDecoder
from neural.models.encoder import DOWNSAMPLING, JSCCEncoder
from neural.models.resnet import ResNet18
from neural.models.spics import SPICS, LatentClassifier
from neural.models.tosc_sr import TOSCSR, JSCCCodec, TOSCOutput

__all__ = [
    "DOWNSAMPLING",
    "JSCCCodec",
    "JSCCDecoder",
    "JSCCEncoder",
    "LatentClassifier",
    "ResNet18",
    "SPICS",
    "TOSCOutput",
    "TOSCSR",
]
