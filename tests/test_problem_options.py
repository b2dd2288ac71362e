"""Problem (the one validator), SolverOptions (one set of defaults), map_jobs and the
picklable single-point solve (issue 15)."""

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from infotheory import semantic_rd
from infotheory.options import DEFAULTS, SolverOptions
from infotheory.parallel import check_executor, map_jobs
from infotheory.problem import Problem
from infotheory.solver import solve_problem


@pytest.mark.parametrize(
    "change, exc, match",
    [
        (dict(tol=0), ValueError, "tol must be > 0"),
        (dict(gap_tol=-1.0), ValueError, "gap_tol must be > 0"),
        (dict(max_iter=0), ValueError, "max_iter must be >= 1"),
        (dict(base=1), ValueError, "base must be finite"),
        (dict(accelerate="fast"), ValueError, "accelerate must be 'auto', True or False"),
        (dict(restarts=-1), ValueError, "restarts must be >= 0"),
        (dict(seed=0.5), TypeError, "seed must be an integer"),
    ],
)
def test_options_errors_name_the_field(change, exc, match):
    with pytest.raises(exc, match=match):
        SolverOptions(**change)


def test_options_defaults_and_rules():
    assert (DEFAULTS.tol, DEFAULTS.gap_tol, DEFAULTS.max_iter) == (1e-10, 1e-10, 100_000)
    assert DEFAULTS.restarts_for(0.0, 5) == 0 and DEFAULTS.restarts_for(1.0, 1) == 0
    assert DEFAULTS.restarts_for(1.0, 5) == 4 and SolverOptions(restarts=2).restarts_for(0, 5) == 2
    assert SolverOptions(base=np.e).log_base == pytest.approx(1.0, abs=1e-15)
    assert SolverOptions(accelerate=False).accelerated is False and DEFAULTS.accelerated


def test_problem_validates_once_and_derives():
    pb = Problem.from_arrays([0.25, 0.75], [[1.0, 0.0], [0.5, 0.5]], [[0.0, 2.0], [1.0, 0.0]])
    assert (pb.n, pb.m, pb.k) == (2, 2, 2)
    np.testing.assert_allclose(pb.row_entropies, [0.0, np.log(2)], rtol=1e-15)
    np.testing.assert_allclose(pb.joint_xy, [[0.25, 0.0], [0.375, 0.375]])
    pt = pb.at(beta=3.0, lam=0.5)
    assert pt.coef == 6.0
    np.testing.assert_array_equal(pt.dl, [[0.0, 4.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="lam must be > 0"):
        pb.at(beta=1.0, lam=0.0)
    with pytest.raises(ValueError, match="d_rd has negative entries"):
        Problem.from_arrays([0.5, 0.5], np.eye(2), [[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"init must have shape \(n, k\) = \(2, 2\)"):
        pb.start(np.full((2, 3), 1 / 3), 0)
    np.testing.assert_array_equal(pb.start("uniform", 0), np.full((2, 2), 0.5))


def test_solve_problem_is_semantic_rd_and_picklable():
    rng = np.random.default_rng(4)
    px, pyx, d = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(3), size=5), rng.random((5, 3))
    pb = Problem.from_arrays(px, pyx, d)
    opts = SolverOptions(seed=3)
    a = solve_problem(pickle.loads(pickle.dumps(pb)), beta=0.5, lam=0.2, options=opts)
    b = semantic_rd(px, pyx, d, beta=0.5, lam=0.2, seed=3)
    np.testing.assert_array_equal(a.encoder, b.encoder)
    assert (a.objective, a.starts, a.start) == (b.objective, b.starts, b.start)
    assert pickle.loads(pickle.dumps(solve_problem)) is solve_problem


def test_map_jobs_keeps_order_in_and_out_of_process():
    jobs = [(i, i + 1) for i in range(7)]
    assert map_jobs(None, pow, jobs) == [pow(*j) for j in jobs]
    with ThreadPoolExecutor(2) as ex:
        assert map_jobs(ex, pow, jobs) == [pow(*j) for j in jobs]
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        check_executor("threads")
