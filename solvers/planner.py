"""The weekly planner: a CP-SAT model assigning consultations to experts, dates and times.

``solve`` is the only entry point; it returns a ``Plan`` (format ``plan/1``) and never raises
for a problem that merely has no good answer: that is a status. The model is
``solvers.model.PlannerModel`` (one method per rule), the search ``solvers.cpsat.search`` (choose
first, then time), the day's routes ``solvers.routes``, the reasons ``solvers.explain``.

Examples
--------
>>> from engine.demand import ehime_week
>>> plan = solve(ehime_week("2026-12-07", seed=7), SolveOptions(time_limit=10))  # doctest: +SKIP
>>> plan.status, plan.kpis["visits"]                                            # doctest: +SKIP
('optimal', 33)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import replace

from ortools.sat.python import cp_model

from engine.errors import InputError, Problem
from engine.events import nights_passed
from engine.format.appointments import unreachable_appointments
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Route, SolveInfo, Status, Visit
from engine.nights import night_places, nights_of
from engine.travel import TravelTimes
from solvers.cpsat.search import choose_then_time
from solvers.cpsat.solver import Clock, ProgressCallback
from solvers.explain import Explainer, bare_reason
from solvers.greedy import greedy_visits
from solvers.model import OutOfTime, PlannerModel, set_hint
from solvers.night_bound import NightsBound, nights_bound
from solvers.objective import objective_value, trivial_bound
from solvers.options import PartRules, Progress, SolveOptions
from solvers.routes import build_routes, plan_breaks
from solvers.size import needs_parts

__all__ = ["PlannerModel", "Progress", "SolveOptions", "build_routes", "objective_value", "solve",
           "solve_part", "trivial_bound"]


def solve(problem: PlanRequest, options: SolveOptions | None = None) -> Plan:
    """Plan the horizon: every request either scheduled (``visits``) or explained
    (``unscheduled``), routes per expert-day, KPIs, status, objective and proven bound.

    Raises ``InputError`` only when a needed driving time can neither be read nor estimated
    (no ``travel.minutes`` entry and no coordinates), for an unknown ``options.decompose``, or
    when at ``options.travel_speed_factor`` a standing appointment at a place can no longer be
    reached (at its path, as the document would be refused: ``_appointments_reachable``).
    """
    options = options or SolveOptions()
    with _without_collector_pauses():
        # (not a problem of the size planned by parts: with nights it is one model, searched
        # from its greedy plan; its day trips first would take a third of the time for less)
        if (options.start is None and options.previous is None and options.decompose != "always"
                and any(night_places(problem, e) for e in problem.experts)
                and not needs_parts(problem)):
            return _day_trips_first(problem, options)
        return _solve(problem, options)


def _day_trips_first(problem: PlanRequest, options: SolveOptions) -> Plan:
    """A week where experts may stay away: its day trips planned first (a third of the time:
    a model of tours, fast), then the week with its nights from that plan. The day trips are
    a plan of the week too (no night is ever required): where the search with nights ends
    below them, they are the answer, with the bound of the search with nights.

    Beside the day trips, on a thread, the bound on every plan with a night
    (``solvers.night_bound``): where it is no more than the day trips reach, no night can pay
    and the week is its day trips (``_keep_to_day_trips``)."""
    t0 = time.perf_counter()
    trips = _without_nights(problem)
    beside = _nights_bound_beside(problem, options)
    days = _solve(trips, replace(options, time_limit=options.time_limit / 3, explain=False))
    if days.status not in ("optimal", "feasible") or days.objective is None:
        left = max(0.1, options.time_limit - (time.perf_counter() - t0))
        return _solve(problem, replace(options, time_limit=left))
    nights = _result_by(beside, t0 + options.time_limit / 3)
    if nights is not None and nights.cannot_pay(days.objective):
        return _keep_to_day_trips(problem, options, trips, days, nights, t0)
    left = max(0.1, options.time_limit - (time.perf_counter() - t0))
    full = _solve(problem, replace(options, time_limit=left, start=days))
    if full.status not in ("optimal", "feasible") or full.objective is None \
            or full.objective >= days.objective or full.bound is None:
        return replace(full, solve_seconds=time.perf_counter() - t0)
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    info: dict[str, object] = {**full.solver, "first_plan": "day trips"}
    bound = max(full.bound, days.objective)
    if nights is not None and days.bound is not None:
        # every plan either has no night (at most the day trips' bound) or has one
        bound = min(bound, max(days.bound, nights.with_a_night))
    return _finish(problem, "feasible", days.objective, bound, list(days.visits),
                   list(days.routes), Explainer(problem, travel), options, t0, info)


def _nights_bound_beside(problem: PlanRequest, options: SolveOptions
                         ) -> Future[NightsBound | None] | None:
    """The bound on every plan with a night (``solvers.night_bound``), computed on a thread
    while the day trips are planned (CP-SAT leaves the interpreter free while it searches);
    None for a problem planned by parts, whose relaxation is no matter of milliseconds."""
    if needs_parts(problem):
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nights-bound")
    try:
        return pool.submit(nights_bound, problem, options.travel_speed_factor,
                           options.time_limit / 3)
    finally:
        pool.shutdown(wait=False)


def _result_by(future: Future[NightsBound | None] | None, until: float) -> NightsBound | None:
    """The thread's bound if it is there by ``until`` (an error it met is raised here)."""
    if future is None:
        return None
    try:
        return future.result(timeout=max(0.0, until - time.perf_counter()))
    except FuturesTimeout:
        return None


