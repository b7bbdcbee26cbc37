"""What the numbers were measured on, and how busy the whole machine was meanwhile
(/proc/stat), since the load generator, both assistants, PostgreSQL and Redis all share
the same cores and anything else running skews the comparison."""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict, Optional, Tuple


def _first(path: str, prefix: str) -> Optional[str]:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> Dict[str, object]:
    memory_kb = _first("/proc/meminfo", "MemTotal")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "ram_gb": round(int(memory_kb.split()[0]) / 1024 / 1024, 1) if memory_kb else None,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "rasa": _version("rasa"),
        "rasa_sdk": _version("rasa-sdk"),
        "tensorflow": _version("tensorflow"),
        "load_average": os.getloadavg(),
    }


def cpu_times() -> Tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from the first line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user/nice
    return total - idle, total


def busy_cores(before: Tuple[int, int], after: Tuple[int, int], cpus: int) -> Optional[float]:
    """Average number of busy cores between two cpu_times() snapshots, over the whole machine."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return cpus * busy / total if total > 0 else None
