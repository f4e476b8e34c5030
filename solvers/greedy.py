"""A quick first plan: requests placed one at a time, highest priority first, each where it
adds the least driving, without ever breaking a rule.

It serves two purposes: a complete hint that lets CP-SAT start from a good plan at once, and
a valid plan to return when the solver finds none within its time limit. Starts lie on a
5-minute grid (besides the exact window edges). With a previous plan, its visits are placed
first, as they were, wherever they still fit.

Examples
--------
>>> visits = greedy_visits(problem, TravelTimes(problem), Explainer(problem, tt).options)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.calendar import calls_of, keep_out
from engine.clock import grid_up
from engine.kpis import served_value
from engine.model import Plan, PlanRequest, Request, Visit
from engine.travel import TravelTimes
from solvers.explain import Option
from solvers.routes import Nights, day_ends, leg_departures, lunch_and_legs, with_appointments

__all__ = ["greedy_visits", "keep_fitting", "keeps_series", "series_order"]

_GRID = 5


@dataclass
class _Stop:
    start: int
    end: int
    location: str
    request: str


@dataclass
class _Day:
    onsite: list[_Stop] = field(default_factory=list)
    online: list[tuple[int, int]] = field(default_factory=list)
    drive: int = 0


class _State:
    """Every expert-day's schedule and the counters the caps need."""

    def __init__(self, problem: PlanRequest, travel: TravelTimes, *, overtime: bool = False,
                 nights: Nights | None = None):
        self.p = problem
        self.t = travel.minutes
        #: nights already spent away (a repair's history): the day after starts there
        self.nights = nights or {}
        #: days may end past work_end by the experts' overtime (else by work_end: the first
        #: plan pays no overtime, which its placing does not weigh)
        self.overtime = overtime
        self.days: dict[tuple[str, dt.date], _Day] = defaultdict(_Day)
        self.total: dict[str, int] = defaultdict(int)
        self.onsite_days: dict[str, set[dt.date]] = defaultdict(set)
        self.loc_day: dict[tuple[str, dt.date], int] = defaultdict(int)

    def _route(self, eid: str, d: dt.date, stops: list[_Stop],
               online: list[tuple[int, int]]) -> int | None:
        """The day's driving if its on-site stops (in start order) and online consultations
        fit together, else None: no consultation overlaps another, and every leg finds its
        stretch of driving free of online consultations within the hours
        (``solvers.routes.leg_departures``, the rule the planner's routes use too), and an
        expert with ``lunch`` finds a break besides (``solvers.routes.lunch_and_legs``). The
        expert's standing appointments that day are calls fixed in time (``calls_of``) or, at a
        place, stops fixed in time (``with_appointments``). A day after a night of ``nights``
        starts there, and one before such a night ends there (``day_ends``)."""
        e = self.p.expert_by_id[eid]
        lunch = e.lunch if stops or online else None    # due with a consultation only
        online = [*online, *calls_of(e, d)]
        legs = with_appointments(self.p, e, d, [(s.start, s.end, s.location) for s in stops])
        start_at, end_at = day_ends(e, d, self.nights)
        if not legs and start_at == end_at and (lunch is None or not online):
            return 0
        if any(_overlap((s, t), o) for s, t, _ in legs for o in online):
            return None
        # a day away without stops drives between its nights within working hours
        end = e.day_end if self.overtime and (legs or start_at == end_at) else e.work_end
        if lunch is not None:
            if lunch_and_legs(lunch, start_at, legs, online, self.t, e.work_start,
                              end, end=end_at) is None:
                return None
        elif leg_departures(start_at, legs, online, self.t, e.work_start, end,
                            end=end_at) is None:
            return None
        path = [start_at, *(loc for _, _, loc in legs), end_at]
        return sum(self.t(a, b) for a, b in itertools.pairwise(path))

    def try_place(self, q: Request, eid: str, d: dt.date, start: int) -> int | None:
        """Extra driving if ``eid`` can take ``q`` on ``d`` at ``start``, else None."""
        e = self.p.expert_by_id[eid]
        day = self.days[eid, d]
        end = start + q.duration_min
        if start % self.p.horizon.start_grid_min:
            return None         # off the appointment grid
        if any(_overlap((start, end), x) for x in keep_out(self.p, q, (eid,), d)):
            return None
        past = self.p.horizon.history_until
        if q.fixed is None and past is not None and past.date() == d:
            now = past.hour * 60 + past.minute
            before = [s for s in day.onsite if s.start < start]
            here = max(before, key=lambda s: s.start).location if before \
                else day_ends(e, d, self.nights)[0]
            if start < now or (q.onsite and start < now + self.t(here, q.location)):
                return None
        if q.onsite:
            if e.max_visits_per_day is not None and len(day.onsite) >= e.max_visits_per_day:
                return None
            if e.max_visits_total is not None and self.total[eid] >= e.max_visits_total:
                return None
            if (e.max_onsite_days is not None and d not in self.onsite_days[eid]
                    and len(self.onsite_days[eid]) >= e.max_onsite_days):
                return None
            month_cap = e.month_cap(d.year, d.month)
            if (month_cap is not None and d not in self.onsite_days[eid]
                    and sum((x.year, x.month) == (d.year, d.month) for x in self.onsite_days[eid])
                    >= month_cap):
                return None
            stops = sorted([*day.onsite, _Stop(start, end, q.location, q.id)],
                           key=lambda s: s.start)
            drive = self._route(eid, d, stops, day.online)
            if drive is None:
                return None
            if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
                return None
            return drive - (day.drive if day.onsite else self._route(eid, d, [], []) or 0)
        if any(_overlap((start, end), o) for o in day.online):
            return None
        if any(_overlap((start, end), (s.start, s.end)) for s in day.onsite):
            return None
        if self._route(eid, d, day.onsite, [*day.online, (start, end)]) is None:
            return None
        return 0

    def place(self, q: Request, eid: str, d: dt.date, start: int) -> None:
        day = self.days[eid, d]
        if q.onsite:
            day.onsite = sorted([*day.onsite, _Stop(start, start + q.duration_min, q.location,
                                                    q.id)], key=lambda s: s.start)
            drive = self._route(eid, d, day.onsite, day.online)
            assert drive is not None
            day.drive = drive
            self.total[eid] += 1
            self.onsite_days[eid].add(d)
            self.loc_day[q.location, d] += 1
        else:
            day.online.append((start, start + q.duration_min))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _starts(lo: int, hi: int, grid: int) -> Iterable[int]:
    """Starts to try between ``lo`` and ``hi`` (both on the appointment ``grid``): both ends
    and every multiple of ``_GRID`` that is also on the grid."""
    step = math.lcm(_GRID, grid)
    first = grid_up(lo, step)
    yield lo
    yield from (s for s in range(first, hi + 1, step) if s != lo)
    if hi != lo and hi % step:
        yield hi