def _keep_to_day_trips(problem: PlanRequest, options: SolveOptions, trips: PlanRequest,
                       days: Plan, nights: NightsBound, t0: float) -> Plan:
    """No plan with a night is worth more than ``days`` (``nights``): the week's best plan is
    its day trips'. Unless ``days`` is proven optimal, the day trips' search goes on from it
    with the time left; the week's bound is the day trips' (no less than ``nights``')."""
    assert days.objective is not None
    best = days
    left = options.time_limit - (time.perf_counter() - t0)
    if days.status != "optimal" and left > _MORE_DAY_TRIPS_SECONDS:
        more = _solve(trips, replace(options, time_limit=left, start=days, explain=False))
        if more.status in ("optimal", "feasible") and more.objective is not None \
                and more.objective >= days.objective:
            best = more
    assert best.objective is not None
    optimal = best.status == "optimal"
    bound = best.objective if optimal else None if best.bound is None \
        else max(best.bound, nights.with_a_night, best.objective)
    info: dict[str, object] = {**best.solver, "first_plan": "day trips",
                               "nights": "cannot pay", "nights_bound": nights.with_a_night}
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    en, ja = nights.messages(best.objective)
    return _finish(problem, "optimal" if optimal else "feasible", best.objective, bound,
                   list(best.visits), list(best.routes), Explainer(problem, travel), options,
                   t0, info, messages=((*best.messages, en), (*best.messages_ja, ja)))


def _first_of(greedy: list[Visit], value: int | None, options: SolveOptions
              ) -> tuple[list[Visit], int | None]:
    """The plan the search starts from and its worth: the plan it was given to start from
    (``options.start``: a week's day trips, planned first) where that is worth more than the
    greedy plan, else the greedy plan (its worth None where it leaves out a fixed visit)."""
    start = options.start
    if start is not None and start.objective is not None \
            and (value is None or start.objective > value):
        return list(start.visits), start.objective
    return greedy, value


def _without_nights(problem: PlanRequest) -> PlanRequest:
    """The week with day trips only."""
    return replace(problem, experts=tuple(replace(e, overnight=None) for e in problem.experts))


