"""Two vehicle-routing solvers as peers of the planner, on the routing subset of a problem.

Both see the same expression of ``benchmarks.generate.routing_subset``:

- one *vehicle* per expert and workable date (weekends, holidays, the expert's own days and
  blackouts removed), starting and ending at the expert's base, within
  ``[work_start, work_end]``; its skills are the expert's fields;
- one *job* per request at its location, with its field as skill, its duration as service
  time, start times in the intersection of the location's hours and the request's window
  (``[max(open, window start), min(close, window end) − duration]``) on each date between
  ``earliest`` and ``latest``;
- the expert's per-day visit cap as the vehicle's task limit and the daily drive cap as its
  travel-time limit;
- driving minutes from ``engine.travel.TravelTimes``, the planner's own matrix.

VROOM maximises served priority first (lexicographically), then minimises driving. OR-Tools
routing minimises driving + 1000 × priority of each dropped job (disjunction penalty), the
same as the planner's default objective. Neither proves a bound: their plans carry the trivial
one (``trivial_bound``), and benchmark gaps use the planner's proven bound instead. Their answers come back as ``Plan`` objects with
visits at the times the solver chose and routes in the solver's order, so the same KPIs and
validity checks apply to all three.

Examples
--------
>>> from engine.demand import ehime_week
>>> from benchmarks.generate import routing_subset
>>> plan = solve_vroom(routing_subset(ehime_week("2026-12-07", seed=1)))   # doctest: +SKIP
>>> plan.kpis["served_priority"]                                            # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from engine.calendar import workable_dates
from engine.kpis import plan_kpis
from engine.model import Expert, Plan, PlanRequest, Request, Route, Unscheduled, Visit
from engine.travel import TravelTimes

__all__ = [
    "DAY",
    "ExpertDay",
    "RoutingView",
    "plan_objective",
    "routing_view",
    "solve_ortools_routing",
    "solve_vroom",
    "trivial_bound",
]

#: Minutes in a day: VROOM works on one time axis, date ``k`` of the horizon starts at k × DAY.
DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class ExpertDay:
    """A vehicle: one expert on one workable date."""

    expert: Expert
    date: dt.date
    day_index: int


@dataclass(frozen=True)
class RoutingView:
    """The routing expression of a problem: vehicles, jobs and their start windows.

    ``windows[rid]`` lists ``(date, lo, hi)``: the request may start between ``lo`` and ``hi``
    (minutes after midnight) on ``date``; requests with no window at all are never servable.
    """

    problem: PlanRequest
    vehicles: tuple[ExpertDay, ...]
    jobs: tuple[Request, ...]
    windows: dict[str, list[tuple[dt.date, int, int]]]
    skipped: tuple[str, ...]


def routing_view(problem: PlanRequest) -> RoutingView:
    """Vehicles and jobs of a routing-subset problem. Raises ``ValueError`` for a request
    that is online or joint (build it with ``routing_subset`` first)."""
    start = problem.horizon.start
    vehicles = tuple(ExpertDay(e, d, (d - start).days)
                     for e in problem.experts for d in workable_dates(problem, e))
    windows: dict[str, list[tuple[dt.date, int, int]]] = {}
    jobs, skipped = [], []
    for q in problem.requests:
        if not q.onsite or len(q.fields) != 1:
            raise ValueError(f"request {q.id!r} is not on-site single-field: not routable")
        loc = problem.location_by_id[q.location]
        lo = max(loc.open, q.window[0] if q.window else 0)
        hi = min(loc.close, q.window[1] if q.window else DAY) - q.duration_min
        dates = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        wins = [(d, lo, hi) for d in dates if problem.horizon.start <= d <= problem.horizon.end]
        if lo > hi or not wins:
            skipped.append(q.id)
            continue
        windows[q.id] = wins
        jobs.append(q)
    return RoutingView(problem, vehicles, tuple(jobs), windows, tuple(skipped))


def trivial_bound(problem: PlanRequest) -> int:
    """An upper bound on any plan's objective without solving: every request served with no
    driving (priority weight × Σ priority). The routing solvers prove no bound of their own;
    this is the honest one their ``plan/1`` carries (``bound`` is required with a result)."""
    return problem.objective.priority * sum(q.priority for q in problem.requests)


def plan_objective(problem: PlanRequest, visits: list[Visit], routes: list[Route]) -> int:
    """FORMAT.md's objective of a plan: priority × Σ priority − drive_minute × Σ drive −
    onsite_day × on-site expert-days."""
    w = problem.objective
    prio = sum(problem.request_by_id[v.request].priority for v in visits)
    drive = sum(r.drive_minutes for r in routes)
    return w.priority * prio - w.drive_minute * drive - w.onsite_day * len(routes)


Tour = tuple[ExpertDay, list[tuple[str, int]]]


def _plan(view: RoutingView, travel: TravelTimes, tours: list[Tour], seconds: float,
          solver: dict[str, object]) -> Plan:
    """A ``Plan`` from tours: per vehicle, (request id, start minute of day) in visiting order."""
    p = view.problem
    visits: list[Visit] = []
    routes: list[Route] = []
    for veh, stops in tours:
        if not stops:
            continue
        base = veh.expert.base
        locs = [p.request_by_id[rid].location for rid, _ in stops]
        for rid, s in stops:
            q = p.request_by_id[rid]
            visits.append(Visit(rid, (veh.expert.id,), q.location, "onsite", veh.date, s,
                                s + q.duration_min))
        path = [base, *locs, base]
        drive = sum(travel.minutes(a, b) for a, b in zip(path, path[1:], strict=False))
        first_rid, first_start = stops[0]
        last_rid, last_start = stops[-1]
        leave = first_start - travel.minutes(base, locs[0])
        ret = last_start + p.request_by_id[last_rid].duration_min + travel.minutes(locs[-1], base)
        routes.append(Route(veh.expert.id, veh.date, leave, ret, tuple(locs), drive))
    served = {v.request for v in visits}
    name = str(solver.get("name", "solver"))
    unscheduled = tuple(
        Unscheduled(q.id, (f"not served by {name}",), (f"{name} で未割当",), ("not_planned",))
        for q in p.requests if q.id not in served)
    visits.sort(key=lambda v: (v.date, v.start, v.request))
    bound = trivial_bound(p)
    plan = Plan(status="feasible", objective=plan_objective(p, visits, routes), bound=bound,
                solve_seconds=seconds, visits=tuple(visits), routes=tuple(routes),
                unscheduled=unscheduled, solver=solver)
    return Plan(status=plan.status, objective=plan.objective, bound=bound, solve_seconds=seconds,
                visits=plan.visits, routes=plan.routes, unscheduled=plan.unscheduled,
                kpis=plan_kpis(p, plan), solver=solver)


def _locations(view: RoutingView) -> list[str]:
    ids = sorted({v.expert.base for v in view.vehicles} | {q.location for q in view.jobs})
    return ids


def solve_vroom(problem: PlanRequest, *, threads: int = 1, exploration_level: int = 5,
                time_limit: float | None = None) -> Plan:
    """Solve the routing subset ``problem`` with VROOM (pyvroom); a ``Plan`` with status
    ``feasible`` (VROOM proves nothing) and the trivial bound."""
    import vroom

    t0 = time.perf_counter()
    view = routing_view(problem)
    travel = TravelTimes(problem)
    ids = _locations(view)
    index = {lid: i for i, lid in enumerate(ids)}
    fields = sorted({f for e in problem.experts for f in e.fields}
                    | {q.fields[0] for q in view.jobs})
    skill = {f: i + 1 for i, f in enumerate(fields)}
    inp = vroom.Input()
    inp.set_durations_matrix(profile="car", matrix_input=[[travel.minutes(a, b) for b in ids]
                                                          for a in ids])
    for k, veh in enumerate(view.vehicles):
        e = veh.expert
        off = veh.day_index * DAY
        kwargs: dict[str, object] = {}
        if e.max_visits_per_day is not None:
            kwargs["max_tasks"] = e.max_visits_per_day
        if e.max_drive_minutes_per_day is not None:
            kwargs["max_travel_time"] = e.max_drive_minutes_per_day
        inp.add_vehicle(vroom.Vehicle(
            k, start=index[e.base], end=index[e.base], skills={skill[f] for f in e.fields},
            time_window=vroom.TimeWindow(off + e.work_start, off + e.work_end), **kwargs))
    start = problem.horizon.start
    for j, q in enumerate(view.jobs):
        tws = [vroom.TimeWindow((d - start).days * DAY + lo, (d - start).days * DAY + hi)
               for d, lo, hi in view.windows[q.id]]
        inp.add_job(vroom.Job(j, location=index[q.location], default_service=q.duration_min,
                              skills={skill[q.fields[0]]}, priority=q.priority,
                              time_windows=tws))
    timeout = dt.timedelta(seconds=time_limit) if time_limit is not None else None
    sol = inp.solve(exploration_level=exploration_level, nb_threads=threads, timeout=timeout)
    seconds = time.perf_counter() - t0
    tours: list[Tour] = []
    df = sol.routes
    if len(df):
        for vid, grp in df.groupby("vehicle_id", sort=True):
            veh = view.vehicles[int(vid)]
            stops = []
            for row in grp[grp["type"] == "job"].itertuples():
                t = int(row.arrival) + int(row.waiting_time) - veh.day_index * DAY
                stops.append((view.jobs[int(row.id)].id, t))
            tours.append((veh, stops))
    info: dict[str, object] = {"name": "VROOM", "threads": threads,
                               "exploration_level": exploration_level, "time_limit": time_limit}
    return _plan(view, travel, tours, seconds, info)


def solve_ortools_routing(problem: PlanRequest, *, time_limit: float = 10.0,
                          penalty_per_priority: int = 1000) -> Plan:
    """Solve the routing subset ``problem`` with OR-Tools routing (``pywrapcp``): guided local
    search for ``time_limit`` seconds; dropping a job costs ``penalty_per_priority`` × its
    priority. Time of day is the time dimension (slack = waiting); the drive cap is a
    per-vehicle capacity of a travel dimension and the per-day cap of a count dimension."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    t0 = time.perf_counter()
    view = routing_view(problem)
    travel = TravelTimes(problem)
    bases = sorted({v.expert.base for v in view.vehicles})
    node_loc = bases + [q.location for q in view.jobs]
    service = [0] * len(bases) + [q.duration_min for q in view.jobs]
    nb = len(bases)
    vehicles = view.vehicles
    if not vehicles:
        return _plan(view, travel, [], time.perf_counter() - t0,
                     {"name": "OR-Tools routing", "time_limit": time_limit})
    starts = [bases.index(v.expert.base) for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(len(node_loc), len(vehicles), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    drive_m = [[travel.minutes(a, b) for b in node_loc] for a in node_loc]

    def drive_cb(i: int, j: int) -> int:
        return drive_m[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def time_cb(i: int, j: int) -> int:
        a = manager.IndexToNode(i)
        return drive_m[a][manager.IndexToNode(j)] + service[a]

    def count_cb(i: int) -> int:
        return 1 if manager.IndexToNode(i) >= nb else 0

    drive_idx = routing.RegisterTransitCallback(drive_cb)
    time_idx = routing.RegisterTransitCallback(time_cb)
    count_idx = routing.RegisterUnaryTransitCallback(count_cb)
    routing.SetArcCostEvaluatorOfAllVehicles(drive_idx)
    routing.AddDimension(time_idx, DAY, DAY, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    big = 10 * DAY
    routing.AddDimensionWithVehicleCapacity(
        drive_idx, 0, [v.expert.max_drive_minutes_per_day if v.expert.max_drive_minutes_per_day
                       is not None else big for v in vehicles], True, "drive")
    routing.AddDimensionWithVehicleCapacity(
        count_idx, 0, [v.expert.max_visits_per_day if v.expert.max_visits_per_day is not None
                       else len(view.jobs) for v in vehicles], True, "count")
    for k, v in enumerate(vehicles):
        for idx in (routing.Start(k), routing.End(k)):
            tdim.CumulVar(idx).SetRange(v.expert.work_start, v.expert.work_end)
    for j, q in enumerate(view.jobs):
        idx = manager.NodeToIndex(nb + j)
        wins = view.windows[q.id]
        dates = {d for d, _, _ in wins}
        lo, hi = wins[0][1], wins[0][2]      # the same window of day on every date
        tdim.CumulVar(idx).SetRange(lo, hi)
        allowed = [k for k, v in enumerate(vehicles)
                   if v.date in dates and q.fields[0] in v.expert.fields]
        # -1 is "not served" (the disjunction decides); the vehicles are the allowed ones.
        routing.VehicleVar(idx).SetValues([-1, *allowed])
        routing.AddDisjunction([idx], penalty_per_priority * q.priority)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    sol = routing.SolveWithParameters(params)
    seconds = time.perf_counter() - t0
    info: dict[str, object] = {"name": "OR-Tools routing", "time_limit": time_limit,
                               "metaheuristic": "guided local search"}
    tours: list[Tour] = []
    if sol is None:
        info["status"] = "no solution"
        return _plan(view, travel, [], seconds, info)
    for k, veh in enumerate(vehicles):
        stops = []
        idx = sol.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            stops.append((view.jobs[node - nb].id, sol.Min(tdim.CumulVar(idx))))
            idx = sol.Value(routing.NextVar(idx))
        tours.append((veh, stops))
    return _plan(view, travel, tours, seconds, info)
