"""How the planner searches: choose first, then time, with CP-SAT.

``choose_then_time`` solves the model without its timing rules (which consultations, which
tour each day: a relaxation CP-SAT solves fast, with a tight bound), then times the choice with
every rule. A choice that can be timed meets the bound and is optimal, proven; a group of days
whose choice cannot be timed is cut from the choice model, and after a few rounds the full
model takes over from the best plan found, with the choice's bound, and past its first
seconds large-neighbourhood search (``solvers.cpsat.lns``) improves the plan.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from engine.model import Visit
from solvers.cpsat.lns import improve
from solvers.cpsat.solver import Clock, ProgressCallback
from solvers.model import PlannerModel, fix_values, set_hint
from solvers.objective import objective_value
from solvers.options import Progress

__all__ = ["Found", "choose_then_time"]


@dataclass
class Found:
    """The search's answer: CP-SAT status name, a full solution (variable values by index)
    with its objective, and the proven bound."""

    status: str
    values: list[int] | None
    objective: int | None
    bound: int | None


def choose_then_time(model: PlannerModel, objective: cp_model.LinearExprT, clock: Clock,
                     first: list[Visit], first_value: int | None = None) -> Found:
    """Choose first, then time: solve the model without its timing rules (the choice of
    tours and consultations, fast and with a tight bound); when the times of the chosen plan
    work out, that plan is optimal, proven. When some day's times do not, that day's choice
    (its tour with its online and joint consultations) is cut from the choice model, the rest
    of the plan is repaired with the full model, and the choice is solved again. After a few
    rounds (or a third of the time), the full model takes over from the best plan found, with
    the choice model's bound as a constraint.

    This is exact: the choice model is a relaxation of the full model (a cut removes only a
    choice that CP-SAT proved no timing can make work), so its optimum bounds every plan, and a
    plan that meets it is optimal."""
    options = clock.options
    choice = model.choice_model()
    _complete_choice_hint(choice, model, clock)
    decisions = model.decisions()
    all_orders = {i for day in model.days.values() for i in day.order_vars()}
    best = Found("unknown", None, None, None)
    bound: int | None = None
    last_choice: dict[int, int] | None = None
    improved = 0            # plans found, each better than the one before
    failed: set[frozenset[tuple[str, dt.date]]] = set()     # days whose choice could not be timed

    def consider(values: list[int] | None, at_round: int) -> bool:
        """Keep a repaired plan if it is the best so far; whether it meets the bound."""
        nonlocal best, improved
        if values is None:
            return False
        value = _value_of(objective, values)
        if best.objective is None or value > best.objective:
            best = Found("feasible", values, value, bound)
            improved += 1
            if options.progress is not None and bound is not None:
                options.progress(Progress(time.perf_counter() - clock.t0, value, bound, improved))
        return bound is not None and value >= bound

    for at_round in range(1, _CHOICE_ROUNDS + 1):
        if clock.past(_CHOICE_SHARE):
            break
        solver = _choice_solver(clock)
        code = clock.run(solver, choice)
        if code == cp_model.INFEASIBLE:
            return Found("infeasible", None, None, None)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            break            # without a solution CP-SAT's bound is not one to trust
        proven = code == cp_model.OPTIMAL
        bound = int(round(solver.objective_value if proven else solver.best_objective_bound))
        chosen = list(solver.response_proto.solution)
        if proven and consider(_first_timed(model, clock, first, first_value, bound), at_round):
            return Found("optimal", best.values, best.objective, best.objective)
        # The chosen consultations timed, the days' orders free: optimal if it meets the bound.
        if consider(_repair(model, clock, {i: chosen[i] for i in decisions
                                           if i not in all_orders}), at_round):
            return Found("optimal", best.values, best.objective, best.objective)
        if not proven:
            # the choice is not proven: the full search goes on from it, from the days of
            # it that can be timed as they stand when that makes a plan
            last_choice = {i: chosen[i] for i in decisions}
            if best.values is None or best.objective is None \
                    or best.objective < _value_of(objective, chosen):
                consider(_repair_timed_days(model, clock, chosen, decisions), at_round)
            break
        groups = model.day_groups(chosen.__getitem__)
        fits = _day_checks(model, clock, chosen, len(groups), cap=1.0, share=0.1)
        # Repair: the days the day check times kept, the others (every group that may have
        # failed) decided anew, before any group is probed: a plan that meets the bound ends it.
        if consider(_repair_unsure(model, clock, fits, chosen, decisions), at_round):
            return Found("optimal", best.values, best.objective, best.objective)
        cores = _untimed_groups(model, clock, groups, chosen, failed, fits)
        if not cores:
            if _cut_overtime(model, clock, choice, chosen, decisions):
                set_hint(choice, dict(enumerate(chosen)))
                continue     # every day times, but later than the choice counted
            break            # no single group explains it: the full search decides
        for core in cores.values():
            choice.add_bool_or([~choice.get_bool_var_from_proto_index(i) for i in core])
        set_hint(choice, dict(enumerate(chosen)))
    return _full_search(model, objective, clock, first, first_value, best, bound, last_choice)


def _untimed_groups(model: PlannerModel, clock: Clock, groups: list[list[int]],
                    chosen: list[int], failed: set[frozenset[tuple[str, dt.date]]],
                    fits: list[bool | None]) -> dict[int, list[int]]:
    """The groups of the chosen plan (a day with its joint and online consultations) whose
    times cannot work out (by the day check, or, where it cannot tell, by CP-SAT), each with
    the literals to cut: the whole group, except where CP-SAT decided on days that failed
    in an earlier round (``failed``, updated here): there the fewest of them it still proves
    cannot work together (``_smallest_core``), since a conflict that came back once comes
    back in the choice's next variation too."""
    out: dict[int, list[int]] = {}
    unsure = {day for k, f in enumerate(fits) if f is not True for day in model.group_days[k]}
    for k, g in enumerate(groups):
        if fits[k] is False:
            out[k] = _in_no_order(model, k, chosen, min(0.2, 0.01 * clock.left())) or g
        elif fits[k] is None and not _timed_beside(model, clock, g, chosen, unsure) \
                and _cannot_be_timed(model, clock, g, chosen):
            days = frozenset(model.group_days[k])
            out[k] = _smallest_core(model, clock, g, chosen) if days in failed else g
            failed.add(days)
    return out


