"""Events and the repair: every kind bites, every repaired plan is valid for the week after the
event, the past never moves, and the fewest changes equal an independent brute force
(``tests/repair_bruteforce.py``) whenever the repair says they are proven."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import replace
from typing import Any

import pytest

from engine.checker import assert_valid, check_plan
from engine.errors import InputError
from engine.events import apply_event, event_to_dict, parse_event
from engine.format import parse_plan, parse_plan_request, plan_request_to_dict, plan_to_dict
from engine.model import Plan, PlanRequest, Visit
from engine.travel import TravelTimes
from service.cli import main
from solvers.planner import SolveOptions, solve
from solvers.repair import CHANGE_WEIGHTS, RepairOptions, change_kind, repair
from tests.conftest import build_plan, t
from tests.repair_bruteforce import fewest_changes

MON, TUE = "2026-12-07", "2026-12-08"


def week_doc() -> dict[str, Any]:
    """Two experts with the same field, three towns, Monday and Tuesday, five requests (two
    only on Tuesday, one only on Monday)."""
    return {
        "horizon": {"start": MON, "end": TUE},
        "locations": [{"id": "A", "name": "Atown", "open": "08:30", "close": "17:15"},
                      {"id": "B", "name": "Bcity", "open": "08:30", "close": "17:15"},
                      {"id": "C", "name": "Cvillage", "open": "08:30", "close": "17:15"}],
        "experts": [{"id": "e1", "name": "Ena", "fields": ["pr"], "base": "A"},
                    {"id": "e2", "name": "Eto", "fields": ["pr"], "base": "B"}],
        "requests": [
            {"id": f"r{i}", "location": loc, "fields": ["pr"], "mode": "onsite",
             "duration_min": 90, "priority": prio, "title": f"subject {i}",
             **({"earliest": TUE} if i >= 3 else {"latest": MON} if i == 0 else {})}
            for i, (loc, prio) in enumerate([("A", 5), ("B", 6), ("C", 7), ("A", 4), ("C", 3)])],
        "travel": {"minutes": {"A": {"B": 30, "C": 45}, "B": {"A": 30, "C": 40},
                               "C": {"A": 45, "B": 40}}},
    }


@pytest.fixture(scope="module")
def week() -> PlanRequest:
    return parse_plan_request(week_doc())


@pytest.fixture(scope="module")
def plan(week: PlanRequest) -> Plan:
    return solve(week, SolveOptions(time_limit=10))


def _repaired(week: PlanRequest, plan: Plan, doc: dict[str, Any]) -> Any:
    fixed = repair(week, plan, parse_event(doc, week), RepairOptions(time_limit=10))
    assert_valid(fixed.after.week, fixed.plan)
    # the past never moves: every visit that had started by now is kept exactly
    now = fixed.after.event.now
    after = {v.request: v for v in fixed.plan.visits}
    for v in fixed.after.previous.visits:
        if (v.date, v.start) < (now.date(), now.hour * 60 + now.minute) \
                and v.request in fixed.after.week.request_by_id:
            assert after[v.request] == v, f"history {v.request} moved"
    # the event block counts what the changes say
    e = fixed.plan.event
    assert e is not None and e["kind"] == doc["kind"]
    moved = [c for c in fixed.plan.changes if c.kind in ("moved", "dropped")]
    assert e["visits_moved"] == len(moved)
    assert e["change_weight"] == sum(CHANGE_WEIGHTS[k] * n for k, n in e["changed"].items())
    # and the plan survives its own format
    again = parse_plan(json.loads(json.dumps(plan_to_dict(fixed.plan))))
    assert again.event == json.loads(json.dumps(e))
    return fixed


def _on(plan: Plan, rid: str) -> Visit:
    return next(v for v in plan.visits if v.request == rid)


def _first_of(plan: Plan, day: str) -> Visit:
    return min((v for v in plan.visits if v.date.isoformat() == day), key=lambda v: v.start)


def _at(day: str, minute: int) -> str:
    return f"{day}T{minute // 60:02d}:{minute % 60:02d}"


# ------------------------------------------------------------------------------ each kind bites

def test_expert_unavailable_moves_their_visits_off_the_days_they_are_out(week, plan):
    busy = _first_of(plan, MON).experts[0]
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": busy,
           "from": f"{MON}T07:00", "until": f"{TUE}T23:00"}
    fixed = _repaired(week, plan, doc)
    assert not any(busy in v.experts for v in fixed.plan.visits)
    assert fixed.plan.event["visits_moved"] > 0


def test_expert_unavailable_part_of_a_day_keeps_only_what_does_not_overlap(week, plan):
    v = _first_of(plan, TUE)
    eid = v.experts[0]
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": eid,
           "from": _at(TUE, v.start), "until": _at(TUE, v.end)}
    fixed = _repaired(week, plan, doc)
    for w in fixed.plan.visits:
        if eid in w.experts and w.date.isoformat() == TUE:
            assert w.end <= v.start or w.start >= v.end
    assert any(b.start is not None for b in fixed.after.week.horizon.blackouts)


def test_expert_unavailable_with_nothing_planned_changes_nothing(week, plan):
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": "e1",
           "from": f"{TUE}T18:00", "until": f"{TUE}T23:00"}
    fixed = _repaired(week, plan, doc)
    assert fixed.plan.changes == ()
    assert fixed.plan.event["fewest_proven"] is True


def test_visit_overrun_lengthens_the_visit_under_way_and_what_follows_gives_way(week, plan):
    v = _first_of(plan, MON)
    doc = {"kind": "visit_overrun", "now": _at(MON, v.start + 30), "request": v.request,
           "minutes": 60}
    fixed = _repaired(week, plan, doc)
    assert _on(fixed.plan, v.request).end == v.end + 60
    assert _on(fixed.plan, v.request).start == v.start


def test_visit_overrun_of_a_visit_not_started_is_refused_with_its_field(week, plan):
    v = _first_of(plan, TUE)
    doc = {"kind": "visit_overrun", "now": f"{MON}T07:00", "request": v.request, "minutes": 30}
    with pytest.raises(InputError) as err:
        repair(week, plan, parse_event(doc, week))
    assert err.value.problems[0].path == "request"


def test_a_refused_event_names_the_visit_and_the_expert_as_the_reasons_do(week, plan):
    """The request by its place and subject, the expert by name, the date as 12/8; the path
    (``request``, ``minutes``) names the event's field."""
    v = _first_of(plan, TUE)
    q = week.request_by_id[v.request]
    place = week.location_by_id[q.location].name
    when = f"12/8 {v.start // 60:02d}:{v.start % 60:02d}"
    doc = {"kind": "no_show", "now": f"{MON}T07:00", "request": v.request}
    with pytest.raises(InputError) as err:
        repair(week, plan, parse_event(doc, week))
    [p] = err.value.problems
    assert p.text() == f"request: {place} 「{q.title}」 has not started by now ({when})"
    assert p.text("ja") == f"request: {place}「{q.title}」 はまだ始まっていません（{when}）"
    last = max((w for w in plan.visits if w.date.isoformat() == TUE), key=lambda w: w.end)
    e = week.expert_by_id[last.experts[0]]
    doc = {"kind": "visit_overrun", "now": _at(TUE, last.start + 10), "request": last.request,
           "minutes": t("17:00") - last.end}
    with pytest.raises(InputError) as err:
        repair(week, plan, parse_event(doc, week))
    [p] = err.value.problems
    ql = week.request_by_id[last.request]
    named = f"{week.location_by_id[ql.location].name}「{ql.title}」"
    assert p.text("ja").startswith(f"minutes: {named} の終了が 17:00 となり、{e.name} の帰着が ")
    assert last.request not in p.text() and e.id not in p.text("ja")