@contextlib.contextmanager
def _without_collector_pauses() -> Iterator[None]:
    """Python's cycle collector off while solving: each full collection walks every object of
    the model (tens of thousands of variables), 0.08 s at a time on a season of 200 calls,
    several times a second, a sixth of a 1 s limit. Reference counting still frees nearly
    everything; the collector runs again from the caller's next allocations."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _solve(problem: PlanRequest, options: SolveOptions) -> Plan:
    _refuse_what_cannot_be_planned(problem, options)
    if options.decompose != "never":
        if options.decompose == "always" or needs_parts(problem):
            # loaded only here: a week planned as one model starts without it
            from solvers.parts import solve_by_parts  # start fast

            return solve_by_parts(problem, options, part_solver=solve_part)
    t0 = time.perf_counter()
    # The searches end a little before the limit: reading the plan and explaining it come
    # after them, and CP-SAT may run over its own limit by a few hundredths of a second.
    deadline = t0 + options.time_limit * 0.93
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    legs = _needed_legs(problem)
    travel.check(legs)
    travel.prefetch(legs)
    # solver["seconds"]: when each stage was done, seconds from the start of the call
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": options.time_limit}
    if options.deterministic_time is not None:
        info["deterministic_time"] = options.deterministic_time
    clock = Clock(options, t0, deadline)
    explainer = Explainer(problem, travel)
    # A valid first plan in milliseconds: the search starts from it, and it is the answer
    # when the search finds nothing better in time.
    spent = _nights_spent(problem, options)
    away = {k: x for k, x in spent.items() if x is not None}
    greedy = greedy_visits(problem, travel, explainer.options, options.previous or options.start,
                           until=min(time.perf_counter() + _FIRST_PLAN_SHARE * options.time_limit,
                                     t0 + 2 * _FIRST_PLAN_SHARE * options.time_limit), nights=away)
    greedy_routes = build_routes(problem, travel, greedy, away)
    greedy_value = objective_value(problem, greedy, greedy_routes)
    greedy_ok = all(q.id in {v.request for v in greedy} for q in problem.requests if q.fixed)
    seconds = {"first_plan": round(time.perf_counter() - t0, 3)}
    info["seconds"] = seconds
    model = PlannerModel(problem, travel, **{"all_orders": options.previous is not None,
                                             **options.model.kwargs()},
                         deadline=deadline, explainer=explainer)
    try:
        model.build()
        model.keep_nights(spent)
        objective = model.main_objective()
        model.m.maximize(objective)
        model.hint_plan(greedy)
        seconds["model"] = round(time.perf_counter() - t0, 3)
        if clock.left() < _SEARCH_AT_LEAST * options.time_limit:
            raise OutOfTime          # no time left to search: the first plan is the answer
    except OutOfTime:
        if not greedy_ok:
            return _error_plan(problem, _NO_PLAN, time.perf_counter() - t0, info)
        info["first_plan"] = "greedy"
        return _finish(problem, "feasible", greedy_value,
                       max(_trivial_bound(problem, explainer), greedy_value), greedy,
                       greedy_routes, explainer, options, t0, info)
    found = choose_then_time(model, objective, clock, *_first_of(greedy, greedy_value if
                                                                 greedy_ok else None, options))
    seconds["search"] = round(time.perf_counter() - t0, 3)
    if found.status == "infeasible":
        return _release_fixed(problem, travel, explainer, clock, info)
    if found.values is None or found.objective is None:
        if not greedy_ok:
            return _error_plan(problem, _NO_PLAN, time.perf_counter() - t0, info)
        info["first_plan"] = "greedy"
        bound = _least_bound(found.bound, problem, explainer)
        return _finish(problem, "feasible", greedy_value, max(bound, greedy_value), greedy,
                       greedy_routes, explainer, options, t0, info)
    values, main_value = found.values, found.objective
    bound = _least_bound(found.bound, problem, explainer)
    if options.previous is not None and options.previous.visits:
        values, main_value = _fewest_moves(model, objective, values, main_value, clock,
                                           options.previous, options, t0, info)
    plan_visits, routes = model.read_plan(lambda var: values[var.index])
    # A proof covers the plan returned; a stability phase never lowers the main objective.
    optimal = found.status == "optimal"
    plan_visits, routes, main_value = _worth_or_first(
        problem, optimal, (plan_visits, routes, main_value),
        (greedy, greedy_routes, greedy_value if greedy_ok else None), info)
    return _finish(problem, "optimal" if optimal else "feasible", main_value,
                   main_value if optimal else max(bound, main_value), plan_visits,
                   routes, explainer, options, t0, info)


def _worth_or_first(problem: PlanRequest, optimal: bool,
                    found: tuple[list[Visit], list[Route], int],
                    first: tuple[list[Visit], list[Route], int | None], info: dict[str, object]
                    ) -> tuple[list[Visit], list[Route], int]:
    """The search's plan with what it is worth, or the first plan (worth None: it may not be
    the answer) where a search that ran out of time ends below it. A plan is worth FORMAT.md's
    formula on it as written: short of a proof, the solver's overtime minutes may stand above
    the days' real ends, its objective then below the plan's worth."""
    visits, routes, value = found
    value = max(value, objective_value(problem, visits, routes))
    if not optimal and first[2] is not None and first[2] > value:
        info["first_plan"] = "greedy"
        return first[0], first[1], first[2]
    return visits, routes, value


#: The first plan may use this share of the time limit (and ends by twice it from the start):
#: on a large problem it then serves the highest priorities, and the search has the rest.
_FIRST_PLAN_SHARE = 0.3
#: With less than this share of the time limit left once the model is built, the search would
#: find nothing: the first plan is the answer.
_SEARCH_AT_LEAST = 0.05
#: The reasons for requests left out are analysed (highest priority first) until this share of
#: the time limit; any left then say that their reason was not analysed.
_REASONS_UNTIL = 0.97
#: Day trips not proven optimal go on searching when no night can pay, if this many seconds
#: are left (fewer would build the model again for nothing).
_MORE_DAY_TRIPS_SECONDS = 0.5


def _fewest_moves(model: PlannerModel, objective: cp_model.LinearExprT, values: list[int],
                  main_value: int, clock: Clock, previous: Plan, options: SolveOptions,
                  t0: float, info: dict[str, object]) -> tuple[list[int], int]:
    """The stability phase: with the main objective held at least at ``main_value``, the
    fewest visits moved from ``previous``, starting from the plan found (``values``). The
    plan's values and main objective after it (unchanged when it finds nothing); how many
    moved, and whether that is proven fewest, go to ``info``."""
    moved = model.moved_visits(previous)
    model.m.add(objective >= main_value)
    model.m.clear_objective()
    model.m.minimize(moved)
    set_hint(model.m, dict(enumerate(values)))
    solver2 = clock.solver()
    code2 = clock.run(solver2, model.m, ProgressCallback(options.progress, t0, "stability"))
    if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = list(solver2.response_proto.solution)
        main_value = int(round(solver2.value(objective)))
        info["moved"] = int(round(solver2.objective_value))
        info["moved_optimal"] = code2 == cp_model.OPTIMAL
    return values, main_value


def _nights_spent(problem: PlanRequest, options: SolveOptions
                  ) -> dict[tuple[str, dt.date], str | None]:
    """The nights away already spent in ``options.previous`` by ``horizon.history_until`` (a
    week after an event planned again: ``engine.events.nights_passed``), which stay where
    they were spent; none without both."""
    now = problem.horizon.history_until
    if now is None or options.previous is None:
        return {}
    return nights_passed(problem, options.previous, now)


def _refuse_what_cannot_be_planned(problem: PlanRequest, options: SolveOptions) -> None:
    """An unknown ``options.decompose``, or an appointment the plan's drives cannot reach."""
    if options.decompose not in ("auto", "always", "never"):
        raise InputError(Problem("decompose", f"must be auto, always or never, got "
                                 f"{options.decompose!r}", "auto、always、never のいずれかです"
                                 f"（{options.decompose!r}）"))
    _appointments_reachable(problem, options)


