"""The time limit is a promise at any shape: one expert with many online calls in a week, calls
with windows and dates beside visits, a season of requests open from its first day to its
last (with nights away too), a thousand calls in one week. Each shape is solved in a process of its own (its peak
memory is then its own) and must answer within the limit plus 10 %, every stage included
(first plan, model, search, reasons), with a valid plan that accounts for every request and
a reason for each one left out, in at most 400 MB.

The shapes come from ``engine.demand.busy_expert_document``; the speed of each against the
Ehime week is measured in ``benchmarks/bench_limits.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.bench_limits import SHAPES, solve_shape

#: The limit the shapes are solved with (seconds), and what the promise allows over it.
LIMIT = 2.0
SLACK = 1.10
PEAK_MB = 400


def _solve(limit: float, **shape: Any) -> dict[str, Any]:
    return solve_shape(shape, limit)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_an_answer_within_the_limit_at_any_shape(shape: dict[str, Any]) -> None:
    got = _solve(LIMIT, **shape)
    assert got["wall"] <= SLACK * LIMIT, got
    assert got["peak_mb"] <= PEAK_MB, got
    assert got["status"] in ("optimal", "feasible"), got
    assert got["violations"] == [], got
    assert got["accounted"] and got["reasons"], got
    # one expert, five 08:30-17:15 days: at most 17 half-hour calls a day fit; and some do
    # (a season with nights away once answered in time with none)
    assert 0 < got["visits"] <= 17 * 5 * shape.get("weeks", 1), got


def test_forty_calls_are_proven_optimal_well_within_a_second() -> None:
    got = _solve(10.0, calls=40)
    assert got["status"] == "optimal" and got["visits"] == 40, got
    assert got["wall"] <= 1.0, got


@pytest.mark.slow
def test_two_hundred_calls_are_proven_optimal_with_every_slot_used() -> None:
    """85 half-hour slots in the week (17 a day): the optimum serves 85 calls, proven."""
    got = _solve(20.0, calls=200)
    assert got["status"] == "optimal" and got["visits"] == 85, got
    assert set(got["codes"]) <= {"gave_way", "expert_day_taken"}, got


def test_alike_calls_are_weighed_against_a_days_tours_once(monkeypatch) -> None:
    """A day of a thousand calls and hundreds of tours (nights anywhere, an appointment at a
    place): the calls alike (window, length, closed hours) clash with the same tours, so each
    kind is weighed against each tour once. Once per call, the model took 0.5 s to build and
    a 1 s limit was answered in 1.4 s."""
    from engine.demand import busy_expert_document
    from engine.format import parse_plan_request
    from engine.travel import TravelTimes
    from solvers.day_starts import Reach
    from solvers.model import PlannerModel

    problem = parse_plan_request(busy_expert_document(1000, rules=True, nights=True))
    weighed = 0
    fits = Reach.call_fits

    def counted(self, call):  # type: ignore[no-untyped-def]
        nonlocal weighed
        weighed += 1
        return fits(self, call)

    monkeypatch.setattr(Reach, "call_fits", counted)
    model = PlannerModel(problem, TravelTimes(problem))
    model.build()
    tours = sum(len(day.tours or []) for day in model.days.values())
    kinds = {(q.duration_min, q.window) for q in problem.requests}
    assert tours > 100 and 0 < weighed <= tours * len(kinds) * 8
