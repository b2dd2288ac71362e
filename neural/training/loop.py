"""The training loop shared by every stage: one epoch of steps with metrics and a progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from tqdm import tqdm

from neural.config import TrainConfig
from neural.data import ImageDataset
from neural.metrics import correct_predictions, psnr
from neural.training.meters import MetricCollection
from neural.training.stages import Models, Stage


@dataclass
class EpochStats:
    """Training metrics of one epoch (means over this epoch's images, all processes) and timings."""

    metrics: dict[str, float]
    images: int
    compute_s: float  # forward + backward + optimiser step


def _snr(config: TrainConfig, n: int, device: torch.device) -> torch.Tensor | float:
    if config.train_snr_range is not None:  # per-sample SNR, uniform in [lo, hi] dB
        lo, hi = config.train_snr_range
        return torch.empty(n, device=device).uniform_(lo, hi)
    return config.snr_db


def train_epoch(
    stage: Stage,
    model: torch.nn.Module,
    models: Models,
    optimizer: torch.optim.Optimizer,
    data: ImageDataset,
    order: torch.Tensor,
    device: torch.device,
    *,
    desc: str,
    progress: bool,
) -> EpochStats:
    """One pass over ``order`` (this process's image indices) in batches of the stage's size
    (an incomplete last batch is dropped). Metrics are synchronised across processes."""
    batch_size = stage.settings.batch_size
    steps = len(order) // batch_size
    meters = MetricCollection(("loss",) + stage.metric_names, device)
    compute_s = 0.0
    model.train()
    bar = tqdm(total=steps, desc=desc, disable=not progress, leave=False, dynamic_ncols=True)
    try:
        for step in range(steps):
            idx = order[step * batch_size : (step + 1) * batch_size]
            x, y = data.batch(idx, device)
            snr = _snr(stage.config, len(idx), device)
            t0 = time.perf_counter()
            out = stage.step(model, models, x, y, snr)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            optimizer.step()
            compute_s += time.perf_counter() - t0
            meters["loss"].update(out.loss.detach(), weight=len(idx))
            if out.logits is not None and "accuracy" in meters:
                meters["accuracy"].update(correct_predictions(out.logits.detach(), y))
            if out.reconstruction is not None and "psnr" in meters:
                meters["psnr"].update(psnr(x, out.reconstruction.detach()))
            bar.update(1)
            if progress and (step % 10 == 9 or step == steps - 1):
                bar.set_postfix({k: f"{v:.4g}" for k, v in meters.compute().items()})
    finally:
        bar.close()
    meters.sync()
    return EpochStats(meters.compute(), int(meters["loss"].count), compute_s)