def _appointments_reachable(problem: PlanRequest, options: SolveOptions) -> None:
    """The standing appointments at a place can be reached at the speed this plan drives: the
    document was checked with its own travel times (``engine.format``), and a plan whose
    estimated drives are faster or slower (``travel_speed_factor``, a scenario's roads) checks
    again with its own, refusing an appointment it could not keep, at its path, instead of
    a plan that could only be infeasible."""
    if options.travel_speed_factor == 1 or not any(b.at for e in problem.experts
                                                   for b in e.busy):
        return
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    bad = unreachable_appointments(problem, (), travel)
    if bad:
        raise InputError(bad)


def solve_part(problem: PlanRequest, time_limit: float, seed: int,
               deterministic_time: float | None, start: tuple[Visit, ...],
               rules: PartRules | None = None) -> Plan:
    """One part, in a worker: ``solve`` with its time, under the whole plan's ``rules`` (its
    driving speed; the plan published before, where the part is the whole problem), no
    explanations (made once at the end for the whole plan)."""
    rules = rules or PartRules()
    start_plan = Plan(status="feasible", objective=None, bound=None, solve_seconds=0.0,
                      visits=start) if start else None
    return solve(problem, SolveOptions(time_limit=time_limit, seed=seed, workers=1,
                                       explain=False, decompose="never",
                                       deterministic_time=deterministic_time, start=start_plan,
                                       travel_speed_factor=rules.speed_factor,
                                       previous=rules.previous))


