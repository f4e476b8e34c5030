"""The appointment grid (``horizon.start_grid_min``): every consultation starts on a multiple of
that many minutes after midnight; drives are free. Read and validated, planned by every
formulation, the greedy first plan and the slot proposals, caught by the checker.

Base instance ``two_towns`` (tests/data): one PR expert at the office (08:30–17:15); a1
(60 min) at town A, 30 min away; b1 (90 min) at town B, 45 min away; A–B 20 min.
"""

from __future__ import annotations

import dataclasses

import pytest

from engine.checker import check_plan
from engine.errors import InputError
from engine.format import parse_plan_request, plan_request_to_dict
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from tests.bruteforce import best_plan
from tests.helpers import (
    FORMULATIONS,
    codes_of,
    problem_of,
    propose_checked,
    req,
    served,
    solve_checked,
    t,
)


def on_grid(doc: dict, grid: int) -> dict:
    doc["horizon"]["start_grid_min"] = grid
    return doc


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize("grid", [1, 5, 10, 15, 20, 30, 60])
def test_each_grid_is_read_and_written_back(two_towns_doc, grid):
    problem = parse_plan_request(on_grid(two_towns_doc, grid))
    assert problem.horizon.start_grid_min == grid
    again = parse_plan_request(plan_request_to_dict(problem))
    assert again.horizon.start_grid_min == grid


def test_without_a_grid_any_minute_is_a_start(two_towns_doc):
    assert parse_plan_request(two_towns_doc).horizon.start_grid_min == 1
    assert "start_grid_min" not in plan_request_to_dict(parse_plan_request(two_towns_doc))["horizon"]


@pytest.mark.parametrize("bad", [0, 7, 45, -15, 15.5, "15", True])
def test_a_grid_not_in_the_list_is_an_error_naming_its_path(two_towns_doc, bad):
    with pytest.raises(InputError) as err:
        parse_plan_request(on_grid(two_towns_doc, bad))
    problem = err.value.problems[0]
    assert problem.path == "horizon.start_grid_min"
    assert problem.message_ja and problem.message != problem.message_ja


def test_a_published_start_off_the_grid_is_an_error_naming_its_path(two_towns_doc):
    two_towns_doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "09:10"}
    on_grid(two_towns_doc, 15)
    with pytest.raises(InputError) as err:
        parse_plan_request(two_towns_doc)
    assert [p.path for p in err.value.problems] == ["requests[0].fixed.start"]
    assert "grid" in err.value.problems[0].message
    two_towns_doc["requests"][0]["fixed"]["start"] = "09:15"
    assert parse_plan_request(two_towns_doc).requests[0].fixed.start == t("09:15")


# ------------------------------------------------------------------ planning


@pytest.fixture(params=list(FORMULATIONS))
def formulation(request):
    return FORMULATIONS[request.param]


def test_the_first_stop_waits_for_the_grid_but_the_drive_does_not(two_towns_doc, formulation):
    """A 31-minute drive from 08:30 arrives 09:01: on the quarter-hour grid the visit starts
    09:15, and the expert still leaves whenever the drive needs."""
    doc = two_towns_doc
    doc["travel"]["minutes"]["office"]["town_a"] = 31
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5)]
    doc["experts"][0]["work_end"] = "10:45"          # 09:15 + 60 + the 30 min home
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and plan.visit_by_request["a1"].start == t("09:01")
    plan = solve_checked(on_grid(doc, 15), model=formulation)
    v = plan.visit_by_request["a1"]
    assert plan.status == "optimal" and v.start == t("09:15")
    assert plan.routes[0].leave == t("09:15") - 31          # off the grid: drives are free
    doc["experts"][0]["work_end"] = "10:44"          # one minute short on the grid
    plan = solve_checked(doc, model=formulation)
    assert served(plan) == set() and codes_of(plan, "a1") == ("no_time",)
    assert "15-minute appointment grid" in plan.unscheduled[0].reasons[0]


def test_the_grid_can_cost_the_second_stop_of_a_tour(two_towns_doc, formulation):
    """a1 is 09:00–10:00 at A; the 20-minute drive reaches B at 10:20. On grid 1 b1 starts
    10:20 and the expert is home 12:35; on the quarter-hour grid b1 waits to 10:30 and the
    drive home would end 12:45, after work: b1 gives way to a1 (priority 5 over 3), though
    alone it fits (10:15, home 12:30)."""
    doc = two_towns_doc
    doc["experts"][0]["work_end"] = "12:40"
    doc["requests"][0]["window"] = ["09:00", "10:00"]
    doc["requests"][1]["window"] = ["10:15", "12:15"]
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and served(plan) == {"a1", "b1"}
    assert plan.visit_by_request["b1"].start == t("10:20")
    plan = solve_checked(on_grid(doc, 15), model=formulation)
    assert plan.status == "optimal" and served(plan) == {"a1"}
    assert codes_of(plan, "b1")[0] in ("gave_way", "expert_day_taken")
    problem = problem_of(doc)
    assert plan.objective == best_plan(problem)


