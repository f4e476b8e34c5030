"""Each expert's plan as an iCalendar file (RFC 5545), one event per consultation.

On-site events carry the place and the drive before the first stop; online ones say so.
Times are local (``TZID=Asia/Tokyo``) and the calendar carries the matching ``VTIMEZONE``
(RFC 5545 §3.6.5 requires one per TZID used), so that every client places them right.
UIDs are stable (``request/expert``), so a calendar re-imported after a re-plan updates the
events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from engine.model import FIELD_LABELS, Plan, PlanRequest

__all__ = ["expert_calendar"]


def expert_calendar(problem: PlanRequest, plan: Plan, expert_id: str) -> bytes:
    """The ``.ics`` bytes of ``expert_id``'s visits in ``plan``."""
    tz = ZoneInfo(problem.timezone)
    cal = Calendar()
    cal.add("prodid", "-//dxshare//plan//JA")
    cal.add("version", "2.0")
    expert = problem.expert_by_id.get(expert_id)
    who = expert.name if expert is not None and expert.name else expert_id
    cal.add("x-wr-calname", f"dxshare {who}")
    cal.add("x-wr-timezone", problem.timezone)
    reqs = problem.request_by_id
    locs = problem.location_by_id
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for v in plan.visits:
        if expert_id not in v.experts:
            continue
        q = reqs[v.request]
        loc = locs[v.location]
        ev = Event()
        ev.add("uid", f"{v.request}/{expert_id}@dxshare")
        ev.add("dtstamp", stamp)
        day = dt.datetime.combine(v.date, dt.time(), tzinfo=tz)
        ev.add("dtstart", day + dt.timedelta(minutes=v.start))
        ev.add("dtend", day + dt.timedelta(minutes=v.end))
        fields = " + ".join(FIELD_LABELS[f][1] if f in FIELD_LABELS else f for f in q.fields)
        kind = "訪問" if v.mode == "onsite" else "オンライン相談"
        ev.add("summary", f"{loc.name} {kind}（{fields}）" + (f" {q.title}" if q.title else ""))
        if v.mode == "onsite":
            ev.add("location", f"{loc.name} ({loc.name_en})" if loc.name_en else loc.name)
            if loc.lat is not None and loc.lon is not None:
                ev.add("geo", (loc.lat, loc.lon))
        others = [problem.expert_by_id[e].name or e if e in problem.expert_by_id else e
                  for e in v.experts if e != expert_id]
        desc = [f"依頼 {v.request}・優先度 {q.priority} / request {v.request}, priority {q.priority}"]
        if others:
            desc.append("同行: " + "、".join(others) + " / joint visit with " + ", ".join(others))
        ev.add("description", "\n".join(desc))
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal.to_ical()
