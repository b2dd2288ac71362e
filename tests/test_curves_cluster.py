"""The cluster path: curves and β families run through a ``dask.distributed`` executor
give exactly (bit for bit) the numbers of the in-process run (issue 15).

The fast tests use a ``LocalCluster`` of two single-thread workers in this process
(``processes=False``): the jobs go through dask's scheduler as on a real cluster. The
slow test runs two worker processes, so the jobs are also pickled to other interpreters.
"""

import numpy as np
import pytest

from infotheory.cli import main
from infotheory.curves import COLUMNS, Curve, beta_family, curve_family, semantic_rd_curve
from infotheory.sources import binary_source

distributed = pytest.importorskip("distributed")


def random_problem(n=5, k=4, m=3, seed=11):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(m), size=n), rng.uniform(0, 1, (n, k))


def assert_same(a: Curve, b: Curve) -> None:
    """Every column, the transitions and the iteration count equal, bit for bit."""
    for c in COLUMNS:
        np.testing.assert_array_equal(getattr(a, c), getattr(b, c), err_msg=c)
    assert a.transitions == b.transitions
    assert a.total_iterations == b.total_iterations


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cl:
        yield cl


@pytest.fixture(scope="module")
def executor(cluster):
    with distributed.Client(cluster) as client:
        yield client.get_executor()


def test_curve_through_dask_matches_in_process(executor):
    src = binary_source(0.3, label_error=0.1)
    lams = np.geomspace(1.0, 0.1, 8)
    # β = 0: the warm sweep in two chains, each chain one job
    local = semantic_rd_curve(*src, beta=0, lams=lams, chains=2)
    remote = semantic_rd_curve(*src, beta=0, lams=lams, chains=2, executor=executor)
    assert_same(remote, local)
    assert (local.meta["executor"], remote.meta["executor"]) == (None, type(executor).__name__)
    assert local.meta["chains"] == remote.meta["chains"] == 2
    # β > 0: both directions, restarts and transition bisections as jobs
    p_x, p_y, d = random_problem()
    kw = dict(
        beta=1.0, lams=np.geomspace(2.0, 0.05, 7), direction="both", restarts=1,
        locate_transitions=True, transition_rtol=1e-2,
    )  # fmt: skip
    local = semantic_rd_curve(p_x, p_y, d, **kw)
    assert local.transitions and local.branch_gap.max() >= 0  # the jobs did something
    assert_same(semantic_rd_curve(p_x, p_y, d, executor=executor, **kw), local)
    # cold points, one job each
    local = semantic_rd_curve(p_x, p_y, d, beta=0.5, lams=lams, warm=False)
    assert_same(
        semantic_rd_curve(p_x, p_y, d, beta=0.5, lams=lams, warm=False, executor=executor), local
    )


def test_beta_family_through_dask_matches_in_process(executor):
    p_x, p_y, d = random_problem(seed=5)
    betas = [0, 0.3, 1, 3]
    for kw in (dict(lam=0.2), dict(rate=0.5, rate_atol=1e-6)):
        local = beta_family(p_x, p_y, d, betas=betas, warm=False, **kw)
        assert_same(
            beta_family(p_x, p_y, d, betas=betas, warm=False, executor=executor, **kw), local
        )
    # the continuation is one job: the same on the cluster as here
    local = beta_family(p_x, p_y, d, betas=betas, lam=0.2)
    assert_same(beta_family(p_x, p_y, d, betas=betas, lam=0.2, executor=executor), local)
    # independent: β = 0 of the family is the classical R(D) point at λ = 0.2
    ref = semantic_rd_curve(p_x, p_y, d, beta=0, lams=[0.2])
    assert abs(local.rate[0] - ref.rate[0]) <= 1e-8


def test_curve_family_through_dask_matches_in_process(executor):
    p_x, p_y, d = random_problem(seed=3)
    kw = dict(betas=[0, 0.5], lams=np.geomspace(1.0, 0.1, 5))
    for a, b in zip(
        curve_family(p_x, p_y, d, executor=executor, **kw), curve_family(p_x, p_y, d, **kw)
    ):
        assert_same(a, b)


def test_cli_scheduler_runs_on_the_cluster(cluster, tmp_path, capsys):
    argv = ["curve", "--source", "binary", "--p", "0.3", "--beta", "0", "--n-points", "5"]
    assert (
        main([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "d")]) == 0
    )
    assert main([*argv, "--out", str(tmp_path / "l")]) == 0
    assert_same(
        Curve.from_json(tmp_path / "d" / "curve.json"),
        Curve.from_json(tmp_path / "l" / "curve.json"),
    )
    assert main([*argv, "--scheduler", cluster.scheduler_address, "--jobs", "2"]) == 2
    assert "--jobs or --scheduler" in capsys.readouterr().err


def test_executor_and_n_jobs_are_exclusive(executor):
    with pytest.raises(ValueError, match="n_jobs must be 1 when an executor is given"):
        semantic_rd_curve(*binary_source(0.3), beta=0, n_points=3, n_jobs=2, executor=executor)
    with pytest.raises(TypeError, match="executor must be"):
        semantic_rd_curve(*binary_source(0.3), beta=0, n_points=3, executor="dask")


@pytest.mark.slow
def test_curve_and_family_on_worker_processes_match_in_process():
    """Two worker processes: the jobs are pickled to other interpreters and back."""
    p_x, p_y, d = random_problem()
    lams = np.geomspace(2.0, 0.05, 6)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cl,
        distributed.Client(cl) as client,
    ):
        ex = client.get_executor()
        curve = semantic_rd_curve(p_x, p_y, d, beta=1.0, lams=lams, direction="both", executor=ex)
        fam = beta_family(p_x, p_y, d, betas=[0, 0.5, 2], lam=0.3, warm=False, executor=ex)
    assert_same(curve, semantic_rd_curve(p_x, p_y, d, beta=1.0, lams=lams, direction="both"))
    assert_same(fam, beta_family(p_x, p_y, d, betas=[0, 0.5, 2], lam=0.3, warm=False))
