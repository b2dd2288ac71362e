"""Command line of the TOSC-SR training (Algorithms 1–3) and its baselines.

::

    python -m neural.train --preset quick --out runs/quick
    python -m neural.train --preset quick --objective spics --beta 0.1 --classifier-from runs/quick --out runs/spics
    python -m neural.train --preset paper --data-dir /data/stl10 --out runs/paper
    torchrun --nproc_per_node 4 -m neural.train --preset paper --data-dir ... --out ...

The work is done by :mod:`neural.training` (stages, loop, checkpoints); this module turns
arguments into a :class:`~neural.config.TrainConfig` and calls
:func:`neural.training.train`, which it re-exports with :class:`TrainResult`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from neural.config import PRESETS, STAGES, TrainConfig, channels_for_bpp, make_config
from neural.data import check_dataset_files
from neural.training import TrainResult, train
from neural.training.loading import weights_path

__all__ = ["TrainResult", "build_parser", "config_from_args", "main", "train"]


# ----------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    """The ``python -m neural.train`` argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m neural.train",
        description="Train the TOSC-SR system (Algorithms 2, 3, then 1 for each beta). "
        "Settings: preset <- --config FILE <- command-line overrides.",
    )
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="starting configuration (default: quick; with --config alone, the file is applied "
        "to the TrainConfig defaults)",
    )
    p.add_argument(
        "--config", metavar="FILE", help="JSON file with any subset of the configuration fields"
    )
    p.add_argument("--dataset", choices=("digits", "stl10", "cifar10"))
    p.add_argument("--data-dir", help="directory with the STL-10 binary or CIFAR-10 python files")
    p.add_argument("--image-size", type=int, help="resize images to N x N (N a multiple of 8)")
    p.add_argument("--max-train-images", type=int, help="train on the first N training images only")
    rate = p.add_mutually_exclusive_group()
    rate.add_argument("--channels", type=int, metavar="K", help="latent channels K (bpp = K/64)")
    rate.add_argument(
        "--bpp", type=float, help="bits per pixel; sets K = 64*bpp (must be an integer)"
    )
    p.add_argument(
        "--codec-width", type=float, help="channel multiplier of the JSCC codec (1 = Table I)"
    )
    p.add_argument(
        "--classifier-width", type=float, help="channel multiplier of ResNet-18 (1 = standard)"
    )
    p.add_argument("--classifier-stem", choices=("small", "imagenet"))
    p.add_argument("--channel", choices=("awgn", "rayleigh"))
    p.add_argument(
        "--snr-db", type=float, help="channel SNR in dB (inf = noiseless); BPSK, unit signal power"
    )
    p.add_argument(
        "--train-snr-range",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="train with a per-sample SNR drawn uniformly in [LO, HI] dB",
    )
    p.add_argument(
        "--beta",
        type=float,
        nargs="+",
        help="trade-off factor(s) beta of eq. (31); one Alg.-1 run each",
    )
    p.add_argument(
        "--objective",
        choices=("tosc", "ib", "spics"),
        help="tosc: MSE + beta*CE(classifier(x_hat)) (Alg. 1); ib: beta*CE alone (IB baseline); "
        "spics: MSE + beta*CE of a latent head trained with the codec (SPICS baseline)",
    )
    p.add_argument(
        "--head-lr", type=float, help="SPICS: Adam learning rate of the latent head (first epoch)"
    )
    p.add_argument(
        "--classifier-from",
        metavar="PATH",
        help="skip Alg. 2: load this classifier.pt (or the run directory holding it)",
    )
    p.add_argument(
        "--codec-from",
        metavar="PATH",
        help="skip Alg. 3: load this codec_pretrained.pt (or the run directory holding it)",
    )
    names = {
        "classifier": "Alg. 2 (classifier)",
        "codec": "Alg. 3 (codec, MSE)",
        "tosc": "Alg. 1 (joint, eq. 31)",
    }
    for stage in STAGES:
        p.add_argument(f"--{stage}-epochs", type=int, help=f"{names[stage]}: epochs")
        p.add_argument(
            f"--{stage}-batch-size", type=int, help=f"{names[stage]}: batch size per process"
        )
        p.add_argument(
            f"--{stage}-lr", type=float, help=f"{names[stage]}: Adam learning rate (first epoch)"
        )
        p.add_argument(
            f"--{stage}-lr-final",
            type=float,
            help=f"{names[stage]}: learning rate of the last epoch (geometric decay)",
        )
        p.add_argument(
            f"--{stage}-weight-decay", type=float, help=f"{names[stage]}: L2 weight decay"
        )
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--out", help="output directory (config, metrics log, checkpoints, results, PNG)"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    p.add_argument("--eval-every", type=int, help="evaluate on the test split every N epochs")
    p.add_argument("--eval-batch-size", type=int)
    p.add_argument(
        "--num-threads",
        type=int,
        help="torch CPU threads (default: see docs/performance.md, 'Training threads')",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars or per-epoch lines")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Turn parsed arguments into a validated configuration."""
    preset = args.preset if args.preset is not None else (None if args.config else "quick")
    simple = {
        "dataset": args.dataset,
        "data_dir": args.data_dir,
        "image_size": args.image_size,
        "max_train_images": args.max_train_images,
        "latent_channels": args.channels,
        "codec_width": args.codec_width,
        "classifier_width": args.classifier_width,
        "classifier_stem": args.classifier_stem,
        "channel": args.channel,
        "snr_db": args.snr_db,
        "train_snr_range": list(args.train_snr_range) if args.train_snr_range else None,
        "betas": args.beta,
        "objective": args.objective,
        "seed": args.seed,
        "device": args.device,
        "out": args.out,
        "eval_every": args.eval_every,
        "eval_batch_size": args.eval_batch_size,
        "num_threads": args.num_threads,
        "head_lr": args.head_lr,
        "classifier_from": args.classifier_from,
        "codec_from": args.codec_from,
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
        if config.classifier_from is not None:
            weights_path(config.classifier_from, "classifier.pt", "--classifier-from")
        if config.codec_from is not None:
            weights_path(config.codec_from, "codec_pretrained.pt", "--codec-from")
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    result = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        r = result.results
        print(
            f"bpp={r['bpp']:g} snr_db={r['snr_db']} classifier clean accuracy={r['classifier']['test_accuracy']:.4f}"
        )
        for run in r["runs"]:
            print(
                f"beta={run['beta']:g}: accuracy={run['test_accuracy']:.4f} psnr={run['test_psnr']:.2f} dB "
                f"ssim={run['test_ssim']:.4f}"
            )
        if result.out_dir:
            print(f"results in {result.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
