"""The hours of a day that the exchange format adds to places and experts: a location's
``closed`` hours (docs/FORMAT.md, dxshare extensions)."""

from __future__ import annotations

from typing import Any

from engine.format.reader import Reader
from engine.model import fmt_time


def read_span(r: Reader, raw: Any, p: str) -> tuple[int, int] | None:
    """``["12:00", "13:00"]`` as ``(720, 780)``; a bad one is reported at ``p``."""
    if not isinstance(raw, list) or len(raw) != 2:
        r.err(p, "must be [start, end] as two HH:MM times",
              "[開始, 終了] の2つの時刻（HH:MM）である必要があります")
        return None
    lo, hi = r.time(raw[0], f"{p}[0]"), r.time(raw[1], f"{p}[1]")
    if lo is None or hi is None:
        return None
    if hi <= lo:
        r.err(f"{p}[1]", f"must be after {p.rsplit('.', 1)[-1]}[0] ({fmt_time(lo)})",
              f"開始（{fmt_time(lo)}）より後である必要があります")
        return None
    return lo, hi


def read_closed(r: Reader, x: dict[str, Any], p: str) -> tuple[tuple[int, int], ...]:
    """A location's ``closed`` hours: a list of ``[start, end]`` times, each every date."""
    out = []
    for i, raw in enumerate(r.items(x, "closed", p, required=False)):
        span = read_span(r, raw, f"{p}.closed[{i}]")
        if span is not None:
            out.append(span)
    return tuple(sorted(out))
