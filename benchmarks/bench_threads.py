"""Training speed on a CPU with a busy core: thread settings compared (``python benchmarks/bench_threads.py``).

Each measurement runs in a fresh process (thread settings and ``OMP_WAIT_POLICY`` only act
before the OpenMP runtime starts) and times the ``quick`` preset's classifier step
(Algorithm 2: ResNet-18 at width 0.125, small stem, batch 32 of 32×32 images, Adam:
forward, backward, optimiser step) after a warm-up. Settings:

* ``torch default``: what a user got before this package chose: one torch thread per
  core, ``OMP_WAIT_POLICY`` unset (torch imported before ``neural``);
* ``package default``: ``import neural`` first (it sets ``OMP_WAIT_POLICY=PASSIVE`` unless
  the variable is set) and ``num_threads=None``, i.e. :func:`neural.training.default_threads`;
* ``package default, torch first``: the same when the user imported torch before ``neural``
  (too late for the wait policy: the default falls back to one thread);
* ``1 thread``: ``--num-threads 1``.

Loads: ``unloaded`` (nothing started by the benchmark) and ``one busy core`` (a Python
busy loop pinned to CPU 0 for the whole measurement). Repeats are interleaved; the table
shows the median steps/s and the ratio to the same setting unloaded, plus the 1-minute
load average seen during the runs (other users' jobs show up there: say so with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

SETTINGS = ("torch default", "package default", "package default, torch first", "1 thread")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def worker(setting: str, steps: int, warmup: int) -> dict[str, float]:
    """Time ``steps`` classifier steps in this process under ``setting``; returns steps/s."""
    import importlib

    policy_before = os.environ.get("OMP_WAIT_POLICY", "unset")
    torch_first = setting in ("torch default", "package default, torch first")
    for name in (
        ("torch", "neural") if torch_first else ("neural", "torch")
    ):  # the order is the point
        importlib.import_module(name)
    import torch

    from neural.models import ResNet18
    from neural.training import default_threads

    # the policy the OpenMP runtime started with (read once, when torch was first imported)
    policy = policy_before if torch_first else os.environ.get("OMP_WAIT_POLICY", "unset")

    if setting == "1 thread":
        torch.set_num_threads(1)
    elif setting.startswith("package default"):
        torch.set_num_threads(default_threads())
    torch.manual_seed(0)
    net = ResNet18(10, 0.125, "small")
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.rand(32, 3, 32, 32), torch.randint(0, 10, (32,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    return {"steps_per_s": steps / dt, "threads": torch.get_num_threads(), "wait_policy": policy}


def _run_worker(setting: str, steps: int, warmup: int, timeout: float) -> dict[str, float]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    }
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        setting,
        "--steps",
        str(steps),
        "--warmup",
        str(warmup),
    ]
    try:
        out = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, check=True
        ).stdout
    except subprocess.TimeoutExpired:
        return {"steps_per_s": steps / timeout, "threads": -1, "wait_policy": "?", "timed_out": 1.0}
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python benchmarks/bench_threads.py", description=__doc__.splitlines()[0]
    )
    p.add_argument("--steps", type=int, default=30, help="timed steps per measurement (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    p.add_argument(
        "--timeout",
        type=float,
        default=240.0,
        help="seconds before a measurement is cut (reported as a bound)",
    )
    p.add_argument("--worker", choices=SETTINGS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.warmup)))
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores, python {platform.python_version()}")
    results: dict[tuple[str, str], list[float]] = {}
    loads: dict[str, list[float]] = {"unloaded": [], "one busy core": []}
    threads: dict[str, int] = {}
    for rep in range(args.repeats):
        for load in ("unloaded", "one busy core"):
            busy = None
            if load == "one busy core":
                busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
                if hasattr(os, "sched_setaffinity"):
                    os.sched_setaffinity(busy.pid, {min(os.sched_getaffinity(0))})
                time.sleep(1.0)
            try:
                for setting in SETTINGS:
                    r = _run_worker(setting, args.steps, args.warmup, args.timeout)
                    results.setdefault((load, setting), []).append(r["steps_per_s"])
                    threads[setting] = int(r["threads"])
                    loads[load].append(os.getloadavg()[0])
                    print(
                        f"  rep {rep + 1} {load:14s} {setting:30s} {r['steps_per_s']:8.2f} steps/s "
                        f"(threads {r['threads']}, OMP_WAIT_POLICY {r['wait_policy']}"
                        f"{', cut at the timeout' if r.get('timed_out') else ''})",
                        file=sys.stderr,
                    )
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    print()
    print("| setting | threads | unloaded steps/s | one busy core steps/s | slow-down under load |")
    print("|---|---|---|---|---|")
    for setting in SETTINGS:
        u = statistics.median(results[("unloaded", setting)])
        b = statistics.median(results[("one busy core", setting)])
        print(f"| {setting} | {threads[setting]} | {u:.2f} | {b:.2f} | {u / b:.2f}× |")
    for load, vals in loads.items():
        print(f"1-min load average during '{load}' runs: {min(vals):.1f}–{max(vals):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
