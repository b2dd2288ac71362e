"""Run one experiment end to end: jobs → rows → ``results.json``/``results.csv`` → figure → table."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from neural.experiments.jobs import Job, Runtime, visual_path
from neural.experiments.plan import FIGURES, ExperimentSpec, build_jobs
from neural.experiments.plots import LABELS, curve_figure, visual_figure
from neural.experiments.results import (
    header_policy_note,
    markdown_table,
    normalise_row,
    provenance,
    write_results,
)
from neural.experiments.runner import EXECUTORS, SweepRecords, open_executor, run_jobs
from neural.training.threads import available_cores, threads_for_jobs

FIGURE_FILES = {
    "bpp": "fig4_bpp.png",
    "snr": "fig6_snr.png",
    "beta": "fig9_beta.png",
    "visual": "fig5_visual.png",
}


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` returns: the rows, provenance, written files and job counts."""

    rows: list[dict[str, Any]]
    provenance: dict[str, Any]
    files: list[str]
    jobs_ran: int
    jobs_skipped: int
    table: str


def run_experiment(
    spec: ExperimentSpec,
    out: str,
    *,
    data_dir: str | None = None,
    executor: Executor | None = None,
    executor_kind: str = "process",
    jobs: int = 1,
    scheduler: str | None = None,
    threads: int | None = None,
    device: str = "auto",
    progress: bool = True,
    command: str | None = None,
    on_job_done: Callable[[Job, dict[str, Any]], None] | None = None,
) -> ExperimentResult:
    """Run ``spec``'s jobs (finished ones in ``out`` are skipped) and write its results.

    Args:
        spec: the experiment (:func:`neural.experiments.make_spec`).
        out: output directory; rerunning with the same ``out`` resumes.
        data_dir: dataset directory (STL-10, CIFAR-10); not part of any job key.
        executor: any ``concurrent.futures.Executor`` to run jobs on; if None, one is made
            from ``executor_kind`` (``process``/``inline``/``dask``), ``jobs`` and ``scheduler``.
        jobs: concurrent local jobs (``process``); also what ``threads`` is split by.
        threads: torch threads per job; default ``max(1, cores // jobs)`` locally, 1 on dask.
        device: torch device of every job (``auto``: CUDA when available).
        command: the command line, recorded in the provenance.
        on_job_done: called after each job run here (see :func:`run_jobs`).

    Returns:
        :class:`ExperimentResult`; ``out`` holds results.json, results.csv and the figure.
    """
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    spec.validate()
    threads = resolve_threads(executor_kind, threads, jobs)
    out = os.path.abspath(out)
    plan = build_jobs(spec, data_dir)
    runtime = Runtime.local(out, data_dir, device, threads)
    sweep, prov = run_plan(
        plan,
        runtime,
        executor=executor,
        executor_kind=executor_kind,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
        on_job_done=on_job_done,
    )

    rows = [
        normalise_row(r)
        for rec in sweep.records
        for r in rec["rows"]
        if r["method"] in spec.methods
    ]
    clean = {
        rec["spec"]["seed"]: rec["classifier_accuracy"]
        for rec in sweep.records
        if "classifier_accuracy" in rec
    }
    prov.update(
        command=command,
        experiment=spec.as_dict(),
        figure=FIGURES[spec.experiment],
        classifier_accuracy={str(k): v for k, v in sorted(clean.items())},
    )
    files = list(write_results(out, rows, prov))
    title = _title(spec)
    fig_path = os.path.join(out, FIGURE_FILES[spec.experiment])
    if spec.experiment == "visual":
        files.append(visual_figure(_visual_panels(spec, plan, out), fig_path, title=title))
    else:
        mean_clean = float(np.mean(list(clean.values()))) if clean else None
        files.append(
            curve_figure(spec.experiment, rows, fig_path, title=title, clean_accuracy=mean_clean)
        )
    table = markdown_table(rows) if spec.experiment != "visual" else _visual_table(rows)
    table += "\n\n" + header_policy_note(prov)
    if progress:
        print(table, file=sys.stderr)
    return ExperimentResult(rows, prov, files, len(sweep.ran), len(sweep.skipped), table)


