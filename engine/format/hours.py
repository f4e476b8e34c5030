"""The hours of a day that the exchange format adds to places and experts: a location's
``closed`` hours and an expert's ``lunch`` (docs/FORMAT.md, dxshare extensions)."""

from __future__ import annotations

from typing import Any

from engine.format.reader import Reader
from engine.model import Lunch, fmt_time


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


_LUNCH_KEYS = {"minutes", "window"}


def read_lunch(r: Reader, x: dict[str, Any], p: str, work: tuple[int, int]) -> Lunch | None:
    """An expert's ``lunch``: ``{"minutes": 45, "window": ["11:30", "13:30"]}``, the window
    within the working hours ``work`` and at least ``minutes`` long."""
    if x.get("lunch") is None:
        return None
    o = r.obj(x["lunch"], f"{p}.lunch")
    if o is None:
        return None
    r.unknown(o, _LUNCH_KEYS, f"{p}.lunch")
    minutes = r.integer(o, "minutes", f"{p}.lunch", positive=True)
    if "window" not in o:
        r.err(f"{p}.lunch.window", "is required", "必須項目です")
        return None
    span = read_span(r, o["window"], f"{p}.lunch.window")
    if minutes is None or span is None:
        return None
    lo, hi = span
    if minutes > hi - lo:
        r.err(f"{p}.lunch.minutes", f"{minutes} min is longer than its window "
              f"{fmt_time(lo)}–{fmt_time(hi)}",
              f"{minutes} 分は昼休みの時間帯 {fmt_time(lo)}–{fmt_time(hi)} より長いです")
        return None
    if lo < work[0] or hi > work[1]:
        r.err(f"{p}.lunch.window", f"{fmt_time(lo)}–{fmt_time(hi)} must lie within the working "
              f"hours {fmt_time(work[0])}–{fmt_time(work[1])}",
              f"{fmt_time(lo)}–{fmt_time(hi)} は勤務時間 {fmt_time(work[0])}–"
              f"{fmt_time(work[1])} の中である必要があります")
        return None
    return Lunch(minutes, lo, hi)
