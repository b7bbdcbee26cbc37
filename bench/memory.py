"""Resident memory (and CPU time) of a process and its descendants, read from /proc.

psutil is not a dependency; /proc is enough on Linux, the only platform Rasa is served on here.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Dict, List, Optional

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field: str) -> Optional[int]:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _stat_fields(pid: int) -> Optional[List[str]]:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    return text[text.rindex(")") + 2:].split()


def parents() -> Dict[int, int]:
    """pid -> parent pid of every process visible now."""
    result: Dict[int, int] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                result[int(entry.name)] = int(fields[1])
    return result


def tree(pid: int) -> List[int]:
    """pid and all its living descendants."""
    children: Dict[int, List[int]] = {}
    for child, parent in parents().items():
        children.setdefault(parent, []).append(child)
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def rss_bytes(pid: int) -> Optional[int]:
    """Current resident set size of one process (VmRSS)."""
    kb = _status_kb(pid, "VmRSS")
    return None if kb is None else kb * 1024


def peak_rss_bytes(pid: int) -> Optional[int]:
    """The kernel's high-water mark of the process's resident set (VmHWM), since it started."""
    kb = _status_kb(pid, "VmHWM")
    return None if kb is None else kb * 1024


def tree_rss_bytes(pid: int) -> int:
    """Sum of VmRSS over the tree (pages shared between processes count once per process)."""
    return sum(rss_bytes(p) or 0 for p in tree(pid))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the living tree (own time, not that of reaped children)."""
    total = 0
    for p in tree(pid):
        fields = _stat_fields(p)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / CLOCK_TICKS


class MemorySampler:
    """Samples a process tree's RSS in a background thread; the peak is the larger of the
    sampled tree maximum and the root process's own VmHWM, so short spikes are not missed."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid = pid
        self.interval = interval
        self.sampled_peak = 0
        self.last = 0
        self.processes = 0  # most processes seen in the tree at once
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        pids = tree(self.pid)
        current = sum(rss_bytes(p) or 0 for p in pids)
        if current:
            self.processes = max(self.processes, len(pids))
            self.last = current
            self.sampled_peak = max(self.sampled_peak, current)
        return current

    def start(self) -> "MemorySampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

    @property
    def peak(self) -> int:
        return max(self.sampled_peak, peak_rss_bytes(self.pid) or 0)
