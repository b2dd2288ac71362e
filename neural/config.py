"""Training configuration for ``python -m neural.train``: dataclasses, presets, JSON files.

A configuration is a :class:`TrainConfig` (plain values, no globals). Build one with
:func:`make_config` from a preset (``quick`` or ``paper``), optionally a JSON file with
any subset of the fields (nested stage sections ``"classifier"``, ``"codec"``,
``"tosc"``), and explicit overrides. ``snr_db`` may be written ``"inf"`` in JSON.

``objective`` picks the stage run once per β after Algorithms 2 and 3: ``"tosc"``
(Algorithm 1, eq. 31), ``"ib"`` (β·CE alone) or ``"spics"`` (codec and a latent head
trained jointly); all three use the ``tosc`` section's optimiser settings (the SPICS head
its own ``head_lr``). ``classifier_from`` / ``codec_from`` skip Algorithm 2 / 3 and load
the weights an earlier run wrote (see :mod:`neural.training`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from neural.data.datasets import DATASETS
from neural.models.encoder import DOWNSAMPLING

STAGES = ("classifier", "codec", "tosc")
CHANNELS = ("awgn", "rayleigh")
OBJECTIVES = ("tosc", "ib", "spics")


@dataclass
class StageConfig:
    """Optimiser settings of one training stage (Adam, coupled L2 weight decay).

    The learning rate decays geometrically from ``lr`` (first epoch) to ``lr_final``
    (last epoch); ``lr_final = None`` keeps it constant. ``batch_size`` is per process.
    """

    epochs: int
    batch_size: int
    lr: float
    lr_final: float | None = None
    weight_decay: float = 0.0


@dataclass
class TrainConfig:
    """Everything that defines a TOSC-SR training run (Algorithms 1–3)."""

    # data
    dataset: str = "digits"
    data_dir: str | None = None
    image_size: int | None = None  # None: native size (digits 32, STL-10 96, CIFAR-10 32)
    max_train_images: int | None = (
        None  # train on the first N training images only (smoke tests, benchmarks)
    )
    # system (Table I)
    latent_channels: int = 8  # K; bpp = K·(H/8)(W/8)/(H·W) = K/64
    codec_width: float = 1.0
    classifier_width: float = 1.0
    classifier_stem: str = "small"
    channel: str = "awgn"
    snr_db: float = math.inf  # evaluation SNR, and the training SNR unless train_snr_range is set
    train_snr_range: list[float] | None = (
        None  # [lo, hi] dB: per-sample uniform SNR during training
    )
    # loss eq. (31): one fine-tuning run (Alg. 1) per beta, all from the same pre-trained codec
    betas: list[float] = field(default_factory=lambda: [0.0, 0.01])
    # "tosc": MSE + beta·CE(classifier(x̂)), classifier frozen; "ib": beta·CE alone (IB baseline);
    # "spics": MSE + beta·CE(head(ẑ)), a small head on the received latent trained with the codec
    objective: str = "tosc"
    head_lr: float = (
        1e-3  # SPICS head: Adam learning rate of the first epoch (decays like the tosc stage's)
    )
    # reuse instead of training: a classifier.pt (skips Alg. 2) / codec_pretrained.pt (skips Alg. 3),
    # or the directory of the run that wrote it
    classifier_from: str | None = None
    codec_from: str | None = None
    # stages (Table II)
    classifier: StageConfig = field(default_factory=lambda: StageConfig(1000, 16, 1e-3))
    codec: StageConfig = field(default_factory=lambda: StageConfig(5000, 32, 1e-4, 1e-6, 1e-5))
    tosc: StageConfig = field(default_factory=lambda: StageConfig(1000, 32, 3e-6, None, 1e-5))
    # run
    seed: int = 0
    device: str = "auto"
    out: str | None = None
    resume: bool = False
    eval_every: int = 1
    eval_batch_size: int = 256
    num_threads: int | None = None
    progress: bool = True

    def validate(self) -> TrainConfig:
        """Raise ``ValueError`` naming the first inconsistent field; return ``self``."""
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.dataset == "digits" and self.data_dir:
            raise ValueError(
                "data_dir is only used with dataset 'stl10' or 'cifar10' (digits are built in)"
            )
        if self.dataset != "digits" and not self.data_dir:
            raise ValueError(
                f"dataset {self.dataset!r} needs data_dir (--data-dir): nothing is downloaded"
            )
        if self.image_size is not None and (
            not _is_int(self.image_size)
            or self.image_size < DOWNSAMPLING
            or self.image_size % DOWNSAMPLING
        ):
            raise ValueError(
                f"image_size={self.image_size!r} cannot be down-sampled by {DOWNSAMPLING}: "
                f"use a positive multiple of {DOWNSAMPLING}"
            )
        if self.max_train_images is not None and (
            not _is_int(self.max_train_images) or self.max_train_images < 2
        ):
            raise ValueError(
                f"max_train_images must be an integer >= 2, got {self.max_train_images!r}"
            )
        if not _is_int(self.latent_channels) or self.latent_channels < 1:
            raise ValueError(
                f"latent_channels (K) must be a positive integer, got {self.latent_channels!r}"
            )
        for name in ("codec_width", "classifier_width"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if self.classifier_stem not in ("small", "imagenet"):
            raise ValueError(
                f"classifier_stem must be 'small' or 'imagenet', got {self.classifier_stem!r}"
            )
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {self.channel!r}")
        if (
            not isinstance(self.snr_db, (int, float))
            or math.isnan(self.snr_db)
            or self.snr_db == -math.inf
        ):
            raise ValueError(f"snr_db must be a number of dB or inf, got {self.snr_db!r}")
        if self.train_snr_range is not None:
            r = self.train_snr_range
            if (
                len(r) != 2
                or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in r)
                or r[0] > r[1]
            ):
                raise ValueError(
                    f"train_snr_range must be [lo, hi] finite dB with lo <= hi, got {r!r}"
                )
        if not isinstance(self.betas, list) or not self.betas:
            raise ValueError(f"betas must be a non-empty list of numbers >= 0, got {self.betas!r}")
        for b in self.betas:
            if not isinstance(b, (int, float)) or not math.isfinite(b) or b < 0:
                raise ValueError(f"every beta must be a finite number >= 0, got {b!r}")
        if len(set(self.betas)) != len(self.betas):
            raise ValueError(f"betas must be distinct, got {self.betas}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.objective == "ib" and 0 in self.betas:
            raise ValueError("objective 'ib' (cross-entropy alone) needs every beta > 0")
        if self.objective == "spics" and 0 in self.betas:
            raise ValueError(
                "objective 'spics' needs every beta > 0 (at beta = 0 its head gets no gradient)"
            )
        if (
            not isinstance(self.head_lr, (int, float))
            or not self.head_lr > 0
            or not math.isfinite(self.head_lr)
        ):
            raise ValueError(f"head_lr must be a positive number, got {self.head_lr!r}")
        for name in ("classifier_from", "codec_from"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise ValueError(
                    f"{name} must be a path (a weights file or a run directory) or None, got {v!r}"
                )
        for stage in STAGES:
            s = getattr(self, stage)
            if not _is_int(s.epochs) or s.epochs < 1:
                raise ValueError(f"{stage}.epochs must be a positive integer, got {s.epochs!r}")
            if not _is_int(s.batch_size) or s.batch_size < 2:
                raise ValueError(
                    f"{stage}.batch_size must be an integer >= 2, got {s.batch_size!r}"
                )
            for name in ("lr", "lr_final"):
                v = getattr(s, name)
                if (v is not None or name == "lr") and (
                    not isinstance(v, (int, float)) or not v > 0 or not math.isfinite(v)
                ):
                    raise ValueError(f"{stage}.{name} must be a positive number, got {v!r}")
            if not isinstance(s.weight_decay, (int, float)) or s.weight_decay < 0:
                raise ValueError(f"{stage}.weight_decay must be >= 0, got {s.weight_decay!r}")
        if self.max_train_images is not None:  # stages skipped by *_from train nothing
            used = [
                st
                for st in STAGES
                if {"classifier": self.classifier_from, "codec": self.codec_from}.get(st) is None
            ]
            for stage in used:
                if getattr(self, stage).batch_size > self.max_train_images:
                    raise ValueError(
                        f"{stage}.batch_size={getattr(self, stage).batch_size} exceeds "
                        f"max_train_images={self.max_train_images}"
                    )
        if not _is_int(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not _is_int(self.eval_every) or self.eval_every < 1:
            raise ValueError(f"eval_every must be a positive integer, got {self.eval_every!r}")
        if not _is_int(self.eval_batch_size) or self.eval_batch_size < 1:
            raise ValueError(
                f"eval_batch_size must be a positive integer, got {self.eval_batch_size!r}"
            )
        if self.num_threads is not None and (not _is_int(self.num_threads) or self.num_threads < 1):
            raise ValueError(f"num_threads must be a positive integer, got {self.num_threads!r}")
        if self.resume and not self.out:
            raise ValueError("resume needs out (the directory of the run to continue)")
        return self


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def channels_for_bpp(bpp: float) -> int:
    """Latent channels K giving ``bpp`` bits per pixel with the 8× encoder (eq. 21: K = 64·bpp)."""
    k = bpp * DOWNSAMPLING**2
    if not (isinstance(bpp, (int, float)) and bpp > 0) or abs(k - round(k)) > 1e-9:
        raise ValueError(
            f"bpp={bpp!r} is not reachable: bpp = K/{DOWNSAMPLING**2} for an integer K >= 1 "
            f"(e.g. 0.125, 0.5, 2)"
        )
    return int(round(k))


PRESETS: dict[str, dict[str, Any]] = {
    # Table II of the paper, STL-10 96×96, bpp = 2 (K = 128), SNR = inf, beta = 0.01 (Fig. 4).
    "paper": {
        "dataset": "stl10",
        "latent_channels": 128,
        "codec_width": 1.0,
        "classifier_width": 1.0,
        "classifier_stem": "imagenet",
        "betas": [0.0, 0.01],
        "classifier": {
            "epochs": 1000,
            "batch_size": 16,
            "lr": 1e-3,
            "lr_final": None,
            "weight_decay": 0.0,
        },
        "codec": {
            "epochs": 5000,
            "batch_size": 32,
            "lr": 1e-4,
            "lr_final": 1e-6,
            "weight_decay": 1e-5,
        },
        "tosc": {
            "epochs": 1000,
            "batch_size": 32,
            "lr": 3e-6,
            "lr_final": None,
            "weight_decay": 1e-5,
        },
    },
    # Built-in digits, small networks: all three stages in a few minutes on 2 CPU cores.
    "quick": {
        "dataset": "digits",
        "image_size": 32,
        "latent_channels": 2,
        "codec_width": 0.25,
        "classifier_width": 0.125,
        "classifier_stem": "small",
        "snr_db": 5.0,
        "betas": [0.0, 0.1],
        "classifier": {
            "epochs": 5,
            "batch_size": 32,
            "lr": 2e-3,
            "lr_final": 2e-4,
            "weight_decay": 0.0,
        },
        "codec": {
            "epochs": 20,
            "batch_size": 32,
            "lr": 2e-3,
            "lr_final": 2e-4,
            "weight_decay": 1e-5,
        },
        "tosc": {"epochs": 8, "batch_size": 32, "lr": 3e-4, "lr_final": None, "weight_decay": 1e-5},
    },
}


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """JSON-ready dict (``inf`` written as the string ``"inf"``)."""
    d = dataclasses.asdict(config)
    if isinstance(d["snr_db"], float) and math.isinf(d["snr_db"]):
        d["snr_db"] = "inf"
    return d


def _apply(config: TrainConfig, values: dict[str, Any], source: str) -> TrainConfig:
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ValueError(
                f"{source}: unknown configuration key {key!r}; valid keys: {sorted(known)}"
            )
        if key in STAGES:
            if not isinstance(value, dict):
                raise ValueError(f"{source}: {key!r} must be an object with stage settings")
            stage_known = {f.name for f in dataclasses.fields(StageConfig)}
            bad = set(value) - stage_known
            if bad:
                raise ValueError(
                    f"{source}: unknown key(s) {sorted(bad)} in {key!r}; valid: {sorted(stage_known)}"
                )
            value = dataclasses.replace(getattr(config, key), **value)
        elif key == "snr_db" and isinstance(value, str):
            if value.strip().lower() not in ("inf", "+inf", "infinity"):
                raise ValueError(f"{source}: snr_db must be a number or 'inf', got {value!r}")
            value = math.inf
        kwargs[key] = value
    return dataclasses.replace(config, **kwargs)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """Inverse of :func:`config_to_dict` (missing keys take the :class:`TrainConfig` defaults)."""
    return _apply(TrainConfig(), values, "config").validate()


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON configuration file (an object with any subset of the fields)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {os.fspath(path)!r} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            values = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"config file {os.fspath(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(values, dict):
        raise ValueError(f"config file {os.fspath(path)!r} must hold a JSON object")
    return values


def make_config(
    preset: str | None = "quick",
    config_file: str | os.PathLike | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Preset (``"quick"``/``"paper"``/None for the bare defaults) ← file ← overrides, validated."""
    config = TrainConfig()
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
        config = _apply(config, PRESETS[preset], f"preset {preset!r}")
    if config_file is not None:
        config = _apply(config, load_config_file(config_file), os.fspath(config_file))
    if overrides:
        config = _apply(config, overrides, "overrides")
    return config.validate()
