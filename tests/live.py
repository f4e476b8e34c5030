"""Helpers for tests that run a real ``dxshare`` process on loopback."""

from __future__ import annotations

import socket
import sys
from typing import Any

__all__ = ["DXSHARE", "free_port", "still_running"]

#: The command line, as the installed ``dxshare`` script runs it.
DXSHARE = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def still_running(procs: list[Any], seconds: float) -> list[tuple[int, str]]:
    """Of these processes (``psutil.Process``), those still running ``seconds`` from now, as
    (pid, the end of its command line); a zombie has ended (it waits only for its parent to
    read its status) and does not count."""
    import psutil

    _gone, alive = psutil.wait_procs(procs, timeout=seconds)
    out = []
    for proc in alive:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                out.append((proc.pid, " ".join(proc.cmdline()[-3:])))
        except psutil.NoSuchProcess:
            pass
    return out
