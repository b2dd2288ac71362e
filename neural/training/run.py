"""A training run: data, networks, the stage plan, epochs, evaluation, checkpoints, results.

Stages run in order (:func:`neural.training.stages.stage_plan`). Every epoch ends with a
checkpoint (written atomically); ``resume`` continues from the last one and reproduces
the uninterrupted run exactly: each epoch's data order and channel noise come from seeds
derived from ``(seed, stage kind, β index, epoch, rank)`` — independent of which stages a
run skips, so a run that loads its classifier (``classifier_from``) continues exactly like
the run that trained it — and networks, optimiser, RNG states and the metrics log are
restored. Under ``torchrun`` (``WORLD_SIZE > 1``) the trained module is wrapped in
DistributedDataParallel; ``batch_size`` is per process and only rank 0 writes files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from neural.config import TrainConfig, config_to_dict
from neural.data import ImageDataset, load_dataset
from neural.models import JSCCCodec
from neural.training.checkpoint import (
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from neural.training.distributed import DistInfo, resolve_device, setup_distributed
from neural.training.evaluation import eval_mode, evaluate_shard
from neural.training.examples import save_reconstructions
from neural.training.files import atomic_save, atomic_write_text, to_json
from neural.training.loading import (
    CLASSIFIER_FIELDS,
    CODEC_FIELDS,
    load_module_weights,
    weights_path,
)
from neural.training.loop import train_epoch
from neural.training.result import TrainResult
from neural.training.seeds import derive_seed
from neural.training.stages import Models, Stage, stage_lr, stage_plan
from neural.training.systems import (
    build_classifier,
    build_codec,
    build_head,
    make_system,
)
from neural.training.threads import training_threads

CHECKPOINT = "checkpoint.pt"
_N_EXAMPLES = 8


def train(
    config: TrainConfig,
    on_checkpoint: Callable[[str, float | None, int], None] | None = None,
    classifier: nn.Module | None = None,
) -> TrainResult:
    """Run the stages of ``config``: Algorithms 2 and 3 (unless loaded with ``classifier_from`` /
    ``codec_from``), then the objective's stage once per β.

    Args:
        config: a validated :class:`~neural.config.TrainConfig` (see :func:`make_config`).
        on_checkpoint: called as ``on_checkpoint(stage, beta, epoch)`` after each epoch's
            checkpoint is on disk (``epoch`` 1-based); an exception raised there stops the
            run as a crash would (used by the resume test).
        classifier: optional task network to use instead of the configured ResNet-18: any
            ``nn.Module`` mapping ``(B, 3, H, W)`` images to ``(B, num_classes)`` logits,
            freshly initialised (Algorithm 2 trains it). Pass the same architecture again
            when resuming.

    Returns:
        :class:`TrainResult` (``.system(beta)`` gives the end-to-end system). With
        ``config.out`` set, the directory holds ``config.json``, ``metrics.jsonl``,
        ``checkpoint.pt``, ``classifier.pt``, ``codec_pretrained.pt``, ``codec_beta=<β>.pt``
        (and ``head_beta=<β>.pt`` for SPICS), ``results.json`` and ``reconstructions.png``.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if classifier is not None and not isinstance(classifier, nn.Module):
        raise TypeError(f"classifier must be an nn.Module, got {type(classifier).__name__}")
    config.validate()
    device = resolve_device(config.device)
    ddp = setup_distributed(device.type)
    try:
        if device.type == "cuda" and ddp.world > 1:
            device = torch.device("cuda", ddp.local_rank)
        if device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)
        local = int(os.environ.get("LOCAL_WORLD_SIZE", ddp.world)) if ddp.world > 1 else 1
        with training_threads(config.num_threads, local):
            return _Run(config, device, ddp, on_checkpoint, classifier).execute()
    finally:
        if ddp.owns_group:
            dist.destroy_process_group()


def _load_data(config: TrainConfig) -> tuple[ImageDataset, ImageDataset]:
    train_set = load_dataset(config.dataset, "train", config.data_dir, config.image_size)
    test_set = load_dataset(config.dataset, "test", config.data_dir, config.image_size)
    if config.max_train_images is not None:
        if config.max_train_images > len(train_set):
            raise ValueError(
                f"max_train_images={config.max_train_images} exceeds the {len(train_set)} training images"
            )
        n = config.max_train_images
        train_set = ImageDataset(
            train_set.images[:n], train_set.labels[:n], train_set.num_classes, train_set.name
        )
    return train_set, test_set


