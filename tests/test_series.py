"""Follow-up series (``requests[].after``, FORMAT.md): read and refused with the path, checked
by the independent checker, and kept by the planner in every formulation — a case where each
part of the rule bites (the gap's least and most days, the same experts, the predecessor left
out, no date left) and one where it does not.

Base instance ``two_towns`` over Monday–Wednesday: one PR expert at the office; a1 at town A
(30 min away), b1 at town B (45 min away), A–B 20 min.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys

import pytest

from engine.checker import assert_valid, check_plan
from engine.errors import InputError
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import Plan, Visit
from engine.travel import TravelTimes
from solvers.parts import Neighbourhood, WindowSplit, solve_by_parts, sub_problem
from solvers.parts.series import keep_series_together
from solvers.planner import SolveOptions, solve_part
from solvers.season import simulate_season
from tests.helpers import (
    FORMULATIONS,
    add_request,
    build_plan,
    codes_of,
    load_doc,
    propose_checked,
    refused_at,
    t,
)
from tests.helpers import solve_checked as _solve_checked

MON, TUE, WED = (dt.date(2026, 12, d) for d in (7, 8, 9))

FORMULATION: dict = {}


@pytest.fixture(params=list(FORMULATIONS))
def formulation(request, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "FORMULATION", FORMULATIONS[request.param])
    return request.param


def solve_checked(doc: dict, **options) -> Plan:
    """Solved in the formulation of the test, valid by the checker and proven optimal."""
    plan = _solve_checked(parse_plan_request(doc), model=FORMULATION, **options)
    assert plan.status == "optimal", plan.status
    return plan


def series(**after) -> dict:
    """``two_towns`` over Monday–Wednesday; a1 on Monday only; b1 follows a1 (``after``)."""
    doc = load_doc("two_towns")
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-09"}
    doc["requests"][0].update(earliest="2026-12-07", latest="2026-12-07")
    doc["requests"][1]["after"] = {"request": "a1", **after}
    return doc


# ------------------------------------------------------------------ reading


def test_after_round_trips_and_defaults():
    doc = series(min_days=2)
    p = parse_plan_request(doc)
    a = p.request_by_id["b1"].after
    assert (a.request, a.min_days, a.max_days, a.same_experts) == ("a1", 2, None, True)
    assert parse_plan_request(plan_request_to_dict(p)) == p
    assert parse_plan_request(series()).request_by_id["b1"].after.min_days == 1
    assert parse_plan_request(load_doc("two_towns")).request_by_id["b1"].after is None


@pytest.mark.parametrize("after, path, words", [
    ({"request": "zz"}, "requests[1].after.request", "unknown request 'zz'"),
    ({"request": "b1"}, "requests[1].after.request", "cannot follow itself"),
    ({"request": "a1", "min_days": 5, "max_days": 3}, "requests[1].after.max_days",
     "must not be less than min_days (5)"),
    ({"request": "a1", "min_days": -1}, "requests[1].after.min_days", "must be >= 1"),
    ({"request": "a1", "min_days": 0}, "requests[1].after.min_days", "must be >= 1"),
    ({"request": "a1", "max_days": -3}, "requests[1].after.max_days", "must be >= 1"),
    ({"request": "a1", "min_days": 1.5}, "requests[1].after.min_days", "whole number"),
    ({"request": "a1", "same_experts": "yes"}, "requests[1].after.same_experts", ""),
    ({"request": "a1", "days": 3}, "requests[1].after.days", "unknown field"),
    ({"min_days": 3}, "requests[1].after.request", "required"),
    ("a1", "requests[1].after", "object"),
])
def test_bad_after_is_refused_with_its_path(after, path, words):
    doc = load_doc("two_towns")
    doc["requests"][1]["after"] = after
    assert words in refused_at(doc, path).message


def test_a_cycle_is_refused_with_its_path():
    """Each request of the cycle named as the reasons name it (place and subject), the path
    carrying the index."""
    doc = load_doc("two_towns")
    add_request(doc, "c1", "town_a", title="広報相談")
    doc["requests"][0]["title"] = "SNS講座"
    doc["requests"][0]["after"] = {"request": "b1"}
    doc["requests"][1]["after"] = {"request": "c1"}
    doc["requests"][2]["after"] = {"request": "a1"}
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    [problem] = err.value.problems
    assert problem.path == "requests[0].after.request"
    assert problem.message == ("a cycle of follow-ups: A町 「SNS講座」 → A町 「広報相談」 → B町 → "
                               "A町 「SNS講座」")
    assert problem.message_ja == "後続依頼が循環しています: A町「SNS講座」 → A町「広報相談」 → B町 → A町「SNS講座」"


def test_same_experts_need_as_many_experts():
    doc = load_doc("two_towns")
    doc["requests"][0]["title"] = "SNS講座"
    doc["requests"][1].update(fields=["pr", "data"], after={"request": "a1"})
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    [problem] = err.value.problems
    assert problem.text() == ("requests[1].after.same_experts: B町 needs 2 experts and "
                              "A町 「SNS講座」, which it follows, 1: the same experts cannot "
                              "make both")
    assert problem.text("ja") == ("requests[1].after.same_experts: B町 は専門家 2 名、前回の "
                                  "A町「SNS講座」 は 1 名のため、同じ専門家では担当できません")
    doc["requests"][1]["after"]["same_experts"] = False
    assert parse_plan_request(doc).request_by_id["b1"].after.same_experts is False


# ------------------------------------------------------------------ the checker


def _checked(doc: dict, visits: list[Visit]) -> set[str]:
    problem = parse_plan_request(doc)
    return {v.rule for v in check_plan(problem, build_plan(problem, visits))}


def _visit(rid: str, day: dt.date, start: str, expert: str = "pr-1") -> Visit:
    loc = {"a1": "town_a", "b1": "town_b"}[rid]
    return Visit(rid, (expert,), loc, "onsite", day, t(start), t(start) + (60 if rid == "a1"
                                                                         else 90))


def test_checker_catches_a_broken_series():
    doc = series(min_days=2)
    assert "follow_up" not in _checked(doc, [_visit("a1", MON, "10:00"),
                                             _visit("b1", WED, "10:00")])
    assert "follow_up" in _checked(doc, [_visit("a1", MON, "10:00"), _visit("b1", TUE, "10:00")])
    doc = series(max_days=1)
    assert "follow_up" in _checked(doc, [_visit("a1", MON, "10:00"), _visit("b1", WED, "10:00")])
    doc = series()
    doc["requests"][1]["earliest"] = "2026-12-07"
    plan_without_first = build_plan(parse_plan_request(doc), [_visit("b1", TUE, "10:00")],
                                    unscheduled=())
    assert "follow_up" in {v.rule for v in check_plan(parse_plan_request(doc),
                                                      plan_without_first)}
    doc["experts"].append({"id": "pr-2", "fields": ["pr"], "base": "office"})
    assert "follow_up" in _checked(doc, [_visit("a1", MON, "10:00"),
                                         _visit("b1", TUE, "10:00", "pr-2")])


# ------------------------------------------------------------------ the planner


def test_least_gap_bites(formulation):
    """b2 at town B only on Tuesday: b1 would share its trip, but b1 comes at least two days
    after a1 (Monday), so on Wednesday, a trip of its own."""
    doc = series(min_days=2)
    add_request(doc, "b2", "town_b", earliest="2026-12-08", latest="2026-12-08")
    plan = solve_checked(doc)
    assert plan.visit_by_request["a1"].date == MON
    assert plan.visit_by_request["b1"].date == WED
    doc["requests"][1]["after"]["min_days"] = 1          # and where it does not bite
    assert solve_checked(doc).visit_by_request["b1"].date == TUE


def test_most_gap_bites(formulation):
    """b2 at town B only on Wednesday: b1 would share its trip, but at most one day after a1."""
    doc = series(max_days=1)
    add_request(doc, "b2", "town_b", earliest="2026-12-09", latest="2026-12-09")
    plan = solve_checked(doc)
    assert plan.visit_by_request["b1"].date == TUE
    del doc["requests"][1]["after"]["max_days"]
    assert solve_checked(doc).visit_by_request["b1"].date == WED


def test_same_experts_bite(formulation):
    """pr-2 lives at town B and would make b1 without driving; the series asks pr-1, who
    made a1."""
    doc = series()
    doc["experts"].append({"id": "pr-2", "fields": ["pr"], "base": "town_b"})
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": "10:00"}
    plan = solve_checked(doc)
    assert plan.visit_by_request["b1"].experts == ("pr-1",)
    doc["requests"][1]["after"]["same_experts"] = False
    assert solve_checked(doc).visit_by_request["b1"].experts == ("pr-2",)


def test_follow_up_of_a_request_left_out(formulation):
    """a1 needs a data expert nobody is: b1, which could be made, waits for it."""
    doc = series()
    doc["requests"][0]["fields"] = ["data"]
    doc["requests"][1]["after"]["same_experts"] = False
    plan = solve_checked(doc)
    assert codes_of(plan, "b1") == ("after_not_served",)
    u = next(u for u in plan.unscheduled if u.request == "b1")
    assert "A町" in u.reasons[0] and "A町" in u.reasons_ja[0]


def test_follow_up_without_a_date_after_its_first(formulation):
    """a1 only on Wednesday, the last date: no date is left after it for b1."""
    doc = series()
    doc["requests"][0].update(earliest="2026-12-09", latest="2026-12-09")
    plan = solve_checked(doc)
    assert plan.visit_by_request["a1"].date == WED
    assert codes_of(plan, "b1") == ("after_no_date",)


def test_published_first_visit_is_followed(formulation):
    """a1 is published on Monday; b1 follows it two days later."""
    doc = series(min_days=2)
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": "09:30"}
    plan = solve_checked(doc)
    assert plan.visit_by_request["b1"].date == WED


def test_without_after_the_plan_is_unchanged():
    doc = series()
    del doc["requests"][1]["after"]
    plain = solve_checked(doc)
    assert dataclasses.replace(plain, solve_seconds=0, solver={}) == dataclasses.replace(
        solve_checked(load_doc("two_towns") | {"horizon": doc["horizon"],
                                              "requests": doc["requests"]}),
        solve_seconds=0, solver={})


# ------------------------------------------------------------------ by parts


def test_a_window_border_does_not_cut_a_series():
    """Day windows: a1 (Monday) and its follow-up b1 (two days later) land in one part, whose
    dates reach Wednesday, so the first plan by parts already serves the series as one model
    does."""
    doc = series(min_days=2)
    problem = parse_plan_request(doc)
    split = WindowSplit(days=1)
    hoods = keep_series_together(problem, split.parts(problem, TravelTimes(problem)))
    assert [sorted(h.requests) for h in hoods] == [["a1", "b1"], [], []]
    assert hoods[0].dates == (MON, WED)
    plan = solve_by_parts(problem, SolveOptions(time_limit=10.0, executor="serial"), split,
                          part_solver=solve_part)
    assert_valid(problem, plan)
    whole = _solve_checked(problem)
    assert plan.solver["first_objective"] == plan.objective == whole.objective
    assert plan.visit_by_request["b1"].date == WED


def test_a_sub_problem_re_decides_a_series_only_whole():
    """A repair on Tuesday–Wednesday holds b1 but not a1 (Monday): b1 stays as it is, a
    published visit of the sub-problem without its link; with Monday too, both are free."""
    problem = parse_plan_request(series(min_days=2))
    visits = [_visit("a1", MON, "10:00"), _visit("b1", WED, "10:00")]
    hood = Neighbourhood("Tue–Wed", frozenset({"pr-1"}), frozenset({"b1"}), (TUE, WED))
    sub = sub_problem(problem, hood, visits)
    b1 = sub.request_by_id["b1"]
    assert b1.fixed is not None and b1.after is None
    whole = Neighbourhood("Mon–Wed", frozenset({"pr-1"}), frozenset({"a1", "b1"}), (MON, WED))
    sub = sub_problem(problem, whole, visits)
    assert sub.request_by_id["b1"].fixed is None and sub.request_by_id["b1"].after.request == "a1"


# ------------------------------------------------------------------ a visit of an earlier plan


def earlier(**after) -> dict:
    """b1 follows a session made on Friday 2026-12-04 (an earlier week's plan) by pr-1; pr-2
    lives at town B."""
    doc = load_doc("two_towns")
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-09"}
    doc["experts"].append({"id": "pr-2", "fields": ["pr"], "base": "town_b"})
    doc["requests"][1]["after"] = {"request": "w48-b1", "visit": {"date": "2026-12-04",
                                                                  "experts": ["pr-1"]}, **after}
    return doc


def test_an_earlier_visit_is_read_written_and_refused_with_its_path():
    p = parse_plan_request(earlier(min_days=4))
    a = p.request_by_id["b1"].after
    assert (a.date, a.experts) == (dt.date(2026, 12, 4), ("pr-1",))
    assert parse_plan_request(plan_request_to_dict(p)) == p
    for change, path in [({"request": "a1"}, "requests[1].after.visit"),
                         ({"visit": {"date": "2026-12-07", "experts": ["pr-1"]}},
                          "requests[1].after.visit.date"),
                         ({"visit": {"date": "2026-12-04", "experts": ["zz"]}},
                          "requests[1].after.visit.experts[0]"),
                         ({"visit": {"date": "2026-12-04", "experts": ["pr-1", "pr-2"]}},
                          "requests[1].after.same_experts")]:
        doc = earlier()
        doc["requests"][1]["after"].update(change)
        with pytest.raises(InputError) as err:
            parse_plan_request(doc)
        assert path in [q.path for q in err.value.problems], change


def test_an_earlier_visit_is_refused_naming_the_requests_as_the_reasons_do():
    doc = earlier(request="a1")
    doc["requests"][0]["title"] = "SNS講座"
    doc["requests"][1]["after"]["visit"]["experts"] = ["pr-1", "pr-2"]
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    said = {p.path: (p.message, p.message_ja) for p in err.value.problems}
    assert said["requests[1].after.visit"] == (
        "A町 「SNS講座」 is a request of this document: its visit is planned here, give no visit",
        "A町「SNS講座」 はこの文書の依頼です（visit は不要です）")
    assert said["requests[1].after.same_experts"] == (
        "B町 needs 1 expert and the visit it follows had 2: the same experts cannot make both",
        "B町 は専門家 1 名、前回の訪問は 2 名のため、同じ専門家では担当できません")


def test_a_follow_up_of_an_earlier_visit_keeps_the_gap_and_its_expert(formulation):
    """Four days after Friday is Tuesday at the earliest; pr-2 (no driving) may not make it,
    pr-1 may; without the same experts pr-2 does. One to two days after Friday is the
    weekend: no date is left."""
    plan = solve_checked(earlier(min_days=4))
    v = plan.visit_by_request["b1"]
    assert v.date >= TUE and v.experts == ("pr-1",)
    plan = solve_checked(earlier(min_days=3, same_experts=False))
    assert plan.visit_by_request["b1"].experts == ("pr-2",)
    doc = earlier(min_days=1, max_days=2)
    plan = solve_checked(doc)
    assert codes_of(plan, "b1") == ("after_no_date",)
    assert "12/4" in next(u for u in plan.unscheduled if u.request == "b1").reasons_ja[0]


# ------------------------------------------------------------------ slots and re-plans


def test_slot_proposals_for_a_follow_up_keep_its_series():
    """b1 phones in after the week was planned with a1 on Monday: every proposal is two days
    or more after a1, by a1's expert (pr-2, at town B, would cost no driving)."""
    doc = series(min_days=2)
    doc["experts"].append({"id": "pr-2", "fields": ["pr"], "base": "town_b"})
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": "10:00"}
    problem = parse_plan_request(doc)
    without = dataclasses.replace(problem, requests=problem.requests[:1])
    plan = _solve_checked(without)
    answer = propose_checked(problem, plan, "b1", k=3)
    assert answer.proposals
    assert all(p.date == WED and p.experts == ("pr-1",) for p in answer.proposals)


def test_a_re_plan_moves_a_follow_up_with_the_visit_it_follows(formulation):
    """Planned with a1 on Monday and b1 on Tuesday; then a1 may come only on Tuesday: with
    the previous plan, b1 moves to Wednesday rather than break the gap (at least one day)."""
    doc = series()
    doc["requests"][1].update(earliest="2026-12-08", latest="2026-12-08")
    first = solve_checked(doc)
    assert first.visit_by_request["b1"].date == TUE
    doc["requests"][0].update(earliest="2026-12-08", latest="2026-12-08")
    doc["requests"][1].update(latest="2026-12-09")
    again = solve_checked(doc, previous=first)
    a1, b1 = again.visit_by_request["a1"], again.visit_by_request["b1"]
    assert a1.date == TUE and b1.date == WED


# ------------------------------------------------------------------ the season


def test_a_season_week_by_week_serves_a_follow_up_in_a_later_week():
    """a1 in the first week, b1 at least seven days later in the second, by the same expert:
    the second week gets a1's visit of the first as the session b1 follows."""
    doc = load_doc("two_towns")
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-18"}
    doc["requests"][0].update(earliest="2026-12-07", latest="2026-12-08")
    doc["requests"][1].update(earliest="2026-12-14", latest="2026-12-18",
                              after={"request": "a1", "min_days": 8})
    problem = parse_plan_request(doc)
    sim = simulate_season(problem, time_limit=5.0)
    assert_valid(problem, sim.plan)
    a1, b1 = sim.plan.visit_by_request["a1"], sim.plan.visit_by_request["b1"]
    assert (b1.date - a1.date).days >= 8 and b1.experts == a1.experts


@pytest.mark.slow
def test_the_example_week_with_three_second_sessions_is_proven_and_keeps_its_series():
    """``examples/series-week.json``: the demo week and three second sessions, planned to a
    proof, each served after its first session within its gap (by the checker's rule)."""
    problem = parse_plan_request(load_example("series-week"))
    plan = _solve_checked(problem, time_limit=120.0)
    assert plan.status == "optimal"
    for rid in ("s001", "s021", "s032"):
        v, a = plan.visit_by_request[rid], problem.request_by_id[rid].after
        first = plan.visit_by_request[a.request]
        assert a.allows((v.date - first.date).days)
        assert not a.same_experts or set(v.experts) == set(first.experts)


def load_example(name: str) -> dict:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))
