"""Test-wide settings: one BLAS thread (as the CLI), headless matplotlib."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
