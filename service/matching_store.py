"""The matching data the ``/v1/matching`` routes answer from, and its graph.

The data is the bundled synthetic demo (``engine.matching.load_demo``); the graph is built
once at start-up in the background (about 2 s) and is read-only afterwards, so answers are
cached per (need, k, viewer).
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["STATE", "MatchingState"]


class MatchingState:
    """The demo matching data and its graph, built once (thread-safe, lazily)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graph: Any = None
        self.answers: dict[tuple[str, int, str | None], bytes] = {}

    def warm(self) -> None:
        threading.Thread(target=self.graph, name="matching-graph", daemon=True).start()

    def ready(self) -> bool:
        return self._graph is not None

    def graph(self) -> Any:
        with self._lock:
            if self._graph is None:
                from engine.matching import load_demo
                from solvers.matching import build_graph

                self._graph = build_graph(load_demo())
            return self._graph


STATE = MatchingState()
