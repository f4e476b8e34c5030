"""The checker's rule on nights away (``experts[].overnight``): where and when a day may end
off the base, and that the next day starts there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.calendar import night_dates
from engine.checker.context import Context, Violation, violation
from engine.model import Expert, fmt_time
from engine.nights import night_places, trips_within
from engine.words import counted

__all__ = ["nights_away_kept"]

_DAY = dt.timedelta(days=1)


def nights_away_kept(c: Context) -> Iterable[Violation]:
    """A day ends away from the base only at one of the places the expert may stay
    (``overnight.places``) and only when the expert's next working date is the next calendar
    date; that next day starts where the night was spent, and a day starts away from the base
    only after such a night. A trip (nights on consecutive dates) has at most ``max_nights``
    nights, so it starts and ends at the base within the horizon. A day away without on-site
    visits still drives from where it starts to where it ends within working hours."""
    for e in c.p.experts:
        yield from _nights_of(c, e)
        for (eid, day), r in sorted(c.route_of.items()):
            if eid == e.id and not r.stops and c.away(eid, day):
                yield from _drive_only_day(c, e, day)


def _nights_of(c: Context, e: Expert) -> Iterable[Violation]:
    places, dates = set(night_places(c.p, e)), set(night_dates(c.p, e))
    nights: dict[dt.date, str] = {}
    for (eid, day), r in sorted(c.route_of.items()):
        if eid != e.id or r.end_at is None or r.end_at == e.base:
            continue
        nights[day] = r.end_at
        if r.end_at not in places:
            yield violation("nights", f"ends at {r.end_at}, where the expert may not stay the "
                            "night", expert=eid, date=day)
        elif day not in dates:
            yield violation("nights", f"ends away at {r.end_at}, but the next calendar date is "
                            "no working date of the expert in the horizon", expert=eid, date=day)
    for day, place in sorted(nights.items()):
        if c.ends(e.id, day + _DAY)[0] != place:
            yield violation("nights", f"the day after the night at {place} does not start there",
                            expert=e.id, date=day + _DAY)
    for (eid, day), r in sorted(c.route_of.items()):
        if eid == e.id and r.start_at not in (None, e.base) and nights.get(day - _DAY) != r.start_at:
            yield violation("nights", f"starts at {r.start_at} without a night there before",
                            expert=eid, date=day)
    most = e.overnight.max_nights if e.overnight is not None else 0
    if nights and not trips_within(nights, most):
        yield violation("nights", f"a trip of more than {counted(most, 'night')} away", expert=e.id)


def _drive_only_day(c: Context, e: Expert, day: dt.date) -> Iterable[Violation]:
    r = c.route_of[e.id, day]
    start_at, end_at = c.ends(e.id, day)
    t = c.t.minutes(start_at, end_at)
    if r.leave < e.work_start or r.return_ > e.work_end or r.return_ - r.leave < t:
        yield violation("route_hours", f"leaves {fmt_time(r.leave)} and is back "
                        f"{fmt_time(r.return_)}: no {t}-min drive from {start_at} to {end_at} "
                        f"within {fmt_time(e.work_start)}–{fmt_time(e.work_end)}",
                        expert=e.id, date=day)
