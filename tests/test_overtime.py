"""An expert's overtime (``experts[].overtime``, docs/FORMAT.md, dxshare extensions): a day may
end up to ``max_minutes`` after ``work_end``, each minute past it costing ``minute_cost``. For
the rule a case where it bites, in every formulation of the planner, in the checker, the
reasons and the slot proposals, and a case where it does not; the format reads, validates and
writes it back.

Base instance ``two_towns``: one PR expert at the office (08:30–17:15) on Monday 2026-12-07;
a1 (priority 5, 60 min) at town A, 30 min away; b1 (priority 3, 90 min) at town B, 45 min away;
A–B 20 min.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine.checker import check_plan
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import Overtime, Visit
from engine.season import season_document
from engine.tables import plan_tables
from solvers.parts.hoods import Neighbourhood, sub_problem
from solvers.parts.weeks import week_problem
from solvers.season import simulate_season
from tests.bruteforce import best_plan, insertions
from tests.helpers import (
    FORMULATIONS,
    choice_optimum,
    codes_of,
    problem_of,
    propose_checked,
    refused_at,
    req,
    rules,
    solve_checked,
    t,
)


def overtime(doc: dict, max_minutes: int = 60, minute_cost: int = 20) -> dict:
    doc["experts"][0]["overtime"] = {"max_minutes": max_minutes, "minute_cost": minute_cost}
    return doc


def late_a1(doc: dict, priority: int = 5) -> dict:
    """a1 only: at town A from 16:00 (its window 16:00–17:15, town A open until 19:00), so the
    drive home ends 17:30 at the earliest: 15 minutes past work_end."""
    doc["locations"][1]["close"] = "19:00"
    doc["requests"] = [req("a1", "town_a", duration=60, priority=priority,
                           window=["16:00", "17:15"])]
    return doc


@pytest.fixture(params=list(FORMULATIONS))
def formulation(request):
    return FORMULATIONS[request.param]


# ------------------------------------------------------------------ reading


def test_overtime_is_read_and_written_back(two_towns_doc):
    problem = parse_plan_request(overtime(two_towns_doc, 45, 30))
    e = problem.experts[0]
    assert e.overtime == Overtime(45, 30) and e.day_end == t("17:15") + 45
    again = parse_plan_request(plan_request_to_dict(problem))
    assert again.experts == problem.experts


def test_without_overtime_nothing_is_written_and_the_day_ends_at_work_end(two_towns_doc):
    problem = parse_plan_request(two_towns_doc)
    assert "overtime" not in plan_request_to_dict(problem)["experts"][0]
    assert problem.experts[0].day_end == t("17:15")


@pytest.mark.parametrize("value, path", [
    ({"max_minutes": -1, "minute_cost": 20}, "experts[0].overtime.max_minutes"),
    ({"max_minutes": 60, "minute_cost": 1.5}, "experts[0].overtime.minute_cost"),
    ({"max_minutes": "1h", "minute_cost": 20}, "experts[0].overtime.max_minutes"),
    ({"minute_cost": 20}, "experts[0].overtime.max_minutes"),
    ({"max_minutes": 60}, "experts[0].overtime.minute_cost"),
    ({"max_minutes": 60, "minute_cost": 20, "rate": 1}, "experts[0].overtime.rate"),
    ({"max_minutes": 500, "minute_cost": 20}, "experts[0].overtime.max_minutes"),
    ([60, 20], "experts[0].overtime"),
])
def test_a_bad_overtime_is_an_error_naming_its_path(two_towns_doc, value, path):
    two_towns_doc["experts"][0]["overtime"] = value
    refused_at(two_towns_doc, path)


# ------------------------------------------------------------------ planning


def test_a_request_served_only_thanks_to_overtime(two_towns_doc, formulation):
    """Without overtime a1 cannot be back by 17:15 (left out, no_time); with 60 minutes it is
    served at 16:00 and the 15 minutes past work_end cost 20 each."""
    doc = late_a1(two_towns_doc)
    plan = solve_checked(doc, model=formulation)
    assert codes_of(plan, "a1") == ("no_time",)
    doc = overtime(doc)
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.visit_by_request["a1"].start == t("16:00")
    assert plan.routes[0].return_ == t("17:30") and plan.kpis["overtime_minutes"] == 15
    assert plan.objective == 5000 - 60 - 15 * 20 == best_plan(problem_of(doc))


def test_overtime_that_costs_more_than_the_request_earns_leaves_it_out(two_towns_doc,
                                                                      formulation):
    """a1 of priority 1 earns 1000 − 60 of driving; 15 minutes at 70 cost 1050: left out.
    At 60 a minute (900) it is still worth serving."""
    doc = overtime(late_a1(two_towns_doc, priority=1), minute_cost=70)
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and not plan.visits and plan.objective == 0
    assert best_plan(problem_of(doc)) == 0
    assert codes_of(plan, "a1") == ("overtime_cost",)
    assert "15 min" in plan.unscheduled[0].reasons[0] and "1050" in plan.unscheduled[0].reasons[0]
    assert "残業" in plan.unscheduled[0].reasons_ja[0]
    doc = overtime(doc, minute_cost=60)
    plan = solve_checked(doc, model=formulation)
    assert plan.objective == 1000 - 60 - 15 * 60 == best_plan(problem_of(doc))


def test_the_day_may_not_end_past_max_minutes(two_towns_doc, formulation):
    """With 10 minutes allowed, the 15 a1 needs are too many: left out, no_time."""
    doc = overtime(late_a1(two_towns_doc), max_minutes=10)
    plan = solve_checked(doc, model=formulation)
    assert codes_of(plan, "a1") == ("no_time",)
    assert "10 min of overtime, to 17:25" in plan.unscheduled[0].reasons[0]
    assert "残業 10 分で 17:25 まで" in plan.unscheduled[0].reasons_ja[0]
    assert best_plan(problem_of(doc)) == 0


def test_overtime_is_paid_for_the_least_minutes_and_picks_the_order(two_towns_doc,
                                                                    formulation):
    """a1 (60 min) and b1 (90 min) both from 15:00 on: A then B drives 30 + 20 + 45 = 95 and
    ends 15:00 + 60 + 20 → 16:20 + 90 → 17:50 + 45 = 18:35; B then A drives 45 + 20 + 30 = 95
    and ends 15:00 + 90 + 20 → 16:50 + 60 → 17:50 + 30 = 18:20 (65 past work_end). With 80
    minutes allowed, B then A is the cheaper day."""
    doc = overtime(two_towns_doc, max_minutes=80, minute_cost=5)
    for loc in doc["locations"]:
        loc["close"] = "19:00"
    doc["requests"][0]["window"] = ["15:00", "19:00"]
    doc["requests"][1]["window"] = ["15:00", "19:00"]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.routes[0].stops == ("town_b", "town_a")
    assert plan.kpis["overtime_minutes"] == 65
    assert plan.objective == 8000 - 95 - 65 * 5 == best_plan(problem_of(doc))


def test_an_online_consultation_past_work_end_is_paid(two_towns_doc, formulation):
    """An online call that may only start at 17:00 (30 min) ends 17:30: 15 minutes paid; a
    day ends with its last consultation even with no drive."""
    doc = overtime(two_towns_doc, minute_cost=10)
    doc["locations"][0]["close"] = "19:00"
    doc["requests"] = [req("c1", "office", mode="online", duration=30, priority=2,
                           window=["17:00", "18:00"])]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.visit_by_request["c1"].start == t("17:00")
    assert plan.objective == 2000 - 150 == best_plan(problem_of(doc))


def test_an_early_day_pays_nothing(two_towns_doc, formulation):
    """Where every plan can end by work_end overtime changes nothing."""
    plain = solve_checked(two_towns_doc, model=formulation)
    paid = solve_checked(overtime(two_towns_doc), model=formulation)
    assert paid.objective == plain.objective and paid.kpis["overtime_minutes"] == 0


# ------------------------------------------------------------------ checker, slots


def test_the_checker_counts_overtime_and_its_limit(two_towns_doc):
    doc = overtime(late_a1(two_towns_doc))
    problem = problem_of(doc)
    plan = solve_checked(problem)
    assert not check_plan(problem, plan)
    unpaid = dataclasses.replace(plan, objective=plan.objective + 300, bound=plan.bound + 300)
    assert rules(problem, unpaid) == {"objective"}
    shorter = dataclasses.replace(problem, experts=(dataclasses.replace(
        problem.experts[0], overtime=Overtime(10, 20)),))
    assert {"working_hours", "route_hours", "legs"} <= rules(shorter, plan)


def test_a_slot_proposal_pays_for_overtime(two_towns_doc):
    """A new late request n1 at town A fits only at 16:00 (as a1 did): the proposal's plan
    pays the 15 minutes, as the brute force's insertion does."""
    doc = overtime(late_a1(two_towns_doc))
    doc["requests"][0]["id"] = "n1"
    problem = problem_of(doc)
    empty = solve_checked(dataclasses.replace(problem, requests=()))
    answer = propose_checked(problem, empty, "n1")
    best = answer.proposals[0]
    assert best.plan.objective == 5000 - 60 - 300
    ref = insertions(problem, [], "n1")
    assert max(v for v in ref.values() if v is not None) == best.plan.objective


