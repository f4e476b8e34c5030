"""The season: planned as one, or simulated week by week, and the figures it is judged on.

- ``plan_season(problem, options)``: the whole season request planned at once (the planner
  decides how: one model, or by parts on long horizons), with the programme's goals.
- ``simulate_season(problem, ...)``: the same demand revealed week by week, as the centre plans
  today: each week planned when it comes (its new requests and those still open, the
  experts' budgets and the coverage floors the earlier weeks left), published and never
  re-planned; a request left out stays open in the weeks its dates allow.
- ``season_tables(problem, plan)``: the season's figures as pandas objects — a summary (visits
  with two experts together counting two, coverage, the share to small towns, drive), visits
  per expert, coverage per municipality against its floor, on-site days per expert and month
  against the contract; ``compare_seasons`` puts two plans side by side.

The scenario API (``solvers.scenarios.season``), the command line (``dxshare season``) and the
notebook use these.

Examples
--------
>>> from engine.format import parse_plan_request
>>> from engine.season import season_document
>>> problem = parse_plan_request(season_document(weeks=4, requests_per_week=20))
>>> planned = plan_season(problem, SolveOptions(time_limit=30))          # doctest: +SKIP
>>> simulated = simulate_season(problem, time_limit=2)                   # doctest: +SKIP
>>> compare_seasons({"as one": (problem, planned), "weekly": (problem, simulated.plan)})
...                                                                       # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from engine.kpis import SMALL_TOWN_POPULATION, coverage_of, objective_of, plan_kpis
from engine.model import (
    Coverage,
    Fixed,
    Goals,
    Horizon,
    Plan,
    PlanRequest,
    Request,
    SolveInfo,
    Visit,
)
from engine.nights import night_places
from engine.travel import TravelTimes
from solvers.executor import release_memory
from solvers.explain import Explainer
from solvers.parts.capacity import capacity_prices
from solvers.parts.lagrange import lagrangian_bound
from solvers.parts.solve import CAPACITY, LAGRANGIAN, TRIVIAL
from solvers.planner import SolveOptions, build_routes, solve, trivial_bound
from solvers.routes import plan_breaks

__all__ = ["SeasonSimulation", "compare_seasons", "plan_season", "season_tables",
           "simulate_season"]


def plan_season(problem: PlanRequest, options: SolveOptions | None = None) -> Plan:
    """The season planned as one (``solvers.planner.solve``: the time limit covers it all).

    With ``options.previous`` (an earlier plan of the season) the re-plan keeps what it can,
    as a week's re-plan does: the main objective first, then as few moves as possible. A
    season is solved by parts, where no proof orders the two, so it is done in two steps
    within the time limit: (1) every earlier visit whose request is still asked as it was is
    kept where it is and the rest is planned around them (no move at all); (2) a free search
    starting from that plan. The free plan is taken only when it scores higher: a visit moves
    only for a better season, never for an equal one, and re-planning unchanged requests moves
    nothing.
    """
    options = options or SolveOptions(time_limit=120)
    previous = options.previous
    if previous is None or not previous.visits:
        return solve(problem, options)
    t0 = time.perf_counter()
    kept_problem, kept = _keep_previous(problem, previous)
    first = solve(kept_problem, replace(options, time_limit=options.time_limit * 0.5,
                                        previous=None, start=previous)) if kept else None
    if first is None or first.status not in ("optimal", "feasible"):
        # nothing could be kept as it was (or the kept visits clash): the week's rule alone
        return solve(problem, options)
    left = max(options.time_limit * 0.1, options.time_limit - (time.perf_counter() - t0))
    free = solve(problem, replace(options, time_limit=left, start=first))
    moves_pay = (free.status in ("optimal", "feasible") and free.objective is not None
                 and first.objective is not None and free.objective > first.objective)
    best = free if moves_pay else first
    solver = {**best.solver, "kept_first": len(kept), "moves_paid": moves_pay,
              "seconds_total": round(time.perf_counter() - t0, 3)}
    if not moves_pay:
        # the plan is one of the season request (its visits keep the kept requests' places)
        bound = free.bound if free.bound is not None else best.bound
        best = replace(first, status="feasible" if free.status != "optimal" or
                       free.objective != first.objective else "optimal",
                       bound=None if bound is None else max(bound, first.objective or 0))
    return replace(best, solver=SolveInfo.of(solver), solve_seconds=time.perf_counter() - t0,
                   kpis=plan_kpis(problem, best, previous=previous))


def _keep_previous(problem: PlanRequest, previous: Plan) -> tuple[PlanRequest, list[str]]:
    """``problem`` with each earlier visit whose request is still asked as it was (same place,
    mode, duration, dates and window that still hold it, experts still in the fields) fixed
    where it is, and the ids of those requests."""
    by_request = {v.request: v for v in previous.visits}
    experts = problem.expert_by_id
    requests, kept = [], []
    for q in problem.requests:
        v = by_request.get(q.id)
        if q.fixed is None and v is not None and v.location == q.location \
                and v.mode == q.mode and v.end - v.start == q.duration_min \
                and q.earliest <= v.date <= q.latest \
                and (q.window is None or q.window[0] <= v.start and v.end <= q.window[1]) \
                and len(v.experts) == len(q.fields) \
                and all(e in experts for e in v.experts) \
                and {f for e in v.experts for f in experts[e].fields} >= set(q.fields) \
                and (problem.horizon.published_until is None
                     or v.date > problem.horizon.published_until):
            q = replace(q, fixed=Fixed(tuple(v.experts), v.date, v.start))
            kept.append(q.id)
        requests.append(q)
    # a follow-up stays fixed only beside the visit it follows, fixed where the series holds
    while True:
        fixed = {q.id: q for q in requests if q.fixed is not None}
        loose = [rid for rid in kept if (q := fixed[rid]).after is not None
                 and q.after.date is None and not _series_kept(q, fixed)]
        if not loose:
            return replace(problem, requests=tuple(requests)), kept
        kept = [rid for rid in kept if rid not in loose]
        requests = [replace(q, fixed=None) if q.id in loose else q for q in requests]


def _series_kept(q: Request, fixed: Mapping[str, Request]) -> bool:
    """Whether fixed follow-up ``q`` keeps its series with the fixed visit it follows."""
    a, f = q.after, q.fixed
    first = fixed.get(a.request) if a is not None else None
    if a is None or f is None or first is None or first.fixed is None:
        return False
    return a.allows((f.date - first.fixed.date).days) and (
        not a.same_experts or set(f.experts) == set(first.fixed.experts))


def _after_earlier_weeks(asked: list[Request], made: list[Visit]) -> list[Request]:
    """A week's requests with each follow-up whose first session is not asked this week
    linked to that session's visit in an earlier week (``after`` with its date and experts);
    one whose first session is not made yet waits for a later week."""
    ids = {q.id for q in asked}
    visit_of = {v.request: v for v in made}
    out = []
    for q in asked:
        a = q.after
        if a is None or a.date is not None or a.request in ids:
            out.append(q)
        elif a.request in visit_of:
            v = visit_of[a.request]
            out.append(replace(q, after=replace(a, date=v.date, experts=tuple(v.experts))))
    return out


# ---------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class SeasonSimulation:
    """A season planned week by week: the plan it adds up to (``plan``, checked against the
    season request like any plan), one row per week (``weeks``), requests that expired."""

    plan: Plan
    weeks: pd.DataFrame
    expired: tuple[str, ...]
    still_open: tuple[str, ...] = ()


def _mondays(h: Horizon) -> list[dt.date]:
    first = h.start - dt.timedelta(days=h.start.weekday())
    out, d = [], first
    while d <= h.end:
        out.append(d)
        d += dt.timedelta(days=7)
    return out


def _week_problem(problem: PlanRequest, start: dt.date, end: dt.date,
                  requests: list[Request], made: list[Visit], goals: bool) -> PlanRequest:
    """One week of the season: its dates, its requests, each expert's caps less what the
    season's earlier weeks used (total visits, on-site days, on-site days of each month), and
    with ``goals`` the coverage floors less the consultations already made."""
    horizon = replace(problem.horizon, start=max(start, problem.horizon.start),
                      end=min(end, problem.horizon.end),
                      blackouts=tuple(b for b in problem.horizon.blackouts
                                      if start <= b.date <= end),
                      published_until=None)
    visits_of: Counter[str] = Counter()
    days_of: dict[str, set[dt.date]] = defaultdict(set)
    for v in made:
        if v.mode == "onsite":
            for eid in v.experts:
                visits_of[eid] += 1
                days_of[eid].add(v.date)
    experts = []
    for e in problem.experts:
        months = {f"{d:%Y-%m}" for d in horizon.dates}
        by_month = {}
        for m in months:
            y, mo = int(m[:4]), int(m[5:])
            cap = e.month_cap(y, mo)
            if cap is not None:
                by_month[m] = max(0, cap - sum(1 for d in days_of[e.id]
                                               if (d.year, d.month) == (y, mo)))
        experts.append(replace(
            e, days=None if e.days is None else tuple(d for d in e.days
                                                      if horizon.start <= d <= horizon.end),
            busy=tuple(b for b in e.busy if horizon.start <= b.date <= horizon.end),
            max_visits_total=None if e.max_visits_total is None else max(
                0, e.max_visits_total - visits_of[e.id]),
            max_onsite_days=None if e.max_onsite_days is None else max(
                0, e.max_onsite_days - len(days_of[e.id])),
            max_onsite_days_per_month=None, onsite_days_by_month=by_month,
            overnight=None))    # the season's routes are read back from its visits: day trips
    week_goals = Goals()
    if goals:
        cov = problem.goals.coverage
        if cov is not None:
            seen = Counter(v.location for v in made if v.mode in cov.modes)
            floors = cov.floors(problem)
            week_goals = replace(week_goals, coverage=Coverage(
                0, cov.penalty, cov.modes,
                {lid: max(0, f - seen[lid]) for lid, f in floors.items()}))
        week_goals = replace(week_goals, small_towns=problem.goals.small_towns)
    return replace(problem, horizon=horizon, experts=tuple(experts), requests=tuple(requests),
                   goals=week_goals)


def simulate_season(problem: PlanRequest, *, time_limit: float = 2.0, seed: int = 0,
                    goals: bool = True, workers: int = 1, travel_speed_factor: float = 1.0,
                    progress: Callable[[int, int], None] | None = None) -> SeasonSimulation:
    """Plan ``problem``'s season week by week (see the module docstring). A request becomes
    known in the week of its earliest date and stays open while its dates last; one whose
    last date passes unplanned expires (``expired``), one still unplanned on the season's last
    day stays open (``still_open``). With ``goals`` each week also aims at the coverage floors
    the earlier weeks left and the small-town bonus; without, each week serves priority only,
    as before the season goals."""
    t0 = time.perf_counter()
    made, rows, expired, still_open = week_by_week(
        problem, time_limit=time_limit, seed=seed, goals=goals, workers=workers,
        travel_speed_factor=travel_speed_factor, progress=progress)
    return SeasonSimulation(_season_plan(problem, made, t0, travel_speed_factor),
                            pd.DataFrame(rows).set_index("week"), tuple(expired),
                            tuple(still_open))


def week_by_week(problem: PlanRequest, *, time_limit: float = 2.0, seed: int = 0,
                 goals: bool = True, workers: int = 1, travel_speed_factor: float = 1.0,
                 progress: Callable[[int, int], None] | None = None,
                 until: float | None = None, release: bool = False
                 ) -> tuple[list[Visit], list[dict[str, object]], list[str], list[str]]:
    """The weeks of ``simulate_season`` planned one after the other: the visits made, a row
    per week, the requests that expired and those still open. Past ``until``
    (``time.perf_counter`` seconds) each week left gets a tenth of a second (its quick plan):
    the weeks then end close to it, whatever their number. With ``release`` each week's model
    is freed and its memory handed back before the next (inside a solve, where the cycle
    collector is off, 33 weeks' models held 1.3 GB)."""
    mondays = _mondays(problem.horizon)
    open_: dict[str, tuple[Request, int]] = {}
    made: list[Visit] = []
    rows: list[dict[str, object]] = []
    expired: list[str] = []
    by_week: dict[dt.date, list[Request]] = defaultdict(list)
    for q in problem.requests:
        by_week[q.earliest - dt.timedelta(days=q.earliest.weekday())].append(q)
    for w, monday in enumerate(mondays):
        end = monday + dt.timedelta(days=6)
        for q in by_week.get(monday, []):
            open_[q.id] = (q, 0)
        asked = _after_earlier_weeks(
            [replace(q, earliest=max(q.earliest, monday), latest=min(q.latest, end))
             for q, _carried in open_.values()], made)
        week = _week_problem(problem, monday, end, asked, made, goals)
        limit = time_limit if until is None or time.perf_counter() < until else 0.1
        if asked:
            plan = solve(week, SolveOptions(time_limit=limit, seed=seed * 1000 + w,
                                            workers=workers, explain=False,
                                            travel_speed_factor=travel_speed_factor))
            served = {v.request for v in plan.visits}
            made.extend(plan.visits)
            if release:
                release_memory()
        else:
            plan, served = None, set()
        carried_in = sum(1 for _q, c in open_.values() if c)
        gone = 0
        for rid in list(open_):
            q, carried = open_[rid]
            if rid in served:
                del open_[rid]
            elif q.latest <= end and q.latest < problem.horizon.end:
                del open_[rid]
                expired.append(rid)
                gone += 1
            else:
                open_[rid] = (q, carried + 1)
        rows.append({"week": monday, "requests": len(asked), "carried_in": carried_in,
                     "expired": gone,
                     "status": plan.status if plan else "nothing asked",
                     "visits": len(served),
                     "expert_visits": plan.kpis.get("expert_visits", 0) if plan else 0,
                     "served_priority": plan.kpis.get("served_priority", 0) if plan else 0,
                     "drive_minutes": plan.kpis.get("drive_minutes", 0) if plan else 0,
                     "solve_seconds": round(plan.solve_seconds, 3) if plan else 0.0})
        if progress is not None:
            progress(w + 1, len(mondays))
    return made, rows, expired, list(open_)


def _season_plan(problem: PlanRequest, visits: list[Visit], t0: float,
                 speed_factor: float) -> Plan:
    """The season's weeks as one plan of the season request (routes, objective, KPIs,
    coverage; the weeks' reasons are not carried: a request left out says it gave way), its
    drives, reasons and bound at the weeks' driving speed (``speed_factor``): a bound made at
    the estimated speed does not hold a season on faster roads."""

    travel = TravelTimes(problem, speed_factor=speed_factor)
    order = {q.id: i for i, q in enumerate(problem.requests)}
    visits = sorted(visits, key=lambda v: order[v.request])
    routes = build_routes(problem, travel, visits)
    explainer = Explainer(problem, travel)
    served = {v.request for v in visits}
    unscheduled = explainer.explain_unscheduled(served, visits, routes)
    value = objective_of(problem, visits, routes)
    bound, method = season_bound(problem, travel, value, explainer)
    plan = Plan(status="feasible", objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled),
                solver=SolveInfo(bound_method=method, extra={"simulated": "week by week"}),
                coverage=tuple(explainer.explain_coverage(visits, unscheduled)),
                breaks=plan_breaks(problem, travel, visits))
    return replace(plan, kpis=plan_kpis(problem, plan))


