"""How an expert's on-site day runs: its tour, its legs, and when each leg is driven.

FORMAT.md's day: an expert with on-site visits leaves the base no earlier than work starts,
drives to each stop in turn and back, and is home by the end of work. Each leg is one block of
its travel minutes, driven in one stretch (nobody consults while driving), placed anywhere
between the end of the stop before it (or the start of work) and the start of the stop after it
(or the end of work). The expert may wait anywhere and take online consultations anywhere
outside the drives: at the base before leaving, at a stop while waiting, back at the base.

Two pieces every solver here shares, so that the planner, its greedy first plan and the routes
written into a plan cannot disagree:

- ``leg_departures``: when each leg is driven, given the day's visits and online consultations,
  or ``None`` when the day cannot run that way;
- ``day_tours``: every order of stops an expert-day could drive within the stops' start windows,
  the working hours, the daily visit cap and the drive cap, with its driving minutes.

Examples
--------
>>> minutes = lambda a, b: 0 if a == b else 120
>>> leg_departures("base", [(720, 780, "far")], [(630, 690)], minutes, 480, 1080)
(510, 780)
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.model import PlanRequest, Route, Visit
from engine.travel import TravelTimes

__all__ = ["Candidate", "Tour", "build_routes", "day_tours", "free_start", "leg_departures"]

Minutes = Callable[[str, str], int]


def free_start(lo: int, hi: int, length: int, busy: Sequence[tuple[int, int]], *,
               latest: bool = False) -> int | None:
    """The earliest (``latest``: the latest) minute ``d`` with ``lo <= d``, ``d + length <= hi``
    and ``[d, d + length)`` clear of every ``busy`` interval (sorted by start), or ``None``.

    >>> free_start(480, 720, 120, [(630, 690)])
    480
    >>> free_start(480, 720, 120, [(630, 690)], latest=True)
    510
    >>> free_start(480, 720, 160, [(630, 690)]) is None
    True
    """
    if hi - lo < length:
        return None
    if length == 0:
        return hi if latest else lo
    gaps: list[tuple[int, int]] = []
    cur = lo
    for s, e in busy:
        if e <= cur:
            continue
        if s >= hi:
            break
        if s > cur:
            gaps.append((cur, s))
        cur = max(cur, e)
    if cur < hi:
        gaps.append((cur, hi))
    for a, b in (reversed(gaps) if latest else gaps):
        if b - a >= length:
            return b - length if latest else a
    return None


def leg_departures(base: str, stops: Sequence[tuple[int, int, str]],
                   online: Iterable[tuple[int, int]], minutes: Minutes, work_start: int,
                   work_end: int) -> tuple[int, ...] | None:
    """When each leg of an on-site day is driven (minutes after midnight), one per leg:
    base → first stop, each stop → the next, last stop → base; or ``None`` when the day cannot
    run: a leg finds no stretch of its travel minutes free of online consultations between the
    stop before it (or the start of work) and the stop after it (or the end of work).

    ``stops`` are ``(start, end, location)`` in visiting order. The expert leaves as late as
    possible, drives on as soon as each stop ends, and heads home as soon as possible (waiting,
    if need be, where online consultations leave no room to drive).
    """
    busy = sorted((s, e) for s, e in online if e > s)
    places = [base, *(loc for _, _, loc in stops), base]
    out: list[int] = []
    for i in range(len(stops) + 1):
        lo = work_start if i == 0 else stops[i - 1][1]
        hi = stops[i][0] if i < len(stops) else work_end
        d = free_start(lo, hi, minutes(places[i], places[i + 1]), busy, latest=i == 0)
        if d is None:
            return None
        out.append(d)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stop an expert-day might make: at ``location`` for ``duration`` minutes, starting
    between ``lo`` and ``hi`` (minutes after midnight)."""

    location: str
    duration: int
    lo: int
    hi: int


