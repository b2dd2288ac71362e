"""Run a sweep's jobs through any ``concurrent.futures.Executor``, skipping finished ones.

:func:`run_jobs` submits every job whose dependencies are finished (a training that
shares its classifier or codec waits for the run that trains it), collects records as
they complete and stops at the first failure (jobs already running finish and keep their
results). A job finished in an earlier invocation with the same ``out`` is not run again;
a training interrupted by a kill resumes from its checkpoint.

Executors (:func:`make_executor`): ``"process"`` — a local ``ProcessPoolExecutor`` with
``jobs`` workers (spawned, so every job starts with fresh torch thread settings);
``"inline"`` — jobs run one after another in this process (debugging); ``"dask"`` — the
executor of a ``dask.distributed.Client`` connected to ``scheduler`` (every worker must
see ``out`` and the data directory at the same paths).
:func:`neural.training.threads.threads_for_jobs` splits the local cores between
concurrent jobs so that jobs × threads ≤ cores.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from neural.experiments.jobs import Job, Runtime, execute_job, load_job_record
from neural.training.threads import threads_for_jobs

EXECUTORS = ("process", "inline", "dask")


class InlineExecutor(Executor):
    """Runs each submitted call at once in the calling process (an ``Executor`` with no parallelism)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


def open_executor(
    stack: contextlib.ExitStack,
    executor: Executor | None,
    kind: str,
    *,
    jobs: int,
    scheduler: str | None,
) -> tuple[Executor, str]:
    """``executor`` if given (and its class name), else the one :func:`make_executor` makes
    from ``kind``, ``jobs`` and ``scheduler``, entered on ``stack`` (shut down with it), and
    ``kind``."""
    if executor is not None:
        return executor, type(executor).__name__
    return stack.enter_context(make_executor(kind, jobs=jobs, scheduler=scheduler)), kind


@contextlib.contextmanager
def make_executor(
    kind: str = "process", *, jobs: int = 1, scheduler: str | None = None
) -> Iterator[Executor]:
    """The executor named ``kind`` (see the module docstring), shut down on exit."""
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {kind!r}")
    if kind == "dask":
        if not scheduler:
            raise ValueError(
                "executor 'dask' needs scheduler (--scheduler ADDRESS of a dask.distributed scheduler)"
            )
        try:
            from distributed import Client
        except ImportError as exc:
            raise ImportError(
                "executor 'dask' needs dask.distributed: pip install 'semantic-rd[cluster]'"
            ) from exc
        with Client(scheduler) as client:
            yield client.get_executor()
        return
    if scheduler:
        raise ValueError(f"scheduler is only used with executor 'dask', not {kind!r}")
    if kind == "inline":
        yield InlineExecutor()
        return
    threads_for_jobs(jobs)  # validates jobs
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class SweepRecords:
    """What :func:`run_jobs` returns: every job's record (in the order of ``jobs``) and counts."""

    records: list[dict[str, Any]]
    ran: list[str] = field(default_factory=list)  # keys run by this call
    skipped: list[str] = field(default_factory=list)  # keys finished before this call


def run_jobs(
    jobs: list[Job],
    runtime: Runtime,
    executor: Executor,
    *,
    progress: bool = True,
    on_job_done: Callable[[Job, dict[str, Any]], None] | None = None,
) -> SweepRecords:
    """Run ``jobs`` (deduplicated by key) on ``executor``; see the module docstring.

    ``on_job_done(job, record)`` is called in this process after each job that ran here
    finishes; an exception raised there stops the sweep as a crash would.
    """
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}"
        )
    unique = list({j.key: j for j in jobs}.values())
    provider = {j.run_id: j.key for j in unique if j.run_id}
    for j in unique:
        missing = [r for r in j.needs if r not in provider]
        if missing:
            raise ValueError(
                f"job {j.describe()} needs run(s) {missing} that no job of the sweep trains"
            )
    os.makedirs(runtime.out, exist_ok=True)
    records: dict[str, dict[str, Any]] = {}
    for j in unique:
        rec = load_job_record(runtime.out, j)
        if rec is not None:
            records[j.key] = rec
    result = SweepRecords([], skipped=list(records))
    pending = [j for j in unique if j.key not in records]
    # Jobs that others wait for go first (the Alg.-2/Alg.-3 trainings): the critical path.
    waiting = {r: sum(r in j.needs for j in pending) for r in provider}
    pending.sort(key=lambda j: -waiting.get(j.run_id, 0) if j.run_id else 0)
    running: dict[Future, Job] = {}
    bar = tqdm(
        total=len(unique),
        initial=len(records),
        desc="jobs",
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        while pending or running:
            for j in [j for j in pending if all(provider[r] in records for r in j.needs)]:
                running[executor.submit(execute_job, j.spec, runtime.as_dict())] = j
                pending.remove(j)
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                j = running.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:
                    raise RuntimeError(
                        f"sweep job {j.describe()} failed: {type(exc).__name__}: {exc}"
                    ) from exc
                records[j.key] = rec
                result.ran.append(j.key)
                bar.update(1)
                if progress:
                    tqdm.write(f"finished {j.describe()} in {rec['time_s']:.1f} s", file=sys.stderr)
                if on_job_done is not None:
                    on_job_done(j, rec)
    finally:
        bar.close()
        for fut in running:
            fut.cancel()
    result.records = [records[j.key] for j in unique]
    return result
