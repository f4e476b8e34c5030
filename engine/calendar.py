"""Which dates an expert can work: weekends, Japanese national holidays, blackouts, own days.

Examples
--------
>>> import datetime as dt
>>> is_holiday(dt.date(2026, 11, 23))   # 勤労感謝の日
True
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import jpholiday

from engine.model import Busy, Expert, Horizon, PlanRequest, Request
from engine.nights import night_places

__all__ = ["DateStatus", "appointments_at", "busy_blocks", "calls_of", "date_status",
           "day_places", "holiday_name", "is_holiday", "keep_out", "night_dates", "open_starts",
           "workable_dates"]


@functools.lru_cache(maxsize=4096)
def is_holiday(day: dt.date) -> bool:
    """A Japanese national or substitute holiday (振替休日), per jpholiday (remembered: the
    planner asks once per request, expert and date)."""
    return bool(jpholiday.is_holiday(day))


@functools.lru_cache(maxsize=4096)
def holiday_name(day: dt.date) -> str | None:
    name = jpholiday.is_holiday_name(day)
    return str(name) if name else None


@dataclass(frozen=True, slots=True)
class DateStatus:
    """Why a date is or is not workable for one expert (``reason`` empty when workable)."""

    date: dt.date
    workable: bool
    reason: str = ""
    reason_ja: str = ""


def date_status(horizon: Horizon, expert: Expert, day: dt.date) -> DateStatus:
    """Whether ``expert`` can work on ``day``, with the reason when not."""
    if not horizon.start <= day <= horizon.end:
        return DateStatus(day, False, "outside the horizon", "計画期間外")
    if day.weekday() >= 5:
        return DateStatus(day, False, "weekend", "土日")
    if horizon.skip_holidays and is_holiday(day):
        name = holiday_name(day) or "holiday"
        return DateStatus(day, False, f"national holiday ({name})", f"祝日（{name}）")
    if expert.days is not None and day not in expert.days:
        return DateStatus(day, False, "not one of the expert's available days", "専門家の稼働日ではない")
    for b in horizon.blackouts:
        if b.date == day and b.whole_day and b.applies_to(expert.id):
            why = f"blackout ({b.reason})" if b.reason else "blackout"
            why_ja = f"業務停止日（{b.reason}）" if b.reason else "業務停止日"
            return DateStatus(day, False, why, why_ja)
    return DateStatus(day, True)


def workable_dates(problem: PlanRequest, expert: Expert) -> list[dt.date]:
    """The expert's workable dates in the horizon, in order."""
    h = problem.horizon
    return [d for d in h.dates if date_status(h, expert, d).workable]


def busy_blocks(expert: Expert, date: dt.date) -> list[tuple[int, int]]:
    """The expert's standing appointments (``busy``) on ``date`` as ``(start, end)`` minutes,
    in order: no consultation of theirs and no drive of their day overlaps one.

    >>> from engine.model import Busy
    >>> e = Expert("e1", ("dx",), "base", busy=(Busy(dt.date(2026, 12, 7), 840, 900),))
    >>> busy_blocks(e, dt.date(2026, 12, 7)), busy_blocks(e, dt.date(2026, 12, 8))
    ([(840, 900)], [])
    """
    return sorted((b.start, b.end) for b in expert.busy if b.date == date)


def calls_of(expert: Expert, date: dt.date) -> list[tuple[int, int]]:
    """The expert's standing appointments on ``date`` taken anywhere (no ``at``), as ``(start,
    end)`` minutes in order: blocks of the day in which they do not drive.

    >>> from engine.model import Busy
    >>> e = Expert("e1", ("dx",), "base", busy=(Busy(dt.date(2026, 12, 7), 840, 900),
    ...                                          Busy(dt.date(2026, 12, 7), 600, 660, "town")))
    >>> calls_of(e, dt.date(2026, 12, 7))
    [(840, 900)]
    """
    return sorted((b.start, b.end) for b in expert.busy if b.date == date and b.at is None)


def appointments_at(problem: PlanRequest, expert: Expert, date: dt.date) -> list[Busy]:
    """The expert's standing appointments at a place (``at``) on ``date``, in time order, when
    the date is workable for them (on any other date their day is not planned): on-site stops
    of their day fixed in time, which its drives go around.

    >>> from engine.model import Busy
    >>> e = Expert("e1", ("dx",), "base", busy=(Busy(dt.date(2026, 12, 7), 600, 660, "town"),))
    >>> p = PlanRequest(Horizon(dt.date(2026, 12, 7), dt.date(2026, 12, 11)), (), (e,), ())
    >>> [b.at for b in appointments_at(p, e, dt.date(2026, 12, 7))]
    ['town']
    """
    got = [b for b in expert.busy if b.date == date and b.at is not None]
    if not got or not date_status(problem.horizon, expert, date).workable:
        return []
    return sorted(got, key=lambda b: b.start)


def keep_out(problem: PlanRequest, request: Request, experts: tuple[str, ...],
             date: dt.date, *, closed: bool = True) -> list[tuple[int, int]]:
    """The times of day (minutes, start inclusive, end exclusive) that a consultation of
    ``request`` by ``experts`` on ``date`` must not overlap: the part-day blackouts of its
    experts, the closures of its location and (with ``closed``) its closed hours of every
    date and its experts' standing appointments (``busy_blocks``)."""
    h = problem.horizon
    out = [(b.start, b.end) for b in h.blackouts
           if b.date == date and b.start is not None and b.end is not None
           and any(b.applies_to(e) for e in experts)]
    out += [(c.start, c.end) for c in h.closures
            if c.date == date and c.location == request.location]
    if closed:
        out += problem.location_by_id[request.location].closed
        for eid in experts:
            out += busy_blocks(problem.expert_by_id[eid], date)
    return out


def open_starts(lo: int, hi: int, duration: int, spans: Sequence[tuple[int, int]]
                ) -> tuple[int, int] | None:
    """The first and last start in ``lo``…``hi`` of a consultation of ``duration`` minutes that
    overlaps none of ``spans`` (minutes, end exclusive), or None when every start does.

    >>> open_starts(540, 660, 60, [(720, 780)]), open_starts(600, 660, 60, [(630, 780)])
    ((540, 660), None)
    """
    def clear(t: int) -> bool:
        return all(t + duration <= a or t >= b for a, b in spans)

    edges = sorted({lo, hi, *(b for _, b in spans if lo <= b <= hi),
                    *(a - duration for a, _ in spans if lo <= a - duration <= hi)})
    ok = [t for t in edges if clear(t)]
    return (ok[0], ok[-1]) if ok else None


def night_dates(p: PlanRequest, e: Expert) -> tuple[dt.date, ...]:
    """The dates ``d`` after which ``e`` may stay away: ``d`` and ``d + 1`` are both workable
    dates of ``e`` in the horizon (none without places)."""
    if not night_places(p, e):
        return ()
    h = p.horizon
    ok = {d for d in h.dates if date_status(h, e, d).workable}
    return tuple(d for d in sorted(ok) if d + dt.timedelta(days=1) in ok)


def day_places(p: PlanRequest, e: Expert, d: dt.date
               ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Where ``e``'s day ``d`` may start and where it may end: the base first, then the
    places of a night before it and of a night after it."""
    places = night_places(p, e)
    if not places:
        return (e.base,), (e.base,)
    dates = night_dates(p, e)
    before = places if d - dt.timedelta(days=1) in dates else ()
    after = places if d in dates else ()
    return (e.base, *before), (e.base, *after)
