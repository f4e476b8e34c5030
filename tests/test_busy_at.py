"""A standing appointment at a place (``experts[].busy[].at``, docs/FORMAT.md): the expert
must be there from its start to its end, so that the day's drives go around it; it is no visit,
counts in no visit cap and makes no on-site day, its drives are paid and count in the daily
driving cap, and it happens whether or not the day has consultations. For each rule a case
where it bites, in every formulation of the planner (each answer compared with the brute
force), in the greedy first plan, the checker, the reasons and the slot proposals; the format
reads, validates and writes it back.

Base instance ``two_towns``: one PR expert at the office (08:30–17:15) on Monday 2026-12-07;
a1 (priority 5, 60 min) at town A, 30 min away; b1 (priority 3, 90 min) at town B, 45 min away;
A–B 20 min.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from engine.checker import check_plan
from engine.errors import InputError
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import Busy
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.parts import RegionSplit, solve_by_parts
from solvers.parts.hoods import Neighbourhood, sub_problem
from solvers.planner import SolveOptions, solve_part
from solvers.routes import build_routes
from tests.bruteforce import best_plan
from tests.helpers import (
    FORMULATIONS,
    build_plan,
    codes_of,
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


def at(doc: dict, place: str, start: str, end: str, date: str = "2026-12-07") -> dict:
    doc["experts"][0].setdefault("busy", []).append(
        {"date": date, "start": start, "end": end, "at": place})
    return doc


def cheap_priority(doc: dict) -> dict:
    """Priority worth less than driving: a visit is made only where the drive is paid anyway."""
    doc["objective"] = {"priority": 1, "drive_minute": 1}
    return doc


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_visit_next_to_the_appointment_is_made_because_the_expert_is_there(formulation):
    """Priority 1 a point and a minute of driving 1: a1 alone (5 points, 60 min of driving) is
    not worth the trip. With an appointment at town A 14:00–15:00 the expert drives there
    anyway: a1 is made at town A beside it, the route passes the appointment, and its drive
    is paid (the day's 60 minutes), yet the day is no on-site day for the visit caps."""
    doc = cheap_priority(load_doc("two_towns"))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == set() and plan.routes == ()
    doc = at(doc, "town_a", "14:00", "15:00")
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1"}
    a1 = plan.visit_by_request["a1"]
    assert a1.end <= t("14:00") or a1.start >= t("15:00")
    [route] = plan.routes
    assert route.stops == ("town_a", "town_a") and route.drive_minutes == 60
    assert plan.objective == 5 - 60 == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_day_with_only_the_appointment_drives_to_it_and_pays(formulation):
    """An appointment at town B, and nothing worth serving: the plan still drives there and
    back (90 min), the objective pays it, and the day counts as no on-site day."""
    doc = cheap_priority(load_doc("two_towns"))
    doc["requests"] = []
    doc["objective"]["onsite_day"] = 500
    plan = solve_checked(at(doc, "town_b", "13:00", "14:00"), model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and plan.visits == ()
    [route] = plan.routes
    assert route.stops == ("town_b",) and route.drive_minutes == 90
    assert route.departures[0] + 45 <= t("13:00") and route.departures[1] >= t("14:00")
    assert plan.objective == -90 == best_plan(problem_of(doc))
    assert plan.kpis["onsite_expert_days"] == 0 and plan.kpis["drive_minutes"] == 90


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_visit_the_appointments_drives_keep_from_its_window_is_left_out(formulation):
    """An appointment at town B 09:15–10:00 (the expert leaves at 08:30): a1 must run within
    09:00–11:00. Before the appointment it would have to end by 08:55 (20 min on to B); after
    it, the drive back to A reaches it at 10:20, too late for 60 minutes. The appointment's
    hours alone leave it 10:00 — only its drives keep a1 out: no_time, naming the
    appointment. Without the place (a call taken anywhere) a1 is made at 10:00."""
    doc = load_doc("two_towns")
    doc["requests"][0]["window"] = ["09:00", "11:00"]
    call = dict(load_doc("two_towns"), requests=doc["requests"])
    call["experts"][0]["busy"] = [{"date": "2026-12-07", "start": "09:15", "end": "10:00"}]
    plan = solve_checked(call, model=FORMULATIONS[formulation])
    assert "a1" in served(plan)
    doc = at(doc, "town_b", "09:15", "10:00")
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and "a1" not in served(plan)
    assert codes_of(plan, "a1") == ("no_time",)
    [why] = [u for u in plan.unscheduled if u.request == "a1"]
    assert "09:15–10:00 at B町" in why.reasons[0] and "drives" in why.reasons[0]
    assert "B町で09:15–10:00" in why.reasons_ja[0]
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_an_online_call_keeps_out_of_the_appointment_and_its_drives(formulation):
    """An online call of 30 min allowed only 08:30–09:30 and an appointment at town B
    09:15–10:00: the 45-minute drive there fills 08:30–09:15, so the call has no start. Taken
    anywhere (no place), the same appointment leaves it 08:30–09:00."""
    doc = load_doc("two_towns")
    doc["requests"] = [req("o1", "office", mode="online", duration=30, priority=9,
                           window=["08:30", "09:30"])]
    doc["experts"][0]["busy"] = [{"date": "2026-12-07", "start": "09:15", "end": "10:00"}]
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"o1"}
    doc["experts"][0]["busy"][0]["at"] = "town_b"
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == set()
    assert codes_of(plan, "o1") == ("no_time",)
    assert plan.objective == best_plan(problem_of(doc)) == -90


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_the_appointments_drive_counts_in_the_daily_driving_cap(formulation):
    """A cap of 100 minutes a day: the appointment at town B takes 90 of them, so a1 (which
    adds 20 + 30 − 45 = 5 minutes beside it: office → A → B → office is 95) fits, b1 and a1 on
    another order would not; without the appointment both fit."""
    doc = load_doc("two_towns")
    doc["experts"][0]["max_drive_minutes_per_day"] = 100
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "b1"}
    doc["requests"][1]["location"] = "office"      # b1 at the office: no drive of its own
    doc = at(doc, "town_b", "15:30", "16:00")
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1", "b1"}
    assert sum(r.drive_minutes for r in plan.routes) == 95
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_two_visits_before_the_appointment_leave_no_time_to_drive_to_it(formulation):
    """Two visits at town A, 60 min each, to start 10:30–11:40, and an appointment at town B
    at 12:45. Each alone fits before it (10:30–11:30, 20 min to B); both end at 12:30 at the
    earliest, and B is reached at 12:50: too late. After it, the drive back reaches A after
    their windows. So one of them is made (the higher priority), the other left out — though
    each alone has starts that the appointment's drives allow."""
    doc = load_doc("two_towns")
    doc["requests"] = [req("a1", "town_a", duration=60, priority=6, window=["10:30", "12:40"]),
                       req("a2", "town_a", duration=60, priority=4, window=["10:30", "12:40"])]
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "a2"}
    doc = at(doc, "town_b", "12:45", "13:30")
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1"}
    assert plan.objective == best_plan(problem_of(doc))


