"""The planner's ``optimal`` is a claim a test can prove wrong: on tiny random instances it is
compared with an independent brute force (``tests/bruteforce.py``, no code shared with the
model). Whenever the planner says ``optimal`` its objective is the brute-force optimum; every
bound it reports is at least that optimum; it says ``infeasible`` exactly when no plan keeps
every fixed visit, and then releases the fewest.

The instances cover what makes the day hard: joint visits, request windows, online
consultations between and around drives, every cap, fixed visits, two dates, two experts, and
travel matrices that break the triangle inequality.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from engine.format import parse_plan_request
from engine.model import fmt_time
from tests.bruteforce import best_plan, fewest_released
from tests.helpers import FORMULATIONS, problem_of, solve_checked

FIELDS = ("pr", "data")
#: Two consecutive workdays: within one month, or across a month's end (for monthly caps).
DATE_PAIRS = (("2026-12-07", "2026-12-08"), ("2026-11-30", "2026-12-01"))


@st.composite
def tiny(draw: Any) -> dict[str, Any]:
    """≤ 6 requests, 1–2 experts, 1–2 dates, 2–3 places, any travel matrix, sometimes the
    season goals (coverage floors, small-town bonus) and monthly on-site caps."""
    dates = draw(st.sampled_from(DATE_PAIRS))
    n_loc = draw(st.integers(2, 3))
    locs = [f"L{i}" for i in range(n_loc)]
    locations = []
    for lid in locs:
        loc: dict[str, Any] = {"id": lid, "name": lid,
                               "open": fmt_time(draw(st.sampled_from([480, 540]))),
                               "close": fmt_time(draw(st.sampled_from([900, 1080])))}
        if draw(st.integers(0, 3)) == 0:
            loc["max_visits_per_day"] = draw(st.integers(1, 2))
        loc["population"] = draw(st.sampled_from([3_000, 30_000, 120_000]))
        locations.append(loc)
    travel = {a: {b: draw(st.integers(5, 150)) for b in locs if b != a} for a in locs}
    experts = []
    n_exp = draw(st.integers(1, 2))
    for i in range(n_exp):
        ws = draw(st.sampled_from([480, 510, 540]))
        e: dict[str, Any] = {"id": f"e{i}", "base": draw(st.sampled_from(locs)),
                             "fields": [FIELDS[i]] if n_exp == 2 and draw(st.booleans())
                             else list(FIELDS),
                             "work_start": fmt_time(ws),
                             "work_end": fmt_time(ws + draw(st.sampled_from([360, 480, 570])))}
        if draw(st.integers(0, 2)) == 0:
            e["max_visits_per_day"] = draw(st.integers(1, 2))
        if draw(st.integers(0, 3)) == 0:
            e["max_visits_total"] = draw(st.integers(1, 3))
        if draw(st.integers(0, 3)) == 0:
            e["max_drive_minutes_per_day"] = draw(st.integers(60, 300))
        if draw(st.integers(0, 3)) == 0:
            e["max_onsite_days"] = 1
        if draw(st.integers(0, 3)) == 0:
            e["max_onsite_days_per_month"] = 1
        experts.append(e)
    n_days = draw(st.integers(1, 2))
    requests = []
    n_req = draw(st.integers(2, 6))
    for i in range(n_req):
        joint = n_exp == 2 and draw(st.integers(0, 3)) == 0
        mode = draw(st.sampled_from(["onsite", "onsite", "online", "online", "onsite"]))
        dur = draw(st.sampled_from([30, 60, 90, 120]))
        q: dict[str, Any] = {"id": f"r{i}", "location": draw(st.sampled_from(locs)),
                             "fields": list(FIELDS) if joint else
                             [draw(st.sampled_from(FIELDS))],
                             "mode": mode, "duration_min": dur,
                             "priority": draw(st.integers(1, 10))}
        lo = draw(st.integers(0, n_days - 1))
        q["earliest"], q["latest"] = dates[lo], dates[draw(st.integers(lo, n_days - 1))]
        if draw(st.booleans()):
            ws = draw(st.sampled_from([540, 600, 630, 720, 780]))
            q["window"] = [fmt_time(ws), fmt_time(ws + dur + draw(st.sampled_from([0, 30, 120])))]
        if draw(st.integers(0, 9)) == 0:
            who = [e["id"] for e in experts if any(f in e["fields"] for f in q["fields"])]
            if len(who) >= len(q["fields"]):
                q["fixed"] = {"experts": who[:len(q["fields"])], "date": q["earliest"],
                              "start": fmt_time(draw(st.sampled_from([540, 600, 630, 720])))}
        requests.append(q)
    obj = {"priority": 1000, "drive_minute": draw(st.sampled_from([1, 3])),
           "onsite_day": draw(st.sampled_from([0, 0, 50]))}
    doc = {"format": "plan-request/1",
           "horizon": {"start": dates[0], "end": dates[n_days - 1]},
           "locations": locations, "experts": experts, "requests": requests,
           "travel": {"minutes": travel}, "objective": obj}
    goals: dict[str, Any] = {}
    if draw(st.integers(0, 2)) == 0:
        goals["coverage"] = {"min_visits": draw(st.integers(0, 2)),
                             "penalty": draw(st.sampled_from([500, 3000, 20000])),
                             "modes": draw(st.sampled_from([["onsite", "online"], ["onsite"]])),
                             "locations": {draw(st.sampled_from(locs)): draw(st.integers(0, 2))}}
    if draw(st.integers(0, 2)) == 0:
        goals["small_towns"] = {"population_below": 50_000,
                                "bonus": draw(st.sampled_from([100, 2000]))}
    if goals:
        doc["goals"] = goals
    return doc


def compare(doc: dict[str, Any], formulation: str = "tours") -> None:
    note(json.dumps(doc))
    problem = parse_plan_request(doc)
    plan = solve_checked(problem, time_limit=20.0,        # valid by the independent checker
                         model=FORMULATIONS[formulation])
    truth = best_plan(problem)
    note(f"planner {plan.status} {plan.objective} bound {plan.bound}; brute force {truth}")
    if truth is None:
        assert plan.status == "infeasible"
        released, value = fewest_released(problem)
        if plan.solver.get("released_fewest"):
            assert len(plan.solver["released_fixed"]) == released
            if plan.objective == plan.bound:
                assert plan.objective == value
        return
    assert plan.status in ("optimal", "feasible")
    assert plan.bound is not None and plan.bound >= truth
    assert plan.objective is not None and plan.objective <= truth
    if plan.status == "optimal":
        assert plan.objective == truth


# The default formulation in the default lane; the others (a minute together) in the slow lane.
@pytest.mark.parametrize("formulation", [
    pytest.param(f, marks=() if f == "tours" else pytest.mark.slow) for f in FORMULATIONS])
@settings(max_examples=250, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=tiny())
def test_optimal_means_no_plan_is_better(formulation, doc):
    compare(doc, formulation)


@pytest.mark.parametrize("name, objective", [
    ("call_before_far_visit", 9760),     # the smallest case: wait, call, then visit
    ("two_towns", 1000 * 8 - 95),
    ("joint_visit", None),
    ("island", None),
])
def test_named_instances_agree_with_the_brute_force(name, objective):
    problem = problem_of(name)
    plan = solve_checked(problem)
    truth = best_plan(problem)
    assert plan.status == "optimal" and plan.objective == truth
    if objective is not None:
        assert truth == objective
