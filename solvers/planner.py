"""The weekly planner: a CP-SAT model assigning consultations to experts, dates and times.

The model reads like the rules in docs/FORMAT.md ("A plan is valid when ..."): one method
per rule, named after it, with the rule in the coordinator's words. ``solve`` is the only
entry point; it returns a ``Plan`` (format ``plan/1``) and never raises for a problem that
merely has no good answer: that is a status.

Examples
--------
>>> from engine.demand import ehime_week
>>> plan = solve(ehime_week("2026-12-07", seed=7), SolveOptions(time_limit=10))  # doctest: +SKIP
>>> plan.status, plan.kpis["visits"]                                            # doctest: +SKIP
('optimal', 33)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from engine.kpis import plan_kpis
from engine.model import Expert, Plan, PlanRequest, Request, Route, Status, Visit
from engine.travel import TravelTimes
from solvers.explain import Explainer, Option, bare_reason
from solvers.greedy import greedy_visits, home_departure

__all__ = ["Progress", "SolveOptions", "solve"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A solver event: seconds since the start, objective of the best plan and proven bound."""

    elapsed: float
    objective: float
    bound: float
    solutions: int
    phase: str = "main"


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``time_limit`` in seconds (wall clock, per phase); ``seed`` and ``workers`` go to CP-SAT:
    with ``workers=1`` (the default, and the fastest to a proof on the Ehime weeks, see
    benchmarks/README.md) the same seed gives the same plan when no time limit interrupts. ``previous`` is last week's plan:
    its visits stay unless they must move, the number moved minimised right after the main
    objective. ``travel_speed_factor`` scales the estimated driving speed (scenarios).
    ``stop`` is polled a few times a second; when it returns true the search ends early and
    the best plan so far is returned (status ``feasible``), as on a time limit.
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    previous: Plan | None = None
    progress: Callable[[Progress], None] | None = None
    travel_speed_factor: float = 1.0
    explain: bool = True
    stop: Callable[[], bool] | None = None


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, sink: Callable[[Progress], None] | None, t0: float, phase: str):
        super().__init__()
        self._sink, self._t0, self._phase, self.count = sink, t0, phase, 0

    def on_solution_callback(self) -> None:
        self.count += 1
        if self._sink is not None:
            self._sink(Progress(time.perf_counter() - self._t0, self.objective_value,
                                self.best_objective_bound, self.count, self._phase))


@dataclass
class _ExpertDay:
    """Variables of one expert on one date."""

    expert: Expert
    date: dt.date
    onsite: list[str] = field(default_factory=list)   # candidate on-site request ids
    online: list[str] = field(default_factory=list)
    arcs: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    on_day: cp_model.IntVar | None = None
    drive: cp_model.LinearExprT = 0
    tours: dict[frozenset[str], cp_model.IntVar] = field(default_factory=dict)