def test_the_greedy_first_plan_leaves_out_a_visit_the_appointments_drives_keep_out():
    """The appointment at town B 09:15–10:00 keeps a1 (within 09:00–11:00, 60 min) out: the
    greedy plan does not make it (it would end 11:00 with no time to come from B at 10:00 —
    20 min), and its plan is valid."""
    doc = at(load_doc("two_towns"), "town_b", "09:15", "10:00")
    doc["requests"][0]["window"] = ["09:00", "11:00"]
    problem = problem_of(doc)
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert {v.request for v in visits} == {"b1"}
    plan = dataclasses.replace(build_plan(problem, visits),
                               routes=tuple(build_routes(problem, tt, visits)))
    assert rules(problem, plan) <= {"objective", "kpis", "accounted_once"}   # a1 unlisted


def test_the_greedy_first_plan_waits_for_a_stretch_the_appointments_drives_leave():
    """An appointment at town B 12:00–12:30 and an online call placed first (priority 10,
    09:45–10:45): a1 (town A, 60 min, to start 10:00–13:00) finds its morning starts taken by
    the call, and one at 10:45 would leave 15 minutes for the 20-minute drive to B. The
    greedy plan makes it after the appointment (12:50, the drive back from B), valid."""
    doc = load_doc("two_towns")
    doc["requests"] = [req("o1", "office", mode="online", duration=60, priority=10,
                           window=["09:45", "10:45"]),
                       req("a1", "town_a", duration=60, priority=5, window=["10:00", "14:00"])]
    problem = problem_of(at(doc, "town_b", "12:00", "12:30"))
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert {v.request: v.start for v in visits} == {"o1": t("09:45"), "a1": t("12:50")}
    plan = dataclasses.replace(build_plan(problem, visits),
                               routes=tuple(build_routes(problem, tt, visits)))
    assert rules(problem, plan) <= {"objective", "kpis"}      # the hand-made figures