def _assignments(q: Request, opts: list[Option]) -> Iterable[tuple[dt.date, tuple[Option, ...]]]:
    """(date, one option per field with distinct experts) combinations."""
    by_date: dict[dt.date, list[Option]] = defaultdict(list)
    for o in opts:
        by_date[o.date].append(o)
    for d in sorted(by_date):
        per_slot = [[o for o in by_date[d] if k in o.slots] for k in range(len(q.fields))]
        for combo in itertools.product(*per_slot):
            if len({o.expert for o in combo}) == len(combo):
                yield d, combo


def greedy_visits(problem: PlanRequest, travel: TravelTimes,
                  options: Mapping[str, list[Option]], previous: Plan | None = None, *,
                  until: float | None = None, nights: Nights | None = None) -> list[Visit]:
    """A valid set of visits built greedily (see module docstring), days run around ``nights``
    (spent away: a repair's history). With ``until`` (a ``time.perf_counter()`` reading) it
    places no further request after that moment, except the published visits and the last
    plan's, which it always keeps where they fit: a first plan on the clock to improve on."""
    st = _State(problem, travel, nights=nights)
    placed: dict[str, Visit] = {}

    def commit(q: Request, d: dt.date, experts: tuple[str, ...], start: int) -> None:
        for eid in experts:
            st.place(q, eid, d, start)
        placed[q.id] = Visit(q.id, experts, q.location, q.mode, d, start, start + q.duration_min)

    def fits(q: Request, d: dt.date, combo: tuple[Option, ...], start: int) -> int | None:
        loc = problem.location_by_id[q.location]
        cap = loc.cap_on(d)
        if q.onsite and cap is not None and st.loc_day[q.location, d] + len(combo) > cap:
            return None
        extra = 0
        for o in combo:
            x = st.try_place(q, o.expert, d, start)
            if x is None:
                return None
            extra += x
        return extra

    reqs = problem.request_by_id
    # 1. published visits as fixed; 2. last plan's visits as they were.
    wanted: list[tuple[Request, dt.date, tuple[str, ...], int]] = []
    for q in problem.requests:
        if q.fixed is not None:
            wanted.append((q, q.fixed.date, q.fixed.experts, q.fixed.start))
    if previous is not None:
        for v in previous.visits:
            pq = reqs.get(v.request)
            if pq is not None and pq.fixed is None:
                wanted.append((pq, v.date, tuple(v.experts), v.start))
    order = series_order(problem)
    wanted.sort(key=lambda w: order[w[0].id][1])      # a series' first visits first
    for q, d, experts, start in wanted:
        opts = {(o.expert, o.date): o for o in options.get(q.id, [])}
        combo = tuple(opts.get((eid, d)) for eid in experts)
        if q.id in placed or len(experts) != len(q.fields) or None in combo \
                or not keeps_series(q, d, experts, placed):
            continue
        chosen = tuple(o for o in combo if o is not None)
        if not _covers(q, chosen) or not all(o.lo <= start <= o.hi for o in chosen):
            continue
        if fits(q, d, chosen, start) is not None:
            commit(q, d, experts, start)
    # 3. the rest, highest priority first, fewest options first among equals.
    rest = sorted((q for q in problem.requests if q.id not in placed and options.get(q.id)),
                  key=lambda q: (order[q.id], len(options[q.id]), q.id))
    for q in rest:
        if until is not None and time.perf_counter() > until:
            break
        best: tuple[int, dt.date, int, tuple[str, ...]] | None = None
        for d, combo in _assignments(q, options[q.id]):
            if not keeps_series(q, d, tuple(o.expert for o in combo), placed):
                continue
            # a date after the request's due date costs late_day a day: never more than it is worth
            late = problem.objective.late_day * q.days_late(d)
            if late and late >= served_value(problem, q):
                continue
            lo = max(o.lo for o in combo)
            hi = min(o.hi for o in combo)
            for start in _starts(lo, hi, problem.horizon.start_grid_min):
                extra = fits(q, d, combo, start)
                if extra is not None:
                    key = (problem.objective.drive_minute * extra + late, d, start,
                           tuple(o.expert for o in combo))
                    if best is None or key < best:
                        best = key
                    break
        if best is not None:
            _, d, start, experts = best
            commit(q, d, experts, start)
    return [placed[q.id] for q in problem.requests if q.id in placed]


