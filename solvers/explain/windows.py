"""The windows a request can be served in, found before solving from the request alone: for
each expert with one of its fields and each workable date, the starts that the hours, the
place, the window and the trip there and back allow (``Option``), the dates kept only where a
joint visit's experts can all come. The model is built on these windows and the reasons of
an unservable request come from the same analysis, so the two cannot disagree."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass

from engine.calendar import appointments_at, busy_blocks, date_status, day_places, open_starts
from engine.model import Busy, Expert, PlanRequest, Request, Unscheduled
from engine.travel import TravelTimes
from solvers.explain.unservable import Failures, why_unservable
from solvers.explain.words import Names, field_label

__all__ = ["Option", "analyse"]


@dataclass(frozen=True, slots=True)
class Option:
    """Expert ``expert`` may serve ``request`` on ``date`` covering one of ``slots`` (indices
    into the request's fields), starting between ``lo`` and ``hi`` (minutes after midnight)."""

    request: str
    expert: str
    date: dt.date
    slots: tuple[int, ...]
    lo: int
    hi: int


def analyse(p: PlanRequest, travel: TravelTimes, names: Names, q: Request
            ) -> tuple[list[Option], Unscheduled]:
    """The windows of ``q``: every (expert, date) that can serve it alone, with its start
    window, kept only on dates where a joint visit's experts can all come together; when there
    is none, the reason why (the second value, empty otherwise)."""
    missing = [f for f in q.fields if not any(f in e.fields for e in p.experts)]
    if missing:
        en = "; ".join(f"no expert has the field {field_label(f, 'en')}" for f in missing)
        ja = "、".join(f"{field_label(f, 'ja')}の専門家がいません" for f in missing)
        return [], Unscheduled(q.id, (en,), (ja,), ("no_expert_field",))
    opts: list[Option] = []
    why = Failures({f: False for f in q.fields})
    span = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
    for e in p.experts:
        slots = tuple(k for k, f in enumerate(q.fields) if f in e.fields)
        if not slots:
            continue
        if q.fixed is not None and e.id not in q.fixed.experts:
            continue
        for d in span:
            o = _option_on(p, travel, q, e, d, slots, why)
            if o is not None:
                opts.append(o)
    opts = _joint_filter(q, opts)
    if opts:
        return opts, Unscheduled(q.id, ())
    return [], why_unservable(p, travel, names, q, why)


def _option_on(p: PlanRequest, travel: TravelTimes, q: Request, e: Expert, d: dt.date,
               slots: tuple[int, ...], why: Failures) -> Option | None:
    """Expert ``e`` serving ``q`` on ``d`` (covering one of ``slots``), with the starts its
    hours, the place's, the window and the trip there and back allow; None (and why, in
    ``why``) when there is none."""
    loc = p.location_by_id[q.location]
    if q.fixed is not None and d != q.fixed.date:
        return None
    if (q.fixed is None and p.horizon.published_until is not None
            and d <= p.horizon.published_until):
        why.published_any = True
        return None
    past = p.horizon.history_until
    if q.fixed is None and past is not None and d < past.date():
        why.past_any = True
        return None
    if not date_status(p.horizon, e, d).workable:
        return None
    for k in slots:
        why.workable_any[q.fields[k]] = True
    lo = max(loc.open, q.window[0] if q.window else 0)
    hi = min(loc.close, q.window[1] if q.window else 24 * 60) - q.duration_min
    if q.fixed is None and past is not None and d == past.date():
        # today: nothing new starts before now
        lo = max(lo, past.hour * 60 + past.minute)
        if lo > hi:
            why.past_any = True
            return None
    if q.onsite:
        zero = [c for c in ("max_visits_per_day", "max_visits_total",
                            "max_onsite_days", "max_onsite_days_per_month")
                if getattr(e, c) == 0]
        if zero:
            why.fail_cap.append((e.id, zero[0], "expert"))
            return None
        if (loc.max_visits_per_day is not None
                and loc.max_visits_per_day < len(q.fields)):
            # A joint visit of n experts counts n against the location's cap.
            why.fail_cap.append((e.id, "max_visits_per_day", "location"))
            return None
        # The shortest way there and back bounds every tour through this stop
        # (the exact legs of the chosen tour are rules of the model).
        # (from the place of a night before and to the place of a night after, where the
        # expert may stay away: experts[].overnight)
        froms, tos = day_places(p, e, d)
        out = min(travel.shortest(x, q.location) for x in froms)
        back = min(travel.shortest(q.location, x) for x in tos)
        if (e.max_drive_minutes_per_day is not None
                and out + back > e.max_drive_minutes_per_day):
            why.fail_drive.append((e.id, out + back, e.max_drive_minutes_per_day))
            return None
        lo = max(lo, e.work_start + out)
        hi = min(hi, e.day_end - back - q.duration_min)
        if lo > hi:
            why.fail_time.append((e.id, d, f"{out}+{back}", "trip"))
            return None
    else:
        lo = max(lo, e.work_start)
        hi = min(hi, e.day_end - q.duration_min)
        if lo > hi:
            why.fail_time.append((e.id, d, "0", "hours"))
            return None
    starts = open_starts(lo, hi, q.duration_min, loc.closed) if q.fixed is None else (lo, hi)
    if starts is None:                  # every start meets the place's closed hours
        why.fail_time.append((e.id, d, "0", "closed"))
        return None
    if q.fixed is None:
        got = _clear_of_appointments(p, travel, q, e, d, starts)
        if isinstance(got, str):
            why.fail_time.append((e.id, d, "0", got))
            return None
        starts = got
    # every consultation starts on the appointment grid
    lo, hi = p.horizon.grid_up(starts[0]), p.horizon.grid_down(starts[1])
    if lo > hi:
        why.fail_time.append((e.id, d, "0", "grid"))
        return None
    return Option(q.id, e.id, d, slots, lo, hi)


def _clear_of_appointments(p: PlanRequest, travel: TravelTimes, q: Request, e: Expert,
                           d: dt.date, starts: tuple[int, int]) -> tuple[int, int] | str:
    """The starts of ``q`` left beside the expert's standing appointments on ``d``, or why
    there are none: ``lunch`` (they leave no lunch break in its window, and a day with a
    consultation needs one), ``busy`` (every start meets one) or ``at`` (the drives to one at
    a place leave no time)."""
    busy = busy_blocks(e, d)
    lunch = e.lunch
    if lunch is not None and busy and open_starts(
            lunch.start, lunch.end - lunch.minutes, lunch.minutes, busy) is None:
        return "lunch"
    if busy:
        got = open_starts(*starts, q.duration_min,
                          [*p.location_by_id[q.location].closed, *busy])
        if got is None:
            return "busy"
        starts = got
    there = appointments_at(p, e, d)
    if there:
        near = _beside_appointments(travel, q, e, there, starts, day_places(p, e, d))
        if near is None:
            return "at"
        starts = near
    return starts


def _beside_appointments(travel: TravelTimes, q: Request, e: Expert, there: list[Busy],
                         starts: tuple[int, int],
                         ends: tuple[tuple[str, ...], tuple[str, ...]] | None = None
                         ) -> tuple[int, int] | None:
    """The starts of ``q`` (within ``starts``) that leave the expert time to drive to and from
    each standing appointment at a place (``there``, in time order): in a gap between two
    fixed points of the day (the base at work start, each appointment, the base at work end),
    an on-site consultation starts after the shortest way in and ends before the shortest way
    on; an online one leaves the gap the shortest drive across it. The earliest and latest of
    those starts (a hull: every start of a plan lies in it), or None. The day starts at one
    of ``ends[0]`` and ends at one of ``ends[1]`` (default: the base; other places around a
    night away), each gap measured from and to the nearest of them."""
    froms, tos = ends or ((e.base,), (e.base,))
    points = [(froms, e.work_start, e.work_start),
              *(((b.at or "",), b.start, b.end) for b in there), (tos, e.day_end, e.day_end)]
    dur = q.duration_min

    def sp(xs: tuple[str, ...], ys: tuple[str, ...]) -> int:
        return min(travel.shortest(x, y) for x in xs for y in ys)

    lo = hi = None
    for (a, _, a_end), (b, b_start, _) in itertools.pairwise(points):
        if q.onsite:
            here = (q.location,)
            first, last = a_end + sp(a, here), b_start - dur - sp(here, b)
        elif b_start - a_end >= dur + sp(a, b):
            first, last = a_end, b_start - dur
        else:
            continue
        first, last = max(first, starts[0]), min(last, starts[1])
        if first <= last:
            lo = first if lo is None else min(lo, first)
            hi = last if hi is None else max(hi, last)
    return None if lo is None or hi is None else (lo, hi)


def _joint_filter(q: Request, opts: list[Option]) -> list[Option]:
    """Keep only dates where every field has its own expert and their windows meet."""
    if not opts:
        return opts
    by_date: dict[dt.date, list[Option]] = defaultdict(list)
    for o in opts:
        by_date[o.date].append(o)
    keep: list[Option] = []
    n = len(q.fields)
    for os_ in by_date.values():
        if n == 1 or _has_matching(n, os_):
            keep.extend(os_)
    return keep


def _has_matching(n_slots: int, opts: list[Option]) -> bool:
    """Can distinct experts cover all ``n_slots`` fields, with start windows that meet?"""
    best = False

    def rec(k: int, used: set[str], lo: int, hi: int) -> bool:
        if lo > hi:
            return False
        if k == n_slots:
            return True
        for o in opts:
            if k in o.slots and o.expert not in used:
                if rec(k + 1, used | {o.expert}, max(lo, o.lo), min(hi, o.hi)):
                    return True
        return False

    best = rec(0, set(), 0, 24 * 60)
    return best
