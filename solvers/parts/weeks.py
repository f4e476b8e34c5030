"""A season's weeks planned one after the other (``week_by_week``): a week's requests, each
expert's caps less what the earlier weeks used, the coverage floors less what they made, the
follow-ups of earlier weeks' visits linked to them. Used by the season's simulation
(``solvers.season.simulate_season``) and as the first plan of a season by parts
(``solvers.parts.solve``); the week's solver is given, so that this module needs no planner.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace

from engine.model import Coverage, Goals, Horizon, Plan, PlanRequest, Request, Visit
from solvers.executor import release_memory

__all__ = ["WeekSolver", "after_earlier_weeks", "mondays", "week_by_week", "week_problem"]

#: Plans one week: ``(week, time limit in seconds, seed) -> Plan``.
WeekSolver = Callable[[PlanRequest, float, int], Plan]


def after_earlier_weeks(asked: list[Request], made: list[Visit]) -> list[Request]:
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



def mondays(h: Horizon) -> list[dt.date]:
    first = h.start - dt.timedelta(days=h.start.weekday())
    out, d = [], first
    while d <= h.end:
        out.append(d)
        d += dt.timedelta(days=7)
    return out



def week_problem(problem: PlanRequest, start: dt.date, end: dt.date,
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



def week_by_week(problem: PlanRequest, solve_week: WeekSolver, *, time_limit: float = 2.0,
                 seed: int = 0, goals: bool = True,
                 progress: Callable[[int, int], None] | None = None,
                 until: float | None = None, release: bool = False
                 ) -> tuple[list[Visit], list[dict[str, object]], list[str], list[str]]:
    """The season's weeks planned one after the other, each by ``solve_week(week, time limit,
    seed)``: the visits made, a row per week, the requests that expired and those still open.
    No week starts past ``until`` (``time.perf_counter`` seconds): the requests of the weeks
    not planned stay open, whatever the number of weeks. With ``release`` each week's model
    is freed and its memory handed back before the next (inside a solve, where the cycle
    collector is off, 33 weeks' models held 1.3 GB)."""
    monday_list = mondays(problem.horizon)
    open_: dict[str, tuple[Request, int]] = {}
    made: list[Visit] = []
    rows: list[dict[str, object]] = []
    expired: list[str] = []
    by_week: dict[dt.date, list[Request]] = defaultdict(list)
    for q in problem.requests:
        by_week[q.earliest - dt.timedelta(days=q.earliest.weekday())].append(q)
    for w, monday in enumerate(monday_list):
        if until is not None and time.perf_counter() >= until:
            break
        end = monday + dt.timedelta(days=6)
        for q in by_week.get(monday, []):
            open_[q.id] = (q, 0)
        asked = after_earlier_weeks(
            [replace(q, earliest=max(q.earliest, monday), latest=min(q.latest, end))
             for q, _carried in open_.values()], made)
        week = week_problem(problem, monday, end, asked, made, goals)
        if asked:
            plan = solve_week(week, time_limit if until is None else
                              max(0.01, min(time_limit, until - time.perf_counter())),
                              seed * 1000 + w)
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
            progress(w + 1, len(monday_list))
    return made, rows, expired, list(open_)
