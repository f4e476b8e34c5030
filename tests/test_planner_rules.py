"""The planner, rule by rule: a tiny instance where the rule bites (and exactly what gives way)
and one where it does not. Every plan here went through ``assert_valid`` (``solve_checked``).

Base instance ``two_towns``: one PR expert at the office (08:30–17:15) on Monday 2026-12-07;
a1 (priority 5, 60 min) at town A, 30 min away; b1 (priority 3, 90 min) at town B, 45 min away;
A–B 20 min. Both fit in a day: 30 + 20 + 45 = 95 min of driving.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys

import pytest

from engine.checker import check_plan
from engine.demand import ehime_week
from engine.model import Plan, fmt_time
from tests.helpers import FORMULATIONS, add_request, codes_of, load_doc, problem_of, req, served, t
from tests.helpers import solve_checked as _solve_checked

MON, TUE, WED, THU = (dt.date(2026, 12, d) for d in (7, 8, 9, 10))


#: The formulation every test of this module runs with (each test runs once per formulation).
FORMULATION: dict = {}


@pytest.fixture(autouse=True, params=list(FORMULATIONS))
def formulation(request, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "FORMULATION", FORMULATIONS[request.param])
    return request.param


def solve_checked(problem, **options) -> Plan:
    """Solve, check validity, and require a proof: every instance here is tiny, so the plan is
    optimal (bound == objective, which the checker verifies) or proved infeasible."""
    options.setdefault("model", FORMULATION)
    plan = _solve_checked(problem, **options)
    assert plan.status in ("optimal", "infeasible"), plan.status
    return plan


def visit(plan: Plan, rid: str):
    return plan.visit_by_request[rid]


def week(doc: dict, end: str = "2026-12-11", **horizon) -> dict:
    doc["horizon"] = {"start": "2026-12-07", "end": end, **horizon}
    return doc


def second_pr_expert(doc: dict, **kw) -> dict:
    doc["experts"].append({"id": "pr-2", "fields": ["pr"], "base": "office", **kw})
    return doc


# ------------------------------------------------------------------ baseline, objective, status


def test_both_towns_fit_in_one_day_and_the_plan_is_optimal(two_towns):
    plan = solve_checked(two_towns)
    assert served(plan) == {"a1", "b1"}
    assert plan.status == "optimal" and plan.bound == plan.objective
    assert plan.objective == 1000 * (5 + 3) - (30 + 20 + 45)
    assert [r.stops for r in plan.routes] in ([("town_a", "town_b")], [("town_b", "town_a")])
    assert plan.kpis["drive_minutes"] == 95 and plan.kpis["expert_visits"] == 2


def test_a_day_filled_to_ten_minutes_of_its_hours_by_a_visit_and_calls_serves_them_all(
        two_towns_doc):
    # 08:30–17:15 is 525 minutes: the drive to A町 and back (60), the visit (60) and four
    # calls (395) leave ten; a rule that counted the day shorter would leave one out
    doc = two_towns_doc
    doc["requests"] = [r for r in doc["requests"] if r["id"] == "a1"]
    for i, minutes in enumerate((120, 120, 120, 35), start=1):
        add_request(doc, f"c{i}", "town_b", mode="online", duration=minutes, priority=2)
    plan = solve_checked(doc)
    assert served(plan) == {"a1", "c1", "c2", "c3", "c4"}


def test_objective_weights_of_the_request_are_used(two_towns_doc):
    two_towns_doc["objective"] = {"priority": 100, "drive_minute": 2, "onsite_day": 30}
    plan = solve_checked(two_towns_doc)
    assert plan.objective == 100 * 8 - 2 * 95 - 30 * 1
    assert plan.status == "optimal" and plan.bound == plan.objective


def test_same_seed_with_one_worker_gives_the_same_plan():
    doc = week(load_doc("two_towns"), end="2026-12-09")
    add_request(doc, "c1", "town_a", duration=90, priority=4)
    add_request(doc, "o1", "town_b", mode="online", duration=30, priority=2)
    p = problem_of(doc)
    one = solve_checked(p, seed=3, workers=1)
    two = solve_checked(p, seed=3, workers=1)
    assert one.visits == two.visits and one.routes == two.routes
    assert one.solver["seed"] == 3 and one.solver["workers"] == 1


# ------------------------------------------------------------------ fields


def test_request_for_a_field_nobody_has_is_left_out(two_towns_doc):
    add_request(two_towns_doc, "d1", "town_a", fields="data", priority=10)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "b1"}
    assert codes_of(plan, "d1") == ("no_expert_field",)
    assert "data" in plan.unscheduled[0].reasons[0]


def test_request_goes_to_the_expert_with_the_field(two_towns_doc):
    two_towns_doc["experts"].append({"id": "data-1", "fields": ["data"], "base": "office"})
    add_request(two_towns_doc, "d1", "town_a", fields="data", priority=10)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "b1", "d1"}
    assert visit(plan, "d1").experts == ("data-1",)
    assert visit(plan, "a1").experts == ("pr-1",)


# ------------------------------------------------------------------ workable days


def test_weekend_is_not_workable(two_towns_doc):
    two_towns_doc["horizon"] = {"start": "2026-12-12", "end": "2026-12-13"}
    plan = solve_checked(two_towns_doc)
    assert plan.visits == ()
    assert codes_of(plan, "a1") == codes_of(plan, "b1") == ("no_workable_day",)


def test_a_reason_names_the_field_and_the_days_as_people_write_them(two_towns_doc):
    """It said ``no expert with field 'pr' (PR / marketing) works between 2026-12-12 and
    2026-12-13``: the field's id and ISO dates, where the other reasons say 12/7."""
    two_towns_doc["horizon"] = {"start": "2026-12-12", "end": "2026-12-13"}
    plan = solve_checked(two_towns_doc)
    u = next(u for u in plan.unscheduled if u.request == "a1")
    assert u.reasons == ("no expert with field 'PR / marketing' works between 12/12 and 12/13",)
    assert u.reasons_ja == ("12/12 から 12/13 の間に「広報・マーケティング」の専門家が稼働できる日がありません",)


