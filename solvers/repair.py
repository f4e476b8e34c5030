"""The repair after an event: keep the history, re-plan the rest, change as little as possible.

``repair(week, plan, event)`` applies the event (``engine.events.apply_event``: history and the
visits under way fixed, the event's consequences as rules of the week) and plans the week after
it with the planner's own model (``solvers.model.PlannerModel``, every rule), lexicographically:

1. the most priority served (an urgent request first of all: it outweighs every other);
2. then the fewest changed visits, weighted so that a new time the same day (1) beats a new
   date (2) beats a new expert (4) beats dropping the visit (8) — ``CHANGE_WEIGHTS``;
3. then FORMAT.md's objective (driving, on-site days, the goals).

Each stage is solved to a proof when time allows; the plan's ``event`` block says whether the
served priority and the fewest changes are proven. The nights away that have passed
(``AfterEvent.nights``) are kept as they were spent, in the model and in the fallback: the day
after a night in 宇和島市 starts there.

When the model gives no plan, the answer says so instead of passing a quick plan off as the
repair: the history is kept exactly as it happened and the greedy first plan fills the rest
around it (only what fits beside the history), ``solver.first_plan`` is ``greedy``, and
``event.fallback`` (also ``messages``/``messages_ja``) says why, in English and Japanese:
``infeasible`` (CP-SAT proved that no plan keeps the history within the rules; the plan's
status is then ``infeasible`` and ``fallback.requests`` names the history that breaks a rule)
or ``no_time`` (nothing was found within the time limit; the plan is valid but its changes
are not minimised).

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
from engine.checker import check_plan
from engine.events import AfterEvent, Event, apply_event, event_to_dict
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, SolveInfo, Visit
from engine.nights import nights_of
from engine.travel import TravelTimes
from solvers.cpsat.solver import new_solver, solve_guarded
from solvers.explain import Explainer
from solvers.greedy import greedy_visits, keep_fitting
from solvers.model import OutOfTime, PlannerModel, set_hint
from solvers.planner import objective_value, trivial_bound
from solvers.routes import Nights, build_routes, plan_breaks

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
    nights = {k: x for k, x in after.nights.items() if x is not None}
    greedy = greedy_visits(problem, travel, explainer.options, previous, nights=nights)
    model = PlannerModel(problem, travel, all_orders=True, deadline=deadline, explainer=explainer)
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": options.time_limit, "method": "repair",
                               "seconds": seconds}
    stages: dict[str, bool] = {}
    try:
        model.build()
    except OutOfTime:
        return _fall_back(after, greedy, explainer, travel, info, t0, "no_time")
    model.keep_nights(after.nights)
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
    first_code = cp_model.UNKNOWN
    # Priority before changes in one search: a served point outweighs every change there is.
    most = CHANGE_WEIGHTS["dropped"] * len(previous.visits) + 1
    first: cp_model.LinearExprT = most * served - changes  # type: ignore[operator]
    for stage, objective, sense in (("priority_changes", first, "max"),
                                    ("objective", main, "max")):
        left = deadline - time.perf_counter()
        if left <= 0.01:
            break
        solver = new_solver(left, workers=options.workers, seed=options.seed)
        model.m.clear_objective()
        (model.m.maximize if sense == "max" else model.m.minimize)(objective)
        code = solve_guarded(solver, model.m)
        if values is None:
            first_code = code
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
        why = "infeasible" if first_code == cp_model.INFEASIBLE else "no_time"
        return _fall_back(after, greedy, explainer, travel, info, t0, why)
    found = values
    visits, routes = model.read_plan(lambda var: found[var.index])
    return _finish(after, visits, explainer, travel, info, stages, t0,
                   nights=nights_of(problem, routes))


def _fall_back(after: AfterEvent, greedy: list[Visit], explainer: Explainer,
               travel: TravelTimes, info: dict[str, object], t0: float, why: str) -> Repair:
    """The answer when the model gave no plan (``why``: ``infeasible`` or ``no_time``): the
    history exactly as it happened, the greedy plan's other visits that fit beside it, and
    the fallback said in the plan (status, ``solver.first_plan``, ``event.fallback``)."""
    problem, previous = after.week, after.previous
    pinned = set(after.pinned)
    nights = {k: x for k, x in after.nights.items() if x is not None}
    history = [v for v in previous.visits if v.request in pinned]
    rest = [v for v in greedy if v.request not in pinned]
    kept, refused = keep_fitting(problem, travel, [*history, *rest], nights)
    # a piece of history that breaks a rule is kept all the same (it happened); nothing new
    # may share its expert's time on its day
    broken = [v for v in refused if v.request in pinned]
    visits = history + [v for v in kept if v.request not in pinned and not any(
        v.date == h.date and set(v.experts) & set(h.experts) and v.start < h.end
        and h.start < v.end for h in broken)]
    bad: list[str] = []
    if why == "infeasible":
        alone = Plan(status="feasible", objective=None, bound=None, solve_seconds=0.0,
                     visits=tuple(history),
                     routes=tuple(build_routes(problem, travel, history, nights)))
        bad = sorted({x.request for x in check_plan(problem, alone, travel=travel)
                      if x.request in pinned})
    info["first_plan"] = "greedy"
    fallback = _fallback_block(why, bad)
    return _finish(after, visits, explainer, travel, info, {}, t0, fallback, nights=nights)


def _fallback_block(why: str, bad: list[str]) -> dict[str, object]:
    """``event.fallback``: why the repair is the quick plan, for the coordinator to read."""
    if why == "infeasible":
        which = ", ".join(bad) or "?"
        en = (f"no repair keeps the history within the rules (the visits before now that "
              f"break a rule: {which}); the history is kept as it happened and the rest is a "
              "quick plan around it, not minimised: check the week and call those affected")
        ja = (f"現在より前の訪問（実施済みの経過）を規則どおりに保つ修復計画はありません"
              f"（規則に反する実施済みの訪問: {which}）。実施済みの訪問はそのまま残し、残りは"
              "簡易計画で組みました（変更は最少化されていません）。週を確認し、影響のある方に"
              "連絡してください")
    else:
        en = ("the repair found no plan within the time limit: this is the quick plan, valid "
              "but not minimised (more visits may have changed than needed); repair again with "
              "more time")
        ja = ("制限時間内に修復計画が見つからなかったため簡易計画です。規則は守っていますが、"
              "変更は最少化されていません（必要以上に訪問が変わっている可能性があります）。"
              "時間を延ばして再度修復してください")
    return {"code": why, "requests": bad, "message": en, "message_ja": ja}


def _finish(after: AfterEvent, visits: list[Visit], explainer: Explainer, travel: TravelTimes,
            info: dict[str, object], stages: dict[str, bool], t0: float,
            fallback: dict[str, object] | None = None, *, nights: Nights | None = None
            ) -> Repair:
    problem, previous = after.week, after.previous
    mark = time.perf_counter()
    routes = build_routes(problem, travel, visits, nights)
    unscheduled = explainer.explain_unscheduled({v.request for v in visits}, visits, routes)
    value = objective_value(problem, visits, routes)
    servable = {q.id for q in problem.requests if explainer.options.get(q.id)}
    infeasible = fallback is not None and fallback["code"] == "infeasible"
    plan = Plan(status="infeasible" if infeasible else "feasible", objective=value,
                bound=max(value, trivial_bound(problem, servable)),
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), solver=SolveInfo.of(info),
                coverage=tuple(explainer.explain_coverage(visits, unscheduled)),
                messages=(str(fallback["message"]),) if fallback else (),
                messages_ja=(str(fallback["message_ja"]),) if fallback else (),
                breaks=plan_breaks(problem, travel, visits, nights))
    plan = replace(plan, kpis=plan_kpis(problem, plan, previous=previous))
    plan = replace(plan, changes=plan_changes(previous, plan))
    plan = replace(plan, event=_event_block(after, plan, stages, fallback))
    seconds = info.get("seconds")
    if isinstance(seconds, dict):
        # routes, the explanations of what is left out, KPIs and changes
        seconds["explain"] = round(time.perf_counter() - mark, 3)
    return Repair(plan, after)


def _event_block(after: AfterEvent, plan: Plan, stages: dict[str, bool],
                 fallback: dict[str, object] | None = None) -> dict[str, object]:
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
    if fallback is not None:
        block["fallback"] = fallback
    block.pop("format", None)
    return block
