"""Training stages, registered by name: Algorithm 2 (``classifier``), Algorithm 3 (``codec``),
Algorithm 1 per β (``tosc``), the IB baseline (``ib``) and the SPICS baseline (``spics``).

A stage says what it trains and how one step's loss is formed; the shared loop
(:mod:`neural.training.loop`) and the run (:mod:`neural.training.run`) do the rest
(optimiser, learning-rate schedule, metrics, evaluation, checkpoints). The plan of a run
is :func:`stage_plan`: Alg. 2 (unless ``classifier_from``), Alg. 3 (unless ``codec_from``),
then the objective's stage once per β, each starting from the same Alg.-3 codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from neural.config import StageConfig, TrainConfig
from neural.losses import tosc_loss
from neural.models import SPICS, JSCCCodec
from neural.training.seeds import derive_seed
from neural.training.systems import build_head, make_system


@dataclass
class Models:
    """The networks of a run, shared by its stages (all on the run's device)."""

    classifier: nn.Module
    codec: JSCCCodec
    num_classes: int
    codec_pretrained: dict[str, torch.Tensor] | None = None  # Alg.-3 weights, the start of every β
    head: nn.Module | None = None  # the current SPICS head
    artefacts: dict[str, dict[str, torch.Tensor]] = field(
        default_factory=dict
    )  # file stem -> weights


class StepOutput(NamedTuple):
    """One training step: the loss minimised, and the logits / reconstruction (or None) for the metrics."""

    loss: torch.Tensor
    logits: torch.Tensor | None
    reconstruction: torch.Tensor | None


def _clone(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: t.detach().clone() for k, t in module.state_dict().items()}


class Stage:
    """One stage of a run. Subclasses set the class attributes and the hooks."""

    name: ClassVar[str]  # registry key, also the ``stage`` field of the metrics log
    section: ClassVar[str]  # the TrainConfig field holding its optimiser settings
    title: ClassVar[str]
    kind: ClassVar[int]  # first seed key
    metric_names: ClassVar[tuple[str, ...]]  # training metrics besides "loss"

    def __init__(self, config: TrainConfig, beta: float | None = None, index: int = 0) -> None:
        self.config = config
        self.beta = beta
        self.index = index

    @property
    def settings(self) -> StageConfig:
        return getattr(self.config, self.section)

    @property
    def seed_key(self) -> tuple[int, int]:
        """Keys of this stage's seeds; independent of which other stages run (``*_from`` skips)."""
        return (self.kind, self.index)

    @property
    def label(self) -> str:
        return self.name if self.beta is None else f"beta={self.beta:g}"

    def begin(self, models: Models, fresh: bool, device: torch.device) -> nn.Module:
        """Prepare the networks; return the module the optimiser trains (DDP wraps it).
        ``fresh`` is False when resuming inside this stage (weights come from the checkpoint)."""
        raise NotImplementedError

    def param_groups(self, trained: nn.Module) -> list[dict[str, Any]]:
        """Optimiser parameter groups; ``lr_scale`` multiplies the stage's learning rate."""
        return [{"params": list(trained.parameters()), "lr_scale": 1.0}]

    def step(
        self,
        model: nn.Module,
        models: Models,
        x: torch.Tensor,
        y: torch.Tensor,
        snr: torch.Tensor | float,
    ) -> StepOutput:
        raise NotImplementedError

    def system(self, models: Models) -> nn.Module | None:
        """What is evaluated on the test set: a system, or None for the clean-image classifier."""
        return make_system(
            self.config.objective if self.beta is not None else "tosc",
            models.codec,
            models.classifier,
            models.head,
        )

    def finish(
        self, models: Models, summary: dict[str, float], results: dict[str, Any]
    ) -> list[str]:
        """Record the stage's results and final weights; return the artefact stems to write."""
        raise NotImplementedError


STAGE_TYPES: dict[str, type[Stage]] = {}


def register_stage(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    if cls.name in STAGE_TYPES:
        raise ValueError(f"a stage named {cls.name!r} is already registered")
    STAGE_TYPES[cls.name] = cls
    return cls


def _freeze(classifier: nn.Module) -> None:
    classifier.eval()
    classifier.requires_grad_(False)


@register_stage
class ClassifierStage(Stage):
    """Algorithm 2: the task network on clean images, cross-entropy."""

    name, section, title, kind, metric_names = (
        "classifier",
        "classifier",
        "Alg. 2 (classifier)",
        0,
        ("accuracy",),
    )

    def begin(self, models: Models, fresh: bool, device: torch.device) -> nn.Module:
        models.classifier.requires_grad_(True)
        return models.classifier

    def step(self, model, models, x, y, snr):  # type: ignore[override]
        logits = model(x)
        return StepOutput(F.cross_entropy(logits, y), logits, None)

    def system(self, models: Models) -> nn.Module | None:
        return None

    def finish(
        self, models: Models, summary: dict[str, float], results: dict[str, Any]
    ) -> list[str]:
        results["classifier"] = {"test_accuracy": summary["accuracy"]}
        models.artefacts["classifier"] = _clone(models.classifier)
        return ["classifier"]


@register_stage
class CodecStage(Stage):
    """Algorithm 3: the codec alone, MSE through quantizer and channel."""

    name, section, title, kind, metric_names = "codec", "codec", "Alg. 3 (codec, MSE)", 1, ("psnr",)

    def begin(self, models: Models, fresh: bool, device: torch.device) -> nn.Module:
        _freeze(models.classifier)
        return models.codec

    def step(self, model, models, x, y, snr):  # type: ignore[override]
        x_hat = model(x, snr)
        return StepOutput(F.mse_loss(x_hat, x), None, x_hat)

    def finish(
        self, models: Models, summary: dict[str, float], results: dict[str, Any]
    ) -> list[str]:
        results["codec_pretrained"] = {f"test_{k}": v for k, v in summary.items()}
        models.codec_pretrained = _clone(models.codec)
        models.artefacts["codec_pretrained"] = models.codec_pretrained
        return ["codec_pretrained"]


@register_stage
class ToscStage(Stage):
    """Algorithm 1 for one β: eq. (31), MSE + β·CE(classifier(x̂), y), classifier frozen,
    codec starting from the Alg.-3 weights."""

    name, section, title, kind, metric_names = (
        "tosc",
        "tosc",
        "Alg. 1 (joint, eq. 31)",
        2,
        ("accuracy", "psnr"),
    )
    rd_weight: ClassVar[float] = 1.0

    def begin(self, models: Models, fresh: bool, device: torch.device) -> nn.Module:
        _freeze(models.classifier)
        if fresh:  # Alg. 1 step 3: start from the Alg.-3 codec
            models.codec.load_state_dict(models.codec_pretrained)
        return models.codec

    def step(self, model, models, x, y, snr):  # type: ignore[override]
        x_hat = model(x, snr)
        logits = models.classifier(x_hat)
        return StepOutput(
            tosc_loss(x, x_hat, logits, y, self.beta, self.rd_weight).total, logits, x_hat
        )

    def finish(
        self, models: Models, summary: dict[str, float], results: dict[str, Any]
    ) -> list[str]:
        stem = f"codec_{self.label}"
        models.artefacts[stem] = _clone(models.codec)
        results["runs"].append(
            {
                "beta": self.beta,
                "bpp": results["bpp"],
                "snr_db": self.config.snr_db,
                **{f"test_{k}": v for k, v in summary.items()},
            }
        )
        return [stem]


@register_stage
class IBStage(ToscStage):
    """The IB baseline for one β: β·CE(classifier(x̂), y) alone (eq. 31 without the MSE term)."""

    name, title = "ib", "IB baseline (beta*CE)"
    rd_weight = 0.0


@register_stage
class SPICSStage(ToscStage):
    """The SPICS baseline for one β: codec and a fresh latent head trained jointly on
    MSE(x, x̂) + β·CE(head(ẑ), y); the head is the task network at evaluation."""

    name, title = "spics", "SPICS (MSE + beta*CE of a latent head)"

    def begin(self, models: Models, fresh: bool, device: torch.device) -> nn.Module:
        super().begin(models, fresh, device)
        torch.manual_seed(
            derive_seed(self.config.seed, 6, *self.seed_key)
        )  # the head's initial weights
        models.head = build_head(self.config, models.num_classes).to(device)
        return SPICS(models.codec, models.head)

    def param_groups(self, trained: nn.Module) -> list[dict[str, Any]]:
        assert isinstance(trained, SPICS)
        return [
            {"params": list(trained.codec.parameters()), "lr_scale": 1.0},
            {
                "params": list(trained.head.parameters()),
                "lr_scale": self.config.head_lr / self.settings.lr,
            },
        ]

    def step(self, model, models, x, y, snr):  # type: ignore[override]
        x_hat, logits = model(x, snr)
        return StepOutput(tosc_loss(x, x_hat, logits, y, self.beta, 1.0).total, logits, x_hat)

    def finish(
        self, models: Models, summary: dict[str, float], results: dict[str, Any]
    ) -> list[str]:
        stems = super().finish(models, summary, results)
        assert models.head is not None
        models.artefacts[f"head_{self.label}"] = _clone(models.head)
        return stems + [f"head_{self.label}"]


def stage_plan(config: TrainConfig) -> list[Stage]:
    """The stages ``config`` runs, in order."""
    plan: list[Stage] = []
    if config.classifier_from is None:
        plan.append(STAGE_TYPES["classifier"](config))
    if config.codec_from is None:
        plan.append(STAGE_TYPES["codec"](config))
    cls = STAGE_TYPES[config.objective]
    plan += [cls(config, float(b), i) for i, b in enumerate(config.betas)]
    return plan


def stage_lr(settings: StageConfig, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based): geometric decay from ``lr`` to ``lr_final``."""
    if settings.lr_final is None or settings.epochs == 1:
        return float(settings.lr)
    return float(settings.lr * (settings.lr_final / settings.lr) ** (epoch / (settings.epochs - 1)))