def _repair_unsure(model: PlannerModel, clock: Clock, fits: list[bool | None],
                   chosen: list[int], decisions: list[int]) -> list[int] | None:
    """The chosen plan with the groups the day check times (``fits``: True) kept as they
    stand, the days of the others (those it cannot time, and those it cannot tell about)
    decided anew with every rule; None when no plan was found."""
    days = {day for k, f in enumerate(fits) if f is not True for day in model.group_days[k]}
    free = _free_on_days(model, days, chosen)
    return _repair(model, clock, {i: chosen[i] for i in decisions if i not in free})


def _in_no_order(model: PlannerModel, k: int, chosen: list[int], time_limit: float
                 ) -> list[int] | None:
    """Where the day check proves a one-day group's consultations cannot be timed in any
    order of its stops (``_MOST_REORDERED`` at most), the literals to cut: the day's
    consultations and where it starts and ends, not its order — a cut of the order alone
    sends the choice to the next order of the same day, round after round (a circuit day
    of five calls and three stops took a round each). None where some order fits or the
    check cannot tell."""
    (eid, d), = model.group_days[k]
    day = model.days[eid, d]
    order = model.chosen_order(day, chosen.__getitem__)
    if order is None or len(order) > _MOST_REORDERED:
        return None
    for other in itertools.permutations(order):
        if other != order and model.group_fits(k, chosen.__getitem__, time_limit=time_limit,
                                               order=other) is not False:
            return None
    lits = {x.index for (_, e, dd), x in model.present.items()
            if (e, dd) == (eid, d) and chosen[x.index]}
    return sorted(lits | {x.index for x in model.end_literals(day) if chosen[x.index]})


