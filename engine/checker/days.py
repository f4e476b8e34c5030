"""The checker's rules on an expert's day: one thing at a time, time to drive between stops
and from and to the base, drives free of online calls, routes that are the day's visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import fmt_time

__all__ = ["day_starts_and_ends_at_base", "legs_driven_between_stops", "one_thing_at_a_time", "routes_agree_with_visits", "travel_between_stops"]


def one_thing_at_a_time(c: Context) -> Iterable[Violation]:
    """No expert is in two consultations at once (on-site or online, any mix)."""
    for (eid, day), vs in sorted(c.by_expert_date.items()):
        for i, b in enumerate(vs):
            for a in vs[:i]:
                if b.start < a.end:
                    yield violation("double_booking", f"{a.request} {span(a)} overlaps {b.request} "
                             f"{span(b)}", b.request, eid, day)


def _free_block(lo: int, hi: int, busy: list[tuple[int, int]]) -> int:
    """Longest stretch of minutes in [lo, hi] not covered by any ``busy`` interval."""
    best, cur = 0, lo
    for s, e in sorted(busy):
        if e <= cur or s >= hi:
            continue
        best = max(best, min(s, hi) - cur)
        cur = max(cur, e)
    return max(best, hi - cur)


def travel_between_stops(c: Context) -> Iterable[Violation]:
    """Between two consecutive on-site stops the expert has at least the driving minutes, and
    those minutes are one stretch free of online consultations (nobody consults while driving)."""
    for eid, day, stops in c.day_stops():
        busy = [(v.start, v.end) for v in c.online(eid, day)]
        for a, b in zip(stops, stops[1:], strict=False):
            need = c.t.minutes(a.location, b.location)
            if b.start - a.end < need:
                yield violation("travel_between_stops", f"{a.request} ends {fmt_time(a.end)} at "
                         f"{a.location}, {b.request} starts {fmt_time(b.start)} at {b.location}: "
                         f"{b.start - a.end} min for a {need}-min drive", b.request, eid, day)
            elif need and _free_block(a.end, b.start, busy) < need:
                yield violation("online_while_driving", f"online consultations between {a.request} and "
                         f"{b.request} leave no {need}-min stretch to drive", b.request, eid, day)


def day_starts_and_ends_at_base(c: Context) -> Iterable[Violation]:
    """Each on-site day leaves the base (or the place of last night) no earlier than work
    starts and is back at the base (or at the place of the night) no later than work ends,
    with time to drive out to the first stop and on from the last, and no online consultation
    during those drives: leave ≥ work_start, leave + drive to first ≤ its start, last end +
    drive on ≤ return ≤ work_end (+ ``overtime.max_minutes``: ``day_end``). (A day away
    without stops: ``nights_away_kept``.)"""
    routes = c.route_of
    for eid, day, stops in c.day_stops():
        if not stops:
            continue
        e = c.p.expert_by_id[eid]
        first, last = stops[0], stops[-1]
        start_at, end_at = c.ends(eid, day)
        out = c.t.minutes(start_at, first.location)
        back = c.t.minutes(last.location, end_at)
        busy = [(v.start, v.end) for v in c.online(eid, day)]
        if first.start - out < e.work_start:
            yield violation("working_hours", f"the drive to {first.location} ({out} min) for "
                     f"{fmt_time(first.start)} means leaving before work starts "
                     f"{fmt_time(e.work_start)}", first.request, eid, day)
        elif out and _free_block(e.work_start, first.start, busy) < out:
            yield violation("online_while_driving", f"online consultations leave no {out}-min stretch "
                     f"to drive to {first.location}", first.request, eid, day)
        if last.end + back > e.day_end:
            yield violation("working_hours", f"the drive home from {last.location} ({back} min) after "
                     f"{fmt_time(last.end)} ends after work ends {fmt_time(e.day_end)}",
                     last.request, eid, day)
        elif back and _free_block(last.end, e.day_end, busy) < back:
            yield violation("online_while_driving", f"online consultations leave no {back}-min stretch "
                     f"to drive home from {last.location}", last.request, eid, day)
        r = routes.get((eid, day))
        if r is None:
            continue
        if r.leave < e.work_start:
            yield violation("route_hours", f"leaves {fmt_time(r.leave)}, before work starts "
                     f"{fmt_time(e.work_start)}", expert=eid, date=day)
        if r.leave + out > first.start:
            yield violation("route_hours", f"leaves {fmt_time(r.leave)} and needs {out} min to reach "
                     f"{first.location} for {fmt_time(first.start)}", first.request, eid, day)
        if r.return_ < last.end + back:
            yield violation("route_hours", f"back {fmt_time(r.return_)}, but {last.request} ends "
                     f"{fmt_time(last.end)} and the drive home takes {back} min",
                     last.request, eid, day)
        if r.return_ > e.day_end:
            yield violation("route_hours", f"back {fmt_time(r.return_)}, after work ends "
                     f"{fmt_time(e.day_end)}", expert=eid, date=day)
        for v in c.online(eid, day):
            for s, t, what in ((r.leave, r.leave + out, "out"),
                               (r.return_ - back, r.return_, "home")):
                if t > s and v.start < t and s < v.end:
                    yield violation("online_while_driving", f"online {v.request} {span(v)} falls in the "
                             f"route's drive {what} {fmt_time(s)}–{fmt_time(t)}", v.request, eid,
                             day)


def legs_driven_between_stops(c: Context) -> Iterable[Violation]:
    """Where a route says when each leg is driven (``departures``), the drives are real: one
    per leg, each leaves after the stop before it ends (the first after work starts) and
    arrives by the start of the stop after it (home by the end of work), no online consultation
    falls inside a drive, the route leaves with the first and is back when the last arrives."""
    days = {(eid, day): stops for eid, day, stops in c.day_stops()}
    for r in c.plan.routes:
        stops = days.get((r.expert, r.date))
        if not r.departures or stops is None or r.expert not in c.p.expert_by_id:
            continue
        e = c.p.expert_by_id[r.expert]
        legs = c.legs(r.expert, stops, r.date)
        if len(r.departures) != len(legs):
            yield violation("legs", f"{len(r.departures)} leg departures for {len(legs)} legs",
                     expert=r.expert, date=r.date)
            continue
        online = c.online(r.expert, r.date)
        for i, (dep, t) in enumerate(zip(r.departures, legs, strict=True)):
            after = e.work_start if i == 0 else stops[i - 1].end
            by = stops[i].start if i < len(stops) else e.day_end
            what = f"leg {i + 1} ({fmt_time(dep)}, {t} min)"
            if dep < after:
                yield violation("legs", f"{what} leaves before {fmt_time(after)}", expert=r.expert,
                         date=r.date)
            if dep + t > by:
                yield violation("legs", f"{what} arrives after {fmt_time(by)}", expert=r.expert,
                         date=r.date)
            for v in online:
                if t and v.start < dep + t and dep < v.end:
                    yield violation("online_while_driving", f"online {v.request} {span(v)} falls in "
                             f"{what}", v.request, r.expert, r.date)
        if r.leave != r.departures[0] or r.return_ != r.departures[-1] + legs[-1]:
            yield violation("legs", f"leave {fmt_time(r.leave)} / return {fmt_time(r.return_)} do not "
                     "match the first departure and the last arrival", expert=r.expert,
                     date=r.date)


def routes_agree_with_visits(c: Context) -> Iterable[Violation]:
    """The routes are the on-site visits seen per expert and date: exactly one route for each
    expert-date with on-site visits or standing appointments at a place (and one for each day
    that starts or ends away from the base, its stops possibly none), its stops the locations
    of both in start order, and its driving minutes the sum of the legs start → stops → end
    (the base unless away)."""
    days = {(eid, day): stops for eid, day, stops in c.day_stops()}
    seen: set[tuple[str, dt.date]] = set()
    for r in c.plan.routes:
        key = (r.expert, r.date)
        if key in seen:
            yield violation("routes", "two routes for the same expert and date", expert=r.expert,
                     date=r.date)
            continue
        seen.add(key)
        stops = days.get(key)
        if stops is None:
            yield violation("routes", "a route on a date without on-site visits or appointments at a place", expert=r.expert,
                     date=r.date)
            continue
        want = tuple(v.location for v in stops)
        if tuple(r.stops) != want:
            yield violation("routes", f"stops {list(r.stops)} but the visits in start order are at "
                     f"{list(want)}", expert=r.expert, date=r.date)
        drive = sum(c.legs(r.expert, stops, r.date))
        if r.drive_minutes != drive:
            yield violation("routes", f"drive_minutes {r.drive_minutes}, but the legs start → stops → "
                     f"end sum to {drive}", expert=r.expert, date=r.date)
    for key, stops in days.items():
        if key not in seen and stops:
            yield violation("routes", "on-site visits but no route", expert=key[0], date=key[1])