class PlannerModel:
    """Builds the CP-SAT model of one ``PlanRequest``; ``add_*`` methods are the rules."""

    def __init__(self, problem: PlanRequest, travel: TravelTimes, options: Option | None = None,
                 *, fixed_as_assumptions: bool = False):
        self.p = problem
        self.travel = travel
        self.m = cp_model.CpModel()
        self.explainer = Explainer(problem, travel)
        self.options = self.explainer.options          # feasible (request, expert, date) windows
        self.fixed_as_assumptions = fixed_as_assumptions
        self.fixed_lits: dict[str, cp_model.IntVar] = {}
        self.start: dict[str, cp_model.IntVar] = {}
        self.served: dict[str, cp_model.IntVar] = {}
        self.on_date: dict[tuple[str, dt.date], cp_model.IntVar] = {}
        self.slot: dict[tuple[str, int, str, dt.date], cp_model.IntVar] = {}
        self.present: dict[tuple[str, str, dt.date], cp_model.IntVar] = {}
        self.days: dict[tuple[str, dt.date], _ExpertDay] = {}
        self.keep: dict[str, cp_model.IntVar] = {}
        self.max_tour_sets = 1500

    # ------------------------------------------------------------------ variables
    def build(self) -> None:
        self.add_choice_of_expert_date_and_start()
        self.add_one_expert_per_field()
        self.add_joint_visit_sync()
        self.add_hours_of_location_window_and_workday()
        self.add_travel_between_stops()
        self.add_no_double_booking_and_no_online_while_driving()
        self.add_expert_caps()
        self.add_location_caps()
        self.add_fixed_visits()

    def add_choice_of_expert_date_and_start(self) -> None:
        """Each request is served at most once: on one date, by one expert per field, at one
        start time shared by all its experts."""
        for q in self.p.requests:
            opts = self.options.get(q.id, [])
            if not opts:
                continue        # nothing can serve it: explained before solving
            lo = min(o.lo for o in opts)
            hi = max(o.hi for o in opts)
            self.start[q.id] = self.m.new_int_var(lo, hi, f"start_{q.id}")
            dates = sorted({o.date for o in opts})
            for d in dates:
                self.on_date[q.id, d] = self.m.new_bool_var(f"date_{q.id}_{d}")
            served = self.m.new_bool_var(f"served_{q.id}")
            self.m.add(sum(self.on_date[q.id, d] for d in dates) == served)
            self.served[q.id] = served
            for o in opts:
                for k in o.slots:
                    self.slot[q.id, k, o.expert, o.date] = self.m.new_bool_var(
                        f"slot_{q.id}_f{k}_{o.expert}_{o.date}")

    def add_one_expert_per_field(self) -> None:
        """On the chosen date, every field of the request has exactly one expert, and an
        expert covers at most one field of it."""
        by_rd: dict[tuple[str, dt.date], dict[int, list[cp_model.IntVar]]] = defaultdict(
            lambda: defaultdict(list))
        by_red: dict[tuple[str, str, dt.date], list[cp_model.IntVar]] = defaultdict(list)
        for (rid, k, eid, d), var in self.slot.items():
            by_rd[rid, d][k].append(var)
            by_red[rid, eid, d].append(var)
        for (rid, d), per_slot in by_rd.items():
            q = self.p.request_by_id[rid]
            for k in range(len(q.fields)):
                self.m.add(sum(per_slot.get(k, [])) == self.on_date[rid, d])
        for (rid, eid, d), vars_ in by_red.items():
            if len(vars_) == 1:
                self.present[rid, eid, d] = vars_[0]
            else:
                lit = self.m.new_bool_var(f"serves_{rid}_{eid}_{d}")
                self.m.add(sum(vars_) == lit)
                self.present[rid, eid, d] = lit

    def add_joint_visit_sync(self) -> None:
        """A joint visit brings all its experts to the same place on the same date at the same
        start: one date literal and one start variable per request make that so."""
        # Nothing to add: the shared ``date_*`` and ``start_*`` variables are the rule.

    def add_hours_of_location_window_and_workday(self) -> None:
        """The consultation lies within the location's opening hours and the request's window;
        an on-site visit leaves room to drive from the base after work starts and back before
        it ends (a date's first and last legs); an online one lies within working hours."""
        for q in self.p.requests:
            if q.id not in self.start:
                continue
            s = self.start[q.id]
            lo_all, hi_all = self._domain_bounds(q.id)
            for o in self.options[q.id]:
                lit = self.present[q.id, o.expert, o.date]
                if o.lo > lo_all:
                    self.m.add(s >= o.lo).only_enforce_if(lit)
                if o.hi < hi_all:
                    self.m.add(s <= o.hi).only_enforce_if(lit)

    def _domain_bounds(self, rid: str) -> tuple[int, int]:
        opts = self.options[rid]
        return min(o.lo for o in opts), max(o.hi for o in opts)

    def add_travel_between_stops(self) -> None:
        """Each expert's on-site day is one tour base → stops → base (a circuit); between two
        consecutive stops the expert needs at least the driving minutes, and the day's
        driving is the sum of its legs."""
        for o_list in self.options.values():
            for o in o_list:
                key = (o.expert, o.date)
                if key not in self.days:
                    self.days[key] = _ExpertDay(self.p.expert_by_id[o.expert], o.date)
                req = self.p.request_by_id[o.request]
                (self.days[key].onsite if req.onsite else self.days[key].online).append(o.request)
        for (eid, d), day in sorted(self.days.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            if not day.onsite:
                continue
            base = day.expert.base
            on_day = self.m.new_bool_var(f"onsite_day_{eid}_{d}")
            day.on_day = on_day
            nodes = day.onsite
            locs = [base] + [self.p.request_by_id[r].location for r in nodes]
            arcs: list[tuple[int, int, cp_model.LiteralT]] = []
            arcs.append((0, 0, ~on_day))
            drive_terms = []
            for i in range(len(locs)):
                for j in range(len(locs)):
                    if i == j or (i and j and not self._leg_possible(day, nodes, locs, i, j)):
                        continue
                    lit = self.m.new_bool_var(f"leg_{eid}_{d}_{i}_{j}")
                    day.arcs[i, j] = lit
                    arcs.append((i, j, lit))
                    t = self.travel.minutes(locs[i], locs[j])
                    if t:
                        drive_terms.append(t * lit)
                    if i > 0 and j > 0:
                        ri = self.p.request_by_id[nodes[i - 1]]
                        rj = nodes[j - 1]
                        self.m.add(self.start[rj] >= self.start[ri.id] + ri.duration_min + t
                                   ).only_enforce_if(lit)
            for i, rid in enumerate(nodes, start=1):
                p = self.present[rid, eid, d]
                arcs.append((i, i, ~p))
                self.m.add_implication(p, on_day)
            self.m.add(sum(self.present[r, eid, d] for r in nodes) >= on_day)
            self.m.add_circuit(arcs)
            day.drive = sum(drive_terms)
            if not self.add_day_tour_choice(day, nodes, locs):
                self.add_round_trip_lower_bound(day, nodes, locs)
            if day.expert.max_drive_minutes_per_day is not None:
                self.m.add(day.drive <= day.expert.max_drive_minutes_per_day)

    def _leg_possible(self, day: _ExpertDay, nodes: list[str], locs: list[str], i: int,
                      j: int) -> bool:
        """Whether stop ``j`` can directly follow stop ``i`` on this expert-day: the earliest
        end of ``i`` plus the drive must meet ``j``'s latest start, and a tour through both
        must stay within the day's drive cap. Impossible legs get no variable at all."""
        e = day.expert
        qi, qj = self.p.request_by_id[nodes[i - 1]], self.p.request_by_id[nodes[j - 1]]
        t_ij = self.travel.minutes(locs[i], locs[j])
        lo_i = min(o.lo for o in self.options[qi.id] if o.expert == e.id and o.date == day.date)
        hi_j = max(o.hi for o in self.options[qj.id] if o.expert == e.id and o.date == day.date)
        if lo_i + qi.duration_min + t_ij > hi_j:
            return False
        cap = e.max_drive_minutes_per_day
        if cap is not None:
            sp = self.travel.shortest
            if sp(locs[0], locs[i]) + t_ij + sp(locs[j], locs[0]) > cap:
                return False
        return True

    def add_round_trip_lower_bound(self, day: _ExpertDay, nodes: list[str],
                                   locs: list[str]) -> None:
        """(Redundant, for a strong bound.) A day's driving is at least the shortest round trip
        from the base to each of its stops, and the day's stops all lie on that tour."""
        sp = self.travel.shortest
        base = locs[0]
        for j, rid in enumerate(nodes, start=1):
            rt = sp(base, locs[j]) + sp(locs[j], base)
            if rt:
                self.m.add(day.drive >= rt * self.present[rid, day.expert.id, day.date])

    def add_day_tour_choice(self, day: _ExpertDay, nodes: list[str], locs: list[str]) -> bool:
        """(Redundant, for a strong bound.) An on-site day visits exactly one set of stops, in
        an order whose visits each fit their start windows after the drives before them; the
        day's driving is at least that of the best such order, and a set with no such order,
        or whose driving exceeds the cap, is never chosen. Only where the sets are few (small
        daily caps, as in practice); returns whether it was added."""
        e = day.expert
        n = len(nodes)
        k_max = min(n, e.max_visits_per_day if e.max_visits_per_day is not None else n)
        count = sum(math.comb(n, k) for k in range(1, k_max + 1))
        if count > self.max_tour_sets or day.on_day is None:
            return False
        t = self.travel.minutes
        reqs = [self.p.request_by_id[r] for r in nodes]
        win = {o.request: (o.lo, o.hi) for r in nodes for o in self.options[r]
               if o.expert == e.id and o.date == day.date}

        def drive_if_feasible(order: tuple[int, ...]) -> int | None:
            clock, here, drive = -1, locs[0], 0
            for pos, i in enumerate(order):
                q = reqs[i - 1]
                lo, hi = win[q.id]
                leg = t(here, locs[i])
                # the first stop's window already allows for the drive from the base
                start = lo if pos == 0 else max(lo, clock + leg)
                if start > hi:
                    return None
                clock, here, drive = start + q.duration_min, locs[i], drive + leg
            return drive + t(here, locs[0])

        cover: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        choices = []
        costs = []
        for k in range(1, k_max + 1):
            for subset in itertools.combinations(range(1, n + 1), k):
                drives = [x for order in itertools.permutations(subset)
                          if (x := drive_if_feasible(order)) is not None]
                if not drives:
                    continue
                best = min(drives)
                if e.max_drive_minutes_per_day is not None and best > e.max_drive_minutes_per_day:
                    continue
                lit = self.m.new_bool_var(f"tour_{e.id}_{day.date}_{'_'.join(map(str, subset))}")
                choices.append(lit)
                costs.append(best)
                day.tours[frozenset(nodes[i - 1] for i in subset)] = lit
                for i in subset:
                    cover[i].append(lit)
        self.m.add(sum(choices) == day.on_day)
        for i, rid in enumerate(nodes, start=1):
            self.m.add(sum(cover.get(i, [])) == self.present[rid, e.id, day.date])
        self.m.add(day.drive >= sum(c * lit for c, lit in zip(costs, choices, strict=True) if c))
        return True

    def add_no_double_booking_and_no_online_while_driving(self) -> None:
        """An expert does one thing at a time: each on-site visit occupies the expert from the
        moment they set off towards it (its inbound leg) until it ends, the drive home after
        the last stop occupies them too, and online consultations fit in between."""
        for (eid, d), day in self.days.items():
            if not day.online:
                # Only on-site visits: the tour's legs already keep them apart in time.
                continue
            intervals = []
            nodes = day.onsite
            base = day.expert.base
            locs = [base] + [self.p.request_by_id[r].location for r in nodes]
            for j, rid in enumerate(nodes, start=1):
                q = self.p.request_by_id[rid]
                p = self.present[rid, eid, d]
                inbound = [(self.travel.minutes(locs[i], locs[j]), day.arcs[i, j])
                           for i in range(len(locs)) if (i, j) in day.arcs]
                max_in = max(t for t, _ in inbound)
                size = self.m.new_int_var(q.duration_min, q.duration_min + max_in,
                                          f"busy_len_{rid}_{eid}_{d}")
                self.m.add(size == q.duration_min + sum(t * lit for t, lit in inbound if t)
                           ).only_enforce_if(p)
                s = self.start[rid]
                begin = self.m.new_int_var(0, 24 * 60, f"busy_from_{rid}_{eid}_{d}")
                intervals.append(self.m.new_optional_interval_var(
                    begin, size, s + q.duration_min, p, f"busy_{rid}_{eid}_{d}"))
            if nodes:
                assert day.on_day is not None
                back = [(self.travel.minutes(locs[i], base), day.arcs[i, 0])
                        for i in range(1, len(locs))]
                max_back = max(t for t, _ in back)
                home_len = self.m.new_int_var(0, max_back, f"drive_home_len_{eid}_{d}")
                self.m.add(home_len == sum(t * lit for t, lit in back if t)
                           ).only_enforce_if(day.on_day)
                home_start = self.m.new_int_var(0, 24 * 60, f"drive_home_{eid}_{d}")
                for i, rid in enumerate(nodes, start=1):
                    q = self.p.request_by_id[rid]
                    self.m.add(home_start >= self.start[rid] + q.duration_min
                               ).only_enforce_if(day.arcs[i, 0])
                home_end = self.m.new_int_var(0, day.expert.work_end, f"home_{eid}_{d}")
                intervals.append(self.m.new_optional_interval_var(
                    home_start, home_len, home_end, day.on_day, f"drive_home_{eid}_{d}"))
            for rid in day.online:
                q = self.p.request_by_id[rid]
                intervals.append(self.m.new_optional_fixed_size_interval_var(
                    self.start[rid], q.duration_min, self.present[rid, eid, d],
                    f"online_{rid}_{eid}_{d}"))
            if len(intervals) > 1:
                self.m.add_no_overlap(intervals)

    def add_expert_caps(self) -> None:
        """An expert's on-site visits per day and in total, on-site days in the horizon (the
        contracted visit days) and driving per day stay within the expert's caps."""
        per_expert_visits: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        per_expert_days: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for (eid, d), day in self.days.items():
            lits = [self.present[r, eid, d] for r in day.onsite]
            per_expert_visits[eid].extend(lits)
            if day.on_day is not None:
                per_expert_days[eid].append(day.on_day)
            cap = day.expert.max_visits_per_day
            if cap is not None and len(lits) > cap:
                self.m.add(sum(lits) <= cap)
        for e in self.p.experts:
            if e.max_visits_total is not None and len(per_expert_visits[e.id]) > e.max_visits_total:
                self.m.add(sum(per_expert_visits[e.id]) <= e.max_visits_total)
            if e.max_onsite_days is not None and len(per_expert_days[e.id]) > e.max_onsite_days:
                self.m.add(sum(per_expert_days[e.id]) <= e.max_onsite_days)

    def add_location_caps(self) -> None:
        """A location hosts at most its ``max_visits_per_day`` expert-visits a day, a joint
        visit of two experts counting as two."""
        per: dict[tuple[str, dt.date], list[cp_model.IntVar]] = defaultdict(list)
        for (rid, _eid, d), lit in self.present.items():
            q = self.p.request_by_id[rid]
            if q.onsite:
                per[q.location, d].append(lit)
        for (loc, _d), lits in per.items():
            cap = self.p.location_by_id[loc].max_visits_per_day
            if cap is not None and len(lits) > cap:
                self.m.add(sum(lits) <= cap)

    def add_fixed_visits(self) -> None:
        """A published (fixed) visit is kept exactly: its experts, its date, its start."""
        for q in self.p.requests:
            if q.fixed is None:
                continue
            f = q.fixed
            lit = self.m.new_bool_var(f"keep_fixed_{q.id}")
            self.fixed_lits[q.id] = lit
            if not self.fixed_as_assumptions:
                self.m.add(lit == 1)
            if q.id not in self.start or (q.id, f.date) not in self.on_date:
                # No way to serve it on its date at all: keeping it is impossible.
                self.m.add_bool_or([~lit])
                continue
            self.m.add(self.on_date[q.id, f.date] == 1).only_enforce_if(lit)
            self.m.add(self.start[q.id] == f.start).only_enforce_if(lit)
            for eid in f.experts:
                p = self.present.get((q.id, eid, f.date))
                if p is None:
                    self.m.add_bool_or([~lit])
                else:
                    self.m.add_implication(lit, p)
        if self.fixed_as_assumptions and self.fixed_lits:
            self.m.add_assumptions(list(self.fixed_lits.values()))

    # ------------------------------------------------------------------ objective
    def main_objective(self) -> cp_model.LinearExprT:
        """FORMAT.md: priority × Σ priority served − drive_minute × Σ drive − onsite_day × days."""
        w = self.p.objective
        served = sum(q.priority * self.served[q.id] for q in self.p.requests
                     if q.id in self.start)
        drive = sum(day.drive for day in self.days.values())
        days = sum(day.on_day for day in self.days.values() if day.on_day is not None)
        return (w.priority * served - w.drive_minute * drive  # type: ignore[operator]
                - w.onsite_day * days)

    def moved_visits(self, previous: Plan) -> cp_model.LinearExprT:
        """How many of last plan's visits do not stay exactly as they were (same experts,
        date and start)."""
        moved = []
        for v in previous.visits:
            q = self.p.request_by_id.get(v.request)
            if q is None:
                continue
            keep = self.m.new_bool_var(f"stays_{q.id}")
            self.keep[q.id] = keep
            lits = [self.present.get((q.id, eid, v.date)) for eid in v.experts]
            if (q.id not in self.start or any(x is None for x in lits)
                    or len(v.experts) != len(q.fields)):
                self.m.add(keep == 0)
            else:
                for x in lits:
                    assert x is not None
                    self.m.add_implication(keep, x)
                self.m.add(self.start[q.id] == v.start).only_enforce_if(keep)
            moved.append(1 - keep)
        return sum(moved)

    def hint_plan(self, visits: list[Visit]) -> None:
        """Hint a complete plan (e.g. the greedy one) so that the search starts from it."""
        by_req = {v.request: v for v in visits}
        hint: dict[cp_model.IntVar, int] = {}
        for q in self.p.requests:
            if q.id not in self.start:
                continue
            v = by_req.get(q.id)
            hint[self.start[q.id]] = v.start if v else self.start[q.id].proto.domain[0]
            for (rid, d), lit in self.on_date.items():
                if rid == q.id:
                    hint[lit] = int(v is not None and v.date == d)
            hint[self.served[q.id]] = int(v is not None)
            slot_of = _slots_of(q, v.experts) if v else {}
            for (rid, k, eid, d), lit in self.slot.items():
                if rid == q.id:
                    hint[lit] = int(v is not None and v.date == d and slot_of.get(eid) == k)
        for (rid, eid, d), lit in self.present.items():
            v = by_req.get(rid)
            hint.setdefault(lit, int(v is not None and v.date == d and eid in v.experts))
        for (eid, d), day in self.days.items():
            if day.on_day is None:
                continue
            stops = sorted((by_req[r] for r in day.onsite
                            if r in by_req and by_req[r].date == d and eid in by_req[r].experts),
                           key=lambda v: v.start)
            hint[day.on_day] = int(bool(stops))
            index = {r: i for i, r in enumerate(day.onsite, start=1)}
            path = [0, *(index[v.request] for v in stops), 0] if stops else []
            used = set(itertools.pairwise(path))
            for (i, j), lit in day.arcs.items():
                hint[lit] = int((i, j) in used)
            chosen = frozenset(v.request for v in stops)
            for subset, lit in day.tours.items():
                hint[lit] = int(subset == chosen)
        self._complete_hint(hint)

    def _complete_hint(self, hint: dict[cp_model.IntVar, int]) -> None:
        """CP-SAT takes a hint as its first solution only when it is complete: fill in the
        auxiliary variables (interval lengths, drive-home times) with a solve in which the
        hinted values are fixed, which presolve settles in milliseconds."""
        probe = self.m.clone()
        for var, value in hint.items():
            probe.add(probe.get_int_var_from_proto_index(var.index) == value)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 2.0
        solver.parameters.stop_after_first_solution = True
        if solver.solve(probe) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = solver.response_proto.solution
            for i in range(len(self.m.proto.variables)):
                self.m.add_hint(self.m.get_int_var_from_proto_index(i), values[i])
        else:
            for var, value in hint.items():
                self.m.add_hint(var, value)


@contextlib.contextmanager
def _stop_watch(solver: cp_model.CpSolver, stop: Callable[[], bool] | None) -> Iterator[None]:
    """While the block runs, end the search as soon as ``stop()`` says so."""
    if stop is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if stop():
                solver.stop_search()
                return

    thread = threading.Thread(target=watch, name="dxshare-stop-watch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _slots_of(q: Request, experts: tuple[str, ...]) -> dict[str, int]:
    """Which field (index) each expert of a visit covers."""
    return {eid: k for k, eid in enumerate(experts)} if len(experts) == len(q.fields) else {}


def _status_name(code: cp_model.CpSolverStatus) -> str:
    names: dict[cp_model.CpSolverStatus, str] = {
        cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible", cp_model.MODEL_INVALID: "error"}
    return names.get(code, "unknown")


def _solver(options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.random_seed = options.seed
    solver.parameters.num_workers = max(1, options.workers)
    # The served-priority part of the objective is a sum of at-most-one choices; only the
    # fuller linearisation puts those in the LP, which makes the bound tight from the root.
    solver.parameters.linearization_level = 2
    # Presolve probing costs more than it saves on these models: on 16 Ehime weeks the median
    # time to a proof fell from 3.6 s to 1.7 s (seeds 1-8) and 2.7 s to 1.9 s (seeds 9-16)
    # without it, and the slowest from 8.7 s to 4.6 s.
    solver.parameters.cp_model_probing_level = 0
    return solver


def solve(problem: PlanRequest, options: SolveOptions | None = None) -> Plan:
    """Plan the horizon: every request either scheduled (``visits``) or explained
    (``unscheduled``), routes per expert-day, KPIs, status, objective and proven bound.

    Raises ``InputError`` only when a needed driving time can neither be read nor estimated
    (no ``travel.minutes`` entry and no coordinates).
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    travel.check(_needed_legs(problem))
    model = PlannerModel(problem, travel)
    model.build()
    objective = model.main_objective()
    model.m.maximize(objective)
    # A valid first plan in milliseconds: the search starts from it, and it is the answer
    # when the search finds nothing better in time.
    greedy = greedy_visits(problem, travel, model.options, options.previous)
    model.hint_plan(greedy)
    solver = _solver(options, options.time_limit)
    cb = _Callback(options.progress, t0, "main")
    with _stop_watch(solver, options.stop):
        code = solver.solve(model.m, cb)
    status = _status_name(code)
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": options.time_limit}
    if status == "infeasible":
        return _infeasible_plan(problem, travel, model, options, time.perf_counter() - t0, info)
    greedy_ok = all(q.id in {v.request for v in greedy} for q in problem.requests if q.fixed)
    greedy_routes = build_routes(problem, travel, greedy)
    greedy_value = objective_value(problem, greedy, greedy_routes)
    found = status in ("optimal", "feasible")
    if not found and not (status == "unknown" and greedy_ok):
        msg = ("no plan found within the time limit" if status == "unknown"
               else "the model was rejected by the solver")
        return _error_plan(problem, msg, time.perf_counter() - t0, info)
    # Without a solver plan CP-SAT reports no bound (0): fall back to the bound every plan
    # obeys, all servable priority and no driving.
    bound = (int(round(solver.best_objective_bound)) if found else
             problem.objective.priority * sum(q.priority for q in problem.requests
                                              if q.id in model.start))
    if not found or (status == "feasible" and greedy_ok
                     and greedy_value > int(round(solver.objective_value))):
        info["first_plan"] = "greedy"
        return _finish(problem, "feasible", greedy_value, max(bound, greedy_value), greedy,
                       greedy_routes, model, options, t0, info)
    main_value = int(round(solver.objective_value))
    values = _read_solution(model, solver)
    if options.previous is not None and options.previous.visits:
        moved = model.moved_visits(options.previous)
        model.m.add(objective >= main_value)
        model.m.clear_objective()
        model.m.minimize(moved)
        model.m.clear_hints()
        for var, val in values.items():
            model.m.add_hint(var, val)
        remaining = max(1.0, options.time_limit - (time.perf_counter() - t0))
        solver2 = _solver(options, remaining)
        with _stop_watch(solver2, options.stop):
            code2 = solver2.solve(model.m, _Callback(options.progress, t0, "stability"))
        if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            solver = solver2
            values = _read_solution(model, solver2)
            main_value = int(round(solver2.value(objective)))
            info["moved"] = int(round(solver2.objective_value))
            info["moved_optimal"] = code2 == cp_model.OPTIMAL
    plan_visits, routes = _extract(problem, travel, model, values)
    # A proof covers the plan returned; a stability phase never lowers the main objective.
    return _finish(problem, "optimal" if status == "optimal" else "feasible", main_value,
                   main_value if status == "optimal" else max(bound, main_value), plan_visits,
                   routes, model, options, t0, info)


def _finish(problem: PlanRequest, status: Status, value: int, bound: int, visits: list[Visit],
            routes: list[Route], model: PlannerModel, options: SolveOptions, t0: float,
            info: dict[str, object]) -> Plan:
    served = {v.request for v in visits}
    unscheduled = (model.explainer.explain_unscheduled(served, visits, routes)
                   if options.explain else model.explainer.bare_unscheduled(served))
    plan = Plan(status=status, objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), solver=info)
    return replace(plan, kpis=plan_kpis(problem, plan, previous=options.previous))


def objective_value(problem: PlanRequest, visits: list[Visit], routes: list[Route]) -> int:
    """FORMAT.md's objective evaluated on a plan."""
    w = problem.objective
    prio = {q.id: q.priority for q in problem.requests}
    return (w.priority * sum(prio[v.request] for v in visits)
            - w.drive_minute * sum(r.drive_minutes for r in routes)
            - w.onsite_day * len({(r.expert, r.date) for r in routes}))


def _needed_legs(problem: PlanRequest) -> list[tuple[str, str]]:
    """Every leg a plan might drive: base to on-site places and back, and between them."""
    onsite = sorted({q.location for q in problem.requests if q.onsite})
    bases = sorted({e.base for e in problem.experts})
    legs = [(b, x) for b in bases for x in onsite] + [(x, b) for b in bases for x in onsite]
    return legs + [(x, y) for x in onsite for y in onsite if x != y]


def _read_solution(model: PlannerModel, solver: cp_model.CpSolver) -> dict[cp_model.IntVar, int]:
    out: dict[cp_model.IntVar, int] = {}
    for var in model.start.values():
        out[var] = solver.value(var)
    for var in model.on_date.values():
        out[var] = solver.value(var)
    for var in model.slot.values():
        out[var] = solver.value(var)
    for day in model.days.values():
        for var in day.arcs.values():
            out[var] = solver.value(var)
    return out


def _extract(problem: PlanRequest, travel: TravelTimes, model: PlannerModel,
             values: dict[cp_model.IntVar, int]) -> tuple[list[Visit], list[Route]]:
    visits: list[Visit] = []
    for q in problem.requests:
        if q.id not in model.start:
            continue
        date = next((d for (rid, d), v in model.on_date.items() if rid == q.id and values[v]),
                    None)
        if date is None:
            continue
        experts: list[str] = []
        for k in range(len(q.fields)):
            eid = next(e for (rid, kk, e, d), v in model.slot.items()
                       if rid == q.id and kk == k and d == date and values[v])
            experts.append(eid)
        start = values[model.start[q.id]]
        visits.append(Visit(q.id, tuple(experts), q.location, q.mode, date, start,
                            start + q.duration_min))
    routes = build_routes(problem, travel, visits)
    return visits, routes


def build_routes(problem: PlanRequest, travel: TravelTimes, visits: list[Visit]) -> list[Route]:
    """Routes per expert and date from on-site visits in start order: leave just in time for
    the first stop; after the last, hold any online consultations there, then drive home."""
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    online: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    for v in visits:
        for eid in v.experts:
            (per if v.mode == "onsite" else online)[eid, v.date].append(v)
    routes = []
    for (eid, d), vs in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        vs.sort(key=lambda v: v.start)
        base = problem.expert_by_id[eid].base
        stops = [v.location for v in vs]
        path = [base, *stops, base]
        drive = sum(travel.minutes(a, b) for a, b in zip(path, path[1:], strict=False))
        leave = vs[0].start - travel.minutes(base, stops[0])
        back = travel.minutes(stops[-1], base)
        ret = home_departure(vs[-1].end, back, [(o.start, o.end) for o in online[eid, d]]) + back
        routes.append(Route(eid, d, leave, ret, tuple(stops), drive))
    return routes


def _infeasible_plan(problem: PlanRequest, travel: TravelTimes, model: PlannerModel,
                     options: SolveOptions, elapsed: float, info: dict[str, object]) -> Plan:
    """Fixed visits that cannot all be kept: find a set of them that conflict and say so."""
    diag = PlannerModel(problem, travel, fixed_as_assumptions=True)
    diag.build()
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(1.0, options.time_limit)
    solver.parameters.random_seed = options.seed
    code = solver.solve(diag.m)
    names: list[str] = []
    if code == cp_model.INFEASIBLE:
        core = set(solver.sufficient_assumptions_for_infeasibility())
        names = [rid for rid, lit in diag.fixed_lits.items() if lit.index in core]
    if not names:
        names = sorted(diag.fixed_lits)
    unscheduled = model.explainer.infeasible_fixed(names)
    plan = Plan(status="infeasible", objective=None, bound=None, solve_seconds=elapsed,
                unscheduled=tuple(unscheduled),
                messages=(f"the fixed visit {names[0]} cannot be kept" if len(names) == 1 else
                          f"the fixed visits {', '.join(names)} cannot all be kept",),
                messages_ja=(f"確定済みの訪問 {', '.join(names)} をすべて守ることはできません",),
                solver={**info, "conflicting_fixed": names})
    return replace(plan, kpis=plan_kpis(problem, plan))


def _error_plan(problem: PlanRequest, message: str, elapsed: float,
                info: dict[str, object]) -> Plan:
    uns = tuple(bare_reason(q.id, "not planned: " + message, "未計画: " + message)
                for q in problem.requests)
    plan = Plan(status="error", objective=None, bound=None, solve_seconds=elapsed,
                unscheduled=uns, messages=(message,), solver=info)
    return replace(plan, kpis=plan_kpis(problem, plan))


