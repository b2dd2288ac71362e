"""Train the TOSC-SR system: Algorithm 2 (classifier), Algorithm 3 (codec), Algorithm 1 (joint).

Command line::

    python -m neural.train --preset quick --out runs/quick
    python -m neural.train --preset paper --data-dir /data/stl10 --out runs/paper
    torchrun --nproc_per_node 4 -m neural.train --preset paper --data-dir ... --out ...

Python::

    from neural.config import make_config
    from neural.train import train
    result = train(make_config("quick", overrides={"out": "runs/quick"}))

Stages run in order; Algorithm 1 runs once per β in ``config.betas``, each starting from
the same Algorithm-3 codec with the Algorithm-2 classifier frozen. Every epoch ends with a
checkpoint (written atomically); ``resume`` continues from the last one and reproduces the
uninterrupted run exactly: each epoch's data order and channel noise come from seeds
derived from ``(seed, stage, epoch, rank)``, and model, optimiser, RNG states and the
metrics log are restored. Under ``torchrun`` (``WORLD_SIZE > 1``) the trained network is
wrapped in DistributedDataParallel (gloo on CPU, NCCL on GPU); ``batch_size`` is per
process and only rank 0 writes files.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from neural.channels import AWGNChannel, RayleighBlockFadingChannel
from neural.config import PRESETS, STAGES, TrainConfig, channels_for_bpp, config_to_dict, make_config
from neural.data import ImageDataset, check_dataset_files, load_dataset
from neural.losses import tosc_loss
from neural.metrics import correct_predictions, psnr, ssim
from neural.models import JSCCCodec, ResNet18

CHECKPOINT = "checkpoint.pt"
_RUN_ONLY_FIELDS = ("device", "out", "resume", "progress", "num_threads")
_N_EXAMPLES = 8


# ----------------------------------------------------------------------------- helpers
def derive_seed(*keys: int) -> int:
    """A 63-bit seed determined by the integer ``keys`` (NumPy SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def _atomic_write(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a temporary file in ``path``'s directory, then ``os.replace`` it
    onto ``path``: a reader (or a resumed run) sees the old file or the new one, never a
    partial one."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(obj: Any, path: str) -> None:
    """``torch.save`` to ``path`` atomically (temporary file + ``os.replace``)."""
    _atomic_write(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file + ``os.replace``)."""
    _atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _json(obj: Any) -> str:
    def fix(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return json.dumps(fix(obj), indent=2, allow_nan=False)


@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _setup_distributed(device_kind: str) -> _Dist:
    if dist.is_available() and dist.is_initialized():
        return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), False)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)), True)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device {name!r} is not a valid torch device: {exc}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return dev


def _beta_label(beta: float) -> str:
    return f"{beta:g}"


def build_classifier(config: TrainConfig, num_classes: int) -> ResNet18:
    """The task network of the configuration (ResNet-18, Table I)."""
    return ResNet18(num_classes, config.classifier_width, config.classifier_stem)


def build_codec(config: TrainConfig) -> JSCCCodec:
    """The JSCC codec of the configuration (Table I) with its channel."""
    channel: nn.Module = AWGNChannel() if config.channel == "awgn" else RayleighBlockFadingChannel()
    return JSCCCodec(config.latent_channels, config.codec_width, 3, channel)


def stage_lr(stage: Any, epoch: int) -> float:
    """Learning rate of ``epoch`` (0-based): geometric decay from ``lr`` to ``lr_final``."""
    if stage.lr_final is None or stage.epochs == 1:
        return float(stage.lr)
    return float(stage.lr * (stage.lr_final / stage.lr) ** (epoch / (stage.epochs - 1)))


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(
    codec: JSCCCodec | None,
    classifier: nn.Module,
    data: ImageDataset,
    snr_db: float,
    device: torch.device,
    batch_size: int,
    seed: int,
    ddp: _Dist | None = None,
) -> dict[str, float]:
    """Test metrics: accuracy of ``classifier`` on ``codec``'s reconstructions (or on the clean
    images if ``codec`` is None), mean per-image PSNR and SSIM, MSE and CE.

    The channel noise comes from a generator seeded with ``seed`` (reproducible). With
    ``ddp`` the test set is sharded over processes and the sums are all-reduced.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    ddp = ddp or _Dist()
    classifier.eval()
    if codec is not None:
        codec.eval()
    gen = torch.Generator(device=device).manual_seed(derive_seed(seed, ddp.rank))
    idx_all = torch.arange(ddp.rank, len(data), ddp.world)
    sums = torch.zeros(6, dtype=torch.float64, device=device)  # n, correct, psnr, ssim, mse, ce
    for idx in idx_all.split(batch_size):
        x, y = data.batch(idx, device)
        x_in = codec(x, snr_db, gen) if codec is not None else x
        logits = classifier(x_in)
        sums[0] += len(idx)
        sums[1] += correct_predictions(logits, y).sum()
        sums[5] += F.cross_entropy(logits, y, reduction="sum")
        if codec is not None:
            sums[2] += psnr(x, x_in).double().sum()
            sums[3] += ssim(x, x_in).double().sum()
            sums[4] += ((x_in - x) ** 2).flatten(1).mean(1).double().sum()
    if ddp.world > 1:
        dist.all_reduce(sums)
    n = float(sums[0])
    out = {"test_accuracy": float(sums[1]) / n, "test_ce": float(sums[5]) / n}
    if codec is not None:
        out.update(test_psnr=float(sums[2]) / n, test_ssim=float(sums[3]) / n, test_mse=float(sums[4]) / n)
    return out


# ----------------------------------------------------------------------------- result type
@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        results: the content of ``results.json``.
        metrics: one dict per epoch (the metrics log).
        out_dir: the output directory, or None when nothing was written.
        classifier: the Algorithm-2 classifier (eval mode).
        codecs: ``{"pretrained": Alg.-3 codec, "beta=<β>": Alg.-1 codec for each β}``.
    """

    results: dict[str, Any]
    metrics: list[dict[str, Any]]
    out_dir: str | None
    classifier: nn.Module
    codecs: dict[str, JSCCCodec] = field(default_factory=dict)


# ----------------------------------------------------------------------------- training
def _stages(config: TrainConfig) -> list[tuple[str, float | None]]:
    return [("classifier", None), ("codec", None)] + [("tosc", float(b)) for b in config.betas]


def _check_resume_config(saved: dict[str, Any], config: TrainConfig) -> None:
    now = config_to_dict(config)
    diff = [k for k in now if k not in _RUN_ONLY_FIELDS and saved.get(k) != now[k]]
    if diff:
        detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r} vs now {now[k]!r}" for k in diff)
        raise ValueError(f"resume: the configuration differs from the checkpoint's ({detail})")


def _rng_state(device: torch.device) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _save_png(examples: dict[str, torch.Tensor], path: str) -> None:
    """Originals against reconstructions (display only: values clipped to [0, 1] for imshow)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(examples)
    n = examples[rows[0]].shape[0]
    fig = Figure(figsize=(1.2 * n + 1.5, 1.3 * len(rows)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, name in enumerate(rows):
        imgs = examples[name].clamp(0, 1).permute(0, 2, 3, 1).numpy()
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(imgs[c], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                shown = {"codec": "Alg. 3 codec"}.get(name, name.replace("beta=", "Alg. 1, β="))
                ax.set_ylabel(shown, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def train(
    config: TrainConfig,
    on_checkpoint: Callable[[str, float | None, int], None] | None = None,
    classifier: nn.Module | None = None,
) -> TrainResult:
    """Run Algorithms 2, 3 and 1 (one Alg.-1 run per β) as configured.

    Args:
        config: a validated :class:`~neural.config.TrainConfig` (see :func:`make_config`).
        classifier: optional task network to use instead of the configured ResNet-18: any
            ``nn.Module`` mapping ``(B, 3, H, W)`` images to ``(B, num_classes)`` logits,
            freshly initialised (Algorithm 2 trains it). Pass the same architecture again
            when resuming.
        on_checkpoint: called as ``on_checkpoint(stage, beta, epoch)`` after each epoch's
            checkpoint is on disk (``epoch`` 1-based); an exception raised there stops the
            run as a crash would (used by the resume test).

    Returns:
        :class:`TrainResult`. With ``config.out`` set, the directory holds ``config.json``,
        ``metrics.jsonl``, ``checkpoint.pt``, ``classifier.pt``, ``codec_pretrained.pt``,
        ``codec_beta=<β>.pt``, ``results.json`` and ``reconstructions.png``.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if classifier is not None and not isinstance(classifier, nn.Module):
        raise TypeError(f"classifier must be an nn.Module, got {type(classifier).__name__}")
    config.validate()
    device = _resolve_device(config.device)
    ddp = _setup_distributed(device.type)
    try:
        if device.type == "cuda" and ddp.world > 1:
            device = torch.device("cuda", ddp.local_rank)
        if device.type == "cuda" and device.index is not None:
            torch.cuda.set_device(device)
        threads = torch.get_num_threads()
        if config.num_threads is not None:
            torch.set_num_threads(config.num_threads)
        try:
            return _train(config, device, ddp, on_checkpoint, classifier)
        finally:
            torch.set_num_threads(threads)
    finally:
        if ddp.owns_group:
            dist.destroy_process_group()


def _train(
    config: TrainConfig,
    device: torch.device,
    ddp: _Dist,
    on_checkpoint: Callable[[str, float | None, int], None] | None,
    task_network: nn.Module | None,
) -> TrainResult:
    out = config.out
    writes = out is not None and ddp.is_main
    ckpt_path = os.path.join(out, CHECKPOINT) if out else None
    if out is not None and os.path.exists(ckpt_path) and not config.resume:  # checked on every rank
        raise FileExistsError(f"{ckpt_path} exists: pass resume (--resume) to continue that run, or another out")
    if writes:
        os.makedirs(out, exist_ok=True)

    train_set = load_dataset(config.dataset, "train", config.data_dir, config.image_size)
    test_set = load_dataset(config.dataset, "test", config.data_dir, config.image_size)
    if config.max_train_images is not None:
        if config.max_train_images > len(train_set):
            raise ValueError(f"max_train_images={config.max_train_images} exceeds the {len(train_set)} training images")
        n = config.max_train_images
        train_set = ImageDataset(train_set.images[:n], train_set.labels[:n], train_set.num_classes, train_set.name)
    image_size = train_set.image_size
    per_rank = len(train_set) // ddp.world
    for name in STAGES:
        if getattr(config, name).batch_size > per_rank:
            raise ValueError(
                f"{name}.batch_size={getattr(config, name).batch_size} exceeds the {per_rank} training images per process"
            )

    torch.manual_seed(derive_seed(config.seed, 1))
    classifier = (build_classifier(config, train_set.num_classes) if task_network is None else task_network).to(device)
    torch.manual_seed(derive_seed(config.seed, 2))
    codec = build_codec(config).to(device)
    bpp = codec.bpp(image_size)

    stages = _stages(config)
    metrics: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "dataset": config.dataset,
        "image_size": list(image_size),
        "latent_channels": config.latent_channels,
        "bpp": bpp,
        "channel": config.channel,
        "snr_db": config.snr_db,
        "objective": config.objective,
        "seed": config.seed,
        "runs": [],
    }
    examples: dict[str, torch.Tensor] = {}
    finished: dict[str, dict[str, torch.Tensor]] = {}
    codec_pretrained: dict[str, torch.Tensor] | None = None
    start_stage, start_epoch, opt_state = 0, 0, None

    resumed = config.resume and ckpt_path is not None and os.path.exists(ckpt_path)
    if ddp.world > 1:  # every rank must agree on whether a checkpoint exists
        flag = torch.tensor([int(resumed)], device=device)
        dist.broadcast(flag, 0)
        resumed = bool(flag.item())
    if resumed:
        # CPU first: RNG states must stay CPU tensors; load_state_dict copies onto the device.
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        _check_resume_config(state["config"], config)
        classifier.load_state_dict(state["classifier"])
        if state["codec"] is not None:
            codec.load_state_dict(state["codec"])
        codec_pretrained = state["codec_pretrained"]
        finished, metrics, results, examples = state["finished"], state["metrics"], state["results"], state["examples"]
        start_stage, start_epoch, opt_state = state["stage"], state["epoch"], state["optimizer"]
        _set_rng_state(state["rng"], device)
        if start_epoch == getattr(config, stages[start_stage][0]).epochs:
            start_stage, start_epoch, opt_state = start_stage + 1, 0, None
    if writes:
        atomic_write_text(_json(config_to_dict(config)) + "\n", os.path.join(out, "config.json"))
        atomic_write_text("".join(json.dumps(m) + "\n" for m in metrics), os.path.join(out, "metrics.jsonl"))
        if resumed:
            print(f"resuming {out} at stage {start_stage} epoch {start_epoch}", file=sys.stderr)

    eval_seed = derive_seed(config.seed, 3)
    example_idx = torch.arange(min(_N_EXAMPLES, len(test_set)))
    examples.setdefault("original", test_set.batch(example_idx, "cpu")[0])

    for s in range(start_stage, len(stages)):
        kind, beta = stages[s]
        sc = getattr(config, kind)
        label = kind if beta is None else f"beta={_beta_label(beta)}"
        # --- stage set-up
        if kind == "classifier":
            trained: nn.Module = classifier
            classifier.requires_grad_(True)
        else:
            classifier.eval()
            classifier.requires_grad_(False)
            trained = codec
        first_epoch = start_epoch if s == start_stage else 0
        if kind == "tosc" and first_epoch == 0:
            codec.load_state_dict(codec_pretrained)  # Alg. 1 step 3: start from the Alg.-3 codec
        model = DistributedDataParallel(trained, device_ids=[device.index] if device.type == "cuda" else None) if ddp.world > 1 else trained
        opt = torch.optim.Adam(trained.parameters(), lr=sc.lr, weight_decay=sc.weight_decay)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
            opt_state = None

        for epoch in range(first_epoch, sc.epochs):
            t_epoch = time.perf_counter()
            lr = stage_lr(sc, epoch)
            for g in opt.param_groups:
                g["lr"] = lr
            torch.manual_seed(derive_seed(config.seed, 4, s, epoch, ddp.rank))  # channel noise of this epoch
            order_gen = torch.Generator().manual_seed(derive_seed(config.seed, 5, s, epoch))
            perm = torch.randperm(len(train_set), generator=order_gen)[ddp.rank :: ddp.world][:per_rank]
            steps = per_rank // sc.batch_size
            trained.train()
            sums = torch.zeros(5, dtype=torch.float64, device=device)  # n, loss, correct, psnr, ce
            compute_s = 0.0
            bar = tqdm(
                total=steps,
                desc=f"{label} {epoch + 1}/{sc.epochs}",
                disable=not (config.progress and ddp.is_main),
                leave=False,
                dynamic_ncols=True,
            )
            for step in range(steps):
                idx = perm[step * sc.batch_size : (step + 1) * sc.batch_size]
                x, y = train_set.batch(idx, device)
                if config.train_snr_range is not None:
                    lo, hi = config.train_snr_range
                    snr: torch.Tensor | float = torch.empty(len(idx), device=device).uniform_(lo, hi)
                else:
                    snr = config.snr_db
                t0 = time.perf_counter()
                if kind == "classifier":  # Alg. 2: CE on clean images
                    logits = model(x)
                    loss = F.cross_entropy(logits, y)
                    x_hat = None
                elif kind == "codec":  # Alg. 3: MSE through quantizer and channel
                    x_hat = model(x, snr)
                    loss = F.mse_loss(x_hat, x)
                    logits = None
                else:  # Alg. 1: eq. (31) with the classifier frozen
                    x_hat = model(x, snr)
                    logits = classifier(x_hat)
                    loss = tosc_loss(x, x_hat, logits, y, beta, 0.0 if config.objective == "ib" else 1.0).total
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                compute_s += time.perf_counter() - t0
                with torch.no_grad():
                    sums[0] += len(idx)
                    sums[1] += loss.detach().double() * len(idx)
                    if logits is not None:
                        sums[2] += correct_predictions(logits.detach(), y).sum()
                    if x_hat is not None:
                        sums[3] += psnr(x, x_hat.detach()).double().sum()
                bar.update(1)
                if bar.disable is False and (step % 10 == 9 or step == steps - 1):
                    v = (sums / sums[0]).tolist()
                    post = {"loss": f"{v[1]:.4g}"}
                    if kind != "codec":
                        post["acc"] = f"{v[2]:.3f}"
                    if kind != "classifier":
                        post["psnr"] = f"{v[3]:.2f}"
                    bar.set_postfix(post)
            bar.close()
            if ddp.world > 1:
                dist.all_reduce(sums)
                for buf in trained.buffers():  # BatchNorm running statistics: take rank 0's
                    dist.broadcast(buf, 0)
            train_s = time.perf_counter() - t_epoch
            v = (sums / sums[0]).tolist()
            rec: dict[str, Any] = {"stage": kind, "beta": beta, "epoch": epoch + 1, "lr": lr, "train_loss": v[1]}
            if kind != "codec":
                rec["train_accuracy"] = v[2]
            if kind != "classifier":
                rec["train_psnr"] = v[3]
            last = epoch + 1 == sc.epochs
            t_eval = time.perf_counter()
            if last or (epoch + 1) % config.eval_every == 0:
                rec.update(
                    evaluate(None if kind == "classifier" else codec, classifier, test_set, config.snr_db, device,
                             config.eval_batch_size, eval_seed, ddp)
                )
            rec.update(images=int(sums[0]), train_time_s=train_s, compute_time_s=compute_s,
                       eval_time_s=time.perf_counter() - t_eval)
            metrics.append(rec)
            if ddp.is_main and config.progress:
                shown = {k: round(v, 4) for k, v in rec.items() if k.startswith(("train_", "test_")) and not k.endswith("_s")}
                print(f"[{label} {epoch + 1}/{sc.epochs}] {shown}", file=sys.stderr)

            if last:  # --- stage results and artefacts
                if kind == "classifier":
                    results["classifier"] = {"test_accuracy": rec["test_accuracy"]}
                    artefact, name = classifier.state_dict(), "classifier.pt"
                else:
                    summary = {k: rec[k] for k in ("test_accuracy", "test_psnr", "test_ssim", "test_mse", "test_ce")}
                    gen = torch.Generator(device=device).manual_seed(eval_seed)
                    with torch.no_grad():
                        codec.eval()
                        examples[label] = codec(test_set.batch(example_idx, device)[0], config.snr_db, gen).cpu()
                    if kind == "codec":
                        codec_pretrained = {k: t.detach().clone() for k, t in codec.state_dict().items()}
                        results["codec_pretrained"] = summary
                        artefact, name = codec_pretrained, "codec_pretrained.pt"
                    else:
                        finished[label] = {k: t.detach().clone() for k, t in codec.state_dict().items()}
                        results["runs"].append({"beta": beta, "bpp": bpp, "snr_db": config.snr_db, **summary})
                        artefact, name = finished[label], f"codec_{label}.pt"
                if writes:
                    atomic_save(artefact, os.path.join(out, name))

            t_ck = time.perf_counter()
            if writes:
                atomic_save(
                    {
                        "format": 1,
                        "config": config_to_dict(config),
                        "stage": s,
                        "epoch": epoch + 1,
                        "classifier": classifier.state_dict(),
                        "codec": codec.state_dict() if kind != "classifier" else None,
                        "codec_pretrained": codec_pretrained,
                        "optimizer": opt.state_dict(),
                        "rng": _rng_state(device),
                        "metrics": metrics,
                        "results": results,
                        "examples": examples,
                        "finished": finished,
                    },
                    ckpt_path,
                )
                rec["checkpoint_time_s"] = time.perf_counter() - t_ck
                with open(os.path.join(out, "metrics.jsonl"), "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")
            if ddp.world > 1:
                dist.barrier()
            if on_checkpoint is not None:
                on_checkpoint(kind, beta, epoch + 1)
        start_epoch = 0

    classifier.eval()
    codecs: dict[str, JSCCCodec] = {}
    for name, st in [("pretrained", codec_pretrained)] + list(finished.items()):
        c = build_codec(config).to(device)
        c.load_state_dict(st)
        codecs[name] = c.eval()
    if writes:
        atomic_write_text(_json(results) + "\n", os.path.join(out, "results.json"))
        _save_png(examples, os.path.join(out, "reconstructions.png"))
    return TrainResult(results, metrics, out, classifier, codecs)


# ----------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    """The ``python -m neural.train`` argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m neural.train",
        description="Train the TOSC-SR system (Algorithms 2, 3, then 1 for each beta). "
        "Settings: preset <- --config FILE <- command-line overrides.",
    )
    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="starting configuration (default: quick; with --config alone, the file is applied "
                   "to the TrainConfig defaults)")
    p.add_argument("--config", metavar="FILE", help="JSON file with any subset of the configuration fields")
    p.add_argument("--dataset", choices=("digits", "stl10", "cifar10"))
    p.add_argument("--data-dir", help="directory with the STL-10 binary or CIFAR-10 python files")
    p.add_argument("--image-size", type=int, help="resize images to N x N (N a multiple of 8)")
    p.add_argument("--max-train-images", type=int, help="train on the first N training images only")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--channels", type=int, metavar="K", help="latent channels K (bpp = K/64)")
    rate.add_argument("--bpp", type=float, help="bits per pixel; sets K = 64*bpp (must be an integer)")
    p.add_argument("--codec-width", type=float, help="channel multiplier of the JSCC codec (1 = Table I)")
    p.add_argument("--classifier-width", type=float, help="channel multiplier of ResNet-18 (1 = standard)")
    p.add_argument("--classifier-stem", choices=("small", "imagenet"))
    p.add_argument("--channel", choices=("awgn", "rayleigh"))
    p.add_argument("--snr-db", type=float, help="channel SNR in dB (inf = noiseless); BPSK, unit signal power")
    p.add_argument("--train-snr-range", type=float, nargs=2, metavar=("LO", "HI"),
                   help="train with a per-sample SNR drawn uniformly in [LO, HI] dB")
    p.add_argument("--beta", type=float, nargs="+", help="trade-off factor(s) beta of eq. (31); one Alg.-1 run each")
    p.add_argument("--objective", choices=("tosc", "ib"), help="tosc: MSE + beta*CE; ib: beta*CE alone")
    names = {"classifier": "Alg. 2 (classifier)", "codec": "Alg. 3 (codec, MSE)", "tosc": "Alg. 1 (joint, eq. 31)"}
    for stage in STAGES:
        p.add_argument(f"--{stage}-epochs", type=int, help=f"{names[stage]}: epochs")
        p.add_argument(f"--{stage}-batch-size", type=int, help=f"{names[stage]}: batch size per process")
        p.add_argument(f"--{stage}-lr", type=float, help=f"{names[stage]}: Adam learning rate (first epoch)")
        p.add_argument(f"--{stage}-lr-final", type=float, help=f"{names[stage]}: learning rate of the last epoch (geometric decay)")
        p.add_argument(f"--{stage}-weight-decay", type=float, help=f"{names[stage]}: L2 weight decay")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    p.add_argument("--out", help="output directory (config, metrics log, checkpoints, results, PNG)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--eval-every", type=int, help="evaluate on the test split every N epochs")
    p.add_argument("--eval-batch-size", type=int)
    p.add_argument("--num-threads", type=int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bars or per-epoch lines")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Turn parsed arguments into a validated configuration."""
    preset = args.preset if args.preset is not None else (None if args.config else "quick")
    simple = {
        "dataset": args.dataset, "data_dir": args.data_dir, "image_size": args.image_size,
        "max_train_images": args.max_train_images,
        "latent_channels": args.channels, "codec_width": args.codec_width,
        "classifier_width": args.classifier_width, "classifier_stem": args.classifier_stem,
        "channel": args.channel, "snr_db": args.snr_db,
        "train_snr_range": list(args.train_snr_range) if args.train_snr_range else None,
        "betas": args.beta, "objective": args.objective, "seed": args.seed, "device": args.device,
        "out": args.out, "eval_every": args.eval_every, "eval_batch_size": args.eval_batch_size,
        "num_threads": args.num_threads,
    }
    overrides: dict[str, Any] = {k: v for k, v in simple.items() if v is not None}
    if args.bpp is not None:
        overrides["latent_channels"] = channels_for_bpp(args.bpp)
    if args.resume:
        overrides["resume"] = True
    if args.no_progress:
        overrides["progress"] = False
    for stage in STAGES:
        sect = {}
        for key in ("epochs", "batch_size", "lr", "lr_final", "weight_decay"):
            v = getattr(args, f"{stage}_{key}")
            if v is not None:
                sect[key] = v
        if sect:
            overrides[stage] = sect
    return make_config(preset, args.config, overrides)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        check_dataset_files(config.dataset, config.data_dir)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    result = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        r = result.results
        print(f"bpp={r['bpp']:g} snr_db={r['snr_db']} classifier clean accuracy={r['classifier']['test_accuracy']:.4f}")
        for run in r["runs"]:
            print(f"beta={run['beta']:g}: accuracy={run['test_accuracy']:.4f} psnr={run['test_psnr']:.2f} dB "
                  f"ssim={run['test_ssim']:.4f}")
        if result.out_dir:
            print(f"results in {result.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
