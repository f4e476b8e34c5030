"""What a part re-decides (``Neighbourhood``) and the sub-problem it solves (``sub_problem``):
the rest of the plan fixed around it, the budgets and floors it leaves.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from engine.model import (
    Expert,
    Fixed,
    Goals,
    Horizon,
    Location,
    PlanRequest,
    Request,
    Visit,
)
from engine.travel import MinutesMatrix, TravelTimes
from solvers.parts.series import cut_series

__all__ = [
    "Neighbourhood",
    "Part",
    "apportion",
    "as_fixed_visits",
    "month_cap",
    "month_of",
    "months_between",
    "share_coverage",
    "sub_problem",
]


@dataclass(frozen=True)
class Neighbourhood:
    """What one sub-problem re-decides: these experts' schedules on these dates (all dates when
    ``dates`` is None) and these requests (each served by the neighbourhood's experts or
    left out); everything else in the plan stays as it is."""

    name: str
    experts: frozenset[str]
    requests: frozenset[str]
    dates: tuple[dt.date, dt.date] | None = None
    #: the expert's total visits and on-site days this neighbourhood may use (None: the rest of
    #: the plan decides, as in a repair)
    budgets: dict[str, tuple[int | None, int | None]] | None = None
    weight: float = 1.0
    #: the expert's on-site days per calendar month (``"YYYY-MM"``) this neighbourhood may
    #: use (None: the month's cap less the days the rest of the plan uses in that month)
    months: dict[str, dict[str, int]] | None = None
    #: the coverage floors (location id → consultations) this neighbourhood is asked for
    #: (None: each floor less what the rest of the plan already counts there)
    coverage: dict[str, int] | None = None


@dataclass(frozen=True)
class Part:
    """A sub-problem ready to solve, with the neighbourhood it stands for."""

    hood: Neighbourhood
    problem: PlanRequest
    start: tuple[Visit, ...] = ()


def _field_order(q: Request, experts: Sequence[str], problem: PlanRequest) -> list[int] | None:
    """Which of the request's fields each expert covers (one each), or None."""
    n = len(q.fields)
    for perm in itertools.permutations(range(n), len(experts)):
        if all(q.fields[k] in problem.expert_by_id[e].fields
               for k, e in zip(perm, experts, strict=True)):
            return list(perm)
    return None


def sub_problem(problem: PlanRequest, hood: Neighbourhood, visits: Sequence[Visit] = (),
                travel: TravelTimes | None = None) -> PlanRequest:
    """The problem ``hood`` re-decides, with the rest of the plan ``visits`` fixed around it.

    - experts: the neighbourhood's, with its budgets, or else their caps less what their
      visits outside the neighbourhood's dates use;
    - requests: the neighbourhood's (dates narrowed to its dates), and as fixed visits
      (``requests[].fixed``) the visits of its experts on its dates that it does not
      re-decide — a joint visit with an expert outside keeps only the fields of those inside;
    - monthly caps: for each month the dates touch, the neighbourhood's share, or else the
      expert's cap less the on-site days the rest of the plan uses in that month;
    - locations: a location's daily cap less the most expert-visits others make there on one
      of its dates (conservative: a cap is one number for every date);
    - goals: the small-town bonus as it is; a location's coverage floor less the consultations
      the rest of the plan already counts there;
    - horizon and travel: the neighbourhood's dates (and what of them is published), and the
      minutes among its places.
    """
    lo, hi = hood.dates or (problem.horizon.start, problem.horizon.end)
    current = {v.request: v for v in visits}
    # a request whose visit has an expert outside stays as it is (its experts' links hold it)
    free = {rid for rid in hood.requests if rid in problem.request_by_id
            and (rid not in current or set(current[rid].experts) <= hood.experts)}

    def within(rid: str) -> bool:
        q = problem.request_by_id[rid]
        return q.latest >= lo and q.earliest <= hi and (
            q.fixed is None or lo <= q.fixed.date <= hi)

    free -= cut_series(problem, free, within)       # a series is re-decided whole or not
    experts = _experts_left(problem, hood, visits, lo, hi)
    requests = [replace(q, earliest=max(q.earliest, lo), latest=min(q.latest, hi))
                for q in problem.requests if q.id in free and within(q.id)]
    kept, outside_at = _kept_around(problem, hood, visits, free, lo, hi)
    requests += kept
    places = {e.base for e in experts} | {q.location for q in requests}
    places |= {b.at for e in experts for b in e.busy if b.at is not None}  # where they must be
    locations = _locations_narrowed(problem, places, outside_at)
    return PlanRequest(horizon=_horizon_within(problem.horizon, lo, hi),
                       locations=tuple(locations), experts=tuple(experts),
                       requests=tuple(requests), travel=_travel_among(problem, places),
                       objective=problem.objective, timezone=problem.timezone,
                       extra={"name": hood.name},
                       goals=_goals_left(problem, hood, visits, requests, locations))


