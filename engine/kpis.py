"""Key figures of a plan, the same everywhere (CLI, plan/1 ``kpis``, scenarios, dashboard).

- ``visits``: scheduled requests (on-site and online);
- ``onsite_visits`` / ``online_consultations``: by mode;
- ``expert_visits``: on-site expert-visits, the programme's own count (one expert at one
  municipality is one visit; two experts together count as two);
- ``served_priority``: Σ priority of scheduled requests; ``drive_minutes``: Σ of routes;
- ``onsite_expert_days``: expert-dates with an on-site visit;
- ``unscheduled``, ``requests``, ``municipalities_served`` (distinct locations with a visit);
- ``moved`` (with a previous plan): last plan's visits not kept exactly;
- ``small_town_priority``: Σ priority served in towns under ``goals.small_towns``'s threshold
  (50,000 people when the request sets none);
- with ``goals.coverage``: ``coverage_shortfall`` (consultations missing below the floors) and
  ``locations_below_floor``;
- where some expert may stay away (``experts[].overnight``): ``nights`` (nights away) and
  ``night_cost`` (what they cost in the objective);
- where some request has a ``due`` date: ``late_days`` (Σ calendar days visits fall after
  their due dates) and ``late_visits`` (visits after their due date);
- where some expert has ``overtime``: ``overtime_minutes`` (Σ minutes their days end past
  ``work_end``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from engine.model import LocationCoverage, Plan, PlanRequest, Request, Route, Visit
from engine.nights import nights_of

__all__ = ["SATISFACTION_TARGET", "SATISFIED", "coverage_of", "day_ends", "late_days",
           "objective_of", "onsite_expert_days", "overtime_cost",
           "plan_kpis", "satisfaction_kpis", "served_value"]

#: Towns under this many inhabitants count as small when the request sets no threshold.
SMALL_TOWN_POPULATION = 50_000


def coverage_of(problem: PlanRequest, visits: Iterable[Visit]) -> list[LocationCoverage]:
    """Each location with a coverage floor (``goals.coverage``): consultations of the counted
    modes planned there, the floor and the shortfall (no reasons: the planner adds them)."""
    c = problem.goals.coverage
    if c is None:
        return []
    seen = Counter(v.location for v in visits if v.mode in c.modes)
    return [LocationCoverage(lid, seen[lid], floor, max(0, floor - seen[lid]))
            for lid, floor in c.floors(problem).items()]


def served_value(problem: PlanRequest, q: Request) -> int:
    """What serving request ``q`` adds to FORMAT.md's objective: priority × its weight, plus
    the small-town bonus per priority point where that season goal is set and ``q``'s place
    is a small town. The one definition: the objective, the bounds and the slot proposals
    all count a served request by it."""
    small = problem.goals.small_towns
    bonus = small.bonus if small is not None and small.includes(
        problem.location_by_id[q.location]) else 0
    return q.priority * (problem.objective.priority + bonus)


def night_costs(problem: PlanRequest, routes: Iterable[Route]) -> int:
    """Σ ``night_cost`` of the nights away of these routes (a route ending off the base)."""
    cost = {e.id: e.overnight.night_cost for e in problem.experts if e.overnight is not None}
    return sum(cost.get(eid, 0) for eid, _d in nights_of(problem, routes))


def onsite_expert_days(visits: Iterable[Visit]) -> set[tuple[str, dt.date]]:
    """The (expert, date) pairs with an on-site visit: the on-site days that caps count and
    ``objective.onsite_day`` pays (a route to a standing appointment alone is none)."""
    return {(e, v.date) for v in visits if v.mode == "onsite" for e in v.experts}


def late_days(problem: PlanRequest, visits: Iterable[Visit]) -> int:
    """Σ calendar days the visits fall after their requests' ``due`` dates."""
    return sum(problem.request_by_id[v.request].days_late(v.date) for v in visits)


def day_ends(visits: Iterable[Visit], routes: Iterable[Route]) -> dict[tuple[str, dt.date], int]:
    """When each expert-day with a consultation ends (minutes after midnight): the later of
    the drive home's end (``return``) and the end of its last consultation, online included."""
    ends: dict[tuple[str, dt.date], int] = {}
    for v in visits:
        for eid in v.experts:
            ends[eid, v.date] = max(ends.get((eid, v.date), v.end), v.end)
    for r in routes:
        ends[r.expert, r.date] = max(ends.get((r.expert, r.date), r.return_), r.return_)
    return ends


def overtime_cost(problem: PlanRequest, visits: Iterable[Visit], routes: Iterable[Route]) -> int:
    """Σ over expert-days of ``overtime.minute_cost`` × the minutes the day ends past
    ``work_end`` (0 for experts without ``overtime``)."""
    return sum(problem.expert_by_id[eid].overtime_cost(end)
               for (eid, _d), end in day_ends(visits, routes).items()
               if eid in problem.expert_by_id)