def _timed_beside(model: PlannerModel, clock: Clock, lits: list[int], chosen: list[int],
                  unsure: set[tuple[str, dt.date]]) -> bool:
    """Whether CP-SAT finds times for these literals (a group's) with the chosen plan kept
    on every day the day check timed: a witness that the group can be timed, found in a small
    search (the group's days and the other undecided ones), where a probe of the whole week
    takes seconds. Finding none proves nothing (``_cannot_be_timed`` decides then)."""
    orders = {i for day in model.days.values() for i in day.order_vars()}
    free = _free_on_days(model, unsure, chosen) | orders
    fixed = {i: chosen[i] for i in model.decisions() if i not in free}
    fixed.update({i: 1 for i in lits})
    probe = model.m.clone()
    probe.clear_objective()
    probe.clear_hints()
    set_hint(probe, dict(enumerate(chosen)))
    fix_values(probe, fixed, model.booleans)
    solver = clock.solver(share=0.05, cap=1.0)
    solver.parameters.stop_after_first_solution = True
    return clock.run(solver, probe) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _smallest_core(model: PlannerModel, clock: Clock, lits: list[int],
                   chosen: list[int]) -> list[int]:
    """Of literals that cannot be timed together, a subset that still cannot (each literal
    dropped in turn when the rest still cannot be timed): a cut of fewer literals removes
    every choice that repeats the conflict, not only this one. A group of days joined by
    a joint visit conflicts mostly in a few of its parts (the joint visit's two tours and
    one online consultation beside lunch), while the choice model has many ways to vary the
    rest; cutting the whole group cut them one round at a time. A probe that cannot decide
    keeps its literal, so the core is always proven."""
    core = list(lits)
    for i in lits:
        if len(core) == 1:
            break
        rest = [j for j in core if j != i]
        if _cannot_be_timed(model, clock, rest, chosen):
            core = rest
    return core


def _repair_timed_days(model: PlannerModel, clock: Clock, chosen: list[int],
                       decisions: list[int]) -> list[int] | None:
    """The chosen plan's expert-days that the day check times as they stand, kept; the others
    (those it cannot time, and those it cannot tell about: joint days, circuits) decided anew
    with every rule."""
    fits = _day_checks(model, clock, chosen, len(model.day_groups(chosen.__getitem__)),
                       cap=0.2, share=0.01)
    return _repair_unsure(model, clock, fits, chosen, decisions)


def _day_checks(model: PlannerModel, clock: Clock, chosen: list[int], n: int, *, cap: float,
                share: float) -> list[bool | None]:
    """The day check of each of the chosen plan's ``n`` groups (``PlannerModel.group_fits``:
    True, False, or None where it cannot tell), each allowed ``share`` of the time left, at
    most ``cap`` seconds."""
    return [model.group_fits(k, chosen.__getitem__, time_limit=min(cap, share * clock.left()))
            for k in range(n)]


def _free_on_days(model: PlannerModel, days: set[tuple[str, dt.date]],
                  chosen: list[int]) -> set[int]:
    """The decisions a repair makes anew on ``days`` (expert, date): the days' orders and
    on-site indicators, and every choice of the requests the chosen plan serves there."""
    on_days = {rid for (rid, eid, d), lit in model.present.items()
               if (eid, d) in days and chosen[lit.index]}
    free = {i for day in days for i in model.days[day].order_vars()}
    free |= model.request_vars(on_days)
    free |= {on.index for day in days if (on := model.days[day].on_day) is not None}
    return free


