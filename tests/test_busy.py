"""An expert's standing appointments (``experts[].busy``, docs/FORMAT.md, dxshare extensions):
the expert is taken during each, anywhere but not driving. For the rule a case where it bites,
in every formulation of the planner, in the greedy first plan, the checker, the reasons and
the slot proposals, and a case where it does not; the format reads, validates and writes it
back.

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
from engine.model import Busy, Plan, PlanRequest
from engine.season import season_document
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.parts.hoods import Neighbourhood, sub_problem
from solvers.parts.weeks import week_problem
from solvers.routes import plan_breaks
from solvers.season import simulate_season
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


def busy(doc: dict, *spans: tuple[str, str], date: str = "2026-12-07") -> dict:
    doc["experts"][0]["busy"] = [{"date": date, "start": a, "end": b} for a, b in spans]
    return doc


def drives(problem: PlanRequest, plan: Plan) -> list[tuple[int, int]]:
    """Every leg of the plan's routes as (departure, arrival)."""
    tt = TravelTimes(problem)
    out = []
    for r in plan.routes:
        base = problem.expert_by_id[r.expert].base
        path = [base, *r.stops, base]
        out += [(d, d + tt.minutes(a, z))
                for d, a, z in zip(r.departures, path, path[1:], strict=False)]
    return out


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_standing_appointment_leaves_out_a_visit_it_leaves_no_time_for(formulation):
    """Busy 10:00–15:30: a1 fits before it (09:00–10:00, then the expert waits at town A, as
    no drive may run in it) but b1 (90 min, 45 min away) fits neither before (it would end
    10:45) nor after (home at 18:00): b1 is left out, saying whose appointment is in the way."""
    doc = load_doc("two_towns")
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "b1"}
    plan = solve_checked(busy(doc, ("10:00", "15:30")), model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"a1"}
    assert codes_of(plan, "b1") == ("no_time",)
    [why] = [u for u in plan.unscheduled if u.request == "b1"]
    assert "standing appointment" in why.reasons[0] and "10:00–15:30" in why.reasons[0]
    assert "予定" in why.reasons_ja[0]
    a1 = plan.visit_by_request["a1"]
    assert a1.end <= t("10:00") or a1.start >= t("15:30")
    assert all(z <= t("10:00") or d >= t("15:30") for d, z in drives(problem_of(doc), plan))
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_no_drive_runs_in_a_standing_appointment(formulation):
    """Busy 08:30–09:30 and a1 allowed to start only 09:00–09:45: its 30-minute drive may
    leave at 09:30 at the earliest, so a1 cannot start before 10:00 and is left out; b1 is
    made after it. Without the appointment (or with the drive allowed in it) both are made."""
    doc = load_doc("two_towns")
    doc["requests"][0]["window"] = ["09:00", "10:45"]
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert served(plan) == {"a1", "b1"}
    plan = solve_checked(busy(doc, ("08:30", "09:30")), model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == {"b1"}
    assert all(d >= t("09:30") for d, _ in drives(problem_of(doc), plan))
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_an_online_call_keeps_out_of_a_standing_appointment(formulation):
    """An online call allowed only 13:00–14:30 (60 min): an appointment 13:30–14:30 leaves it
    no start (13:00–13:30 is too short); beside one at 14:00–14:30 it runs 13:00–14:00."""
    doc = load_doc("two_towns")
    doc["requests"].append(req("o1", "office", mode="online", duration=60, priority=9,
                               window=["13:00", "14:30"]))
    plan = solve_checked(busy(doc, ("13:30", "14:30")), model=FORMULATIONS[formulation])
    assert "o1" not in served(plan) and codes_of(plan, "o1") == ("no_time",)
    plan = solve_checked(busy(doc, ("14:00", "14:30")), model=FORMULATIONS[formulation])
    o1 = plan.visit_by_request["o1"]
    assert (o1.start, o1.end) == (t("13:00"), t("14:00"))
    assert plan.objective == best_plan(problem_of(doc))


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_an_appointment_that_leaves_no_room_for_lunch_leaves_the_day_free(formulation):
    """Busy 11:00–12:30 with lunch due in 12:00–13:00 (45 min): no lunch fits, so the expert
    makes no consultation that day — but a day without one needs no lunch, and the plan is the
    empty day, proven, not "infeasible"; each request left out says why (no time: the
    appointment leaves no lunch break), not that it could be served alone."""
    doc = busy(load_doc("two_towns"), ("11:00", "12:30"))
    doc["experts"][0]["lunch"] = {"minutes": 45, "window": ["12:00", "13:00"]}
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) == set() and plan.breaks == ()
    assert plan.objective == best_plan(problem_of(doc)) == 0
    for u in plan.unscheduled:
        assert u.codes == ("no_time",)
        assert u.reasons[0].startswith("the standing appointments leave no 45-minute lunch "
                                       "break within 12:00–13:00 on any date")
        assert "12/7 11:00–12:30" in u.reasons[0]
        assert "45 分の昼休みが取れず" in u.reasons_ja[0]
    # with room for it (busy until 12:15), lunch at 12:15 and the day's visits are made
    doc = busy(doc, ("11:00", "12:15"))
    plan = solve_checked(doc, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and served(plan) and len(plan.breaks) == 1
    assert plan.objective == best_plan(problem_of(doc))


def test_an_appointment_on_another_date_binds_nothing():
    doc = load_doc("two_towns")
    doc["horizon"]["end"] = "2026-12-08"
    for q in doc["requests"]:
        q["earliest"] = q["latest"] = "2026-12-07"
    free = solve_checked(doc)
    plan = solve_checked(busy(doc, ("08:30", "17:15"), date="2026-12-08"))
    assert served(plan) == served(free) == {"a1", "b1"}
    assert plan.objective == free.objective


def test_the_greedy_first_plan_keeps_out_of_standing_appointments():
    problem = problem_of(busy(load_doc("two_towns"), ("10:00", "15:30")))
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert {v.request for v in visits} == {"a1"}
    assert "busy" not in rules(problem, build_plan(problem, visits))


def test_the_greedy_first_plan_takes_no_lunch_in_a_standing_appointment():
    """Busy 11:00–12:30 with lunch due in 12:00–13:00 (45 min): a lunch would fall in the
    appointment, so the greedy plan makes no consultation that day; busy until 12:15 leaves
    12:15–13:00, and the day's visits are made with lunch there, out of the appointment."""
    doc = busy(load_doc("two_towns"), ("11:00", "12:30"))
    doc["experts"][0]["lunch"] = {"minutes": 45, "window": ["12:00", "13:00"]}
    problem = problem_of(doc)
    tt = TravelTimes(problem)
    assert greedy_visits(problem, tt, Explainer(problem, tt).options) == []
    problem = problem_of(busy(doc, ("11:00", "12:15")))
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    breaks = plan_breaks(problem, tt, visits)
    assert visits and [(b.start, b.end) for b in breaks] == [(t("12:15"), t("13:00"))]
    plan = dataclasses.replace(build_plan(problem, visits), breaks=breaks)
    assert "lunch" not in rules(problem, plan)


def test_the_greedy_first_plan_drives_around_standing_appointments():
    """Busy 08:30–09:30 and a1 allowed to start only 09:00–09:45: its drive cannot run before
    09:30, so the greedy plan makes b1 alone."""
    doc = busy(load_doc("two_towns"), ("08:30", "09:30"))
    doc["requests"][0]["window"] = ["09:00", "10:45"]
    problem = problem_of(doc)
    tt = TravelTimes(problem)
    visits = greedy_visits(problem, tt, Explainer(problem, tt).options)
    assert {v.request for v in visits} == {"b1"}


def test_the_checker_rejects_a_visit_or_a_drive_in_a_standing_appointment():
    problem = problem_of(busy(load_doc("two_towns"), ("14:00", "15:00")))
    plan = solve_checked(problem)
    assert "busy" not in rules(problem, plan)
    moved = [v if v.request != "a1" else dataclasses.replace(v, start=t("14:30"),
                                                             end=t("15:30"))
             for v in plan.visits]
    assert "busy" in rules(problem, dataclasses.replace(plan, visits=tuple(moved)))
    r = plan.routes[0]
    late = dataclasses.replace(r, departures=(*r.departures[:-1], t("14:30")))
    assert "busy" in rules(problem, dataclasses.replace(plan, routes=(late,)))


def test_a_slot_proposal_avoids_a_standing_appointment():
    """a1 is planned; b1 phones in. Busy 09:00–12:00: every slot of b1 starts at 12:45 or
    later (the 45-minute drive cannot run in the appointment)."""
    doc = busy(load_doc("two_towns"), ("09:00", "12:00"))
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=full.requests[:1])
    plan = solve_checked(without)
    answer = propose_checked(full, plan, "b1", k=2)
    assert answer.proposals
    for p in answer.proposals:
        assert p.start >= t("12:45")
        assert "busy" not in rules(full, p.plan)


