"""Reading a ``plan/1`` document (a previous week's plan given with ``--previous``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.format.reader import Reader, read_json
from engine.model import (
    Break,
    Change,
    LocationCoverage,
    Plan,
    Route,
    SolveInfo,
    Unscheduled,
    Visit,
)

PLAN_FORMAT = "plan/1"


def parse_plan(doc: Any) -> Plan:
    """Read a ``plan/1`` document (e.g. last week's plan given with ``--previous``)."""
    r = Reader()
    d = r.obj(doc, "")
    if d is None:
        raise InputError(r.problems)
    if d.get("format", PLAN_FORMAT) != PLAN_FORMAT:
        r.err("format", f"must be {PLAN_FORMAT!r}, got {d.get('format')!r}",
              f"{PLAN_FORMAT!r} である必要があります")
    status = d.get("status", "feasible")
    if status not in ("optimal", "feasible", "infeasible", "error"):
        r.err("status", f"unknown status {status!r}", f"不明な状態 {status!r} です")
    visits = []
    for p, x in r.each(d, "visits", None):
        v = _read_visit(r, x, p, r.string(x, "request", p), r.string(x, "location", p))
        if v is not None:
            visits.append(v)
    routes = [rt for p, x in r.each(d, "routes", None)
              if (rt := _read_route(r, x, p)) is not None]
    unscheduled = []
    for p, x in r.each(d, "unscheduled", None):
        rid = r.string(x, "request", p)
        reasons = r.str_list(x.get("reasons", []), f"{p}.reasons", nonempty=False)
        unscheduled.append(Unscheduled(rid, reasons,
                                       tuple(x.get("reasons_ja", []) or []),
                                       tuple(x.get("codes", []) or [])))
    breaks = [b for p, x in r.each(d, "breaks", None) if (b := _read_break(r, x, p)) is not None]
    changes = [c for p, x in r.each(d, "changes", None)
               if (c := _read_change(r, x, p)) is not None]
    coverage = [cv for p, x in r.each(d, "coverage", None)
                if (cv := _read_coverage(r, x, p)) is not None]
    messages = {k: r.str_list(d.get(k, []), k, nonempty=False)
                for k in ("messages", "messages_ja")}
    solver = d.get("solver", {})
    if not isinstance(solver, dict):
        r.err("solver", "must be an object", "オブジェクトである必要があります")
        solver = {}
    event = d.get("event")
    if event is not None and not isinstance(event, dict):
        r.err("event", "must be an object", "オブジェクトである必要があります")
        event = None
    if r.problems:
        raise InputError(r.problems)
    kpis = d.get("kpis") if isinstance(d.get("kpis"), dict) else {}
    return Plan(status=status, objective=d.get("objective"), bound=d.get("bound"),
                solve_seconds=float(d.get("solve_seconds") or 0.0), visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), kpis=kpis or {},
                messages=messages["messages"], messages_ja=messages["messages_ja"],
                solver=SolveInfo.of(solver), changes=tuple(changes), coverage=tuple(coverage), event=event,
                breaks=tuple(breaks))


def _read_break(r: Reader, x: Mapping[str, Any], p: str) -> Break | None:
    """One lunch break of a plan (None when a field it needs is missing or bad)."""
    eid = r.string(x, "expert", p)
    day = r.date(x.get("date"), f"{p}.date")
    start = r.time(x.get("start"), f"{p}.start")
    end = r.time(x.get("end"), f"{p}.end")
    if eid and day and start is not None and end is not None:
        return Break(eid, day, start, end)
    return None


def _read_route(r: Reader, x: Mapping[str, Any], p: str) -> Route | None:
    """One route of a plan (None when a field it needs is missing or bad)."""
    day = r.date(x.get("date"), f"{p}.date")
    leave = r.time(x.get("leave"), f"{p}.leave")
    ret = r.time(x.get("return"), f"{p}.return")
    stops = r.str_list(x.get("stops"), f"{p}.stops")
    drive = r.integer(x, "drive_minutes", p, lo=0)
    eid = r.string(x, "expert", p)
    departures: list[int] = []
    legs = r.items(x, "legs", p, required=False)
    for i, raw in enumerate(legs):
        leg = r.obj(raw, f"{p}.legs[{i}]")
        dep = r.time(leg.get("depart"), f"{p}.legs[{i}].depart") if leg is not None else None
        if dep is not None:
            departures.append(dep)
    if legs and len(legs) != len(stops) + 1:
        r.err(f"{p}.legs", f"needs one entry per leg ({len(stops) + 1}), got {len(legs)}",
              f"区間は {len(stops) + 1} 件必要です（{len(legs)} 件あります）")
    ends = [r.string(x, k, p, required=False) or None for k in ("start_at", "end_at")]
    if day and leave is not None and ret is not None and drive is not None:
        return Route(eid, day, leave, ret, stops, drive, tuple(departures), *ends)
    return None


def _read_change(r: Reader, x: Mapping[str, Any], p: str) -> Change | None:
    """One change of a plan against the last one, with the visit before and after."""
    rid = r.string(x, "request", p)
    loc = r.string(x, "location", p)
    kind = r.string(x, "kind", p)
    if kind and kind not in ("moved", "added", "dropped", "withdrawn"):
        r.err(f"{p}.kind", f"unknown change {kind!r}", f"不明な変更の種類 {kind!r} です")
    sides = []
    for side in ("before", "after"):
        raw = x.get(side)
        sx = None if raw is None else r.obj(raw, f"{p}.{side}")
        sides.append(None if sx is None else _read_visit(r, sx, f"{p}.{side}", rid, loc))
    if rid and kind in ("moved", "added", "dropped", "withdrawn"):
        return Change(rid, kind, loc, sides[0], sides[1])  # type: ignore[arg-type]
    return None


def _read_coverage(r: Reader, x: Mapping[str, Any], p: str) -> LocationCoverage | None:
    """One place's coverage of a plan (the season goal)."""
    lid = r.string(x, "location", p)
    n = {k: r.integer(x, k, p, lo=0) for k in ("visits", "min_visits", "shortfall")}
    if lid and n["visits"] is not None and n["min_visits"] is not None \
            and n["shortfall"] is not None:
        return LocationCoverage(
            lid, n["visits"], n["min_visits"], n["shortfall"],
            r.str_list(x.get("reasons", []), f"{p}.reasons", nonempty=False),
            tuple(x.get("reasons_ja", []) or []), tuple(x.get("codes", []) or []))
    return None


def _read_visit(r: Reader, x: Mapping[str, Any], p: str, rid: str, loc: str) -> Visit | None:
    who = r.str_list(x.get("experts"), f"{p}.experts")
    mode = r.string(x, "mode", p)
    if mode and mode not in ("onsite", "online"):
        r.err(f"{p}.mode", f"must be 'onsite' or 'online', got {mode!r}", "不正な形態です")
    day = r.date(x.get("date"), f"{p}.date")
    start = r.time(x.get("start"), f"{p}.start")
    end = r.time(x.get("end"), f"{p}.end")
    if start is not None and end is not None and end <= start:
        r.err(f"{p}.end", "must be after start", "開始より後である必要があります")
    if rid and who and day and start is not None and end is not None and mode in (
            "onsite", "online"):
        return Visit(rid, who, loc, mode, day, start, end)  # type: ignore[arg-type]
    return None


def load_plan(path: str | Path) -> Plan:
    return parse_plan(read_json(path))