@dataclass(frozen=True, slots=True)
class Tour:
    """One way to drive an on-site day: candidate indices in visiting order, the driving
    minutes of base → stops → base, each stop's earliest start in that order (``starts``) and
    its latest start that still lets the rest of the tour fit (``latest``)."""

    order: tuple[int, ...]
    drive: int
    starts: tuple[int, ...]
    latest: tuple[int, ...] = ()

    def fits_beside(self, base: str, candidates: Sequence[Candidate], minutes: Minutes,
                    work_start: int, work_end: int, lo: int, hi: int, duration: int) -> bool:
        """Whether one more consultation of ``duration`` minutes, starting between ``lo`` and
        ``hi``, fits somewhere in this day beside the tour's drives and stops (at the base
        before leaving, between a drive and a stop, back at the base)."""
        places = [base, *(candidates[i].location for i in self.order), base]
        # the day's blocks in order: drive, stop, drive, ..., stop, drive home, as
        # (earliest end, latest start) of each
        blocks: list[tuple[int, int]] = []
        for i in range(len(self.order) + 1):
            leg = minutes(places[i], places[i + 1])
            before = work_start if i == 0 else self.starts[i - 1] + candidates[
                self.order[i - 1]].duration
            by = self.latest[i] if i < len(self.order) else work_end
            blocks.append((before + leg, by - leg))
            if i < len(self.order):
                c = candidates[self.order[i]]
                blocks.append((self.starts[i] + c.duration, self.latest[i]))
        for p in range(len(blocks) + 1):
            after = work_start if p == 0 else blocks[p - 1][0]
            until = work_end if p == len(blocks) else blocks[p][1]
            if max(after, lo) <= min(hi, until - duration):
                return True
        return False


def day_tours(base: str, candidates: Sequence[Candidate], minutes: Minutes, work_start: int,
              work_end: int, *, max_stops: int | None = None, max_drive: int | None = None,
              all_orders: bool = True, limit: int | None = None,
              lower: Minutes | None = None) -> list[Tour] | None:
    """Every tour of an expert-day that can be driven, ignoring online consultations: each stop
    starts within its window after the drives before it (leaving no earlier than work starts),
    the drive home ends by the end of work, at most ``max_stops`` stops and ``max_drive``
    minutes of driving. With ``all_orders`` false, only the cheapest order of each set of stops
    is kept (ties: the first found). ``None`` when there are more than ``limit`` tours.

    ``lower(a, b)`` is a lower bound on any way from ``a`` to ``b`` through the candidates
    (e.g. shortest paths) used to stop early when no return can fit the hours or the drive cap;
    without it nothing is cut early (``minutes`` itself is no lower bound when the matrix
    breaks the triangle inequality).
    """
    lower = lower or (lambda a, b: 0)
    k_max = len(candidates) if max_stops is None else min(max_stops, len(candidates))
    found: list[Tour] = []
    best: dict[frozenset[int], int] = {}

    def latest(order: tuple[int, ...]) -> tuple[int, ...]:
        out = []
        here, by = base, work_end
        for j in reversed(order):
            c = candidates[j]
            by = min(c.hi, by - minutes(c.location, here) - c.duration)
            out.append(by)
            here = c.location
        return tuple(reversed(out))

    def keep(order: tuple[int, ...], drive: int, starts: tuple[int, ...]) -> bool:
        if all_orders:
            found.append(Tour(order, drive, starts, latest(order)))
        else:
            key = frozenset(order)
            at = best.get(key)
            if at is None:
                best[key] = len(found)
                found.append(Tour(order, drive, starts, latest(order)))
            elif drive < found[at].drive:
                found[at] = Tour(order, drive, starts, latest(order))
        return limit is None or len(found) <= limit

    def extend(order: tuple[int, ...], starts: tuple[int, ...], here: str, clock: int,
               drive: int) -> bool:
        for j, c in enumerate(candidates):
            if j in order:
                continue
            leg = minutes(here, c.location)
            start = max(c.lo, clock + leg)
            if start > c.hi:
                continue
            end = start + c.duration
            so_far = drive + leg
            if end + lower(c.location, base) > work_end:
                continue
            if max_drive is not None and so_far + lower(c.location, base) > max_drive:
                continue
            back = minutes(c.location, base)
            nxt, nstarts = (*order, j), (*starts, start)
            if end + back <= work_end and (max_drive is None or so_far + back <= max_drive):
                if not keep(nxt, so_far + back, nstarts):
                    return False
            if len(nxt) < k_max and not extend(nxt, nstarts, c.location, end, so_far):
                return False
        return True

    if k_max <= 0:
        return []
    if not extend((), (), base, work_start, 0):
        return None
    return found


