"""How the planner searches: choose first, then time, with CP-SAT.

``choose_then_time`` solves the model without its timing rules (which consultations, which
tour each day: a relaxation CP-SAT solves fast, with a tight bound), then times the choice with
every rule. A choice that can be timed meets the bound and is optimal, proven; a group of days
whose choice cannot be timed is cut from the choice model, and after a few rounds the full
model takes over from the best plan found, with the choice's bound.

Also here: the CP-SAT settings every solve shares, progress events and the stop watch.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from engine.model import Visit
from solvers.model import PlannerModel

if TYPE_CHECKING:
    from solvers.planner import SolveOptions

__all__ = ["Found", "Progress", "ProgressCallback", "choose_then_time", "cp_solver", "stop_watch"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A solver event: seconds since the start, objective of the best plan and proven bound."""

    elapsed: float
    objective: float
    bound: float
    solutions: int
    phase: str = "main"


class ProgressCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, sink: Callable[[Progress], None] | None, t0: float, phase: str):
        super().__init__()
        self._sink, self._t0, self._phase, self.count = sink, t0, phase, 0

    def on_solution_callback(self) -> None:
        self.count += 1
        if self._sink is not None:
            self._sink(Progress(time.perf_counter() - self._t0, self.objective_value,
                                self.best_objective_bound, self.count, self._phase))


