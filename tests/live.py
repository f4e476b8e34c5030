"""Helpers for tests that run a real ``dxshare`` process on loopback."""

from __future__ import annotations

import socket
import sys

__all__ = ["DXSHARE", "free_port"]

#: The command line, as the installed ``dxshare`` script runs it.
DXSHARE = [sys.executable, "-m", "service.cli"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