def _experts_left(problem: PlanRequest, hood: Neighbourhood, visits: Sequence[Visit],
                  lo: dt.date, hi: dt.date) -> list[Expert]:
    """The neighbourhood's experts on its dates, each with its budgets (total visits, on-site
    days, each month's on-site days): the neighbourhood's, or else the caps less what the
    expert's visits outside the dates use; without nights away (a plan by parts makes day
    trips only: valid, though a night might have paid)."""
    used_total: dict[str, int] = defaultdict(int)
    used_days: dict[str, set[dt.date]] = defaultdict(set)
    for v in visits:
        if v.mode != "onsite" or lo <= v.date <= hi:
            continue
        for eid in v.experts:
            if eid in hood.experts:
                used_total[eid] += 1
                used_days[eid].add(v.date)
    experts: list[Expert] = []
    for e in problem.experts:
        if e.id not in hood.experts:
            continue
        if hood.budgets is not None and e.id in hood.budgets:
            total, days = hood.budgets[e.id]
        else:
            total = None if e.max_visits_total is None else max(
                0, e.max_visits_total - used_total[e.id])
            days = None if e.max_onsite_days is None else max(
                0, e.max_onsite_days - len(used_days[e.id]))
        own_days = None if e.days is None else tuple(d for d in e.days if lo <= d <= hi)
        by_month = dict(e.onsite_days_by_month)
        for key in months_between(lo, hi):
            cap = month_cap(e, key)
            if cap is None:
                continue
            if hood.months is not None and key in hood.months.get(e.id, {}):
                by_month[key] = hood.months[e.id][key]
            else:
                by_month[key] = max(0, cap - sum(
                    month_of(d) == key for d in used_days[e.id]))
        experts.append(replace(e, max_visits_total=total, max_onsite_days=days, days=own_days,
                               onsite_days_by_month=by_month,
                               busy=tuple(b for b in e.busy if lo <= b.date <= hi),
                               # a part plans day trips: its routes are read back base to
                               # base, and a window's border could cut a trip
                               overnight=None))
    return experts


def _kept_around(problem: PlanRequest, hood: Neighbourhood, visits: Sequence[Visit],
                 free: set[str], lo: dt.date, hi: dt.date
                 ) -> tuple[list[Request], dict[tuple[str, dt.date], int]]:
    """What the rest of the plan does on the dates: the visits of the neighbourhood's experts
    it keeps (as fixed requests, with the fields of those experts only), and the
    expert-visits of others at each place and date (which narrow the place's daily cap)."""
    kept: list[Request] = []
    outside_at: dict[tuple[str, dt.date], int] = defaultdict(int)
    for v in visits:
        if not lo <= v.date <= hi or v.request in free:
            continue
        q = problem.request_by_id[v.request]
        mine = [e for e in v.experts if e in hood.experts]
        if q.onsite:
            outside_at[q.location, v.date] += len(v.experts) - len(mine)
        order = _field_order(q, mine, problem) if mine else None
        if order is None:
            continue
        # (kept as it is: its series, if any, is not re-decided here)
        kept.append(replace(q, fields=tuple(q.fields[k] for k in order), earliest=v.date,
                            latest=v.date, fixed=Fixed(tuple(mine), v.date, v.start),
                            after=None))
    return kept, outside_at


def _locations_narrowed(problem: PlanRequest, places: set[str],
                        outside_at: Mapping[tuple[str, dt.date], int]) -> list[Location]:
    """The locations among ``places``, each with the expert-visits others make there on each
    date (``Location.taken``: its daily cap holds for those too)."""
    taken: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for (lid, d), n in sorted(outside_at.items()):
        if n > 0:
            taken[lid].append((d, n))
    locations: list[Location] = []
    for loc in problem.locations:
        if loc.id not in places:
            continue
        if loc.max_visits_per_day is not None and taken.get(loc.id):
            loc = replace(loc, taken=loc.taken + tuple(taken[loc.id]))
        locations.append(loc)
    return locations