@pytest.mark.parametrize("skip, expect", [(True, set()), (False, {"a1", "b1"})])
def test_national_holiday_only_when_holidays_are_skipped(two_towns_doc, skip, expect):
    two_towns_doc["horizon"] = {"start": "2026-11-23", "end": "2026-11-23",   # 勤労感謝の日
                                "skip_holidays": skip}
    plan = solve_checked(two_towns_doc)
    assert served(plan) == expect
    if not expect:
        assert codes_of(plan, "a1") == ("no_workable_day",)


def test_blackout_of_one_expert_leaves_the_other(two_towns_doc):
    second_pr_expert(two_towns_doc)
    two_towns_doc["requests"][1]["window"] = ["09:15", "10:45"]   # b1 overlaps a1's slot
    two_towns_doc["requests"][0]["window"] = ["09:00", "10:00"]
    two_towns_doc["horizon"]["blackouts"] = [{"date": "2026-12-07", "experts": ["pr-1"]}]
    plan = solve_checked(two_towns_doc)
    # only pr-2 works: the two overlapping visits cannot both be made, b1 (p3) gives way
    assert served(plan) == {"a1"} and visit(plan, "a1").experts == ("pr-2",)
    assert codes_of(plan, "b1")[0] == "gave_way"
    assert "A町 12/7 09:00–10:00" in plan.unscheduled[0].reasons[0]
    two_towns_doc["horizon"]["blackouts"] = []
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "b1"}
    assert {visit(plan, "a1").experts, visit(plan, "b1").experts} == {("pr-1",), ("pr-2",)}


def test_blackout_for_everyone(two_towns_doc):
    second_pr_expert(two_towns_doc)
    week(two_towns_doc, end="2026-12-08",
         blackouts=[{"date": "2026-12-07", "experts": ["*"], "reason": "研修"}])
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "b1"} and {v.date for v in plan.visits} == {TUE}
    two_towns_doc["horizon"]["end"] = "2026-12-07"
    plan = solve_checked(two_towns_doc)
    assert plan.visits == () and codes_of(plan, "a1") == ("no_workable_day",)


def test_expert_days_limit_the_dates(two_towns_doc):
    week(two_towns_doc, end="2026-12-09")
    two_towns_doc["experts"][0]["days"] = ["2026-12-08"]
    plan = solve_checked(two_towns_doc)
    assert {v.date for v in plan.visits} == {TUE}
    two_towns_doc["requests"][0]["latest"] = "2026-12-07"
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"b1"} and codes_of(plan, "a1") == ("no_workable_day",)


