"""The rules of the expert's real day (docs/FORMAT.md, dxshare extensions): a town hall's
closed hours (``locations[].closed``) and the expert's lunch (``experts[].lunch``). For each rule a case where it bites, in every
formulation of the planner, in the greedy first plan, the checker, the reasons and the slot
proposals, and a case where it does not; the format reads, validates and writes it back.

Base instance ``two_towns``: one PR expert at the office (08:30–17:15) on Monday 2026-12-07;
a1 (priority 5, 60 min) at town A, 30 min away; b1 (priority 3, 90 min) at town B, 45 min away;
A–B 20 min.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

from engine.format import parse_plan, parse_plan_request, plan_request_to_dict, plan_to_dict
from engine.model import Lunch
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.model import PlannerModel
from tests.bruteforce import best_plan
from tests.helpers import (
    FORMULATIONS,
    build_plan,
    choice_optimum,
    codes_of,
    day_checks,
    load_doc,
    problem_of,
    propose_checked,
    refused_at,
    req,
    rules,
    served,
    solve_checked,
    t,
)

MON = dt.date(2026, 12, 7)


def closed(doc: dict, loc: int, *spans: tuple[str, str]) -> dict:
    doc["locations"][loc]["closed"] = [list(s) for s in spans]
    return doc


# ------------------------------------------------------------------ closed hours


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_closed_hours_leave_out_a_visit_no_start_of_which_avoids_them(formulation):
    """a1 may start 09:00–10:00 (window 09:00–11:00, 60 min); town A closed 09:30–10:30
    meets every such start, so a1 is left out, saying why."""
    doc = load_doc("two_towns")
    doc["requests"][0]["window"] = ["09:00", "11:00"]
    plan = solve_checked(closed(doc, 1, ("09:30", "10:30")), model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"b1"}
    assert codes_of(plan, "a1") == ("no_time",)
    assert "closed 09:30–10:30" in plan.unscheduled[0].reasons[0]
    assert "閉庁" in plan.unscheduled[0].reasons_ja[0]
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_closed_hours_push_the_visit_and_the_tour_around_them(formulation):
    """Town A closed 09:00–12:00 and town B 12:00–17:15: the day goes B first (09:15–10:45),
    then A from 12:00 — the other order would meet a closed hour."""
    doc = closed(closed(load_doc("two_towns"), 1, ("09:00", "12:00")), 2, ("12:00", "17:15"))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1", "b1"}
    a1, b1 = plan.visit_by_request["a1"], plan.visit_by_request["b1"]
    assert a1.start >= t("12:00") and b1.end <= t("12:00")
    assert plan.routes[0].stops == ("town_b", "town_a")
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_closed_hours_in_the_middle_of_the_day_close_the_gap_between_two_calls(formulation):
    """Calls at 09:00–10:00 and 14:00–15:30 leave 10:00–14:00 for a tour; town A is closed
    10:00–14:00, so a1 (which alone would start at 09:00 or from 14:00, both taken) gives way
    to b1."""
    doc = closed(load_doc("two_towns"), 1, ("10:00", "14:00"))
    doc["requests"][0]["window"] = ["09:00", "15:30"]
    doc["requests"] += [req("o1", "office", mode="online", duration=60, priority=9,
                            window=["09:00", "10:00"]),
                        req("o2", "office", mode="online", duration=90, priority=9,
                            window=["14:00", "15:30"])]
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"o1", "o2", "b1"}
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_closed_hours_bind_an_online_consultation_too(formulation):
    """An online consultation with town B (window 11:30–13:30, 60 min) must run 11:30–12:00
    is too short, 13:00–13:30 too: with town B closed 12:00–13:00 it cannot be made."""
    doc = closed(load_doc("two_towns"), 2, ("12:00", "13:00"))
    doc["requests"].append(req("o1", "town_b", mode="online", duration=60, priority=9,
                               window=["11:30", "13:30"]))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert "o1" not in served(plan) and codes_of(plan, "o1") == ("no_time",)
    doc["locations"][2]["closed"] = [["12:30", "13:00"]]            # 11:30–12:30 is open
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    o1 = plan.visit_by_request["o1"]
    assert (o1.start, o1.end) == (t("11:30"), t("12:30"))


def test_a_visit_may_end_when_the_closed_hour_starts_and_start_when_it_ends():
    doc = closed(load_doc("two_towns"), 1, ("08:00", "09:00"), ("10:00", "17:15"))
    plan = solve_checked(doc)
    a1 = plan.visit_by_request["a1"]
    assert (a1.start, a1.end) == (t("09:00"), t("10:00"))


def test_the_greedy_first_plan_keeps_out_of_closed_hours():
    doc = closed(load_doc("two_towns"), 1, ("09:00", "12:00"))
    problem = problem_of(doc)
    tt = TravelTimes(problem)
    visits = {v.request: v for v in greedy_visits(problem, tt, Explainer(problem, tt).options)}
    assert visits["a1"].start >= t("12:00")
    assert "places_closed_hours" not in rules(problem, build_plan(problem, list(visits.values())))


def test_the_checker_rejects_a_visit_in_closed_hours_and_accepts_one_around_them():
    doc = closed(load_doc("two_towns"), 1, ("12:00", "13:00"))
    problem = problem_of(doc)
    plan = solve_checked(problem)
    a1 = plan.visit_by_request["a1"]
    assert not a1.start < t("13:00") or a1.end <= t("12:00")
    moved = [v if v.request != "a1" else dataclasses.replace(v, start=t("11:30"), end=t("12:30"))
             for v in plan.visits]
    moved_plan = build_plan(problem, moved)
    assert "places_closed_hours" in rules(problem, moved_plan)
    assert "places_closed_hours" not in rules(problem, build_plan(problem, list(plan.visits)))


def test_a_slot_proposal_avoids_closed_hours():
    """One day with a1 planned; b1 phones in. Town B is closed 09:00–15:00: every slot of
    b1 starts at 15:00 or later (before 09:00 the 45-minute drive cannot arrive)."""
    doc = closed(load_doc("two_towns"), 2, ("09:00", "15:00"))
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=full.requests[:1])
    plan = solve_checked(without)
    answer = propose_checked(full, plan, "b1", k=2)
    assert answer.proposals
    for p in answer.proposals:
        assert p.start >= t("15:00")


# ------------------------------------------------------------------ the format


def test_closed_hours_are_read_validated_and_written_back():
    doc = closed(load_doc("two_towns"), 1, ("12:00", "13:00"))
    problem = parse_plan_request(doc)
    assert problem.location_by_id["town_a"].closed == ((720, 780),)
    assert problem.location_by_id["town_b"].closed == ()
    again = plan_request_to_dict(problem)
    assert again["locations"][1]["closed"] == [["12:00", "13:00"]]
    assert "closed" not in again["locations"][2]
    assert parse_plan_request(again) == problem


@pytest.mark.parametrize("value, path, words", [
    ([["13:00", "12:00"]], "locations[1].closed[0][1]", "must be after"),
    ([["12:00"]], "locations[1].closed[0]", "two HH:MM"),
    ([["12:00", "25:00"]], "locations[1].closed[0][1]", "HH:MM"),
    ("12:00-13:00", "locations[1].closed", "must be a list"),
])
def test_a_bad_closed_hour_is_named_by_its_path_in_both_languages(value, path, words):
    doc = load_doc("two_towns")
    doc["locations"][1]["closed"] = value
    assert words in refused_at(doc, path).message


# ------------------------------------------------------------------ lunch


def lunch(doc: dict, minutes: int = 45, window: tuple[str, str] = ("11:30", "13:30"),
          **expert) -> dict:
    doc["experts"][0]["lunch"] = {"minutes": minutes, "window": list(window)}
    doc["experts"][0].update(expert)
    return doc


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_lunch_leaves_out_what_no_longer_fits_the_day(formulation):
    """Work 08:30–14:00 (330 min): a1 (60) + b1 (150) + 95 min of driving take 305 min; a
    60-minute lunch in 11:30–13:30 does not fit beside both, so b1 (priority 3) gives way."""
    doc = load_doc("two_towns")
    doc["requests"][1]["duration_min"] = 150
    doc["experts"][0]["work_end"] = "14:00"
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "b1"} and plan.breaks == ()
    plan = solve_checked(lunch(doc, 60), model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1"}
    [b] = plan.breaks
    assert (b.expert, b.date, b.end - b.start) == ("pr-1", MON, 60)
    assert t("11:30") <= b.start and b.end <= t("13:30")
    assert plan.objective == best_plan(problem_of(doc))


def test_a_tour_with_no_room_for_lunch_is_not_offered_to_the_choice():
    """The day's tour a1 → b1 leaves no hour for lunch in 11:30–13:30 (work ends 14:00): the
    choice model is not offered it, so it never chooses a day it must later cut; a1 alone and
    b1 alone stay, and without lunch so does a1 → b1."""
    doc = load_doc("two_towns")
    doc["requests"][1]["duration_min"] = 150
    doc["experts"][0]["work_end"] = "14:00"

    def stop_sets(d: dict) -> set[frozenset[str]]:
        problem = problem_of(d)
        model = PlannerModel(problem, TravelTimes(problem))
        model.build()
        day = model.days["pr-1", MON]
        assert day.tours is not None
        return {frozenset(day.onsite[i] for i in tour.order) for tour in day.tours}

    assert frozenset({"a1", "b1"}) in stop_sets(copy.deepcopy(doc))
    assert stop_sets(lunch(doc, 60)) == {frozenset({"a1"}), frozenset({"b1"})}


def _joint_lunch_week(*, online: bool) -> dict:
    """pr-1 (office) may visit p1 (town B, 45 min away, 90 min from 11:00 sharp) and, with
    data-1 (office, at work until 14:30), the joint j1 (town A, 30 min away, 60 min, from
    12:00, so never before p1; online with ``online``); both lunch 45 min in 11:30–13:30."""
    doc = load_doc("two_towns")
    doc["experts"].append({"id": "data-1", "fields": ["data"], "base": "office",
                           "work_start": "08:30", "work_end": "14:30"})
    for e in doc["experts"]:
        e["lunch"] = {"minutes": 45, "window": ["11:30", "13:30"]}
    doc["requests"] = [
        req("j1", "office" if online else "town_a", ["pr", "data"],
            mode="online" if online else "onsite", duration=60, priority=6,
            window=["12:00", "17:15"]),
        req("p1", "town_b", duration=90, priority=5, window=["11:00", "12:30"])]
    return doc


def test_the_choice_sees_lunch_hold_a_tour_into_overtime():
    """Town A (30 min away) takes two sessions, 180 and 240 minutes: 09:00–12:00, then lunch
    (60 min, 12:00–13:00, nothing else fits it), 13:00–17:00 and home at 17:30, 15 minutes of
    overtime (20 each). Without lunch the tour would be home at 16:30: the choice counts the
    tour's end with its lunch, and its optimum is the plan's."""
    doc = lunch(load_doc("two_towns"), 60, ("12:00", "13:00"),
                overtime={"max_minutes": 60, "minute_cost": 20})
    doc["requests"][0]["duration_min"] = 180
    doc["requests"][1].update(location="town_a", duration_min=240)
    truth = best_plan(problem_of(doc))
    assert truth == 1000 * (5 + 3) - 60 - 15 * 20
    assert choice_optimum(doc) == truth
    plan = solve_checked(doc)
    assert plan.status == "optimal" and plan.objective == truth
    assert plan.kpis["overtime_minutes"] == 15


def test_the_choice_sees_lunch_keep_a_joint_visit_from_a_common_start():
    """pr-1's tour p1 → j1 reaches town A at 12:50, and data-1 can start j1 until 13:00:
    the tours' earliest and latest starts meet. But pr-1 can lunch only after p1
    (12:30–13:15, it may not start after 12:45), so j1 starts 13:35 at the earliest. The
    choice's starts per tour know lunch: its optimum is the plan's (one of the two served),
    not both. Without lunch both are served."""
    doc = _joint_lunch_week(online=False)
    truth = best_plan(problem_of(doc))
    assert truth is not None and truth < 6000 and choice_optimum(doc) == truth
    for e in doc["experts"]:
        del e["lunch"]
    both = best_plan(problem_of(doc))
    assert both is not None and both > 10000 and choice_optimum(doc) == both


def test_the_choice_sees_lunch_keep_a_joint_call_from_a_common_start():
    """j1 (online, PR and data, 60 min, 11:30–13:30) can start only at 11:55 for data-1,
    between two standing appointments (until 11:55, from 12:55). pr-1 lunches 45 min in
    11:30–13:30, before j1 (so j1 from 12:15) or after it (so j1 by 11:45): never with
    data-1. The choice holds j1 to the starts each expert's day allows beside lunch and
    appointments: its optimum is the plan's (o1 alone); without lunch j1 is served too."""
    doc = load_doc("two_towns")
    doc["experts"][0]["lunch"] = {"minutes": 45, "window": ["11:30", "13:30"]}
    doc["experts"].append({"id": "data-1", "fields": ["data"], "base": "office",
                           "work_start": "08:30", "work_end": "17:15",
                           "busy": [{"date": "2026-12-07", "start": "11:00", "end": "11:55"},
                                    {"date": "2026-12-07", "start": "12:55", "end": "14:00"}]})
    doc["requests"] = [req("j1", "office", ["pr", "data"], mode="online", duration=60,
                           priority=6, window=["11:30", "13:30"]),
                       req("o1", "office", mode="online", duration=30, priority=5)]
    truth = best_plan(problem_of(doc))
    assert truth == 5000 and choice_optimum(doc) == truth
    del doc["experts"][0]["lunch"]
    both = best_plan(problem_of(doc))
    assert both == 11000 and choice_optimum(doc) == both


