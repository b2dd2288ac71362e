"""Training throughput of the TOSC-SR system (``python benchmarks/bench_training.py``).

For the ``quick`` architecture (built-in digits, 32×32) and the ``paper`` architecture
(Table I at full width, ResNet-18 with the ImageNet stem, K = 128; the digits resized to
96×96 stand in for STL-10, which is not shipped), it runs every stage of
:func:`neural.train.train` for a short while, writing checkpoints as a real run does,
and reads the per-epoch timings of the metrics log:

* ``images/s``: training images per second of the training loop (data, forward,
  backward, optimiser step, logging, progress bar).
* ``outside fwd/bwd``: share of (training loop + checkpoint) time not spent in
  forward + backward + optimiser step: batch assembly, host-to-device copies, metric
  accumulation, logging, and the per-epoch atomic checkpoint. For ``paper`` the
  measured per-step overhead is also extrapolated to a real STL-10 epoch
  (5000 images / batch size steps); evaluation time is reported separately.

Prints a Markdown table. Options: ``--device``, ``--threads``, ``--only quick|paper``.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from typing import Any

import torch

from neural.config import TrainConfig, make_config
from neural.train import train

STL10_TRAIN_IMAGES = 5000


def _configs(device: str, threads: int | None) -> dict[str, TrainConfig]:
    common: dict[str, Any] = {
        "device": device,
        "num_threads": threads,
        "progress": False,
        "betas": [0.01],
    }
    quick = make_config(
        "quick",
        overrides={
            **common,
            "classifier": {"epochs": 2},
            "codec": {"epochs": 2},
            "tosc": {"epochs": 2},
        },
    )
    paper = make_config(
        "paper",
        overrides={
            **common,
            "dataset": "digits",
            "data_dir": None,
            "image_size": 96,
            "max_train_images": 192,
            "classifier": {"epochs": 1},
            "codec": {"epochs": 1},
            "tosc": {"epochs": 1},
        },
    )
    return {"quick": quick, "paper": paper}


def bench(name: str, config: TrainConfig) -> list[dict[str, Any]]:
    """Run ``config`` in a temporary directory; one row per stage with the timing figures."""
    with tempfile.TemporaryDirectory() as tmp:
        config.out = tmp
        t0 = time.perf_counter()
        result = train(config)
        wall = time.perf_counter() - t0
    rows = []
    for stage in ("classifier", "codec", "tosc"):
        ms = [m for m in result.metrics if m["stage"] == stage]
        if len(ms) > 1:
            ms = ms[1:]  # drop the first (warm-up) epoch when there is more than one
        images = sum(m["images"] for m in ms)
        loop = sum(m["train_time_s"] for m in ms)
        compute = sum(m["compute_time_s"] for m in ms)
        ckpt = sum(m.get("checkpoint_time_s", 0.0) for m in ms) / len(ms)  # per epoch
        evals = sum(m["eval_time_s"] for m in ms) / len(ms)
        share = (loop - compute + ckpt * len(ms)) / (loop + ckpt * len(ms))
        row = {
            "arch": name,
            "stage": stage,
            "images_per_s": images / loop,
            "outside_share": share,
            "step_overhead_ms": 1e3
            * (loop - compute)
            / max(1, images // getattr(config, stage).batch_size),
            "checkpoint_s": ckpt,
            "eval_s": evals,
            "wall_s": wall,
        }
        if name == "paper":  # extrapolate to a real STL-10 epoch
            steps = STL10_TRAIN_IMAGES // getattr(config, stage).batch_size
            n_steps = images // getattr(config, stage).batch_size
            step_t, step_over = loop / n_steps, (loop - compute) / n_steps
            row["outside_share_stl10_epoch"] = (steps * step_over + ckpt) / (steps * step_t + ckpt)
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    p.add_argument("--only", choices=("quick", "paper"))
    args = p.parse_args(argv)
    configs = _configs(args.device, args.threads)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(
        f"# machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, device {args.device}"
    )
    print(
        "| arch | stage | images/s | outside fwd/bwd (measured) | outside, real STL-10 epoch | "
        "step overhead (ms) | checkpoint (s/epoch) | eval (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, cfg in configs.items():
        if args.only and name != args.only:
            continue
        for r in bench(name, cfg):
            ext = (
                f"{100 * r['outside_share_stl10_epoch']:.1f}%"
                if "outside_share_stl10_epoch" in r
                else "-"
            )
            print(
                f"| {r['arch']} | {r['stage']} | {r['images_per_s']:.1f} | {100 * r['outside_share']:.1f}% | {ext} | "
                f"{r['step_overhead_ms']:.2f} | {r['checkpoint_s']:.2f} | {r['eval_s']:.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