def test_the_greedy_first_plan_drives_to_the_appointment():
    doc = at(load_doc("two_towns"), "town_b", "09:15", "10:00")
    problem = problem_of(doc)
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert {v.request for v in visits} == {"a1", "b1"}
    routes = tuple(build_routes(problem, tt, visits))
    plan = dataclasses.replace(build_plan(problem, visits), routes=routes)
    assert rules(problem, plan) <= {"objective", "kpis"}      # the hand-made figures
    [route] = routes
    assert route.stops.count("town_b") == 2 and "town_a" in route.stops


def test_the_checker_wants_the_appointment_in_the_route_and_the_drives_around_it():
    problem = problem_of(at(load_doc("two_towns"), "town_b", "13:00", "14:00"))
    plan = solve_checked(problem)
    assert check_plan(problem, plan) == []
    [r] = plan.routes
    i = r.stops.index("town_b")
    skipped = dataclasses.replace(r, stops=r.stops[:i] + r.stops[i + 1:])
    assert "routes" in rules(problem, dataclasses.replace(plan, routes=(skipped,)))
    late = dataclasses.replace(r, departures=tuple(
        d if k != i else t("12:59") for k, d in enumerate(r.departures)))   # arrives late
    assert "legs" in rules(problem, dataclasses.replace(plan, routes=(late,)))
    assert "routes" in rules(problem, dataclasses.replace(plan, routes=()))


def test_a_slot_proposal_drives_around_the_appointment():
    """An appointment at town A 12:00–12:30 and nothing planned; b1 (town B, 90 min, 20
    minutes from A) phones in. Before the appointment it must end by 11:40 (start by 10:10),
    after it start at 12:50 or later; a start in between would leave no time for the drive to
    or from the appointment. Every on-site proposal (three, an hour apart) starts in one of
    the two stretches, is a valid plan whose route passes B and A, and adds 35 minutes of
    driving (office → B → A → office or back, 95, less the 60 of the appointment alone)."""
    doc = at(load_doc("two_towns"), "town_a", "12:00", "12:30")
    doc["requests"] = doc["requests"][1:]
    full = problem_of(doc)
    plan = solve_checked(dataclasses.replace(full, requests=()))
    assert [r.stops for r in plan.routes] == [("town_a",)]
    answer = propose_checked(full, plan, "b1", k=3)
    onsite = [p for p in answer.proposals if not p.mode_changed]
    assert len(onsite) == 3
    for p in onsite:
        assert check_plan(full, p.plan) == []
        assert p.start <= t("10:10") or p.start >= t("12:50")
        assert set(p.plan.routes[0].stops) == {"town_a", "town_b"}
        assert p.drive_minutes_added == 35


# ------------------------------------------------------------------ the format


def test_an_appointment_at_a_place_is_read_by_name_and_written_back():
    problem = parse_plan_request(at(load_doc("two_towns"), "B町", "14:00", "15:00"))
    assert problem.expert_by_id["pr-1"].busy == (Busy(MON, t("14:00"), t("15:00"), "town_b"),)
    again = plan_request_to_dict(problem)
    assert again["experts"][0]["busy"] == [{"date": "2026-12-07", "start": "14:00",
                                            "end": "15:00", "at": "town_b"}]
    assert parse_plan_request(again) == problem


@pytest.mark.parametrize("spans, path, words", [
    ([("town_b", "08:45", "10:00")], "experts[0].busy[0]", "drive from 県庁"),
    ([("town_b", "16:45", "17:00")], "experts[0].busy[0]", "drive from B町"),
    ([("town_a", "10:00", "11:00"), ("town_b", "11:10", "12:00")], "experts[0].busy[1]",
     "drive from A町"),
    ([("town_a", "10:00", "11:00"), ("town_b", "10:30", "12:00")], "experts[0].busy[1]",
     "overlaps"),
    ([("", "10:00", "11:00")], "experts[0].busy[0].at", "location"),
])
def test_an_appointment_that_cannot_be_kept_is_refused_at_its_path(spans, path, words):
    doc = load_doc("two_towns")
    for place, a, b in spans:
        at(doc, place, a, b)
    problem = refused_at(doc, path)
    assert words in problem.message and problem.message_ja
    if path.endswith("]"):      # the date as every message writes it, in both languages
        assert "12/7" in problem.message and "12/7" in problem.message_ja, problem
        assert "2026-12-07" not in problem.message + problem.message_ja, problem