def test_visit_overrun_that_keeps_the_expert_out_past_the_end_of_work_is_refused(week, plan):
    # the last visit of an expert's day away from home: ending at 17:00 still fits the town
    # hall's hours, but the drive home would end after work; no plan could keep that history
    v = max((w for w in plan.visits if w.date.isoformat() == TUE), key=lambda w: w.end)
    e = week.expert_by_id[v.experts[0]]
    assert v.location != e.base
    doc = {"kind": "visit_overrun", "now": _at(TUE, v.start + 10), "request": v.request,
           "minutes": t("17:00") - v.end}
    with pytest.raises(InputError) as err:
        repair(week, plan, parse_event(doc, week))
    assert err.value.problems[0].path == "minutes"
    assert "after the end of work" in err.value.problems[0].message
    # a shorter overrun that still gets the expert home in time is repaired
    home = e.work_end - TravelTimes(week).minutes(v.location, e.base)
    _repaired(week, plan, {**doc, "minutes": home - v.end})


def test_urgent_request_is_placed_by_its_date_bumping_a_lower_priority(week, plan):
    doc = {"kind": "urgent_request", "now": f"{MON}T07:00", "by": MON,
           "request": {"id": "u1", "location": "C", "fields": ["pr"], "mode": "onsite",
                       "duration_min": 120, "priority": 1}}
    fixed = _repaired(week, plan, doc)
    u = _on(fixed.plan, "u1")
    assert u.date.isoformat() == MON
    assert fixed.plan.event["urgent_placed"] is True
    assert any(c.kind == "added" and c.request == "u1" for c in fixed.plan.changes)


def test_cancelled_withdraws_the_visit(week, plan):
    v = _first_of(plan, TUE)
    doc = {"kind": "cancelled", "now": f"{MON}T07:00", "request": v.request,
           "by": "municipality"}
    fixed = _repaired(week, plan, doc)
    assert v.request not in {w.request for w in fixed.plan.visits}
    assert [c.kind for c in fixed.plan.changes if c.request == v.request] == ["withdrawn"]
    assert fixed.plan.event["visits_moved"] == 0 or fixed.plan.event["priority_lost"] == 0


def test_no_show_ends_the_visit_now(week, plan):
    v = _first_of(plan, MON)
    doc = {"kind": "no_show", "now": _at(MON, v.start + 15), "request": v.request}
    fixed = _repaired(week, plan, doc)
    assert _on(fixed.plan, v.request).end == v.start + 15
    assert v.request in fixed.plan.event["pinned"]


def test_location_closed_keeps_every_consultation_out_of_the_closed_hours(week, plan):
    v = _first_of(plan, TUE)
    doc = {"kind": "location_closed", "now": f"{MON}T07:00", "location": v.location,
           "date": TUE, "from": "08:00", "until": "17:30"}
    fixed = _repaired(week, plan, doc)
    assert not any(w.location == v.location and w.date.isoformat() == TUE
                   for w in fixed.plan.visits)


def test_a_visit_being_driven_to_stays(week, plan):
    # a visit whose leg in is a real drive: a minute before it starts the expert is on the road
    driven = []
    for rt in plan.routes:
        stops = sorted((w for w in plan.visits if rt.expert in w.experts and w.date == rt.date),
                       key=lambda w: w.start)
        driven += [w for w, leaves in zip(stops, rt.departures, strict=False)
                   if leaves < w.start - 1]
    v = max(driven, key=lambda w: (w.date, w.start))
    day = v.date.isoformat()
    doc = {"kind": "expert_unavailable", "now": _at(day, v.start - 1), "expert": v.experts[0],
           "from": _at(day, v.start - 1), "until": f"{TUE}T23:00"}
    fixed = _repaired(week, plan, doc)
    assert _on(fixed.plan, v.request) == v
    assert v.request in fixed.plan.event["pinned"]


