"""The checker's rules on an expert's breaks: the lunch (``experts[].lunch``) and the
standing appointments (``experts[].busy``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import Break, fmt_time

__all__ = ["lunch_break_taken", "standing_appointments_kept"]


def lunch_break_taken(c: Context) -> Iterable[Violation]:
    """An expert with a lunch has, on each date with any consultation, exactly one break
    (``breaks``) of the lunch's minutes inside its window, during no consultation of theirs, no
    drive of their route and none of their standing appointments that date (``busy``, with or
    without ``at``: a lunch inside one's own meeting is no lunch); no break is listed for an
    expert without lunch or on a date without consultations."""
    listed: dict[tuple[str, dt.date], list[Break]] = defaultdict(list)
    for b in c.plan.breaks:
        listed[b.expert, b.date].append(b)
    worked = {k for k, vs in c.by_expert_date.items() if vs}
    for (eid, day), bs in sorted(listed.items()):
        e = c.p.expert_by_id.get(eid)
        if e is None or e.lunch is None or (eid, day) not in worked:
            yield violation("lunch", f"{len(bs)} break(s) listed where no lunch is due",
                            expert=eid, date=day)
    for eid, day in sorted(worked):
        lunch = c.p.expert_by_id[eid].lunch
        if lunch is None:
            continue
        bs = listed.get((eid, day), [])
        if len(bs) != 1:
            yield violation("lunch", f"{len(bs)} lunch breaks, one is due", expert=eid, date=day)
            continue
        b = bs[0]
        where = f"lunch {fmt_time(b.start)}–{fmt_time(b.end)}"
        if b.end - b.start != lunch.minutes or b.start < lunch.start or b.end > lunch.end:
            yield violation("lunch", f"{where} is not {lunch.minutes} min inside "
                            f"{fmt_time(lunch.start)}–{fmt_time(lunch.end)}", expert=eid, date=day)
        for v in c.by_expert_date[eid, day]:
            if v.start < b.end and b.start < v.end:
                yield violation("lunch", f"{where} overlaps {v.request} {span(v)}", v.request,
                                eid, day)
        yield from _appointments_in_lunch(c, b, where)
        yield from _drives_in_lunch(c, b, where)


def _appointments_in_lunch(c: Context, b: Break, where: str) -> Iterable[Violation]:
    """The expert's standing appointments that date (``busy``, anywhere or at a place) that the
    break overlaps (start inclusive, end exclusive: lunch may end when one starts)."""
    for a in c.p.expert_by_id[b.expert].busy:
        if a.date == b.date and a.start < b.end and b.start < a.end:
            place = f" at {c.p.location_by_id[a.at].name}" if a.at in c.p.location_by_id else ""
            yield violation("lunch", f"{where} overlaps the standing appointment "
                            f"{fmt_time(a.start)}–{fmt_time(a.end)}{place}",
                            expert=b.expert, date=b.date)


def _drives_in_lunch(c: Context, b: Break, where: str) -> Iterable[Violation]:
    """The legs of the expert's route that day (where it says when they are driven) that
    fall in the break."""
    stops = c.stops(b.expert, b.date)
    for r in c.plan.routes:
        if (r.expert, r.date) != (b.expert, b.date) or not (stops or c.away(b.expert, b.date)):
            continue
        legs = c.legs(b.expert, stops, b.date)
        if len(r.departures) != len(legs):
            continue                # the legs rule names a route without its departures
        for i, (dep, t) in enumerate(zip(r.departures, legs, strict=True)):
            if t and dep < b.end and b.start < dep + t:
                yield violation("lunch", f"{where} overlaps leg {i + 1} ({fmt_time(dep)}, "
                                f"{t} min)", expert=b.expert, date=b.date)


def standing_appointments_kept(c: Context) -> Iterable[Violation]:
    """No consultation of an expert, on site or online, and no drive of their route overlaps
    one of their standing appointments (``experts[].busy``)."""
    for e in c.p.experts:
        for b in e.busy:
            where = f"standing appointment {fmt_time(b.start)}–{fmt_time(b.end)}"
            for v in c.by_expert_date.get((e.id, b.date), []):
                if v.start < b.end and b.start < v.end:
                    yield violation("busy", f"{v.request} {span(v)} overlaps the {where}",
                                    v.request, e.id, b.date)
            yield from _drives_in(c, e.id, b.date, b.start, b.end, where)


def _drives_in(c: Context, eid: str, day: dt.date, start: int, end: int,
               where: str) -> Iterable[Violation]:
    """The legs of the expert's route on ``day`` (where it says when they are driven) that
    overlap ``start``…``end``."""
    stops = c.stops(eid, day)
    for r in c.plan.routes:
        if (r.expert, r.date) != (eid, day) or not (stops or c.away(eid, day)):
            continue
        legs = c.legs(eid, stops, day)
        if len(r.departures) != len(legs):
            continue                # the legs rule names a route without its departures
        for i, (dep, t) in enumerate(zip(r.departures, legs, strict=True)):
            if t and dep < end and start < dep + t:
                yield violation("busy", f"leg {i + 1} ({fmt_time(dep)}, {t} min) overlaps "
                                f"the {where}", expert=eid, date=day)
