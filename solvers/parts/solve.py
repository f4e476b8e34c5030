"""Solving by parts: the parts in parallel, joined, repaired across their borders, bounded by
the relaxation and explained (the steps in ``solvers.parts``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine.kpis import plan_kpis
from engine.model import (
    Expert,
    Plan,
    PlanRequest,
    Request,
    Route,
    SolveInfo,
    Status,
    Unscheduled,
    Visit,
)
from engine.nights import night_places, nights_of
from engine.travel import TravelTimes
from solvers.executor import Executor, make_executor
from solvers.explain import Explainer, not_analysed
from solvers.greedy import greedy_visits, keep_fitting
from solvers.objective import objective_value, trivial_bound
from solvers.options import SolveOptions
from solvers.parts.bound import relaxation_bound
from solvers.parts.capacity import capacity_prices
from solvers.parts.hoods import Neighbourhood, as_fixed_visits, share_coverage, sub_problem
from solvers.parts.lagrange import lagrangian_bound
from solvers.parts.run import PartRules, PartSolver, Task, catching, run_tasks, workers_of
from solvers.parts.series import keep_series_together
from solvers.parts.split import Split, WindowSplit, default_split
from solvers.parts.weeks import mondays, week_by_week
from solvers.routes import build_routes, plan_breaks
from solvers.size import needs_parts

__all__ = ["CAPACITY", "LAGRANGIAN", "RELAXATION", "TRIVIAL", "join", "needs_parts",
           "plan_bounds", "solve_by_parts"]

#: Repair rounds at most (each round: disjoint neighbourhoods, solved in parallel).
_MAX_ROUNDS = 40

#: ``plan.solver["bound_method"]`` of each bound (FORMAT.md).
CAPACITY = "capacity by month (HiGHS)"
LAGRANGIAN = "Lagrangian relaxation by expert"
RELAXATION = "LP relaxation (HiGHS), solved once"
TRIVIAL = "every request served with no driving"


def join(problem: PlanRequest, travel: TravelTimes, visits: Iterable[Visit]) -> list[Visit]:
    """One set of visits from the parts' plans: each visit kept when it fits beside those
    kept before it (``solvers.greedy.keep_fitting``), in the order given; a request is
    served once."""
    kept, _dropped = keep_fitting(problem, travel, visits)
    return kept


def _objective(problem: PlanRequest, travel: TravelTimes, visits: Sequence[Visit]) -> int:
    return objective_value(problem, list(visits), build_routes(problem, travel, list(visits)))


def _greedy_part(problem: PlanRequest, start: Sequence[Visit], until: float,
                 speed_factor: float) -> list[Visit]:
    """A part's quick plan (``solvers.greedy``) at the whole plan's driving speed, placing no
    request after ``until``."""
    travel = TravelTimes(problem, speed_factor=speed_factor)
    start_plan = Plan(status="feasible", objective=None, bound=None, solve_seconds=0.0,
                      visits=tuple(start)) if start else None
    return greedy_visits(problem, travel, Explainer(problem, travel).options, start_plan,
                         until=until)


def solve_by_parts(problem: PlanRequest, options: SolveOptions, split: Split | None = None,
                   executor: Executor | None = None, *, part_solver: PartSolver) -> Plan:
    """Plan ``problem`` by parts (``solvers.parts``); the parts run on ``executor`` when
    given, else on the one ``options`` names, each as ``part_solver(problem, time_limit,
    seed, deterministic_time, start, rules)`` (``solvers.planner.solve_part``: one model),
    ``rules`` carrying ``options.travel_speed_factor`` (every part, repair, reason and bound
    drives at the speed the plan is checked with)."""
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
        n_work = workers_of(executor)
        info["executor"] = executor.kind
        info["executor_workers"] = n_work
        run = _Run(problem, options, split, executor, n_work, travel, t0, deadline, info,
                   part_solver)
        return _by_parts(run)
    finally:
        if own:
            executor.shutdown(wait=False)


@dataclass
class _Run:
    """One solve by parts: what every step reads, what it reports (``info``), and whether
    every search so far was ended by its deterministic limit, not the wall clock."""

    problem: PlanRequest
    options: SolveOptions
    split: Split
    executor: Executor
    n_work: int
    travel: TravelTimes
    t0: float
    deadline: float
    info: dict[str, object]
    part_solver: PartSolver
    deterministic: bool = True

    @property
    def limit(self) -> float:
        return self.deadline - self.t0

    def solve(self, tasks: list[Task], until: float,
              meanwhile: Callable[[], None] | None = None) -> None:
        """Solve ``tasks`` until ``until``; a task without a result, or whose search the
        wall clock ended, makes the run not deterministic."""
        run_tasks(self.executor, self.n_work, tasks, until, self.part_solver,
                  meanwhile=meanwhile, rules=PartRules(self.travel.speed_factor))
        for t in tasks:
            if t.result is None or (t.result.status != "optimal"
                                    and t.result.solve_seconds >= 0.95 * t.limit):
                self.deterministic = False


def _by_parts(run: _Run) -> Plan:
    problem, travel, info = run.problem, run.travel, run.info
    if any(night_places(problem, e) for e in problem.experts):
        return _whole(run)
    visits, bounds = _rolling_first_plan(run) if _rolls(run) else _first_plan(run)
    visits = _repair(run, visits)
    info["deterministic"] = run.deterministic
    routes = build_routes(problem, travel, visits)
    value = objective_value(problem, visits, routes)
    # the least bound that answered in time (a relaxation below a plan cannot be: none is
    # taken then), else the trivial one
    held = [(b, how) for b, how in bounds if b >= value]
    if held:
        bound, info["bound_method"] = min(held)
    else:
        bound = max(value, trivial_bound(problem, {q.id for q in problem.requests}))
        info["bound_method"] = TRIVIAL
    info["gap"] = round((bound - value) / max(1, abs(bound)), 6)
    return _finish_parts(problem, travel, visits, routes, value, bound, run.options, run.t0,
                         info, run.deadline)


def _whole(run: _Run) -> Plan:
    """An expert may stay away (``experts[].overnight``): a part's border would cut a trip, so
    the whole horizon is one part, its nights kept, its bound its own — under the one model's
    rules: at the plan's driving speed and, re-planning a published plan (``options.previous``),
    with the nights it already spent kept and its visits moved as few as they must."""
    problem, options, info = run.problem, run.options, run.info
    info["parts"] = 1
    plan = run.part_solver(problem, max(0.1, run.deadline - time.perf_counter()) * 0.9,
                           options.seed, options.deterministic_time, (),
                           PartRules(options.travel_speed_factor, options.previous))
    if plan.status not in ("optimal", "feasible") or plan.objective is None \
            or plan.bound is None:
        return replace(plan, solve_seconds=time.perf_counter() - run.t0)
    info["bound_method"] = "one model"
    info.update({k: plan.solver[k] for k in ("moved", "moved_optimal") if k in plan.solver})
    return _finish_parts(problem, run.travel, list(plan.visits), list(plan.routes),
                         plan.objective, plan.bound, options, run.t0, info, run.deadline)


#: A season's first plan, week after week, ends by this share of the time limit.
ROLLING_SHARE = 0.5


def _rolls(run: _Run) -> bool:
    """Whether the first plan is made week after week (``_rolling_first_plan``): a season cut
    in windows of weeks, planned afresh (no previous plan, no plan to start from, nothing
    published: the weeks plan each of their own as new)."""
    p, o = run.problem, run.options
    return (isinstance(run.split, WindowSplit) and run.split.weeks_first
            and o.previous is None and o.start is None
            and p.horizon.published_until is None and all(q.fixed is None for q in p.requests))


def _rolling_first_plan(run: _Run) -> tuple[list[Visit], list[tuple[int, str]]]:
    """Step 1 of a season cut in windows: its weeks planned one after the other, each with
    what the weeks before it made kept and its requests open while their dates last
    (``solvers.parts.weeks``, a week's model proven in about a second, by ``run.part_solver``),
    until ``ROLLING_SHARE`` of the time, and what no week planned then completed by the greedy
    plan; beside them, on a thread, the bounds. On the 33-week season of 1,320 requests the
    weeks so planned (2 s each, 44 s) scored 7,398,395 where six-week windows solved side by
    side, joined and repaired in 120 s scored 7,322,694: a window's model of 240 requests
    ends its share of the time about 6 % below its own bound, while the weeks are proven one
    by one."""
    problem, travel, limit, options = run.problem, run.travel, run.limit, run.options
    until = run.t0 + ROLLING_SHARE * limit
    weeks = len(mondays(problem.horizon))
    bounds: list[tuple[int, str]] = []
    failed: list[BaseException] = []
    rules = PartRules(travel.speed_factor)

    def beside() -> None:
        bounds.extend(plan_bounds(problem, travel, until, 0.05 * limit, options.stop))

    def solve_week(week: PlanRequest, week_limit: float, seed: int) -> Plan:
        return run.part_solver(week, week_limit, seed, None, (), rules)

    run.split.parts(problem, travel)        # (the windows the repair's spans go by)
    thread = threading.Thread(target=catching, args=(beside, failed), name="bounds",
                              daemon=True)
    thread.start()
    made, _rows, _expired, _open = week_by_week(
        problem, solve_week, time_limit=ROLLING_SHARE * limit / weeks, seed=options.seed,
        until=until - 0.1 * limit, release=True)
    thread.join()
    if failed:
        raise failed[0]
    # the requests of weeks not planned in time (a short limit, a loaded machine): the greedy
    # plan places them beside the weeks' visits (which it keeps where they are)
    made = _greedy_part(problem, made, until, travel.speed_factor)
    visits = _in_request_order(problem, join(problem, travel, made))
    run.info["parts"] = weeks
    run.info["first_plan"] = "week by week"
    run.info["seconds_parts"] = round(time.perf_counter() - run.t0, 2)
    run.info["first_objective"] = _objective(problem, travel, visits)
    return visits, bounds


def _first_plan(run: _Run) -> tuple[list[Visit], list[tuple[int, str]]]:
    """Step 1: the parts, in parallel, until 55 % of the time, joined into one plan; and
    meanwhile the bound and each part's greedy plan (for a part that does not answer)."""
    problem, travel, limit, options = run.problem, run.travel, run.limit, run.options
    hoods = share_coverage(problem, keep_series_together(problem,
                                                         run.split.parts(problem, travel)))
    total_w = sum(h.weight for h in hoods) or 1.0
    tasks = [Task(h, sub_problem(problem, h, (), travel), (), h.weight,
                  _dtime(options, limit, h.weight / total_w), options.seed) for h in hoods]
    run.info["parts"] = len(tasks)
    part_end = run.t0 + 0.55 * limit
    bounds: list[tuple[int, str]] = []
    fallback: dict[int, list[Visit]] = {}

    def meanwhile() -> None:
        # while the workers solve the parts: the bounds (without one, the trivial bound stands
        # in), first, while the parts' models are still small (the relaxation of a season
        # takes 500 MB for a while); then the greedy plan of each part, the lightest first
        # (those start last), in case one does not answer in time
        bounds.extend(plan_bounds(problem, travel, part_end - 0.15 * limit, 0.05 * limit,
                                  options.stop))
        for i in sorted(range(len(tasks)), key=lambda i: (tasks[i].weight, i)):
            if time.perf_counter() > part_end - 0.05 * limit:
                break
            fallback[i] = _greedy_part(tasks[i].problem, (), part_end - 0.05 * limit,
                                       travel.speed_factor)

    run.solve(tasks, part_end, meanwhile)
    candidates: list[Visit] = []
    for i, t in enumerate(tasks):
        if t.result is None:
            candidates += fallback[i] if i in fallback else _greedy_part(
                t.problem, (), part_end + 0.05 * limit, travel.speed_factor)
            continue
        candidates += [v for v in t.result.visits if v.request in t.hood.requests]
    # the published visits first: a part may have released one its share of a budget could
    # not hold, and the whole plan keeps it when it fits
    visits = _in_request_order(problem, join(problem, travel,
                                              as_fixed_visits(problem) + candidates))
    run.info["seconds_parts"] = round(time.perf_counter() - run.t0, 2)
    run.info["parts_late"] = sum(t.late for t in tasks)
    run.info["parts_optimal"] = sum(t.result is not None and t.result.status == "optimal"
                                    for t in tasks)
    run.info["first_objective"] = _objective(problem, travel, visits)
    return visits, bounds


def plan_bounds(problem: PlanRequest, travel: TravelTimes, until: float,
                min_left: float = 0.2, stop: Callable[[], bool] | None = None
                ) -> list[tuple[int, str]]:
    """The bounds on every plan's objective that answer before ``until`` (``perf_counter``
    seconds), each with its name: the capacity bound first (``capacity_prices``: seconds at
    any size), then the Lagrangian bound (``lagrangian_bound``: each expert's days on their
    own, at most ``LAGRANGIAN_SECONDS`` and half the time left, ended early by ``stop()``),
    then the LP relaxation of the whole (``relaxation_bound``) with the time left, at most
    ``RELAXATION_SECONDS``; each started only with ``min_left`` seconds left at least (building a
    program is not bounded by its time limit). A plan reports the least of them."""
    out: list[tuple[int, str]] = []

    def left() -> float:
        return until - time.perf_counter()

    if left() < max(0.2, min_left):
        return out
    capacity = capacity_prices(problem, travel, left())
    if capacity is not None:
        out.append((capacity[0], CAPACITY))
    # (the Lagrangian relaxation's tours run from the base: no bound where nights may not)
    if left() >= max(0.2, min_left) and not any(night_places(problem, e)
                                                for e in problem.experts):
        b = lagrangian_bound(problem, travel, time.perf_counter() + min(
            LAGRANGIAN_SECONDS, left() / 2), stop, capacity[1] if capacity else None)
        if b is not None:
            out.append((b, LAGRANGIAN))
    if left() >= max(0.2, min_left) and not (stop is not None and stop()):
        b = relaxation_bound(problem, travel, min(RELAXATION_SECONDS, left()))
        if b is not None:
            out.append((b, RELAXATION))
    return out


#: The LP relaxation's seconds at most within a plan: it answers in 1–3 s on a 33-week season
#: with two-week date ranges; with half the requests open to the season's end it did not answer
#: in 60 s, a core and 500 MB taken from the parts all along.
RELAXATION_SECONDS = 15.0

#: The Lagrangian bound's seconds at most within a plan (it settles in 10–15 s on a 33-week
#: season of 1,320 requests).
LAGRANGIAN_SECONDS = 20.0


def _repair(run: _Run, visits: list[Visit]) -> list[Visit]:
    """Step 2: repair across borders until the split's share of the time (80 % by default;
    the rest is for the reasons), round by round, each neighbourhood's better plan kept."""
    problem, limit, options = run.problem, run.limit, run.options
    rounds = kept_repairs = 0
    repair_end = run.t0 + getattr(run.split, "repair_until", 0.8) * limit
    round_share = getattr(run.split, "round_share", 0.5)
    settled = 0         # rounds in a row whose every neighbourhood was proven, none better
    while time.perf_counter() < repair_end - 0.03 * limit and rounds < _MAX_ROUNDS \
            and settled < 2:
        hoods = run.split.neighbourhoods(problem, run.travel, visits, rounds)
        if not hoods:
            break
        rounds += 1
        total_w = sum(h.weight for h in hoods) or 1.0
        tasks = []
        for h in hoods:
            sub = sub_problem(problem, h, visits, run.travel)
            start = tuple(v for v in visits if v.request in sub.request_by_id
                          and sub.request_by_id[v.request].fixed is None)
            tasks.append(Task(h, sub, start, h.weight,
                              _dtime(options, limit, h.weight / total_w * round_share),
                              options.seed + rounds))
        run.solve(tasks, repair_end)
        proven = all(t.result is not None and t.result.status == "optimal" for t in tasks)
        visits, kept = _keep_better(problem, run.travel, visits, tasks)
        kept_repairs += kept
        # the same plan gives the same neighbourhoods: two proven rounds in a row with nothing
        # better (the two kinds of a split's rounds) leave nothing for a third
        settled = settled + 1 if proven and kept == 0 else 0
    run.info["seconds_repair"] = round(time.perf_counter() - run.t0, 2)
    run.info["repair_rounds"] = rounds
    run.info["repairs_kept"] = kept_repairs
    return visits


def _keep_better(problem: PlanRequest, travel: TravelTimes, visits: list[Visit],
                 tasks: list[Task]) -> tuple[list[Visit], int]:
    """The plan with each neighbourhood's new plan in place of its old one where it scores
    higher on the neighbourhood (and fits the whole plan); and how many were kept."""
    kept_repairs = 0
    for t in tasks:
        if t.result is None or t.result.status not in ("optimal", "feasible"):
            continue
        sub = t.problem
        free = {q.id for q in sub.requests if q.fixed is None}
        sub_travel = TravelTimes(sub, speed_factor=travel.speed_factor)
        before = [v for v in visits if v.request in free] + as_fixed_visits(sub)
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
    return visits, kept_repairs


def _dtime(options: SolveOptions, limit: float, share: float) -> float:
    """A part's deterministic limit: the caller's, else its share of the time limit (in
    CP-SAT's deterministic seconds, about a wall second of one core) — the same whichever
    executor and however many workers run it."""
    if options.deterministic_time is not None:
        return options.deterministic_time
    return max(0.2, limit * share)


def _in_request_order(problem: PlanRequest, visits: Sequence[Visit]) -> list[Visit]:
    by = {v.request: v for v in visits}
    return [by[q.id] for q in problem.requests if q.id in by]


def _finish_parts(problem: PlanRequest, travel: TravelTimes, visits: list[Visit],
                  routes: list[Route], value: int, bound: int, options: SolveOptions,
                  t0: float, info: dict[str, object], deadline: float) -> Plan:
    """The plan with reasons for every request left out (``_explain``), highest priority
    first, until the deadline; any left then say that their reason was not analysed."""
    served = {v.request for v in visits}
    left = [q for q in problem.requests if q.id not in served]
    reasons = _explain(problem, travel, visits, left, deadline - 0.02 * (deadline - t0)) \
        if options.explain else {}
    info["explained"] = len(reasons)
    info["seconds_reasons"] = round(time.perf_counter() - t0, 2)
    unscheduled = tuple(reasons.get(q.id) or not_analysed(q.id) for q in left)
    status: Status = "optimal" if value >= bound else "feasible"
    plan = Plan(status=status, objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=unscheduled, solver=SolveInfo.of(info),
                breaks=plan_breaks(problem, travel, visits, nights_of(problem, routes)))
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
                        trip[bpos[e.base], j] <= e.day_end - e.work_start]
                ids.update(e.id for e in (near or ranked)[:per_field])
        hood = Neighbourhood("explain", frozenset(ids), frozenset(q.id for q in qs))
        sub = sub_problem(problem, hood, visits, travel)
        sub_travel = TravelTimes(sub, speed_factor=travel.speed_factor)
        kept = as_fixed_visits(sub)
        ex = Explainer(sub, sub_travel, lazy=True)
        mine = {q.id for q in qs}
        for u in ex.explain_unscheduled({v.request for v in kept}, kept,
                                        build_routes(sub, sub_travel, kept), until=until):
            if u.request in mine and "not_analysed" not in u.codes:
                out[u.request] = u
    return out