def _least_bound(found: int | None, problem: PlanRequest, explainer: Explainer) -> int:
    """The search's bound, or every request served with no driving where that is less (a
    search stopped early, as on a loaded machine, may not have reached its root relaxation:
    its bound is then CP-SAT's first, above even that)."""
    trivial = _trivial_bound(problem, explainer)
    return trivial if found is None else min(found, trivial)


def _trivial_bound(problem: PlanRequest, explainer: Explainer) -> int:
    """The bound every plan obeys: every servable request served (with its small-town bonus),
    no driving, and only the coverage shortfall no plan can avoid."""
    return trivial_bound(problem, {q.id for q in problem.requests if explainer.options.get(q.id)})


def _finish(problem: PlanRequest, status: Status, value: int | None, bound: int | None,
            visits: list[Visit], routes: list[Route], explainer: Explainer,
            options: SolveOptions, t0: float, info: dict[str, object], *,
            released: dict[str, tuple[str, ...] | None] | None = None,
            messages: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> Plan:
    served = {v.request for v in visits}
    if isinstance(info.get("seconds"), dict):
        info["seconds"]["plan"] = round(time.perf_counter() - t0, 3)    # type: ignore[index]
    unscheduled = (explainer.explain_unscheduled(served, visits, routes, released=released,
                                                 until=t0 + _REASONS_UNTIL * options.time_limit)
                   if options.explain else explainer.bare_unscheduled(served, released=released))
    plan = Plan(status=status, objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), messages=messages[0],
                messages_ja=messages[1], solver=SolveInfo.of(info),
                coverage=tuple(explainer.explain_coverage(visits, unscheduled)),
                breaks=plan_breaks(problem, explainer.travel, visits,
                                   nights_of(problem, routes)))
    return replace(plan, kpis=plan_kpis(problem, plan, previous=options.previous))


def _needed_legs(problem: PlanRequest) -> list[tuple[str, str]]:
    """Every leg a plan might drive: base (or a place to stay the night) to on-site places
    and back, and between them."""
    onsite = sorted({q.location for q in problem.requests if q.onsite})
    bases = sorted({e.base for e in problem.experts}
                   | {x for e in problem.experts for x in night_places(problem, e)})
    legs = [(b, x) for b in bases for x in onsite] + [(x, b) for b in bases for x in onsite]
    legs += [(a, b) for a in bases for b in bases if a != b]
    return legs + [(x, y) for x in onsite for y in onsite if x != y]


# ---------------------------------------------------------------------- fixed visits that clash

