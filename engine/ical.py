"""Each expert's plan as an iCalendar file (RFC 5545), one event per consultation and per
entry of the expert's own time (below).

On-site events carry the place and the drive before the first stop; online ones say so.
Times are local (``TZID=Asia/Tokyo``) and the calendar carries the matching ``VTIMEZONE``
(RFC 5545 §3.6.5 requires one per TZID used), so that every client places them right.
UIDs are stable (``request/expert``), so a calendar re-imported after a re-plan updates the
events instead of duplicating them. After a change (an event's repair, a re-plan) each changed
event's ``SEQUENCE`` goes up (``calendar_update``), and the events the expert no longer has
(dropped, cancelled, or given to another expert) go out as ``METHOD:CANCEL`` with
``STATUS:CANCELLED``, so that Outlook, Google and Apple calendars move or remove the entry
instead of adding a second one.

Besides the consultations, the calendar shows the expert's own time as the plan has it: each
standing appointment (``experts[].busy``, ``予定 / Appointment``) and each lunch break (plan
``breaks[]``, ``昼休み / Lunch break``) as busy time, and each night away (a route that ends
off the base, ``宿泊: 宇和島市 / Night in Uwajima``) as an all-day entry that leaves the day
free. Their UIDs are stable too (``lunch:2026-12-08/pr-1@dxshare``,
``busy:2026-12-08T14:00/pr-1@dxshare``, ``night:2026-12-07/pr-1@dxshare``): a lunch the re-plan
moves keeps its entry, its ``SEQUENCE`` one up, and one the plan no longer has (a night no
longer taken) is cancelled with the visits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from engine.model import FIELD_LABELS, Change, Location, Plan, PlanRequest, Visit, fmt_time
from engine.nights import nights_of

__all__ = ["OwnTime", "calendar_experts", "calendar_sequences", "calendar_update",
           "expert_calendar", "own_time", "own_times_of", "uid"]


def uid(request: str, expert: str) -> str:
    """The UID of ``expert``'s event for ``request``: the same in every plan."""
    return f"{request}/{expert}@dxshare"


@dataclass(frozen=True, slots=True)
class OwnTime:
    """An entry of the expert's own time in the calendar: a standing appointment
    (``kind='busy'``), a lunch break (``'lunch'``) or a night away (``'night'``, all day:
    ``start``/``end`` are dates, the end exclusive). ``busy`` entries block the time
    (``TRANSP:OPAQUE``); a night leaves the day free."""

    uid: str
    kind: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    summary: str
    location: str = ""
    description: str = ""
    busy: bool = True


def _place(loc: Location | None, fallback: str) -> tuple[str, str]:
    """``(Japanese name, romaji name)`` of a place (the id when it is unknown)."""
    if loc is None:
        return fallback, fallback
    return loc.name, loc.name_en or loc.name