# ------------------------------------------------------------------------------ reading events

@pytest.mark.parametrize(("doc", "path", "en", "ja"), [
    ({"kind": "location_closed", "now": f"{MON}T09:00", "location": "A", "date": "2027-01-01",
      "from": "09:00", "until": "12:00"}, "date", "1/1 is outside the week 12/7 – 12/8",
     "1/1 は計画期間 12/7 – 12/8 の外です"),
    ({"kind": "no_show", "now": "2026-12-20T09:00", "request": "r0"}, "now",
     "12/20 is outside the week 12/7 – 12/8", "12/20 は計画期間 12/7 – 12/8 の外です"),
    ({"kind": "urgent_request", "now": f"{MON}T09:00", "by": "2026-12-10",
      "request": {"id": "u", "location": "A", "fields": ["pr"], "mode": "onsite",
                  "duration_min": 60, "priority": 5}}, "by",
     "12/10 is outside the week 12/7 – 12/8", "12/10 は計画期間 12/7 – 12/8 の外です"),
])
def test_an_events_dates_read_as_month_and_day_in_both_languages(week, doc, path, en, ja):
    with pytest.raises(InputError) as err:
        parse_event(doc, week)
    [p] = [p for p in err.value.problems if p.path == path]
    assert (p.text(), p.text("ja")) == (f"{path}: {en}", f"{path}: {ja}")


@pytest.mark.parametrize(("doc", "path"), [
    ({"kind": "flood", "now": f"{MON}T09:00"}, "kind"),
    ({"kind": "no_show", "now": "tomorrow", "request": "r0"}, "now"),
    ({"kind": "no_show", "now": f"{MON}T09:00", "request": "zz"}, "request"),
    ({"kind": "no_show", "now": f"{MON}T09:00", "request": "r0", "minutes": 3}, "minutes"),
    ({"kind": "visit_overrun", "now": f"{MON}T09:00", "request": "r0", "minutes": 0}, "minutes"),
    ({"kind": "cancelled", "now": f"{MON}T09:00", "request": "r0", "by": "mayor"}, "by"),
    ({"kind": "expert_unavailable", "now": f"{MON}T09:00", "expert": "nobody",
      "from": f"{MON}T09:00", "until": f"{MON}T12:00"}, "expert"),
    ({"kind": "expert_unavailable", "now": f"{MON}T09:00", "expert": "Ena",
      "from": f"{MON}T12:00", "until": f"{MON}T09:00"}, "until"),
    ({"kind": "location_closed", "now": f"{MON}T09:00", "location": "Nowhere", "date": MON,
      "from": "09:00", "until": "12:00"}, "location"),
    ({"kind": "location_closed", "now": f"{MON}T09:00", "location": "A", "date": "2027-01-01",
      "from": "09:00", "until": "12:00"}, "date"),
    ({"kind": "location_closed", "now": f"{MON}T09:00", "location": "A", "date": MON,
      "from": "9am", "until": "12:00"}, "from"),
    ({"kind": "urgent_request", "now": f"{MON}T09:00", "by": TUE,
      "request": {"id": "u", "location": "A", "fields": ["pr"], "mode": "onsite",
                  "duration_min": -5, "priority": 5}}, "request.duration_min"),
    ({"kind": "urgent_request", "now": f"{MON}T09:00", "by": TUE,
      "request": {"id": "r0", "location": "A", "fields": ["pr"], "mode": "onsite",
                  "duration_min": 60, "priority": 5}}, "request.id"),
    ({"kind": "urgent_request", "now": f"{MON}T09:00", "by": "2027-01-01",
      "request": {"id": "u", "location": "A", "fields": ["pr"], "mode": "onsite",
                  "duration_min": 60, "priority": 5}}, "by"),
])
def test_a_bad_event_names_its_field(week, doc, path):
    with pytest.raises(InputError) as err:
        parse_event(doc, week)
    assert path in [p.path for p in err.value.problems]
    assert all(p.message_ja for p in err.value.problems)


def test_names_are_read_as_in_a_plan_request(week):
    ev = parse_event({"kind": "expert_unavailable", "now": f"{MON}T09:00", "expert": "Ena",
                      "from": f"{MON}T09:00", "until": f"{MON}T12:00"}, week)
    assert ev.expert == "e1"
    again = parse_event(event_to_dict(ev), week)
    assert again == ev


def test_the_week_after_the_event_survives_its_format(week, plan):
    v = _first_of(plan, MON)
    ev = parse_event({"kind": "location_closed", "now": _at(MON, v.start + 5), "location": "C",
                      "date": TUE, "from": "12:00", "until": "15:00"}, week)
    after = apply_event(week, plan, ev)
    doc = plan_request_to_dict(after.week)
    again = parse_plan_request(json.loads(json.dumps(doc)))
    assert again.horizon == after.week.horizon
    assert {q.id: q.fixed for q in again.requests} == {q.id: q.fixed for q in after.week.requests}


# ------------------------------------------------------------------------------ the rules alone

def test_checker_catches_a_consultation_in_closed_hours_and_a_new_visit_in_the_past():
    doc = week_doc()
    doc["horizon"]["closures"] = [{"location": "A", "date": MON, "from": "10:00",
                                   "until": "12:00"}]
    doc["horizon"]["history_until"] = f"{MON}T11:00"
    p = parse_plan_request(doc)
    inside = build_plan(p, [Visit("r0", ("e1",), "A", "onsite", dt.date(2026, 12, 7),
                                  t("10:30"), t("12:00"))])
    rules = {v.rule for v in check_plan(p, inside)}
    assert {"closed_hours", "history"} <= rules
    later = build_plan(p, [Visit("r0", ("e1",), "A", "onsite", dt.date(2026, 12, 8),
                                 t("10:30"), t("12:00"))])
    rules = {v.rule for v in check_plan(p, later)}
    assert not {"closed_hours", "history"} & rules


