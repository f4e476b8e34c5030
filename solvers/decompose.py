"""Large problems solved by parts: split, solve the parts in parallel, join, repair.

One machinery, two ways to split (``Split``):

- ``RegionSplit`` — country scale: regions are clusters of the experts' bases by driving
  minutes; each request goes to the nearest region whose experts have its fields; a part is a
  region's experts and requests. Neighbourhoods for the repair are pairs of nearby regions,
  so that experts near a border serve requests across it.
- ``WindowSplit`` — long horizons: parts are windows of a few weeks with all experts; an
  expert's budgets over the horizon (total visits, on-site days, each month's on-site days)
  are shared between the windows in proportion to the expert's workable days in each. Neighbourhoods are pairs of
  adjacent windows, with the budgets left by the rest of the plan.

``solve_by_parts`` then

1. solves every part with the part solver it is given (``solvers.planner.solve_part``: one
   model) through the executor that plan jobs and scenario sweeps share
   (``solvers.executor``: local processes, a Dask cluster, or serial),
   each part with its share of the time and a deterministic time limit;
2. joins the parts' plans into one (``join``: every visit that fits beside those before it;
   parts that do not answer in time are replaced by their greedy first plan, made here);
3. repairs across borders by large-neighbourhood search: each round re-solves disjoint
   neighbourhoods (sets of experts, requests and dates) with everything else fixed, in
   parallel, and keeps a neighbourhood's new plan only when it is better — so a valid plan
   is held at every moment;
4. reports an honest upper bound: an LP relaxation of the whole problem solved once
   (``relaxation_bound``), and the gap, in ``plan.solver``.

What is decided outside a sub-problem stays decided inside it: ``sub_problem`` keeps the
visits of its experts that it does not re-decide as fixed visits (``requests[].fixed``),
narrows a location's daily cap by the visits others make there, and gives each expert the
budget the rest of the plan leaves.

The rule for ``solve(..., decompose="auto")``: by parts when the problem has more than
``PART_REQUESTS`` × 2 requests, or more than 40 experts, or more than 200,000 possible
(request, expert, date) combinations — beyond that, one CP-SAT model takes longer to build
than a plan by parts takes to make (benchmarks/README.md, "Country scale").

Examples
--------
>>> plan = solve(problem, SolveOptions(time_limit=60, decompose="always"))   # doctest: +SKIP
>>> plan.solver["parts"], plan.solver["gap"]                                   # doctest: +SKIP
(21, 0.031)
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from engine.calendar import date_status
from engine.errors import InputError, Problem
from engine.kpis import plan_kpis
from engine.model import (
    Expert,
    Fixed,
    Horizon,
    Location,
    Plan,
    PlanRequest,
    Request,
    Status,
    Unscheduled,
    Visit,
)
from engine.travel import MinutesMatrix, TravelTimes
from solvers.executor import Executor, FutureLike, make_executor
from solvers.explain import Explainer, bare_reason
from solvers.greedy import greedy_visits, keep_fitting
from solvers.objective import objective_value, served_value, trivial_bound
from solvers.options import SolveOptions
from solvers.routes import build_routes

__all__ = [
    "PART_REQUESTS",
    "PartSolver",
    "Neighbourhood",
    "Part",
    "RegionSplit",
    "Split",
    "WindowSplit",
    "default_split",
    "join",
    "needs_parts",
    "relaxation_bound",
    "solve_by_parts",
    "sub_problem",
]

#: Requests a part aims at: small enough that its model is built and searched in seconds.
PART_REQUESTS = 120


def needs_parts(problem: PlanRequest) -> bool:
    """Whether ``solve`` should go by parts (the rule in the module docstring)."""
    n_req, n_exp = len(problem.requests), len(problem.experts)
    if n_req > 2 * PART_REQUESTS or n_exp > 40:
        return True
    days = (problem.horizon.end - problem.horizon.start).days + 1
    by_field: dict[str, int] = defaultdict(int)
    for e in problem.experts:
        for f in e.fields:
            by_field[f] += 1
    combos = sum(max((by_field.get(f, 0) for f in q.fields), default=0) for q in problem.requests)
    return combos * days > 200_000


# ---------------------------------------------------------------------- parts and sub-problems

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
    import itertools

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
    inside = hood.experts

    def on_dates(v: Visit) -> bool:
        return lo <= v.date <= hi

    current = {v.request: v for v in visits}
    # a request whose visit has an expert outside stays as it is (its experts' links hold it)
    free = {rid for rid in hood.requests if rid in problem.request_by_id
            and (rid not in current or set(current[rid].experts) <= inside)}
    experts: list[Expert] = []
    used_total: dict[str, int] = defaultdict(int)
    used_days: dict[str, set[dt.date]] = defaultdict(set)
    for v in visits:
        if v.mode != "onsite" or on_dates(v):
            continue
        for eid in v.experts:
            if eid in inside:
                used_total[eid] += 1
                used_days[eid].add(v.date)
    for e in problem.experts:
        if e.id not in inside:
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
        for key in _months(lo, hi):
            cap = _month_cap(e, key)
            if cap is None:
                continue
            if hood.months is not None and key in hood.months.get(e.id, {}):
                by_month[key] = hood.months[e.id][key]
            else:
                by_month[key] = max(0, cap - sum(
                    _month_of(d) == key for d in used_days[e.id]))
        experts.append(replace(e, max_visits_total=total, max_onsite_days=days, days=own_days,
                               onsite_days_by_month=by_month))
    requests: list[Request] = []
    for q in problem.requests:
        if q.id not in free or q.latest < lo or q.earliest > hi:
            continue
        if q.fixed is not None and not lo <= q.fixed.date <= hi:
            continue
        requests.append(replace(q, earliest=max(q.earliest, lo), latest=min(q.latest, hi)))
    # what the rest of the plan does on these dates: the visits of these experts it keeps
    # (fixed), and the expert-visits of others at each place (narrowing its daily cap)
    outside_at: dict[tuple[str, dt.date], int] = defaultdict(int)
    for v in visits:
        if not on_dates(v) or v.request in free:
            continue
        q = problem.request_by_id[v.request]
        mine = [e for e in v.experts if e in inside]
        if q.onsite:
            outside_at[q.location, v.date] += len(v.experts) - len(mine)
        order = _field_order(q, mine, problem) if mine else None
        if order is None:
            continue
        requests.append(replace(q, fields=tuple(q.fields[k] for k in order), earliest=v.date,
                                latest=v.date, fixed=Fixed(tuple(mine), v.date, v.start)))
    places = {e.base for e in experts} | {q.location for q in requests}
    locations: list[Location] = []
    for loc in problem.locations:
        if loc.id not in places:
            continue
        if loc.max_visits_per_day is not None:
            busiest = max((n for (lid, _d), n in outside_at.items() if lid == loc.id), default=0)
            loc = replace(loc, max_visits_per_day=max(0, loc.max_visits_per_day - busiest))
        locations.append(loc)
    published = problem.horizon.published_until
    horizon = Horizon(lo, hi, problem.horizon.skip_holidays,
                      tuple(b for b in problem.horizon.blackouts if lo <= b.date <= hi),
                      published_until=published if published is not None and published >= lo
                      else None, history_until=problem.horizon.history_until,
                      closures=tuple(c for c in problem.horizon.closures if lo <= c.date <= hi))
    goals = problem.goals
    if goals.coverage is not None:
        cov = goals.coverage
        floors = cov.floors(problem)
        inside_ids = {q.id for q in requests}
        counted = Counter(problem.request_by_id[v.request].location for v in visits
                          if v.request not in inside_ids and v.mode in cov.modes)
        goals = replace(goals, coverage=replace(cov, overrides={
            loc.id: hood.coverage.get(loc.id, 0) if hood.coverage is not None
            else max(0, floors.get(loc.id, 0) - counted[loc.id]) for loc in locations}))
    return PlanRequest(horizon=horizon, locations=tuple(locations), experts=tuple(experts),
                       requests=tuple(requests), travel=_travel_among(problem, places),
                       objective=problem.objective, timezone=problem.timezone,
                       extra={"name": hood.name}, goals=goals)


def _share_coverage(problem: PlanRequest, hoods: list[Neighbourhood]) -> list[Neighbourhood]:
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
        for i, n in enumerate(_apportion(floor, [c[lid] for c in held])):
            if n:
                shares[i][lid] = n
    return [replace(h, coverage=shares[i]) for i, h in enumerate(hoods)]


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` in whole numbers that add up to it
    (largest remainders; nothing to a zero weight; all of it lost only if every weight is 0)."""
    w = sum(weights)
    if w <= 0:
        return [0] * len(weights)
    raw = [total * x / w for x in weights]
    out = [math.floor(r + 1e-9) for r in raw]
    left = total - sum(out)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))[:left]:
        out[i] += 1
    return out


