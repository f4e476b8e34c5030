"""The checker's rules on an expert's breaks: the lunch (``experts[].lunch``) and the
standing appointments (``experts[].busy``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import Break, fmt_time
from engine.words import counted

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
            yield violation(c, "lunch", f"{counted(len(bs), 'break')} listed where no lunch "
                            "is due", f"昼休憩が不要な日に休憩が {len(bs)} 件あります",
                            expert=eid, date=day)
    for eid, day in sorted(worked):
        lunch = c.p.expert_by_id[eid].lunch
        if lunch is None:
            continue
        bs = listed.get((eid, day), [])
        if len(bs) != 1:
            yield violation(c, "lunch", f"{counted(len(bs), 'lunch break')}, one is due",
                            f"昼休憩が {len(bs)} 件です（1 件必要です）", expert=eid, date=day)
            continue
        b = bs[0]
        where = (f"lunch {fmt_time(b.start)}–{fmt_time(b.end)}",
                 f"昼休憩 {fmt_time(b.start)}–{fmt_time(b.end)}")
        if b.end - b.start != lunch.minutes or b.start < lunch.start or b.end > lunch.end:
            inside = f"{fmt_time(lunch.start)}–{fmt_time(lunch.end)}"
            yield violation(c, "lunch", f"{where[0]} is not {lunch.minutes} min inside {inside}",
                            f"{where[1]} が {inside} の中の {lunch.minutes} 分になっていません",
                            expert=eid, date=day)
        for v in c.by_expert_date[eid, day]:
            if v.start < b.end and b.start < v.end:
                yield violation(c, "lunch", f"{where[0]} overlaps {c.req(v.request, 'en')} "
                                f"{span(v)}", f"{where[1]} が {c.req(v.request, 'ja')} "
                                f"{span(v)} と重なっています", v.request, eid, day)
        yield from _appointments_in_lunch(c, b, where)
        yield from _drives_in_lunch(c, b, where)


def _appointments_in_lunch(c: Context, b: Break, where: tuple[str, str]) -> Iterable[Violation]:
    """The expert's standing appointments that date (``busy``, anywhere or at a place) that the
    break overlaps (start inclusive, end exclusive: lunch may end when one starts)."""
    for a in c.p.expert_by_id[b.expert].busy:
        if a.date == b.date and a.start < b.end and b.start < a.end:
            at = f" at {c.place(a.at, 'en')}" if a.at else ""
            at_ja = f"（{c.place(a.at, 'ja')}）" if a.at else ""
            hours = f"{fmt_time(a.start)}–{fmt_time(a.end)}"
            yield violation(c, "lunch", f"{where[0]} overlaps the standing appointment "
                            f"{hours}{at}", f"{where[1]} が予定 {hours}{at_ja} と重なっています",
                            expert=b.expert, date=b.date)


def _drives_in_lunch(c: Context, b: Break, where: tuple[str, str]) -> Iterable[Violation]:
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
                yield violation(c, "lunch", f"{where[0]} overlaps leg {i + 1} ({fmt_time(dep)}, "
                                f"{t} min)", f"{where[1]} が {i + 1} 区間目の移動（{fmt_time(dep)} "
                                f"発、{t} 分）と重なっています", expert=b.expert, date=b.date)


def standing_appointments_kept(c: Context) -> Iterable[Violation]:
    """No consultation of an expert, on site or online, and no drive of their route overlaps
    one of their standing appointments (``experts[].busy``)."""
    for e in c.p.experts:
        for b in e.busy:
            hours = f"{fmt_time(b.start)}–{fmt_time(b.end)}"
            where = (f"the standing appointment {hours}", f"予定 {hours}")
            for v in c.by_expert_date.get((e.id, b.date), []):
                if v.start < b.end and b.start < v.end:
                    yield violation(c, "busy", f"{c.req(v.request, 'en')} {span(v)} overlaps "
                                    f"{where[0]}", f"{c.req(v.request, 'ja')} {span(v)} が"
                                    f"{where[1]}と重なっています", v.request, e.id, b.date)
            yield from _drives_in(c, e.id, b.date, b.start, b.end, where)


def _drives_in(c: Context, eid: str, day: dt.date, start: int, end: int,
               where: tuple[str, str]) -> Iterable[Violation]:
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
                yield violation(c, "busy", f"leg {i + 1} ({fmt_time(dep)}, {t} min) overlaps "
                                f"{where[0]}", f"{i + 1} 区間目の移動（{fmt_time(dep)} 発、{t} 分）"
                                f"が{where[1]}と重なっています", expert=eid, date=day)
