"""Helpers shared by the tests: tiny named instances (tests/data/*.json, plan-request/1), request
entries, and solving or proposing with every result checked.

Every plan a test obtains through ``solve_checked`` has passed ``engine.checker.assert_valid``
(with the travel times the planner used), so no test can look at an invalid plan by accident;
every slot proposal a test obtains through ``propose_checked`` likewise, and it touches no
published visit and moves no other visit to another date or expert.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from engine.checker import assert_valid, check_plan
from engine.errors import InputError, Problem
from engine.format import parse_plan_request
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Route, Visit, fmt_time
from engine.travel import TravelTimes
from solvers.planner import SolveOptions, solve
from solvers.slots import SlotProposals, propose_slots

__all__ = [
    "DATA",
    "FORMULATIONS",
    "TIME_LIMIT",
    "add_request",
    "build_plan",
    "chosen_choice",
    "codes_of",
    "day_checks",
    "draw_overnight",
    "draw_overtime",
    "draw_series",
    "on_grid",
    "load_doc",
    "problem_of",
    "propose_checked",
    "req",
    "run_scenarios",
    "rules",
    "served",
    "solve_checked",
    "t",
    "tiny",
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


def refused_at(doc: dict[str, Any], path: str) -> Problem:
    """The problem that reading ``doc`` reports at ``path``, in English and Japanese (the test
    fails when the document is read, or when nothing is reported at ``path``)."""
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    hits = [p for p in err.value.problems if p.path == path]
    assert hits, [str(p) for p in err.value.problems]
    assert all(p.message_ja for p in hits)
    return hits[0]


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


def served(plan: Plan) -> set[str]:
    """The requests ``plan`` serves."""
    return {v.request for v in plan.visits}


def rules(problem: PlanRequest, plan: Plan) -> set[str]:
    """The rules of the independent checker that ``plan`` breaks."""
    return {v.rule for v in check_plan(problem, plan)}


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


# ----------------------------------------------------------------- tiny random instances

#: The fields of the tiny instances.
TINY_FIELDS = ("pr", "data")
#: Two consecutive workdays: within one month, or across a month's end (for monthly caps).
DATE_PAIRS = (("2026-12-07", "2026-12-08"), ("2026-11-30", "2026-12-01"))


@st.composite
def tiny(draw: Any) -> dict[str, Any]:
    """≤ 6 requests, 1–2 experts, 1–2 dates, 2–3 places, any travel matrix, sometimes the
    season goals (coverage floors, small-town bonus), monthly on-site caps, follow-ups, lunch,
    standing appointments and overtime."""
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
                             "fields": [TINY_FIELDS[i]] if n_exp == 2 and draw(st.booleans())
                             else list(TINY_FIELDS),
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
                             "fields": list(TINY_FIELDS) if joint else
                             [draw(st.sampled_from(TINY_FIELDS))],
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
    if draw(st.integers(0, 2)) == 0:           # a town hall's lunch hour (locations[].closed)
        lo = draw(st.sampled_from([600, 690, 720]))
        draw(st.sampled_from(locations))["closed"] = [[fmt_time(lo), fmt_time(lo + 60)]]
    draw_series(draw, requests)
    on_grid(doc, draw(st.sampled_from([1, 1, 15, 20, 60])))
    if draw(st.integers(0, 2)) == 0:           # due dates, each day late paid
        obj["late_day"] = draw(st.sampled_from([300, 4000, 20000]))
        before = (dt.date.fromisoformat(dates[0]) - dt.timedelta(days=1)).isoformat()
        for q in requests:
            if draw(st.booleans()):
                q["due"] = draw(st.sampled_from([before, dates[0]]))
    for e in experts:                          # lunch (experts[].lunch), inside every day
        if draw(st.integers(0, 2)) == 0:
            e["lunch"] = {"minutes": draw(st.sampled_from([30, 45, 60])),
                          "window": draw(st.sampled_from([["11:30", "13:30"],
                                                          ["12:00", "13:00"]]))}
    draw_busy(draw, experts, dates[:n_days], travel)
    draw_overtime(draw, experts)
    draw_overnight(draw, experts, locs)
    return doc


def draw_overnight(draw: Any, experts: list[dict[str, Any]], locs: list[str]) -> None:
    """Sometimes nights away (``experts[].overnight``) for an expert: every place or one,
    a night free, cheap or dear, trips of one or two nights."""
    for e in experts:
        if draw(st.integers(0, 2)) == 0:
            e["overnight"] = {"places": draw(st.sampled_from(["*", [draw(st.sampled_from(locs))]])),
                              "night_cost": draw(st.sampled_from([0, 100, 3000])),
                              "max_nights": draw(st.sampled_from([0, 1, 2]))}


def draw_overtime(draw: Any, experts: list[dict[str, Any]]) -> None:
    """Sometimes overtime (``experts[].overtime``) of an expert: up to 0, 30 or 90 minutes
    past work_end, each minute cheap, dear or dearer than most requests earn."""
    for e in experts:
        if draw(st.integers(0, 2)) == 0:
            e["overtime"] = {"max_minutes": draw(st.sampled_from([0, 30, 90])),
                             "minute_cost": draw(st.sampled_from([1, 20, 200]))}


def draw_busy(draw: Any, experts: list[dict[str, Any]], dates: list[str],
              travel: dict[str, dict[str, int]] | None = None) -> None:
    """Sometimes a standing appointment (``experts[].busy``) of an expert, an hour or so inside
    their working hours on one of ``dates``, off the appointment grid now and then; with the
    document's ``travel`` (every pair given), more often than not at a place (``at``), placed
    where the expert can drive there and home within the day and the drive cap."""
    for e in experts:
        if draw(st.integers(0, 2)) == 0:
            ws = int(e["work_start"][:2]) * 60 + int(e["work_start"][3:])
            lo = ws + draw(st.sampled_from([0, 65, 150]))
            b = {"date": draw(st.sampled_from(dates)), "start": fmt_time(lo),
                 "end": fmt_time(lo + draw(st.sampled_from([30, 60, 90])))}
            e["busy"] = [b]
            if travel and draw(st.integers(0, 2)) > 0:
                _draw_place(draw, e, b, travel)


def _draw_place(draw: Any, e: dict[str, Any], b: dict[str, Any],
                travel: dict[str, dict[str, int]]) -> None:
    """Put the appointment ``b`` at a place, starting soon after the expert can be there
    (else leave it a call where they cannot be there and home in time)."""
    place = draw(st.sampled_from(sorted(travel)))
    out = travel[e["base"]].get(place, 0)
    back = travel[place].get(e["base"], 0)
    length = t(b["end"]) - t(b["start"])
    start = t(e["work_start"]) + out + draw(st.sampled_from([0, 7, 45, 120]))
    cap = e.get("max_drive_minutes_per_day")
    if start + length + back <= t(e["work_end"]) and (cap is None or out + back <= cap):
        b.update(start=fmt_time(start), end=fmt_time(start + length), at=place)


def draw_series(draw: Any, requests: list[dict[str, Any]]) -> None:
    """Sometimes one or two follow-ups (``after``), each of an earlier request (no cycle),
    with a gap of 1–2 days (sometimes capped) and the same experts or not; the requests
    (``earliest``/``latest``, ISO dates) may be changed to give the series room."""
    if len(requests) < 2 or draw(st.integers(0, 2)) != 0:
        return
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.integers(1, len(requests) - 1))
        j = draw(st.integers(0, i - 1))
        same = draw(st.booleans()) and len(requests[i]["fields"]) == len(requests[j]["fields"])
        after: dict[str, Any] = {"request": requests[j]["id"],
                                 "min_days": draw(st.sampled_from([1, 1, 2])),
                                 "same_experts": same}
        if draw(st.booleans()):
            after["max_days"] = after["min_days"] + draw(st.integers(0, 1))
        requests[i]["after"] = after
        if draw(st.booleans()):         # dates that leave the series room, more often than not
            requests[j]["earliest"] = min(q["earliest"] for q in requests)
            requests[i]["latest"] = max(q["latest"] for q in requests)


def on_grid(doc: dict[str, Any], grid: int) -> None:
    """Put ``doc`` on an appointment grid of ``grid`` minutes (``horizon.start_grid_min``),
    its published starts moved up onto the grid."""
    if grid == 1:
        return
    doc["horizon"]["start_grid_min"] = grid
    for q in doc["requests"]:
        if q.get("fixed"):
            h, m = (int(x) for x in q["fixed"]["start"].split(":"))
            q["fixed"]["start"] = fmt_time(-(-(h * 60 + m) // grid) * grid)


def choice_optimum(doc: dict[str, Any]) -> int:
    """The optimum of the planner's choice model (tours and consultations, no times): a bound
    of every plan, and exact where the choice sees what holds the day back."""
    from ortools.sat.python import cp_model

    from engine.travel import TravelTimes
    from solvers.model import PlannerModel

    problem = problem_of(doc)
    model = PlannerModel(problem, TravelTimes(problem))
    model.build()
    model.m.maximize(model.main_objective())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model.choice_model()) == cp_model.OPTIMAL
    return int(round(solver.objective_value))


def day_checks(problem: Any, forced: dict[str, int], *, use_tours: bool = True
                ) -> dict[dt.date, bool | None]:
    """The day check (``PlannerModel.group_fits``) of each expert-day of the choice model's
    optimum where the named literals (variable names) take the given values (days of tours,
    or of circuits without ``use_tours``)."""
    model, chosen = chosen_choice(problem, forced, use_tours=use_tours)
    return {days[0][1]: model.group_fits(k, chosen.__getitem__)
            for k, days in enumerate(model.group_days)}


def chosen_choice(problem: Any, forced: dict[str, int], *, use_tours: bool = True
                  ) -> tuple[Any, list[int]]:
    """The planner's model of ``problem`` and its choice model's optimum (variable values by
    index) with the named literals forced to the given values; the model's day groups read
    from that choice (``PlannerModel.day_groups``)."""
    from ortools.sat.python import cp_model

    from solvers.cpsat.solver import cp_solver
    from solvers.model import PlannerModel

    model = PlannerModel(problem, TravelTimes(problem), use_tours=use_tours)
    model.build()
    model.m.maximize(model.main_objective())
    choice = model.choice_model()
    names = {var.name: i for i, var in enumerate(choice.proto.variables)}
    for name, value in forced.items():
        choice.add(choice.get_int_var_from_proto_index(names[name]) == value)
    solver = cp_solver(SolveOptions(), 10)
    assert solver.solve(choice) == cp_model.OPTIMAL
    chosen = list(solver.response_proto.solution)
    model.day_groups(chosen.__getitem__)
    return model, chosen


def run_scenarios(argv: list[str]) -> tuple[int, str, str]:
    """``dxshare scenarios …`` run in-process: the exit code, what it printed and what it
    wrote to stderr."""
    import argparse
    import io

    from service.cli_scenarios import register

    parser = argparse.ArgumentParser(prog="dxshare")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    return args.handler(args, out, err), out.getvalue(), err.getvalue()
