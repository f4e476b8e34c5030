"""The committed ``ehime-week-real`` (benchmarks/real_week.py): every rule of the expert's real
week is in it, it is what its generator writes, and the planner's answer on it is valid."""

from __future__ import annotations

import json

from benchmarks.generate import instance_path
from benchmarks.real_week import NIGHT_PLACES, ehime_week_real_document
from engine.format import parse_plan_request
from tests.helpers import solve_checked


def test_the_committed_real_week_is_what_its_generator_writes():
    for name, nights in (("ehime-week-real", True), ("ehime-week-real-day-trips", False)):
        committed = json.loads(instance_path(name).read_text(encoding="utf-8"))
        assert committed == ehime_week_real_document(nights=nights), name


def test_every_rule_of_the_real_week_is_on():
    p = parse_plan_request(ehime_week_real_document())
    assert p.horizon.start_grid_min == 15
    assert all(e.lunch is not None and e.lunch.minutes == 45 for e in p.experts)
    assert all(e.overtime is not None and e.overtime.max_minutes == 60 for e in p.experts)
    assert all(e.overnight is not None and set(e.overnight.places) == set(NIGHT_PLACES)
               for e in p.experts)
    assert sum(bool(loc.closed) for loc in p.locations) == 3
    busy = [b for e in p.experts for b in e.busy]
    assert len(busy) == 2 and sum(b.at is not None for b in busy) == 1
    assert sum(q.after is not None for q in p.requests) == 3
    assert sum(q.due is not None for q in p.requests) >= 5 and p.objective.late_day > 0
    day_trips = parse_plan_request(ehime_week_real_document(nights=False))
    assert all(e.overnight is None for e in day_trips.experts)


def test_the_real_week_plans_validly_within_a_short_limit():
    plan = solve_checked(ehime_week_real_document(), time_limit=5.0)
    assert plan.status in ("optimal", "feasible") and plan.objective is not None
    served = {v.request for v in plan.visits}
    assert any(rid.endswith("-2") for rid in served)      # a follow-up is made