def test_an_online_consultation_starts_on_the_grid_around_the_drives(two_towns_doc, formulation):
    """a1 (50 min) at A 09:40–10:30, work ends 11:30, so the 30-minute drive home and a
    30-minute online call (window 10:00–11:20) share the last hour: on grid 1 the call runs
    10:30 and the drive 11:00; on a 20-minute grid the call starts 10:40 at the earliest and
    leaves no room to drive home, so it gives way (alone it would fit, at 10:00)."""
    doc = two_towns_doc
    doc["experts"][0]["work_end"] = "11:30"
    doc["requests"][0]["duration_min"] = 50
    doc["requests"][0]["window"] = ["09:40", "10:30"]
    doc["requests"][1] = req("o1", "town_b", mode="online", duration=30, priority=3,
                             window=["10:00", "11:20"])
    plan = solve_checked(doc, model=formulation)
    assert plan.status == "optimal" and served(plan) == {"a1", "o1"}
    assert plan.visit_by_request["o1"].start == t("10:30")
    plan = solve_checked(on_grid(doc, 20), model=formulation)
    assert plan.status == "optimal" and served(plan) == {"a1"}
    assert codes_of(plan, "o1")[0] != "no_time"
    assert plan.objective == best_plan(problem_of(doc))


def test_a_demo_week_on_the_quarter_hour_is_valid_and_on_the_grid():
    from engine.demand import ehime_week_document

    doc = ehime_week_document("2026-12-07", seed=8, requests_per_week=16, start_grid_min=15)
    assert doc["horizon"]["start_grid_min"] == 15
    plan = solve_checked(doc, time_limit=20.0)
    assert plan.visits and all(v.start % 15 == 0 for v in plan.visits)


# ------------------------------------------------------------------ greedy, slots, checker


def test_the_greedy_first_plan_keeps_to_the_grid(two_towns_doc):
    doc = two_towns_doc
    doc["travel"]["minutes"]["office"]["town_a"] = 31
    problem = problem_of(on_grid(doc, 20))
    travel = TravelTimes(problem)
    visits = greedy_visits(problem, travel, Explainer(problem, travel).options)
    assert visits and all(v.start % 20 == 0 for v in visits)
    assert min(v.start for v in visits) == t("09:20")


def test_a_slot_proposal_keeps_to_the_grid(two_towns_doc):
    doc = on_grid(two_towns_doc, 15)
    doc["travel"]["minutes"]["office"]["town_a"] = 31
    doc["requests"].append(req("o1", "town_b", mode="online", duration=45, priority=2))
    problem = problem_of(doc)
    plan = solve_checked(problem)
    week = dataclasses.replace(problem, requests=problem.requests[:2])
    plan = solve_checked(week)
    answer = propose_checked(problem, plan, "o1")
    assert answer.proposals
    for p in answer.proposals:
        assert all(v.start % 15 == 0 for v in p.plan.visits)


def test_the_checker_names_a_start_off_the_grid(two_towns_doc):
    problem = problem_of(on_grid(two_towns_doc, 15))
    plan = solve_checked(problem)
    assert not [v for v in check_plan(problem, plan) if v.rule == "start_grid"]
    v = plan.visits[0]
    moved = dataclasses.replace(v, start=v.start + 5, end=v.end + 5)
    others = tuple(x for x in plan.visits if x is not v)
    found = check_plan(problem, dataclasses.replace(plan, visits=(moved, *others)))
    assert [x.request for x in found if x.rule == "start_grid"] == [v.request]


def test_the_example_the_demo_and_the_season_book_on_the_quarter_hour(tmp_path, capsys):
    import json

    from engine.format import load_plan
    from engine.season import season_document
    from service.cli import main

    assert main(["example"]) == 0
    assert json.loads(capsys.readouterr().out)["horizon"]["start_grid_min"] == 15
    assert season_document(weeks=1, requests_per_week=4)["horizon"]["start_grid_min"] == 15
    out = tmp_path / "plan.json"
    assert main(["plan", "--demo", "--out", str(out), "--time-limit", "10"]) == 0
    plan = load_plan(out)
    assert plan.visits and all(v.start % 15 == 0 for v in plan.visits)