def season_bound(problem: PlanRequest, travel: TravelTimes, value: int,
                 explainer: Explainer) -> tuple[int, str]:
    """The bound a season simulated week by week reports, with its name (FORMAT.md,
    ``bound_method``): the least of the capacity bound (``solvers.parts.capacity``, seconds at
    any horizon, within ``_BOUND_SECONDS``) and the Lagrangian bound (``solvers.parts.lagrange``,
    started from the capacity bound's prices, within ``_BOUND_SECONDS`` more) where it is below
    the trivial one, else every request that has an option served with no driving. Never below
    ``value``, the plan's own objective (weak duality says a bound cannot be; a solver's
    rounding might)."""
    trivial = trivial_bound(problem, {q.id for q in problem.requests
                                      if explainer.options.get(q.id)})
    capacity = capacity_prices(problem, travel, _BOUND_SECONDS)
    found = [] if capacity is None else [(capacity[0], CAPACITY)]
    # the Lagrangian relaxation's tours run from the base: none where an expert may stay away
    lagrangian = None if any(night_places(problem, e) for e in problem.experts) else \
        lagrangian_bound(problem, travel, time.perf_counter() + _BOUND_SECONDS,
                         prices=capacity[1] if capacity else None)
    if lagrangian is not None:
        found.append((lagrangian, LAGRANGIAN))
    held = [(b, how) for b, how in found if value <= b < trivial]
    if held:
        return min(held)
    return max(value, trivial), TRIVIAL