def test_the_choice_sees_lunch_leave_no_room_for_a_call_beside_a_tour():
    """pr-1's tour to p1 (town B, 90 min from 11:00 sharp) leaves a gap at town B from 12:30
    where o1 (online, 60 min, from 12:30 sharp) fits; but lunch (45 min in 11:30–13:30) can
    only start there by 12:45, in o1. The choice knows it (the call beside the tour with
    lunch, ``solvers.day_starts``): its optimum is the plan's (p1 alone), and without lunch
    both are served."""
    doc = lunch(load_doc("two_towns"))
    doc["requests"] = [req("p1", "town_b", duration=90, priority=5, window=["11:00", "12:30"]),
                       req("o1", "office", mode="online", duration=60, priority=4,
                           window=["12:30", "13:30"])]
    truth = best_plan(problem_of(doc))
    assert truth == 5000 - 90 and choice_optimum(doc) == truth
    del doc["experts"][0]["lunch"]
    both = best_plan(problem_of(doc))
    assert both == 9000 - 90 and choice_optimum(doc) == both


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_lunch_is_taken_while_waiting_and_never_in_a_drive_or_a_call(formulation):
    """a1 may only start 13:15–13:30: the expert waits at town A after b1, takes the call o1
    (60 min, 11:30–12:30) and lunches in the wait (12:30–13:15)."""
    doc = lunch(load_doc("two_towns"))
    doc["requests"][0]["window"] = ["13:15", "14:30"]
    doc["requests"].append(req("o1", "office", mode="online", duration=60, priority=9,
                               window=["11:30", "13:00"]))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1", "b1", "o1"}
    [b] = plan.breaks
    assert b.end - b.start == 45
    taken = [(v.start, v.end) for v in plan.visits]
    route = plan.routes[0]
    problem = problem_of(doc)
    path = [problem.expert_by_id["pr-1"].base, *route.stops, "office"]
    tt = TravelTimes(problem)
    taken += [(d, d + tt.minutes(a, z)) for d, a, z in zip(route.departures, path, path[1:],
                                                           strict=False)]
    assert all(e <= b.start or s >= b.end for s, e in taken)
    assert plan.objective == best_plan(problem)


