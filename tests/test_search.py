"""The search's own promises (``solvers.cpsat.search``): only a proof cuts a choice, the clock's
deterministic budget makes a solve repeatable, and a choice that can be timed is optimal."""

from __future__ import annotations

import datetime as dt
import time

from ortools.sat.python import cp_model

from engine.demand import ehime_week
from engine.travel import TravelTimes
from solvers.cpsat import search
from solvers.cpsat.search import _cannot_be_timed, _smallest_core, _timed_beside
from solvers.cpsat.solver import Clock, cp_solver
from solvers.model import PlannerModel
from solvers.planner import SolveOptions, solve
from tests.helpers import chosen_choice, load_doc, problem_of, req, solve_checked


def _joint_group(problem):
    """A group of expert-days joined by a joint visit, from the choice model's optimum: the
    model, the group's literals, the chosen values and the group's days."""
    model = PlannerModel(problem, TravelTimes(problem))
    model.build()
    model.m.maximize(model.main_objective())
    choice = model.choice_model()
    solver = cp_solver(SolveOptions(), 10)
    solver.solve(choice)
    chosen = list(solver.response_proto.solution)
    groups = model.day_groups(chosen.__getitem__)
    k = next(k for k, days in enumerate(model.group_days) if len(days) > 1)
    return model, groups[k], chosen, set(model.group_days[k])


def test_a_probe_out_of_time_proves_nothing_and_cuts_nothing(monkeypatch):
    model, group, _chosen, _days = _joint_group(problem_of("joint_visit"))
    t0 = time.perf_counter()
    clock = Clock(SolveOptions(), t0, t0 + 60)
    assert not _cannot_be_timed(model, clock, group)            # the choice can be timed
    # a probe that runs out of time (UNKNOWN) or finds times (FEASIBLE) proves nothing
    for status in (cp_model.UNKNOWN, cp_model.FEASIBLE, cp_model.MODEL_INVALID):
        monkeypatch.setattr(Clock, "run", lambda self, solver, model, cb=None, s=status: s)
        assert not _cannot_be_timed(model, clock, group)
    monkeypatch.setattr(Clock, "run", lambda self, solver, model, cb=None: cp_model.INFEASIBLE)
    assert _cannot_be_timed(model, clock, group)                # only a proof cuts


