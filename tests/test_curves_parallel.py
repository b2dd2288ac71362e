"""Parallel sweeps (worker processes) give the same β = 0 curve as serial ones."""

import numpy as np

from infotheory.curves import semantic_rd_curve
from infotheory.sources import binary_source


def test_parallel_warm_chains_and_cold_match_serial():
    src = binary_source(0.2)
    lams = np.geomspace(1.0, 0.1, 8)
    serial = semantic_rd_curve(*src, beta=0, lams=lams)
    par = semantic_rd_curve(*src, beta=0, lams=lams, n_jobs=2)
    cold_par = semantic_rd_curve(*src, beta=0, lams=lams, warm=False, n_jobs=2)
    for c in (par, cold_par):
        np.testing.assert_array_equal(c.lam, serial.lam)
        np.testing.assert_allclose(c.rate, serial.rate, rtol=0, atol=1e-9)
        np.testing.assert_allclose(c.distortion_rd, serial.distortion_rd, rtol=0, atol=1e-9)