def own_time(problem: PlanRequest, plan: Plan, expert_id: str) -> list[OwnTime]:
    """The expert's standing appointments, lunch breaks and nights away in ``plan``, in date
    order, each under its stable UID."""
    tz = ZoneInfo(problem.timezone)
    locs = problem.location_by_id
    expert = problem.expert_by_id.get(expert_id)

    def at(d: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(d, dt.time(), tzinfo=tz) + dt.timedelta(minutes=minutes)

    out = []
    for b in expert.busy if expert is not None else ():
        key = f"busy:{b.date.isoformat()}T{fmt_time(b.start)}/{expert_id}@dxshare"
        summary, where = "予定 / Appointment", ""
        if b.at is not None:
            ja, en = _place(locs.get(b.at), b.at)
            summary = f"予定（{ja}）/ Appointment ({en})"
            where = locs[b.at].label if b.at in locs else b.at
        out.append(OwnTime(key, "busy", at(b.date, b.start), at(b.date, b.end), summary, where))
    for br in plan.breaks:
        if br.expert == expert_id:
            out.append(OwnTime(f"lunch:{br.date.isoformat()}/{expert_id}@dxshare", "lunch",
                               at(br.date, br.start), at(br.date, br.end),
                               "昼休み / Lunch break"))
    for (who, d), place in sorted(nights_of(problem, plan.routes).items()):
        if who != expert_id:
            continue
        ja, en = _place(locs.get(place), place)
        out.append(OwnTime(
            f"night:{d.isoformat()}/{expert_id}@dxshare", "night", d, d + dt.timedelta(days=1),
            f"宿泊: {ja} / Night in {en}", locs[place].label if place in locs else place,
            f"翌日は{ja}から出発 / the next day starts in {en}", busy=False))
    return sorted(out, key=lambda o: (str(o.start)[:10], o.uid))


def own_times_of(ics: bytes) -> dict[str, OwnTime]:
    """UID → the expert's own-time entries (appointments, lunch breaks, nights) of an ``.ics``
    written before, cancelled ones left out: what a re-plan compares its own with."""
    out = {}
    for ev in Calendar.from_ical(ics).walk("VEVENT"):
        key = str(ev.get("uid", ""))
        kind = key.split(":", 1)[0]
        if kind not in ("busy", "lunch", "night") or str(ev.get("status", "")) == "CANCELLED":
            continue
        out[key] = OwnTime(key, kind, ev.decoded("dtstart"), ev.decoded("dtend"),
                           str(ev.get("summary", "")), str(ev.get("location", "")),
                           str(ev.get("description", "")),
                           str(ev.get("transp", "OPAQUE")) != "TRANSPARENT")
    return out


def _own_event(o: OwnTime, sequence: int, stamp: dt.datetime, gone: bool) -> Event:
    ev = Event()
    ev.add("uid", o.uid)
    ev.add("dtstamp", stamp)
    ev.add("sequence", sequence)
    if gone:
        ev.add("status", "CANCELLED")
    ev.add("dtstart", o.start)
    ev.add("dtend", o.end)
    ev.add("summary", ("【取消】" if gone else "") + o.summary)
    ev.add("transp", "OPAQUE" if o.busy else "TRANSPARENT")
    if o.location:
        ev.add("location", o.location)
    if o.description:
        ev.add("description", o.description)
    return ev


def expert_calendar(problem: PlanRequest, plan: Plan, expert_id: str, *,
                    sequences: Mapping[str, int] | None = None,
                    cancelled: Sequence[tuple[Visit, int]] = (),
                    method: str | None = None, name: str = "",
                    own_cancelled: Sequence[tuple[OwnTime, int]] = ()) -> bytes:
    """The ``.ics`` bytes of ``expert_id``'s visits in ``plan`` and of the expert's own time
    (``own_time``: appointments, lunch breaks, nights away).

    ``sequences`` gives each event's ``SEQUENCE`` by UID (default 0); ``cancelled`` adds
    ``(visit as it was, SEQUENCE)`` events with ``STATUS:CANCELLED``, ``own_cancelled`` the
    same of own-time entries; ``method`` sets the calendar's ``METHOD`` (``PUBLISH``,
    ``CANCEL``); ``name`` is what the calendar is called (``X-WR-CALNAME``: ``dxshare NAME``;
    by default the expert's name, else the id)."""
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
    if method != "CANCEL":
        for o in own_time(problem, plan, expert_id):
            cal.add_component(_own_event(o, seq.get(o.uid, 0), stamp, False))
    for o, n in own_cancelled:
        cal.add_component(_own_event(o, n, stamp, True))
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
                    changes: Sequence[Change], before: Mapping[str, int], name: str = "",
                    previous: bytes | None = None
                    ) -> tuple[bytes, bytes | None, dict[str, int]]:
    """``expert_id``'s calendar after ``changes`` (a plan's ``changes``), each event's
    SEQUENCE one above ``before`` (UID → SEQUENCE of the calendar the expert has) where it
    changed: the whole calendar (``METHOD:PUBLISH``), the cancellations (``METHOD:CANCEL``, or
    None when nothing was taken away from the expert) and the new UID → SEQUENCE; ``name`` as
    in ``expert_calendar``. ``previous`` is that calendar itself: with it, an own-time entry
    (a lunch break, an appointment, a night away) whose time or place changed goes one up
    too, and one the plan no longer has is cancelled."""
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
    own_gone = _own_changes(problem, plan, expert_id, seq, previous)
    full = expert_calendar(problem, plan, expert_id, sequences=seq, method="PUBLISH", name=name)
    cancel = expert_calendar(problem, replace(plan, visits=()), expert_id, cancelled=gone,
                             method="CANCEL", name=name,
                             own_cancelled=own_gone) if gone or own_gone else None
    return full, cancel, seq


def _own_changes(problem: PlanRequest, plan: Plan, expert_id: str, seq: dict[str, int],
                 previous: bytes | None) -> list[tuple[OwnTime, int]]:
    """The own-time entries of ``previous`` the plan no longer has (with their new SEQUENCE),
    ``seq`` raised in place for those whose time, place or words changed."""
    if previous is None:
        return []
    was = own_times_of(previous)
    now = {o.uid: o for o in own_time(problem, plan, expert_id)}
    for key, o in now.items():
        old = was.get(key)
        if old is not None and (old.start, old.end, old.summary, old.location) != (
                o.start, o.end, o.summary, o.location):
            seq[key] = seq.get(key, 0) + 1
    gone = []
    for key, o in was.items():
        if key not in now:
            seq[key] = seq.get(key, 0) + 1
            gone.append((o, seq[key]))
    return gone
