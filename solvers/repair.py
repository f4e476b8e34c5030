"""The repair after an event: keep the history, re-plan the rest, change as little as possible.

``repair(week, plan, event)`` applies the event (``engine.events.apply_event``: history and the
visits under way fixed, the event's consequences as rules of the week) and plans the week after
it with the planner's own model (``solvers.model.PlannerModel``, every rule), lexicographically:

1. the most priority served (an urgent request first of all: it outweighs every other);
2. then the fewest changed visits, weighted so that a new time the same day (1) beats a new
   date (2) beats a new expert (4) beats dropping the visit (8) — ``CHANGE_WEIGHTS``;
3. then FORMAT.md's objective (driving, on-site days, the goals).

Each stage is solved to a proof when time allows; the plan's ``event`` block says whether the
served priority and the fewest changes are proven.

Examples
--------
>>> fixed = repair(week, plan, parse_event(doc, week), RepairOptions(time_limit=5))  # doctest: +SKIP
>>> fixed.plan.event["changed_visits"], fixed.plan.event["fewest_proven"]           # doctest: +SKIP
(2, True)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from engine.changes import plan_changes
from engine.events import AfterEvent, Event, apply_event, event_to_dict
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, SolveInfo, Visit
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.model import OutOfTime, PlannerModel, set_hint
from solvers.planner import objective_value, trivial_bound
from solvers.routes import build_routes
from solvers.search import solve_guarded

__all__ = ["CHANGE_WEIGHTS", "Repair", "RepairOptions", "change_kind", "repair"]

#: What one changed visit costs, by its largest change.
CHANGE_WEIGHTS: Mapping[str, int] = {"time": 1, "date": 2, "experts": 4, "dropped": 8}


@dataclass(frozen=True)
class RepairOptions:
    """``time_limit`` (seconds, the whole call), ``seed`` and ``workers`` for CP-SAT."""

    time_limit: float = 10.0
    seed: int = 0
    workers: int = 1


@dataclass(frozen=True)
class Repair:
    """The repaired ``plan`` (valid for ``after.week``) and the week after the event."""

    plan: Plan
    after: AfterEvent


def change_kind(before: Visit, after: Visit | None) -> str | None:
    """How a visit changed, by its largest change: ``dropped``, ``experts``, ``date``,
    ``time`` or None (kept as it was)."""
    if after is None:
        return "dropped"
    if set(after.experts) != set(before.experts):
        return "experts"
    if after.date != before.date:
        return "date"
    if after.start != before.start:
        return "time"
    return None


def repair(week: PlanRequest, plan: Plan, event: Event,
           options: RepairOptions | None = None) -> Repair:
    """Plan the week after ``event`` (see the module docstring). Raises ``InputError`` when the
    event does not fit the plan (``engine.events.apply_event``)."""
    options = options or RepairOptions()
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit * 0.9
    after = apply_event(week, plan, event)
    seconds: dict[str, float] = {}
    mark = time.perf_counter()
    problem, previous = after.week, after.previous
    travel = TravelTimes(problem)
    explainer = Explainer(problem, travel)
    greedy = greedy_visits(problem, travel, explainer.options, previous)
    model = PlannerModel(problem, travel, all_orders=True, deadline=deadline, explainer=explainer)
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": options.time_limit, "method": "repair",
                               "seconds": seconds}
    stages: dict[str, bool] = {}
    try:
        model.build()
    except OutOfTime:
        return _finish(after, greedy, explainer, travel, info, stages, t0, "greedy")
    total = sum(q.priority for q in problem.requests)
    weight = {q.id: q.priority + (total if q.id == after.urgent else 0)
              for q in problem.requests}
    served = sum(weight[rid] * lit for rid, lit in model.served.items())
    changes = model.weighted_changes(previous, CHANGE_WEIGHTS)
    main = model.main_objective()
    model.hint_plan(greedy)
    seconds["model"] = round(time.perf_counter() - mark, 3)
    mark = time.perf_counter()
    values: list[int] | None = None
    # Priority before changes in one search: a served point outweighs every change there is.
    most = CHANGE_WEIGHTS["dropped"] * len(previous.visits) + 1
    first: cp_model.LinearExprT = most * served - changes  # type: ignore[operator]
    for stage, objective, sense in (("priority_changes", first, "max"),
                                    ("objective", main, "max")):
        left = deadline - time.perf_counter()
        if left <= 0.01:
            break
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = options.workers
        solver.parameters.random_seed = options.seed
        model.m.clear_objective()
        (model.m.maximize if sense == "max" else model.m.minimize)(objective)
        code = solve_guarded(solver, model.m)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break
        stages[stage] = code == cp_model.OPTIMAL
        values = list(solver.response_proto.solution)
        best = int(round(solver.objective_value))
        # the next stage keeps what this one reached, and starts from its plan
        model.m.add(objective >= best if sense == "max" else objective <= best)
        set_hint(model.m, dict(enumerate(values)))
    seconds["search"] = round(time.perf_counter() - mark, 3)
    if values is None:
        return _finish(after, greedy, explainer, travel, info, stages, t0, "greedy")
    found = values
    visits, _ = model.read_plan(lambda var: found[var.index])
    return _finish(after, visits, explainer, travel, info, stages, t0, "model")


def _finish(after: AfterEvent, visits: list[Visit], explainer: Explainer, travel: TravelTimes,
            info: dict[str, object], stages: dict[str, bool], t0: float, source: str) -> Repair:
    problem, previous = after.week, after.previous
    mark = time.perf_counter()
    routes = build_routes(problem, travel, visits)
    unscheduled = explainer.explain_unscheduled({v.request for v in visits}, visits, routes)
    value = objective_value(problem, visits, routes)
    servable = {q.id for q in problem.requests if explainer.options.get(q.id)}
    if source == "greedy":
        info["first_plan"] = "greedy"
    plan = Plan(status="feasible", objective=value,
                bound=max(value, trivial_bound(problem, servable)),
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), solver=SolveInfo.of(info),
                coverage=tuple(explainer.explain_coverage(visits, unscheduled)))
    plan = replace(plan, kpis=plan_kpis(problem, plan, previous=previous))
    plan = replace(plan, changes=plan_changes(previous, plan))
    plan = replace(plan, event=_event_block(after, plan, stages))
    seconds = info.get("seconds")
    if isinstance(seconds, dict):
        # routes, the explanations of what is left out, KPIs and changes
        seconds["explain"] = round(time.perf_counter() - mark, 3)
    return Repair(plan, after)


def _event_block(after: AfterEvent, plan: Plan, stages: dict[str, bool]) -> dict[str, object]:
    """The ``event`` block of a repaired plan (FORMAT.md): the event and what it cost."""
    now_by = {v.request: v for v in plan.visits}
    asked = after.week.request_by_id
    kinds = dict.fromkeys(CHANGE_WEIGHTS, 0)
    lost = 0
    for v in after.previous.visits:
        if v.request not in asked:
            continue            # cancelled: withdrawn, not a change the repair made
        kind = change_kind(v, now_by.get(v.request))
        if kind is not None:
            kinds[kind] += 1
        if kind == "dropped":
            lost += asked[v.request].priority
    before = {v.request for v in after.previous.visits}
    gained = sum(asked[rid].priority for rid in now_by if rid not in before)
    block: dict[str, object] = {
        **event_to_dict(after.event),
        "priority_lost": lost,
        "priority_added": gained,
        "visits_moved": sum(kinds.values()),
        "changed": kinds,
        "change_weight": sum(CHANGE_WEIGHTS[k] * n for k, n in kinds.items()),
        "priority_proven": stages.get("priority_changes", False),
        "fewest_proven": stages.get("priority_changes", False),
        "pinned": list(after.pinned),
    }
    if after.urgent is not None:
        block["urgent_placed"] = after.urgent in now_by
    block.pop("format", None)
    return block
