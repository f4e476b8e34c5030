"""A plain CP-SAT model of the whole plan request, written apart from the planner: the peer
that checks dxshare's ``optimal`` on instances too large for the brute force.

It imports nothing from ``solvers``: it reads the problem, states FORMAT.md's rules the
straightforward way (a circuit per expert-day with start times on its legs, each drive an
interval between the stop it leaves and the stop it reaches, one no-overlap per expert-day,
every cap as a linear constraint), hands it to CP-SAT with no hint and no redundant
constraint, and turns the answer into a ``Plan`` whose objective and routes are computed
plainly. Its plans go through the independent checker like every other. If it ever returns a
valid plan better than one dxshare called optimal, dxshare is wrong.

    plan = solve_plain(problem, time_limit=60)
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from dataclasses import replace

from ortools.sat.python import cp_model

from engine.calendar import date_status
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Route, Unscheduled, Visit
from engine.travel import TravelTimes

__all__ = ["solve_plain"]


def solve_plain(problem: PlanRequest, time_limit: float = 60.0, seed: int = 0) -> Plan:
    t0 = time.perf_counter()
    p = problem
    tt = TravelTimes(p)
    m = cp_model.CpModel()
    serve: dict[tuple[str, str, dt.date], cp_model.IntVar] = {}     # expert e serves q on d
    field_of: dict[tuple[str, int, str, dt.date], cp_model.IntVar] = {}
    on: dict[tuple[str, dt.date], cp_model.IntVar] = {}
    served: dict[str, cp_model.IntVar] = {}
    start: dict[str, cp_model.IntVar] = {}
    for q in p.requests:
        loc = p.location_by_id[q.location]
        start[q.id] = m.new_int_var(0, 24 * 60, f"s_{q.id}")
        served[q.id] = m.new_bool_var(f"served_{q.id}")
        dates = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        day_lits = []
        for d in dates:
            z = m.new_bool_var(f"on_{q.id}_{d}")
            on[q.id, d] = z
            day_lits.append(z)
            per_expert: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            for k, f in enumerate(q.fields):
                slot = []
                for e in p.experts:
                    if f not in e.fields or not date_status(p.horizon, e, d).workable:
                        continue
                    y = m.new_bool_var(f"y_{q.id}_{k}_{e.id}_{d}")
                    field_of[q.id, k, e.id, d] = y
                    slot.append(y)
                    per_expert[e.id].append(y)
                m.add(sum(slot) == z)
            for eid, ys in per_expert.items():
                x = m.new_bool_var(f"x_{q.id}_{eid}_{d}")
                m.add(sum(ys) == x)
                serve[q.id, eid, d] = x
                e = p.expert_by_id[eid]
                lo = max(loc.open, e.work_start, q.window[0] if q.window else 0)
                hi = min(loc.close, e.work_end, q.window[1] if q.window else 24 * 60)
                m.add(start[q.id] >= lo).only_enforce_if(x)
                m.add(start[q.id] + q.duration_min <= hi).only_enforce_if(x)
            if q.fixed is not None and d != q.fixed.date:
                m.add(z == 0)
        m.add(sum(day_lits) == served[q.id])
        if q.fixed is not None:
            f = q.fixed
            m.add(served[q.id] == 1)
            m.add(start[q.id] == f.start)
            for eid in f.experts:
                x = serve.get((q.id, eid, f.date))
                if x is None:
                    m.add_bool_or([])            # cannot be kept: the model is infeasible
                else:
                    m.add(x == 1)
    # per expert-day: a circuit of the on-site stops, drives as intervals, no overlap
    drive_total = []
    onsite_day: dict[tuple[str, dt.date], cp_model.IntVar] = {}
    visits_total: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    by_day: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for (rid, eid, d) in serve:
        by_day[eid, d].append(rid)
    drive_from: dict[tuple[str, dt.date, str], cp_model.IntVar] = {}   # drive into a stop / home
    for (eid, d), rids in by_day.items():
        e = p.expert_by_id[eid]
        stops = [r for r in rids if p.request_by_id[r].onsite]
        calls = [r for r in rids if not p.request_by_id[r].onsite]
        intervals = []
        for r in calls:
            q = p.request_by_id[r]
            intervals.append(m.new_optional_fixed_size_interval_var(
                start[r], q.duration_min, serve[r, eid, d], f"call_{r}_{eid}_{d}"))
        if stops:
            used = m.new_bool_var(f"used_{eid}_{d}")
            onsite_day[eid, d] = used
            locs = [e.base] + [p.request_by_id[r].location for r in stops]
            arcs: dict[tuple[int, int], cp_model.IntVar] = {}
            circuit: list[tuple[int, int, cp_model.LiteralT]] = [(0, 0, ~used)]
            for i, j in itertools.permutations(range(len(locs)), 2):
                a = m.new_bool_var(f"a_{eid}_{d}_{i}_{j}")
                arcs[i, j] = a
                circuit.append((i, j, a))
            for i, r in enumerate(stops, start=1):
                circuit.append((i, i, ~serve[r, eid, d]))
                m.add_implication(serve[r, eid, d], used)
            m.add(sum(serve[r, eid, d] for r in stops) >= used)
            m.add_circuit(circuit)
            t = {(i, j): tt.minutes(locs[i], locs[j]) for i, j in arcs}
            drive = sum(t[k] * a for k, a in arcs.items())
            drive_total.append(drive)
            if e.max_drive_minutes_per_day is not None:
                m.add(drive <= e.max_drive_minutes_per_day)
            if e.max_visits_per_day is not None:
                m.add(sum(serve[r, eid, d] for r in stops) <= e.max_visits_per_day)
            visits_total[eid] += [serve[r, eid, d] for r in stops]
            for j in range(len(locs)):
                into = [(i, a) for (i, jj), a in arcs.items() if jj == j]
                present = used if j == 0 else serve[stops[j - 1], eid, d]
                length = m.new_int_var(0, 24 * 60, f"len_{eid}_{d}_{j}")
                m.add(length == sum(t[i, j] * a for i, a in into)).only_enforce_if(present)
                begin = m.new_int_var(e.work_start, e.work_end, f"b_{eid}_{d}_{j}")
                drive_from[eid, d, stops[j - 1] if j else ""] = begin
                end = m.new_int_var(e.work_start, e.work_end, f"e_{eid}_{d}_{j}")
                intervals.append(m.new_optional_interval_var(begin, length, end, present,
                                                             f"drive_{eid}_{d}_{j}"))
                for i, a in into:
                    if i:
                        qi = p.request_by_id[stops[i - 1]]
                        m.add(begin >= start[qi.id] + qi.duration_min).only_enforce_if(a)
                        if j:
                            m.add(start[stops[j - 1]] >= start[qi.id] + qi.duration_min
                                  + t[i, j]).only_enforce_if(a)
                    elif j:
                        m.add(start[stops[j - 1]] >= e.work_start + t[0, j]).only_enforce_if(a)
                if j:
                    m.add(end <= start[stops[j - 1]]).only_enforce_if(present)
                    q = p.request_by_id[stops[j - 1]]
                    intervals.append(m.new_optional_fixed_size_interval_var(
                        start[q.id], q.duration_min, present, f"visit_{q.id}_{eid}_{d}"))
        if len(intervals) > 1:
            m.add_no_overlap(intervals)
    for e in p.experts:
        if e.max_visits_total is not None:
            m.add(sum(visits_total[e.id]) <= e.max_visits_total)
        if e.max_onsite_days is not None:
            m.add(sum(v for (x, _), v in onsite_day.items() if x == e.id) <= e.max_onsite_days)
    loc_day: dict[tuple[str, dt.date], list[cp_model.IntVar]] = defaultdict(list)
    for (rid, _eid, d), x in serve.items():
        q = p.request_by_id[rid]
        if q.onsite:
            loc_day[q.location, d].append(x)
    for (lid, _d), xs in loc_day.items():
        cap = p.location_by_id[lid].max_visits_per_day
        if cap is not None:
            m.add(sum(xs) <= cap)
    w = p.objective
    m.maximize(w.priority * sum(q.priority * served[q.id] for q in p.requests)
               - w.drive_minute * sum(drive_total) - w.onsite_day * sum(onsite_day.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    code = solver.solve(m)
    status = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible",
              cp_model.INFEASIBLE: "infeasible"}.get(code, "error")
    if status not in ("optimal", "feasible"):
        uns = tuple(Unscheduled(q.id, (f"plain model: {status}",)) for q in p.requests)
        plan = Plan(status="infeasible" if status == "infeasible" else "error", objective=None,
                    bound=None, solve_seconds=time.perf_counter() - t0, unscheduled=uns,
                    solver={"name": "plain CP-SAT"})
        return replace(plan, kpis=plan_kpis(p, plan))
    visits = []
    for q in p.requests:
        d = next((dd for (rid, dd), z in on.items() if rid == q.id and solver.value(z)), None)
        if d is None:
            continue
        experts = tuple(next(e for (rid, k, e, dd), y in field_of.items()
                             if rid == q.id and k == kk and dd == d and solver.value(y))
                        for kk in range(len(q.fields)))
        s = solver.value(start[q.id])
        visits.append(Visit(q.id, experts, q.location, q.mode, d, s, s + q.duration_min))
    routes = []
    for (eid, d), used in onsite_day.items():
        if not solver.value(used):
            continue
        e = p.expert_by_id[eid]
        day = sorted((v for v in visits if v.date == d and eid in v.experts
                      and v.mode == "onsite"), key=lambda v: v.start)
        path = [e.base, *(v.location for v in day), e.base]
        legs = [tt.minutes(a, b) for a, b in itertools.pairwise(path)]
        # each leg leaves when the model's drive interval into the next place begins
        deps = [solver.value(drive_from[eid, d, v.request]) for v in day]
        deps.append(solver.value(drive_from[eid, d, ""]))
        routes.append(Route(eid, d, deps[0], deps[-1] + legs[-1],
                            tuple(v.location for v in day), sum(legs), tuple(deps)))
    served_ids = {v.request for v in visits}
    value = (w.priority * sum(p.request_by_id[r].priority for r in served_ids)
             - w.drive_minute * sum(r.drive_minutes for r in routes) - w.onsite_day * len(routes))
    plan = Plan(status=status, objective=value, bound=int(solver.best_objective_bound),
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes),
                unscheduled=tuple(Unscheduled(q.id, ("not served by the plain model",))
                                  for q in p.requests if q.id not in served_ids),
                solver={"name": "plain CP-SAT"})
    return replace(plan, kpis=plan_kpis(p, plan))
