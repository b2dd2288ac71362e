"""Test-set evaluation of a trained system or classifier (per-image means, exact under DDP)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from neural.data import ImageDataset
from neural.metrics import SSIM_WINDOW, correct_predictions, psnr, ssim
from neural.training.distributed import DistInfo, resolve_device
from neural.training.meters import MetricCollection
from neural.training.seeds import derive_seed

SYSTEM_METRICS = ("accuracy", "ce", "psnr", "ssim", "mse")


def _check(module: nn.Module, data: ImageDataset, batch_size: int, seed: int, what: str) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{what} must be an nn.Module, got {type(module).__name__}")
    if not isinstance(data, ImageDataset):
        raise TypeError(f"data must be a neural.data.ImageDataset, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data is empty")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _check_device(module: nn.Module, device: torch.device, what: str) -> None:
    p = next(iter(module.parameters()), None)
    if (
        p is not None
        and p.device != device
        and not (p.device.type == device.type == "cuda" and device.index is None)
    ):
        raise ValueError(
            f"{what} is on {p.device} but device={str(device)!r}: move it first (.to(device))"
        )


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block; afterwards every submodule gets its own former
    mode back (a wrapper's flag alone would put a frozen classifier back in training mode)."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for m, mode in modes:
            m.training = mode


@torch.no_grad()
def evaluate_shard(
    module: nn.Module,
    data: ImageDataset,
    *,
    snr_db: float | None,
    batch_size: int,
    seed: int,
    device: torch.device,
    shard: DistInfo,
) -> dict[str, float]:
    """Evaluate this process's shard (indices ``rank::world``) and all-reduce the sums.

    ``snr_db=None``: ``module`` is a classifier applied to the clean images (keys accuracy, ce);
    otherwise a system ``(x, snr_db, generator) -> (reconstruction, logits)`` (all five keys;
    ``ssim`` is left out for images smaller than its 11×11 window, e.g. the native 8×8 digits).
    The channel noise comes from a generator seeded with ``derive_seed(seed, rank)``.
    """
    names = ("accuracy", "ce") if snr_db is None else SYSTEM_METRICS
    with_ssim = min(data.image_size) >= SSIM_WINDOW
    if not with_ssim:
        names = tuple(n for n in names if n != "ssim")
    meters = MetricCollection(names, device)
    gen = torch.Generator(device=device).manual_seed(derive_seed(seed, shard.rank))
    with eval_mode(module):
        for idx in torch.arange(shard.rank, len(data), shard.world).split(batch_size):
            x, y = data.batch(idx, device)
            if snr_db is None:
                logits = module(x)
            else:
                x_hat, logits = module(x, snr_db, gen)
                meters["psnr"].update(psnr(x, x_hat))
                if with_ssim:
                    meters["ssim"].update(ssim(x, x_hat))
                meters["mse"].update((x_hat.double() - x.double()).pow(2).flatten(1).mean(1))
            meters["accuracy"].update(correct_predictions(logits, y))
            meters["ce"].update(F.cross_entropy(logits.double(), y, reduction="none"))
    if shard.world > 1:
        meters.sync()
    out = meters.compute()
    bad = [k for k, v in out.items() if math.isnan(v)]
    if bad:  # a diverged network (NaN weights or outputs): no NaN goes into a result
        raise FloatingPointError(
            f"evaluation gave NaN for {bad}: the network's outputs are not finite"
        )
    return out


def evaluate_system(
    system: nn.Module,
    data: ImageDataset,
    *,
    snr_db: float,
    batch_size: int = 256,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Test metrics of an end-to-end system on ``data`` at ``snr_db``.

    Args:
        system: ``forward(x, snr_db, generator=None) -> (reconstruction, logits)``, e.g.
            ``load_run(DIR).system(beta)`` or ``train(config).system(beta)``; on ``device``.
        data: a :class:`neural.data.ImageDataset` (e.g. ``load_dataset("digits", "test")``).
        snr_db: channel SNR in dB (``math.inf``: noiseless).
        batch_size: images per forward pass.
        seed: seed of the channel-noise generator (same seed, same numbers).
        device: where the images go (the system must already be there).

    Returns:
        ``{"accuracy", "ce", "psnr", "ssim", "mse"}``: per-image means over ``data``; accuracy
        top-1 in [0, 1], ce in nats, psnr in dB with data range 1 (``inf`` if some image is
        reconstructed exactly), ssim (Wang et al. 2004, see :mod:`neural.metrics`; absent for
        images smaller than its 11×11 window), mse per pixel and channel. The system is put in eval mode and given back in its former mode.
    """
    _check(system, data, batch_size, seed, "system")
    if (
        not isinstance(snr_db, (int, float))
        or isinstance(snr_db, bool)
        or math.isnan(snr_db)
        or snr_db == -math.inf
    ):
        raise ValueError(f"snr_db must be a number of dB or inf, got {snr_db!r}")
    dev = resolve_device(device)
    _check_device(system, dev, "system")
    return evaluate_shard(
        system,
        data,
        snr_db=float(snr_db),
        batch_size=batch_size,
        seed=seed,
        device=dev,
        shard=DistInfo(),
    )


def evaluate_classifier(
    classifier: nn.Module,
    data: ImageDataset,
    *,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Accuracy (top-1) and mean cross-entropy (nats) of ``classifier`` on the clean images of ``data``."""
    _check(classifier, data, batch_size, 0, "classifier")
    dev = resolve_device(device)
    _check_device(classifier, dev, "classifier")
    return evaluate_shard(
        classifier, data, snr_db=None, batch_size=batch_size, seed=0, device=dev, shard=DistInfo()
    )