def test_the_plan_reports_the_day_that_ends_late(two_towns_doc):
    plan = solve_checked(overtime(late_a1(two_towns_doc)))
    assert plan.visits == (Visit("a1", ("pr-1",), "town_a", "onsite", plan.visits[0].date,
                                 t("16:00"), t("17:00")),)


def test_lunch_is_placed_where_the_day_ends_earliest(two_towns_doc, formulation):
    """Work 08:30–13:30, lunch 45 min in 11:30–13:30, b1 (30 min) at town B, 100 min away,
    from 10:10: the earliest lunch (11:30) leaves no 100 minutes to drive home before it, so
    the expert would be back 13:55, paid; driving home first (10:40–12:20) and eating at the
    base at 12:20 ends the day by work_end. The plan's route, break and objective agree."""
    doc = overtime(two_towns_doc)
    doc["experts"][0].update(work_end="13:30",
                             lunch={"minutes": 45, "window": ["11:30", "13:30"]})
    doc["travel"]["minutes"]["office"]["town_b"] = 100
    doc["travel"]["minutes"]["town_b"]["office"] = 100
    doc["requests"] = [req("b1", "town_b", duration=30, priority=3, window=["10:10", "11:30"])]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.objective == 3000 - 200
    assert plan.routes[0].return_ <= t("13:30") and plan.kpis["overtime_minutes"] == 0
    assert plan.breaks[0].start >= plan.routes[0].return_
    assert plan.objective == best_plan(problem_of(doc))


