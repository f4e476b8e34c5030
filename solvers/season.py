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

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from engine.kpis import SMALL_TOWN_POPULATION, coverage_of, objective_of, plan_kpis
from engine.model import (
    Fixed,
    Plan,
    PlanRequest,
    Request,
    SolveInfo,
    Visit,
)
from engine.nights import night_places
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.parts.capacity import capacity_prices
from solvers.parts.lagrange import lagrangian_bound
from solvers.parts.solve import CAPACITY, LAGRANGIAN, TRIVIAL
from solvers.parts.weeks import week_by_week
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


# ---------------------------------------------------------------------------- simulation
@dataclass(frozen=True)
class SeasonSimulation:
    """A season planned week by week: the plan it adds up to (``plan``, checked against the
    season request like any plan), one row per week (``weeks``), requests that expired."""

    plan: Plan
    weeks: pd.DataFrame
    expired: tuple[str, ...]
    still_open: tuple[str, ...] = ()


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
    def solve_week(week: PlanRequest, limit: float, week_seed: int) -> Plan:
        return solve(week, SolveOptions(time_limit=limit, seed=week_seed, workers=workers,
                                        explain=False, travel_speed_factor=travel_speed_factor))

    made, rows, expired, still_open = week_by_week(
        problem, solve_week, time_limit=time_limit, seed=seed, goals=goals, progress=progress)
    return SeasonSimulation(_season_plan(problem, made, t0, travel_speed_factor),
                            pd.DataFrame(rows).set_index("week"), tuple(expired),
                            tuple(still_open))


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