def _release_fixed(problem: PlanRequest, travel: TravelTimes, explainer: Explainer,
                   clock: Clock, info: dict[str, object]) -> Plan:
    """Fixed visits that cannot all be kept: release the fewest of them, plan the rest, and say
    which were released and what each clashes with. The status stays ``infeasible`` (the
    published visits cannot all be kept); the plan beside it is usable as it stands."""
    options, t0 = clock.options, clock.t0
    soft = PlannerModel(problem, travel, **{**options.model.kwargs(), "fixed": "soft"},
                        deadline=clock.deadline, explainer=explainer)
    try:
        soft.build()
    except OutOfTime:
        return _unreleased_error(problem, explainer, t0, info)
    soft.keep_nights(_nights_spent(problem, options))
    kept = sum(soft.fixed_lits.values())
    soft.m.maximize(kept)
    first = clock.solver(share=0.5)
    code = clock.run(first, soft.m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _unreleased_error(problem, explainer, t0, info)
    n_kept = int(round(first.objective_value))
    info["released_fewest"] = code == cp_model.OPTIMAL
    objective = soft.main_objective()
    soft.m.add(kept >= n_kept)
    soft.m.clear_objective()
    soft.m.maximize(objective)
    set_hint(soft.m, dict(enumerate(first.response_proto.solution)))
    second = clock.solver(share=0.8)
    code2 = clock.run(second, soft.m, ProgressCallback(options.progress, t0, "main"))
    best = second if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE) else first
    released = sorted(rid for rid, lit in soft.fixed_lits.items() if not best.value(lit))
    visits, routes = soft.read_plan(best.value)
    value = objective_value(problem, visits, routes)
    bound = (value if code2 == cp_model.OPTIMAL
             else max(value, int(round(second.best_objective_bound))) if best is second
             else _trivial_bound(problem, explainer))
    clashes = {rid: _clash_partners(problem, travel, explainer, rid,
                                    [r for r in soft.fixed_lits if r not in released], clock)
               for rid in released}
    info["released_fixed"] = released
    info["conflicting_fixed"] = sorted({*released, *(x for c in clashes.values() if c for x in c)})
    planned = {v.request: v for v in visits if v.request in clashes}
    messages = explainer.released_messages(clashes, planned)
    return _finish(problem, "infeasible", value, bound, visits, routes, explainer, options, t0,
                   info, released=clashes, messages=messages)


def _clash_partners(problem: PlanRequest, travel: TravelTimes, explainer: Explainer, rid: str,
                    kept: list[str], clock: Clock) -> tuple[str, ...] | None:
    """The kept fixed visits that ``rid`` cannot be kept together with (a minimal-ish set from
    an infeasibility core), ``()`` when it cannot be kept even alone, ``None`` if unknown."""
    diag = PlannerModel(problem, travel, **{**clock.options.model.kwargs(), "fixed": "assume"},
                        explainer=explainer)
    diag.build()
    for other, lit in diag.fixed_lits.items():
        if other != rid and other not in kept:
            diag.m.add(lit == 0)
    solver = clock.solver(share=0.5, cap=5.0)
    solver.parameters.num_workers = 1
    if clock.run(solver, diag.m) != cp_model.INFEASIBLE:
        return None
    core = set(solver.sufficient_assumptions_for_infeasibility())
    return tuple(sorted(o for o, lit in diag.fixed_lits.items()
                        if o != rid and o in kept and lit.index in core))


def _unreleased_error(problem: PlanRequest, explainer: Explainer, t0: float,
                      info: dict[str, object]) -> Plan:
    fixed = sorted(q.id for q in problem.requests if q.fixed is not None)
    messages = explainer.unreleased_messages(fixed)
    plan = Plan(status="infeasible", objective=None, bound=None,
                solve_seconds=time.perf_counter() - t0,
                unscheduled=tuple(explainer.infeasible_fixed(fixed)),
                messages=messages[0], messages_ja=messages[1],
                solver=SolveInfo.of({**info, "conflicting_fixed": fixed}))
    return replace(plan, kpis=plan_kpis(problem, plan))


_NO_PLAN = ("no plan found within the time limit", "制限時間内に計画が見つかりませんでした")


def _error_plan(problem: PlanRequest, message: tuple[str, str], elapsed: float,
                info: dict[str, object]) -> Plan:
    """Every request unscheduled for ``message`` (English, Japanese)."""
    en, ja = message
    uns = tuple(bare_reason(q.id, "not planned: " + en, "未計画: " + ja)
                for q in problem.requests)
    plan = Plan(status="error", objective=None, bound=None, solve_seconds=elapsed,
                unscheduled=uns, messages=(en,), messages_ja=(ja,), solver=SolveInfo.of(info))
    return replace(plan, kpis=plan_kpis(problem, plan))
