"""What a benchmark's report says about the run: the command, the machine, its load."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

__all__ = ["report", "run_paragraph"]


def run_paragraph(command: str, seconds: float, load: tuple[float, float]) -> str:
    """The opening paragraph of a report: when and how it was run (``command``, as typed),
    on what, how long it took, and the machine's 1-minute load average at the start and the
    end (``load``), which inflates absolute times on a shared machine."""
    import ortools

    return (f"Run {dt.date.today()} with `{command}` on {os.cpu_count()} cores, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
            f"ortools {ortools.__version__}; the whole run took {seconds / 60:.0f} min. The "
            f"machine is shared: its 1-minute load average was {load[0]:.1f} at the start and "
            f"{load[1]:.1f} at the end (2 cores), so absolute times are inflated by other work; "
            "the peers ran in the same go.")


def report(out: Path, lines: list[str], command: str, t_start: float, load0: float) -> int:
    """Close a benchmark's report: the run paragraph (``command``, the time since ``t_start``
    on ``time.perf_counter``, the load at the start and now) after ``lines``; write it to
    ``out`` and print it. Returns the exit status (0)."""
    import time

    lines = [*lines, "", run_paragraph(command, time.perf_counter() - t_start,
                                       (load0, os.getloadavg()[0]))]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0