@pytest.mark.parametrize("closed", [("08:30", "17:15"), ("12:00", "13:00")])
def test_planner_keeps_visits_out_of_a_closure(closed):
    doc = week_doc()
    doc["horizon"]["end"] = MON
    doc["requests"] = [{"id": "x", "location": "C", "fields": ["pr"], "mode": "onsite",
                        "duration_min": 180, "priority": 5}]
    doc["horizon"]["closures"] = [{"location": "C", "date": MON, "from": closed[0],
                                   "until": closed[1]}]
    p = parse_plan_request(doc)
    plan = solve(p, SolveOptions(time_limit=5))
    assert_valid(p, plan)
    if closed == ("08:30", "17:15"):
        assert plan.visits == ()            # bites: closed all day
    else:
        (v,) = plan.visits                  # three hours fit only after the lunch closure
        assert v.start >= t("13:00")


def test_planner_places_nothing_new_before_history_until_and_drives_after_it():
    doc = week_doc()
    doc["horizon"]["end"] = MON
    doc["requests"] = [{"id": "x", "location": "C", "fields": ["pr"], "mode": "onsite",
                        "duration_min": 60, "priority": 5}]
    doc["horizon"]["history_until"] = f"{MON}T10:00"
    p = parse_plan_request(doc)
    plan = solve(p, SolveOptions(time_limit=5))
    assert_valid(p, plan)
    (v,) = plan.visits
    base = p.expert_by_id[v.experts[0]].base
    assert v.start >= t("10:00") + (45 if base == "A" else 40)
    doc["horizon"]["history_until"] = f"{MON}T17:00"
    late = parse_plan_request(doc)
    plan = solve(late, SolveOptions(time_limit=5))
    assert plan.visits == ()
    assert plan.unscheduled[0].codes == ("past_period",)


# ------------------------------------------------------------------------------ fewest, proven

def _random_week(rng: random.Random) -> dict[str, Any]:
    locs = ["A", "B", "C"]
    n_exp = rng.choice([1, 2])
    doc: dict[str, Any] = {
        "horizon": {"start": MON, "end": rng.choice([MON, TUE])},
        "locations": [{"id": x, "name": x, "open": "08:30", "close": "17:15"} for x in locs],
        "experts": [{"id": f"e{i}", "fields": ["pr"], "base": rng.choice(locs),
                     "work_start": "08:30", "work_end": rng.choice(["15:00", "17:15"]),
                     **({"max_visits_per_day": 2} if rng.random() < 0.3 else {})}
                    for i in range(n_exp)],
        "requests": [],
        "travel": {"minutes": {a: {b: rng.randint(10, 90) for b in locs if b != a}
                               for a in locs}},
    }
    for i in range(rng.randint(2, 5)):
        q: dict[str, Any] = {"id": f"r{i}", "location": rng.choice(locs), "fields": ["pr"],
                             "mode": "onsite", "duration_min": rng.choice([45, 60, 90, 120]),
                             "priority": rng.randint(1, 10)}
        if rng.random() < 0.3:
            q["window"] = rng.choice([["08:30", "12:30"], ["12:00", "17:15"]])
        doc["requests"].append(q)
    return doc


def _random_event(rng: random.Random, week: PlanRequest, plan: Plan) -> dict[str, Any] | None:
    dates = week.horizon.dates
    day = rng.choice(dates).isoformat()
    now = _at(day, rng.choice(range(t("08:00"), t("16:00"), 15)))
    kind = rng.choice(["expert_unavailable", "visit_overrun", "urgent_request", "cancelled",
                       "no_show", "location_closed"])
    started = [v for v in plan.visits if (v.date.isoformat(), v.start) < (now[:10], t(now[11:]))]
    later = [v for v in plan.visits if (v.date.isoformat(), v.start) > (now[:10], t(now[11:]))]
    if kind == "expert_unavailable":
        a = rng.choice(range(t("08:00"), t("16:00"), 30))
        return {"kind": kind, "now": now, "expert": rng.choice(week.experts).id,
                "from": _at(day, a), "until": _at(rng.choice(dates).isoformat(), a + 120)
                if rng.random() < 0.5 else _at(day, a + rng.choice([60, 120, 240]))}
    if kind in ("visit_overrun", "no_show"):
        if not started:
            return None
        v = max(started, key=lambda v: (v.date, v.start))
        return {"kind": kind, "now": now, "request": v.request,
                **({"minutes": rng.choice([15, 30, 60])} if kind == "visit_overrun" else {})}
    if kind == "cancelled":
        return None if not later else {"kind": kind, "now": now, "by": "municipality",
                                       "request": rng.choice(later).request}
    if kind == "urgent_request":
        return {"kind": kind, "now": now, "by": dates[-1].isoformat(),
                "request": {"id": "u", "location": rng.choice(["A", "B", "C"]),
                            "fields": ["pr"], "mode": "onsite",
                            "duration_min": rng.choice([60, 90]), "priority": rng.randint(1, 10)}}
    a = rng.choice(range(t("08:30"), t("15:00"), 30))
    return {"kind": kind, "now": now, "location": rng.choice(["A", "B", "C"]), "date": day,
            "from": _at(day, a)[11:], "until": _at(day, a + rng.choice([60, 180, 480]))[11:]
            if a + 480 < 24 * 60 else "23:00"}