def test_earliest_and_latest_bound_the_date(two_towns_doc):
    week(two_towns_doc)
    two_towns_doc["requests"][0].update(earliest="2026-12-09", latest="2026-12-09")
    plan = solve_checked(two_towns_doc)
    assert visit(plan, "a1").date == WED
    two_towns_doc["horizon"]["blackouts"] = [{"date": "2026-12-09"}]
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"b1"} and codes_of(plan, "a1") == ("no_workable_day",)


# ------------------------------------------------------------------ hours, window


def test_opening_hours_bound_the_visit(two_towns_doc):
    two_towns_doc["locations"][1]["open"] = "13:00"
    plan = solve_checked(two_towns_doc)
    assert visit(plan, "a1").start >= t("13:00")
    two_towns_doc["locations"][1]["close"] = "13:30"               # 30 min < 60 min
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"b1"} and codes_of(plan, "a1") == ("no_time",)


def test_window_bounds_the_visit(two_towns_doc):
    two_towns_doc["requests"][0]["window"] = ["14:00", "15:30"]
    plan = solve_checked(two_towns_doc)
    v = visit(plan, "a1")
    assert t("14:00") <= v.start and v.end <= t("15:30")
    # 08:30–09:45: the 30-minute drive from 08:30 leaves only 45 minutes in the window
    two_towns_doc["requests"][0]["window"] = ["08:30", "09:45"]
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"b1"} and codes_of(plan, "a1") == ("no_time",)


def test_working_hours_include_the_drive(two_towns_doc):
    two_towns_doc["experts"][0]["work_end"] = "09:45"   # 75 min: 30 + 60 + 30 does not fit
    add_request(two_towns_doc, "o1", "town_a", mode="online", duration=60, priority=1)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"o1"}                       # online needs no drive
    assert codes_of(plan, "a1") == ("no_time",) and codes_of(plan, "b1") == ("no_time",)
    two_towns_doc["experts"][0]["work_end"] = "10:30"   # exactly 30 + 60 + 30 after 08:30
    two_towns_doc["requests"] = two_towns_doc["requests"][:1]
    plan = solve_checked(two_towns_doc)
    v = visit(plan, "a1")
    assert (v.start, v.end) == (t("09:00"), t("10:00"))
    assert (plan.routes[0].leave, plan.routes[0].return_) == (t("08:30"), t("10:30"))


def test_the_drive_home_ends_by_the_end_of_work_though_a_shorter_way_exists(two_towns_doc):
    """The drive home from town A takes 150 min directly, 40 through town B: a tour may only
    drive through B if it stops there, and B's request is for a field nobody has. So A's
    visit alone would bring the expert back at 12:30, after work ends at 12:00."""
    doc = two_towns_doc
    doc["experts"][0]["work_end"] = "12:00"
    doc["travel"]["minutes"]["town_a"] = {"office": 150, "town_b": 20}
    doc["travel"]["minutes"]["town_b"] = {"office": 20, "town_a": 20}
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5),
                       req("b1", "town_b", fields="data", duration=30, priority=5)]
    plan = solve_checked(doc)
    assert plan.visits == ()
    doc["experts"][0]["work_end"] = "12:30"                       # now it fits exactly
    plan = solve_checked(doc)
    assert served(plan) == {"a1"} and plan.routes[0].return_ == t("12:30")


def test_the_first_stop_is_reached_by_the_direct_drive_though_a_shorter_way_exists(
        two_towns_doc):
    """Town A is 150 min from the office directly, 40 through town B (whose request is for a
    field nobody has, so no tour stops there). A's visit may start from 09:10 by its start
    window (which allows for the shorter way), but the expert who leaves at 08:30 arrives at
    11:00: only the first leg's own rule says so."""
    doc = two_towns_doc
    doc["travel"]["minutes"]["office"] = {"town_a": 150, "town_b": 20}
    doc["travel"]["minutes"]["town_a"] = {"office": 150, "town_b": 20}
    doc["travel"]["minutes"]["town_b"] = {"office": 20, "town_a": 20}
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5, window=["08:30", "13:00"]),
                       req("b1", "town_b", fields="data", duration=30, priority=5)]
    plan = solve_checked(doc)
    assert served(plan) == {"a1"} and visit(plan, "a1").start >= t("11:00")


