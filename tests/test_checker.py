"""The checker itself: for each validity rule a hand-made plan it rejects and one it accepts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from engine.checker import RULES, Violation, assert_valid, check_plan
from engine.format import parse_plan
from engine.model import Plan, Route, Unscheduled, Visit
from engine.travel import TravelTimes
from tests.helpers import DATA, build_plan, load_doc, problem_of, rules, solve_checked, t

MON = dt.date(2026, 12, 7)
TUE = dt.date(2026, 12, 8)


def a1(start: str = "09:00", **kw) -> Visit:
    s = t(start)
    return Visit(**{"request": "a1", "experts": ("pr-1",), "location": "town_a", "mode": "onsite",
                    "date": MON, "start": s, "end": s + 60, **kw})


def b1(start: str = "10:20", **kw) -> Visit:
    s = t(start)
    return Visit(**{"request": "b1", "experts": ("pr-1",), "location": "town_b", "mode": "onsite",
                    "date": MON, "start": s, "end": s + 90, **kw})


def with_online(doc: dict, rid: str = "o1", duration: int = 20) -> dict:
    doc["requests"].append({"id": rid, "location": "town_a", "fields": ["pr"], "mode": "online",
                            "duration_min": duration, "priority": 2})
    return doc


def online(start: str, rid: str = "o1", duration: int = 20) -> Visit:
    s = t(start)
    return Visit(rid, ("pr-1",), "town_a", "online", MON, s, s + duration)


# ------------------------------------------------------------------ the reference plan


def test_hand_made_two_town_day_is_valid(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    assert check_plan(two_towns, plan) == []
    assert plan.routes[0].drive_minutes == 30 + 20 + 45
    assert plan.objective == 1000 * 8 - 95
    assert_valid(two_towns, plan)


def test_assert_valid_lists_every_violation(two_towns):
    plan = build_plan(two_towns, [a1(), b1("10:05")])
    plan = dataclasses.replace(plan, objective=1, bound=1)
    with pytest.raises(AssertionError) as err:
        assert_valid(two_towns, plan)
    text = str(err.value)
    assert "[travel_between_stops]" in text and "[objective]" in text and "2 violation(s)" in text


def test_every_rule_has_a_docstring_in_words():
    for name, fn in RULES.items():
        assert fn.__doc__ and len(fn.__doc__.split()) >= 8, name


def test_violation_is_frozen_and_readable():
    v = Violation("cap_drive", None, "pr-1", MON, "PR expert, 12/7: 100 min of driving, cap 90",
                  "広報担当、12/7: 運転 100 分（上限 90 分）")
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.rule = "x"  # type: ignore[misc]
    # the rule for whoever reads a log, then the message as a person reads it
    assert str(v) == "[cap_drive] PR expert, 12/7: 100 min of driving, cap 90"
    assert v.text("en") == v.message and v.text("ja") == "広報担当、12/7: 運転 100 分（上限 90 分）"
    # built as before, with five fields: no Japanese, which falls back to the English
    old = Violation("cap_drive", None, "pr-1", MON, "100 min of driving, cap 90")
    assert old.message_ja == "" and old.text("ja") == "100 min of driving, cap 90"


# ------------------------------------------------------------------ accounted once, reasons


def test_request_missing_from_plan_is_rejected(two_towns):
    assert rules(two_towns, build_plan(two_towns, [a1()])) == {"accounted_once"}


def test_request_left_out_with_a_reason_is_accepted(two_towns):
    plan = build_plan(two_towns, [a1()], unscheduled=(Unscheduled("b1", ("gave way",)),))
    assert check_plan(two_towns, plan) == []


def test_request_left_out_without_a_reason_is_rejected(two_towns):
    for reasons in ((), ("  ",)):
        plan = build_plan(two_towns, [a1()], unscheduled=(Unscheduled("b1", reasons),))
        assert rules(two_towns, plan) == {"unscheduled_reason"}


def test_request_both_scheduled_and_unscheduled_is_rejected(two_towns):
    plan = build_plan(two_towns, [a1(), b1()], unscheduled=(Unscheduled("b1", ("x",)),))
    assert rules(two_towns, plan) == {"accounted_once"}


def test_request_scheduled_twice_is_rejected(two_towns):
    plan = build_plan(two_towns, [a1(), b1(), a1("13:00")])
    assert "accounted_once" in rules(two_towns, plan)


def test_unknown_request_in_plan_is_rejected(two_towns):
    plan = build_plan(two_towns, [a1(), b1()], unscheduled=(Unscheduled("zz", ("x",)),))
    assert rules(two_towns, plan) == {"accounted_once"}


# ------------------------------------------------------------------ visit matches its request


def test_wrong_duration_is_rejected(two_towns):
    v = dataclasses.replace(a1(), end=t("09:50"))
    assert rules(two_towns, build_plan(two_towns, [v, b1()])) == {"duration"}


def test_wrong_location_or_mode_is_rejected(two_towns):
    wrong_place = a1(location="town_b")
    assert "visit_matches_request" in rules(two_towns, build_plan(two_towns, [wrong_place, b1()]))
    wrong_mode = a1(mode="online")
    assert "visit_matches_request" in rules(two_towns, build_plan(two_towns, [wrong_mode, b1()]))


def test_unknown_expert_is_rejected(two_towns):
    plan = Plan("feasible", None, None, 0.0, visits=(a1(experts=("ghost",)), b1()))
    assert "unknown_expert" in rules(two_towns, plan)


def test_unknown_location_is_rejected_not_a_crash(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    bad = dataclasses.replace(plan, visits=(a1(location="atlantis"), b1()))
    assert {"unknown_location", "routes"} <= rules(two_towns, bad)


# ------------------------------------------------------------------ fields


def j1(*experts: str, start: str = "10:00") -> Visit:
    s = t(start)
    return Visit("j1", experts, "town_a", "onsite", MON, s, s + 60)


def test_joint_visit_with_one_expert_per_field_is_accepted(joint_visit):
    for pair in (("pr-1", "data-1"), ("data-2", "pr-1")):
        assert check_plan(joint_visit, build_plan(joint_visit, [j1(*pair)])) == []


def test_joint_visit_with_two_experts_of_the_same_field_is_rejected(joint_visit):
    assert rules(joint_visit, build_plan(joint_visit, [j1("data-1", "data-2")])) == {"fields"}


def test_joint_visit_with_too_few_or_repeated_experts_is_rejected(joint_visit):
    assert rules(joint_visit, build_plan(joint_visit, [j1("pr-1")])) == {"fields"}
    assert "fields" in rules(joint_visit, build_plan(joint_visit, [j1("pr-1", "pr-1")]))


def test_expert_without_the_field_is_rejected(two_towns_doc):
    two_towns_doc["experts"].append({"id": "data-1", "fields": ["data"], "base": "office"})
    p = problem_of(two_towns_doc)
    got = rules(p, build_plan(p, [a1(experts=("data-1",)), b1()]))
    assert got == {"expert_field", "fields"}


# ------------------------------------------------------------------ dates


def week_doc() -> dict:
    doc = load_doc("two_towns")
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-13",
                      "blackouts": [{"date": "2026-12-09", "experts": ["pr-1"]}]}
    return doc


@pytest.mark.parametrize("day, ok", [(dt.date(2026, 12, 8), True),
                                     (dt.date(2026, 12, 9), False),    # blackout for pr-1
                                     (dt.date(2026, 12, 12), False),   # Saturday
                                     (dt.date(2026, 12, 13), False)])  # Sunday
def test_visit_date_must_be_workable(day, ok):
    p = problem_of(week_doc())
    plan = build_plan(p, [a1(date=day), b1(date=day)])
    assert rules(p, plan) == (set() if ok else {"workable_day"})


def test_national_holiday_is_not_workable_unless_holidays_are_worked():
    doc = load_doc("two_towns")
    doc["horizon"] = {"start": "2026-11-23", "end": "2026-11-23"}      # 勤労感謝の日 (Mon)
    holiday = dt.date(2026, 11, 23)
    p = problem_of(doc)
    assert rules(p, build_plan(p, [a1(date=holiday), b1(date=holiday)])) == {"workable_day"}
    doc["horizon"]["skip_holidays"] = False
    p = problem_of(doc)
    assert check_plan(p, build_plan(p, [a1(date=holiday), b1(date=holiday)])) == []


def test_expert_days_bound_the_dates():
    doc = week_doc()
    doc["experts"][0]["days"] = ["2026-12-10"]
    p = problem_of(doc)
    assert rules(p, build_plan(p, [a1(date=TUE), b1(date=TUE)])) == {"workable_day"}
    thu = dt.date(2026, 12, 10)
    assert check_plan(p, build_plan(p, [a1(date=thu), b1(date=thu)])) == []


def test_visit_outside_requested_dates_is_rejected():
    doc = week_doc()
    doc["requests"][0]["latest"] = "2026-12-07"
    p = problem_of(doc)
    assert rules(p, build_plan(p, [a1(date=TUE), b1()])) == {"request_dates"}
    assert check_plan(p, build_plan(p, [a1(), b1(date=TUE)])) == []


# ------------------------------------------------------------------ hours


def test_location_hours(two_towns_doc):
    two_towns_doc["locations"][1]["open"] = "09:30"
    p = problem_of(two_towns_doc)
    assert rules(p, build_plan(p, [a1("09:00"), b1()])) == {"location_hours"}
    assert check_plan(p, build_plan(p, [a1("09:30"), b1("10:50")])) == []


def test_request_window(two_towns_doc):
    two_towns_doc["requests"][1]["window"] = ["13:00", "15:00"]
    p = problem_of(two_towns_doc)
    assert rules(p, build_plan(p, [a1(), b1("13:40")])) == {"window"}
    assert check_plan(p, build_plan(p, [a1(), b1("13:30")])) == []


def test_online_consultation_in_working_hours(two_towns_doc):
    with_online(two_towns_doc)
    two_towns_doc["experts"][0]["work_end"] = "16:00"
    p = problem_of(two_towns_doc)
    assert rules(p, build_plan(p, [a1(), b1(), online("15:50")])) == {"working_hours"}
    assert check_plan(p, build_plan(p, [a1(), b1(), online("15:40")])) == []


def test_day_must_start_after_work_starts_counting_the_drive(two_towns_doc):
    two_towns_doc["experts"][0]["work_start"] = "08:45"
    p = problem_of(two_towns_doc)
    assert "working_hours" in rules(p, build_plan(p, [a1("09:00"), b1()]))
    assert check_plan(p, build_plan(p, [a1("09:15"), b1("10:35")])) == []


@pytest.mark.parametrize("work_end, ok", [("12:34", False), ("12:35", True)])
def test_day_must_end_at_base_before_work_ends(two_towns_doc, work_end, ok):
    two_towns_doc["experts"][0]["work_end"] = work_end   # b1 ends 11:50, drive home 45 min
    p = problem_of(two_towns_doc)
    got = {v.rule for v in check_plan(p, build_plan(p, [a1(), b1()]))}
    assert got == (set() if ok else {"working_hours", "route_hours"})


# ------------------------------------------------------------------ one thing at a time, driving


def test_double_booking_is_rejected(two_towns_doc):
    p = problem_of(with_online(two_towns_doc))
    assert "double_booking" in rules(p, build_plan(p, [a1(), b1(), online("09:50")]))
    assert check_plan(p, build_plan(p, [a1(), b1(), online("14:00")])) == []


def test_every_overlap_is_reported(two_towns_doc):
    with_online(two_towns_doc)
    with_online(two_towns_doc, "o2")
    p = problem_of(two_towns_doc)
    # b1 10:20–11:50 contains o1 10:30–10:50 and o2 11:00–11:20, which do not meet each other
    plan = build_plan(p, [a1(), b1(), online("10:30"), online("11:00", "o2")])
    found = [v for v in check_plan(p, plan) if v.rule == "double_booking"]
    assert sorted(v.request for v in found) == ["o1", "o2"]


def test_consecutive_stops_need_the_drive(two_towns):
    assert rules(two_towns, build_plan(two_towns, [a1(), b1("10:19")])) == {
        "travel_between_stops"}
    assert check_plan(two_towns, build_plan(two_towns, [a1(), b1("10:20")])) == []


def test_online_consultation_between_stops_must_leave_the_drive_free(two_towns_doc):
    p = problem_of(with_online(two_towns_doc))
    # a1 ends 10:00, b1 starts 10:40: the 20-minute drive needs one free stretch
    assert rules(p, build_plan(p, [a1(), b1("10:40"), online("10:05")])) == {
        "online_while_driving"}
    assert check_plan(p, build_plan(p, [a1(), b1("10:40"), online("10:00")])) == []


def test_online_consultation_on_the_way_out_is_rejected(two_towns_doc):
    p = problem_of(with_online(two_towns_doc))
    # leaving 08:30 for a 30-minute drive to a1 at 09:00: nothing can be held on the way
    assert "online_while_driving" in rules(p, build_plan(p, [a1("09:00"), b1(), online("08:40")]))
    # with a1 at 09:20 the consultation 08:30–08:50 is held at the office before leaving
    assert check_plan(p, build_plan(p, [a1("09:20"), b1("10:40"), online("08:30")])) == []


def test_route_home_overlapping_an_online_consultation_is_rejected(two_towns_doc):
    p = problem_of(with_online(two_towns_doc))
    plan = build_plan(p, [a1(), b1(), online("11:50")])  # route says home 11:50–12:35
    assert rules(p, plan) == {"online_while_driving"}
    r = plan.routes[0]
    later = dataclasses.replace(r, return_=t("13:05"))  # consult at b1's town, then drive home
    assert check_plan(p, dataclasses.replace(plan, routes=(later,))) == []


# ------------------------------------------------------------------ routes


def test_route_must_agree_with_visits(two_towns):
    plan = dataclasses.replace(build_plan(two_towns, [a1(), b1()]), kpis={})
    r = plan.routes[0]
    cases = {
        "no route": (),
        "two routes": (r, r),
        "stops out of order": (dataclasses.replace(r, stops=("town_b", "town_a")),),
        "drive minutes": (dataclasses.replace(r, drive_minutes=90),),
        "route on an empty day": (r, Route("pr-1", TUE, 600, 700, ("town_a",), 60)),
    }
    for name, routes in cases.items():
        assert rules(two_towns, dataclasses.replace(plan, routes=routes)) == {"routes"}, name


def test_route_leave_and_return_times(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    r = plan.routes[0]
    for bad in (dataclasses.replace(r, leave=t("08:35")),      # cannot reach a1 by 09:00
                dataclasses.replace(r, return_=t("12:30")),    # drive home takes 45 from 11:50
                dataclasses.replace(r, leave=t("08:00")),      # before work starts
                dataclasses.replace(r, return_=t("17:20"))):   # after work ends
        assert rules(two_towns, dataclasses.replace(plan, routes=(bad,))) == {"route_hours"}
    relaxed = dataclasses.replace(r, leave=t("08:30"), return_=t("14:00"))
    assert check_plan(two_towns, dataclasses.replace(plan, routes=(relaxed,))) == []


# ------------------------------------------------------------------ caps


@pytest.mark.parametrize("cap, value, ok", [
    ("max_visits_per_day", 1, False), ("max_visits_per_day", 2, True),
    ("max_visits_total", 1, False), ("max_visits_total", 2, True),
    ("max_drive_minutes_per_day", 94, False), ("max_drive_minutes_per_day", 95, True),
])
def test_expert_caps_on_one_day(two_towns_doc, cap, value, ok):
    two_towns_doc["experts"][0][cap] = value
    p = problem_of(two_towns_doc)
    want = {"max_visits_per_day": "cap_expert_day", "max_visits_total": "cap_expert_total",
            "max_drive_minutes_per_day": "cap_drive"}[cap]
    assert rules(p, build_plan(p, [a1(), b1()])) == (set() if ok else {want})


@pytest.mark.parametrize("cap, ok", [(1, False), (2, True)])
def test_expert_onsite_days_cap(cap, ok):
    doc = week_doc()
    doc["experts"][0]["max_onsite_days"] = cap
    p = problem_of(doc)
    assert rules(p, build_plan(p, [a1(), b1(date=TUE)])) == (set() if ok else {"cap_onsite_days"})


def test_online_consultations_do_not_count_against_visit_caps(two_towns_doc):
    with_online(two_towns_doc)
    two_towns_doc["experts"][0]["max_visits_per_day"] = 2
    two_towns_doc["experts"][0]["max_visits_total"] = 2
    p = problem_of(two_towns_doc)
    assert check_plan(p, build_plan(p, [a1(), b1(), online("14:00")])) == []


@pytest.mark.parametrize("cap, ok", [(1, False), (2, True)])
def test_location_cap_counts_a_joint_visit_as_two(joint_visit_doc, cap, ok):
    joint_visit_doc["locations"][1]["max_visits_per_day"] = cap
    p = problem_of(joint_visit_doc)
    got = rules(p, build_plan(p, [j1("pr-1", "data-1")]))
    assert got == (set() if ok else {"cap_location_day"})


# ------------------------------------------------------------------ fixed visits


def fixed_doc(start: str = "09:00") -> dict:
    doc = load_doc("two_towns")
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": start}
    return doc


def test_fixed_visit_kept_is_accepted():
    p = problem_of(fixed_doc("09:00"))
    assert check_plan(p, build_plan(p, [a1("09:00"), b1()])) == []


def test_fixed_visit_moved_or_dropped_is_rejected():
    p = problem_of(fixed_doc("09:00"))
    assert rules(p, build_plan(p, [a1("09:10"), b1("10:30")])) == {"fixed"}
    dropped = build_plan(p, [b1()], unscheduled=(Unscheduled("a1", ("x",)),))
    assert rules(p, dropped) == {"fixed"}


def test_fixed_visit_need_not_be_kept_when_the_plan_is_infeasible():
    p = problem_of(fixed_doc("09:00"))
    plan = Plan("infeasible", None, None, 0.0, unscheduled=(
        Unscheduled("a1", ("cannot keep",)), Unscheduled("b1", ("not planned",))))
    assert check_plan(p, plan) == []


# ------------------------------------------------------------------ kpis, objective, bound


def test_kpis_must_match_the_plan(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    bad = dataclasses.replace(plan, kpis={**plan.kpis, "drive_minutes": 90})
    assert rules(two_towns, bad) == {"kpis"}
    partial = dataclasses.replace(plan, kpis={"visits": 2, "served_priority": 8})
    assert check_plan(two_towns, partial) == []


def test_objective_must_be_the_formula(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    assert rules(two_towns, dataclasses.replace(plan, objective=8000, bound=8000)) == {"objective"}


def test_objective_formula_uses_the_request_weights(two_towns_doc):
    two_towns_doc["objective"] = {"priority": 10, "drive_minute": 2, "onsite_day": 7}
    p = problem_of(two_towns_doc)
    plan = build_plan(p, [a1(), b1()])
    assert plan.objective == 10 * 8 - 2 * 95 - 7 * 1
    assert check_plan(p, plan) == []


def test_bound_must_not_be_below_the_objective(two_towns):
    plan = build_plan(two_towns, [a1(), b1()])
    assert rules(two_towns, dataclasses.replace(plan, bound=plan.objective - 1)) == {"bound"}
    above = dataclasses.replace(plan, bound=plan.objective + 5)
    assert rules(two_towns, above) == {"bound"}                      # optimal: must be equal
    assert check_plan(two_towns, dataclasses.replace(above, status="feasible")) == []


# ------------------------------------------------------------------ the documented examples


def test_format_md_examples_agree_except_the_undeclared_request():
    """FORMAT.md's plan example, read against its request example (completed with the ids it
    uses), breaks no rule but one: it reports r9, which the request example does not ask."""
    problem = problem_of("format_example_request_complete")
    plan = parse_plan(json.loads((DATA / "format_example_plan.json").read_text("utf-8")))
    found = check_plan(problem, plan)
    assert [(v.rule, v.request) for v in found] == [("accounted_once", "r9")]


def test_checker_uses_the_travel_times_it_is_given(island):
    """Solved with faster estimated driving, the plan is valid for those travel times and not
    for the default ones (its routes' driving minutes differ)."""
    plan = solve_checked(island, travel_speed_factor=1.5)
    assert check_plan(island, plan, travel=TravelTimes(island, speed_factor=1.5)) == []
    assert "routes" in rules(island, plan)


# ------------------------------------------------------------------ lunch and appointments


@pytest.mark.parametrize("place", [None, "town_a"])
def test_a_lunch_inside_a_standing_appointment_is_rejected(place):
    """Lunch (45 min in 11:00–14:00) and a standing appointment 12:00–13:00 (a call, or a
    meeting at town A): the planned break keeps out of it; a break moved into it is no lunch
    and is named with the appointment, one that ends when it starts is not."""
    doc = load_doc("two_towns")
    doc["experts"][0]["lunch"] = {"minutes": 45, "window": ["11:00", "14:00"]}
    doc["experts"][0]["busy"] = [{"date": "2026-12-07", "start": "12:00", "end": "13:00",
                                  **({"at": place} if place else {})}]
    problem = problem_of(doc)
    plan = solve_checked(problem)
    [b] = plan.breaks
    assert b.end <= t("12:00") or b.start >= t("13:00")

    def about_it(start: str) -> list[str]:
        moved = dataclasses.replace(b, start=t(start), end=t(start) + 45)
        return [v.message for v in check_plan(problem, dataclasses.replace(plan, breaks=(moved,)))
                if v.rule == "lunch" and "standing appointment" in v.message]

    # the expert has no display name: the id stands in for it
    assert about_it("12:15") == [f"pr-1, 12/7: lunch 12:15–13:00 overlaps the standing "
                                 f"appointment 12:00–13:00{' at A町' if place else ''}"]
    moved = dataclasses.replace(b, start=t("12:15"), end=t("13:00"))
    assert [v.message_ja for v in check_plan(problem, dataclasses.replace(plan, breaks=(moved,)))
            if v.rule == "lunch"] == [f"pr-1、12/7: 昼休憩 12:15–13:00 が予定 12:00–13:00"
                                      f"{'（A町）' if place else ''} と重なっています"]
    assert about_it("12:59") and about_it("11:16")
    assert about_it("11:15") == about_it("13:00") == []