def test_an_appointment_over_the_drive_cap_is_refused():
    doc = at(load_doc("two_towns"), "town_b", "10:00", "11:00")
    doc["experts"][0]["max_drive_minutes_per_day"] = 60
    bad = refused_at(doc, "experts[0].busy[0]")
    assert "over max_drive_minutes_per_day 60" in bad.message
    assert "at a place on 12/7 take" in bad.message and "守れません: 12/7 の" in bad.message_ja


def test_a_call_taken_during_an_appointment_at_a_place_is_refused():
    doc = at(load_doc("two_towns"), "town_b", "10:00", "11:00")
    doc["experts"][0]["busy"].append({"date": "2026-12-07", "start": "10:30", "end": "11:30"})
    assert "overlaps" in refused_at(doc, "experts[0].busy[1]").message


# ------------------------------------------------------------------ parts of a plan


def test_a_plan_by_parts_keeps_an_appointment_at_a_place_across_regions():
    """Two regions; the west's PR expert has an appointment at the border town B. A
    sub-problem of that expert keeps the place (else it could not be driven to) and reads
    back; the plan by parts is valid, its route passes B at the appointment's time."""
    doc = load_doc("two_regions")
    doc["experts"][0]["busy"] = [{"date": doc["horizon"]["start"], "start": "13:00",
                                  "end": "14:00", "at": "B"}]
    problem = problem_of(doc)
    hood = Neighbourhood("west PR", frozenset({"w-pr"}), frozenset({"rW1", "rW2"}))
    sub = sub_problem(problem, hood, [])
    assert "B" in sub.location_by_id
    assert parse_plan_request(plan_request_to_dict(sub)) == sub
    opts = SolveOptions(time_limit=20.0, executor="serial", executor_workers=1)
    plan = solve_by_parts(problem, opts, RegionSplit(target=2), part_solver=solve_part)
    assert check_plan(problem, plan) == []
    [route] = [r for r in plan.routes if r.expert == "w-pr" and "B" in r.stops]
    assert route.date.isoformat() == doc["horizon"]["start"]


def test_a_plan_at_another_speed_checks_the_appointments_with_its_own_drives():
    """松山 → 宇和島 is estimated (no travel minutes given): 88 min, so a meeting there at
    10:00 is reached from 08:30 and the document is read. A plan that drives at half the
    estimated speed (a scenario's slower roads) needs 166 min: the planner refuses the
    appointment at its path, naming the drive and the speed in both languages, as the
    document would be refused, instead of a plan that can only be infeasible; faster
    roads reach it, and so does the plan at the estimated speed."""
    doc = {"format": "plan-request/1",
           "horizon": {"start": "2026-12-07", "end": "2026-12-07"},
           "locations": [{"id": "382019"}, {"id": "382035"}],
           "experts": [{"id": "e1", "name": "中村", "fields": ["pr"], "base": "松山市",
                        "work_start": "08:30", "work_end": "17:15",
                        "busy": [{"date": "2026-12-07", "start": "10:00", "end": "11:00",
                                  "at": "宇和島市"},
                                 {"date": "2026-12-07", "start": "11:30", "end": "12:00"}]}],
           "requests": [req("r1", "382035", duration=60, priority=5)]}
    problem = parse_plan_request(doc)
    assert TravelTimes(problem).minutes("382019", "382035") == 88
    with pytest.raises(InputError) as err:
        solve_checked(problem, travel_speed_factor=0.5)
    [bad] = err.value.problems
    assert bad.path == "experts[0].busy[0]"
    assert "166-min drive from 松山市 (driving at 0.5 × the estimated speed)" in bad.message
    assert "166 分（推定速度の 0.5 倍で走行）" in bad.message_ja
    for factor in (1.0, 2.0):
        plan = solve_checked(problem, travel_speed_factor=factor)
        assert plan.status == "optimal" and served(plan) == {"r1"}