def test_the_last_stop_of_a_tour_must_leave_time_for_the_direct_drive_home(two_towns_doc):
    """Town A is 150 min from the office directly, 40 through town C (whose request nobody can
    serve, so no tour stops there). Visiting B (by 09:00) and then A brings the expert home at
    14:00, after work ends at 13:00; each alone fits. Only the last leg's own rule says so:
    A's start window allows for the shorter way home."""
    doc = two_towns_doc
    doc["experts"][0]["work_end"] = "13:00"
    doc["locations"].append({"id": "town_c", "name": "C町", "open": "08:30", "close": "17:15"})
    doc["travel"]["minutes"] = {
        "office": {"town_a": 30, "town_b": 30, "town_c": 20},
        "town_a": {"office": 150, "town_b": 30, "town_c": 20},
        "town_b": {"office": 30, "town_a": 30, "town_c": 40},
        "town_c": {"office": 20, "town_a": 20, "town_b": 40}}
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5),
                       req("b1", "town_b", duration=60, priority=5,
                           window=["08:30", "10:00"]),
                       req("c1", "town_c", fields="data", duration=30, priority=5)]
    plan = solve_checked(doc)
    assert len({"a1", "b1"} & served(plan)) == 1
    assert all(r.return_ <= t("13:00") for r in plan.routes)


@pytest.mark.parametrize("shift", ["morning", "afternoon"])
def test_each_expert_keeps_to_their_own_working_hours(two_towns_doc, shift):
    """Two PR experts, one working mornings, one afternoons, each busy with a published online
    call that leaves a 50-minute gap in their own hours: a 60-minute call fits neither, though it
    would fit the hours of the other expert (so the start's range over both does not decide)."""
    doc = two_towns_doc
    doc["requests"] = []
    if shift == "morning":          # pr-1 08:30-12:00 busy until 11:10; pr-2 13:00-17:15 busy
        hours = {"pr-1": ("08:30", "12:00"), "pr-2": ("13:00", "17:15")}
        busy = {"pr-1": ("08:30", 160), "pr-2": ("13:00", 255)}
    else:                           # pr-1 13:00-17:15 busy from 13:50; pr-2 08:30-12:00 busy
        hours = {"pr-1": ("13:00", "17:15"), "pr-2": ("08:30", "12:00")}
        busy = {"pr-1": ("13:50", 205), "pr-2": ("08:30", 210)}
    doc["experts"] = [{"id": e, "fields": ["pr"], "base": "office", "work_start": a,
                       "work_end": b} for e, (a, b) in hours.items()]
    for e, (start, minutes) in busy.items():
        add_request(doc, f"busy-{e}", "town_a", mode="online", duration=minutes, priority=10,
                    fixed={"experts": [e], "date": "2026-12-07", "start": start})
    add_request(doc, "call", "town_a", mode="online", duration=60, priority=10)
    plan = solve_checked(doc)
    assert served(plan) == {"busy-pr-1", "busy-pr-2"}
    assert "call" in {u.request for u in plan.unscheduled}


# ------------------------------------------------------------------ one thing at a time, driving


def test_no_double_booking(two_towns_doc):
    two_towns_doc["requests"] = [
        req("o1", "town_a", mode="online", duration=60, priority=6, window=["09:00", "10:00"]),
        req("o2", "town_b", mode="online", duration=60, priority=2, window=["09:00", "10:00"])]
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"o1"}
    assert codes_of(plan, "o2")[0] == "gave_way" and "expert_day_taken" in codes_of(plan, "o2")
    two_towns_doc["requests"][1]["window"] = ["10:00", "11:00"]
    assert served(solve_checked(two_towns_doc)) == {"o1", "o2"}