#: Seconds for each of the season simulation's bounds (the capacity bound's HiGHS: 2–5 s on 33
#: weeks; the Lagrangian bound: 10–15 s).
_BOUND_SECONDS = 20.0


# ---------------------------------------------------------------------------- figures
def season_tables(problem: PlanRequest, plan: Plan) -> dict[str, pd.DataFrame | pd.Series]:
    """The season's figures: ``summary`` (a Series), ``experts`` (per expert: on-site visits —
    one expert at one municipality is one visit —, online consultations, on-site days, priority
    served), ``coverage`` (per municipality: consultations, floor, shortfall, population, small
    town or not) and ``months`` (on-site days per expert and month, with the contract's
    cap)."""
    small = problem.goals.small_towns
    threshold = small.population_below if small is not None else SMALL_TOWN_POPULATION
    locs = problem.location_by_id
    prio = {q.id: q.priority for q in problem.requests}
    onsite = [v for v in plan.visits if v.mode == "onsite"]
    in_small = [v for v in plan.visits if (p := locs[v.location].population) is not None
                and p < threshold]
    experts = pd.DataFrame(
        [{"expert": e.id, "name": e.name or e.id,
          "onsite_visits": sum(1 for v in onsite if e.id in v.experts),
          "online_consultations": sum(1 for v in plan.visits
                                      if v.mode == "online" and e.id in v.experts),
          "onsite_days": len({r.date for r in plan.routes if r.expert == e.id}),
          "served_priority": sum(prio[v.request] for v in plan.visits if e.id in v.experts)}
         for e in problem.experts]).set_index("expert")
    floors = {c.location: c for c in coverage_of(problem, plan.visits)}
    bases = {e.base for e in problem.experts}
    seen = Counter(v.location for v in plan.visits)
    coverage = pd.DataFrame(
        [{"location": loc.id, "name": loc.name, "visits": seen[loc.id],
          "min_visits": floors[loc.id].min_visits if loc.id in floors else 0,
          "shortfall": floors[loc.id].shortfall if loc.id in floors else 0,
          "population": loc.population,
          "small_town": loc.population is not None and loc.population < threshold}
         for loc in problem.locations if loc.id not in bases or loc.id in floors]
    ).set_index("location")
    months_rows = []
    for e in problem.experts:
        per: Counter[tuple[int, int]] = Counter((r.date.year, r.date.month)
                                                for r in plan.routes if r.expert == e.id)
        for d in sorted({(d.year, d.month) for d in problem.horizon.dates}):
            months_rows.append({"expert": e.id, "month": f"{d[0]:04d}-{d[1]:02d}",
                                "onsite_days": per[d], "cap": e.month_cap(*d)})
    months = pd.DataFrame(months_rows).set_index(["expert", "month"])
    summary = pd.Series({
        "requests": len(problem.requests), "visits": len(plan.visits),
        "onsite_visits": len(onsite),
        "expert_visits": sum(len(v.experts) for v in onsite),
        "served_priority": sum(prio[v.request] for v in plan.visits),
        "municipalities_reached": int((coverage["visits"] > 0).sum()),
        "municipalities": len(coverage),
        "coverage_shortfall": int(coverage["shortfall"].sum()),
        "small_town_share": len(in_small) / len(plan.visits) if plan.visits else 0.0,
        "drive_minutes": sum(r.drive_minutes for r in plan.routes),
        "objective": plan.objective,
    }, name="season")
    return {"summary": summary, "experts": experts, "coverage": coverage, "months": months}


def compare_seasons(plans: Mapping[str, tuple[PlanRequest, Plan]]) -> pd.DataFrame:
    """Season summaries side by side (one column per named plan)."""
    return pd.DataFrame({name: season_tables(p, plan)["summary"]
                         for name, (p, plan) in plans.items()})