# ------------------------------------------------------------------ the format


def test_standing_appointments_are_read_validated_and_written_back():
    problem = parse_plan_request(busy(load_doc("two_towns"), ("14:00", "15:00")))
    assert problem.expert_by_id["pr-1"].busy == (Busy(MON, t("14:00"), t("15:00")),)
    again = plan_request_to_dict(problem)
    assert again["experts"][0]["busy"] == [{"date": "2026-12-07", "start": "14:00",
                                            "end": "15:00"}]
    assert parse_plan_request(again) == problem
    assert "busy" not in plan_request_to_dict(problem_of(load_doc("two_towns")))["experts"][0]


@pytest.mark.parametrize("value, path, words", [
    ([{"date": "2026-12-20", "start": "14:00", "end": "15:00"}], "experts[0].busy[0].date",
     "outside the horizon"),
    ([{"date": "2026-12-07", "start": "15:00", "end": "14:00"}], "experts[0].busy[0].end",
     "must be after start"),
    ([{"date": "2026-12-07", "start": "14:00", "end": "14:00"}], "experts[0].busy[0].end",
     "must be after start"),
    ([{"date": "2026-12-07", "start": "07:00", "end": "08:00"}], "experts[0].busy[0]",
     "within the working hours"),
    ([{"date": "2026-12-07", "start": "14:00"}], "experts[0].busy[0].end", "is required"),
    ([{"date": "2026-12-07", "start": "14:00", "end": "15:00", "at": "nowhere"}],
     "experts[0].busy[0].at", "unknown"),
    ([{"date": "2026-12-07", "start": "2pm", "end": "15:00"}], "experts[0].busy[0].start",
     "HH:MM"),
    ({"date": "2026-12-07"}, "experts[0].busy", "must be a list"),
])
def test_a_bad_standing_appointment_is_named_by_its_path_in_both_languages(value, path, words):
    doc = load_doc("two_towns")
    doc["experts"][0]["busy"] = value
    assert words in refused_at(doc, path).message