def objective_of(problem: PlanRequest, visits: Iterable[Visit], routes: Iterable[Route]) -> int:
    """FORMAT.md's objective of a plan: priority × Σ priority served − drive_minute × Σ drive
    minutes − onsite_day × expert-dates on site − late_day × Σ days late − Σ overtime
    minute_cost × minutes past work_end − Σ night costs (``experts[].overnight``), +
    small_towns.bonus × Σ priority served in small towns − coverage.penalty × Σ shortfall
    (season goals, when set)."""
    visits, routes = list(visits), list(routes)
    w = problem.objective
    value = (sum(served_value(problem, problem.request_by_id[v.request]) for v in visits)
             - w.drive_minute * sum(r.drive_minutes for r in routes)
             - w.onsite_day * len(onsite_expert_days(visits))
             - w.late_day * late_days(problem, visits)
             - overtime_cost(problem, visits, routes) - night_costs(problem, routes))
    c = problem.goals.coverage
    if c is not None:
        value -= c.penalty * sum(x.shortfall for x in coverage_of(problem, visits))
    return value


def plan_kpis(problem: PlanRequest, plan: Plan, previous: Plan | None = None) -> dict[str, int]:
    """The KPI mapping of ``plan`` (integers)."""
    prio = {q.id: q.priority for q in problem.requests}
    onsite = [v for v in plan.visits if v.mode == "onsite"]
    k = {
        "visits": len(plan.visits),
        "expert_visits": sum(len(v.experts) for v in onsite),
        "served_priority": sum(prio.get(v.request, 0) for v in plan.visits),
        "drive_minutes": sum(r.drive_minutes for r in plan.routes),
        "onsite_visits": len(onsite),
        "online_consultations": len(plan.visits) - len(onsite),
        "onsite_expert_days": len(onsite_expert_days(plan.visits)),
        "unscheduled": len(plan.unscheduled),
        "requests": len(problem.requests),
        "municipalities_served": len({v.location for v in plan.visits}),
    }
    small = problem.goals.small_towns
    threshold = small.population_below if small is not None else SMALL_TOWN_POPULATION
    k["small_town_priority"] = sum(
        prio.get(v.request, 0) for v in plan.visits
        if (loc := problem.location_by_id.get(v.location)) is not None
        and loc.population is not None and loc.population < threshold)
    if any(e.overnight is not None for e in problem.experts):
        k["nights"] = len(nights_of(problem, plan.routes))
        k["night_cost"] = night_costs(problem, plan.routes)
    if any(q.due is not None for q in problem.requests):
        k["late_days"] = late_days(problem, plan.visits)
        k["late_visits"] = sum(1 for v in plan.visits
                               if problem.request_by_id[v.request].days_late(v.date))
    if any(e.overtime is not None for e in problem.experts):
        k["overtime_minutes"] = sum(
            max(0, end - problem.expert_by_id[eid].work_end)
            for (eid, _d), end in day_ends(plan.visits, plan.routes).items()
            if (e := problem.expert_by_id.get(eid)) is not None and e.overtime is not None)
    if problem.goals.coverage is not None:
        cov = coverage_of(problem, plan.visits)
        k["coverage_shortfall"] = sum(x.shortfall for x in cov)
        k["locations_below_floor"] = sum(1 for x in cov if x.shortfall)
    if previous is not None:
        now = {v.request: v for v in plan.visits}
        k["moved"] = sum(
            1 for v in previous.visits if v.request in prio and (
                (w := now.get(v.request)) is None or w.date != v.date or w.start != v.start
                or set(w.experts) != set(v.experts)))
    return k


#: A satisfaction of at least this (on 1–5) counts as satisfied.
SATISFIED = 4
#: The programme's yardstick: this share of rated visits satisfied.
SATISFACTION_TARGET = 0.8


def satisfaction_kpis(ratings: list[int | None], held: list[bool | None]) -> dict[str, object]:
    """Outcome figures of a set of visits: ``visits``, ``recorded`` (an outcome was entered),
    ``held``, ``rated`` (a satisfaction 1–5 given), ``satisfied`` (rated ≥ ``SATISFIED``),
    ``satisfaction_share`` (satisfied ÷ rated, ``None`` when nothing is rated),
    ``mean_satisfaction``, ``target`` (``SATISFACTION_TARGET``) and ``meets_target``.

    >>> satisfaction_kpis([5, 4, 2, None], [True, True, True, None])["satisfaction_share"]
    0.6667
    """
    rated = [r for r in ratings if r is not None]
    satisfied = sum(1 for r in rated if r >= SATISFIED)
    share = round(satisfied / len(rated), 4) if rated else None
    return {
        "visits": len(ratings),
        "recorded": sum(1 for h in held if h is not None),
        "held": sum(1 for h in held if h),
        "rated": len(rated),
        "satisfied": satisfied,
        "satisfaction_share": share,
        "mean_satisfaction": round(sum(rated) / len(rated), 2) if rated else None,
        "target": SATISFACTION_TARGET,
        "meets_target": None if share is None else share >= SATISFACTION_TARGET,
    }
