"""The search's own promises (``solvers.search``): only a proof cuts a choice, the clock's
deterministic budget makes a solve repeatable, and a choice that can be timed is optimal."""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from engine.demand import ehime_week
from engine.travel import TravelTimes
from solvers.model import PlannerModel
from solvers.planner import SolveOptions, solve
from solvers.search import Clock, _cannot_be_timed, cp_solver
from tests.helpers import problem_of


def _joint_group(problem):
    """A group of expert-days joined by a joint visit, from the choice model's optimum."""
    model = PlannerModel(problem, TravelTimes(problem))
    model.build()
    model.m.maximize(model.main_objective())
    choice = model.choice_model()
    solver = cp_solver(SolveOptions(), 10)
    solver.solve(choice)
    chosen = list(solver.response_proto.solution)
    groups = model.day_groups(chosen.__getitem__)
    k = next(k for k, days in enumerate(model.group_days) if len(days) > 1)
    return model, groups[k]


def test_a_probe_out_of_time_proves_nothing_and_cuts_nothing(monkeypatch):
    model, group = _joint_group(problem_of("joint_visit"))
    t0 = time.perf_counter()
    clock = Clock(SolveOptions(), t0, t0 + 60)
    assert not _cannot_be_timed(model, clock, group)            # the choice can be timed
    # a probe that runs out of time (UNKNOWN) or finds times (FEASIBLE) proves nothing
    for status in (cp_model.UNKNOWN, cp_model.FEASIBLE, cp_model.MODEL_INVALID):
        monkeypatch.setattr(Clock, "run", lambda self, solver, model, cb=None, s=status: s)
        assert not _cannot_be_timed(model, clock, group)
    monkeypatch.setattr(Clock, "run", lambda self, solver, model, cb=None: cp_model.INFEASIBLE)
    assert _cannot_be_timed(model, clock, group)                # only a proof cuts


def test_the_same_deterministic_budget_gives_the_same_plan():
    p = ehime_week("2026-12-07", seed=4)
    opts = SolveOptions(time_limit=120, deterministic_time=0.5, seed=3)
    a, b = solve(p, opts), solve(p, opts)
    assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound)
    assert a.visits == b.visits and a.routes == b.routes
