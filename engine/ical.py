"""Each expert's plan as an iCalendar file (RFC 5545), one event per consultation.

On-site events carry the place and the drive before the first stop; online ones say so.
Times are local (``TZID=Asia/Tokyo``) and the calendar carries the matching ``VTIMEZONE``
(RFC 5545 §3.6.5 requires one per TZID used), so that every client places them right.
UIDs are stable (``request/expert``), so a calendar re-imported after a re-plan updates the
events instead of duplicating them. After a change (an event's repair, a re-plan) each changed
event's ``SEQUENCE`` goes up (``calendar_update``), and the events the expert no longer has
(dropped, cancelled, or given to another expert) go out as ``METHOD:CANCEL`` with
``STATUS:CANCELLED``, so that Outlook, Google and Apple calendars move or remove the entry
instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from engine.model import FIELD_LABELS, Change, Plan, PlanRequest, Visit

__all__ = ["calendar_experts", "calendar_sequences", "calendar_update", "expert_calendar",
           "uid"]


def uid(request: str, expert: str) -> str:
    """The UID of ``expert``'s event for ``request``: the same in every plan."""
    return f"{request}/{expert}@dxshare"


def expert_calendar(problem: PlanRequest, plan: Plan, expert_id: str, *,
                    sequences: Mapping[str, int] | None = None,
                    cancelled: Sequence[tuple[Visit, int]] = (),
                    method: str | None = None, name: str = "") -> bytes:
    """The ``.ics`` bytes of ``expert_id``'s visits in ``plan``.

    ``sequences`` gives each event's ``SEQUENCE`` by UID (default 0); ``cancelled`` adds
    ``(visit as it was, SEQUENCE)`` events with ``STATUS:CANCELLED``; ``method`` sets the
    calendar's ``METHOD`` (``PUBLISH``, ``CANCEL``); ``name`` is what the calendar is called
    (``X-WR-CALNAME``: ``dxshare NAME``; by default the expert's name, else the id)."""
    tz = ZoneInfo(problem.timezone)
    cal = Calendar()
    cal.add("prodid", "-//dxshare//plan//JA")
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    expert = problem.expert_by_id.get(expert_id)
    who = name or (expert.name if expert is not None and expert.name else expert_id)
    cal.add("x-wr-calname", f"dxshare {who}")
    cal.add("x-wr-timezone", problem.timezone)
    reqs = problem.request_by_id
    locs = problem.location_by_id
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seq = sequences or {}
    items = [(v, False) for v in plan.visits if expert_id in v.experts]
    items += [(v, True) for v, _ in cancelled]
    cancel_seq = {uid(v.request, expert_id): n for v, n in cancelled}
    for v, gone in items:
        q = reqs.get(v.request)
        loc = locs.get(v.location)
        ev = Event()
        key = uid(v.request, expert_id)
        ev.add("uid", key)
        ev.add("dtstamp", stamp)
        ev.add("sequence", cancel_seq[key] if gone else seq.get(key, 0))
        if gone:
            ev.add("status", "CANCELLED")
        if q is None or loc is None:
            # a cancelled request the week no longer has: its time and request id suffice
            day = dt.datetime.combine(v.date, dt.time(), tzinfo=tz)
            ev.add("dtstart", day + dt.timedelta(minutes=v.start))
            ev.add("dtend", day + dt.timedelta(minutes=v.end))
            ev.add("summary", f"取消 / cancelled: {v.request}")
            cal.add_component(ev)
            continue
        day = dt.datetime.combine(v.date, dt.time(), tzinfo=tz)
        ev.add("dtstart", day + dt.timedelta(minutes=v.start))
        ev.add("dtend", day + dt.timedelta(minutes=v.end))
        fields = " + ".join(FIELD_LABELS[f][1] if f in FIELD_LABELS else f for f in q.fields)
        kind = "訪問" if v.mode == "onsite" else "オンライン相談"
        title = f" {q.title}" if q.title else ""
        ev.add("summary", ("【取消】" if gone else "") + f"{loc.name} {kind}（{fields}）{title}")
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


def calendar_sequences(ics: bytes) -> dict[str, int]:
    """UID → SEQUENCE of every event in an ``.ics`` written before (the state a calendar
    update starts from)."""
    out: dict[str, int] = {}
    for ev in Calendar.from_ical(ics).walk("VEVENT"):
        out[str(ev.get("uid"))] = int(ev.get("sequence", 0))
    return out


def calendar_experts(ics: bytes) -> tuple[str | None, frozenset[str]]:
    """The ``METHOD`` of an ``.ics`` and the experts its events are dxshare's events of (by
    their UIDs, ``request/expert@dxshare``; none when some event is not dxshare's, or when
    it has none): whose calendar a file is, whatever it is called."""
    cal = Calendar.from_ical(ics)
    experts: set[str] = set()
    for ev in cal.walk("VEVENT"):
        key = str(ev.get("uid", ""))
        request, _, rest = key.partition("/")
        expert, at, host = rest.rpartition("@")
        if not (request and at and expert and host == "dxshare"):
            return (str(cal.get("method")) if cal.get("method") else None), frozenset()
        experts.add(expert)
    return (str(cal.get("method")) if cal.get("method") else None), frozenset(experts)


def calendar_update(problem: PlanRequest, plan: Plan, expert_id: str,
                    changes: Sequence[Change], before: Mapping[str, int], name: str = ""
                    ) -> tuple[bytes, bytes | None, dict[str, int]]:
    """``expert_id``'s calendar after ``changes`` (a plan's ``changes``), each event's
    SEQUENCE one above ``before`` (UID → SEQUENCE of the calendar the expert has) where it
    changed: the whole calendar (``METHOD:PUBLISH``), the cancellations (``METHOD:CANCEL``, or
    None when nothing was taken away from the expert) and the new UID → SEQUENCE; ``name`` as
    in ``expert_calendar``."""
    seq = dict(before)
    gone: list[tuple[Visit, int]] = []
    for c in changes:
        key = uid(c.request, expert_id)
        was = c.before is not None and expert_id in c.before.experts
        now = c.after is not None and expert_id in c.after.experts
        if not was and not now:
            continue
        seq[key] = seq[key] + 1 if key in seq else (1 if was else 0)
        if was and not now:
            assert c.before is not None
            gone.append((c.before, seq[key]))
    full = expert_calendar(problem, plan, expert_id, sequences=seq, method="PUBLISH", name=name)
    cancel = expert_calendar(problem, replace(plan, visits=()), expert_id, cancelled=gone,
                             method="CANCEL", name=name) if gone else None
    return full, cancel, seq
