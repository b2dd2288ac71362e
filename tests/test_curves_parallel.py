"""Parallel sweeps (worker processes, or the warm sweep cut into chains) give the same
β = 0 curve as serial ones, to the solver's tolerance."""

import numpy as np

from infotheory.curves import semantic_rd_curve
from infotheory.sources import binary_source


def test_parallel_warm_chains_and_cold_match_serial():
    src = binary_source(0.2)
    lams = np.geomspace(1.0, 0.1, 8)
    serial = semantic_rd_curve(*src, beta=0, lams=lams)
    par = semantic_rd_curve(*src, beta=0, lams=lams, n_jobs=2)
    cold_par = semantic_rd_curve(*src, beta=0, lams=lams, warm=False, n_jobs=2)
    three_chains = semantic_rd_curve(*src, beta=0, lams=lams, chains=3)  # in this process
    for c in (par, cold_par, three_chains):
        np.testing.assert_array_equal(c.lam, serial.lam)
        np.testing.assert_allclose(c.rate, serial.rate, rtol=0, atol=1e-9)
        np.testing.assert_allclose(c.distortion_rd, serial.distortion_rd, rtol=0, atol=1e-9)