def test_a_request_gives_way_to_a_combination_of_lower_priorities(two_towns_doc):
    two_towns_doc["requests"] = [
        req("x", "town_a", mode="online", duration=120, priority=6, window=["09:00", "11:00"]),
        req("y", "town_a", mode="online", duration=60, priority=4, window=["09:00", "10:00"]),
        req("z", "town_b", mode="online", duration=60, priority=4, window=["10:00", "11:00"])]
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"y", "z"}                   # 4 + 4 > 6
    assert codes_of(plan, "x")[:2] == ("gave_way_combination", "expert_day_taken")
    two_towns_doc["requests"][0]["priority"] = 9        # now x outweighs y and z together
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"x"}
    assert codes_of(plan, "y")[0] == codes_of(plan, "z")[0] == "gave_way"


def test_no_online_consultation_while_driving(two_towns_doc):
    two_towns_doc["requests"][0]["window"] = ["09:00", "10:00"]   # a1 09:00, leave 08:30
    two_towns_doc["requests"][1] = req("o1", "town_b", mode="online", duration=30, priority=3,
                                       window=["08:30", "09:00"])
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1"} and codes_of(plan, "o1")[0] == "gave_way"
    two_towns_doc["requests"][1]["window"] = ["11:00", "11:30"]   # after the drive home
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "o1"}


def test_route_return_after_an_online_consultation_at_the_last_stop(two_towns_doc):
    two_towns_doc["requests"][0]["window"] = ["09:00", "10:00"]   # a1 09:00–10:00 at town A
    two_towns_doc["requests"][1] = req("o1", "town_b", mode="online", duration=30, priority=3,
                                       window=["10:00", "10:30"])
    plan = solve_checked(two_towns_doc)    # the checker rejects the route's drive home
    assert served(plan) == {"a1", "o1"}


def test_consecutive_stops_leave_the_drive_between_them(two_towns_doc):
    two_towns_doc["requests"][0]["window"] = ["09:00", "10:00"]   # a1 exactly 09:00–10:00
    two_towns_doc["requests"][1]["window"] = ["10:00", "11:40"]   # b1 must start by 10:10
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1"}                                 # the 20-min drive does not fit
    # the reason names the visit it gave way to by place and time
    assert codes_of(plan, "b1")[0] == "gave_way" and "A町 12/7 09:00–10:00" in plan.unscheduled[0].reasons[0]
    two_towns_doc["requests"][1]["window"] = ["10:20", "11:50"]
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"a1", "b1"} and visit(plan, "b1").start == t("10:20")


# ------------------------------------------------------------------ caps


@pytest.mark.parametrize("cap, expect", [(1, {"a1"}), (2, {"a1", "b1"})])
def test_expert_visits_per_day(two_towns_doc, cap, expect):
    two_towns_doc["experts"][0]["max_visits_per_day"] = cap
    plan = solve_checked(two_towns_doc)
    assert served(plan) == expect
    if cap == 1:
        assert "expert_day_full" in codes_of(plan, "b1")


@pytest.mark.parametrize("cap, expect", [(1, {"a1"}), (2, {"a1", "b1"})])
def test_expert_visits_total(two_towns_doc, cap, expect):
    week(two_towns_doc, end="2026-12-08")
    two_towns_doc["experts"][0]["max_visits_total"] = cap
    add_request(two_towns_doc, "o1", "town_b", mode="online", duration=30, priority=1)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == expect | {"o1"}          # online consultations are not capped
    if cap == 1:
        assert "expert_total_full" in codes_of(plan, "b1")


@pytest.mark.parametrize("cap, expect, code", [
    (94, {"a1"}, "drive_cap_full"),   # both need 30 + 20 + 45 = 95
    (95, {"a1", "b1"}, None),
    (70, {"a1"}, "drive_cap"),        # b1 alone is a 90-minute round trip
])
def test_expert_drive_minutes_per_day(two_towns_doc, cap, expect, code):
    two_towns_doc["experts"][0]["max_drive_minutes_per_day"] = cap
    plan = solve_checked(two_towns_doc)
    assert served(plan) == expect
    assert all(r.drive_minutes <= cap for r in plan.routes)
    if code:
        assert code in codes_of(plan, "b1")