def series_order(problem: PlanRequest) -> dict[str, tuple[int, int]]:
    """Request id → its place in the greedy order: highest priority first, where a request
    that starts a follow-up series (``requests[].after``) counts with the highest priority of
    the series after it, and comes before its follow-ups (fewer predecessors first)."""
    reqs = problem.request_by_id
    followers: dict[str, list[str]] = defaultdict(list)
    for q in problem.requests:
        if q.after is not None and q.after.request in reqs:
            followers[q.after.request].append(q.id)

    def best(rid: str, seen: frozenset[str] = frozenset()) -> int:
        return max([reqs[rid].priority, *(best(f, seen | {rid}) for f in followers[rid]
                                          if f not in seen)])

    def depth(rid: str) -> int:
        n, cur = 0, reqs[rid]
        while cur.after is not None and cur.after.request in reqs and n < len(reqs):
            n, cur = n + 1, reqs[cur.after.request]
        return n

    return {q.id: (-best(q.id), depth(q.id)) for q in problem.requests}


def keeps_series(q: Request, d: dt.date, experts: tuple[str, ...],
                 placed: Mapping[str, Visit]) -> bool:
    """Whether ``q`` on ``d`` by ``experts`` keeps its follow-up series with the visits
    ``placed`` so far: the visit it follows is placed, the gap in calendar days is within
    ``min_days``–``max_days``, and the experts are the same when the series asks."""
    a = q.after
    if a is None:
        return True
    if a.date is not None:                  # the visit it follows was made before the plan
        first_date, first_experts = a.date, a.experts
    elif a.request in placed:
        first_date, first_experts = placed[a.request].date, placed[a.request].experts
    else:
        return False
    if not a.allows((d - first_date).days):
        return False
    return not a.same_experts or set(experts) == set(first_experts)


