"""What the benchmark scripts say about the machine they ran on (RESULTS.md rows name it)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.machine()


def machine_label() -> str:
    """The machine column of a RESULTS.md row, e.g. "2 CPUs (AMD EPYC 7B13), Python 3.11.7"."""
    return f"{os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}"