@pytest.mark.parametrize("cap, stops", [(79, 2), (80, 3)])
def test_drive_cap_decides_a_day_where_every_pair_of_stops_fits(two_towns_doc, cap, stops):
    """Three towns 20 minutes from the office and from each other: any two make a 60-minute
    day, all three 80. With a cap of 79 only the cap itself (not the legs it rules out) keeps
    the third stop away."""
    doc = two_towns_doc
    towns = ["town_a", "town_b", "town_c"]
    doc["locations"].append({"id": "town_c", "name": "C町", "open": "08:30", "close": "17:15"})
    doc["travel"]["minutes"] = {a: {b: 20 for b in ["office", *towns] if b != a}
                                for a in ["office", *towns]}
    doc["requests"] = [req(f"{x[-1]}1", x, duration=60, priority=5) for x in towns]
    doc["experts"][0]["max_drive_minutes_per_day"] = cap
    plan = solve_checked(doc)
    assert len(plan.visits) == stops
    assert all(r.drive_minutes <= cap for r in plan.routes)


@pytest.mark.parametrize("cap, days, expect", [
    (1, ("2026-11-30", "2026-12-01"), {"a1", "b1"}),   # one day in November, one in December
    (1, ("2026-12-01", "2026-12-02"), {"a1"}),         # two days in December: one only
    ({"2026-11": 0}, ("2026-11-30", "2026-12-01"), {"b1"}),   # no days paid in November
    ({"2026-11": 1, "2026-12": 1}, ("2026-12-01", "2026-12-02"), {"a1"}),
])
def test_onsite_days_per_calendar_month(two_towns_doc, cap, days, expect):
    doc = two_towns_doc
    doc["horizon"] = {"start": days[0], "end": days[1]}
    doc["experts"][0]["max_onsite_days_per_month"] = cap
    for q, d in zip(doc["requests"], days, strict=True):
        q["earliest"] = q["latest"] = d                 # a1 on the first day, b1 on the second
    plan = solve_checked(doc)
    assert served(plan) == expect
    if expect != {"a1", "b1"}:
        assert {"expert_month_full", "cap_zero"} & set(
            codes_of(plan, ({"a1", "b1"} - expect).pop()))


@pytest.mark.parametrize("cap, expect", [(1, {"a1"}), (2, {"a1", "b1"})])
def test_expert_onsite_days(two_towns_doc, cap, expect):
    week(two_towns_doc, end="2026-12-08")
    two_towns_doc["experts"][0].update(max_visits_per_day=1, max_onsite_days=cap)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == expect
    if cap == 1:
        assert "expert_days_full" in codes_of(plan, "b1")
    else:
        assert {v.date for v in plan.visits} == {MON, TUE}


def test_cap_of_zero_stops_onsite_but_not_online(two_towns_doc):
    two_towns_doc["experts"][0]["max_visits_total"] = 0
    add_request(two_towns_doc, "o1", "town_a", mode="online", duration=30, priority=1)
    plan = solve_checked(two_towns_doc)
    assert served(plan) == {"o1"}
    assert codes_of(plan, "a1") == ("cap_zero",)


@pytest.mark.parametrize("cap, expect", [(2, {"j1"}), (3, {"j1", "s1"})])
def test_location_per_day_counts_a_joint_visit_as_two(joint_visit_doc, cap, expect):
    joint_visit_doc["locations"][1]["max_visits_per_day"] = cap
    add_request(joint_visit_doc, "s1", "town_a", fields="design", priority=2)
    plan = solve_checked(joint_visit_doc)
    assert served(plan) == expect
    if cap == 2:
        assert "location_day_full" in codes_of(plan, "s1")


def test_joint_visit_never_fits_a_location_cap_of_one(joint_visit_doc):
    joint_visit_doc["locations"][1]["max_visits_per_day"] = 1
    plan = solve_checked(joint_visit_doc)
    assert plan.visits == ()


def test_joint_visit_above_the_location_cap_is_explained_as_impossible(joint_visit_doc):
    joint_visit_doc["locations"][1]["max_visits_per_day"] = 1
    plan = solve_checked(joint_visit_doc)
    assert "gave_way" not in codes_of(plan, "j1")
    assert "could be served alone" not in plan.unscheduled[0].reasons[0]


# ------------------------------------------------------------------ joint visits


def test_joint_visit_brings_one_expert_per_field_together(joint_visit):
    plan = solve_checked(joint_visit)
    v = visit(plan, "j1")
    assert len(v.experts) == 2 and "pr-1" in v.experts
    assert {"data-1", "data-2"} & set(v.experts)
    assert v.location == "town_a"
    # a single visit: same place, date and start for both; both experts have a route there
    assert {(r.expert, r.stops) for r in plan.routes} == {(e, ("town_a",)) for e in v.experts}
    assert plan.kpis["expert_visits"] == 2


