"""Slot proposals (``solvers.slots.propose_slots``): the best ways to fit one new request into a
plan. Every proposal here went through ``propose_checked``: valid by the checker, no published
visit touched, every other visit on its date with its experts.

Base: ``two_towns`` over one or more days — one PR expert at the office (08:30–17:15), town A
30 min away, town B 45 min, A–B 20 min; a1 (priority 5, 60 min, town A), b1 (priority 3,
90 min, town B). Exactness is checked against the independent brute force
(``tests/bruteforce.py``) on random tiny weeks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from engine.checker import check_plan
from engine.errors import InputError
from engine.model import Visit, fmt_time
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.routes import build_routes
from solvers.slots import Slot, propose_slots
from tests.bruteforce import best_plan, insertions
from tests.helpers import (
    build_plan,
    load_doc,
    problem_of,
    propose_checked,
    req,
    solve_checked,
    t,
    tiny,
)

MON, TUE, WED, THU, FRI = (dt.date(2026, 12, d) for d in (7, 8, 9, 10, 11))


def week_of(doc: dict[str, Any], end: str = "2026-12-07") -> dict[str, Any]:
    doc["horizon"] = {"start": "2026-12-07", "end": end}
    return doc


def split(doc: dict[str, Any], rid: str):
    """(the week with ``rid``, the plan of the week without it)."""
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=tuple(q for q in full.requests if q.id != rid))
    plan = solve_checked(without)
    assert plan.status == "optimal"
    return full, plan


# ------------------------------------------------------------------ what a proposal says


def test_a_free_day_takes_the_request_with_its_cost_and_nothing_moves():
    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1")
    p, *others = answer.proposals              # one expert, one day: then other starts
    assert all(x.alternative and abs(x.start - p.start) >= 60 for x in others)
    assert (p.experts, p.date, p.mode) == (("pr-1",), MON, "onsite")
    # a1 at A, then b1 and n1 at B (no extra drive: B is on the tour already)
    assert p.drive_minutes_added == 0
    assert p.objective_change == 1000 * 7
    assert p.plan.objective == plan.objective + p.objective_change
    assert p.moved == ()
    assert [c.request for c in p.plan.changes if c.kind == "added"] == ["n1"]
    assert p.proven and answer.complete and answer.unscheduled is None


def test_the_visit_in_the_way_shifts_and_is_reported():
    doc = week_of(load_doc("two_towns"))
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5),
                       req("n1", "town_a", duration=60, priority=4, window=["09:00", "10:00"])]
    full, plan = split(doc, "n1")
    assert plan.visit_by_request["a1"].start == t("09:00")     # the earliest, in n1's way
    [p] = propose_checked(full, plan, "n1", k=1).proposals
    assert fmt_time(p.start) == "09:00"
    [c] = p.moved
    assert (c.request, c.kind) == ("a1", "moved")
    assert c.before is not None and c.after is not None
    assert c.after.start >= t("10:00") and c.after.date == c.before.date
    assert p.drive_minutes_added == 0 and p.objective_change == 4000


def test_visits_that_need_not_move_stay_where_they_are():
    doc = week_of(load_doc("two_towns"))
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5),
                       req("n1", "town_b", duration=60, priority=4)]
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=full.requests[:1])
    # a hand-made plan with a1 late in the morning, not at its earliest
    plan = build_plan(without, [Visit("a1", ("pr-1",), "town_a", "onsite", MON, t("11:00"),
                                      t("12:00"))])
    for p in propose_checked(full, plan, "n1", k=3).proposals:
        assert p.moved == ()
        assert p.plan.visit_by_request["a1"].start == t("11:00")


def test_a_published_visit_is_never_moved_to_make_room():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5,
                           fixed={"experts": ["pr-1"], "date": "2026-12-07", "start": "09:00"}),
                       req("n1", "town_a", duration=60, priority=9, window=["09:00", "10:00"])]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3)
    assert {p.date for p in answer.proposals} == {TUE}           # Monday would move a1
    assert all(p.moved == () for p in answer.proposals)
    # nor dropped, even when dropping is allowed
    answer = propose_checked(full, plan, "n1", k=3, allow_drop=True)
    assert {p.date for p in answer.proposals} == {TUE}


def test_the_k_best_are_distinct_days_first_best_first():
    doc = week_of(load_doc("two_towns"), end="2026-12-10")
    doc["requests"] = [req("a1", "town_a", duration=60, priority=5, earliest="2026-12-07",
                           latest="2026-12-07"),
                       req("b1", "town_b", duration=90, priority=3, earliest="2026-12-08",
                           latest="2026-12-08"),
                       req("n1", "town_b", duration=60, priority=6)]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3)
    dates = [p.date for p in answer.proposals]
    assert len(set(dates)) == 3 and not any(p.alternative for p in answer.proposals)
    # Tuesday joins b1 at town B (no extra drive): the best; the others cost a round trip or
    # a detour
    assert dates[0] == TUE and answer.proposals[0].drive_minutes_added == 0
    changes = [p.objective_change for p in answer.proposals]
    assert changes == sorted(changes, reverse=True)
    assert answer.proposals[1].objective_change == 6000 - 90 or WED in dates


def test_the_proposals_as_a_table_for_a_notebook():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3)
    table = answer.frame()
    assert list(table.index) == [1, 2, 3] and table.index.name == "rank"
    first = answer.proposals[0]
    assert table.loc[1, "date"] == first.date and table.loc[1, "start"] == fmt_time(first.start)
    assert list(table["objective_change"]) == [p.objective_change for p in answer.proposals]
    none = propose_checked(full, plan, "n1", other_mode="no", only=Slot(
        ("pr-1",), MON, t("08:30"), "onsite"))
    assert none.frame().empty and list(none.frame().columns)[:2] == ["experts", "date"]


def test_one_day_only_gives_other_starts_an_hour_apart_not_a_minute():
    doc = week_of(load_doc("two_towns"))
    doc["travel"]["minutes"]["office"]["town_a"] = 37          # could start 09:07
    doc["requests"] = [req("n1", "town_a", duration=60, priority=6)]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3)
    assert len(answer.proposals) == 3
    first, *others = answer.proposals
    assert not first.alternative and all(p.alternative for p in others)
    starts = sorted(p.start for p in answer.proposals)
    assert all(b - a >= 60 for a, b in zip(starts, starts[1:], strict=False))
    assert fmt_time(first.start) == "09:15"    # the quarter hour, where it costs nothing


def three_towns(cap: int | None = None, onsite_day: int = 0) -> dict[str, Any]:
    """Towns A, B and C, each 30 min from the office and 40 min from one another."""
    towns = ("town_a", "town_b", "town_c")
    minutes = {"office": {x: 30 for x in towns}}
    for x in towns:
        minutes[x] = {"office": 30, **{y: 40 for y in towns if y != x}}
    doc = {"format": "plan-request/1", "horizon": {"start": "2026-12-07", "end": "2026-12-07"},
           "locations": [{"id": x, "name": x} for x in ("office", *towns)],
           "experts": [{"id": "pr-1", "fields": ["pr"], "base": "office"}],
           "requests": [], "travel": {"minutes": minutes},
           "objective": {"priority": 1000, "drive_minute": 1, "onsite_day": onsite_day}}
    if cap is not None:
        doc["experts"][0]["max_drive_minutes_per_day"] = cap
    return doc


def test_the_daily_drive_cap_holds_for_the_whole_tour_not_only_each_leg():
    doc = three_towns(cap=120)
    doc["requests"] = [req("a1", "town_a"), req("b1", "town_b"), req("c1", "town_c")]
    full, plan = split(doc, "c1")
    assert plan.routes[0].drive_minutes == 100            # office → A → B → office
    answer = propose_checked(full, plan, "c1", other_mode="no")
    assert answer.proposals == ()                          # 140 min with C: above the cap
    assert answer.unscheduled is not None
    assert answer.unscheduled.codes == ("drive_cap_full",)
    doc["experts"][0]["max_drive_minutes_per_day"] = 140
    full, plan = split(doc, "c1")
    assert propose_checked(full, plan, "c1", k=1).proposals[0].drive_minutes_added == 40


def test_a_new_on_site_day_costs_its_weight():
    doc = three_towns(onsite_day=200)
    doc["horizon"]["end"] = "2026-12-08"
    doc["travel"]["minutes"]["town_a"]["town_c"] = doc["travel"]["minutes"]["town_c"]["town_a"] = 80
    doc["requests"] = [req("a1", "town_a", earliest="2026-12-07", latest="2026-12-07"),
                       req("c1", "town_c")]
    full, plan = split(doc, "c1")
    first, second = propose_checked(full, plan, "c1", k=2).proposals
    # Monday: office → A → C → office adds 80 min; Tuesday: a round trip of 60, and a new day
    assert (first.date, first.objective_change) == (MON, 1000 * 5 - 80)
    assert (second.date, second.objective_change) == (TUE, 1000 * 5 - 60 - 200)


def test_a_request_nothing_can_serve_says_why_in_the_planners_words():
    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_a", fields="security", priority=6))
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", other_mode="also")
    assert answer.proposals == ()
    assert answer.unscheduled is not None
    assert answer.unscheduled.codes == ("no_expert_field",)
    static = Explainer(full, TravelTimes(full)).static["n1"]
    assert answer.unscheduled == static
    assert answer.unscheduled.reasons_ja


def test_a_full_day_gives_the_reason_the_planner_gives_when_it_leaves_the_request_out():
    doc = week_of(load_doc("two_towns"))
    doc["experts"][0]["max_visits_per_day"] = 2
    doc["requests"].append(req("n1", "town_a", duration=30, priority=2))
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", other_mode="no")
    assert answer.proposals == ()
    replanned = solve_checked(full)
    planner = next(u for u in replanned.unscheduled if u.request == "n1")
    assert answer.unscheduled is not None
    assert "expert_day_full" in answer.unscheduled.codes
    assert answer.unscheduled.codes == planner.codes
    assert answer.unscheduled.reasons == planner.reasons


def test_dropping_is_off_by_default_and_then_prices_what_gives_way():
    doc = week_of(load_doc("two_towns"))
    doc["experts"][0]["max_visits_per_day"] = 2
    doc["requests"].append(req("n1", "town_a", duration=30, priority=8))
    full, plan = split(doc, "n1")
    assert propose_checked(full, plan, "n1", other_mode="no").proposals == ()
    [p] = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no").proposals
    [gone] = p.dropped
    assert gone.request == "b1"                    # priority 3 gives way, not a1 (5)
    drive_before = 30 + 20 + 45
    assert p.objective_change == 1000 * (8 - 3) - (60 - drive_before)
    [u] = [u for u in p.plan.unscheduled if u.request == "b1"]
    assert u.codes == ("gave_way",) and "n1" in u.reasons[0] and u.reasons_ja
    assert p.plan.kpis["moved"] == len(p.moved)


def test_the_contracts_days_in_the_month_hold():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["experts"][0]["max_onsite_days_per_month"] = 1
    doc["requests"] = [req("a1", "town_a", earliest="2026-12-07", latest="2026-12-07"),
                       req("n1", "town_b", priority=6)]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3, other_mode="no")
    # Tuesday would be a second on-site day in December: only Monday, beside a1
    assert answer.proposals and {p.date for p in answer.proposals} == {MON}


def test_no_new_visit_in_the_published_period():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["horizon"]["published_until"] = "2026-12-07"
    doc["requests"] = [req("n1", "town_b", priority=6)]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=3, other_mode="also")
    assert answer.proposals and {p.date for p in answer.proposals} == {TUE}


def two_to_drop(**goals: Any) -> tuple[Any, Any]:
    """One day with room for two visits, both taken: a1 (priority 5, town A, 3,000 people)
    and b1 (priority 6, town B, 200,000 people); n1 (priority 8) wants the day too."""
    doc = week_of(load_doc("two_towns"))
    doc["experts"][0]["max_visits_per_day"] = 2
    doc["locations"][1]["population"] = 3_000
    doc["locations"][2]["population"] = 200_000
    doc["requests"] = [req("a1", "town_a", priority=5), req("b1", "town_b", priority=6),
                       req("n1", "town_a", priority=8)]
    doc["goals"] = goals
    return split(doc, "n1")


def test_what_gives_way_is_the_least_worth_with_the_season_goals():
    full, plan = two_to_drop()
    [p] = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no").proposals
    assert [c.request for c in p.dropped] == ["a1"]           # priority 5 < 6
    # with a small-town bonus of 500 a point, a1 is worth 5 × 1,500 > b1's 6 × 1,000
    full, plan = two_to_drop(small_towns={"population_below": 50_000, "bonus": 500})
    [p] = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no").proposals
    assert [c.request for c in p.dropped] == ["b1"]
    assert p.objective_change == p.plan.objective - plan.objective
    # with a coverage floor at town B, dropping its only visit costs the penalty too
    full, plan = two_to_drop(coverage={"min_visits": 1, "penalty": 5000,
                                       "locations": {"town_a": 0}})
    [p] = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no").proposals
    assert [c.request for c in p.dropped] == ["a1"]
    full, plan = two_to_drop(coverage={"min_visits": 1, "penalty": 5000,
                                       "locations": {"town_a": 0}},
                             small_towns={"population_below": 50_000, "bonus": 500})
    [p] = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no").proposals
    # b1 is worth 6,000 plus 5,000 of coverage, a1 7,500: a1 gives way
    assert [c.request for c in p.dropped] == ["a1"]


def test_the_other_mode_is_offered_when_the_asked_mode_has_no_slot():
    doc = week_of(load_doc("two_towns"))
    doc["travel"]["minutes"]["office"]["town_b"] = 400       # no trip fits the day
    doc["travel"]["minutes"]["town_b"]["office"] = 400
    doc["requests"] = [req("n1", "town_b", duration=60, priority=6)]
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=2)
    assert answer.unscheduled is not None and answer.unscheduled.codes == ("no_time",)
    assert answer.proposals and all(p.mode == "online" and p.mode_changed
                                    for p in answer.proposals)
    p = answer.proposals[0]
    assert p.problem.request_by_id["n1"].mode == "online"
    assert check_plan(full, p.plan)              # invalid for the week as asked: the mode differs
    assert propose_checked(full, plan, "n1", other_mode="no").proposals == ()


def test_also_lists_the_other_mode_after_the_asked_one():
    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_b", duration=60, priority=6))
    full, plan = split(doc, "n1")
    answer = propose_checked(full, plan, "n1", k=1, other_mode="also")
    assert [p.mode for p in answer.proposals] == ["onsite", "online"]
    assert [p.mode_changed for p in answer.proposals] == [False, True]
    assert propose_checked(full, plan, "n1", k=1).proposals[0].mode == "onsite"


def test_a_joint_request_joins_both_experts_days_at_one_start():
    doc = load_doc("joint_visit")
    rid = doc["requests"][-1]["id"]
    full, plan = split(doc, rid)
    answer = propose_checked(full, plan, rid, k=2)
    q = full.request_by_id[rid]
    for p in answer.proposals:
        assert len(p.experts) == len(q.fields)
        v = p.plan.visit_by_request[rid]
        assert v.experts == p.experts and v.start == p.start


def test_a_joint_visit_that_shifts_takes_its_partners_day_along():
    doc = week_of(load_doc("joint_visit"))
    doc["requests"] = [req("j1", "town_a", ["pr", "data"], priority=6),
                       req("d1", "town_a", "data", priority=5),
                       req("d2", "town_a", "data", priority=5),
                       req("n1", "town_a", "pr", priority=4, window=["09:00", "10:00"])]
    full = problem_of(doc)
    without = dataclasses.replace(full, requests=full.requests[:3])
    plan = build_plan(without, [
        Visit("j1", ("pr-1", "data-1"), "town_a", "onsite", MON, t("09:00"), t("10:00")),
        Visit("d1", ("data-1",), "town_a", "onsite", MON, t("10:00"), t("11:00")),
        Visit("d2", ("data-1",), "town_a", "onsite", MON, t("11:00"), t("12:00"))])
    [p] = propose_checked(full, plan, "n1", k=1, other_mode="no").proposals
    assert (p.experts, fmt_time(p.start)) == (("pr-1",), "09:00")
    # j1 gives n1 its hour; data-1's morning is full, so j1 goes after it
    assert [c.request for c in p.moved] == ["j1"]
    assert p.plan.visit_by_request["j1"].start == t("12:00")
    assert p.plan.solver["slot"]["expert_days"] == [["data-1", "2026-12-07"],
                                                    ["pr-1", "2026-12-07"]]


def test_a_proposal_the_checker_rejects_is_withheld_not_offered(monkeypatch):
    import solvers.slots as slots

    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    full, plan = split(doc, "n1")

    def routes_off_by_one(problem, travel, visits):
        return [dataclasses.replace(r, drive_minutes=r.drive_minutes + 1)
                for r in build_routes(problem, travel, visits)]

    monkeypatch.setattr(slots, "build_routes", routes_off_by_one)
    answer = propose_slots(full, plan, "n1", other_mode="no")
    assert answer.proposals == ()
    assert {v.rule for v in answer.withheld} >= {"routes"}


def test_untouched_days_keep_their_routes_and_leg_departures():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["requests"] = [req("a1", "town_a", earliest="2026-12-07", latest="2026-12-07"),
                       req("b1", "town_b", earliest="2026-12-08", latest="2026-12-08"),
                       req("n1", "town_a", priority=6, earliest="2026-12-07",
                           latest="2026-12-07")]
    full, plan = split(doc, "n1")
    [p] = propose_checked(full, plan, "n1", k=1).proposals
    tue = [r for r in plan.routes if r.date == TUE]
    assert [r for r in p.plan.routes if r.date == TUE] == tue
    assert p.plan.solver["slot"]["expert_days"] == [["pr-1", "2026-12-07"]]


def test_a_plan_that_left_the_request_out_is_taken_as_it_is():
    doc = week_of(load_doc("two_towns"))
    doc["experts"][0]["max_visits_per_day"] = 2
    doc["requests"].append(req("n1", "town_a", duration=30, priority=2))
    full = problem_of(doc)
    plan = solve_checked(full)                      # n1 gave way: it is unscheduled
    assert "n1" not in plan.visit_by_request
    answer = propose_checked(full, plan, "n1", k=1, allow_drop=True, other_mode="no")
    [p] = answer.proposals
    assert all(u.request != "n1" for u in p.plan.unscheduled)


def test_a_request_object_not_yet_in_the_week_is_added():
    doc = week_of(load_doc("two_towns"))
    full = problem_of(doc)
    plan = solve_checked(full)
    extra = dataclasses.replace(full.requests[0], id="n9", priority=2)
    answer = propose_slots(full, plan, extra, k=1)
    assert "n9" not in full.request_by_id
    assert answer.problem.request_by_id["n9"] == extra
    assert answer.proposals and not check_plan(answer.problem, answer.proposals[0].plan)


def test_a_chosen_slot_is_checked_again_before_it_is_fixed():
    doc = week_of(load_doc("two_towns"), end="2026-12-08")
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    full, plan = split(doc, "n1")
    best = propose_checked(full, plan, "n1", k=1).proposals[0]
    chosen = Slot(best.experts, best.date, best.start, best.mode)
    [again] = propose_checked(full, plan, "n1", only=chosen).proposals
    assert again.plan == best.plan
    # another start the same day, an hour later, is a different plan but still fits
    later = dataclasses.replace(chosen, start=chosen.start + 60)
    [other] = propose_checked(full, plan, "n1", only=later).proposals
    assert other.start == later.start and other.date == chosen.date
    # a start before the drive from the office could arrive fits nowhere
    assert propose_checked(full, plan, "n1", only=dataclasses.replace(
        chosen, start=t("08:30"))).proposals == ()
    online = dataclasses.replace(chosen, mode="online", start=t("08:30"))
    [p] = propose_checked(full, plan, "n1", only=online).proposals
    assert p.mode == "online" and p.mode_changed


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("case, path", [
    ("unknown request", "request"),
    ("already planned", "plan.visits[0]"),
    ("no usable plan", "plan.status"),
    ("k zero", "k"),
    ("other mode", "other_mode"),
    ("invalid plan", "plan"),
])
def test_bad_input_names_the_field(case, path):
    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    full, plan = split(doc, "n1")
    rid, k, kw = "n1", 3, {}
    if case == "unknown request":
        rid = "zz"
    elif case == "already planned":
        rid = plan.visits[0].request
    elif case == "no usable plan":
        plan = dataclasses.replace(plan, status="error", visits=(), routes=())
    elif case == "k zero":
        k = 0
    elif case == "other mode":
        kw = {"other_mode": "sometimes"}
    else:
        v = plan.visits[0]
        plan = dataclasses.replace(plan, visits=(dataclasses.replace(
            v, start=v.start - 60, end=v.end - 60), *plan.visits[1:]))
    with pytest.raises(InputError) as err:
        propose_slots(full, plan, rid, k, **kw)
    assert err.value.problems[0].path == path


def test_a_request_already_planned_is_named_by_its_visit_not_its_id():
    doc = week_of(load_doc("two_towns"))
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7))
    for q in doc["requests"]:
        q["title"] = {"a1": "広報誌の刷新", "b1": "SNS運用の相談"}.get(q["id"], "")
    full, plan = split(doc, "n1")
    v = plan.visits[0]
    with pytest.raises(InputError) as err:
        propose_slots(full, plan, v.request, 3)
    [p] = err.value.problems
    place, title, prio = {"a1": ("A町", "広報誌の刷新", 5), "b1": ("B町", "SNS運用の相談", 3)}[v.request]
    when = f"{v.date.month}/{v.date.day} {fmt_time(v.start)}–{fmt_time(v.end)}"
    assert p.message == f"the request is already planned: {place} {when}「{title}」 (priority {prio})"
    assert p.message_ja == f"この依頼はすでに計画されています: {place} {when}「{title}」（優先度{prio}）"
    assert err.value.problems[0].message_ja


def test_a_request_id_that_differs_from_the_weeks_is_refused():
    full = problem_of(week_of(load_doc("two_towns")))
    plan = solve_checked(dataclasses.replace(full, requests=full.requests[:1]))
    other = dataclasses.replace(full.requests[1], priority=9)
    with pytest.raises(InputError, match="differs"):
        propose_slots(full, plan, other)
    assert propose_slots(full, plan, full.requests[1]).proposals     # the same one is fine


# ------------------------------------------------------------------ exact, against brute force


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tiny(), st.booleans())
def test_every_feasible_placement_is_found_at_its_best_objective(doc, allow_drop):
    """For every (date, experts) of the new request (the week's last), the proposal's objective
    is the brute force's best over every order and time of the days, with every other visit on
    its date with its experts; a placement the brute force cannot make is never proposed.
    (Without nights away: a proposal leaves the days around a night as they are, and places
    the new visit on day trips.)"""
    for e in doc["experts"]:
        e.pop("overnight", None)
    note(json.dumps(doc))
    full = problem_of(doc)
    new = full.requests[-1]
    without = dataclasses.replace(full, requests=full.requests[:-1])
    plan = solve_checked(without, time_limit=20.0)
    assume(plan.status == "optimal")
    answer = propose_checked(full, plan, new.id, k=20, other_mode="no", allow_drop=allow_drop)
    truth = {key: v for key, v in insertions(full, list(plan.visits), new.id,
                                             allow_drop=allow_drop).items() if v is not None}
    got = {(p.date, frozenset(p.experts)): p.plan.objective
           for p in answer.proposals if not p.alternative}
    note(f"proposals {got}; brute force {truth}")
    event("placements: " + ("none" if not truth else "some"))
    event("a visit moves" if any(p.shifted for p in answer.proposals) else "nothing moves")
    if allow_drop:
        event("a visit dropped" if any(p.dropped for p in answer.proposals) else "none dropped")
    assert got == truth
    values = [p.plan.objective for p in answer.proposals if not p.alternative]
    assert values == sorted(values, reverse=True)            # best first
    assert all(p.objective_change == p.plan.objective - plan.objective
               for p in answer.proposals)
    assert answer.complete
    assert (answer.unscheduled is None) == bool(truth)
    # each proposal's bound is a ceiling over every plan of the week, season goals included
    best = best_plan(full)
    assert best is None or all(p.plan.bound >= best for p in answer.proposals)
