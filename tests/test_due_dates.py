"""Due dates (``requests[].due``, ``objective.late_day``): each calendar day a visit falls
after its request's due date costs ``late_day``. Read and validated, paid by every
formulation, the greedy first plan and the slot proposals, counted by the checker, the KPIs
and the tables, explained when it leaves a request out.

Base instance ``two_towns`` (tests/data) over Monday–Friday 2026-12-07…11, one PR expert:
a1 (priority 5, 60 min) at town A, 30 min away; b1 (priority 3, 90 min) at town B, 45 min.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine.checker import check_plan
from engine.errors import InputError
from engine.format import parse_plan_request, plan_request_to_dict
from engine.tables import plan_tables
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from tests.bruteforce import best_plan
from tests.helpers import FORMULATIONS, codes_of, problem_of, propose_checked, req, solve_checked

MON, TUE, WED, THU, FRI = (dt.date(2026, 12, d) for d in range(7, 12))


def week(doc: dict, late_day: int = 0) -> dict:
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-11"}
    if late_day:
        doc["objective"] = {"late_day": late_day}
    return doc


@pytest.fixture(params=list(FORMULATIONS))
def formulation(request):
    return FORMULATIONS[request.param]


# ------------------------------------------------------------------ reading


def test_due_and_late_day_are_read_and_written_back(two_towns_doc):
    doc = week(two_towns_doc, late_day=700)
    doc["requests"][0]["due"] = "2026-12-01"            # before the horizon is allowed
    problem = parse_plan_request(doc)
    assert problem.requests[0].due == dt.date(2026, 12, 1) and problem.requests[1].due is None
    assert problem.objective.late_day == 700
    again = parse_plan_request(plan_request_to_dict(problem))
    assert again.requests == problem.requests and again.objective == problem.objective


def test_without_them_nothing_is_written_or_paid(two_towns_doc):
    doc = plan_request_to_dict(parse_plan_request(two_towns_doc))
    assert "late_day" not in doc["objective"] and "due" not in doc["requests"][0]


@pytest.mark.parametrize("bad, path", [
    ({"due": "2026-13-01"}, "requests[0].due"),
    ({"due": 20261207}, "requests[0].due"),
    ({"late_day": -1}, "objective.late_day"),
    ({"late_day": 1.5}, "objective.late_day"),
    ({"late_day": 2_000_000}, "objective.late_day"),
])
def test_a_bad_due_or_late_day_is_an_error_naming_its_path(two_towns_doc, bad, path):
    doc = week(two_towns_doc)
    if "due" in bad:
        doc["requests"][0]["due"] = bad["due"]
    else:
        doc["objective"] = {"late_day": bad["late_day"]}
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    assert [p.path for p in err.value.problems] == [path]
    assert err.value.problems[0].message_ja


# ------------------------------------------------------------------ planning


def test_a_day_late_costs_late_day_and_moves_the_visit_before_its_due_date(two_towns_doc,
                                                                          formulation):
    """a1 may come Wednesday to Friday (due Tuesday); the expert works only Thursday and
    Friday: Thursday is 2 days late, Friday 3. With the late day paid the plan picks
    Thursday and pays 2 × 700; without late_day any day is free."""
    doc = week(two_towns_doc, late_day=700)
    doc["experts"][0]["days"] = ["2026-12-10", "2026-12-11"]
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5, earliest="2026-12-09",
                           due="2026-12-08")]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.visit_by_request["a1"].date == THU
    assert plan.objective == 5000 - 60 - 2 * 700
    assert plan.kpis["late_days"] == 2 and plan.kpis["late_visits"] == 1
    assert plan.objective == best_plan(problem_of(doc))


def test_lateness_decides_which_request_gets_the_only_day(two_towns_doc, formulation):
    """The expert works only Wednesday, with room for one visit: b1 (priority 3) is due
    Friday, a1 (priority 5) was due Monday: two days late at 1500 a day, a1 is worth
    5000 − 3000, less than b1's 3000 — b1 goes, a1 gives way (late_day 0: a1 goes)."""
    doc = week(two_towns_doc)
    doc["experts"][0]["days"] = ["2026-12-09"]
    doc["experts"][0]["max_visits_per_day"] = 1
    doc["requests"][0]["due"] = "2026-12-07"
    doc["requests"][1]["due"] = "2026-12-11"
    plan = solve_checked(doc, model=formulation)
    assert {v.request for v in plan.visits} == {"a1"}
    doc["objective"] = {"late_day": 1500}
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and {v.request for v in plan.visits} == {"b1"}
    assert plan.objective == best_plan(problem_of(doc))