def test_joint_visit_without_common_time(joint_visit_doc):
    joint_visit_doc["experts"][0]["work_end"] = "11:00"       # pr-1 only in the morning
    for e in joint_visit_doc["experts"][1:]:
        e["work_start"] = "12:00"                            # data experts only after noon
    plan = solve_checked(joint_visit_doc)
    assert plan.visits == () and codes_of(plan, "j1") == ("joint_no_common_time",)


# ------------------------------------------------------------------ fixed visits


def test_fixed_visit_is_kept_exactly(two_towns_doc):
    two_towns_doc["requests"][1]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "14:00"}
    two_towns_doc["requests"][1]["priority"] = 1
    plan = solve_checked(two_towns_doc)
    v = visit(plan, "b1")
    assert (v.experts, v.date, v.start) == (("pr-1",), MON, t("14:00"))
    assert served(plan) == {"a1", "b1"}


def test_fixed_visits_that_clash_release_the_fewest_and_plan_the_rest(two_towns_doc):
    two_towns_doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "10:00"}
    two_towns_doc["requests"][1]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "10:30"}
    add_request(two_towns_doc, "c1", "town_a", priority=9)
    plan = solve_checked(two_towns_doc)
    # The published visits cannot all be kept (status infeasible), but one release suffices:
    # one of a1, b1 is released, the other stays as published, c1 (p9) is planned around it.
    assert plan.status == "infeasible" and plan.solver["released_fewest"] is True
    (gone,) = plan.solver["released_fixed"]
    kept = ({"a1", "b1"} - {gone}).pop()
    assert set(plan.solver["conflicting_fixed"]) == {"a1", "b1"}
    published = {"a1": t("10:00"), "b1": t("10:30")}
    assert (visit(plan, kept).date, visit(plan, kept).start) == (MON, published[kept])
    assert "c1" in served(plan)
    # the message names both by place, published date and time (never by id)
    named = {"a1": "A町 12/7 10:00–11:00 (priority 5) [pr-1]",
             "b1": "B町 12/7 10:30–12:00 (priority 3) [pr-1]"}
    assert f"{named[gone]} clashes with {named[kept]}" in plan.messages[0], plan.messages[0]
    if gone in served(plan):       # released, yet planned at another time: the message says when
        assert visit(plan, gone).start != published[gone]
        assert f"planned at 12/7 {fmt_time(visit(plan, gone).start)}" in plan.messages[0]
    else:
        assert codes_of(plan, gone) == ("fixed_conflict",)
    assert plan.objective == plan.bound


def test_released_fixed_visit_left_out_names_the_clash(two_towns_doc):
    # Each can only be made at its published time (windows), and they overlap: one must go,
    # and keeping a1 (priority 5) is worth more than keeping b1 (priority 3).
    two_towns_doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "10:00"}
    two_towns_doc["requests"][0]["window"] = ["10:00", "11:00"]
    two_towns_doc["requests"][1]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "10:30"}
    two_towns_doc["requests"][1]["window"] = ["10:30", "12:00"]
    plan = solve_checked(two_towns_doc)
    assert plan.status == "infeasible" and plan.solver["released_fixed"] == ["b1"]
    assert served(plan) == {"a1"} and codes_of(plan, "b1") == ("fixed_conflict",)
    reason = plan.unscheduled[0].reasons[0]
    assert "B町" in reason and "10:30" in reason and "A町 12/7 10:00–11:00" in reason


def test_fixed_visit_at_an_impossible_time_is_released_alone(two_towns_doc):
    two_towns_doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "08:40"}      # drive of 30 from 08:30
    plan = solve_checked(two_towns_doc)
    assert plan.status == "infeasible" and plan.solver["released_fixed"] == ["a1"]
    assert plan.solver["conflicting_fixed"] == ["a1"]
    # released, it is planned at the first time the drive allows, and the message says so
    assert served(plan) == {"a1", "b1"} and visit(plan, "a1").start >= t("09:00")
    assert ("A町 12/7 08:40–09:40 (priority 5) [pr-1] cannot be kept: planned at 12/7"
            in plan.messages[0]), plan.messages[0]
    assert "08:40" in plan.messages_ja[0]