def build_routes(problem: PlanRequest, travel: TravelTimes, visits: list[Visit]) -> list[Route]:
    """Routes per expert and date from the on-site visits (in start order), each leg's
    departure placed by ``solvers.routes.leg_departures`` around the day's online
    consultations. A day that cannot run that way (an invalid set of visits) gets legs just in
    time and straight home, so that the checker names what is wrong."""
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    online: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for v in visits:
        for eid in v.experts:
            if v.mode == "onsite":
                per[eid, v.date].append(v)
            else:
                online[eid, v.date].append((v.start, v.end))
    routes = []
    for (eid, d), vs in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        vs.sort(key=lambda v: (v.start, v.end))
        e = problem.expert_by_id[eid]
        stops = [(v.start, v.end, v.location) for v in vs]
        path = [e.base, *(v.location for v in vs), e.base]
        legs = [travel.minutes(a, b) for a, b in itertools.pairwise(path)]
        deps = leg_departures(e.base, stops, online[eid, d], travel.minutes, e.work_start,
                              e.work_end)
        if deps is None:
            deps = (vs[0].start - legs[0], *(v.end for v in vs))
        routes.append(Route(eid, d, deps[0], deps[-1] + legs[-1], tuple(path[1:-1]), sum(legs),
                            tuple(deps)))
    return routes


def day_fits(base: str, stops: Sequence[Candidate], calls: Sequence[tuple[int, int, int]],
             minutes: Minutes, work_start: int, work_end: int) -> bool:
    """Whether one expert's day can run: the on-site ``stops`` in this order (each with its
    start window), and online ``calls`` given as ``(earliest start, latest start, duration)``,
    each anywhere outside the drives and within working hours (at the base before leaving, on
    arriving at a stop, after a stop, back at the base). Exact: a dynamic programme over the
    day's phases (at the base, arrived at stop i, done with stop i, home) and the set of calls
    already made, keeping the earliest time of each — a block placed as early as it can be is
    best for whatever follows.

    >>> minutes = lambda a, b: 0 if a == b else 120
    >>> day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 60)], minutes, 480, 1080)
    True
    >>> day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 150)], minutes, 480, 1080)
    False
    """
    n, k = len(calls), len(stops)
    places = [base, *(c.location for c in stops), base]
    # phases in order: 2i = set off towards stop i (or home when i == k), 2i + 1 = arrived at
    # stop i (not yet visited), 2k + 1 = home again
    phases = 2 * k + 2
    earliest: list[dict[int, int]] = [{} for _ in range(phases)]
    earliest[0][0] = work_start
    by_count = sorted(range(1 << n), key=lambda m: bin(m).count("1"))
    for ph in range(phases):
        table = earliest[ph]
        for placed in by_count:           # calls first: they keep the phase, add to the set
            t = table.get(placed)
            if t is None:
                continue
            for c, (lo, hi, dur) in enumerate(calls):
                if placed >> c & 1:
                    continue
                at = max(t, lo)
                if at <= hi and at + dur <= work_end and table.get(placed | 1 << c, 1 << 30) > at + dur:
                    table[placed | 1 << c] = at + dur
        if ph == phases - 1:
            break
        nxt = earliest[ph + 1]
        i = ph // 2
        for placed, t in table.items():
            if ph % 2 == 0:               # drive to stop i, or home when i == k
                arrive = t + minutes(places[i], places[i + 1])
                if arrive <= work_end and nxt.get(placed, 1 << 30) > arrive:
                    nxt[placed] = arrive
            else:                         # visit stop i
                stop = stops[i]
                start = max(t, stop.lo)
                if start <= stop.hi and nxt.get(placed, 1 << 30) > start + stop.duration:
                    nxt[placed] = start + stop.duration
    return (1 << n) - 1 in earliest[phases - 1]
