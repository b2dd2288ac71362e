"""Running the independent jobs of a sweep: the executor they go to and the progress bar.

A sweep is cut into jobs (a warm chain of points, a group of cold starts, one member
of a family) by its own arguments only, never by the executor: the same call gives
the same numbers in this process, in a local process pool or on a cluster.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

from .._validation import check_int
from ..parallel import check_executor, map_jobs

T = TypeVar("T")

__all__ = ["PROGRESS_DELAY", "check_n_jobs", "executor_for", "progress_bar", "run_jobs"]

#: seconds after which the automatic progress bar (``progress=None``) appears
PROGRESS_DELAY = 2.0


def progress_bar(total: int, show: bool | None, desc: str) -> Any:
    """A tqdm bar over ``total`` points. ``show=None``: on a terminal (stderr), and
    only once the work has run for ``PROGRESS_DELAY`` seconds; True: always, at once;
    False: never."""
    from tqdm.auto import tqdm

    if show is None:
        return tqdm(
            total=total,
            disable=not sys.stderr.isatty(),
            desc=desc,
            unit="pt",
            leave=False,
            delay=PROGRESS_DELAY,
        )
    return tqdm(total=total, disable=not show, desc=desc, unit="pt", leave=False)


def _worker_init() -> None:
    """Worker processes: one thread each (numba and BLAS), no oversubscription."""
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)


def check_n_jobs(n_jobs: int, executor: Executor | None) -> int:
    """``n_jobs`` checked (``-1``: one per CPU) against ``executor``
    (:func:`infotheory.parallel.check_executor`; with one, ``n_jobs`` must be 1)."""
    check_executor(executor)
    n = (os.cpu_count() or 1) if n_jobs == -1 else check_int(n_jobs, "n_jobs", minimum=1)
    if executor is not None and n != 1:
        raise ValueError(f"n_jobs must be 1 when an executor is given, got {n_jobs!r}")
    return n


@contextlib.contextmanager
def executor_for(executor: Executor | None, n_jobs: int) -> Iterator[Executor | None]:
    """The executor a sweep's jobs go to: ``executor`` when given (left open: its
    owner shuts it down); else, for ``n_jobs > 1`` (checked by :func:`check_n_jobs`),
    a local pool of that many spawned processes with one Numba/BLAS thread each, shut
    down on exit; else None (in this process, one job after the other)."""
    if executor is not None or n_jobs == 1:
        yield executor
        return
    import multiprocessing as mp

    pool = ProcessPoolExecutor(
        max_workers=n_jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init
    )
    try:
        yield pool
    finally:
        pool.shutdown()


def run_jobs(
    executor: Executor | None,
    fn: Callable[..., T],
    jobs: Sequence[tuple[Any, ...]],
    bar: Any = None,
    sizes: Sequence[int] | None = None,
) -> list[T]:
    """``[fn(*job) for job in jobs]`` in order, through
    :func:`infotheory.parallel.map_jobs` (None: in this process), advancing ``bar`` by
    ``sizes[i]`` points (default 1) per job: in this process as each job ends, on an
    executor when all are back."""
    sizes = [1] * len(jobs) if sizes is None else sizes
    if executor is not None:
        outs = map_jobs(executor, fn, jobs)
        if bar is not None:
            bar.update(sum(sizes))
        return outs
    outs = []
    for job, size in zip(jobs, sizes):
        outs += map_jobs(None, fn, [job])
        if bar is not None:
            bar.update(size)
    return outs