def test_the_day_check_lets_lunch_start_off_the_appointment_grid():
    """On a 15-minute grid, a1 runs 10:45–11:46 and b1 (same town) 12:30–13:30: a 40-minute
    lunch fits only from 11:46 to 11:50, between grid marks. The grid is the consultations'
    (FORMAT.md), so the day runs; a day check that put lunch on the grid would call it
    impossible, and the search would cut a day that works."""
    doc = lunch(load_doc("two_towns"), 40)
    doc["horizon"]["start_grid_min"] = 15
    doc["requests"][0].update(duration_min=61, window=["10:45", "11:46"])
    doc["requests"][1].update(location="town_a", duration_min=60, window=["12:30", "13:30"])
    problem = problem_of(doc)
    assert day_checks(problem, {"served_a1": 1, "served_b1": 1}) == {MON: True}
    plan = solve_checked(problem)
    assert plan.status == "optimal" and served(plan) == {"a1", "b1"}
    [b] = plan.breaks
    assert (b.start, b.end) in {(m, m + 40) for m in range(706, 711)}
    assert plan.objective == best_plan(problem)


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_call_that_fills_the_lunch_window_is_left_out(formulation):
    doc = lunch(load_doc("two_towns"), 45, ("12:00", "13:00"))
    doc["requests"].append(req("o1", "office", mode="online", duration=60, priority=9,
                               window=["12:00", "13:00"]))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "b1"} and "o1" not in served(plan)
    assert plan.objective == best_plan(problem_of(doc))