def _covers(q: Request, combo: tuple[Option, ...]) -> bool:
    """Can these experts, one each, cover the request's fields in order of the combo?"""
    n = len(q.fields)
    return any(all(k in o.slots for k, o in zip(perm, combo, strict=True))
               for perm in itertools.permutations(range(n)))


def keep_fitting(problem: PlanRequest, travel: TravelTimes, visits: Iterable[Visit],
                 nights: Nights | None = None) -> tuple[list[Visit], list[Visit]]:
    """The visits, in the order given, that fit together, and those that do not: a visit is
    kept when, beside the ones kept before it, it breaks none of the rules that tie visits to
    one another (an expert's one thing at a time, the drives between stops, the day's hours,
    every cap, the location's visits a day). The rules about a visit alone (its expert's
    fields and workable dates, its hours and window) are taken as checked by whoever made it:
    this joins plans of parts of a problem (``solvers.parts``), each valid on its own. The
    days run around ``nights`` (``greedy_visits``)."""
    st = _State(problem, travel, overtime=True, nights=nights)  # days may run late, paid
    kept: list[Visit] = []
    dropped: list[Visit] = []
    seen: set[str] = set()
    for v in visits:
        q = problem.request_by_id[v.request]
        loc = problem.location_by_id[q.location]
        cap = loc.cap_on(v.date)
        ok = v.request not in seen and not (
            q.onsite and cap is not None and st.loc_day[q.location, v.date] + len(v.experts) > cap)
        if ok:
            for eid in v.experts:
                if st.try_place(q, eid, v.date, v.start) is None:
                    ok = False
                    break
        if ok:
            for eid in v.experts:
                st.place(q, eid, v.date, v.start)
            seen.add(v.request)
            kept.append(v)
        else:
            dropped.append(v)
    return _drop_broken_series(problem, kept, dropped)


def _drop_broken_series(problem: PlanRequest, kept: list[Visit], dropped: list[Visit]
                        ) -> tuple[list[Visit], list[Visit]]:
    """Moves to ``dropped`` every kept follow-up whose series no longer holds (the visit it
    follows was dropped, or stands where the gap or the experts break), until none is left."""
    while True:
        by_request = {v.request: v for v in kept}
        broken = [v for v in kept if not keeps_series(
            problem.request_by_id[v.request], v.date, v.experts, by_request)]
        if not broken:
            return kept, dropped
        kept = [v for v in kept if v not in broken]
        dropped = [*dropped, *broken]