def _full_search(model: PlannerModel, objective: cp_model.LinearExprT, clock: Clock,
                 first: list[Visit], first_value: int | None, best: Found, bound: int | None,
                 choice: dict[int, int] | None = None) -> Found:
    """The full model, searching only for plans better than the best one found and no better
    than the choice model's bound: when there are none, the best plan is optimal. ``choice``
    (an unproven choice that could not be timed as it stood) is the hint when there is no
    plan yet. The first plan (worth ``first_value``) is the one to beat where the rounds found
    none better. Past its first seconds (``_FULL_ALONE``) without a proof, large-neighbourhood
    search (``solvers.cpsat.lns``) improves the best plan for the rest of the time: one
    search of the whole model stalls where a few expert-days re-solved at a time do not."""
    if clock.left() < _FULL_SEARCH_MIN_SECONDS:
        return _best_or_unknown(best, bound)      # no time left to search: the best so far
    if best.values is None:
        values = model.hint_plan(first, complete=True)
        if values is not None:
            best = Found("feasible", values, _value_of(objective, values), bound)
    elif first_value is not None and best.objective is not None and first_value > best.objective:
        best = _better_of_first(model, first, best, bound)
    alone = max(_FULL_ALONE_SECONDS, _FULL_ALONE * (clock.deadline - clock.t0))
    found = _whole_model(model, objective, clock, best, bound, choice,
                         cap=alone if best.values is not None else None)
    if found.status in ("optimal", "infeasible") or found.values is None \
            or found.objective is None or clock.left() < _FULL_SEARCH_MIN_SECONDS:
        return found
    progress = clock.options.progress
    count = 0

    def better(values: list[int], value: int) -> None:
        nonlocal count
        count += 1
        if progress is not None and found.bound is not None:
            progress(Progress(time.perf_counter() - clock.t0, value, found.bound, count, "lns"))

    values, value, _steps = improve(model, objective, clock, found.values, found.objective,
                                    until=1.0, bound=found.bound, on_better=better)
    if found.bound is None:             # nothing proven: no search reached a bound
        return Found("feasible", values, value, None)
    top = max(found.bound, value)
    return Found("optimal" if value >= top else "feasible", values, value, top)


def _better_of_first(model: PlannerModel, first: list[Visit], best: Found,
                     bound: int | None) -> Found:
    """The first plan where it is worth more than ``best``. Each is valued as the plan it
    reads as (FORMAT.md's formula): short of a proof, a solution's overtime minutes may stand
    above its days' real ends, its objective then below what the plan is worth. A plan better
    than the one kept is still one whose objective beats that worth: every plan has a
    solution whose objective is its worth."""
    assert best.values is not None
    kept = _worth(model, best.values)
    values = model.hint_plan(first, complete=True)
    if values is not None and (worth := _worth(model, values)) > kept:
        return Found("feasible", values, worth, bound)
    return Found(best.status, best.values, kept, best.bound)


def _worth(model: PlannerModel, values: list[int]) -> int:
    """What the plan of a solution is worth (``solvers.objective``)."""
    return objective_value(model.p, *model.read_plan(lambda var: values[var.index]))


def _whole_model(model: PlannerModel, objective: cp_model.LinearExprT, clock: Clock,
                 best: Found, bound: int | None, choice: dict[int, int] | None,
                 cap: float | None) -> Found:
    """One search of the whole model for a plan better than ``best`` (at most ``cap``
    seconds): ``best`` proven optimal when there is none."""
    full = model.m.clone()
    if bound is not None:
        full.add(objective <= bound)
    solver = clock.solver(cap=cap)
    full.clear_hints()
    if best.values is not None and best.objective is not None:
        full.add(objective >= best.objective + 1)
        set_hint(full, dict(enumerate(best.values)))
    elif choice is not None:
        # (CP-SAT's repair_hint would fit here, but aborts the process on these models)
        set_hint(full, choice)
    code = clock.run(solver, full, ProgressCallback(clock.options.progress, clock.t0, "main"))
    if code == cp_model.INFEASIBLE:
        if best.values is not None:
            return Found("optimal", best.values, best.objective, best.objective)
        return Found("infeasible", None, None, None)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = int(round(solver.objective_value))
        proven = int(round(solver.best_objective_bound))
        if bound is not None:
            proven = min(proven, bound)
        status = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return Found(status, list(solver.response_proto.solution), value, max(proven, value))
    return _best_or_unknown(best, bound)


