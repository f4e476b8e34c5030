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

from engine.calendar import appointments_at, calls_of
from engine.clock import grid_down, grid_up
from engine.model import Break, Expert, Lunch, PlanRequest, Route, Visit
from engine.nights import Nights, day_ends
from engine.travel import TravelTimes

__all__ = ["Candidate", "Minutes", "Nights", "Tour", "build_routes", "day_ends", "day_tours",
           "fits_in_gaps", "free_start", "leg_departures", "lunch_and_legs", "plan_breaks",
           "with_appointments"]

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
                   work_end: int, *, end: str | None = None) -> tuple[int, ...] | None:
    """When each leg of an on-site day is driven (minutes after midnight), one per leg:
    base → first stop, each stop → the next, last stop → base; or ``None`` when the day cannot
    run: a leg finds no stretch of its travel minutes free of online consultations between the
    stop before it (or the start of work) and the stop after it (or the end of work).

    ``stops`` are ``(start, end, location)`` in visiting order. The expert leaves as late as
    possible, drives on as soon as each stop ends, and heads home as soon as possible (waiting,
    if need be, where online consultations leave no room to drive). The day starts at
    ``base`` and ends at ``end`` (default ``base``): another place after or before a night
    away, when a day without stops still drives from one to the other.
    """
    busy = sorted((s, e) for s, e in online if e > s)
    places = [base, *(loc for _, _, loc in stops), end or base]
    out: list[int] = []
    for i in range(len(stops) + 1):
        lo = work_start if i == 0 else stops[i - 1][1]
        hi = stops[i][0] if i < len(stops) else work_end
        d = free_start(lo, hi, minutes(places[i], places[i + 1]), busy, latest=i == 0)
        if d is None:
            return None
        out.append(d)
    return tuple(out)


def lunch_and_legs(lunch: Lunch, base: str, stops: Sequence[tuple[int, int, str]],
                   online: Iterable[tuple[int, int]], minutes: Minutes, work_start: int,
                   work_end: int, paid_after: int | None = None, *, end: str | None = None
                   ) -> tuple[int, tuple[int, ...]] | None:
    """The earliest lunch break of an expert-day that leaves every leg its drive, and when each
    leg is then driven (``leg_departures`` with the break kept free; ``()`` on a day without
    stops), or ``None`` when no break fits: it starts in ``lunch.start``…``lunch.end −
    minutes`` and overlaps no consultation (``stops`` as ``(start, end, location)``, ``online``)
    and no drive. Where the day's minutes after ``paid_after`` are paid (overtime past
    ``work_end``) and that break brings the expert home after it, the break that brings them
    home earliest instead (the earliest of those). The day ends at ``end`` (default
    ``base``: a day with a night away drives even without stops).

    >>> minutes = lambda a, b: 0 if a == b else 60
    >>> lunch_and_legs(Lunch(45, 690, 810), "base", [(600, 720, "far")], [], minutes, 480, 1080)
    (720, (540, 765))
    """
    calls = [(s, e) for s, e in online if e > s]
    taken = sorted([*calls, *((s, e) for s, e, _ in stops)])
    t, last = lunch.start, lunch.end - lunch.minutes
    while t <= last:
        clash = next((e for s, e in taken if s < t + lunch.minutes and t < e), None)
        if clash is not None:
            t = clash                   # the first start after the consultation in the way
            continue
        if not stops and (end or base) == base:
            return t, ()
        deps = leg_departures(base, stops, [*calls, (t, t + lunch.minutes)], minutes,
                              work_start, work_end, end=end)
        if deps is not None:
            final = stops[-1][2] if stops else base
            if paid_after is None or deps[-1] + minutes(final, end or base) <= paid_after:
                return t, deps
            return _home_earliest(lunch, base, stops, calls, taken, minutes, work_start,
                                  work_end, t, deps, end)
        t += 1
    return None


