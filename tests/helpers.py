"""Helpers shared by the tests: tiny named instances (tests/data/*.json, plan-request/1), request
entries, and solving or proposing with every result checked.

Every plan a test obtains through ``solve_checked`` has passed ``engine.checker.assert_valid``
(with the travel times the planner used), so no test can look at an invalid plan by accident;
every slot proposal a test obtains through ``propose_checked`` likewise, and it touches no
published visit and moves no other visit to another date or expert.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from engine.checker import assert_valid
from engine.format import parse_plan_request
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Route, Visit
from engine.travel import TravelTimes
from solvers.planner import SolveOptions, solve
from solvers.slots import SlotProposals, propose_slots

__all__ = [
    "DATA",
    "FORMULATIONS",
    "TIME_LIMIT",
    "add_request",
    "build_plan",
    "codes_of",
    "load_doc",
    "problem_of",
    "propose_checked",
    "req",
    "solve_checked",
    "t",
]

DATA = Path(__file__).parent / "data"

#: Short time limit for tiny instances: they prove optimal in well under a second.
TIME_LIMIT = 10.0

#: The planner's formulations (``SolveOptions.model``): every rule must hold, and bite, in each.
#: ``tours``: days choose among enumerated tours (the default); ``circuit``: every day a circuit
#: over its legs, with the redundant cheapest-tour-per-stop-set bound; ``circuit-roundtrip``: the
#: redundant round-trip bound instead; ``circuit-bare``: the rules alone, nothing redundant.
FORMULATIONS: dict[str, dict[str, Any]] = {
    "tours": {},
    "circuit": {"use_tours": False},
    "circuit-roundtrip": {"use_tours": False, "max_tours": 0},
    "circuit-bare": {"use_tours": False, "redundant": False},
}


def load_doc(name: str) -> dict[str, Any]:
    """A fresh (deep-copied) plan-request document from tests/data, by name without ``.json``."""
    return copy.deepcopy(_cached(name))


_DOCS: dict[str, Any] = {}


def _cached(name: str) -> Any:
    if name not in _DOCS:
        _DOCS[name] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return _DOCS[name]


def problem_of(doc_or_name: dict[str, Any] | str) -> PlanRequest:
    """Parse a document (or a named data file) into a ``PlanRequest``."""
    doc = load_doc(doc_or_name) if isinstance(doc_or_name, str) else doc_or_name
    return parse_plan_request(doc)


def req(rid: str, location: str, fields: list[str] | str = "pr", mode: str = "onsite",
        duration: int = 60, priority: int = 5, **extra: Any) -> dict[str, Any]:
    """A request entry of a plan-request/1 document."""
    fs = [fields] if isinstance(fields, str) else list(fields)
    return {"id": rid, "location": location, "fields": fs, "mode": mode,
            "duration_min": duration, "priority": priority, **extra}


def add_request(doc: dict[str, Any], *args: Any, **kw: Any) -> dict[str, Any]:
    doc["requests"].append(req(*args, **kw))
    return doc


def t(hhmm: str) -> int:
    """``'09:30'`` → 570."""
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def solve_checked(problem: PlanRequest | dict[str, Any] | str, *, time_limit: float = TIME_LIMIT,
                  **options: Any) -> Plan:
    """Solve with a short time limit and assert the result valid by the independent checker."""
    if not isinstance(problem, PlanRequest):
        problem = problem_of(problem)
    opts = SolveOptions(time_limit=time_limit, **options)
    plan = solve(problem, opts)
    assert_valid(problem, plan, travel=TravelTimes(problem, speed_factor=opts.travel_speed_factor))
    return plan


def propose_checked(problem: PlanRequest, plan: Plan, rid: str, k: int = 3,
                    **options: Any) -> SlotProposals:
    """``propose_slots`` with every proposal checked: nothing withheld, each plan valid by the
    independent checker for its week, no published visit touched, every other visit on its
    date with its experts (only its start may change, or it may be dropped when allowed), and
    the proposal's visit in the plan as proposed."""
    answer = propose_slots(problem, plan, rid, k, **options)
    assert answer.withheld == (), answer.withheld
    before = {v.request: v for v in plan.visits}
    for p in answer.proposals:
        assert_valid(p.problem, p.plan)
        after = {v.request: v for v in p.plan.visits}
        assert after[rid] == Visit(rid, p.experts, p.problem.request_by_id[rid].location,
                                   p.mode, p.date, p.start, p.end)
        for q in p.problem.requests:
            if q.fixed is not None and q.id in before:
                assert after.get(q.id) == before[q.id], f"published {q.id} touched"
        for r, v in before.items():
            w = after.get(r)
            if w is None:
                assert options.get("allow_drop"), f"{r} dropped"
                continue
            assert (w.date, w.experts) == (v.date, v.experts), f"{r} changed day or experts"
        changed = {c.request for c in p.moved}
        assert changed == {r for r, v in before.items() if after.get(r) != v}
    return answer


def codes_of(plan: Plan, rid: str) -> tuple[str, ...]:
    """The reason codes of unscheduled request ``rid`` (fails if it was scheduled)."""
    for u in plan.unscheduled:
        if u.request == rid:
            return u.codes
    raise AssertionError(f"{rid} is not unscheduled; visits: {[v.request for v in plan.visits]}")


def build_plan(problem: PlanRequest, visits: list[Visit], *, status: str = "optimal",
               unscheduled: tuple = (), travel: TravelTimes | None = None) -> Plan:
    """A hand-made plan around ``visits``: routes leave just in time and return straight after
    the last stop; objective, bound and kpis computed from them (used to build valid plans that
    tests then break one rule at a time)."""
    tt = travel or TravelTimes(problem)
    per: dict[tuple[str, Any], list[Visit]] = defaultdict(list)
    for v in visits:
        if v.mode == "onsite":
            for e in v.experts:
                per[e, v.date].append(v)
    routes = []
    for (eid, day), vs in sorted(per.items()):
        vs.sort(key=lambda v: v.start)
        base = problem.expert_by_id[eid].base
        path = [base, *(v.location for v in vs), base]
        drive = sum(tt.minutes(a, b) for a, b in zip(path, path[1:], strict=False))
        routes.append(Route(eid, day, vs[0].start - tt.minutes(base, vs[0].location),
                            vs[-1].end + tt.minutes(vs[-1].location, base),
                            tuple(v.location for v in vs), drive))
    w = problem.objective
    served = sum(problem.request_by_id[v.request].priority for v in visits)
    value = (w.priority * served - w.drive_minute * sum(r.drive_minutes for r in routes)
             - w.onsite_day * len(routes))
    plan = Plan(status=status, objective=value, bound=value, solve_seconds=0.0,  # type: ignore[arg-type]
                visits=tuple(visits), routes=tuple(routes), unscheduled=tuple(unscheduled))
    return Plan(status=plan.status, objective=plan.objective, bound=plan.bound, solve_seconds=0.0,
                visits=plan.visits, routes=plan.routes, unscheduled=plan.unscheduled,
                kpis=plan_kpis(problem, plan))
