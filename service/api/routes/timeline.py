"""``GET /v1/timeline``: each expert's days of a week as segments on an hour axis, so that the
dashboard can show where the time goes (drives, waiting, on-site, online) without working out
travel in the browser.

A plan's routes give when each leg is driven (``legs[].depart``) but not how long it takes;
the minutes come from the travel model of the week the plan was made for (its job's request
document), the same minutes the planner and the checker used. Published visits that carry no
route of their own (a week changed by events) are driven just in time: leave so as to arrive
at the first stop's start, drive on as soon as each stop ends, head home after the last one.

Segment kinds: ``drive`` (with ``from``, ``to``, ``minutes`` and, for a leg with one island
end, ``ferry_minutes``, the crossing included in ``minutes``), ``wait`` (away from the base,
neither driving nor consulting), ``onsite``, ``online``, ``lunch`` (the plan's lunch
breaks, ``breaks[]``) and ``appointment`` (a standing appointment at a place,
``experts[].busy[].at``, a stop of the day without a visit). Every place given by its code
(``location``, ``from``, ``to``, and a day's ``start_at``/``end_at``) is named beside it in
both languages (``location_name_ja``, ``location_name_en`` …). Further kinds (a night away) can be added as the planner comes to give
them: the page draws any kind it does not know as a plain block named by its ``kind``.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import appointments_at
from engine.format import parse_plan_request
from engine.model import PlanRequest, fmt_time
from engine.travel import FERRY_MINUTES, TravelTimes
from service.api.deps import CurrentKey, SessionDep, allow, not_found
from service.db import PlanJob, RequestRow, VisitRow
from service.weeks import published_plan, week_dates, week_document

router = APIRouter(prefix="/v1", tags=["visits"])

#: Parsed travel models of plan jobs (a job's request document never changes), newest last.
_TRAVEL: OrderedDict[str, tuple[PlanRequest, TravelTimes]] = OrderedDict()
_TRAVEL_KEEP = 8


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def travel_of(doc: dict[str, Any], key: str | None = None) -> tuple[PlanRequest, TravelTimes]:
    """The places, experts and travel minutes of a plan-request/1 document (its requests are
    not needed to time a day, and are left out so that a long week parses fast)."""
    if key is not None and key in _TRAVEL:
        _TRAVEL.move_to_end(key)
        return _TRAVEL[key]
    slim = {k: v for k, v in doc.items() if k in ("format", "horizon", "locations", "experts",
                                                   "travel")}
    slim["requests"] = []
    problem = parse_plan_request(slim)
    out = (problem, TravelTimes(problem))
    if key is not None:
        _TRAVEL[key] = out
        while len(_TRAVEL) > _TRAVEL_KEEP:
            _TRAVEL.popitem(last=False)
    return out


def _ferry(problem: PlanRequest, a: str, b: str) -> int | None:
    """The crossing inside the leg ``a`` → ``b`` (minutes) when exactly one end is an island."""
    la, lb = problem.location_by_id.get(a), problem.location_by_id.get(b)
    if la is None or lb is None or la.island == lb.island:
        return None
    isle = la if la.island else lb
    return isle.ferry_minutes if isle.ferry_minutes is not None else FERRY_MINUTES


def day_segments(problem: PlanRequest, travel: TravelTimes, expert: str,
                 visits: list[dict[str, Any]], departures: list[int] | None,
                 breaks: Sequence[tuple[int, int]] = (), start_at: str | None = None,
                 end_at: str | None = None) -> dict[str, Any]:
    """One expert's day: ``visits`` (``mode``, ``location``, ``start``/``end`` in minutes,
    ``request``, ``title``), the route's leg departures (minutes; ``None`` or a count
    that does not fit the stops: just in time), the plan's lunch ``breaks`` (start, end) and
    where the day starts and ends (``start_at``/``end_at``: location ids, ``None`` at the
    base) → the day's segments in time order, with ``leave``/``return``, the day's drive and
    wait minutes (a lunch is no wait) and its ``overtime_minutes``."""
    e = problem.expert_by_id.get(expert)
    base = e.base if e is not None else problem.locations[0].id
    first, last = start_at or base, end_at or base
    visits = sorted(visits, key=lambda v: (v["start"], v["end"]))
    stops = [v for v in visits if v["mode"] in ("onsite", "appointment")]
    segs: list[dict[str, Any]] = [
        {"kind": v["mode"], "start": v["start"], "end": v["end"], "location": v["location"],
         "request": v["request"], "title": v.get("title", "")} for v in visits]
    segs += [{"kind": "lunch", "start": b0, "end": b1, "minutes": b1 - b0} for b0, b1 in breaks]
    leave = ret = None
    if stops or first != last:
        path = [first, *(v["location"] for v in stops), last]
        legs = [travel.minutes(a, b) for a, b in zip(path, path[1:], strict=False)]
        if departures is None or len(departures) != len(legs):
            departures = _just_in_time(stops, legs, e.work_start if e is not None else 0)
        for k, (dep, m) in enumerate(zip(departures, legs, strict=True)):
            if m == 0:
                continue
            segs.append({"kind": "drive", "start": dep, "end": dep + m, "minutes": m,
                         "from": path[k], "to": path[k + 1],
                         "ferry_minutes": _ferry(problem, path[k], path[k + 1])})
        leave, ret = departures[0], departures[-1] + legs[-1]
        busy = sorted((s["start"], s["end"]) for s in segs)
        at = leave
        for s0, s1 in busy:
            if s0 > at and at < ret:
                segs.append({"kind": "wait", "start": at, "end": min(s0, ret),
                             "minutes": min(s0, ret) - at})
            at = max(at, s1)
    segs.sort(key=lambda s: (s["start"], s["end"]))
    drives = [s["minutes"] for s in segs if s["kind"] == "drive"]
    ends = [s["end"] for s in segs if s["kind"] in ("onsite", "online")]
    if ret is not None:
        ends.append(ret)
    over = (max(0, max(ends) - e.work_end)
            if e is not None and e.overtime is not None and ends else 0)
    return {"expert": expert, "leave": leave, "return": ret, "segments": segs,
            "work_start": e.work_start if e is not None else None,
            "work_end": e.work_end if e is not None else None,
            "start_at": start_at if start_at != base else None,
            "end_at": end_at if end_at != base else None,
            "overtime_minutes": over,
            "drive_minutes": sum(drives), "longest_drive": max(drives, default=0),
            "wait_minutes": sum(s["minutes"] for s in segs if s["kind"] == "wait")}


def _just_in_time(stops: list[dict[str, Any]], legs: list[int], work_start: int) -> list[int]:
    """Leg departures without the route's own: arrive at the first stop as it starts, drive
    on as each stop ends; a day with no stop (from a night's place home, or out to one)
    drives its one leg at the start of work."""
    if not stops:
        return [work_start]
    return [stops[0]["start"] - legs[0], *(v["end"] for v in stops[:-1]), stops[-1]["end"]]


def _as_text(day: dict[str, Any]) -> dict[str, Any]:
    """Times of a day as ``HH:MM`` (the API's form)."""
    out = dict(day)
    for k in ("leave", "return", "work_start", "work_end"):
        if out[k] is not None:
            out[k] = fmt_time(out[k])
    out["segments"] = [{**s, "start": fmt_time(s["start"]), "end": fmt_time(s["end"])}
                       for s in day["segments"]]
    return out


def timeline(problem: PlanRequest, travel: TravelTimes, visits: list[dict[str, Any]],
             routes: list[dict[str, Any]], breaks: Sequence[Mapping[str, Any]] = ()
             ) -> list[dict[str, Any]]:
    """Every (expert, date) with a visit, a standing appointment at a place or a route that
    starts or ends away (a night), in expert then date order, as ``day_segments``, with the
    plan's ``breaks`` (plan/1 ``breaks[]``) of those days and the routes' ``start_at`` and
    ``end_at``."""
    per: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for v in visits:
        for e in v["experts"]:
            per.setdefault((e, v["date"]), []).append(v)
    for v in _appointments(problem):
        per.setdefault((v["experts"][0], v["date"]), []).append(v)
    ends: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for r in routes:            # a day that starts or ends away is a day, visits or not
        if r.get("start_at") or r.get("end_at"):
            ends[r["expert"], r["date"]] = (r.get("start_at"), r.get("end_at"))
            per.setdefault((r["expert"], r["date"]), [])
    legs: dict[tuple[str, str], list[int]] = {}
    for r in routes:
        stops = [v["location"] for v in sorted(per.get((r["expert"], r["date"]), []),
                                               key=lambda v: v["start"])
                 if v["mode"] in ("onsite", "appointment")]
        if r.get("legs") and list(r["stops"]) == stops:
            legs[r["expert"], r["date"]] = [_minutes(x["depart"]) for x in r["legs"]]
    order = {e.id: i for i, e in enumerate(problem.experts)}
    out = []
    for (e, d) in sorted(per, key=lambda k: (order.get(k[0], len(order)), k[0], k[1])):
        lunch = [(_minutes(b["start"]), _minutes(b["end"])) for b in breaks
                 if b["expert"] == e and b["date"] == d]
        day = day_segments(problem, travel, e, per[e, d], legs.get((e, d)), lunch,
                           *ends.get((e, d), (None, None)))
        out.append(_as_text(_named(problem, {**day, "date": d})))
    return out


#: The fields that give a place by its code, in a day and in its segments.
_PLACE_FIELDS = ("location", "from", "to", "start_at", "end_at")


def _named(problem: PlanRequest, day: dict[str, Any]) -> dict[str, Any]:
    """``day`` with each place given by its code also named, beside the code
    (``location_name_ja``, ``location_name_en``, ``from_name_ja`` …; ``start_at_name_ja``
    for a day after a night away): people read 宇和島市, not ``382035``. A code the week does
    not know is named by itself."""
    def names(part: dict[str, Any]) -> dict[str, Any]:
        out = dict(part)
        for key in _PLACE_FIELDS:
            code = part.get(key)
            if code:
                loc = problem.location_by_id.get(code)
                out[f"{key}_name_ja"] = loc.name if loc is not None else code
                out[f"{key}_name_en"] = (loc.name_en or loc.name) if loc is not None else code
        return out

    return {**names(day), "segments": [names(seg) for seg in day["segments"]]}


def _appointments(problem: PlanRequest) -> list[dict[str, Any]]:
    """The experts' standing appointments at a place (``experts[].busy[].at``) on the dates
    they work, as stops of their days (segments of the kind ``appointment``): the day drives
    to each, visits or not."""
    out = []
    for e in problem.experts:
        for d in sorted({b.date for b in e.busy if b.at is not None}):
            out += [{"request": "", "experts": [e.id], "mode": "appointment",
                     "location": b.at, "date": d.isoformat(), "start": b.start,
                     "end": b.end, "title": ""} for b in appointments_at(problem, e, d)]
    return out


def _titles(s: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {q.id: q.doc.get("title", "") for q in s.scalars(
        select(RequestRow).where(RequestRow.id.in_(ids)))}


@router.get("/timeline")
def get_timeline(who: CurrentKey, s: SessionDep, week: Annotated[dt.date, Query()],
                 job: Annotated[str | None, Query(max_length=36)] = None) -> dict[str, Any]:
    """Each expert's days of ``week`` as segments (see the module docstring): the published
    visits, or with ``job`` (the centre only) that plan job's plan. An expert sees its own
    days; a municipality, which sees only its own visits, has no timeline."""
    allow(who, "centre", "expert")
    week_dates(week)
    if job is not None:
        allow(who, "centre")
        row = s.get(PlanJob, job)
        if row is None or row.plan is None:
            raise not_found("plan job", job)
        problem, travel = travel_of(row.request_doc, row.id)
        titles = _titles(s, {v["request"] for v in row.plan["visits"]})
        visits = [{**v, "start": _minutes(v["start"]), "end": _minutes(v["end"]),
                   "title": titles.get(v["request"], "")} for v in row.plan["visits"]]
        routes = row.plan.get("routes", [])
        breaks = row.plan.get("breaks", [])
    else:
        pub = published_plan(s, week)
        if pub is not None:
            problem, travel = travel_of(pub.request_doc, pub.id)
        else:
            problem, travel = travel_of(week_document(s, week)[0])
        rows = list(s.scalars(select(VisitRow).where(VisitRow.week == week,
                                                     VisitRow.active.is_(True))))
        titles = _titles(s, {v.request_id for v in rows})
        visits = [{"request": v.request_id, "experts": list(v.experts), "mode": v.mode,
                   "location": v.municipality, "date": v.date.isoformat(), "start": v.start,
                   "end": v.end, "title": titles.get(v.request_id, "")} for v in rows]
        routes = (pub.plan or {}).get("routes", []) if pub is not None else []
        breaks = (pub.plan or {}).get("breaks", []) if pub is not None else []
    if who.role == "expert":
        visits = [v for v in visits if who.expert in v["experts"]]
        days = [d for d in timeline(problem, travel, visits, routes, breaks)
                if d["expert"] == who.expert]
    else:
        days = timeline(problem, travel, visits, routes, breaks)
    return {"week": week.isoformat(), "source": "job" if job else "published", "days": days}