def _best_or_unknown(best: Found, bound: int | None) -> Found:
    """The best plan found, not proven optimal (``unknown`` if there is none)."""
    if best.values is not None and best.objective is not None:
        return Found("feasible", best.values, best.objective,
                     None if bound is None else max(bound, best.objective))
    return Found("unknown", None, None, bound)


_CHOICE_ROUNDS = 12
#: A day that cannot be timed is tried in every order of at most this many stops (5! = 120).
_MOST_REORDERED = 5
#: With fewer seconds left the full search is not started (copying the model costs more).
_FULL_SEARCH_MIN_SECONDS = 0.05
#: Share of the time limit the choice rounds may use before the full search takes over.
_CHOICE_SHARE = 0.45
#: The whole model is searched alone for this share of the time limit (at least
#: ``_FULL_ALONE_SECONDS``) before large-neighbourhood search takes over.
_FULL_ALONE = 0.05
_FULL_ALONE_SECONDS = 1.0


def _choice_solver(clock: Clock) -> cp_model.CpSolver:
    """The solver of the choice model: most of the time where the choice cannot be proven
    quickly (large problems: its best choice, timed, is then the plan), the rest left to time
    and repair it; its settings as ``_prove_choice_fast``."""
    solver = clock.solver(share=_CHOICE_SHARE)
    _prove_choice_fast(solver)
    return solver


def _prove_choice_fast(solver: cp_model.CpSolver) -> None:
    """Settings for the choice model's solve, measured on the Ehime weeks (benchmarks/
    README.md): its LP, small, all of it from the start (about 2x faster to a proof); one
    presolve pass (the later passes find almost nothing more on these models; with the next
    setting about 30 % less CPU to a proof), no separate phase following the hint, which
    is complete and feasible (``_complete_choice_hint``), so CP-SAT takes it as its first
    solution anyway, and no SAT inprocessing (the probing and clause vivification CP-SAT runs
    between restarts: on these models nearly all of the search's decisions, and the proof
    comes from the LP; without it about a quarter less CPU to a proof over fifteen Ehime
    weeks, none slower). Fixed settings, not timed ones: the same seed gives the same plan on
    any machine."""
    solver.parameters.add_lp_constraints_lazily = False
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.hint_conflict_limit = 0
    solver.parameters.use_sat_inprocessing = False


def _value_of(objective: cp_model.LinearExprT, values: list[int]) -> int:
    if not isinstance(objective, cp_model.LinearExpr):
        return int(objective)
    flat = cp_model.FlatIntExpr(objective)
    return int(flat.offset + sum(c * values[v.index]
                                 for v, c in zip(flat.vars, flat.coeffs, strict=True)))


def _complete_choice_hint(choice: cp_model.CpModel, model: PlannerModel, clock: Clock) -> None:
    """Hint the choice model with the full model's hint (the greedy plan's decisions), made
    complete by a quick solve with those decisions fixed: on large problems the choice search
    only starts from a hint it can take whole."""
    hint = model.m.proto.solution_hint
    n = len(choice.proto.variables)
    given = {i: v for i, v in zip(hint.vars, hint.values, strict=True) if i < n}
    probe = choice.clone()
    probe.clear_objective()
    fix_values(probe, given, model.booleans)
    solver = clock.solver(share=0.1, cap=2.0)
    solver.parameters.stop_after_first_solution = True
    if clock.run(solver, probe) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        given = dict(enumerate(solver.response_proto.solution))
    set_hint(choice, given)


