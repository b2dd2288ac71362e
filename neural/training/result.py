"""What a run leaves: the trained networks, and the end-to-end system for each β."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from neural.config import TrainConfig
from neural.models import JSCCCodec
from neural.training.systems import make_system


def beta_label(beta: float) -> str:
    """``"beta=<β>"``: the key of a β in ``codecs``/``heads`` and in the artefact file names."""
    return f"beta={beta:g}"


class _Systems:
    """``betas`` and ``system(beta)`` over ``config``, ``classifier``, ``codecs`` and ``heads``."""

    config: TrainConfig
    classifier: nn.Module
    codecs: dict[str, JSCCCodec]
    heads: dict[str, nn.Module]

    @property
    def betas(self) -> tuple[float, ...]:
        """The β values the fine-tuning stage finished, in the configuration's order."""
        return tuple(float(b) for b in self.config.betas if beta_label(b) in self.codecs)

    def system(self, beta: float | None = None) -> nn.Module:
        """The end-to-end system (eval mode) for ``beta``: ``forward(x, snr_db, generator=None)``
        → ``TOSCOutput(reconstruction, logits)``.

        ``tosc``/``ib``: logits = classifier(reconstruction); ``spics``: logits = head(received
        latent). ``beta=None``: the Algorithm-3 codec with the classifier. The system shares
        its modules with this object (no copy).
        """
        if beta is None:
            return make_system("tosc", self.codecs["pretrained"], self.classifier, None).eval()
        if isinstance(beta, bool) or not isinstance(beta, (int, float)):
            raise TypeError(f"beta must be a number or None, got {type(beta).__name__}")
        label = beta_label(beta)
        if label not in self.codecs:
            raise ValueError(
                f"beta={beta!r} was not trained in this run; trained betas: {list(self.betas)}"
            )
        return make_system(
            self.config.objective, self.codecs[label], self.classifier, self.heads.get(label)
        ).eval()


@dataclass
class TrainResult(_Systems):
    """What :func:`neural.training.train` returns.

    Attributes:
        results: the content of ``results.json``.
        metrics: one dict per epoch (the metrics log).
        out_dir: the output directory, or None when nothing was written.
        classifier: the Algorithm-2 classifier (eval mode).
        codecs: ``{"pretrained": Alg.-3 codec, "beta=<β>": the fine-tuned codec of each β}``.
        heads: ``{"beta=<β>": SPICS head}`` (objective ``spics`` only).
        config: the configuration that ran.
    """

    results: dict[str, Any]
    metrics: list[dict[str, Any]]
    out_dir: str | None
    classifier: nn.Module
    codecs: dict[str, JSCCCodec] = field(default_factory=dict)
    heads: dict[str, nn.Module] = field(default_factory=dict)
    config: TrainConfig = field(default_factory=TrainConfig)


@dataclass
class LoadedRun(_Systems):
    """A finished run read back by :func:`neural.load_run`.

    Attributes:
        config: the resolved configuration (``config.json``).
        classifier: the Algorithm-2 classifier (eval mode): images ``(B, 3, H, W)`` in [0, 1] → logits.
        codecs, heads: as in :class:`TrainResult`.
        results: the content of ``results.json``.
        run_dir: the directory read.
        sha256: ``{file name: hex SHA-256}`` of every weights file read.
    """

    config: TrainConfig
    classifier: nn.Module
    codecs: dict[str, JSCCCodec]
    heads: dict[str, nn.Module]
    results: dict[str, Any]
    run_dir: str
    sha256: dict[str, str]
