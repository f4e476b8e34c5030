"""The hours of a day that the exchange format adds to places and experts: a location's
``closed`` hours, an expert's ``lunch``, standing appointments ``busy`` and ``overtime``
(docs/FORMAT.md, dxshare extensions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.format.reader import Reader
from engine.model import Busy, Lunch, Overtime, fmt_time
from engine.words import month_day


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


_BUSY_KEYS = {"date", "start", "end"}


def read_busy(r: Reader, x: dict[str, Any], p: str, work: tuple[int, int],
              horizon: tuple[dt.date, dt.date] | None,
              place: Callable[[Reader, str, str], str]) -> tuple[Busy, ...]:
    """An expert's standing appointments ``busy``: ``[{"date": "2026-12-08", "start":
    "14:00", "end": "15:00", "at": "382035"}]``, each on a date of the horizon, ending after it
    starts, within the working hours ``work``; ``at`` (optional) a location read by ``place``
    (an id or a name, as every reference to a place)."""
    out: list[tuple[int, Busy]] = []
    for i, raw in enumerate(r.items(x, "busy", p, required=False)):
        q = f"{p}.busy[{i}]"
        o = r.obj(raw, q)
        if o is None:
            continue
        r.unknown(o, _BUSY_KEYS | {"at"}, q)
        at = None
        if o.get("at") is not None:
            at = place(r, o["at"], f"{q}.at") if isinstance(o["at"], str) and o["at"] else None
            if at is None:
                r.err(f"{q}.at", "must be a location id or name", "場所のIDか名前である必要があります")
                continue
        missing = [k for k in sorted(_BUSY_KEYS) if k not in o]
        for k in missing:
            r.err(f"{q}.{k}", "is required", "必須項目です")
        if missing:
            continue
        day = r.date(o["date"], f"{q}.date")
        lo, hi = r.time(o["start"], f"{q}.start"), r.time(o["end"], f"{q}.end")
        if day is None or lo is None or hi is None:
            continue
        if horizon is not None and r.outside(day, f"{q}.date", *horizon):
            continue
        if hi <= lo:
            r.err(f"{q}.end", f"must be after start ({fmt_time(lo)})",
                  f"開始（{fmt_time(lo)}）より後である必要があります")
        elif lo < work[0] or hi > work[1]:
            r.err(q, f"{fmt_time(lo)}–{fmt_time(hi)} must lie within the working hours "
                  f"{fmt_time(work[0])}–{fmt_time(work[1])}",
                  f"{fmt_time(lo)}–{fmt_time(hi)} は勤務時間 {fmt_time(work[0])}–"
                  f"{fmt_time(work[1])} の中である必要があります")
        else:
            out.append((i, Busy(day, lo, hi, at)))
    _at_apart(r, out, p)
    return tuple(sorted((b for _, b in out), key=lambda b: (b.date, b.start, b.end)))


def _at_apart(r: Reader, busy: list[tuple[int, Busy]], p: str) -> None:
    """No appointment overlaps one with ``at`` on its date: while there, the expert is in
    nothing else (two without ``at`` may overlap: both are calls taken anywhere)."""
    for k, (i, b) in enumerate(busy):
        for _, a in busy[:k]:
            if (a.at or b.at) and a.date == b.date and a.start < b.end and b.start < a.end:
                r.err(f"{p}.busy[{i}]", f"{fmt_time(b.start)}–{fmt_time(b.end)} overlaps the "
                      f"appointment {fmt_time(a.start)}–{fmt_time(a.end)} on {month_day(a.date)}, and one "
                      "of them is at a place",
                      f"{fmt_time(b.start)}–{fmt_time(b.end)} が {month_day(a.date)} の予定 "
                      f"{fmt_time(a.start)}–{fmt_time(a.end)} と重なっています（どちらかは場所での予定）")



_OVERTIME_KEYS = {"max_minutes", "minute_cost"}


def read_overtime(r: Reader, x: dict[str, Any], p: str, work_end: int) -> Overtime | None:
    """An expert's ``overtime``: ``{"max_minutes": 60, "minute_cost": 20}``, both whole
    numbers >= 0 and both required; the longest day ends by 24:00."""
    if x.get("overtime") is None:
        return None
    o = r.obj(x["overtime"], f"{p}.overtime")
    if o is None:
        return None
    r.unknown(o, _OVERTIME_KEYS, f"{p}.overtime")
    most = r.integer(o, "max_minutes", f"{p}.overtime", lo=0)
    cost = r.integer(o, "minute_cost", f"{p}.overtime", lo=0)
    if most is None or cost is None:
        return None
    if work_end + most > 24 * 60:
        r.err(f"{p}.overtime.max_minutes", f"{most} min after work_end ({fmt_time(work_end)}) "
              "ends after 24:00", f"勤務終了（{fmt_time(work_end)}）の {most} 分後は 24:00 を過ぎます")
        return None
    return Overtime(most, cost)
