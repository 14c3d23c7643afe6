"""Shared by the benchmark scripts: what machine this ran on, percentiles."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> str:
    """e.g. "2 cores, AMD EPYC ..., Python 3.11.7"."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
