"""Peak memory of this process alone.

``resource.getrusage().ru_maxrss`` survives ``execve`` on Linux: a child started by a parent
that held 1.5 GB reports 1.5 GB. ``VmHWM`` belongs to the current process image only.
"""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")
