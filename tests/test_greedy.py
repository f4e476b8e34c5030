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