def test_a_request_only_so_late_that_it_costs_more_than_it_earns_is_left_out(two_towns_doc):
    doc = week(two_towns_doc, late_day=3000)
    doc["requests"][1]["earliest"] = "2026-12-10"
    doc["requests"][1]["due"] = "2026-12-08"            # Thursday is 2 days late: 6000 > 3000
    plan = solve_checked(doc)
    assert codes_of(plan, "b1") == ("late_cost",)
    assert "12/8" in plan.unscheduled[0].reasons[0] and "期限" in plan.unscheduled[0].reasons_ja[0]
    doc["requests"][1]["earliest"] = "2026-12-09"       # one day late at 5000: "1 day", not "1 days"
    doc["objective"]["late_day"] = 5000
    reason = solve_checked(doc).unscheduled[0].reasons[0]
    assert "is 1 day late" in reason, reason
    doc["requests"][1]["earliest"] = "2026-12-10"
    doc["objective"]["late_day"] = 1400                  # 2800 < 3000: served, late
    plan = solve_checked(doc)
    assert plan.visit_by_request["b1"].date == THU


# ------------------------------------------------------------------ greedy, slots, checker, tables


def test_the_greedy_first_plan_prefers_a_date_on_time(two_towns_doc):
    doc = week(two_towns_doc, late_day=500)
    doc["requests"][0]["due"] = "2026-12-07"
    problem = problem_of(doc)
    travel = TravelTimes(problem)
    visits = greedy_visits(problem, travel, Explainer(problem, travel).options)
    assert {v.request: v.date for v in visits}["a1"] == MON


def test_a_slot_proposal_pays_for_lateness(two_towns_doc):
    doc = week(two_towns_doc, late_day=900)
    doc["experts"][0]["max_visits_per_day"] = 1
    doc["requests"].append(req("n1", "town_a", duration=60, priority=4, due="2026-12-09"))
    problem = problem_of(doc)
    plan = solve_checked(dataclasses.replace(problem, requests=problem.requests[:2]))
    taken = {v.date for v in plan.visits}
    answer = propose_checked(problem, plan, "n1")
    best = answer.proposals[0]
    free = sorted(d for d in (MON, TUE, WED, THU, FRI) if d not in taken)
    on_time = [d for d in free if d <= WED]
    assert best.date == (on_time[0] if on_time else free[0])


def test_the_checker_counts_the_days_late_in_the_objective(two_towns_doc):
    doc = week(two_towns_doc, late_day=250)
    doc["requests"][0]["earliest"] = "2026-12-09"
    doc["requests"][0]["due"] = "2026-12-07"
    problem = problem_of(doc)
    plan = solve_checked(problem)
    assert plan.visit_by_request["a1"].date == WED
    assert not check_plan(problem, plan)
    unpaid = dataclasses.replace(plan, objective=plan.objective + 2 * 250,
                                 bound=plan.bound + 2 * 250)
    assert [v.rule for v in check_plan(problem, unpaid)] == ["objective"]
    tables = plan_tables(problem, plan)["visits"]
    assert tables.loc["a1", "days_late"] == 2 and tables.loc["a1", "due"] == MON
