"""Shared pytest configuration."""

import os

# Keep BLAS single-threaded in tests: the machine has 2 cores and tests run beside
# Numba's own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