def _home_earliest(lunch: Lunch, base: str, stops: Sequence[tuple[int, int, str]],
                   calls: list[tuple[int, int]], taken: list[tuple[int, int]],
                   minutes: Minutes, work_start: int, work_end: int, first: int,
                   deps: tuple[int, ...], end: str | None = None
                   ) -> tuple[int, tuple[int, ...]]:
    """Of the breaks from ``first`` on (the earliest that fits, with its legs ``deps``), the
    earliest of those after which the drive home ends soonest (``lunch_and_legs``)."""
    best = (deps[-1], first, deps)
    for t in range(first + 1, lunch.end - lunch.minutes + 1):
        if any(s < t + lunch.minutes and t < e for s, e in taken):
            continue
        got = leg_departures(base, stops, [*calls, (t, t + lunch.minutes)], minutes,
                             work_start, work_end, end=end)
        if got is not None and got[-1] < best[0]:
            best = (got[-1], t, got)
    return best[1], best[2]


def plan_breaks(problem: PlanRequest, travel: TravelTimes, visits: Iterable[Visit],
                nights: Nights | None = None) -> tuple[Break, ...]:
    """The lunch break of every expert with ``lunch`` on each date with any consultation,
    placed by ``lunch_and_legs`` (at the start of its window where none fits: an invalid
    day, which the checker then names), on the day's drives from and to the places of
    ``nights``."""
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    for v in visits:
        for eid in v.experts:
            if problem.expert_by_id[eid].lunch is not None:
                per[eid, v.date].append(v)
    out = []
    for (eid, d), vs in sorted(per.items()):
        e = problem.expert_by_id[eid]
        assert e.lunch is not None
        stops = with_appointments(problem, e, d, [(v.start, v.end, v.location) for v in vs
                                                   if v.mode == "onsite"])
        start_at, end_at = day_ends(e, d, nights)
        got = lunch_and_legs(e.lunch, start_at, stops,
                             [(v.start, v.end) for v in vs if v.mode != "onsite"]
                             + calls_of(e, d), travel.minutes, e.work_start,
                             e.day_end if stops else e.work_end, _paid_after(e), end=end_at)
        start = e.lunch.start if got is None else got[0]
        out.append(Break(eid, d, start, start + e.lunch.minutes))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stop an expert-day might make: at ``location`` for ``duration`` minutes, starting
    between ``lo`` and ``hi`` (minutes after midnight). ``fixed_time``: a standing appointment
    at a place (``lo == hi``), kept at its own minute, off the appointment grid too."""

    location: str
    duration: int
    lo: int
    hi: int
    fixed_time: bool = False


@dataclass(frozen=True, slots=True)
class Tour:
    """One way to drive an on-site day: candidate indices in visiting order, the driving
    minutes of base → stops → base, each stop's earliest start in that order (``starts``) and
    its latest start that still lets the rest of the tour fit (``latest``); from ``start_at``
    to ``end_at`` instead of the base around a night away (None: the base)."""

    order: tuple[int, ...]
    drive: int
    starts: tuple[int, ...]
    latest: tuple[int, ...] = ()
    start_at: str | None = None
    end_at: str | None = None

    def gaps(self, base: str, candidates: Sequence[Candidate], minutes: Minutes,
             work_start: int, work_end: int) -> tuple[tuple[int, int], ...]:
        """Where one more consultation may lie beside this tour's drives and stops, as
        ``(after, until)`` minutes: at the base before leaving, between a drive and a stop,
        back at the base (each block at its earliest end and latest start). The same for every
        consultation of the day, so worked out once per tour (``fits_in_gaps``)."""
        places = [self.start_at or base, *(candidates[i].location for i in self.order),
                  self.end_at or base]
        # the day's blocks in order (drive, stop, ..., stop, drive home): a gap runs from the
        # earliest end of one (or the start of work) to the latest start of the next
        ends, latest = [work_start], []
        for i in range(len(self.order) + 1):
            leg = minutes(places[i], places[i + 1])
            ends.append(ends[-1] + leg)
            latest.append((self.latest[i] if i < len(self.order) else work_end) - leg)
            if i < len(self.order):
                ends.append(self.starts[i] + candidates[self.order[i]].duration)
                latest.append(self.latest[i])
        return tuple(zip(ends, [*latest, work_end], strict=True))


def fits_in_gaps(gaps: Iterable[tuple[int, int]], lo: int, hi: int, duration: int, *,
                 grid: int = 1) -> bool:
    """Whether a consultation of ``duration`` minutes, starting between ``lo`` and ``hi`` on
    the appointment ``grid``, fits in one of the ``gaps`` beside a tour (``Tour.gaps``)."""
    return any(grid_up(max(after, lo), grid) <= min(hi, until - duration) for after, until in gaps)


def day_tours(base: str, candidates: Sequence[Candidate], minutes: Minutes, work_start: int,
              work_end: int, *, max_stops: int | None = None, max_drive: int | None = None,
              all_orders: bool = True, limit: int | None = None,
              lower: Minutes | None = None, grid: int = 1, start_at: str | None = None,
              end_at: str | None = None) -> list[Tour] | None:
    """Every tour of an expert-day that can be driven, ignoring online consultations: each stop
    starts within its window after the drives before it (leaving no earlier than work starts),
    on the appointment ``grid`` (a multiple of that many minutes),
    the drive home ends by the end of work, at most ``max_stops`` stops and ``max_drive``
    minutes of driving. With ``all_orders`` false, only the cheapest order of each set of stops
    is kept (ties: the first found). ``None`` when there are more than ``limit`` tours.

    ``lower(a, b)`` is a lower bound on any way from ``a`` to ``b`` through the candidates
    (e.g. shortest paths) used to stop early when no return can fit the hours or the drive cap;
    without it nothing is cut early (``minutes`` itself is no lower bound when the matrix
    breaks the triangle inequality). From ``start_at`` to ``end_at`` around a night away.
    """
    lower = lower or (lambda a, b: 0)
    home = end_at or base
    k_max = len(candidates) if max_stops is None else min(max_stops, len(candidates))
    found: list[Tour] = []
    best: dict[frozenset[int], int] = {}

    def latest(order: tuple[int, ...]) -> tuple[int, ...]:
        out = []
        here, by = home, work_end
        for j in reversed(order):
            c = candidates[j]
            by = min(c.hi, by - minutes(c.location, here) - c.duration)
            by = by if c.fixed_time else grid_down(by, grid)
            out.append(by)
            here = c.location
        return tuple(reversed(out))

    def keep(order: tuple[int, ...], drive: int, starts: tuple[int, ...]) -> bool:
        at = len(found) if all_orders else best.setdefault(frozenset(order), len(found))
        if at == len(found):
            found.append(Tour(order, drive, starts, latest(order), start_at, end_at))
        elif drive < found[at].drive:
            found[at] = Tour(order, drive, starts, latest(order), start_at, end_at)
        return limit is None or len(found) <= limit

    def extend(order: tuple[int, ...], starts: tuple[int, ...], here: str, clock: int,
               drive: int) -> bool:
        for j, c in enumerate(candidates):
            if j in order:
                continue
            leg = minutes(here, c.location)
            arrive = max(c.lo, clock + leg)
            start = arrive if c.fixed_time else grid_up(arrive, grid)
            if start > c.hi:
                continue
            end = start + c.duration
            so_far = drive + leg
            if end + lower(c.location, home) > work_end:
                continue
            if max_drive is not None and so_far + lower(c.location, home) > max_drive:
                continue
            back = minutes(c.location, home)
            nxt, nstarts = (*order, j), (*starts, start)
            if end + back <= work_end and (max_drive is None or so_far + back <= max_drive):
                if not keep(nxt, so_far + back, nstarts):
                    return False
            if len(nxt) < k_max and not extend(nxt, nstarts, c.location, end, so_far):
                return False
        return True

    if k_max <= 0:
        return []
    if not extend((), (), start_at or base, work_start, 0):
        return None
    return found


def with_appointments(problem: PlanRequest, e: Expert, d: dt.date,
                      stops: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The day's on-site ``stops`` ``(start, end, location)`` with the expert's standing
    appointments at a place (``busy[].at``, ``engine.calendar.appointments_at``) as stops fixed
    in time, in time order: the day's drives go around them."""
    return sorted([*stops, *((b.start, b.end, b.at or "")
                             for b in appointments_at(problem, e, d))])


