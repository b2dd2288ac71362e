"""Networks of the TOSC-SR system (Table I)."""
from neural.models.decoder import JSCCDecoder
from neural.models.encoder import DOWNSAMPLING, JSCCEncoder
from neural.models.resnet import ResNet18
from neural.models.tosc_sr import TOSCSR, JSCCCodec, TOSCOutput

__all__ = ["DOWNSAMPLING", "JSCCCodec", "JSCCDecoder", "JSCCEncoder", "ResNet18", "TOSCOutput", "TOSCSR"]