def test_no_lunch_is_listed_on_a_day_without_consultations():
    doc = lunch(load_doc("two_towns"))
    doc["horizon"]["end"] = "2026-12-08"
    doc["requests"][0]["earliest"] = doc["requests"][0]["latest"] = "2026-12-07"
    doc["requests"][1]["earliest"] = doc["requests"][1]["latest"] = "2026-12-07"
    plan = solve_checked(doc)
    assert [b.date for b in plan.breaks] == [MON]


def test_the_greedy_first_plan_leaves_room_for_lunch():
    doc = load_doc("two_towns")
    doc["requests"][1]["duration_min"] = 150
    problem = problem_of(lunch(doc, 60, work_end="14:00"))
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert len(visits) == 1


def test_the_checker_wants_one_lunch_of_its_minutes_in_its_window_out_of_drives():
    problem = problem_of(lunch(load_doc("two_towns")))
    plan = solve_checked(problem)
    assert plan.breaks and "lunch" not in rules(problem, plan)
    b = plan.breaks[0]
    for wrong in ((), (dataclasses.replace(b, end=b.end - 5),),
                  (dataclasses.replace(b, start=t("11:00"), end=t("11:45")),),
                  (b, dataclasses.replace(b, date=dt.date(2026, 12, 8)))):
        assert "lunch" in rules(problem, dataclasses.replace(plan, breaks=wrong))
    route = plan.routes[0]
    in_drive = dataclasses.replace(b, start=route.departures[-1], end=route.departures[-1] + 45)
    assert "lunch" in rules(problem, dataclasses.replace(plan, breaks=(in_drive,)))


