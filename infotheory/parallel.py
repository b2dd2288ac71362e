"""Independent jobs through one executor abstraction.

Everything that maps independent solves (restarts, curve points, β families, batched
problems) goes through :func:`map_jobs`: in-process by default, or any
``concurrent.futures.Executor`` (a process pool, ``dask.distributed``'s
``Client.get_executor()``), or a ``dask.distributed.Client`` itself (anything whose
``submit(fn, *args)`` returns futures with ``result()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, TypeVar

T = TypeVar("T")


def check_executor(executor: object, name: str = "executor") -> Any:
    """``executor`` if it is None, a ``concurrent.futures.Executor`` or has a callable
    ``submit`` (a ``dask.distributed.Client``); otherwise a ``TypeError`` naming it."""
    if executor is None or isinstance(executor, Executor):
        return executor
    if callable(getattr(executor, "submit", None)) and not isinstance(executor, (str, bytes)):
        return executor
    raise TypeError(
        f"{name} must be a concurrent.futures.Executor (or a dask.distributed Client), "
        f"got {type(executor).__name__}"
    )


def map_jobs(executor: Any, fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]]) -> list[T]:
    """``[fn(*job) for job in jobs]``, in order; on ``executor`` when it is given and
    there is more than one job (``fn`` must then be picklable for a process pool or a
    cluster: a top-level function)."""
    if executor is None or len(jobs) <= 1:
        return [fn(*job) for job in jobs]
    futures = [executor.submit(fn, *job) for job in jobs]
    return [f.result() for f in futures]
