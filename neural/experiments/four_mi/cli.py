"""``python -m neural.experiments mi``: the parser and the command (see docs/four-mi.md)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from neural.experiments.four_mi.experiment import MI_METHODS, MI_PRESETS, make_mi_spec
from neural.experiments.four_mi.job import ESTIMATORS

DESCRIPTION = (
    "Fig. 7 / Algorithm 4: I(X;Z), I(Z;Ŷ), I(X;Ŷ) and I(Ŷ;Y) (bits) of the RD baseline, TOSC-SR "
    "and the IB baseline across bpp at SNR = ∞. Exact values from counts where they exist, the "
    "plug-in I(Ŷ;Y) with its interval, CLUB and a lower-bound estimator on (X, Z) over repeated "
    "estimation; every value with its kind and bound check. The trainings are the bpp "
    "experiment's: --runs DIR reuses a finished bpp run."
)


def add_mi_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``mi`` subcommand to the subparsers ``sub`` of ``python -m neural.experiments``."""
    from neural.experiments.cli import runtime_options

    s = sub.add_parser("mi", help="Fig. 7: " + DESCRIPTION, description=DESCRIPTION)
    s.add_argument(
        "--preset",
        choices=sorted(MI_PRESETS),
        default="quick",
        help="quick: built-in digits, short trainings and estimations; paper: STL-10 from "
        "--data-dir, Tables I-II (default: quick)",
    )
    s.add_argument("--out", required=True, help="where results.json, results.csv and the figure go")
    s.add_argument(
        "--runs",
        help="directory of the jobs (trainings and analyses); the --out of a finished bpp run "
        "reuses its trainings (default: --out)",
    )
    s.add_argument("--data-dir", help="directory of the STL-10 binary files (paper preset)")
    s.add_argument("--methods", nargs="+", choices=MI_METHODS, help="default: rd tosc ib")
    s.add_argument(
        "--bpp", type=float, nargs="+", help="bits per pixel values (default: the preset's)"
    )
    s.add_argument("--tosc-beta", type=float, help="beta of TOSC-SR (default: the preset's)")
    s.add_argument("--ib-beta", type=float, help="beta of the IB baseline (default: the preset's)")
    s.add_argument("--seeds", type=int, help="training seeds 0..N-1 (default 1)")
    s.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="training setting for every job, as for bpp (must match to reuse its trainings)",
    )
    s.add_argument(
        "--repeats", type=int, help="repeated estimations per system (default: preset's)"
    )
    s.add_argument(
        "--estimators",
        nargs="*",
        choices=sorted(ESTIMATORS),
        help="neural estimators of I(X;Z) (default: club mine; none: counts only)",
    )
    s.add_argument("--mi-steps", type=int, help="training steps of each estimation")
    s.add_argument("--mi-batch-size", type=int, help="batch size of the estimators")
    s.add_argument("--mi-hidden", type=int, nargs="+", help="hidden widths of the MI networks")
    s.add_argument("--mi-lr", type=float, help="learning rate (default: the estimator's)")
    s.add_argument(
        "--x-components",
        type=int,
        help="principal components of X fed to the estimators (0: the pixels as they are)",
    )
    runtime_options(s)
    return s


def mi_command(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    """Run the ``mi`` subcommand from parsed ``args``; returns the exit status."""
    from neural.config import make_config
    from neural.data import check_dataset_files
    from neural.experiments.cli import (
        check_runtime_args,
        parse_overrides,
        print_summary,
        run_options,
    )
    from neural.experiments.four_mi.experiment import run_mi

    try:
        options: dict[str, Any] = {
            "methods": args.methods,
            "bpps": args.bpp,
            "tosc_beta": args.tosc_beta,
            "ib_beta": args.ib_beta,
            "seeds": args.seeds,
            "repeats": args.repeats,
            "estimators": args.estimators,
            "steps": args.mi_steps,
            "batch_size": args.mi_batch_size,
            "hidden": args.mi_hidden,
            "lr": args.mi_lr,
            "train_overrides": parse_overrides(args.override),
        }
        if args.x_components is not None:
            options["x_components"] = args.x_components or None
            if args.x_components < 0:
                raise ValueError(f"--x-components must be >= 0, got {args.x_components}")
        spec = make_mi_spec(args.preset, **options)
        train = spec.training_spec()
        cfg = make_config(
            train.train_preset, overrides={**train.train_overrides, "data_dir": args.data_dir}
        )
        check_dataset_files(cfg.dataset, cfg.data_dir)
        check_runtime_args(args)
        if args.runs is not None and not os.path.isdir(args.runs):
            raise ValueError(f"--runs {args.runs!r} is not a directory")
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    result = run_mi(spec, args.out, runs=args.runs, **run_options(args, argv))
    print_summary(result, args.out)
    return 0
