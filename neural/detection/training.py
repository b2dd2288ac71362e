"""Training the detector on clean images, and mAP of detections on (transmitted) images."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from neural.data.detection import DetectionDataset
from neural.detection.average_precision import ImageBoxes, MAPResult, mean_average_precision
from neural.detection.detector import CenterNetDetector, detection_loss, make_targets


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :func:`train_detector` (Adam; learning rate decays as a cosine to 0)."""

    width: int = 16
    epochs: int = 12
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    top_k: int = 50

    def validate(self) -> DetectorConfig:
        for name in ("width", "epochs", "batch_size", "top_k"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"detector {name} must be a positive integer, got {v!r}")
        for name in ("lr", "weight_decay"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float))
                or not math.isfinite(v)
                or v < 0
            ):
                raise ValueError(f"detector {name} must be a finite number >= 0, got {v!r}")
        if self.lr == 0:
            raise ValueError("detector lr must be > 0")
        return self


def train_detector(
    data: DetectionDataset,
    config: DetectorConfig = DetectorConfig(),
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> CenterNetDetector:
    """Train a :class:`CenterNetDetector` on ``data`` (clean images); returned in eval mode.

    The initialisation and the batch order are functions of ``seed``; the loss is the
    CenterNet loss of :func:`neural.detection.detector.detection_loss`. Raises
    ``FloatingPointError`` if the loss stops being finite.
    """
    if not isinstance(data, DetectionDataset):
        raise TypeError(f"data must be a DetectionDataset, got {type(data).__name__}")
    config.validate()
    torch.manual_seed(seed)
    model = CenterNetDetector(data.num_classes, config.width, data.images.shape[1]).to(device)
    targets = make_targets(data.boxes, data.labels, data.num_classes, data.image_size)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(data) / config.batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    bar = tqdm(range(config.epochs), desc="detector", disable=not progress, leave=False)
    for _ in bar:
        total = 0.0
        for idx in torch.randperm(len(data), generator=gen).split(config.batch_size):
            x = data.batch(idx, device)
            t = tuple(v[idx].to(device) for v in targets)
            loss = detection_loss(model(x), t)  # type: ignore[arg-type]
            if not torch.isfinite(loss):
                raise FloatingPointError("detector training: the loss is not finite")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        bar.set_postfix(loss=f"{total / len(data):.3f}")
    return model.eval()


def ground_truth(data: DetectionDataset) -> list[ImageBoxes]:
    """The boxes of ``data`` as :class:`ImageBoxes` (``difficult`` objects ignored)."""
    return [
        ImageBoxes(b.double().numpy(), lab.numpy(), ignore=d.numpy())
        for b, lab, d in zip(data.boxes, data.labels, data.difficult)
    ]


@dataclass(frozen=True)
class DetectionScore:
    """:func:`evaluate_detection`'s result: the mAP and the mean PSNR (dB, data range 1) of
    the images the detector saw against the originals (``inf`` when they are identical)."""

    map: MAPResult
    psnr: float


@torch.no_grad()
def evaluate_detection(
    detector: CenterNetDetector,
    data: DetectionDataset,
    *,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 128,
    top_k: int = 50,
    device: str | torch.device = "cpu",
) -> DetectionScore:
    """mAP of ``detector`` on ``transform(images)`` (e.g. the images through a codec and the
    channel; the originals if None) against the boxes of ``data``."""
    from neural.metrics import psnr

    detector.eval()
    dets: list[ImageBoxes] = []
    psnrs = []
    for idx in torch.arange(len(data)).split(batch_size):
        x = data.batch(idx, device)
        seen = x if transform is None else transform(x)
        if seen.shape != x.shape:
            raise ValueError(
                f"transform changed the image shape {tuple(x.shape)} to {tuple(seen.shape)}"
            )
        if not bool(torch.isfinite(seen).all()):
            raise FloatingPointError("the transmitted images are not finite")
        psnrs.append(psnr(x, seen).double().cpu())
        for d in detector.detect(seen, top_k):
            dets.append(
                ImageBoxes(
                    d.boxes.double().cpu().numpy(),
                    d.labels.cpu().numpy(),
                    d.scores.double().cpu().numpy(),
                )
            )
    p = torch.cat(psnrs)
    return DetectionScore(
        mean_average_precision(dets, ground_truth(data)), float(np.mean(p.numpy()))
    )
