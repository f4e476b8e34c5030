"""Invariants of the planner on random small instances (hypothesis).

2–4 locations with a random travel matrix, 1–3 experts with random fields, hours and caps,
1–8 requests (some joint, some online, random durations, windows and dates), at most one fixed
visit, sometimes follow-ups (``after``). Whatever the instance, the plan is valid by the
independent checker, accounts for every request exactly once, and keeps the fixed visit
unless its status is infeasible. Weeks where every expert lunches beside a standing
appointment that starts with the lunch window hold the planner's and the greedy first plan's
breaks to the checker's rule that no lunch falls in an appointment.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from engine.checker import check_plan
from engine.format import parse_plan_request
from engine.model import Plan, fmt_time
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.greedy import greedy_visits
from solvers.routes import build_routes, plan_breaks
from tests.helpers import draw_busy, draw_overtime, draw_series, on_grid, rules, solve_checked, t

FIELDS = ("pr", "data", "design")
DATES = ("2026-12-07", "2026-12-08", "2026-12-09")          # Mon–Wed
CAPS = ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day", "max_onsite_days")


@st.composite
def instances(draw: Any, fixed: bool = False) -> dict[str, Any]:
    """A random small plan-request/1 document; with ``fixed``, one request is a published visit
    (random experts, date and start: often impossible, which is the point)."""
    n_loc = draw(st.integers(2, 4))
    locs = [f"L{i}" for i in range(n_loc)]
    locations = []
    for lid in locs:
        open_ = draw(st.sampled_from([480, 510, 540]))
        close = draw(st.sampled_from([960, 1035, 1080]))
        loc: dict[str, Any] = {"id": lid, "name": lid, "open": fmt_time(open_),
                               "close": fmt_time(close)}
        if draw(st.booleans()) and draw(st.booleans()):
            loc["max_visits_per_day"] = draw(st.integers(0, 3))
        locations.append(loc)
    travel = {a: {b: draw(st.integers(5, 90)) for b in locs if b != a} for a in locs}
    experts = []
    for i in range(draw(st.integers(1, 3))):
        ws = draw(st.sampled_from([480, 510, 540, 600]))
        we = ws + draw(st.sampled_from([240, 360, 480, 525]))
        e: dict[str, Any] = {
            "id": f"e{i}", "base": draw(st.sampled_from(locs)),
            "fields": sorted(draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=2))),
            "work_start": fmt_time(ws), "work_end": fmt_time(min(we, 1439))}
        for cap in CAPS:
            if draw(st.integers(0, 3)) == 0:
                e[cap] = draw(st.integers(0, 3)) if cap != "max_drive_minutes_per_day" else \
                    draw(st.integers(0, 240))
        if draw(st.integers(0, 4)) == 0:
            e["days"] = sorted(draw(st.sets(st.sampled_from(DATES), min_size=1)))
        experts.append(e)
    requests = []
    n_req = draw(st.integers(1, 8))
    fixed_at = draw(st.integers(0, n_req - 1)) if fixed else None
    for i in range(n_req):
        fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True))
        mode = draw(st.sampled_from(["onsite", "onsite", "online"]))
        dur = draw(st.sampled_from([30, 45, 60, 90, 120]))
        q: dict[str, Any] = {"id": f"r{i}", "location": draw(st.sampled_from(locs)),
                             "fields": fields, "mode": mode, "duration_min": dur,
                             "priority": draw(st.integers(1, 10))}
        lo = draw(st.integers(0, 2))
        hi = draw(st.integers(lo, 2))
        q["earliest"], q["latest"] = DATES[lo], DATES[hi]
        if draw(st.integers(0, 3)) == 0:
            ws = draw(st.sampled_from([510, 600, 780]))
            q["window"] = [fmt_time(ws), fmt_time(ws + dur + draw(st.sampled_from([0, 60, 180])))]
        if i == fixed_at:
            if len(experts) < len(fields):
                fields[1:] = []
                q["fields"] = fields
            who = draw(st.lists(st.sampled_from([e["id"] for e in experts]), min_size=len(fields),
                                max_size=len(fields), unique=True))
            if who:
                q["fixed"] = {"experts": who, "date": draw(st.sampled_from(DATES)),
                              "start": fmt_time(draw(st.sampled_from([540, 600, 690, 840])))}
        requests.append(q)
    blackouts = []
    if draw(st.integers(0, 3)) == 0:
        blackouts.append({"date": draw(st.sampled_from(DATES)),
                          "experts": [draw(st.sampled_from(["*", *(e["id"] for e in experts)]))]})
    if draw(st.integers(0, 2)) == 0:           # a town hall's lunch hour (locations[].closed)
        draw(st.sampled_from(locations))["closed"] = [["12:00", "13:00"]]
    for e in experts:                          # lunch (experts[].lunch), in working hours
        if draw(st.integers(0, 2)) == 0:
            ws = int(e["work_start"][:2]) * 60 + int(e["work_start"][3:])
            e["lunch"] = {"minutes": 45, "window": [fmt_time(ws + 120), fmt_time(ws + 240)]}
    draw_series(draw, requests)
    draw_busy(draw, experts, DATES, travel)
    draw_overtime(draw, experts)
    doc = {"format": "plan-request/1",
           "horizon": {"start": DATES[0], "end": DATES[-1], "blackouts": blackouts},
           "locations": locations, "experts": experts, "requests": requests,
           "travel": {"minutes": travel}}
    on_grid(doc, draw(st.sampled_from([1, 1, 5, 15, 30])))
    if draw(st.integers(0, 2)) == 0:           # due dates, each day late paid
        doc["objective"] = {"late_day": draw(st.sampled_from([100, 2500, 30000]))}
        for q in requests:
            if draw(st.booleans()):
                q["due"] = draw(st.sampled_from(DATES))
    return doc


@st.composite
def lunch_weeks(draw: Any) -> dict[str, Any]:
    """``instances()`` where every expert lunches (45 min in a two-hour window from two hours
    after work starts) and has a standing appointment from that window's start or a quarter
    later, on one of the dates: the earliest break of the window falls in it, so every plan's
    break must be placed around it."""
    doc = draw(instances())
    for e in doc["experts"]:
        lo = t(e["work_start"]) + 120
        e["lunch"] = {"minutes": 45, "window": [fmt_time(lo), fmt_time(lo + 120)]}
        start = lo + draw(st.sampled_from([0, 15]))
        e["busy"] = [{"date": draw(st.sampled_from(DATES)), "start": fmt_time(start),
                      "end": fmt_time(start + draw(st.sampled_from([30, 60])))}]
    return doc


SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def check_invariants(doc: dict[str, Any]) -> None:
    note(json.dumps(doc))
    problem = parse_plan_request(doc)
    plan = solve_checked(problem, time_limit=5.0)       # asserts validity by the checker
    assert plan.status in ("optimal", "feasible", "infeasible")
    seen = Counter([v.request for v in plan.visits] + [u.request for u in plan.unscheduled])
    assert seen == Counter(q.id for q in problem.requests)
    assert all(u.reasons and u.codes for u in plan.unscheduled)
    released = set(plan.solver.get("released_fixed", ()))
    for q in problem.requests:
        if q.fixed is None or q.id in released:
            continue
        v = plan.visit_by_request[q.id]
        assert (v.date, v.start, set(v.experts)) == (q.fixed.date, q.fixed.start,
                                                      set(q.fixed.experts))
    if plan.status == "infeasible":
        # the fewest published visits are released, each named with the clash
        assert released and released <= set(plan.solver["conflicting_fixed"])
        assert all(q.fixed is not None for q in problem.requests if q.id in released)
        assert all(codes == ("fixed_conflict",) for u in plan.unscheduled
                   if u.request in released for codes in [u.codes])
    else:
        assert not released


@SETTINGS
@given(instances())
def test_every_plan_is_valid_and_accounts_for_every_request(doc):
    check_invariants(doc)


@SETTINGS
@given(instances(fixed=True))
def test_fixed_visit_is_kept_or_the_plan_is_infeasible(doc):
    check_invariants(doc)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.data())
def test_checker_catches_tampering_with_a_solved_plan(doc, data):
    """Breaking a valid plan in a way that always breaks a rule is always caught."""
    note(json.dumps(doc))
    problem = parse_plan_request(doc)
    plan = solve_checked(problem, time_limit=5.0)
    assume(plan.visits)
    i = data.draw(st.integers(0, len(plan.visits) - 1))
    v = plan.visits[i]
    others = plan.visits[:i] + plan.visits[i + 1:]
    longer = dataclasses.replace(v, end=v.end + 5)
    assert "duration" in rules(problem, dataclasses.replace(plan, visits=(*others, longer)))
    assert "accounted_once" in rules(problem, dataclasses.replace(plan, visits=others))
    assert "objective" in rules(problem, dataclasses.replace(plan, objective=plan.objective + 1))
    if plan.routes:
        r = plan.routes[0]
        more = dataclasses.replace(r, drive_minutes=r.drive_minutes + 1)
        tampered = dataclasses.replace(plan, routes=(more, *plan.routes[1:]))
        assert "routes" in rules(problem, tampered)


@SETTINGS
@given(lunch_weeks())
def test_no_lunch_falls_in_a_standing_appointment(doc):
    """The planner's plan is valid (the checker names a break in an appointment), and so is
    the greedy first plan's day: its breaks keep out of every appointment."""
    check_invariants(doc)
    problem = parse_plan_request(doc)
    tt = TravelTimes(problem)
    ex = Explainer(problem, tt)
    visits = greedy_visits(problem, tt, ex.options)
    routes = tuple(build_routes(problem, tt, visits))
    plan = Plan("feasible", None, None, 0.0, tuple(visits), routes,
                tuple(ex.explain_unscheduled({v.request for v in visits}, visits, routes)),
                breaks=plan_breaks(problem, tt, visits))
    assert [v for v in check_plan(problem, plan)
            if v.rule not in ("objective", "bound", "kpis")] == []
