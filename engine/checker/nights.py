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
        en, ja = c.place(r.end_at, "en"), c.place(r.end_at, "ja")
        if r.end_at not in places:
            yield violation(c, "nights", f"ends at {en}, where the expert may not stay the night",
                            f"{ja}で一日を終えていますが、そこには宿泊できません",
                            expert=eid, date=day)
        elif day not in dates:
            yield violation(c, "nights", f"ends away at {en}, but the next calendar date is no "
                            "working date of the expert in the horizon", f"{ja}で宿泊して"
                            "いますが、翌日は期間内の勤務日ではありません", expert=eid, date=day)
    for day, place in sorted(nights.items()):
        if c.ends(e.id, day + _DAY)[0] != place:
            yield violation(c, "nights", f"the day after the night at {c.place(place, 'en')} "
                            "does not start there", f"{c.place(place, 'ja')}に宿泊した翌日が"
                            "そこから始まっていません", expert=e.id, date=day + _DAY)
    for (eid, day), r in sorted(c.route_of.items()):
        if eid == e.id and r.start_at not in (None, e.base) and nights.get(day - _DAY) != r.start_at:
            yield violation(c, "nights", f"starts at {c.place(r.start_at, 'en')} without a night "
                            f"there before", f"前夜に宿泊していない{c.place(r.start_at, 'ja')}から"
                            "一日が始まっています", expert=eid, date=day)
    most = e.overnight.max_nights if e.overnight is not None else 0
    if nights and not trips_within(nights, most):
        yield violation(c, "nights", f"a trip of more than {counted(most, 'night')} away",
                        f"{most} 泊を超える出張があります", expert=e.id)


def _drive_only_day(c: Context, e: Expert, day: dt.date) -> Iterable[Violation]:
    r = c.route_of[e.id, day]
    start_at, end_at = c.ends(e.id, day)
    t = c.t.minutes(start_at, end_at)
    if r.leave < e.work_start or r.return_ > e.work_end or r.return_ - r.leave < t:
        hours = f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}"
        yield violation(c, "route_hours", f"leaves {fmt_time(r.leave)} and is back "
                        f"{fmt_time(r.return_)}: no {t}-min drive from {c.place(start_at, 'en')} "
                        f"to {c.place(end_at, 'en')} within {hours}",
                        f"出発 {fmt_time(r.leave)}・帰着 {fmt_time(r.return_)} では、勤務時間 "
                        f"{hours} の中で{c.place(start_at, 'ja')}から{c.place(end_at, 'ja')}への"
                        f"移動 {t} 分ができません", expert=e.id, date=day)