def resolve_threads(executor_kind: str, threads: int | None, jobs: int) -> int:
    """Torch threads per job: ``threads`` checked, or by default ``max(1, cores // jobs)``
    locally and 1 on dask; ``executor_kind`` checked too."""
    if executor_kind not in EXECUTORS:
        raise ValueError(f"executor_kind must be one of {EXECUTORS}, got {executor_kind!r}")
    if threads is None:
        return 1 if executor_kind == "dask" else threads_for_jobs(jobs)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    return threads


def run_plan(
    plan: list[Job],
    runtime: Runtime,
    *,
    executor: Executor | None,
    executor_kind: str,
    jobs: int,
    scheduler: str | None,
    progress: bool,
    on_job_done: Callable[[Job, dict[str, Any]], None] | None = None,
) -> tuple[SweepRecords, dict[str, Any]]:
    """Run ``plan`` under ``runtime`` on ``executor`` (if None, one made from ``executor_kind``,
    ``jobs`` and ``scheduler``, shut down after); return the records and the provenance: the
    versions and git state at the start, the executor, threads, device, wall time, job counts
    and every job's spec and time (``jobs_detail``)."""
    prov = provenance()  # versions and git state when the run starts
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        executor, kind = open_executor(
            stack, executor, executor_kind, jobs=jobs, scheduler=scheduler
        )
        sweep = run_jobs(plan, runtime, executor, progress=progress, on_job_done=on_job_done)
    prov.update(
        executor=kind,
        jobs=jobs,
        threads_per_job=runtime.threads,
        usable_cores=available_cores(),
        device=runtime.device,
        elapsed_s=time.perf_counter() - t0,
        jobs_total=len(sweep.records),
        jobs_ran=len(sweep.ran),
        jobs_skipped=len(sweep.skipped),
        jobs_detail=[
            {"key": rec["key"], "time_s": rec["time_s"], "spec": rec["spec"]}
            for rec in sweep.records
        ],
    )
    return sweep, prov


def _title(spec: ExperimentSpec) -> str:
    snr = (
        f"trained at SNR [{spec.train_snr_range[0]:g}, {spec.train_snr_range[1]:g}] dB"
        if spec.experiment == "snr" and spec.train_snr_range
        else f"SNR = {spec.snr_db:g} dB"
    )
    bpp = "" if spec.experiment == "bpp" else f", bpp = {spec.bpps[0]:g}"
    beta = "" if spec.experiment == "beta" else f", β = {spec.betas[0]:g}"
    return (
        f"{FIGURES[spec.experiment]} ({spec.preset} preset): {snr}{bpp}{beta}, {spec.seeds} seed(s)"
    )


def _visual_panels(
    spec: ExperimentSpec, plan: list[Job], out: str
) -> list[tuple[str, dict[str, np.ndarray]]]:
    panels = []
    for job in plan:
        s = job.spec
        if s["seed"] != 0 or s["method"] not in spec.methods:
            continue
        label = LABELS[s["method"]] + (
            f"\n({s['header']})" if s["kind"] == "digital" else f"\nβ={s['beta']:g}"
        )
        with np.load(visual_path(out, job.key)) as arrays:
            panels.append((label, {k: arrays[k] for k in arrays.files}))
    return panels


def _visual_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| method | header | β | seed | image | label | prediction | confidence | PSNR (dB) | SSIM |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        beta = "—" if r["beta"] != r["beta"] else f"{r['beta']:g}"
        lines.append(
            f"| {r['method']} | {r['header'] or '—'} | {beta} | {int(r['seed'])} | {int(r['image'])} | "
            f"{int(r['label'])} | {int(r['prediction'])} | {r['confidence']:.3f} | {r['psnr']:.2f} | "
            f"{r['ssim']:.3f} |"
        )
    return "\n".join(lines)