def test_a_slot_proposal_keeps_the_lunch_free():
    """a1 is planned; an online call of 90 minutes allowed only 11:30–13:30 phones in: with a
    45-minute lunch in that window it cannot be fitted."""
    doc = lunch(load_doc("two_towns"))
    doc["requests"].append(req("o1", "office", mode="online", duration=90, priority=9,
                               window=["11:30", "13:30"]))
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=full.requests[:2])
    plan = solve_checked(without)
    answer = propose_checked(full, plan, "o1", k=2, other_mode="no")
    assert answer.proposals == ()
    doc["requests"][-1]["duration_min"] = 75
    full = problem_of(doc)
    answer = propose_checked(full, plan, "o1", k=1, other_mode="no")
    [p] = answer.proposals
    [b] = p.plan.breaks
    assert b.end <= p.start or b.start >= p.end


def test_lunch_is_read_validated_and_written_back_and_breaks_round_trip():
    problem = parse_plan_request(lunch(load_doc("two_towns")))
    assert problem.expert_by_id["pr-1"].lunch == Lunch(45, t("11:30"), t("13:30"))
    again = plan_request_to_dict(problem)
    assert again["experts"][0]["lunch"] == {"minutes": 45, "window": ["11:30", "13:30"]}
    assert parse_plan_request(again) == problem
    plan = solve_checked(problem)
    assert parse_plan(plan_to_dict(plan)).breaks == plan.breaks
    assert plan_to_dict(plan)["breaks"][0]["date"] == "2026-12-07"


@pytest.mark.parametrize("value, path, words", [
    ({"minutes": 150, "window": ["11:30", "13:30"]}, "experts[0].lunch.minutes",
     "longer than its window"),
    ({"minutes": 45, "window": ["07:30", "09:30"]}, "experts[0].lunch.window",
     "within the working hours"),
    ({"minutes": 45}, "experts[0].lunch.window", "is required"),
    ({"minutes": 0, "window": ["11:30", "13:30"]}, "experts[0].lunch.minutes", "> 0"),
    ({"minutes": 45, "window": ["13:30", "11:30"]}, "experts[0].lunch.window[1]", "after"),
    ({"minutes": 45, "window": ["11:30", "13:30"], "at": "x"}, "experts[0].lunch.at",
     "unknown field"),
    ("45", "experts[0].lunch", "must be an object"),
])
def test_a_bad_lunch_is_named_by_its_path_in_both_languages(value, path, words):
    doc = load_doc("two_towns")
    doc["experts"][0]["lunch"] = value
    assert words in refused_at(doc, path).message