def test_only_times_found_beside_the_timed_days_spare_a_group_its_probe(monkeypatch):
    """A joint group whose times are found with the rest of the chosen plan kept is timed,
    no probe of the whole week needed; a search that finds none (out of time, or none
    there) is no proof either way, and leaves the group to ``_cannot_be_timed``."""
    model, group, chosen, days = _joint_group(problem_of("joint_visit"))
    t0 = time.perf_counter()
    clock = Clock(SolveOptions(), t0, t0 + 60)
    assert _timed_beside(model, clock, group, chosen, days)
    for status in (cp_model.UNKNOWN, cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        monkeypatch.setattr(Clock, "run", lambda self, solver, model, cb=None, s=status: s)
        assert not _timed_beside(model, clock, group, chosen, set())


def test_the_same_deterministic_budget_gives_the_same_plan():
    p = ehime_week("2026-12-07", seed=4)
    opts = SolveOptions(time_limit=120, deterministic_time=0.5, seed=3)
    a, b = solve(p, opts), solve(p, opts)
    assert (a.status, a.objective, a.bound) == (b.status, b.objective, b.bound)
    assert a.visits == b.visits and a.routes == b.routes


def test_a_repaired_choice_short_of_the_bound_is_not_called_optimal():
    """The choice model's optimum (pr-1 visits town S and takes both online calls) cannot be
    timed: the calls fill 09:00–11:00 and leave no half hour to drive to S before 10:30. The
    repair of that day alone (every other day kept as chosen) drops S; the best plan has
    pr-2, from the other office, visit S: 20 minutes more driving, a priority more served.
    A repaired plan below the choice's bound is only a plan, never the optimum by itself."""
    places = ("office", "office2", "town_s")
    minutes = {"office": {"office2": 30, "town_s": 30}, "office2": {"office": 30, "town_s": 40},
               "town_s": {"office": 30, "office2": 40}}
    doc = {"format": "plan-request/1", "horizon": {"start": "2026-12-07", "end": "2026-12-07"},
           "locations": [{"id": x, "name": x, "open": "08:00", "close": "18:00"}
                         for x in places],
           "experts": [{"id": "pr-1", "fields": ["pr", "it"], "base": "office",
                        "work_start": "09:00", "work_end": "17:00"},
                       {"id": "pr-2", "fields": ["pr"], "base": "office2",
                        "work_start": "09:00", "work_end": "17:00"}],
           "requests": [req("s", "town_s", priority=1, window=["10:00", "11:30"]),
                        req("a", "office", "it", mode="online", priority=1,
                            window=["09:00", "10:00"]),
                        req("b", "office", "it", mode="online", priority=1,
                            window=["09:00", "11:30"])],
           "travel": {"minutes": minutes},
           "objective": {"priority": 1000, "drive_minute": 1, "onsite_day": 0}}
    plan = solve_checked(doc, time_limit=30)
    assert plan.status == "optimal"
    assert {v.request: v.experts for v in plan.visits} == {
        "s": ("pr-2",), "a": ("pr-1",), "b": ("pr-1",)}
    assert plan.objective == plan.bound == 3 * 1000 - 80


def test_a_search_bound_above_every_request_served_gives_way_to_it(monkeypatch):
    """A search stopped before its root relaxation reports CP-SAT's first bound, which can be
    above every request served with no driving: the plan reports the lesser of the two."""
    import solvers.planner as planner
    from solvers.cpsat.search import Found
    from solvers.objective import trivial_bound

    real = planner.choose_then_time

    def early(*args, **kw):
        found = real(*args, **kw)
        return Found("feasible", found.values, found.objective, 10**9)

    monkeypatch.setattr(planner, "choose_then_time", early)
    p = ehime_week("2026-12-07", seed=1)
    plan = solve(p, SolveOptions(time_limit=20))
    assert plan.status == "feasible"
    assert plan.objective <= plan.bound == trivial_bound(p, {q.id for q in p.requests})


def test_a_core_keeps_only_literals_a_proof_still_needs(monkeypatch):
    """A group that cannot be timed is cut by its fewest literals that still cannot: here
    literals 3 and 7 conflict, whatever else is chosen. A literal is dropped only on a proof:
    where the probes decide nothing, the whole group stays the cut."""
    model, clock = object(), object()
    monkeypatch.setattr(search, "_cannot_be_timed",
                        lambda _m, _c, lits, _chosen=None: {3, 7} <= set(lits))
    assert _smallest_core(model, clock, [1, 3, 5, 7, 9], []) == [3, 7]    # type: ignore[arg-type]
    monkeypatch.setattr(search, "_cannot_be_timed", lambda *_a, **_k: False)
    assert _smallest_core(model, clock, [1, 3, 5], []) == [1, 3, 5]     # type: ignore[arg-type]


def test_the_choice_of_an_ehime_week_is_proven_in_a_little_work():
    """The choice solver's settings (``_prove_choice_fast``) are the ones measured fastest to a
    proof on the Ehime weeks; among them no SAT inprocessing, which on these models spent most
    of the search (about 0.1 of CP-SAT's deterministic seconds on these two weeks, against a
    few hundredths without). Deterministic time: the same on any machine."""
    for seed in (1, 3):
        problem = ehime_week("2026-12-07", seed=seed)
        model = PlannerModel(problem, TravelTimes(problem))
        model.build()
        model.m.maximize(model.main_objective())
        t0 = time.perf_counter()
        solver = search._choice_solver(Clock(SolveOptions(), t0, t0 + 60))
        assert solver.solve(model.choice_model()) == cp_model.OPTIMAL
        assert solver.response_proto.deterministic_time < 0.03, seed


def test_a_first_plan_worth_the_proven_bound_is_the_answer():
    """A first plan (the greedy one, or the day trips a week with nights starts from) that is
    worth the choice's proven bound is taken in the model, timed at its best, and kept: it is
    optimal whatever plan the choice itself came to. One worth less is not tried."""
    problem = problem_of("joint_visit")
    plan = solve_checked(problem)
    assert plan.status == "optimal" and plan.objective is not None
    model = PlannerModel(problem, TravelTimes(problem))
    model.build()
    objective = model.main_objective()
    model.m.maximize(objective)
    t0 = time.perf_counter()
    clock = Clock(SolveOptions(), t0, t0 + 60)
    values = search._first_timed(model, clock, list(plan.visits), plan.objective, plan.objective)
    assert values is not None and search._value_of(objective, values) == plan.objective
    assert search._first_timed(model, clock, list(plan.visits), plan.objective - 1,
                               plan.objective) is None



def _calls_after_a1() -> dict:
    """pr-1 (08:30–17:15) visits a1 (town A, 09:00–10:00) and b1 (town B, from 14:00), and
    has two online consultations of 60 minutes, each to end by 11:30 and start from 10:00:
    each fits beside the tour (at town A after a1), both never do, in any order of the stops
    (B first cannot reach A by 09:00)."""
    doc = load_doc("two_towns")
    doc["requests"][0]["window"] = ["09:00", "10:00"]
    doc["requests"][1]["window"] = ["14:00", "15:30"]
    doc["requests"] += [req(f"o{i}", "office", mode="online", duration=60, priority=9,
                            window=["10:00", "11:30"]) for i in (1, 2)]
    return doc


def _chosen_day(doc: dict, forced: dict[str, int]) -> tuple[PlannerModel, list[int], int]:
    """The model, the choice's optimum with the named literals forced, and the group of its
    one expert-day."""
    model, chosen = chosen_choice(problem_of(doc), forced)
    [k] = range(len(model.group_days))
    return model, chosen, k


def test_a_day_no_order_can_time_is_cut_by_its_consultations_not_its_order():
    """The choice serves all four (it sees each consultation beside the tour, not the two
    together); no order of a1 and b1 times them, so the cut names the four consultations —
    the next choice cannot take them all in another order either — not the tour it chose."""
    model, chosen, k = _chosen_day(_calls_after_a1(), {})
    monday = dt.date(2026, 12, 7)
    assert all(chosen[model.present[r, "pr-1", monday].index] for r in ("a1", "b1", "o1", "o2"))
    assert model.group_fits(k, chosen.__getitem__) is False
    cut = search._in_no_order(model, k, chosen, 5.0)
    assert cut is not None
    assert {model.m.proto.variables[i].name for i in cut} == \
        {model.present[r, "pr-1", monday].name for r in ("a1", "b1", "o1", "o2")}
    plan = solve_checked(problem_of(_calls_after_a1()))
    assert plan.status == "optimal" and len(plan.visits) == 3


def test_a_day_another_order_can_time_keeps_its_cut_to_the_order(monkeypatch):
    """Where the day check times the day in another order of its stops, no cut by the
    consultations alone: the search cuts the order it chose, as before."""
    model, chosen, k = _chosen_day(_calls_after_a1(), {})
    chosen_order = model.chosen_order(model.days["pr-1", dt.date(2026, 12, 7)],
                                      chosen.__getitem__)
    real = model.group_fits

    def other_orders_fit(k: int, value, *, time_limit=None, order=None):
        return real(k, value, time_limit=time_limit) if order is None \
            else order != chosen_order

    monkeypatch.setattr(model, "group_fits", other_orders_fit)
    assert search._in_no_order(model, k, chosen, 5.0) is None