def test_the_routes_table_shows_each_days_overtime(two_towns_doc):
    doc = overtime(late_a1(two_towns_doc))
    problem = problem_of(doc)
    routes = plan_tables(problem, solve_checked(problem))["routes"]
    assert routes["overtime_minutes"].tolist() == [15] and routes["return"].tolist() == ["17:30"]
    plain = problem_of("two_towns")
    assert "overtime_minutes" not in plan_tables(plain, solve_checked(plain))["routes"]


def test_an_online_call_that_holds_the_drive_home_back_is_paid(two_towns_doc, formulation):
    """a1 at town A 15:45–16:45 (30 min from the office), then c1, an online call that may
    only run 16:45–17:15: the expert takes it at town A and drives home 17:15–17:45, 30
    minutes past work_end. The tour alone could be home by 17:15: the choice counts no
    overtime for it, the timing 30 minutes, and the plan is still proven optimal at its
    true cost. b1 at town B (45 min) fits instead of c1 only with 60 min of overtime."""
    doc = overtime(two_towns_doc, max_minutes=40, minute_cost=20)
    for loc in doc["locations"]:
        loc["close"] = "19:00"
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5, window=["15:45", "16:45"]),
                       req("c1", "office", mode="online", duration=30, priority=2,
                           window=["16:45", "17:15"]),
                       req("b1", "town_b", duration=60, priority=1, window=["16:00", "17:30"])]
    plan = solve_checked(doc, model=formulation)
    truth = best_plan(problem_of(doc))
    assert plan.status == "optimal" and plan.objective == truth
    assert {v.request for v in plan.visits} == {"a1", "c1"}
    assert plan.kpis["overtime_minutes"] == 30 and truth == 7000 - 60 - 30 * 20


def test_what_the_choice_learns_of_overtime_keeps_the_best_plan(two_towns_doc, formulation):
    """One visit a day: a1 (priority 6, town A, 15:45–16:45) with the online call c1
    (16:45–17:15) holds the drive home back to 17:45, 30 minutes at 40 (8000 − 60 − 1200 =
    6740); a2 (priority 5, town A, 14:00–15:00) leaves time to be home for c1 (7000 − 60 =
    6940), the best plan. The choice first counts a1's day as ending 17:15 and picks it;
    timed, it costs 1200, which the choice learns for a1's day with c1 only, so a2 wins."""
    doc = overtime(two_towns_doc, max_minutes=40, minute_cost=40)
    doc["experts"][0]["max_visits_per_day"] = 1
    for loc in doc["locations"]:
        loc["close"] = "19:00"
    doc["requests"] = [req("a1", "town_a", duration=60, priority=6, window=["15:45", "16:45"]),
                       req("a2", "town_a", duration=60, priority=5, window=["14:00", "15:00"]),
                       req("c1", "office", mode="online", duration=30, priority=2,
                           window=["16:45", "17:15"])]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and {v.request for v in plan.visits} == {"a2", "c1"}
    assert plan.objective == 7000 - 60 == best_plan(problem_of(doc))


# ------------------------------------------------------------------ weeks of a season, parts