@contextlib.contextmanager
def stop_watch(solver: cp_model.CpSolver, stop: Callable[[], bool] | None) -> Iterator[None]:
    """While the block runs, end the search as soon as ``stop()`` says so."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if stop():
                solver.stop_search()
                return

    thread = threading.Thread(target=watch, name="dxshare-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def cp_solver(options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.random_seed = options.seed
    solver.parameters.num_workers = max(1, options.workers)
    if options.deterministic_time is not None:
        solver.parameters.max_deterministic_time = max(0.01, options.deterministic_time)
    # The served-priority part of the objective is a sum of at-most-one choices; only the
    # fuller linearisation puts those in the LP, which makes the bound tight from the root.
    solver.parameters.linearization_level = 2
    # Presolve probing costs more than it saves on these models (benchmarks/README.md).
    solver.parameters.cp_model_probing_level = 0
    return solver


@dataclass
class Found:
    """The search's answer: CP-SAT status name, a full solution (variable values by index)
    with its objective, and the proven bound."""

    status: str
    values: list[int] | None
    objective: int | None
    bound: int | None


def _fix(model: cp_model.CpModel, values: dict[int, int]) -> None:
    for i, v in values.items():
        var = model.get_int_var_from_proto_index(i)
        model.add(var == v)


def choose_then_time(model: PlannerModel, objective: cp_model.LinearExprT, options: SolveOptions,
            t0: float, deadline: float, first: list[Visit]) -> Found:
    """Choose first, then time: solve the model without its timing rules (the choice of
    tours and consultations, fast and with a tight bound); when the times of the chosen plan
    work out, that plan is optimal, proven. When some day's times do not, that day's choice
    (its tour with its online and joint consultations) is cut from the choice model, the rest
    of the plan is repaired with the full model, and the choice is solved again. After a few
    rounds (or a third of the time), the full model takes over from the best plan found, with
    the choice model's bound as a constraint.

    This is exact: the choice model is a relaxation of the full model (every cut removes only
    choices no timing can make work), so its optimum bounds every plan, and a plan that meets
    it is optimal."""
    choice = model.choice_model()
    n_choice = len(choice.proto.variables)
    hint = model.m.proto.solution_hint
    for i, v in zip(hint.vars, hint.values, strict=True):
        if i < n_choice:
            choice.add_hint(choice.get_int_var_from_proto_index(i), v)
    decisions = model.decisions()
    all_orders = {i for day in model.days.values() for i in day.order_vars()}
    best = Found("unknown", None, None, None)
    budget = t0 + (deadline - t0) / 3
    bound: int | None = None
    for _round in range(_CHOICE_ROUNDS):
        if time.perf_counter() > budget:
            break
        solver = cp_solver(options, budget - time.perf_counter())
        # The choice model's LP is small: all of it from the start proves faster (about 2x on
        # the Ehime weeks, benchmarks/README.md).
        solver.parameters.add_lp_constraints_lazily = False
        with stop_watch(solver, options.stop):
            code = solver.solve(choice)
        if code == cp_model.INFEASIBLE:
            return Found("infeasible", None, None, None)
        if code != cp_model.OPTIMAL:
            if code == cp_model.FEASIBLE:
                bound = int(round(solver.best_objective_bound))
            break
        bound = int(round(solver.objective_value))
        chosen = list(solver.response_proto.solution)
        # The chosen consultations with times, the days' orders free to change: when this
        # meets the choice's objective, it is optimal.
        repaired = _repair(model, objective, options,
                           {i: chosen[i] for i in decisions if i not in all_orders}, deadline)
        if repaired is not None:
            value = _value_of(model, objective, repaired)
            if value >= bound:
                return Found("optimal", repaired, value, value)
            if best.objective is None or value > best.objective:
                best = Found("feasible", repaired, value, bound)
        groups = model.day_groups(chosen.__getitem__)
        bad = [k for k, g in enumerate(groups) if _time_the_choice(
            model, options, {i: 1 for i in g}, deadline) is None]
        bad_days = {day for k in bad for day in model.group_days[k]}
        # Repair: other orders on the days that failed, then those days decided anew.
        free_orders = {i for day in bad_days for i in model.days[day].order_vars()}
        on_bad_days = {rid for (rid, eid, d), lit in model.present.items()
                       if (eid, d) in bad_days and chosen[lit.index]}
        free_days = free_orders | {i for r in on_bad_days for i in model.request_vars(r)} | {
            model.days[day].on_day.index for day in bad_days           # type: ignore[union-attr]
            if model.days[day].on_day is not None}
        for free in (free_days,):
            repaired = _repair(model, objective, options,
                               {i: chosen[i] for i in decisions if i not in free}, deadline)
            if repaired is None:
                continue
            value = _value_of(model, objective, repaired)
            if best.objective is None or value > best.objective:
                best = Found("feasible", repaired, value, bound)
                if options.progress is not None:
                    options.progress(Progress(time.perf_counter() - t0, value, bound, _round + 1))
            if value >= bound:
                return Found("optimal", repaired, value, value)
        if not bad:
            break            # no single group explains it: the full search decides
        for k in bad:
            choice.add_bool_or([~choice.get_bool_var_from_proto_index(i) for i in groups[k]])
        choice.clear_hints()
        for i, v in enumerate(chosen):
            choice.add_hint(choice.get_int_var_from_proto_index(i), v)
    # The full model from the best plan, with the choice model's bound.
    if best.values is None:
        values = model.hint_plan(first, complete=True)
        if values is not None:
            best = Found("feasible", values, _value_of(model, objective, values), bound)
    full = model.m.clone()
    if bound is not None:
        full.add(objective <= bound)
    if best.values is not None:
        full.clear_hints()
        for i, v in enumerate(best.values):
            full.add_hint(full.get_int_var_from_proto_index(i), v)
    solver = cp_solver(options, deadline - time.perf_counter())
    with stop_watch(solver, options.stop):
        code = solver.solve(full, ProgressCallback(options.progress, t0, "main"))
    if code == cp_model.INFEASIBLE:
        if best.values is not None and bound is not None:
            # nothing better than the best plan within the bound: it meets the bound
            return Found("optimal", best.values, best.objective, best.objective)
        return Found("infeasible", None, None, None)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = int(round(solver.objective_value))
        proven = int(round(solver.best_objective_bound))
        if bound is not None:
            proven = min(proven, bound)
        if best.objective is None or value >= best.objective:
            status = "optimal" if code == cp_model.OPTIMAL else "feasible"
            return Found(status, list(solver.response_proto.solution), value,
                          max(proven, value))
        return Found("feasible", best.values, best.objective, max(proven, best.objective))
    return Found("feasible" if best.values is not None else "unknown", best.values,
                  best.objective, bound)


_CHOICE_ROUNDS = 12


def _value_of(model: PlannerModel, objective: cp_model.LinearExprT, values: list[int]) -> int:
    if not isinstance(objective, cp_model.LinearExpr):
        return int(objective)
    flat = cp_model.FlatIntExpr(objective)
    return int(flat.offset + sum(c * values[v.index]
                                 for v, c in zip(flat.vars, flat.coeffs, strict=True)))


def _time_the_choice(model: PlannerModel, options: SolveOptions, fixed: dict[int, int],
                     deadline: float) -> list[int] | None:
    """A full solution with these decision values (times found by CP-SAT), or None when no
    times make them work."""
    probe = model.m.clone()
    probe.clear_objective()
    probe.clear_hints()
    _fix(probe, fixed)
    solver = cp_solver(options, max(0.01, min(5.0, deadline - time.perf_counter())))
    solver.parameters.stop_after_first_solution = True
    code = solver.solve(probe)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution)
    return None


def _repair(model: PlannerModel, objective: cp_model.LinearExprT, options: SolveOptions,
            fixed: dict[int, int], deadline: float) -> list[int] | None:
    """The best plan that keeps these decisions (the days whose times worked out) and
    re-decides the rest with every rule."""
    probe = model.m.clone()
    probe.clear_hints()
    _fix(probe, fixed)
    solver = cp_solver(options, max(0.01, min(2.0, (deadline - time.perf_counter()) / 4)))
    code = solver.solve(probe)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution)
    return None