def _month_of(d: dt.date) -> str:
    """The month key of ``Expert.onsite_days_by_month`` (``"YYYY-MM"``) a date falls in."""
    return f"{d.year:04d}-{d.month:02d}"


def _month_cap(e: Expert, key: str) -> int | None:
    """``e``'s cap on on-site dates in the month ``key`` (``"YYYY-MM"``)."""
    return e.month_cap(int(key[:4]), int(key[5:]))


def _months(lo: dt.date, hi: dt.date) -> list[str]:
    """The calendar months (``"YYYY-MM"``) from ``lo`` to ``hi``."""
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


# ---------------------------------------------------------------------- joining plans

def join(problem: PlanRequest, travel: TravelTimes, visits: Iterable[Visit]) -> list[Visit]:
    """One set of visits from the parts' plans: each visit kept when it fits beside those
    kept before it (``solvers.greedy.keep_fitting``), in the order given; a request is
    served once."""
    kept, _dropped = keep_fitting(problem, travel, visits)
    return kept


def _objective(problem: PlanRequest, travel: TravelTimes, visits: Sequence[Visit]) -> int:
    return objective_value(problem, list(visits), build_routes(problem, travel, list(visits)))


# ---------------------------------------------------------------------- ways to split

class Split(Protocol):
    """How to cut a problem: the parts solved first, and the neighbourhoods of each repair
    round given the plan so far (``round`` counts from 0)."""

    name: str
    #: the share of the time limit after which no repair round starts (the rest is for the
    #: reasons of the requests left out; 0.8 when a split does not say)
    repair_until: float
    #: a repair round's deterministic time, as a share of the time limit (0.5 when a split
    #: does not say)
    round_share: float

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]: ...

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]: ...