def build_routes(problem: PlanRequest, travel: TravelTimes, visits: list[Visit],
                 nights: Nights | None = None) -> list[Route]:
    """Routes per expert and date from the on-site visits and the standing appointments at a
    place (in start order), each leg's departure placed by ``solvers.routes.leg_departures``
    around the day's online consultations. With ``nights`` a day starts where the night
    before was spent and ends where its own night is (``start_at``/``end_at``), and a day away
    without on-site visits gets a route of its one drive, within working hours. A day that
    cannot run that way (an invalid set of visits) gets legs just in time and straight on, so
    that the checker names what is wrong."""
    per: dict[tuple[str, dt.date], list[tuple[int, int, str]]] = defaultdict(list)
    online: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for v in visits:
        for eid in v.experts:
            if v.mode == "onsite":
                per[eid, v.date].append((v.start, v.end, v.location))
            else:
                online[eid, v.date].append((v.start, v.end))
    for e in problem.experts:
        for b in e.busy:
            if b.at is not None:
                per.setdefault((e.id, b.date), [])     # a day with an appointment drives
    for eid, d in nights or {}:
        per.setdefault((eid, d), [])
        per.setdefault((eid, d + dt.timedelta(days=1)), [])
    routes = []
    for (eid, d), vs in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        e = problem.expert_by_id[eid]
        route = _route(problem, travel, e, d, vs, online[eid, d], nights)
        if route is not None:
            routes.append(route)
    return routes