def _horizon_within(h: Horizon, lo: dt.date, hi: dt.date) -> Horizon:
    """The horizon from ``lo`` to ``hi``: its blackouts and closures on those dates, what of
    them is published, and every other setting as it is (the appointment grid among them: a
    part planned off the grid would have its visits dropped where the parts are joined)."""
    published = h.published_until
    return replace(h, start=lo, end=hi,
                   blackouts=tuple(b for b in h.blackouts if lo <= b.date <= hi),
                   published_until=published if published is not None and published >= lo
                   else None,
                   closures=tuple(c for c in h.closures if lo <= c.date <= hi))


def _goals_left(problem: PlanRequest, hood: Neighbourhood, visits: Sequence[Visit],
                requests: Sequence[Request], locations: Sequence[Location]) -> Goals:
    """The goals as they are, but a location's coverage floor: the neighbourhood's share, or
    else the floor less the consultations the rest of the plan already counts there."""
    goals = problem.goals
    if goals.coverage is None:
        return goals
    cov = goals.coverage
    floors = cov.floors(problem)
    inside_ids = {q.id for q in requests}
    counted = Counter(problem.request_by_id[v.request].location for v in visits
                      if v.request not in inside_ids and v.mode in cov.modes)
    return replace(goals, coverage=replace(cov, overrides={
        loc.id: hood.coverage.get(loc.id, 0) if hood.coverage is not None
        else max(0, floors.get(loc.id, 0) - counted[loc.id]) for loc in locations}))


def share_coverage(problem: PlanRequest, hoods: list[Neighbourhood]) -> list[Neighbourhood]:
    """Parts solved side by side each ask for a share of a location's coverage floor, in
    proportion to the counted requests there each part holds (a floor of one: the part with
    the most), so that no two parts spend capacity on the same floor."""
    cov = problem.goals.coverage
    if cov is None:
        return hoods
    floors = cov.floors(problem)
    held = [Counter(problem.request_by_id[r].location for r in h.requests
                    if r in problem.request_by_id
                    and problem.request_by_id[r].mode in cov.modes) for h in hoods]
    shares: list[dict[str, int]] = [{} for _ in hoods]
    for lid, floor in floors.items():
        for i, n in enumerate(apportion(floor, [c[lid] for c in held])):
            if n:
                shares[i][lid] = n
    return [replace(h, coverage=shares[i]) for i, h in enumerate(hoods)]


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` in whole numbers that add up to it
    (largest remainders; nothing to a zero weight; all of it lost only if every weight is 0).

    >>> apportion(5, [1, 1, 2])
    [1, 1, 3]
    """
    w = sum(weights)
    if w <= 0:
        return [0] * len(weights)
    raw = [total * x / w for x in weights]
    out = [math.floor(r + 1e-9) for r in raw]
    left = total - sum(out)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))[:left]:
        out[i] += 1
    return out


def month_of(d: dt.date) -> str:
    """The month key of ``Expert.onsite_days_by_month`` (``"YYYY-MM"``) a date falls in."""
    return f"{d.year:04d}-{d.month:02d}"


def month_cap(e: Expert, key: str) -> int | None:
    """``e``'s cap on on-site dates in the month ``key`` (``"YYYY-MM"``)."""
    return e.month_cap(int(key[:4]), int(key[5:]))


def months_between(lo: dt.date, hi: dt.date) -> list[str]:
    """The calendar months (``"YYYY-MM"``) from ``lo`` to ``hi``.

    >>> months_between(dt.date(2026, 11, 30), dt.date(2027, 1, 1))
    ['2026-11', '2026-12', '2027-01']
    """
    out = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _travel_among(problem: PlanRequest, places: set[str]) -> Mapping[str, Mapping[str, int]]:
    """The given minutes among ``places`` only (what a sub-problem carries to its worker)."""
    t = problem.travel
    if isinstance(t, MinutesMatrix):
        return t.restrict(sorted(places))
    return {a: {b: v for b, v in row.items() if b in places}
            for a, row in t.items() if a in places}


def as_fixed_visits(sub: PlanRequest) -> list[Visit]:
    """The visits the fixed requests of ``sub`` stand for (as they are kept)."""
    out = []
    for q in sub.requests:
        if q.fixed is not None:
            f = q.fixed
            out.append(Visit(q.id, f.experts, q.location, q.mode, f.date, f.start,
                             f.start + q.duration_min))
    return out