# ------------------------------------------------------------------ re-planning with previous


def test_replanning_moves_only_the_visit_whose_expert_got_a_blackout():
    doc = week(load_doc("two_towns"), end="2026-12-10")       # Mon–Thu, one visit a day
    doc["experts"][0]["max_visits_per_day"] = 1
    add_request(doc, "c1", "town_a", duration=90, priority=4)
    first = solve_checked(doc)
    assert served(first) == {"a1", "b1", "c1"}
    by_date = {v.date: v for v in first.visits}
    moved = by_date[min(by_date)]                            # black out the first visit's date
    doc["horizon"]["blackouts"] = [{"date": moved.date.isoformat(), "experts": ["pr-1"]}]
    p = problem_of(doc)
    again = solve_checked(p, previous=first)
    assert served(again) == {"a1", "b1", "c1"}
    assert visit(again, moved.request).date != moved.date
    for v in first.visits:
        if v.request != moved.request:
            assert visit(again, v.request) == v
    assert again.solver["moved"] == 1 and again.kpis["moved"] == 1
    assert check_plan(p, again) == []


def test_replanning_an_unchanged_problem_moves_nothing(two_towns):
    first = solve_checked(two_towns)
    again = solve_checked(two_towns, previous=first)
    assert again.visits == first.visits
    assert again.solver["moved"] == 0 and again.kpis["moved"] == 0


def test_fixed_visit_that_no_expert_may_make_makes_the_plan_infeasible(two_towns_doc):
    two_towns_doc["experts"][0]["max_visits_per_day"] = 0
    two_towns_doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07",
                                             "start": "10:00"}
    plan = solve_checked(two_towns_doc)
    assert plan.status == "infeasible"
    assert codes_of(plan, "a1") == ("fixed_conflict",)


# ------------------------------------------------------------------ a realistic week


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_small_ehime_week_is_valid(seed):
    problem = ehime_week("2026-12-07", seed=seed, requests_per_week=16)
    plan = solve_checked(problem)
    assert plan.status == "optimal" and plan.bound == plan.objective
    fixed = [q for q in problem.requests if q.fixed is not None]
    assert fixed and all(q.id in plan.visit_by_request for q in fixed)


def test_island_trip_includes_the_ferry(island):
    plan = solve_checked(island)
    assert served(plan) == {"k1", "i1"}
    day = {r.expert: r for r in plan.routes}["security-1"]
    # office → 今治 46, 今治 → 上島 81 (ferry included), 上島 → office 117, either direction
    assert set(day.stops) == {"382027", "383562"}
    assert day.drive_minutes == 46 + 81 + 117 or day.drive_minutes == 117 + 81 + 46


def test_island_day_trip_that_does_not_fit_the_hours(island):
    e = dataclasses.replace(island.experts[0], work_end=t("14:00"))   # 117 + 120 + 117 > 330
    p = dataclasses.replace(island, experts=(e,))
    plan = solve_checked(p)
    assert served(plan) == {"i1"} and codes_of(plan, "k1") == ("no_time",)


# ------------------------------------------------------------------ published days


def test_no_new_visit_on_published_days(two_towns_doc):
    doc = week(two_towns_doc, end="2026-12-08")
    doc["horizon"]["published_until"] = "2026-12-07"
    doc["requests"][0]["latest"] = "2026-12-07"          # a1 only on the published Monday
    plan = solve_checked(doc)
    assert codes_of(plan, "a1") == ("published_period",)
    assert served(plan) == {"b1"} and visit(plan, "b1").date == TUE


def test_publishing_a_plan_keeps_it_and_closes_its_days():
    from engine.season import publish_until

    p = ehime_week("2026-12-07", seed=3, requests_per_week=16)
    first = solve_checked(p)
    published = publish_until(p, first, TUE)
    assert published.horizon.published_until == TUE
    again = solve_checked(published, previous=first)
    for v in first.visits:
        if v.date <= TUE:
            assert visit(again, v.request) == v            # the published visits, as they were
    assert all(v.date > TUE or published.request_by_id[v.request].fixed is not None
               for v in again.visits)
