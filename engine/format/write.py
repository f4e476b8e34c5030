"""Writing the exchange format: a ``PlanRequest`` back into a ``plan-request/1`` document
and a ``Plan`` into a ``plan/1`` document (the inverse of reading)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.format.overnight import overnight_to_dict
from engine.format.plan import PLAN_FORMAT
from engine.format.request import REQUEST_FORMAT
from engine.model import (
    Change,
    Expert,
    Horizon,
    Location,
    Plan,
    PlanRequest,
    Request,
    Route,
    Visit,
    fmt_time,
)


def _opt(d: dict[str, Any], key: str, value: Any, default: Any = None) -> None:
    if value is not None and value != default:
        d[key] = value


def plan_request_to_dict(req: PlanRequest) -> dict[str, Any]:
    """The inverse of ``parse_plan_request``: a JSON-ready ``plan-request/1`` document."""
    doc: dict[str, Any] = {"format": REQUEST_FORMAT}
    for k, v in req.extra.items():
        doc[k] = v
    if req.timezone != "Asia/Tokyo":
        doc["timezone"] = req.timezone
    doc["horizon"] = _horizon_dict(req.horizon)
    doc["locations"] = [_location_dict(loc) for loc in req.locations]
    doc["experts"] = [_expert_dict(e, req.horizon) for e in req.experts]
    doc["requests"] = [_request_dict(q) for q in req.requests]
    doc["travel"] = {"minutes": {a: dict(row) for a, row in req.travel.items()}}
    o = req.objective
    doc["objective"] = {"priority": o.priority, "drive_minute": o.drive_minute,
                        "onsite_day": o.onsite_day}
    if o.late_day:
        doc["objective"]["late_day"] = o.late_day
    goals: dict[str, Any] = {}
    if req.goals.coverage is not None:
        c = req.goals.coverage
        goals["coverage"] = {"min_visits": c.min_visits, "penalty": c.penalty,
                             "modes": list(c.modes)}
        if c.overrides:
            goals["coverage"]["locations"] = dict(c.overrides)
    if req.goals.small_towns is not None:
        t = req.goals.small_towns
        goals["small_towns"] = {"population_below": t.population_below, "bonus": t.bonus}
    if goals:
        doc["goals"] = goals
    return doc


def _horizon_dict(h: Horizon) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": h.start.isoformat(), "end": h.end.isoformat(),
        "skip_holidays": h.skip_holidays,
        "blackouts": [{"date": b.date.isoformat(), "experts": list(b.experts),
                       **({"reason": b.reason} if b.reason else {}),
                       **({"from": fmt_time(b.start), "until": fmt_time(b.end)}
                          if b.start is not None and b.end is not None else {})}
                      for b in h.blackouts]}
    if h.published_until is not None:
        out["published_until"] = h.published_until.isoformat()
    if h.history_until is not None:
        out["history_until"] = h.history_until.isoformat(timespec="minutes")
    if h.closures:
        out["closures"] = [
            {"location": c.location, "date": c.date.isoformat(), "from": fmt_time(c.start),
             "until": fmt_time(c.end), **({"reason": c.reason} if c.reason else {})}
            for c in h.closures]
    if h.start_grid_min != 1:
        out["start_grid_min"] = h.start_grid_min
    return out


def _location_dict(loc: Location) -> dict[str, Any]:
    x: dict[str, Any] = {"id": loc.id, "name": loc.name}
    _opt(x, "name_en", loc.name_en, "")
    _opt(x, "lat", loc.lat)
    _opt(x, "lon", loc.lon)
    x["open"], x["close"] = fmt_time(loc.open), fmt_time(loc.close)
    _opt(x, "max_visits_per_day", loc.max_visits_per_day)
    _opt(x, "island", loc.island, False)
    _opt(x, "ferry_minutes", loc.ferry_minutes)
    _opt(x, "population", loc.population)
    if loc.closed:
        x["closed"] = [[fmt_time(lo), fmt_time(hi)] for lo, hi in loc.closed]
    return x


def _expert_dict(e: Expert, horizon: Horizon) -> dict[str, Any]:
    x: dict[str, Any] = {"id": e.id}
    _opt(x, "name", e.name, "")
    x.update({"fields": list(e.fields), "base": e.base, "work_start": fmt_time(e.work_start),
              "work_end": fmt_time(e.work_end)})
    if e.days is not None:
        x["days"] = [day.isoformat() for day in e.days]
    for k in ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day",
              "max_onsite_days", "max_onsite_days_per_month"):
        _opt(x, k, getattr(e, k))
    if e.onsite_days_by_month:
        months = dict(e.onsite_days_by_month)
        if e.max_onsite_days_per_month is not None:
            # one field holds either form: spell the general cap out for every month
            for day in horizon.dates:
                months.setdefault(f"{day:%Y-%m}", e.max_onsite_days_per_month)
        x["max_onsite_days_per_month"] = dict(sorted(months.items()))
    if e.lunch is not None:
        x["lunch"] = {"minutes": e.lunch.minutes,
                      "window": [fmt_time(e.lunch.start), fmt_time(e.lunch.end)]}
    if e.busy:
        x["busy"] = [{"date": b.date.isoformat(), "start": fmt_time(b.start),
                      "end": fmt_time(b.end), **({"at": b.at} if b.at else {})}
                     for b in e.busy]
    if e.overtime is not None:
        x["overtime"] = {"max_minutes": e.overtime.max_minutes,
                         "minute_cost": e.overtime.minute_cost}
    if e.overnight is not None:
        x["overnight"] = overnight_to_dict(e.overnight)
    return x


def _request_dict(q: Request) -> dict[str, Any]:
    x: dict[str, Any] = {
        "id": q.id, "location": q.location, "fields": list(q.fields), "mode": q.mode,
        "duration_min": q.duration_min, "priority": q.priority,
        "earliest": q.earliest.isoformat(), "latest": q.latest.isoformat()}
    if q.window:
        x["window"] = [fmt_time(q.window[0]), fmt_time(q.window[1])]
    if q.fixed:
        x["fixed"] = {"experts": list(q.fixed.experts), "date": q.fixed.date.isoformat(),
                      "start": fmt_time(q.fixed.start)}
    _opt(x, "title", q.title, "")
    _opt(x, "confidential", q.confidential, False)
    if q.after is not None:
        a = q.after
        x["after"] = {"request": a.request, "min_days": a.min_days,
                      **({"max_days": a.max_days} if a.max_days is not None else {}),
                      "same_experts": a.same_experts,
                      **({"visit": {"date": a.date.isoformat(), "experts": list(a.experts)}}
                         if a.date is not None else {})}
    if q.due is not None:
        x["due"] = q.due.isoformat()
    return x


def _visit_dict(v: Visit) -> dict[str, Any]:
    return {"request": v.request, "experts": list(v.experts), "location": v.location,
            "mode": v.mode, "date": v.date.isoformat(), "start": fmt_time(v.start),
            "end": fmt_time(v.end)}


def _change_dict(c: Change) -> dict[str, Any]:
    def side(v: Visit | None) -> dict[str, Any] | None:
        if v is None:
            return None
        return {k: x for k, x in _visit_dict(v).items() if k not in ("request", "location")}

    return {"request": c.request, "kind": c.kind, "location": c.location,
            "before": side(c.before), "after": side(c.after)}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready ``plan/1`` document."""
    doc: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "status": plan.status,
        "objective": plan.objective,
        "bound": plan.bound,
        "solve_seconds": round(plan.solve_seconds, 3),
        "visits": [_visit_dict(v) for v in plan.visits],
        "routes": [_route_to_dict(rt) for rt in plan.routes],
        "unscheduled": [{"request": u.request, "reasons": list(u.reasons),
                         **({"reasons_ja": list(u.reasons_ja)} if u.reasons_ja else {}),
                         **({"codes": list(u.codes)} if u.codes else {})}
                        for u in plan.unscheduled],
        "kpis": dict(plan.kpis),
    }
    if plan.messages:
        doc["messages"] = list(plan.messages)
    if plan.messages_ja:
        doc["messages_ja"] = list(plan.messages_ja)
    if plan.solver:
        doc["solver"] = dict(plan.solver)
    if plan.changes or "moved" in plan.kpis:
        doc["changes"] = [_change_dict(c) for c in plan.changes]
    if plan.event is not None:
        doc["event"] = dict(plan.event)
    if plan.breaks:
        doc["breaks"] = [{"expert": b.expert, "date": b.date.isoformat(),
                          "start": fmt_time(b.start), "end": fmt_time(b.end)}
                         for b in plan.breaks]
    if plan.coverage:
        doc["coverage"] = [{"location": c.location, "visits": c.visits,
                            "min_visits": c.min_visits, "shortfall": c.shortfall,
                            **({"reasons": list(c.reasons)} if c.reasons else {}),
                            **({"reasons_ja": list(c.reasons_ja)} if c.reasons_ja else {}),
                            **({"codes": list(c.codes)} if c.codes else {})}
                           for c in plan.coverage]
    return doc


def _route_to_dict(rt: Route) -> dict[str, Any]:
    out: dict[str, Any] = {"expert": rt.expert, "date": rt.date.isoformat(),
                           "leave": fmt_time(rt.leave), "return": fmt_time(rt.return_),
                           "stops": list(rt.stops), "drive_minutes": rt.drive_minutes}
    if rt.departures:
        # dxshare extension: when each leg is driven (it ends at departure + minutes).
        out["legs"] = [{"depart": fmt_time(d)} for d in rt.departures]
    # dxshare extension: a day that starts or ends away from the base (a night away)
    if rt.start_at is not None:
        out["start_at"] = rt.start_at
    if rt.end_at is not None:
        out["end_at"] = rt.end_at
    return out


def dump_plan(plan: Plan, path: str | Path) -> None:
    Path(path).write_text(json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2) + "\n",
                          encoding="utf-8")
