"""The quick first plan: always valid, and the answer when the solver has no time."""

import pytest

from engine.checker import check_plan
from engine.demand import ehime_week
from engine.model import Plan
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.planner import SolveOptions, build_routes, solve


@pytest.mark.parametrize("seed", range(6))
def test_greedy_plan_is_valid_and_keeps_the_fixed_visit(seed):
    p = ehime_week("2026-12-07", seed=seed)
    tt = TravelTimes(p)
    ex = Explainer(p, tt)
    visits = greedy_visits(p, tt, ex.options)
    served = {v.request for v in visits}
    plan = Plan("feasible", None, None, 0.0, tuple(visits), tuple(build_routes(p, tt, visits)),
                tuple(ex.explain_unscheduled(served, visits, build_routes(p, tt, visits))))
    bad = [v for v in check_plan(p, plan) if v.rule not in ("objective", "bound", "kpis")]
    assert bad == []
    assert "r001" in served and len(served) >= 30


def test_greedy_keeps_last_plans_visits_where_they_still_fit():
    p = ehime_week("2026-12-07", seed=3)
    tt = TravelTimes(p)
    ex = Explainer(p, tt)
    first = solve(p, SolveOptions(time_limit=60))
    again = greedy_visits(p, tt, ex.options, previous=first)
    assert {v.request: (v.date, v.start, set(v.experts)) for v in again} == {
        v.request: (v.date, v.start, set(v.experts)) for v in first.visits}


def test_no_time_to_search_still_gives_a_valid_plan():
    p = ehime_week("2026-12-07", seed=5)
    plan = solve(p, SolveOptions(time_limit=0.001))
    assert plan.status == "feasible"
    assert plan.objective is not None and plan.bound is not None
    assert plan.bound >= plan.objective
    assert check_plan(p, plan) == []
    assert len(plan.visits) + len(plan.unscheduled) == len(p.requests)


def test_stop_ends_the_search_early_with_a_valid_plan():
    p = ehime_week("2026-12-07", seed=5)
    asked: list[bool] = []

    def stop() -> bool:
        asked.append(True)
        return True

    plan = solve(p, SolveOptions(time_limit=600, stop=stop))
    assert asked                                   # the search looked, and was told to stop
    # Left alone, the search proves this week optimal (in under a second): stopped at once,
    # it ends early with the best plan so far and nothing proved.
    assert plan.status == "feasible"
    assert plan.bound > plan.objective
    assert check_plan(p, plan) == []
    assert solve(p, SolveOptions(time_limit=600)).status == "optimal"


def test_bound_without_a_solver_plan_is_the_trivial_one():
    p = ehime_week("2026-12-07", seed=5)
    plan = solve(p, SolveOptions(time_limit=0.001))
    assert plan.solver.get("first_plan") == "greedy"
    servable = sum(q.priority for q in p.requests)
    assert plan.bound <= 1000 * servable
    assert plan.bound > plan.objective        # nothing proved: the gap stays open