def test_a_season_pays_overtime_week_by_week_and_its_weeks_keep_it():
    """Two weeks of a season, every expert with overtime: the plan week by week is valid with
    its overtime paid (the checker's objective), and each week's problem keeps it."""
    doc = season_document(weeks=2, requests_per_week=8, seed=3)
    for e in doc["experts"]:
        e["overtime"] = {"max_minutes": 60, "minute_cost": 20}
    problem = parse_plan_request(doc)
    sim = simulate_season(problem, time_limit=2)
    assert check_plan(problem, sim.plan) == []
    start = problem.horizon.start
    week = week_problem(problem, start, start + dt.timedelta(days=6), [], [], goals=False)
    assert all(e.overtime == Overtime(60, 20) for e in week.experts)
    assert parse_plan_request(plan_request_to_dict(week)) == week


def test_a_plan_by_parts_pays_overtime_and_its_parts_keep_it(two_towns_doc):
    doc = overtime(late_a1(two_towns_doc))
    problem = problem_of(doc)
    hood = Neighbourhood("Monday", frozenset({"pr-1"}), frozenset({"a1"}))
    assert sub_problem(problem, hood).expert_by_id["pr-1"].overtime == Overtime(60, 20)
    plan = solve_checked(problem, decompose="always")
    assert plan.objective == 5000 - 60 - 15 * 20 and plan.kpis["overtime_minutes"] == 15


# ------------------------------------------------------------------ the choice's least overtime
def test_the_choice_sees_an_online_call_hold_the_drive_home_back(two_towns_doc):
    """The day of ``test_an_online_call_that_holds_the_drive_home_back_is_paid``: from 16:45
    (c1's earliest start) the drive home (30 min) and c1 (30 min) are still to do, so the day
    ends 17:45 at the earliest. The choice counts those 30 minutes: its optimum is the plan's,
    neither above (it would need a round to learn them) nor below (no plan lost)."""
    doc = overtime(two_towns_doc, max_minutes=40, minute_cost=20)
    for loc in doc["locations"]:
        loc["close"] = "19:00"
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5, window=["15:45", "16:45"]),
                       req("c1", "office", mode="online", duration=30, priority=2,
                           window=["16:45", "17:15"])]
    assert choice_optimum(doc) == best_plan(problem_of(doc)) == 7000 - 60 - 30 * 20


def test_the_choice_sees_a_joint_partner_hold_the_day_back(two_towns_doc):
    """j1 (PR and data, town A, 60 min) can start only at 14:50, when data-1 (at work from
    14:30 in town B, 20 min away) arrives; pr-1 then drives to b1 (town B, from 15:30) at
    16:10 and is home at 17:55, 40 minutes past work_end. pr-1's tour alone could start j1 at
    09:00: the choice counts the 40 minutes only through j1's shared start. Its optimum is
    the plan's, neither above nor below."""
    doc = overtime(two_towns_doc, max_minutes=60, minute_cost=20)
    for loc in doc["locations"][1:]:
        loc["close"] = "19:00"
    doc["experts"].append({"id": "data-1", "fields": ["data"], "base": "town_b",
                           "work_start": "14:30", "work_end": "19:00"})
    doc["requests"] = [req("j1", "town_a", ["pr", "data"], duration=60, priority=6,
                           window=["08:30", "16:15"]),
                       req("b1", "town_b", duration=60, priority=5, window=["15:30", "17:15"])]
    truth = best_plan(problem_of(doc))
    assert choice_optimum(doc) == truth
    plan = solve_checked(doc)
    assert plan.status == "optimal" and plan.objective == truth
    assert plan.kpis["overtime_minutes"] == 40


def test_the_choice_carries_a_joint_start_along_a_tour(two_towns_doc):
    """pr-1 could do j1 (with data-1, town A, starting by 10:00) and then j2 (with design-1, town B,
    20 min on): on pr-1's own tour j2 could start 10:20. But data-1 reaches town A only at
    09:30, so j2 starts 10:50 at the earliest, after design-1 (at work until 11:45) can
    finish it; and j2 first leaves j1 too late. One of the two is served. The choice knows it
    (each joint start within its tours, the gap between them along pr-1's tour): its optimum
    is the plan's (pr-1's overtime changes none of it; these rows are made where some expert
    has overtime)."""
    doc = overtime(two_towns_doc)
    doc["experts"] += [{"id": "data-1", "fields": ["data"], "base": "office",
                        "work_start": "09:00", "work_end": "17:15"},
                       {"id": "design-1", "fields": ["design"], "base": "town_b",
                        "work_start": "08:30", "work_end": "11:45"}]
    doc["requests"] = [req("j1", "town_a", ["pr", "data"], duration=60, priority=6,
                           window=["08:30", "11:00"]),
                       req("j2", "town_b", ["pr", "design"], duration=60, priority=6)]
    truth = best_plan(problem_of(doc))
    assert truth < 12000 and choice_optimum(doc) == truth