@dataclass
class RegionSplit:
    """Regions: clusters of the experts' bases by round-trip driving minutes (k-medoids from
    farthest-point seeds), about ``target`` requests each (a region with over 1.6 times as
    many is cut in two by its bases); each request goes to the nearest region (by its nearest
    base) with, for each of its fields, an expert who can reach it and back within a working
    day and the daily drive cap (the nearest region when none can)."""

    target: int = PART_REQUESTS
    name: str = "regions"
    #: many experts leave many reasons to find in the last fifth of the time
    repair_until: float = 0.8
    round_share: float = 0.5
    region_of_expert: dict[str, int] = field(default_factory=dict)
    region_of_request: dict[str, int] = field(default_factory=dict)
    near: list[list[int]] = field(default_factory=list)
    _trip: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    _col: dict[str, int] = field(default_factory=dict, repr=False)
    _bpos: dict[str, int] = field(default_factory=dict, repr=False)
    _reach: dict[tuple[int, str], tuple[int, float]] = field(default_factory=dict, repr=False)

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]:
        bases = sorted({e.base for e in problem.experts})
        if not bases:
            return [Neighbourhood("all", frozenset(), frozenset(q.id for q in problem.requests))]
        n_exp = np.array([sum(e.base == b for e in problem.experts) for b in bases], float)
        bb = travel.matrix(bases)
        rt = (bb + bb.T).astype(float)
        k = max(1, min(len(bases), round(len(problem.requests) / max(1, self.target))))
        label = _k_medoids(rt, n_exp, k)
        locs = sorted({q.location for q in problem.requests})
        trip = travel.matrix(bases, locs) + travel.matrix(locs, bases).T   # round trips
        col = {x: j for j, x in enumerate(locs)}
        # per base and field: the longest working day and the largest drive cap there
        reach: dict[tuple[int, str], tuple[int, float]] = {}
        bpos = {b: i for i, b in enumerate(bases)}
        for e in problem.experts:
            for f in e.fields:
                day, cap = reach.get((bpos[e.base], f), (0, 0.0))
                reach[bpos[e.base], f] = (max(day, e.work_end - e.work_start), max(
                    cap, math.inf if e.max_drive_minutes_per_day is None
                    else e.max_drive_minutes_per_day))

        def serves(members: np.ndarray, q: Request) -> bool:
            j = col[q.location]
            for f in q.fields:
                ok = False
                for b in members:
                    day, cap = reach.get((int(b), f), (0, -1.0))
                    if day and (not q.onsite or (trip[b, j] + q.duration_min <= day
                                                 and trip[b, j] <= cap)):
                        ok = True
                        break
                if not ok:
                    return False
            return True

        def assign(label: np.ndarray) -> dict[str, int]:
            regions = sorted(set(label.tolist()))
            members = [np.flatnonzero(label == r) for r in regions]
            near = np.array([trip[m].min(axis=0) for m in members])   # regions × locations
            out = {}
            for q in problem.requests:
                order = np.argsort(near[:, col[q.location]], kind="stable")
                out[q.id] = int(next((r for r in order if serves(members[r], q)), order[0]))
            return out

        # regions with far more requests than the target are cut in two, by their bases
        for _ in range(2 * k):
            of_request = assign(label)
            regions = sorted(set(label.tolist()))
            load = np.bincount(list(of_request.values()), minlength=len(regions))
            big = [r for r in np.argsort(-load, kind="stable")
                   if load[r] > 1.6 * self.target
                   and len(np.flatnonzero(label == regions[r])) > 1]
            if not big:
                break
            m = np.flatnonzero(label == regions[big[0]])
            half = _k_medoids(rt[np.ix_(m, m)], n_exp[m], 2)
            label = label.copy()
            label[m[half == half[0]]] = len(bases) + int(label.max()) + 1
        of_request = assign(label)
        self._trip, self._col, self._bpos, self._reach = trip, col, bpos, reach
        regions = sorted(set(label.tolist()))
        rindex = {r: i for i, r in enumerate(regions)}
        base_region = {b: rindex[int(label[i])] for i, b in enumerate(bases)}
        self.region_of_expert = {e.id: base_region[e.base] for e in problem.experts}
        self.region_of_request = of_request
        reg_of_base = np.array([base_region[b] for b in bases])
        centre = np.array([[rt[np.ix_(reg_of_base == a, reg_of_base == b)].min()
                            for b in range(len(regions))] for a in range(len(regions))])
        self.near = [[int(b) for b in np.argsort(centre[a], kind="stable") if b != a][:3]
                     for a in range(len(regions))]
        hoods = []
        for r in range(len(regions)):
            exps = [e for e in problem.experts if self.region_of_expert[e.id] == r]
            reqs = [problem.request_by_id[q] for q, x in self.region_of_request.items() if x == r]
            for k, (es, qs) in enumerate(self._independent(problem, exps, reqs)):
                hoods.append(Neighbourhood(f"region {r}.{k}", frozenset(es), frozenset(qs),
                                           weight=max(1, len(qs))))
        return hoods

    def _independent(self, problem: PlanRequest, experts: list[Expert],
                     requests: list[Request]) -> list[tuple[list[str], list[str]]]:
        """A region's experts and requests in groups that share nothing: a request joins the
        experts who could serve it (a field of theirs, within reach), and the requests of a
        place with a daily cap join one another. Groups are solved as separate parts (no
        plan is lost: nothing links them); the small ones are put together up to a tenth of
        the target."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            parent[find(a)] = find(b)

        for e in experts:
            find("e:" + e.id)
        for q in requests:
            node = "q:" + q.id
            find(node)
            j = self._col.get(q.location)
            for e in experts:
                if not set(e.fields) & set(q.fields):
                    continue
                if q.onsite and j is not None:
                    trip = self._trip[self._bpos[e.base], j]
                    if trip + q.duration_min > e.work_end - e.work_start or (
                            e.max_drive_minutes_per_day is not None
                            and trip > e.max_drive_minutes_per_day):
                        continue
                union(node, "e:" + e.id)
            if q.onsite and problem.location_by_id[q.location].max_visits_per_day is not None:
                union(node, "l:" + q.location)
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for e in experts:
            groups.setdefault(find("e:" + e.id), ([], []))[0].append(e.id)
        for q in requests:
            groups.setdefault(find("q:" + q.id), ([], []))[1].append(q.id)
        out: list[tuple[list[str], list[str]]] = []
        small: tuple[list[str], list[str]] = ([], [])
        for es, qs in sorted(groups.values(), key=lambda g: (-len(g[1]), g[0], g[1])):
            if len(qs) >= max(1, self.target // 10):
                out.append((es, qs))
            else:
                small[0].extend(es)
                small[1].extend(qs)
        if small[0] or small[1]:
            out.append(small)
        return out

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]:
        """Even rounds: around the requests left out (``around_left_out``); odd rounds: pairs
        of nearby regions (``region_pairs``)."""
        if round % 2 == 0:
            hoods = self.around_left_out(problem, visits)
            if hoods:
                return hoods
        return self.region_pairs(problem, visits, round)

    def around_left_out(self, problem: PlanRequest, visits: Sequence[Visit],
                        experts_per_field: int = 4, max_experts: int = 12
                        ) -> list[Neighbourhood]:
        """Neighbourhoods around the requests left out, highest priority first: for each, the
        nearest experts of each of its fields who can reach it within a working day and the
        drive cap, with every request they serve, so that their days can make room for it.
        Neighbourhoods share no expert; a request whose experts are taken waits for a later
        round."""
        served = {v.request for v in visits}
        left = sorted((q for q in problem.requests if q.id not in served),
                      key=lambda q: (-q.priority, q.id))
        owner: dict[str, int] = {}
        groups: list[tuple[set[str], set[str]]] = []
        for q in left:
            j = self._col.get(q.location)
            if j is None:
                continue
            cands: set[str] = set()
            for f in q.fields:
                ok = [(self._trip[self._bpos[e.base], j], e.id) for e in problem.experts
                      if f in e.fields and (not q.onsite or (
                          self._trip[self._bpos[e.base], j] + q.duration_min
                          <= e.work_end - e.work_start and (
                              e.max_drive_minutes_per_day is None
                              or self._trip[self._bpos[e.base], j]
                              <= e.max_drive_minutes_per_day)))]
                cands.update(x for _t, x in sorted(ok)[:experts_per_field])
            if not cands:
                continue
            hit = {owner[e] for e in cands if e in owner}
            if not hit:
                groups.append((set(cands), {q.id}))
                for e in cands:
                    owner[e] = len(groups) - 1
            elif len(hit) == 1:
                g = hit.pop()
                exps, reqs = groups[g]
                if len(exps | cands) <= max_experts and not any(
                        owner.get(e, g) != g for e in cands):
                    exps |= cands
                    reqs.add(q.id)
                    for e in cands:
                        owner[e] = g
        hoods = []
        for k, (exps, reqs) in enumerate(groups):
            free = set(reqs) | {v.request for v in visits if set(v.experts) <= exps}
            hoods.append(Neighbourhood(f"around left-out {k}", frozenset(exps), frozenset(free),
                                       weight=max(1, len(free))))
        return hoods

    def region_pairs(self, problem: PlanRequest, visits: Sequence[Visit],
                     round: int) -> list[Neighbourhood]:
        """Disjoint pairs of nearby regions, the pairs with most requests left out first: each
        pair's experts and its requests left out, and the requests those experts serve."""
        served = {v.request for v in visits}
        left: dict[int, int] = defaultdict(int)
        for rid, r in self.region_of_request.items():
            if rid not in served:
                left[r] += 1
        pairs = {tuple(sorted((a, b))) for a in range(len(self.near)) for b in self.near[a]}
        # alternate which neighbour a region is paired with from one round to the next
        ranked = sorted(pairs, key=lambda p: (-(left[p[0]] + left[p[1]]),
                                              (p[0] + p[1] * (round + 1)) % 7, p))
        taken: set[int] = set()
        chosen = []
        for a, b in ranked:
            if a in taken or b in taken or left[a] + left[b] == 0:
                continue
            taken.update((a, b))
            chosen.append((a, b))
        hoods = []
        for a, b in chosen:
            exps = frozenset(e for e, x in self.region_of_expert.items() if x in (a, b))
            reqs = {q for q, x in self.region_of_request.items()
                    if x in (a, b) and q not in served}
            reqs |= {v.request for v in visits if set(v.experts) <= exps}
            hoods.append(Neighbourhood(f"regions {a}+{b}", exps, frozenset(reqs),
                                       weight=max(1, len(reqs))))
        return hoods


