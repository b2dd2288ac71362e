"""Command line:
``python -m neural.experiments {bpp,snr,beta,visual,generalization,mi,exact,report}``
(``--help`` on each)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from neural.experiments.exact import add_parser as add_exact_parser
from neural.experiments.jobs import METHODS
from neural.experiments.plan import (
    CAPACITIES,
    EXPERIMENTS,
    HEADER_POLICIES,
    ON_FAILURE,
    PRESETS,
    make_spec,
)
from neural.experiments.runner import EXECUTORS

DESCRIPTIONS = {
    "bpp": "Fig. 4: every method at each bits-per-pixel value, at one SNR (default: noiseless).",
    "snr": "Fig. 6: methods trained at one SNR or a training SNR range, evaluated over an SNR grid.",
    "beta": "Fig. 9: TOSC-SR over a grid of beta (accuracy, PSNR and SSIM against beta).",
    "visual": "Fig. 5: the same test images reconstructed by each method, with the classifier's "
    "prediction and confidence under each.",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="quick",
        help="quick: built-in digits, short trainings (a laptop); paper: STL-10 from --data-dir, "
        "Table II (default: quick)",
    )
    p.add_argument(
        "--out", required=True, help="output directory; rerun with the same --out to resume"
    )
    p.add_argument("--data-dir", help="directory of the STL-10 binary files (paper preset)")
    p.add_argument(
        "--methods", nargs="+", choices=METHODS, help="methods to compare (default: the preset's)"
    )
    p.add_argument(
        "--headers",
        nargs="+",
        choices=HEADER_POLICIES,
        help="digital header policies to report (default: both)",
    )
    p.add_argument(
        "--capacity",
        choices=CAPACITIES,
        help="bits per channel use of the digital link: bpsk (default) or gaussian (1/2 log2(1+SNR))",
    )
    p.add_argument(
        "--on-failure",
        choices=ON_FAILURE,
        help="what a lost digital image becomes (default image-mean)",
    )
    p.add_argument("--tosc-beta", type=float, help="beta of TOSC-SR (default: the preset's)")
    p.add_argument(
        "--ib-beta", type=float, help="beta of the IB baseline (CE alone; default: the preset's)"
    )
    p.add_argument(
        "--spics-beta",
        type=float,
        help="beta of SPICS, MSE + beta*CE(head) (default: the preset's)",
    )
    p.add_argument(
        "--seeds", type=int, default=1, help="seeds 0..N-1; N >= 2 gives 95%% intervals (default 1)"
    )
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="training setting for every job, e.g. codec.epochs=2 or max_train_images=64 "
        "(VALUE is JSON; a TrainConfig field, stages as STAGE.FIELD); repeatable",
    )
    runtime_options(p)


def runtime_options(p: argparse.ArgumentParser) -> None:
    """Where and how the jobs run (shared by every experiment subcommand)."""
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="concurrent local jobs (default 1); each gets cores/jobs threads",
    )
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="process",
        help="process (local processes, default), inline (this process) or dask (--scheduler)",
    )
    p.add_argument(
        "--scheduler", help="address of a dask.distributed scheduler (with --executor dask)"
    )
    p.add_argument(
        "--threads-per-job",
        type=int,
        help="torch threads per job (default: cores // jobs; 1 on dask)",
    )
    p.add_argument(
        "--device", default="auto", help="torch device of every job: auto (default), cpu, cuda, ..."
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar or table on stderr")


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m neural.experiments`` parser (one subparser per experiment, and ``report``)."""
    p = argparse.ArgumentParser(
        prog="python -m neural.experiments",
        description="The paper's comparison experiments (TOSC-SR against RD, IB, SPICS, JPEG and JPEG 2000). "
        "Each writes OUT/results.json, OUT/results.csv and a PNG figure; see docs/experiments.md.",
    )
    sub = p.add_subparsers(
        dest="command",
        required=True,
        metavar="{bpp,snr,beta,visual,generalization,mi,exact,report}",
    )
    for name in EXPERIMENTS:
        s = sub.add_parser(name, help=DESCRIPTIONS[name], description=DESCRIPTIONS[name])
        _common(s)
        if name == "bpp":
            s.add_argument(
                "--bpp", type=float, nargs="+", help="bits per pixel values (K/64 for integer K)"
            )
        else:
            s.add_argument("--bpp", type=float, help="bits per pixel (K/64 for an integer K)")
        if name == "snr":
            g = s.add_mutually_exclusive_group()
            g.add_argument(
                "--train-snr",
                type=float,
                help="train every JSCC method at this SNR (dB; inf allowed)",
            )
            g.add_argument(
                "--train-snr-range",
                type=float,
                nargs=2,
                metavar=("LO", "HI"),
                help="train with per-sample SNR uniform in [LO, HI] dB (default: the preset's)",
            )
            s.add_argument("--snr-grid", type=float, nargs="+", help="evaluation SNRs (dB)")
        else:
            s.add_argument(
                "--snr-db",
                type=float,
                help="channel SNR of training and evaluation (dB; default inf)",
            )
        if name == "beta":
            s.add_argument("--beta", type=float, nargs="+", help="the beta grid of TOSC-SR")
        if name == "visual":
            s.add_argument("--images", type=int, help="how many test images to show (default 8)")
    from neural.experiments.four_mi.cli import add_mi_parser
    from neural.experiments.generalization import add_arguments as generalization_arguments

    g = sub.add_parser(
        "generalization",
        help="Algorithm 5: classification codecs, frozen, judged by a detector (mAP against beta)",
        description="Algorithm 5: accuracy on digits and detection mAP of the same codecs over beta.",
    )
    generalization_arguments(g)
    add_mi_parser(sub)
    add_exact_parser(sub)
    r = sub.add_parser(
        "report",
        help="write docs/results.md from runs' results.json",
        description="Markdown report (tables, figures, commands) from experiment output directories.",
    )
    r.add_argument(
        "runs", nargs="+", metavar="RUN_DIR", help="output directories of experiment runs"
    )
    r.add_argument("--to", required=True, help="Markdown file to write (e.g. docs/results.md)")
    r.add_argument(
        "--figures-dir", help="where the figures are copied (default: figures/ next to --to)"
    )
    return p


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["codec.epochs=2", "max_train_images=64"]`` → ``{"codec": {"epochs": 2}, "max_train_images": 64}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--override {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        parts = key.split(".")
        if len(parts) > 2:
            raise ValueError(f"--override {item!r}: KEY is FIELD or STAGE.FIELD")
        if len(parts) == 2:
            out.setdefault(parts[0], {})[parts[1]] = value
        else:
            out[key] = value
    return out


def _spec(args: argparse.Namespace):
    e = args.command
    options: dict[str, Any] = {
        "methods": args.methods,
        "headers": args.headers,
        "capacity": args.capacity,
        "on_failure": args.on_failure,
        "ib_beta": args.ib_beta,
        "spics_beta": args.spics_beta,
        "seeds": args.seeds,
        "train_overrides": parse_overrides(args.override),
    }
    if args.bpp is not None:
        options["bpps"] = args.bpp if isinstance(args.bpp, list) else [args.bpp]
    if e == "snr":
        options.update(
            snr_db=args.train_snr,
            eval_snrs=args.snr_grid,
            train_snr_range=list(args.train_snr_range) if args.train_snr_range else None,
        )
    else:
        options["snr_db"] = args.snr_db
    if e == "beta":
        if args.tosc_beta is not None:
            raise ValueError("beta: give the grid with --beta (not --tosc-beta)")
        options["betas"] = args.beta
    elif args.tosc_beta is not None:
        options["betas"] = [args.tosc_beta]
    if e == "visual":
        options["visual_images"] = args.images
    return make_spec(e, args.preset, **options)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    from neural.config import make_config
    from neural.data import check_dataset_files
    from neural.experiments.experiment import run_experiment
    from neural.experiments.report import report_command, write_report

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "generalization":
        from neural.experiments.generalization import command

        return command(args, argv, parser)
    if args.command == "exact":
        from neural.experiments.exact import main_exact

        try:
            check_out_dir(args.out)
            return main_exact(args, report_command(argv))
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "report":
        try:
            write_report(
                args.runs, args.to, figures_dir=args.figures_dir, command=report_command(argv)
            )
        except (ValueError, FileNotFoundError) as exc:
            parser.error(str(exc))
        print(f"wrote {args.to}")
        return 0
    if args.command == "mi":
        from neural.experiments.four_mi.cli import mi_command

        return mi_command(args, parser, argv)
    try:
        spec = _spec(args)
        cfg = make_config(
            spec.train_preset, overrides={**spec.train_overrides, "data_dir": args.data_dir}
        )
        check_dataset_files(cfg.dataset, cfg.data_dir)
        check_runtime_args(args)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    result = run_experiment(spec, args.out, **run_options(args, argv))
    print_summary(result, args.out)
    return 0


def run_options(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """The keyword arguments of an experiment runner taken from :func:`runtime_options`
    (and ``--data-dir``); the command line ``argv`` is recorded in the provenance."""
    from neural.experiments.report import report_command

    return {
        "data_dir": args.data_dir,
        "executor_kind": args.executor,
        "jobs": args.jobs,
        "scheduler": args.scheduler,
        "threads": args.threads_per_job,
        "device": args.device,
        "progress": not args.no_progress,
        "command": report_command(argv),
    }


def print_summary(result: Any, out: str) -> None:
    """One line: rows, jobs run and reused, the output directory and the files written."""
    print(
        f"{len(result.rows)} rows ({result.jobs_ran} jobs run, {result.jobs_skipped} reused) in "
        f"{os.path.abspath(out)}: " + ", ".join(os.path.basename(f) for f in result.files)
    )


def check_runtime_args(args: argparse.Namespace) -> None:
    """``--jobs``, ``--threads-per-job`` and ``--out`` (created; must be writable), or ``ValueError``."""
    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    if args.threads_per_job is not None and args.threads_per_job < 1:
        raise ValueError(f"--threads-per-job must be >= 1, got {args.threads_per_job}")
    check_out_dir(args.out)


def check_out_dir(out: str) -> None:
    """``--out`` is created if missing and must be a writable directory, or ``ValueError``."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out!r}: cannot create the directory ({exc.strerror})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out!r}: directory is not writable")