def test_fewest_changes_equal_an_independent_brute_force():
    rng = random.Random(23)
    compared = kinds = 0
    seen: set[str] = set()
    for _ in range(60):
        doc = _random_week(rng)
        week = parse_plan_request(doc)
        plan = solve(week, SolveOptions(time_limit=5))
        ev_doc = _random_event(rng, week, plan)
        if ev_doc is None:
            continue
        try:
            ev = parse_event(ev_doc, week)
            fixed = repair(week, plan, ev, RepairOptions(time_limit=5))
        except InputError:
            continue        # e.g. an overrun past closing time: refused, not repaired
        assert_valid(fixed.after.week, fixed.plan)
        seen.add(ev.kind)
        e = fixed.plan.event
        assert e is not None
        if not e["fewest_proven"]:
            continue
        reference = fewest_changes(fixed.after.week, fixed.after.previous, fixed.after.urgent)
        assert reference is not None, ev_doc
        total = sum(q.priority for q in fixed.after.week.requests)
        served = sum(q.priority + (total if q.id == fixed.after.urgent else 0)
                     for q in fixed.after.week.requests if q.id in fixed.plan.visit_by_request)
        assert (served, e["change_weight"]) == reference, ev_doc
        compared += 1
        kinds += 1
    assert compared >= 30
    assert seen == {"expert_unavailable", "visit_overrun", "urgent_request", "cancelled",
                    "no_show", "location_closed"}


def test_change_kind_takes_the_largest_change():
    v = Visit("r", ("e1",), "A", "onsite", dt.date(2026, 12, 7), 600, 660)
    assert change_kind(v, v) is None
    assert change_kind(v, Visit("r", ("e1",), "A", "onsite", v.date, 630, 690)) == "time"
    assert change_kind(v, Visit("r", ("e1",), "A", "onsite", dt.date(2026, 12, 8), 600,
                                660)) == "date"
    assert change_kind(v, Visit("r", ("e2",), "A", "onsite", dt.date(2026, 12, 8), 630,
                                690)) == "experts"
    assert change_kind(v, None) == "dropped"


# ------------------------------------------------------------------------------ calendars

def _events(ics: bytes) -> tuple[str | None, dict[str, Any]]:
    from icalendar import Calendar

    cal = Calendar.from_ical(ics)
    method = str(cal.get("method")) if cal.get("method") else None
    return method, {str(e.get("uid")): e for e in cal.walk("VEVENT")}


def test_calendars_update_in_place_and_send_cancellations(week, plan):
    from engine.ical import calendar_update, uid

    busy = _first_of(plan, TUE).experts[0]
    first = {e.id: calendar_update(week, plan, e.id, (), {}) for e in week.experts}
    for e in week.experts:
        method, evs = _events(first[e.id][0])
        assert method == "PUBLISH" and first[e.id][1] is None
        assert set(evs) == {uid(v.request, e.id) for v in plan.visits if e.id in v.experts}
        assert all(int(x.get("sequence")) == 0 for x in evs.values())
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": busy,
           "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}
    fixed = _repaired(week, plan, doc)
    assert fixed.plan.changes
    # the busy expert's Tuesday visits go to the other expert or are dropped: cancellations
    assert calendar_update(fixed.after.week, fixed.plan, busy, fixed.plan.changes,
                           first[busy][2])[1] is not None
    for e in week.experts:
        full, cancel, seq = calendar_update(fixed.after.week, fixed.plan, e.id,
                                            fixed.plan.changes, first[e.id][2])
        _, evs = _events(full)
        for c in fixed.plan.changes:
            key = uid(c.request, e.id)
            was = c.before is not None and e.id in c.before.experts
            now = c.after is not None and e.id in c.after.experts
            if was and now:
                assert int(evs[key].get("sequence")) == 1      # moved: the same UID, +1
            if now and not was:
                assert key in evs
            if was and not now:
                assert key not in evs
                assert cancel is not None
                method, gone = _events(cancel)
                assert method == "CANCEL" and str(gone[key].get("status")) == "CANCELLED"
                assert int(gone[key].get("sequence")) == 1
        unchanged = {uid(v.request, e.id) for v in fixed.plan.visits if e.id in v.experts} - {
            uid(c.request, e.id) for c in fixed.plan.changes}
        assert all(int(evs[k].get("sequence")) == 0 for k in unchanged)
        if not any(c.before and e.id in c.before.experts and not (c.after and e.id in
                   c.after.experts) for c in fixed.plan.changes):
            assert cancel is None
        # a second change of the same event goes one higher again
        again, _, _ = calendar_update(fixed.after.week, fixed.plan, e.id, fixed.plan.changes,
                                      seq)
        _, evs2 = _events(again)
        for c in fixed.plan.changes:
            if c.after is not None and e.id in c.after.experts and c.before is not None \
                    and e.id in c.before.experts:
                assert int(evs2[uid(c.request, e.id)].get("sequence")) == 2


# ------------------------------------------------------------------- when the model cannot repair

def _history_before_opening(plan: Plan) -> tuple[Plan, Visit]:
    """The plan with its first Monday visit edited to have started at 07:00, before the town
    hall opens: a history no plan of the rules can keep (a plan written by hand, or a week
    whose opening hours changed after the plan was made)."""
    v = _first_of(plan, MON)
    early = replace(v, start=t("07:00"), end=t("07:00") + v.end - v.start)
    return replace(plan, visits=tuple(early if w == v else w for w in plan.visits)), early