class _Run:
    """State of one run between stages (one instance per :func:`train` call)."""

    def __init__(
        self,
        config: TrainConfig,
        device: torch.device,
        ddp: DistInfo,
        on_checkpoint: Callable[[str, float | None, int], None] | None,
        task_network: nn.Module | None,
    ) -> None:
        self.config, self.device, self.ddp, self.on_checkpoint = config, device, ddp, on_checkpoint
        self.out = config.out
        self.writes = self.out is not None and ddp.is_main
        self.ckpt_path = os.path.join(self.out, CHECKPOINT) if self.out else None
        if (
            self.ckpt_path is not None and os.path.exists(self.ckpt_path) and not config.resume
        ):  # on every rank
            raise FileExistsError(
                f"{self.ckpt_path} exists: pass resume (--resume) to continue that run, or another out"
            )
        self.train_set, self.test_set = _load_data(config)
        self.plan = stage_plan(config)
        self.per_rank = len(self.train_set) // ddp.world
        for st in self.plan:
            if st.settings.batch_size > self.per_rank:
                raise ValueError(
                    f"{st.section}.batch_size={st.settings.batch_size} exceeds the "
                    f"{self.per_rank} training images per process"
                )
        n_classes = self.train_set.num_classes
        torch.manual_seed(derive_seed(config.seed, 1))
        clf = build_classifier(config, n_classes) if task_network is None else task_network
        torch.manual_seed(derive_seed(config.seed, 2))
        self.models = Models(clf.to(device), build_codec(config).to(device), n_classes)
        self.bpp = self.models.codec.bpp(self.train_set.image_size)
        self.metrics: list[dict[str, Any]] = []
        self.results: dict[str, Any] = {
            "dataset": config.dataset,
            "image_size": list(self.train_set.image_size),
            "num_classes": n_classes,
            "latent_channels": config.latent_channels,
            "bpp": self.bpp,
            "channel": config.channel,
            "snr_db": config.snr_db,
            "objective": config.objective,
            "seed": config.seed,
            "task_network": "ResNet18" if task_network is None else type(task_network).__name__,
            "runs": [],
        }
        self.examples: dict[str, torch.Tensor] = {}
        self.eval_seed = derive_seed(config.seed, 3)
        self.example_idx = torch.arange(min(_N_EXAMPLES, len(self.test_set)))
        self.resumed = False

    # ------------------------------------------------------------------ start / resume
    def _evaluate(self, system: nn.Module | None) -> dict[str, float]:
        cfg = self.config
        module = self.models.classifier if system is None else system
        return evaluate_shard(
            module,
            self.test_set,
            snr_db=None if system is None else cfg.snr_db,
            batch_size=cfg.eval_batch_size,
            seed=self.eval_seed,
            device=self.device,
            shard=self.ddp,
        )

    def _load_pretrained(self) -> None:
        """``classifier_from`` / ``codec_from``: load, check, evaluate and record the source."""
        cfg, m = self.config, self.models
        if cfg.classifier_from is not None:
            path = weights_path(cfg.classifier_from, "classifier.pt", "classifier_from")
            sha = load_module_weights(m.classifier, path, "classifier_from", cfg, CLASSIFIER_FIELDS)
            m.artefacts["classifier"] = {
                k: t.detach().clone() for k, t in m.classifier.state_dict().items()
            }
            acc = self._evaluate(None)["accuracy"]
            self.results["classifier"] = {
                "test_accuracy": acc,
                "source": os.path.abspath(path),
                "sha256": sha,
            }
        if cfg.codec_from is not None:
            path = weights_path(cfg.codec_from, "codec_pretrained.pt", "codec_from")
            sha = load_module_weights(m.codec, path, "codec_from", cfg, CODEC_FIELDS)
            m.codec_pretrained = {k: t.detach().clone() for k, t in m.codec.state_dict().items()}
            m.artefacts["codec_pretrained"] = m.codec_pretrained
            m.classifier.eval()
            summary = self._evaluate(make_system("tosc", m.codec, m.classifier, None))
            self.results["codec_pretrained"] = {
                **{f"test_{k}": v for k, v in summary.items()},
                "source": os.path.abspath(path),
                "sha256": sha,
            }
            self._example("codec")
        for stem in ("classifier", "codec_pretrained"):
            if self.writes and stem in m.artefacts:
                atomic_save(m.artefacts[stem], os.path.join(self.out, f"{stem}.pt"))

    def _resume(self) -> tuple[int, int, dict[str, Any] | None, dict[str, torch.Tensor] | None]:
        """Restore the checkpoint if there is one; return (stage, epoch, optimiser state, head state)."""
        resumed = (
            self.config.resume and self.ckpt_path is not None and os.path.exists(self.ckpt_path)
        )
        if self.ddp.world > 1:  # every rank must agree on whether a checkpoint exists
            flag = torch.tensor([int(resumed)], device=self.device)
            dist.broadcast(flag, 0)
            resumed = bool(flag.item())
        self.resumed = resumed
        if not resumed:
            return 0, 0, None, None
        state = load_checkpoint(
            self.ckpt_path, self.config
        )  # CPU tensors; load_state_dict copies to the device
        m = self.models
        m.classifier.load_state_dict(state["classifier"])
        if state["codec"] is not None:
            m.codec.load_state_dict(state["codec"])
        m.artefacts = state["artefacts"]
        m.codec_pretrained = m.artefacts.get("codec_pretrained")
        self.metrics, self.results, self.examples = (
            state["metrics"],
            state["results"],
            state["examples"],
        )
        set_rng_state(state["rng"], self.device)
        s, epoch, opt_state, head = (
            state["stage"],
            state["epoch"],
            state["optimizer"],
            state["head"],
        )
        if self.ddp.is_main:
            print(f"resuming {self.out} at stage {s} epoch {epoch}", file=sys.stderr)
        if s < len(self.plan) and epoch == self.plan[s].settings.epochs:
            s, epoch, opt_state, head = s + 1, 0, None, None
        return s, epoch, opt_state, head

    # ------------------------------------------------------------------ one stage
    def _example(self, name: str, system: nn.Module | None = None) -> None:
        m = self.models
        system = system if system is not None else make_system("tosc", m.codec, m.classifier, None)
        gen = torch.Generator(device=self.device).manual_seed(self.eval_seed)
        with torch.no_grad(), eval_mode(system):
            x = self.test_set.batch(self.example_idx, self.device)[0]
            self.examples[name] = system(x, self.config.snr_db, gen)[0].cpu()

    def _run_stage(
        self,
        s: int,
        first_epoch: int,
        opt_state: dict[str, Any] | None,
        head_state: dict[str, torch.Tensor] | None,
    ) -> None:
        cfg, ddp, st, m = self.config, self.ddp, self.plan[s], self.models
        trained = st.begin(m, first_epoch == 0, self.device)
        if head_state is not None and m.head is not None:
            m.head.load_state_dict(head_state)
        model = (
            DistributedDataParallel(
                trained, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
            if ddp.world > 1
            else trained
        )
        sc = st.settings
        opt = torch.optim.Adam(st.param_groups(trained), lr=sc.lr, weight_decay=sc.weight_decay)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
        for epoch in range(first_epoch, sc.epochs):
            t_epoch = time.perf_counter()
            lr = stage_lr(sc, epoch)
            for g in opt.param_groups:
                g["lr"] = lr * g["lr_scale"]
            torch.manual_seed(
                derive_seed(cfg.seed, 4, *st.seed_key, epoch, ddp.rank)
            )  # this epoch's channel noise
            order_gen = torch.Generator().manual_seed(derive_seed(cfg.seed, 5, *st.seed_key, epoch))
            order = torch.randperm(len(self.train_set), generator=order_gen)[ddp.rank :: ddp.world][
                : self.per_rank
            ]
            stats = train_epoch(
                st,
                model,
                m,
                opt,
                self.train_set,
                order,
                self.device,
                desc=f"{st.label} {epoch + 1}/{sc.epochs}",
                progress=cfg.progress and ddp.is_main,
            )
            if ddp.world > 1:
                for buf in trained.buffers():  # BatchNorm running statistics: take rank 0's
                    dist.broadcast(buf, 0)
            rec: dict[str, Any] = {"stage": st.name, "beta": st.beta, "epoch": epoch + 1, "lr": lr}
            rec.update({f"train_{k}": v for k, v in stats.metrics.items()})
            train_s = time.perf_counter() - t_epoch
            last = epoch + 1 == sc.epochs
            t_eval = time.perf_counter()
            summary: dict[str, float] = {}
            if last or (epoch + 1) % cfg.eval_every == 0:
                summary = self._evaluate(st.system(m))
                rec.update({f"test_{k}": v for k, v in summary.items()})
            rec.update(
                images=stats.images,
                train_time_s=train_s,
                compute_time_s=stats.compute_s,
                eval_time_s=time.perf_counter() - t_eval,
            )
            self.metrics.append(rec)
            if ddp.is_main and cfg.progress:
                shown = {
                    k: round(v, 4)
                    for k, v in rec.items()
                    if k.startswith(("train_", "test_")) and not k.endswith("_s")
                }
                print(f"[{st.label} {epoch + 1}/{sc.epochs}] {shown}", file=sys.stderr)
            if last:
                stems = st.finish(m, summary, self.results)
                system = st.system(m)
                if system is not None:
                    self._example("codec" if st.beta is None else st.label, system)
                for stem in stems if self.writes else ():
                    atomic_save(m.artefacts[stem], os.path.join(self.out, f"{stem}.pt"))
            self._checkpoint(s, epoch + 1, st, opt, rec)
            if ddp.world > 1:
                dist.barrier()
            if self.on_checkpoint is not None:
                self.on_checkpoint(st.name, st.beta, epoch + 1)

    def _checkpoint(
        self, s: int, epoch: int, st: Stage, opt: torch.optim.Optimizer, rec: dict[str, Any]
    ) -> None:
        if not self.writes:
            return
        t_ck = time.perf_counter()
        m = self.models
        save_checkpoint(
            self.ckpt_path,
            {
                "config": config_to_dict(self.config),
                "stage": s,
                "epoch": epoch,
                "classifier": m.classifier.state_dict(),
                "codec": m.codec.state_dict() if st.name != "classifier" else None,
                "head": m.head.state_dict() if st.name == "spics" and m.head is not None else None,
                "optimizer": opt.state_dict(),
                "rng": rng_state(self.device),
                "metrics": self.metrics,
                "results": self.results,
                "examples": self.examples,
                "artefacts": m.artefacts,
            },
        )
        rec["checkpoint_time_s"] = time.perf_counter() - t_ck
        with open(os.path.join(self.out, "metrics.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")

    # ------------------------------------------------------------------ whole run
    def execute(self) -> TrainResult:
        cfg, m = self.config, self.models
        if self.writes:
            os.makedirs(self.out, exist_ok=True)
        start, first_epoch, opt_state, head_state = self._resume()
        self.examples.setdefault("original", self.test_set.batch(self.example_idx, "cpu")[0])
        if not self.resumed:
            self._load_pretrained()
        if self.writes:
            atomic_write_text(
                to_json(config_to_dict(cfg)) + "\n", os.path.join(self.out, "config.json")
            )
            atomic_write_text(
                "".join(json.dumps(r) + "\n" for r in self.metrics),
                os.path.join(self.out, "metrics.jsonl"),
            )
        for s in range(start, len(self.plan)):
            self._run_stage(
                s,
                first_epoch if s == start else 0,
                opt_state if s == start else None,
                head_state if s == start else None,
            )
        m.classifier.eval()
        codecs: dict[str, JSCCCodec] = {}
        heads: dict[str, nn.Module] = {}
        for stem, weights in m.artefacts.items():
            if stem.startswith("codec_"):
                net: nn.Module = build_codec(cfg)
                codecs[stem[len("codec_") :]] = net
            elif stem.startswith("head_"):
                net = build_head(cfg, m.num_classes)
                heads[stem[len("head_") :]] = net
            else:
                continue
            net.load_state_dict(weights)
            net.to(self.device).eval()
        if self.writes:
            atomic_write_text(to_json(self.results) + "\n", os.path.join(self.out, "results.json"))
            save_reconstructions(self.examples, os.path.join(self.out, "reconstructions.png"))
        return TrainResult(self.results, self.metrics, self.out, m.classifier, codecs, heads, cfg)