def _k_medoids(rt: np.ndarray, weight: np.ndarray, k: int, rounds: int = 8) -> np.ndarray:
    """Cluster labels (medoid index per point) of points with pairwise distances ``rt``:
    farthest-point seeds from the heaviest point, then alternate assignment and medoid."""
    seeds = [int(np.argmax(weight))]
    while len(seeds) < k:
        d = rt[:, seeds].min(axis=1)
        d[seeds] = -1
        seeds.append(int(np.argmax(d)))
    medoids = np.array(seeds)
    label = medoids[np.argmin(rt[:, medoids], axis=1)]
    for _ in range(rounds):
        new = []
        for m in medoids:
            members = np.flatnonzero(label == m)
            if len(members) == 0:
                new.append(m)
                continue
            cost = (rt[np.ix_(members, members)] * weight[members][None, :]).sum(axis=1)
            new.append(int(members[np.argmin(cost)]))
        new_medoids = np.array(new)
        new_label = new_medoids[np.argmin(rt[:, new_medoids], axis=1)]
        if np.array_equal(new_label, label) and np.array_equal(new_medoids, medoids):
            break
        medoids, label = new_medoids, new_label
    return label


@dataclass
class WindowSplit:
    """Windows of ``weeks`` weeks (``overlap_days`` shared with the next one) with every
    expert; an expert's horizon budgets (total visits, on-site days) are shared between the
    windows in proportion to the expert's workable days in each window's own days. A request
    belongs to the window holding its earliest date (a published visit to the window of its
    date). Repair neighbourhoods: spans of a few weeks around the borders and the middles of
    the windows, with what the rest of the plan leaves of each budget."""

    weeks: int = 3
    overlap_days: int = 0
    name: str = "windows"
    windows: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    #: a window's length in days, when not whole weeks (overrides ``weeks``)
    days: int | None = None
    #: a repair neighbourhood reaches this many weeks either side of its centre
    repair_weeks: int = 2
    #: a season's few experts leave few reasons to find: the repair may run longer
    repair_until: float = 0.9
    #: shorter rounds, so that the spans around the borders and those around the middles
    #: both get their turn
    round_share: float = 0.2

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]:
        h = problem.horizon
        span = self.days if self.days is not None else 7 * self.weeks
        if span < 1:
            raise InputError(Problem("days", f"a window must span at least one day, got {span}",
                                     f"期間は 1 日以上です（{span}）"))
        starts = []
        d = h.start
        while d <= h.end:
            starts.append(d)
            d += dt.timedelta(days=span)
        own = [(s, min(h.end, s + dt.timedelta(days=span - 1))) for s in starts]
        self.windows = [(s, min(h.end, e + dt.timedelta(days=self.overlap_days)))
                        for s, e in own]
        workable = {e.id: [d for d in h.dates if date_status(h, e, d).workable]
                    for e in problem.experts}
        # the published (fixed) on-site visits: each window keeps what its own need, and
        # the rest of a budget is shared in proportion to the workable days
        fixed_days: dict[str, list[dt.date]] = defaultdict(list)
        for q in problem.requests:
            if q.fixed is not None and q.onsite:
                for eid in q.fixed.experts:
                    fixed_days[eid].append(q.fixed.date)

        def share(cap: int, days: list[dt.date], kept: list[dt.date]) -> list[int]:
            """``cap`` over the windows: each its ``kept`` (published) ones, the rest in
            proportion to the ``days`` (workable dates) in each window's own dates."""
            here = [sum(s <= d <= e for d in days) for s, e in own]
            mine = [sum(s <= d <= e for d in kept) for s, e in own]
            rest = _apportion(max(0, cap - len(kept)), here)
            return [m + r for m, r in zip(mine, rest, strict=True)]

        budgets: list[dict[str, tuple[int | None, int | None]]] = [{} for _ in own]
        months: list[dict[str, dict[str, int]]] = [{} for _ in own]
        for x in problem.experts:
            days = workable[x.id]
            fixed = fixed_days[x.id]
            total = [None] * len(own) if x.max_visits_total is None else \
                share(x.max_visits_total, days, fixed)
            onsite = [None] * len(own) if x.max_onsite_days is None else \
                share(x.max_onsite_days, days, sorted(set(fixed)))
            for i in range(len(own)):
                budgets[i][x.id] = (total[i], onsite[i])
            for key in _months(h.start, h.end):
                cap = _month_cap(x, key)
                if cap is None:
                    continue
                in_month = [d for d in days if _month_of(d) == key]
                kept = sorted({d for d in fixed if _month_of(d) == key})
                for i, n in enumerate(share(cap, in_month, kept)):
                    if key in _months(*own[i]):
                        months[i].setdefault(x.id, {})[key] = n
        hoods = []
        for i, ((s, e_own), (_s, e)) in enumerate(zip(own, self.windows, strict=True)):

            def home(q: Request, s: dt.date = s, e_own: dt.date = e_own) -> bool:
                # a published visit belongs to the window of its date, any other request to
                # the window of its earliest date
                return s <= (q.fixed.date if q.fixed is not None else q.earliest) <= e_own
            reqs = frozenset(q.id for q in problem.requests if home(q) and q.latest >= s)
            hoods.append(Neighbourhood(f"window {s}–{e}", frozenset(x.id for x in problem.experts),
                                       reqs, (s, e), budgets[i], weight=max(1, len(reqs)),
                                       months=months[i]))
        return hoods

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]:
        """Spans of ``2 × repair_weeks`` weeks with every expert: around each border between
        windows on even rounds (where the windows' cut truncated requests' dates), around each
        window's middle on odd rounds; disjoint within a round."""
        served = {v.request for v in visits}
        h = problem.horizon
        half = dt.timedelta(days=7 * self.repair_weeks)
        if round % 2 == 0 and len(self.windows) > 1:
            centres = [s for s, _e in self.windows[1:]]
        else:
            centres = [s + (e - s) // 2 for s, e in self.windows]
        hoods = []
        last = h.start - dt.timedelta(days=1)
        for c in centres:
            lo = max(h.start, c - half, last + dt.timedelta(days=1))
            hi = min(h.end, c + half - dt.timedelta(days=1))
            if lo > hi:
                continue
            last = hi
            reqs = {q.id for q in problem.requests if q.id not in served
                    and q.earliest <= hi and q.latest >= lo}
            reqs |= {v.request for v in visits if lo <= v.date <= hi}
            hoods.append(Neighbourhood(f"dates {lo}–{hi}",
                                       frozenset(e.id for e in problem.experts),
                                       frozenset(reqs), (lo, hi), weight=max(1, len(reqs))))
        return hoods


def default_split(problem: PlanRequest) -> Split:
    """Time windows of six weeks for a horizon over five weeks with few experts (a season
    of one programme), else regions (many experts spread over a country). Six weeks: on a
    33-week season of 1,320 requests in 120 s, the plan came 4.8 % from the LP bound with
    windows of six weeks, 5.0 % with two and 5.3 % with three."""
    days = (problem.horizon.end - problem.horizon.start).days + 1
    if days > 35 and len(problem.experts) <= 40:
        return WindowSplit(weeks=6)
    return RegionSplit()


# ---------------------------------------------------------------------- the bound

def relaxation_bound(problem: PlanRequest, travel: TravelTimes,
                     time_limit: float | None = None) -> int | None:
    """An upper bound on every plan's objective from a linear relaxation solved once (HiGHS):
    each request served at most once, one expert per field on one date; per expert-date, the
    consultations plus the shortest drive into each on-site stop fit the working day, at most
    the daily visits and drive; per expert, the total visits and on-site days; per location and
    date, its cap; the season goals (small-town bonus, coverage shortfall, monthly on-site
    days) and the published dates. Driving is counted once per place an expert stops at on a
    date, as the shortest way into it from anywhere else (every leg ends at a stop or at the
    base, so a plan drives at least that much; none into the expert's own base). The
    (request, expert, date) options are a superset of the planner's (shortest ways, not the
    legs of a tour), so every plan is a solution and the optimum bounds it. None if the LP
    could not be solved to its optimum (within ``time_limit`` seconds of HiGHS, if given)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    w = problem.objective
    h = problem.horizon
    exps = list(problem.experts)
    reqs = list(problem.requests)
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    nothing = -cov.penalty * sum(floors.values()) if cov is not None else 0  # nothing served
    if not exps or not reqs:
        return nothing
    dates = h.dates
    didx = {d: i for i, d in enumerate(dates)}
    published = h.published_until
    workable = np.array([[date_status(h, e, d).workable for d in dates] for e in exps])
    fields = sorted({f for e in exps for f in e.fields} | {f for q in reqs for f in q.fields})
    has = {f: np.array([f in e.fields for e in exps]) for f in fields}
    ws = np.array([e.work_start for e in exps])
    we = np.array([e.work_end for e in exps])
    dcap = np.array([np.inf if e.max_drive_minutes_per_day is None
                     else e.max_drive_minutes_per_day for e in exps])
    bases = sorted({e.base for e in exps})
    bi = np.array([bases.index(e.base) for e in exps])
    places = sorted({*bases, *(q.location for q in reqs)})
    onsite_locs = sorted({q.location for q in reqs if q.onsite})
    lj = {x: j for j, x in enumerate(onsite_locs)}
    into = _shortest_into(travel, places, onsite_locs)          # min way into each stop
    out_sp = travel.shortest_matrix(bases, onsite_locs) if onsite_locs else None
    back_sp = travel.shortest_matrix(onsite_locs, bases).T if onsite_locs else None
    cols: list[tuple[int, int, int, dt.date, int]] = []   # (request, slot, expert, date, drive)
    z_cols: dict[tuple[int, dt.date], int] = {}
    n = 0
    for qi, q in enumerate(reqs):
        loc = problem.location_by_id[q.location]
        lo = np.maximum(max(loc.open, q.window[0] if q.window else 0), ws)
        hi = np.minimum(min(loc.close, q.window[1] if q.window else 1440), we) - q.duration_min
        drive = 0
        ok = np.ones(len(exps), dtype=bool)
        if q.onsite:
            assert out_sp is not None and back_sp is not None
            o, b = out_sp[bi, lj[q.location]], back_sp[bi, lj[q.location]]
            ok = o + b <= dcap
            lo = np.maximum(lo, ws + o)
            hi = np.minimum(hi, we - b - q.duration_min)
            drive = into[q.location]
        ok &= lo <= hi
        at_base = np.array([e.base == q.location for e in exps]) if q.onsite else None
        if q.fixed is not None:
            ok &= np.array([e.id in q.fixed.experts for e in exps])
        span = [q.fixed.date] if q.fixed is not None else [
            q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        for d in span:
            if d not in didx or (q.fixed is None and published is not None and d <= published):
                continue
            mask = ok & workable[:, didx[d]]
            per_slot = [np.flatnonzero(mask & has[f]) for f in q.fields]
            if any(len(x) == 0 for x in per_slot):
                continue
            z_cols[qi, d] = n
            n += 1
            for k, idx in enumerate(per_slot):
                # a stop at the expert's own base may need no drive at all
                cols.extend((qi, k, int(ei), d,
                             0 if at_base is not None and at_base[ei] else drive) for ei in idx)
    if not z_cols:
        return nothing
    ny = len(cols)
    y0 = n
    n_total = n + ny
    # on-site day indicators per (expert, date) with an on-site option
    od_index: dict[tuple[int, dt.date], int] = {}
    for qi, _k, ei, d, _drive in cols:
        if reqs[qi].onsite and (ei, d) not in od_index:
            od_index[ei, d] = n_total
            n_total += 1
    # stops: per (expert, date, place) with an on-site option that needs a drive, the drive
    # into the place is paid once however many consultations are made there — by the options'
    # own columns when they are one request's (most places: an expert takes one field of a
    # request at most, so they add up to at most one), else by a stop variable at least each
    # request's options there
    at_stop: dict[tuple[int, dt.date, str], dict[int, list[int]]] = defaultdict(
        lambda: defaultdict(list))
    for j, (qi, _k, ei, d, drive) in enumerate(cols):
        if reqs[qi].onsite and drive > 0:
            at_stop[ei, d, reqs[qi].location][qi].append(j)
    stop_vars: dict[tuple[int, dt.date, str], list[int]] = {}   # what carries the drive
    stop_drive: dict[int, int] = {}
    for key, by_req in at_stop.items():
        drive = next(cols[js[0]][4] for js in by_req.values())
        if len(by_req) == 1:
            stop_vars[key] = [y0 + j for js in by_req.values() for j in js]
        else:
            stop_vars[key] = [n_total]
            n_total += 1
        for sj in stop_vars[key]:
            stop_drive[sj] = drive
    # coverage shortfall per location with a floor (≥ floor − consultations counted there)
    short_index: dict[str, int] = {}
    for lid in sorted(floors):
        short_index[lid] = n_total
        n_total += 1
    c = np.zeros(n_total)
    for (qi, _d), j in z_cols.items():
        c[j] = -served_value(problem, reqs[qi])
    if cov is not None:
        for j in short_index.values():
            c[j] = cov.penalty
    for j, drive in stop_drive.items():
        c[j] = w.drive_minute * drive
    for j in od_index.values():
        c[j] = w.onsite_day
    r_ub, c_ub, v_ub, b_ub = [], [], [], []
    r_eq, c_eq, v_eq = [], [], []
    row = 0

    def ub(entries: list[tuple[int, float]], rhs: float) -> None:
        nonlocal row
        for j, v in entries:
            r_ub.append(row)
            c_ub.append(j)
            v_ub.append(v)
        b_ub.append(rhs)
        row += 1

    by_q: dict[int, list[int]] = defaultdict(list)
    for (qi, _d), j in z_cols.items():
        by_q[qi].append(j)
    for js in by_q.values():
        ub([(j, 1.0) for j in js], 1.0)
    eq_row = 0
    slot_cols: dict[tuple[int, dt.date, int], list[int]] = defaultdict(list)
    ed_cols: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    e_cols: dict[int, list[int]] = defaultdict(list)
    ld_cols: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    qed_cols: dict[tuple[int, int, dt.date], list[int]] = defaultdict(list)
    for j, (qi, k, ei, d, _drive) in enumerate(cols):
        slot_cols[qi, d, k].append(y0 + j)
        ed_cols[ei, d].append(j)
        qed_cols[qi, ei, d].append(y0 + j)
        if reqs[qi].onsite:
            e_cols[ei].append(y0 + j)
            ld_cols[reqs[qi].location, d].append(y0 + j)
    for (qi, d, _k), js in slot_cols.items():
        for j in js:
            r_eq.append(eq_row)
            c_eq.append(j)
            v_eq.append(1.0)
        r_eq.append(eq_row)
        c_eq.append(z_cols[qi, d])
        v_eq.append(-1.0)
        eq_row += 1
    for (qi, _ei, d), js in qed_cols.items():
        if len(js) > 1:
            ub([(j, 1.0) for j in js] + [(z_cols[qi, d], -1.0)], 0.0)
    stops_of: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    for (ei, d, _lid), sjs in stop_vars.items():
        stops_of[ei, d].extend(sjs)
    for key, by_req in at_stop.items():
        if len(by_req) > 1:
            (sj,) = stop_vars[key]
            for js in by_req.values():
                ub([(y0 + j, 1.0) for j in js] + [(sj, -1.0)], 0.0)
    for (ei, d), js in ed_cols.items():
        e = exps[ei]
        drives = [(sj, float(stop_drive[sj])) for sj in stops_of.get((ei, d), [])]
        busy = [(y0 + j, float(reqs[cols[j][0]].duration_min)) for j in js]
        ub(busy + drives, float(e.work_end - e.work_start))
        onsite = [y0 + j for j in js if reqs[cols[j][0]].onsite]
        if onsite:
            od = od_index[ei, d]
            for j in onsite:
                ub([(j, 1.0), (od, -1.0)], 0.0)
            if e.max_visits_per_day is not None:
                ub([(j, 1.0) for j in onsite], float(e.max_visits_per_day))
            if e.max_drive_minutes_per_day is not None and drives:
                ub(drives, float(e.max_drive_minutes_per_day))
    for ei, js in e_cols.items():
        e = exps[ei]
        if e.max_visits_total is not None:
            ub([(j, 1.0) for j in js], float(e.max_visits_total))
    days_of: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for (ei, d), j in od_index.items():
        days_of[ei].append((d, j))
    for ei, dj in days_of.items():
        e = exps[ei]
        if e.max_onsite_days is not None:
            ub([(j, 1.0) for _d, j in dj], float(e.max_onsite_days))
        months: dict[str, list[int]] = defaultdict(list)
        for d, j in dj:
            months[_month_of(d)].append(j)
        for month, mj in months.items():
            cap = _month_cap(e, month)
            if cap is not None:
                ub([(j, 1.0) for j in mj], float(cap))
    if cov is not None:
        counted: dict[str, list[int]] = defaultdict(list)
        for (qi, _d), j in z_cols.items():
            if reqs[qi].mode in cov.modes:
                counted[reqs[qi].location].append(j)
        for lid, sj in short_index.items():
            # −shortfall − Σ counted ≤ −floor
            ub([(sj, -1.0)] + [(j, -1.0) for j in counted.get(lid, [])], -float(floors[lid]))
    for (lid, _d), js in ld_cols.items():
        cap = problem.location_by_id[lid].max_visits_per_day
        if cap is not None:
            ub([(j, 1.0) for j in js], float(cap))
    var_bounds = np.zeros((n_total, 2))
    var_bounds[:, 1] = 1.0
    for lid, sj in short_index.items():
        var_bounds[sj, 1] = floors[lid]         # a shortfall runs from 0 to the floor
    a_ub = coo_matrix((v_ub, (r_ub, c_ub)), shape=(row, n_total)).tocsr()
    a_eq = coo_matrix((v_eq, (r_eq, c_eq)), shape=(eq_row, n_total)).tocsr()
    res = linprog(c, A_ub=a_ub, b_ub=np.array(b_ub), A_eq=a_eq, b_eq=np.zeros(eq_row),
                  bounds=var_bounds, method="highs",
                  options={} if time_limit is None else {"time_limit": max(0.1, time_limit)})
    if res.status != 0:
        return None
    # HiGHS's dual bound: a rounding margin of one unit keeps it a bound
    return int(math.floor(-res.fun + 1e-6))


def _shortest_into(travel: TravelTimes, places: Sequence[str], stops: Sequence[str]
                   ) -> dict[str, int]:
    """The shortest single leg into each stop from any other place (a lower bound on the leg
    every plan drives into it)."""
    if not stops:
        return {}
    m = travel.matrix(list(places), list(stops)).astype(float)
    pos = {x: i for i, x in enumerate(places)}
    for j, s in enumerate(stops):
        m[pos[s], j] = np.inf
    best = m.min(axis=0)
    return {s: int(best[j]) if np.isfinite(best[j]) else 0 for j, s in enumerate(stops)}


# ---------------------------------------------------------------------- solving by parts


def _greedy_part(problem: PlanRequest, start: Sequence[Visit]) -> list[Visit]:
    travel = TravelTimes(problem)
    start_plan = Plan(status="feasible", objective=None, bound=None, solve_seconds=0.0,
                      visits=tuple(start)) if start else None
    return greedy_visits(problem, travel, Explainer(problem, travel).options, start_plan)


def solve_by_parts(problem: PlanRequest, options: SolveOptions, split: Split | None = None,
                   executor: Executor | None = None, *, part_solver: PartSolver) -> Plan:
    """Plan ``problem`` by parts (module docstring); the parts run on ``executor`` when
    given, else on the one ``options`` names, each as ``part_solver(problem, time_limit,
    seed, deterministic_time, start)`` (``solvers.planner.solve_part``: one model)."""
    t0 = time.perf_counter()
    limit = options.time_limit
    deadline = t0 + limit
    split = split or default_split(problem)
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": limit, "method": f"parts ({split.name})"}
    own = executor is None
    if executor is None:
        executor = make_executor(options.executor, workers=options.executor_workers,
                                 address=options.executor_address)
    try:
        return _by_parts(problem, options, split, executor, travel, t0, deadline, info,
                         part_solver)
    finally:
        if own:
            executor.shutdown(wait=False)


def _workers_of(executor: Executor) -> int:
    n = getattr(executor, "workers", None)
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(w.get("nthreads", 1) for w in
                              client.scheduler_info()["workers"].values()))
        except Exception:  # noqa: BLE001 - an unknown cluster: assume one
            return 1
    return 1


@dataclass
class _Task:
    """One sub-problem to solve on the executor: its weight sets its share of the time."""

    hood: Neighbourhood
    problem: PlanRequest
    start: tuple[Visit, ...]
    weight: float
    dtime: float | None
    seed: int
    limit: float = 0.0
    result: Plan | None = None
    late: bool = False


#: Solves one part in a worker: ``(problem, time_limit, seed, deterministic_time, start visits)
#: -> Plan``; a module-level function, as executors pickle it.
PartSolver = Callable[[PlanRequest, float, int, "float | None", "tuple[Visit, ...]"], Plan]


def _run(executor: Executor, n_work: int, tasks: list[_Task], until: float,
         part_solver: PartSolver, meanwhile: Callable[[], None] | None = None) -> None:
    """Solve the tasks on the executor, at most ``n_work`` at a time, heaviest first; each
    task's wall-clock limit is set when it starts: twice its fair share of the time left
    (most parts prove optimal well before), never past ``until``. A task not done by
    ``until`` keeps ``result`` None and is marked ``late``. ``meanwhile`` runs here once the
    first tasks are submitted."""
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].weight, i))
    running: dict[int, FutureLike] = {}
    left_weight = sum(t.weight for t in tasks)
    nxt = 0
    while (nxt < len(order) or running) and time.perf_counter() < until:
        while nxt < len(order) and len(running) < n_work:
            i = order[nxt]
            nxt += 1
            t = tasks[i]
            remaining = until - time.perf_counter()
            if remaining < 0.3:
                t.late = True
                continue
            # this task's share of the worker-seconds left, by weight
            fair = remaining * n_work * t.weight / max(t.weight, left_weight)
            t.limit = max(0.3, min(0.9 * remaining, 2.0 * fair))
            left_weight -= t.weight
            try:
                running[i] = executor.submit(part_solver, t.problem, t.limit, t.seed, t.dtime,
                                             t.start)
            except Exception:  # noqa: BLE001 - a broken executor: the task stays unsolved
                t.late = True
        if meanwhile is not None:
            meanwhile()
            meanwhile = None
        for i, f in list(running.items()):
            if f.done():
                try:
                    tasks[i].result = f.result()
                except Exception:  # noqa: BLE001 - a failed part is replaced, never fatal
                    tasks[i].late = True
                del running[i]
        if running:
            time.sleep(0.01)
    for i, f in running.items():
        f.cancel()
        tasks[i].late = True
    for i in order[nxt:]:
        tasks[i].late = True


def _by_parts(problem: PlanRequest, options: SolveOptions, split: Split, executor: Executor,
              travel: TravelTimes, t0: float, deadline: float,
              info: dict[str, object], part_solver: PartSolver) -> Plan:
    limit = deadline - t0
    n_work = _workers_of(executor)
    info["executor"] = executor.kind
    info["executor_workers"] = n_work
    # 1. the parts, in parallel, until 55 % of the time
    hoods = _share_coverage(problem, split.parts(problem, travel))
    total_w = sum(h.weight for h in hoods) or 1.0
    tasks = [_Task(h, sub_problem(problem, h, (), travel), (), h.weight,
                   _dtime(options, limit, h.weight / total_w), options.seed) for h in hoods]
    info["parts"] = len(tasks)
    part_end = t0 + 0.55 * limit
    bounds: list[int | None] = []
    fallback: dict[int, list[Visit]] = {}

    def meanwhile() -> None:
        # while the workers solve the first parts: the bound, then the greedy plan of each
        # part, the lightest first (those start last), in case one does not answer in time
        bounds.append(relaxation_bound(problem, travel, part_end - 0.05 * limit
                                       - time.perf_counter()))
        for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].weight, i)):
            if time.perf_counter() > part_end - 0.05 * limit:
                break
            fallback[i] = _greedy_part(tasks[i].problem, ())

    _run(executor, n_work, tasks, part_end, part_solver, meanwhile=meanwhile)
    bound = bounds[0] if bounds else relaxation_bound(problem, travel, 0.1 * limit)
    deterministic = True
    candidates: list[Visit] = []
    for i, t in enumerate(tasks):
        if t.result is None:
            deterministic = False
            candidates += fallback[i] if i in fallback else _greedy_part(t.problem, ())
            continue
        if t.result.status != "optimal" and t.result.solve_seconds >= 0.95 * t.limit:
            deterministic = False       # the wall clock, not the deterministic limit, ended it
        candidates += [v for v in t.result.visits if v.request in t.hood.requests]
    # the published visits first: a part may have released one its share of a budget could
    # not hold, and the whole plan keeps it when it fits
    visits = _in_request_order(problem, join(problem, travel,
                                              _as_fixed_visits(problem) + candidates))
    info["seconds_parts"] = round(time.perf_counter() - t0, 2)
    info["parts_late"] = sum(t.late for t in tasks)
    info["parts_optimal"] = sum(t.result is not None and t.result.status == "optimal"
                                for t in tasks)
    info["first_objective"] = _objective(problem, travel, visits)
    # 2. repair across borders until the split's share of the time (80 % by default); the
    # rest is for the reasons
    rounds = kept_repairs = 0
    repair_end = t0 + getattr(split, "repair_until", 0.8) * limit
    round_share = getattr(split, "round_share", 0.5)
    settled = 0         # rounds in a row whose every neighbourhood was proven, none better
    while time.perf_counter() < repair_end - 0.03 * limit and rounds < _MAX_ROUNDS \
            and settled < 2:
        hoods = split.neighbourhoods(problem, travel, visits, rounds)
        if not hoods:
            break
        rounds += 1
        total_w = sum(h.weight for h in hoods) or 1.0
        tasks = []
        for h in hoods:
            sub = sub_problem(problem, h, visits, travel)
            start = tuple(v for v in visits if v.request in sub.request_by_id
                          and sub.request_by_id[v.request].fixed is None)
            tasks.append(_Task(h, sub, start, h.weight,
                               _dtime(options, limit, h.weight / total_w * round_share),
                               options.seed + rounds))
        _run(executor, n_work, tasks, repair_end, part_solver)
        kept_before = kept_repairs
        proven = all(t.result is not None and t.result.status == "optimal" for t in tasks)
        for t in tasks:
            if t.result is None:
                deterministic = False
                continue
            if t.result.status != "optimal" and t.result.solve_seconds >= 0.95 * t.limit:
                deterministic = False
            if t.result.status not in ("optimal", "feasible"):
                continue
            sub = t.problem
            free = {q.id for q in sub.requests if q.fixed is None}
            sub_travel = TravelTimes(sub)
            before = [v for v in visits if v.request in free] + _as_fixed_visits(sub)
            if _objective(sub, sub_travel, list(t.result.visits)) <= _objective(
                    sub, sub_travel, before):
                continue
            mine = [v for v in t.result.visits if v.request in free]
            trial = [v for v in visits if v.request not in free] + mine
            kept, dropped = keep_fitting(problem, travel, trial)
            if dropped:
                continue            # cannot happen while the sub-problem holds every link
            visits = _in_request_order(problem, kept)
            kept_repairs += 1
        # the same plan gives the same neighbourhoods: two proven rounds in a row with nothing
        # better (the two kinds of a split's rounds) leave nothing for a third
        settled = settled + 1 if proven and kept_repairs == kept_before else 0
    info["seconds_repair"] = round(time.perf_counter() - t0, 2)
    info["repair_rounds"] = rounds
    info["repairs_kept"] = kept_repairs
    info["deterministic"] = deterministic
    routes = build_routes(problem, travel, visits)
    value = objective_value(problem, visits, routes)
    if bound is None or bound < value:
        # no LP answer (or one below a plan, which a relaxation cannot be): the trivial bound
        bound = max(value, trivial_bound(problem, {q.id for q in problem.requests}))
        info["bound_method"] = "every request served with no driving"
    else:
        info["bound_method"] = "LP relaxation (HiGHS), solved once"
    info["gap"] = round((bound - value) / max(1, abs(bound)), 6)
    return _finish_parts(problem, travel, visits, routes, value, bound, options, t0, info,
                         deadline)


#: Repair rounds at most (each round: disjoint neighbourhoods, solved in parallel).
_MAX_ROUNDS = 40


def _dtime(options: SolveOptions, limit: float, share: float) -> float:
    """A part's deterministic limit: the caller's, else its share of the time limit (in
    CP-SAT's deterministic seconds, about a wall second of one core) — the same whichever
    executor and however many workers run it."""
    if options.deterministic_time is not None:
        return options.deterministic_time
    return max(0.2, limit * share)


def _as_fixed_visits(sub: PlanRequest) -> list[Visit]:
    out = []
    for q in sub.requests:
        if q.fixed is not None:
            f = q.fixed
            out.append(Visit(q.id, f.experts, q.location, q.mode, f.date, f.start,
                             f.start + q.duration_min))
    return out


def _in_request_order(problem: PlanRequest, visits: Sequence[Visit]) -> list[Visit]:
    by = {v.request: v for v in visits}
    return [by[q.id] for q in problem.requests if q.id in by]


def _finish_parts(problem: PlanRequest, travel: TravelTimes, visits: list[Visit],
                  routes: list, value: int, bound: int, options: SolveOptions, t0: float,
                  info: dict[str, object], deadline: float) -> Plan:
    """The plan with reasons for every request left out (``_explain``), highest priority
    first, until the deadline; any left then say that their reason was not analysed."""
    served = {v.request for v in visits}
    left = [q for q in problem.requests if q.id not in served]
    reasons = _explain(problem, travel, visits, left, deadline - 0.02 * (deadline - t0)) \
        if options.explain else {}
    info["explained"] = len(reasons)
    info["seconds_reasons"] = round(time.perf_counter() - t0, 2)
    unscheduled = tuple(reasons.get(q.id) or bare_reason(
        q.id, "left out; its reason was not analysed within the time limit",
        "計画に入りませんでした（制限時間内に理由を分析できませんでした）", "not_analysed")
        for q in left)
    status: Status = "optimal" if value >= bound else "feasible"
    plan = Plan(status=status, objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=unscheduled, solver=info)
    return replace(plan, kpis=plan_kpis(problem, plan, previous=options.previous))


def _explain(problem: PlanRequest, travel: TravelTimes, visits: list[Visit],
             left: list[Request], until: float, per_field: int = 4) -> dict[str, Unscheduled]:
    """Reasons for the requests left out, in batches (the requests nearest to one base), the
    batches of the highest priorities first, until ``until``: a batch is explained by an
    ``Explainer`` over the ``per_field`` nearest experts of each of its fields who can reach
    it within a working day (or the nearest when none can), with all their visits as they
    are planned (fixed)."""

    if not left:
        return {}
    bases = sorted({e.base for e in problem.experts})
    locs = sorted({q.location for q in left})
    trip = travel.matrix(bases, locs) + travel.matrix(locs, bases).T
    bpos = {b: i for i, b in enumerate(bases)}
    lpos = {x: j for j, x in enumerate(locs)}
    batches: dict[int, list[Request]] = defaultdict(list)
    for q in left:
        batches[int(np.argmin(trip[:, lpos[q.location]]))].append(q)
    by_field: dict[str, list[Expert]] = defaultdict(list)
    for e in problem.experts:
        for f in e.fields:
            by_field[f].append(e)
    out: dict[str, Unscheduled] = {}
    order = sorted(batches.values(), key=lambda qs: (-max(q.priority for q in qs), qs[0].id))
    for qs in order:
        if time.perf_counter() > until:
            break
        ids: set[str] = set()
        for q in qs:
            j = lpos[q.location]
            for f in q.fields:
                ranked = sorted(by_field.get(f, []),
                                key=lambda e: (trip[bpos[e.base], j], e.id))
                near = [e for e in ranked if not q.onsite or
                        trip[bpos[e.base], j] <= e.work_end - e.work_start]
                ids.update(e.id for e in (near or ranked)[:per_field])
        hood = Neighbourhood("explain", frozenset(ids), frozenset(q.id for q in qs))
        sub = sub_problem(problem, hood, visits, travel)
        sub_travel = TravelTimes(sub)
        kept = _as_fixed_visits(sub)
        ex = Explainer(sub, sub_travel)
        mine = {q.id for q in qs}
        for u in ex.explain_unscheduled({v.request for v in kept}, kept,
                                        build_routes(sub, sub_travel, kept)):
            if u.request in mine:
                out[u.request] = u
    return out