def _route(problem: PlanRequest, travel: TravelTimes, e: Expert, d: dt.date,
           vs: list[tuple[int, int, str]], online: list[tuple[int, int]],
           nights: Nights | None) -> Route | None:
    """One day's route (``build_routes``), None for a day that does not drive."""
    start_at, end_at = day_ends(e, d, nights)
    stops = with_appointments(problem, e, d, vs)
    if not stops and start_at == end_at == e.base:
        return None                     # an appointment on a date the expert does not work
    # a day away without stops drives within working hours (no overtime)
    day_end = e.day_end if stops else e.work_end
    path = [start_at, *(loc for _, _, loc in stops), end_at]
    legs = [travel.minutes(a, b) for a, b in itertools.pairwise(path)]
    lunch = e.lunch if vs or online else None   # due with a consultation only
    online = [*online, *calls_of(e, d)]         # a standing appointment: no driving in it
    deps = leg_departures(start_at, stops, online, travel.minutes, e.work_start, day_end,
                          end=end_at)
    if lunch is not None:
        got = lunch_and_legs(lunch, start_at, stops, online, travel.minutes, e.work_start,
                             day_end, _paid_after(e), end=end_at)
        deps = None if got is None else got[1]
    if deps is None:
        deps = (stops[0][0] - legs[0], *(end for _, end, _ in stops)) if stops \
            else (e.work_start,)
    return Route(e.id, d, deps[0], deps[-1] + legs[-1], tuple(path[1:-1]), sum(legs),
                 tuple(deps), None if start_at == e.base else start_at,
                 None if end_at == e.base else end_at)


def _paid_after(e: Expert) -> int | None:
    """The minute after which the expert's day is paid as overtime (None: it never is)."""
    return e.work_end if e.overtime is not None and e.overtime.max_minutes else None