# ------------------------------------------------------------------ weeks of a season, parts


def test_a_season_keeps_standing_appointments_week_by_week_and_a_week_reads_back():
    """Two weeks of a season with an appointment of every expert on a date of each: the plan
    week by week keeps all of them, and each week's problem holds only its own appointments,
    so its document reads back."""
    doc = season_document(weeks=2, requests_per_week=8, seed=3)
    dates = (doc["horizon"]["start"], (dt.date.fromisoformat(doc["horizon"]["start"])
                                       + dt.timedelta(days=8)).isoformat())
    for e in doc["experts"]:
        e["busy"] = [{"date": d, "start": "10:00", "end": "11:30"} for d in dates]
    problem = parse_plan_request(doc)
    sim = simulate_season(problem, time_limit=2)
    assert "busy" not in rules(problem, sim.plan)
    assert check_plan(problem, sim.plan) == []
    start = problem.horizon.start
    week = week_problem(problem, start, start + dt.timedelta(days=6), [], [], goals=False)
    assert {b.date for e in week.experts for b in e.busy} == {start}
    assert parse_plan_request(plan_request_to_dict(week)) == week


def test_a_sub_problem_keeps_the_standing_appointments_of_its_dates_and_reads_back():
    doc = busy(load_doc("two_towns"), ("10:00", "11:00"))
    doc["horizon"]["end"] = "2026-12-08"
    doc["experts"][0]["busy"].append({"date": "2026-12-08", "start": "09:00", "end": "10:00"})
    problem = problem_of(doc)
    hood = Neighbourhood("Tuesday", frozenset({"pr-1"}), frozenset({"a1", "b1"}),
                         dates=(dt.date(2026, 12, 8), dt.date(2026, 12, 8)))
    sub = sub_problem(problem, hood)
    assert sub.expert_by_id["pr-1"].busy == (Busy(dt.date(2026, 12, 8), t("09:00"),
                                                  t("10:00")),)
    assert parse_plan_request(plan_request_to_dict(sub)) == sub
