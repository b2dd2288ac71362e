"""A semantic R-D curve and a β family on a dask.distributed cluster, checked bit for bit
against the same calls in this process.

Every independent job of the two calls (warm chains, restarts, one cold point per β)
goes to the cluster through ``executor=client.get_executor()``; the jobs depend only on
the arguments, so the numbers are those of the in-process run. Needs the ``[cluster]``
extra (``pip install 'semantic-rd[cluster]'``).

    python examples/curves_on_dask.py                       # a LocalCluster of 2 workers
    python examples/curves_on_dask.py --scheduler tcp://HOST:8786
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
from distributed import Client, LocalCluster

from infotheory.curves import COLUMNS, beta_family, semantic_rd_curve
from infotheory.sources import gaussian_source


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler", help="address of a running scheduler (default: a local one)")
    ap.add_argument("--workers", type=int, default=2, help="local workers (default 2)")
    args = ap.parse_args()

    src = gaussian_source(1.0, n_points=41, label_error=0.05)
    curve_kw = dict(beta=0.5, n_points=20, direction="both", restarts=2)
    family_kw = dict(betas=[0, 0.1, 0.3, 1, 3], lam=0.2, warm=False)

    t0 = time.perf_counter()
    here = [semantic_rd_curve(*src, **curve_kw), beta_family(*src, **family_kw)]
    t_here = time.perf_counter() - t0

    with contextlib.ExitStack() as stack:
        if args.scheduler:
            client = stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0")
            )
            client = stack.enter_context(Client(cluster))
        ex = client.get_executor()
        semantic_rd_curve(*src, beta=0.5, lams=[1.0], executor=ex)  # compile on the workers
        t0 = time.perf_counter()
        there = [
            semantic_rd_curve(*src, executor=ex, **curve_kw),
            beta_family(*src, executor=ex, **family_kw),
        ]
        t_there = time.perf_counter() - t0

    same = all(
        np.array_equal(getattr(a, c), getattr(b, c), equal_nan=True)
        for a, b in zip(here, there)
        for c in COLUMNS
    ) and all(a.total_iterations == b.total_iterations for a, b in zip(here, there))
    print(f"{src.name}: curve of {len(here[0])} points (both directions, 2 restarts each),")
    print(f"beta family of {len(here[1])} cold points at lambda = 0.2")
    print(f"identical to the in-process run (every column, iteration counts): {same}")
    print(f"wall time: in this process {t_here:.1f} s, on the cluster {t_there:.1f} s")


if __name__ == "__main__":
    main()
