"""The networks a configuration builds, and the end-to-end system of each objective."""

from __future__ import annotations

from torch import nn

from neural.channels import AWGNChannel, RayleighBlockFadingChannel
from neural.config import TrainConfig
from neural.models import SPICS, TOSCSR, JSCCCodec, LatentClassifier, ResNet18


def build_classifier(config: TrainConfig, num_classes: int) -> ResNet18:
    """The task network of the configuration (ResNet-18, Table I)."""
    return ResNet18(num_classes, config.classifier_width, config.classifier_stem)


def build_codec(config: TrainConfig) -> JSCCCodec:
    """The JSCC codec of the configuration (Table I) with its channel."""
    channel: nn.Module = AWGNChannel() if config.channel == "awgn" else RayleighBlockFadingChannel()
    return JSCCCodec(config.latent_channels, config.codec_width, 3, channel)


def build_head(config: TrainConfig, num_classes: int) -> LatentClassifier:
    """The SPICS head on the received latent (width follows ``codec_width``)."""
    return LatentClassifier(config.latent_channels, num_classes, config.codec_width)


def make_system(
    objective: str, codec: JSCCCodec, classifier: nn.Module, head: nn.Module | None
) -> nn.Module:
    """The system evaluated for ``objective``: ``forward(x, snr_db, generator=None)`` →
    ``TOSCOutput(reconstruction, logits)``.

    ``tosc``/``ib`` (and the Alg.-3 codec): the cascade of Fig. 3, logits = classifier(x̂).
    ``spics``: logits = head(ẑ), the head on the received latent.
    """
    if objective == "spics" and head is not None:
        return SPICS(codec, head)
    return TOSCSR(codec, classifier)
