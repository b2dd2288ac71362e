"""CPU threads for training (see docs/performance.md, "Training threads")."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from neural._openmp import PASSIVE_WAIT


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Torch threads used when ``num_threads`` is not given: one per available core when the
    OpenMP runtime waits passively (``neural`` imported before torch, or ``OMP_WAIT_POLICY=PASSIVE``
    in the environment), else 1 — spinning threads on a shared CPU can make a multi-threaded
    step 10-20x slower than a single-threaded one (docs/performance.md, "Training threads")."""
    return available_cores() if PASSIVE_WAIT else 1


def threads_for_jobs(n_jobs: int, cores: int | None = None) -> int:
    """Torch threads for each of ``n_jobs`` jobs running at once on ``cores`` cores (default: this
    process's): ``max(1, cores // n_jobs)``, so the jobs together never ask for more threads than cores."""
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    if cores is None:
        cores = available_cores()
    elif not isinstance(cores, int) or isinstance(cores, bool) or cores < 1:
        raise ValueError(f"cores must be a positive integer, got {cores!r}")
    return max(1, cores // n_jobs)


@contextlib.contextmanager
def training_threads(num_threads: int | None, processes_here: int = 1) -> Iterator[int]:
    """Use ``num_threads`` torch threads inside the block and restore the previous count after.

    ``None``: :func:`default_threads` shared out over ``processes_here`` processes of one run
    on this machine (DDP on CPU), so that they do not ask for more threads than cores.
    """
    before = torch.get_num_threads()
    n = (
        num_threads
        if num_threads is not None
        else max(1, default_threads() // max(1, processes_here))
    )
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)
