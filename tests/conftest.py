"""Shared pytest configuration."""

import os

# Keep BLAS single-threaded in tests: the machine has 2 cores and tests run beside
# Numba's own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

# In CI (CI=true) property tests draw the same examples on every run, so a landing is
# never decided by a lucky or unlucky draw; locally they explore new examples each run.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
