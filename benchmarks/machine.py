"""What machine a benchmark ran on, for the figures' header."""

from __future__ import annotations

import datetime as dt
import os
import platform

import numpy as np


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=cpu,
        cores=os.cpu_count(),
        python=platform.python_version(),
        numpy=np.__version__,
        blas_threads=os.environ.get("OPENBLAS_NUM_THREADS", "default"),
    )