def _cannot_be_timed(model: PlannerModel, clock: Clock, lits: list[int],
                     chosen: list[int] | None = None) -> bool:
    """Whether CP-SAT proves that no times make these literals (a group's tours and
    consultations) work together, whatever the rest of the plan."""
    probe = model.m.clone()
    probe.clear_objective()
    probe.clear_hints()
    if chosen is not None:
        set_hint(probe, dict(enumerate(chosen)))
    fix_values(probe, {i: 1 for i in lits}, model.booleans)
    solver = clock.solver(share=0.1, cap=5.0)
    solver.parameters.stop_after_first_solution = True
    return clock.run(solver, probe) == cp_model.INFEASIBLE


def _first_timed(model: PlannerModel, clock: Clock, first: list[Visit],
                 first_value: int | None, bound: int) -> list[int] | None:
    """Where the first plan (``first``: the greedy plan, or the plan the search was given to
    start from) is worth (``first_value``) the choice's proven bound, that plan in the model
    with its times (and so its overtime) at their best, its consultations kept and its days'
    orders free: it is then optimal, whatever the choice's own plan. None otherwise."""
    if first_value is None or first_value < bound:
        return None
    values = model.hint_plan(first, complete=True)
    if values is None:
        return None
    orders = {i for day in model.days.values() for i in day.order_vars()}
    return _repair(model, clock, {i: values[i] for i in model.decisions() if i not in orders})


def _repair(model: PlannerModel, clock: Clock, fixed: dict[int, int]) -> list[int] | None:
    """The best plan that keeps these decisions and re-decides the rest with every rule."""
    return _repair_exact(model, clock, fixed)[0]


def _repair_exact(model: PlannerModel, clock: Clock, fixed: dict[int, int]
                  ) -> tuple[list[int] | None, bool]:
    """``_repair``, and whether CP-SAT proved its plan the best that keeps these decisions."""
    probe = model.m.clone()
    probe.clear_hints()
    fix_values(probe, fixed, model.booleans)
    solver = clock.solver(share=0.25, cap=2.0)
    code = clock.run(solver, probe)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution), code == cp_model.OPTIMAL
    return None, False


def _cut_overtime(model: PlannerModel, clock: Clock, choice: cp_model.CpModel,
                  chosen: list[int], decisions: list[int]) -> bool:
    """Where every group of the chosen plan can be timed but its days end later than the
    choice counted (the choice knows only each tour's earliest end; a joint visit's partner
    or an online consultation may hold a day back), the choice learns what its literals cost:
    "these tours and consultations ⇒ the group's overtime costs at least what it costs in
    ``timed``". ``timed`` is the best timing of the choice as it stands (proven): each group's
    overtime there is the least its literals allow (the groups' times are apart), and more
    literals (more consultations, a joint partner) only hold a day back more, so the cut
    removes no plan and the bound stays valid. Whether a cut was added that the choice
    breaks."""
    if not model.overtime:
        return False
    timed, exact = _repair_exact(model, clock, {i: chosen[i] for i in decisions})
    if timed is None or not exact:
        return False
    cost = {e.id: e.overtime.minute_cost for e in model.p.experts if e.overtime is not None}
    added = False
    for lits, days in zip(model.day_groups(timed.__getitem__), model.group_days, strict=True):
        ots = [(cost[eid], model.overtime[eid, d]) for eid, d in days
               if (eid, d) in model.overtime]
        paid = sum(c * timed[x.index] for c, x in ots)
        if not ots or paid <= sum(c * chosen[x.index] for c, x in ots) \
                or not all(chosen[i] for i in lits):
            continue
        owed = cp_model.LinearExpr.weighted_sum(
            [choice.get_int_var_from_proto_index(x.index) for _, x in ots], [c for c, _ in ots])
        choice.add(owed >= paid).only_enforce_if(
            [choice.get_bool_var_from_proto_index(i) for i in lits])
        added = True
    return added
