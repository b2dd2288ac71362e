"""CPU thread defaults: the OpenMP wait policy, the fallback to one thread, per-job threads."""

import os
import subprocess
import sys

import pytest

from neural.training import available_cores, threads_for_jobs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_threads_for_jobs_splits_the_cores():
    assert (
        threads_for_jobs(1, cores=8) == 8
        and threads_for_jobs(3, cores=8) == 2
        and threads_for_jobs(16, cores=8) == 1
    )
    assert threads_for_jobs(1) == available_cores() >= 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            threads_for_jobs(bad)
    with pytest.raises(ValueError, match="cores"):
        threads_for_jobs(2, cores=0)


def _probe(code: str, **env_changes: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.update({k: v for k, v in env_changes.items() if v is not None})
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return out.stdout.split()


REPORT = (
    "import os; from neural.training import default_threads, available_cores; "
    "print(os.environ['OMP_WAIT_POLICY'], default_threads(), available_cores())"
)


def test_wait_policy_and_default_threads_in_fresh_processes():
    policy, threads, cores = _probe(
        "import neural; " + REPORT
    )  # neural first: passive, one thread per core
    assert policy == "PASSIVE" and int(threads) == int(cores)
    policy, threads, _ = _probe(
        "import torch; import neural; " + REPORT
    )  # torch first: too late, 1 thread
    assert policy == "PASSIVE" and int(threads) == 1


@pytest.mark.slow  # two more fresh torch processes
def test_wait_policy_set_by_the_user_is_kept():
    policy, threads, cores = _probe(
        "import torch; import neural; " + REPORT, OMP_WAIT_POLICY="passive"
    )
    assert policy == "passive" and int(threads) == int(cores)  # the user's environment said passive
    policy, threads, _ = _probe("import neural; " + REPORT, OMP_WAIT_POLICY="ACTIVE")
    assert (
        policy == "ACTIVE" and int(threads) == 1
    )  # the user's choice is kept, and then one thread
