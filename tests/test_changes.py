"""What moved between two plans: the engine function, the plan's ``changes`` and the CLI."""

import datetime as dt

from engine.changes import plan_changes, with_changes
from engine.format import parse_plan, plan_to_dict
from engine.model import Plan, Unscheduled, Visit

D1, D2 = dt.date(2026, 12, 8), dt.date(2026, 12, 9)


def _plan(visits, unscheduled=(), moved=None):
    kpis = {} if moved is None else {"moved": moved}
    return Plan("optimal", 0, 0, 0.0, visits=tuple(visits),
                unscheduled=tuple(Unscheduled(r, ("x",)) for r in unscheduled), kpis=kpis)


def v(rid, day=D1, start=600, experts=("pr-1",), loc="382019", mode="onsite"):
    return Visit(rid, experts, loc, mode, day, start, start + 60)


def test_each_kind_of_change_and_nothing_else():
    before = _plan([v("same"), v("later"), v("other_day"), v("swap"), v("gone"), v("quit")],
                   unscheduled=["new", "still_out"])
    after = _plan([v("same"), v("later", start=660), v("other_day", day=D2),
                   v("swap", experts=("data-1",)), v("new", loc="383562")],
                  unscheduled=["gone", "still_out"])
    got = {c.request: c.kind for c in plan_changes(before, after)}
    assert got == {"later": "moved", "other_day": "moved", "swap": "moved", "gone": "dropped",
                   "quit": "withdrawn", "new": "added"}
    ordered = [c.kind for c in plan_changes(before, after)]
    assert ordered == sorted(ordered, key=["moved", "dropped", "added", "withdrawn"].index)
    new = next(c for c in plan_changes(before, after) if c.request == "new")
    assert new.location == "383562" and new.before is None and new.after.date == D1


def test_moved_and_dropped_count_what_the_planner_counts_as_moved():
    from engine.kpis import plan_kpis
    from tests.helpers import problem_of, solve_checked

    problem = problem_of("two_towns")
    first = solve_checked(problem)
    # last week's first visit at an hour no one works: it must move; the others may stay
    shifted = _plan([v(x.request, day=x.date, start=x.start + (600 if i == 0 else 0),
                       experts=x.experts, loc=x.location, mode=x.mode)
                     for i, x in enumerate(first.visits)])
    second = solve_checked(problem, previous=shifted)
    changes = plan_changes(shifted, second)
    moved = plan_kpis(problem, second, shifted)["moved"]
    assert moved == second.kpis["moved"]
    assert moved >= 1
    assert sum(c.kind in ("moved", "dropped") for c in changes) == moved


def test_changes_round_trip_in_the_plan_document():
    before = _plan([v("a"), v("b")])
    after = with_changes(_plan([v("a", start=700), v("c")], unscheduled=["b"], moved=2), before)
    doc = plan_to_dict(after)
    assert [c["kind"] for c in doc["changes"]] == ["moved", "dropped", "added"]
    assert doc["changes"][0]["before"]["start"] == "10:00"
    assert doc["changes"][0]["after"]["start"] == "11:40"
    assert doc["changes"][1]["after"] is None
    assert parse_plan(doc).changes == after.changes


def test_no_previous_plan_no_changes_key_and_an_empty_list_when_nothing_moved():
    assert "changes" not in plan_to_dict(_plan([v("a")]))
    same = with_changes(_plan([v("a")], moved=0), _plan([v("a")]))
    assert plan_to_dict(same)["changes"] == []