def test_a_repair_the_model_cannot_make_says_so_and_keeps_the_history(week, plan):
    edited, early = _history_before_opening(plan)
    doc = {"kind": "expert_unavailable", "now": f"{MON}T12:00", "expert": "e2",
           "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}
    fixed = repair(week, edited, parse_event(doc, week), RepairOptions(time_limit=10))
    p = fixed.plan
    # not a quiet quick plan passed off as a repair: the status and the block say what it is
    assert p.status == "infeasible"
    assert p.solver.first_plan == "greedy"
    fb = p.event["fallback"]
    assert fb["code"] == "infeasible"
    assert early.request in fb["requests"]
    assert early.request in fb["message"] and "history" in fb["message"]
    assert early.request in fb["message_ja"] and "現在より前" in fb["message_ja"]
    assert p.messages == (fb["message"],) and p.messages_ja == (fb["message_ja"],)
    assert p.event["priority_proven"] is False and p.event["fewest_proven"] is False
    # the history stays as it happened, and nothing new breaks a rule around it
    assert _on(p, early.request) == early
    for x in check_plan(fixed.after.week, p):
        assert x.request == early.request or (x.expert, x.date) == (early.experts[0],
                                                                  early.date), x
    assert not any("e2" in x.experts and x.date.isoformat() == TUE for x in p.visits)
    again = parse_plan(json.loads(json.dumps(plan_to_dict(p))))
    assert again.event == json.loads(json.dumps(p.event)) and again.status == "infeasible"


def test_a_repair_out_of_time_says_it_is_the_quick_plan(week, plan):
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": "e2",
           "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}
    fixed = repair(week, plan, parse_event(doc, week), RepairOptions(time_limit=1e-6))
    p = fixed.plan
    assert_valid(fixed.after.week, p)
    assert p.status == "feasible" and p.solver.first_plan == "greedy"
    fb = p.event["fallback"]
    assert fb["code"] == "no_time" and fb["requests"] == []
    assert "not minimised" in fb["message"] and "最少" in fb["message_ja"]
    assert p.messages == (fb["message"],)


def test_a_repair_the_model_made_has_no_fallback(week, plan):
    doc = {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": "e2",
           "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}
    p = _repaired(week, plan, doc).plan
    assert "fallback" not in p.event and p.messages == () and p.solver.first_plan is None


def test_cli_prints_the_fallback_in_the_readers_language(tmp_path, week, plan, capsys):
    from service.cli import main

    edited, early = _history_before_opening(plan)
    (tmp_path / "week.json").write_text(json.dumps(plan_request_to_dict(week)))
    (tmp_path / "plan.json").write_text(json.dumps(plan_to_dict(edited)))
    (tmp_path / "ev.json").write_text(json.dumps(
        {"kind": "no_show", "now": f"{MON}T12:00", "request": early.request}))
    args = [str(tmp_path / "week.json"), str(tmp_path / "plan.json"), "--event",
            str(tmp_path / "ev.json"), "--out"]
    assert main(["--lang", "en", "event", *args, str(tmp_path / "en.json")]) == 0
    out = capsys.readouterr().out
    assert "no repair keeps the history" in out and early.request in out
    assert main(["--lang", "ja", "event", *args, str(tmp_path / "ja.json")]) == 0
    out = capsys.readouterr().out
    assert "現在より前" in out and early.request in out

# ------------------------------------------------------------------------------ the command line

def test_cli_repairs_chains_events_and_updates_calendars(tmp_path, week, plan, capsys):
    from engine.format import load_plan, load_plan_request
    from engine.ical import calendar_sequences
    from service.cli import main

    (tmp_path / "week.json").write_text(json.dumps(plan_request_to_dict(week)))
    (tmp_path / "plan.json").write_text(json.dumps(plan_to_dict(plan)))
    assert main(["--lang", "en", "event", str(tmp_path / "week.json"),
                 str(tmp_path / "plan.json"), "--event", str(tmp_path / "nothing.json")]) == 2
    assert "nothing.json" in capsys.readouterr().err
    v = _first_of(plan, TUE)
    (tmp_path / "ev1.json").write_text(json.dumps(
        {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": v.experts[0],
         "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}))
    ics = tmp_path / "ics"
    assert main(["--lang", "en", "event", str(tmp_path / "week.json"),
                 str(tmp_path / "plan.json"), "--event", str(tmp_path / "ev1.json"),
                 "--out", str(tmp_path / "plan2.json"), "--out-week",
                 str(tmp_path / "week2.json"), "--ics", str(ics)]) == 0
    out = capsys.readouterr().out
    assert "is unavailable from" in out and "fewest changes proven" in out
    week2, plan2 = load_plan_request(tmp_path / "week2.json"), load_plan(tmp_path / "plan2.json")
    assert_valid(week2, plan2)
    name = week.expert_by_id[v.experts[0]].name
    assert (ics / f"{name} (cancelled).ics").exists()
    # a second event starts from the two files the first one wrote
    w = _first_of(plan2, TUE)
    (tmp_path / "ev2.json").write_text(json.dumps(
        {"kind": "location_closed", "now": f"{MON}T12:00", "location": w.location,
         "date": TUE, "from": "08:00", "until": "23:00"}))
    before = {p.name: calendar_sequences(p.read_bytes()) for p in ics.glob("E??.ics")}
    assert main(["event", str(tmp_path / "week2.json"), str(tmp_path / "plan2.json"),
                 "--event", str(tmp_path / "ev2.json"), "--out", str(tmp_path / "plan3.json"),
                 "--out-week", str(tmp_path / "week3.json"), "--ics", str(ics)]) == 0
    plan3 = load_plan(tmp_path / "plan3.json")
    assert_valid(load_plan_request(tmp_path / "week3.json"), plan3)
    assert not any(x.location == w.location and x.date.isoformat() == TUE
                   for x in plan3.visits)
    after = {p.name: calendar_sequences(p.read_bytes()) for p in ics.glob("E??.ics")}
    changed = {c.request for c in plan3.changes}
    for name, seqs in after.items():
        for key, n in seqs.items():
            old = before[name].get(key)
            if key.split("/")[0] in changed and old is not None:
                assert n == old + 1
            elif old is not None:
                assert n == old


def _event_files(tmp_path, week, plan):
    (tmp_path / "week.json").write_text(json.dumps(plan_request_to_dict(week)))
    (tmp_path / "plan.json").write_text(json.dumps(plan_to_dict(plan)))
    v = _first_of(plan, TUE)
    (tmp_path / "ev.json").write_text(json.dumps(
        {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": v.experts[0],
         "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}))
    return [str(tmp_path / "week.json"), str(tmp_path / "plan.json"), "--event",
            str(tmp_path / "ev.json")]


@pytest.mark.parametrize(("lang", "said"), [
    ("en", "plan.visits: requests not in the week: {place} Tue 12/8 {time} (request {id})"),
    ("ja", "plan.visits: 週にない依頼があります: {place} 12/8（火） {time}（依頼 {id}）")])
def test_cli_event_names_the_visits_the_week_does_not_have(tmp_path, week, plan, capsys,
                                                           lang, said):
    """A plan of another week, or a week a request was taken out of: the coordinator reads
    where and when the stray visit is, as the reports write a visit, the id last."""
    argv = _event_files(tmp_path, week, plan)
    v = _first_of(plan, TUE)
    doc = plan_request_to_dict(week)
    doc["requests"] = [q for q in doc["requests"] if q["id"] != v.request]
    (tmp_path / "week.json").write_text(json.dumps(doc))
    assert main(["--lang", lang, "event", *argv, "--out", str(tmp_path / "p2.json")]) == 2
    err = capsys.readouterr().err.strip()
    loc = week.location_by_id[v.location]
    assert said.format(place=loc.name if lang == "ja" else loc.label, id=v.request,
                       time=f"{v.start // 60:02d}:{v.start % 60:02d}") in err, err
    assert "2026-12-08" not in err and not (tmp_path / "p2.json").exists()


def test_cli_event_without_out_never_replaces_an_earlier_repair(tmp_path, week, plan,
                                                                monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = _event_files(tmp_path, week, plan)
    (tmp_path / "plan-repaired.json").write_text("last event's", encoding="utf-8")
    assert main(["event", *argv]) == 0
    assert main(["event", *argv]) == 0
    written = sorted(p.name for p in tmp_path.glob("plan-repaired-*.json"))
    assert len(written) == 2
    assert (tmp_path / "plan-repaired.json").read_text(encoding="utf-8") == "last event's"
    assert written[-1] in capsys.readouterr().out


@pytest.mark.parametrize("option, target, force_helps", [
    ("--out", "mine.json", True), ("--out-week", "mine.json", True),
    ("--out", "plan.json", False), ("--out-week", "week.json", False),
    ("--out", "ev.json", False), ("--ics", "mine.json", False), ("--out", "folder", False)])
def test_cli_event_checks_its_outputs_before_repairing(tmp_path, week, plan, monkeypatch,
                                                       capsys, option, target, force_helps):
    import solvers.repair

    argv = _event_files(tmp_path, week, plan)
    (tmp_path / "mine.json").write_text("mine", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    out = [] if option == "--out" else ["--out", str(tmp_path / "new.json")]
    with monkeypatch.context() as m:
        m.setattr(solvers.repair, "repair", lambda *a, **k: pytest.fail("repaired first"))
        assert main(["event", *argv, *out, option, str(tmp_path / target)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and option in err[0] and target in err[0], err
        if not force_helps:
            assert main(["event", *argv, *out, option, str(tmp_path / target),
                         "--force"]) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == before
    if force_helps:
        assert main(["event", *argv, *out, option, str(tmp_path / target), "--force"]) == 0
        assert (tmp_path / target).read_bytes() != b"mine"


def test_cli_event_refuses_one_file_for_two_outputs(tmp_path, week, plan, capsys, monkeypatch):
    import solvers.repair

    argv = _event_files(tmp_path, week, plan)
    monkeypatch.setattr(solvers.repair, "repair", lambda *a, **k: pytest.fail("repaired first"))
    same = str(tmp_path / "after.json")
    assert main(["event", *argv, "--out", same, "--out-week", same]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out-week" in err[0] and "--out" in err[0], err


@pytest.mark.parametrize("doc, ja, en", [
    ({"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": "Ena",
      "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"},
     "■ 出来事（12/7（月） 07:00）: Enaが 12/8（火） 07:00 から 12/8（火） 23:00 まで対応できなくなった",
     "■ Event (Mon 12/7 07:00): Ena is unavailable from Tue 12/8 07:00 until Tue 12/8 23:00"),
    ({"kind": "location_closed", "now": f"{MON}T07:00", "location": "C", "date": TUE,
      "from": "08:00", "until": "12:00", "reason": "停電"},
     "■ 出来事（12/7（月） 07:00）: Cvillageが 12/8（火） 08:00–12:00 に閉庁となる（停電）",
     "■ Event (Mon 12/7 07:00): Cvillage is closed on Tue 12/8 from 08:00 to 12:00 (停電)"),
    ({"kind": "cancelled", "now": f"{MON}T07:00", "request": "r4", "by": "municipality"},
     "■ 出来事（12/7（月） 07:00）: Cvillageが「subject 4」を取り消した",
     "■ Event (Mon 12/7 07:00): Cvillage cancelled “subject 4”"),
])
def test_cli_event_says_what_happened_in_words(tmp_path, week, plan, capsys, doc, ja, en):
    """The event's heading named its kind's key and ISO times (``expert_unavailable at
    2026-12-07T07:00``)."""
    argv = _event_files(tmp_path, week, plan)
    (tmp_path / "ev.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["event", *argv, "--out", str(tmp_path / "ja.json")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == ja
    assert main(["--lang", "en", "event", *argv, "--out", str(tmp_path / "en.json")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == en


def test_a_week_after_an_event_replans_with_its_previous_plan():
    # CP-SAT's presolve failed inside the solve (IndexError) on this model: the planner
    # solves it again without presolve, and the plan is valid
    from engine.demand import ehime_week

    week = ehime_week("2026-12-07", seed=0)
    plan = solve(week, SolveOptions(time_limit=60))
    doc = {"kind": "expert_unavailable", "now": "2026-12-07T12:00", "expert": "design-1",
           "from": "2026-12-07T12:00", "until": "2026-12-07T20:00"}
    after = apply_event(week, plan, parse_event(doc, week))
    again = solve(after.week, SolveOptions(time_limit=30, previous=after.previous))
    assert again.status in ("optimal", "feasible")
    assert_valid(after.week, again)


# ----------------------------------------------------------------------------- nights away

@pytest.mark.parametrize("time_limit", [10, 1e-6])
def test_a_night_that_has_passed_stays_where_it_was_spent(time_limit):
    """The 南予 round: Monday at 宇和島 and a night there, Tuesday at 愛南 (the night pays at
    1000). Tuesday 07:00 愛南 cancels: a day trip on Monday would now be cheaper, but the
    expert slept in 宇和島 — the repair (the model, or the quick plan when it has no time)
    keeps Monday's night and drives Tuesday home from there. Cancelled on Monday 07:00, before
    the night, the repair drops the night."""
    from tests.test_overnight import UWAJIMA, nanyo_round

    week = parse_plan_request(nanyo_round(1000))
    plan = solve(week, SolveOptions(time_limit=10))
    assert [(r.date.isoformat(), r.end_at) for r in plan.routes] == [(MON, UWAJIMA), (TUE, None)]
    cancel = {"kind": "cancelled", "request": "r2", "by": "municipality"}
    mon = dt.date.fromisoformat(MON)
    for now, passed in ((f"{MON}T12:00", {}), (f"{MON}T20:00", {("e1", mon): UWAJIMA}),
                        (f"{TUE}T07:00", {("e1", mon): UWAJIMA})):
        assert apply_event(week, plan, parse_event({**cancel, "now": now}, week)).nights == passed
    fixed = repair(week, plan, parse_event({**cancel, "now": f"{TUE}T07:00"}, week),
                   RepairOptions(time_limit=time_limit))
    assert_valid(fixed.after.week, fixed.plan)
    assert ("fallback" in fixed.plan.event) == (time_limit < 1)
    assert [(r.date.isoformat(), r.start_at, r.stops, r.end_at, r.drive_minutes)
            for r in fixed.plan.routes] == [(MON, None, (UWAJIMA,), UWAJIMA, 88),
                                            (TUE, UWAJIMA, (), None, 88)]
    assert fixed.plan.kpis["nights"] == 1
    early = repair(week, plan, parse_event({**cancel, "now": f"{MON}T07:00"}, week),
                   RepairOptions(time_limit=time_limit))
    assert_valid(early.after.week, early.plan)
    assert [(r.date.isoformat(), r.end_at, r.drive_minutes) for r in early.plan.routes] == [
        (MON, None, 176)]


@pytest.mark.parametrize("time_limit", [10, 1e-6])
def test_the_day_after_a_night_that_has_passed_starts_where_it_was_spent(time_limit):
    """Tuesday 07:00 宇和島 asks for an hour between 08:30 and 09:30: out of reach from the
    base (88 min from 08:30), in reach from the night in 宇和島 — for the model and for the
    quick plan alike — and 愛南 is still made after it."""
    from tests.test_overnight import UWAJIMA, nanyo_round

    week = parse_plan_request(nanyo_round(1000))
    plan = solve(week, SolveOptions(time_limit=10))
    doc = {"kind": "urgent_request", "now": f"{TUE}T07:00", "by": TUE,
           "request": {"id": "u1", "location": UWAJIMA, "fields": ["pr"], "mode": "onsite",
                       "duration_min": 60, "priority": 1, "window": ["08:30", "09:30"]}}
    fixed = repair(week, plan, parse_event(doc, week), RepairOptions(time_limit=time_limit))
    assert_valid(fixed.after.week, fixed.plan)
    assert {v.request for v in fixed.plan.visits} == {"r1", "r2", "u1"}
    assert _on(fixed.plan, "u1").start == t("08:30")
    tuesday = next(r for r in fixed.plan.routes if r.date.isoformat() == TUE)
    assert tuesday.start_at == UWAJIMA and tuesday.leave == t("08:30")


@pytest.mark.parametrize("time_limit", [10, 0.001])
def test_a_week_after_an_event_planned_again_keeps_the_nights_spent(time_limit):
    """The week after Tuesday 07:00's cancellation, planned again with its previous plan (as
    ``dxshare plan week2.json --previous plan2.json`` does) rather than repaired: the night in
    宇和島 has been spent all the same, by the search and by the quick first plan alike."""
    from tests.test_overnight import UWAJIMA, nanyo_round

    week = parse_plan_request(nanyo_round(1000))
    plan = solve(week, SolveOptions(time_limit=10))
    doc = {"kind": "cancelled", "now": f"{TUE}T07:00", "request": "r2", "by": "municipality"}
    after = apply_event(week, plan, parse_event(doc, week))
    again = solve(after.week, SolveOptions(time_limit=time_limit, previous=after.previous))
    assert_valid(after.week, again)
    assert (again.solver.first_plan == "greedy") == (time_limit < 1)
    assert [(r.date.isoformat(), r.start_at, r.end_at) for r in again.routes] == [
        (MON, None, UWAJIMA), (TUE, UWAJIMA, None)]
