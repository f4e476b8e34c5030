"""The weekly planner: a CP-SAT model assigning consultations to experts, dates and times.

The model reads like the rules in docs/FORMAT.md ("A plan is valid when ..."): one method per
rule, named after it, with the rule in the coordinator's words. ``solve`` is the only entry
point; it returns a ``Plan`` (format ``plan/1``) and never raises for a problem that merely has
no good answer: that is a status.

The day as it really runs (``solvers.routes``): an expert's on-site day is one tour base →
stops → base; each leg is a block of its travel minutes placed anywhere between the stop before
it and the stop after it; the expert may wait anywhere and take online consultations anywhere
but inside a drive. Each on-site day chooses one of its *tours* (the orders of stops that fit
the stops' windows, the hours and the caps, enumerated up front with their exact driving
minutes); where a day has too many, a circuit over its legs takes their place.

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
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from ortools.sat.python import cp_model

from engine.kpis import plan_kpis
from engine.model import Expert, Plan, PlanRequest, Request, Route, Status, Visit, fmt_time
from engine.travel import TravelTimes
from solvers.explain import Explainer, bare_reason
from solvers.greedy import greedy_visits
from solvers.routes import Candidate, Tour, day_tours, leg_departures

__all__ = ["PlannerModel", "Progress", "SolveOptions", "build_routes", "objective_value", "solve"]


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

    ``time_limit`` in seconds of wall clock for the whole call, model building included;
    ``seed`` and ``workers`` go to CP-SAT: with ``workers=1`` (the default, and the fastest to a
    proof on the Ehime weeks, see benchmarks/README.md) the same seed gives the same plan when
    no time limit interrupts. ``previous`` is last week's plan: its visits stay unless they must
    move, the number moved minimised right after the main objective. ``travel_speed_factor``
    scales the estimated driving speed (scenarios). ``stop`` is polled a few times a second;
    when it returns true the search ends early and the best plan so far is returned (status
    ``feasible``), as on a time limit.
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
    """Variables of one expert on one date.

    Nodes of the day's tour: 0 is the base, ``i >= 1`` the on-site candidate ``onsite[i - 1]``.
    ``tours`` (with one literal each in ``tour_lits``) are the day's drivable orders when they
    were enumerated; otherwise ``arcs`` form a circuit. ``timed`` days carry start-time rules on
    their legs (joint, fixed or online consultations may meet them); on the others every
    enumerated tour fits by construction and its stops take the tour's earliest starts.
    """

    expert: Expert
    date: dt.date
    onsite: list[str] = field(default_factory=list)   # candidate on-site request ids
    online: list[str] = field(default_factory=list)
    arcs: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    on_day: cp_model.IntVar | None = None
    drive: cp_model.LinearExprT = 0
    tours: list[Tour] | None = None
    tour_lits: list[cp_model.IntVar] = field(default_factory=list)
    stop_sets: list[cp_model.IntVar] = field(default_factory=list)
    timed: bool = True

    def order_vars(self) -> list[int]:
        """Indices of the literals that choose the day's order of stops."""
        return [x.index for x in [*self.tour_lits, *self.arcs.values(), *self.stop_sets]]


class PlannerModel:
    """Builds the CP-SAT model of one ``PlanRequest``; ``add_*`` methods are the rules.

    ``use_tours`` (default) enumerates each day's tours where they are few; without it every day
    is a circuit over its legs. ``redundant`` adds the constraints that only tighten the bound
    (the cheapest tour of each set of stops, round trips) to circuit days. ``all_orders`` keeps
    every drivable order of every day (needed when start times matter everywhere, as when
    counting moved visits). ``fixed`` is ``"hard"`` (kept), ``"assume"`` (assumption literals,
    to find which cannot be kept together) or ``"soft"`` (literals the caller may maximise).
    """

    def __init__(self, problem: PlanRequest, travel: TravelTimes, *, fixed: str = "hard",
                 use_tours: bool = True, redundant: bool = True, all_orders: bool = False,
                 max_tours: int = 3000, max_tour_sets: int = 1500,
                 deadline: float | None = None, explainer: Explainer | None = None):
        self.p = problem
        self.travel = travel
        self.m = cp_model.CpModel()
        self.explainer = explainer or Explainer(problem, travel)
        self.options = self.explainer.options          # feasible (request, expert, date) windows
        self.fixed_mode = fixed
        self.use_tours = use_tours
        self.redundant = redundant
        self.all_orders = all_orders
        self.max_tours = max_tours
        self.max_tour_sets = max_tour_sets
        self.deadline = deadline
        self.fixed_lits: dict[str, cp_model.IntVar] = {}
        self.start: dict[str, cp_model.IntVar] = {}
        self.served: dict[str, cp_model.IntVar] = {}
        self.on_date: dict[tuple[str, dt.date], cp_model.IntVar] = {}
        self.slot: dict[tuple[str, int, str, dt.date], cp_model.IntVar] = {}
        self.present: dict[tuple[str, str, dt.date], cp_model.IntVar] = {}
        self.days: dict[tuple[str, dt.date], _ExpertDay] = {}
        self.keep: dict[str, cp_model.IntVar] = {}
        self._window: dict[tuple[str, str, dt.date], tuple[int, int]] = {}
        #: indices of the constraints and variables about start times (see ``build``)
        self.timing: list[int] = []
        self.timing_vars: list[int] = []
        self._choice = cp_model.CpModel()
        #: the expert-days of each group of the last ``day_groups`` call, in the same order
        self.group_days: list[list[tuple[str, dt.date]]] = []

    # ------------------------------------------------------------------ variables
    def build(self) -> None:
        """Every rule. The rules about start times (hours, legs, one thing at a time, drive
        blocks, published starts) are recorded in ``timing``: without them the model is the
        *choice* of tours and consultations, a relaxation that ``solve`` uses first."""
        self.add_choice_of_expert_date_and_start()
        self.add_one_expert_per_field()
        self.add_joint_visit_sync()
        self.add_tour_of_each_onsite_day()
        self.add_expert_caps()
        self.add_location_caps()
        self.add_fixed_visits()
        self._choice = self.m.clone()
        with self._timing_rules():
            self.add_hours_of_location_window_and_workday()
            self.add_travel_times_of_each_leg()
            self.add_no_double_booking_and_no_online_while_driving()
            self.add_published_starts()

    @contextlib.contextmanager
    def _timing_rules(self) -> Iterator[None]:
        first = len(self.m.proto.constraints)
        first_var = len(self.m.proto.variables)
        yield
        self.timing.extend(range(first, len(self.m.proto.constraints)))
        self.timing_vars.extend(range(first_var, len(self.m.proto.variables)))

    def choice_model(self) -> cp_model.CpModel:
        """The model without its timing rules: the choice of each day's tour and of the
        consultations served, with every cap and the objective (a relaxation: every plan is a
        solution). Its variables are the model's own (same indices); those of the timing rules
        are missing."""
        choice = self._choice.clone()
        if self.m.has_objective():
            choice.proto.objective.copy_from(self.m.proto.objective)
        return choice

    def decisions(self) -> list[int]:
        """Indices of the variables that make a plan up to its times: everything but the
        start times and the drive blocks."""
        times = {v.index for v in self.start.values()} | set(self.timing_vars)
        return [i for i in range(len(self.m.proto.variables)) if i not in times]

    def request_vars(self, rid: str) -> list[int]:
        """Indices of the literals that decide whether, when and by whom ``rid`` is served."""
        out = [self.served[rid].index] if rid in self.served else []
        out += [x.index for (r, _d), x in self.on_date.items() if r == rid]
        out += [x.index for (r, *_), x in self.slot.items() if r == rid]
        out += [x.index for (r, *_), x in self.present.items() if r == rid]
        return out

    def day_groups(self, value: Callable[[int], int]) -> list[list[int]]:
        """For a choice (``value`` of a variable index), the literals of each group of
        expert-days whose times hang together (days joined by a joint consultation), as the
        indices of the true literals that decide the group's timing: the day's tour (or legs),
        its consultations."""
        parent: dict[tuple[str, dt.date], tuple[str, dt.date]] = {}

        def find(k: tuple[str, dt.date]) -> tuple[str, dt.date]:
            while parent.setdefault(k, k) != k:
                k = parent[k]
            return k

        lits: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        by_req: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
        for (rid, eid, d), lit in self.present.items():
            if value(lit.index):
                by_req[rid].append((eid, d))
                day = self.days[eid, d]
                if day.tours is None or not self.p.request_by_id[rid].onsite:
                    lits[eid, d].append(lit.index)     # a chosen tour implies its stops
        for (eid, d), day in self.days.items():
            own = day.tour_lits if day.tours is not None else list(day.arcs.values())
            lits[eid, d].extend(x.index for x in own if value(x.index))
        for keys in by_req.values():
            for k in keys[1:]:
                parent[find(k)] = find(keys[0])
        groups: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        members: dict[tuple[str, dt.date], list[tuple[str, dt.date]]] = defaultdict(list)
        for k, xs in lits.items():
            groups[find(k)].extend(xs)
            members[find(k)].append(k)
        self.group_days = [members[k] for k in groups]
        return [sorted(set(xs)) for xs in groups.values()]

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _OutOfTime

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
            pinned = q.fixed is not None and self.fixed_mode == "hard"
            for o in opts:
                if pinned:
                    assert q.fixed is not None
                    # a published visit starts at its published time: its tours are built
                    # around that minute (an impossible one leaves it without tours)
                    self._window[q.id, o.expert, o.date] = (q.fixed.start, q.fixed.start) \
                        if o.lo <= q.fixed.start <= o.hi else (o.lo, o.lo - 1)
                else:
                    self._window[q.id, o.expert, o.date] = (o.lo, o.hi)
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
        """The consultation lies within the location's opening hours, the request's window and
        the expert's working hours; an on-site visit also leaves room to drive there from the
        base after work starts and back before it ends, by the shortest way (the exact legs of
        the chosen tour are ``add_travel_times_of_each_leg``)."""
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

    def _collect_days(self) -> None:
        for o_list in self.options.values():
            for o in o_list:
                key = (o.expert, o.date)
                if key not in self.days:
                    self.days[key] = _ExpertDay(self.p.expert_by_id[o.expert], o.date)
                req = self.p.request_by_id[o.request]
                (self.days[key].onsite if req.onsite else self.days[key].online).append(o.request)

    def _needs_times(self, day: _ExpertDay) -> bool:
        """Start times matter on a day when a consultation there may meet something outside
        its tour: an online consultation (no consulting while driving), a joint visit (same
        start as its partner), a fixed visit (a given start), or a count of moved visits."""
        if self.all_orders or day.online:
            return True
        return any(self.p.request_by_id[r].joint or self.p.request_by_id[r].fixed is not None
                   for r in day.onsite)

    def add_tour_of_each_onsite_day(self) -> None:
        """Each expert's on-site day is one tour base → stops → base within the stops' windows
        and the working hours, with at most the expert's daily visits and driving minutes; the
        day's driving is the sum of its legs. A day with few drivable tours chooses one of them
        (each with its exact driving); otherwise its legs form a circuit."""
        self._collect_days()
        for (eid, d), day in sorted(self.days.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            self._check_deadline()
            if not day.onsite:
                continue
            day.on_day = self.m.new_bool_var(f"onsite_day_{eid}_{d}")
            day.timed = self._needs_times(day)
            tours = self._tours(day, all_orders=day.timed, limit=self.max_tours) \
                if self.use_tours else None
            if tours is not None:
                self._choose_one_tour(day, tours)
            else:
                day.timed = True
                self._circuit_of_legs(day)
            for rid in day.onsite:
                self.m.add_implication(self.present[rid, eid, d], day.on_day)
            self.m.add(sum(self.present[r, eid, d] for r in day.onsite) >= day.on_day)
        if self.redundant:
            self.add_joint_visit_tours_agree()

    def _tours(self, day: _ExpertDay, *, all_orders: bool, limit: int) -> list[Tour] | None:
        e = day.expert
        return day_tours(e.base, self._candidates(day), self.travel.minutes, e.work_start, e.work_end,
                         max_stops=e.max_visits_per_day, max_drive=e.max_drive_minutes_per_day,
                         all_orders=all_orders, limit=limit, lower=self.travel.shortest)

    def _choose_one_tour(self, day: _ExpertDay, tours: list[Tour]) -> None:
        eid, d = day.expert.id, day.date
        assert day.on_day is not None
        covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        by_arc: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
        for tour in tours:
            lit = self.m.new_bool_var(
                f"tour_{eid}_{d}_{'-'.join(day.onsite[i] for i in tour.order)}")
            day.tour_lits.append(lit)
            nodes = [0, *(i + 1 for i in tour.order), 0]
            for i in tour.order:
                covering[i + 1].append(lit)
            if day.timed:
                for a, b in itertools.pairwise(nodes):
                    by_arc[a, b].append(lit)
        day.tours = tours
        self.m.add(sum(day.tour_lits) == day.on_day)
        for i, rid in enumerate(day.onsite, start=1):
            self.m.add(sum(covering.get(i, [])) == self.present[rid, eid, d])
        day.drive = sum(t.drive * lit for t, lit in zip(tours, day.tour_lits, strict=True)
                        if t.drive)
        for (a, b), lits in by_arc.items():
            if len(lits) == 1:
                day.arcs[a, b] = lits[0]
            else:
                arc = self.m.new_bool_var(f"leg_{eid}_{d}_{a}_{b}")
                self.m.add(sum(lits) == arc)
                day.arcs[a, b] = arc
        if day.timed and self.redundant:
            self.add_tour_leaves_room_for_online(day)

    def _candidates(self, day: _ExpertDay) -> list[Candidate]:
        out = []
        for rid in day.onsite:
            q = self.p.request_by_id[rid]
            lo, hi = self._window[rid, day.expert.id, day.date]
            out.append(Candidate(q.location, q.duration_min, lo, hi))
        return out

    def add_tour_leaves_room_for_online(self, day: _ExpertDay) -> None:
        """(Redundant, for a strong bound.) A tour and an online consultation that cannot fit
        beside it are never chosen together, and the day's drives, stops and online
        consultations fit in the working day."""
        e, d = day.expert, day.date
        assert day.tours is not None
        cands = self._candidates(day)
        for tour, lit in zip(day.tours, day.tour_lits, strict=True):
            for rid in day.online:
                q = self.p.request_by_id[rid]
                lo, hi = self._window[rid, e.id, d]
                if not tour.fits_beside(e.base, cands, self.travel.minutes, e.work_start,
                                        e.work_end, lo, hi, q.duration_min):
                    self.m.add_bool_or([~lit, ~self.present[rid, e.id, d]])
        if day.online:
            busy = [(t.drive + sum(cands[i].duration for i in t.order)) * lit
                    for t, lit in zip(day.tours, day.tour_lits, strict=True)]
            online = [self.p.request_by_id[r].duration_min * self.present[r, e.id, d]
                      for r in day.online]
            self.m.add(sum(busy) + sum(online) <= e.work_end - e.work_start)

    def add_joint_visit_tours_agree(self) -> None:
        """(Redundant, for a strong bound.) The experts of a joint visit choose tours in which
        the visit can start at a common time: each tour bounds the visit's start between its
        earliest and latest start there, on one shared scale per visit and date (literals
        "starts at or after t", one per distinct bound), so that two tours whose bounds do
        not meet are never chosen together."""
        spans: dict[tuple[str, dt.date], list[tuple[int, int, cp_model.IntVar]]]
        spans = defaultdict(list)
        experts: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
        for (eid, d), day in self.days.items():
            if day.tours is None:
                continue
            for i, rid in enumerate(day.onsite):
                if not self.p.request_by_id[rid].joint:
                    continue
                for tour, lit in zip(day.tours, day.tour_lits, strict=True):
                    if i in tour.order:
                        pos = tour.order.index(i)
                        spans[rid, d].append((tour.starts[pos], tour.latest[pos], lit))
                        experts[rid, d].add(eid)
        for (rid, d), items in spans.items():
            if len(experts[rid, d]) < 2:
                continue
            cuts = sorted({lo for lo, _, _ in items} | {hi + 1 for _, hi, _ in items})
            at_least = {t: self.m.new_bool_var(f"joint_{rid}_{d}_from_{t}") for t in cuts}
            for t1, t2 in itertools.pairwise(cuts):
                self.m.add_implication(at_least[t2], at_least[t1])
            for lo, hi, lit in items:
                self.m.add_implication(lit, at_least[lo])
                self.m.add_implication(lit, ~at_least[hi + 1])

    def _circuit_of_legs(self, day: _ExpertDay) -> None:
        e, d = day.expert, day.date
        assert day.on_day is not None
        nodes = day.onsite
        locs = [e.base] + [self.p.request_by_id[r].location for r in nodes]
        arcs: list[tuple[int, int, cp_model.LiteralT]] = [(0, 0, ~day.on_day)]
        drive_terms = []
        for i in range(len(locs)):
            for j in range(len(locs)):
                if i == j or not self._leg_possible(day, locs, i, j):
                    continue
                lit = self.m.new_bool_var(f"leg_{e.id}_{d}_{i}_{j}")
                day.arcs[i, j] = lit
                arcs.append((i, j, lit))
                t = self.travel.minutes(locs[i], locs[j])
                if t:
                    drive_terms.append(t * lit)
        for i, rid in enumerate(nodes, start=1):
            arcs.append((i, i, ~self.present[rid, e.id, d]))
        self.m.add_circuit(arcs)
        day.drive = sum(drive_terms)
        if self.redundant:
            sets = self._tours(day, all_orders=False, limit=self.max_tour_sets)
            if sets is not None:
                self.add_cheapest_tour_of_each_stop_set(day, sets)
            else:
                self.add_round_trip_lower_bound(day, locs)

    def _leg_possible(self, day: _ExpertDay, locs: list[str], i: int, j: int) -> bool:
        """Whether ``j`` can directly follow ``i`` (0: the base) on this expert-day: the
        earliest end of ``i`` plus the drive must meet ``j``'s latest start (the base: the end
        of work), and a tour through both must stay within the day's drive cap. Impossible legs
        get no variable at all."""
        e = day.expert
        t_ij = self.travel.minutes(locs[i], locs[j])
        if i and j:
            lo_i, _ = self._window[day.onsite[i - 1], e.id, day.date]
            _, hi_j = self._window[day.onsite[j - 1], e.id, day.date]
            dur_i = self.p.request_by_id[day.onsite[i - 1]].duration_min
            if lo_i + dur_i + t_ij > hi_j:
                return False
        elif j:
            _, hi_j = self._window[day.onsite[j - 1], e.id, day.date]
            if e.work_start + t_ij > hi_j:
                return False
        else:
            lo_i, _ = self._window[day.onsite[i - 1], e.id, day.date]
            dur_i = self.p.request_by_id[day.onsite[i - 1]].duration_min
            if lo_i + dur_i + t_ij > e.work_end:
                return False
        cap = e.max_drive_minutes_per_day
        if cap is not None:
            sp = self.travel.shortest
            if sp(locs[0], locs[i]) + t_ij + sp(locs[j], locs[0]) > cap:
                return False
        return True

    def add_round_trip_lower_bound(self, day: _ExpertDay, locs: list[str]) -> None:
        """(Redundant, for a strong bound.) A day's driving is at least the shortest round trip
        from the base to each of its stops."""
        sp = self.travel.shortest
        base = locs[0]
        for j, rid in enumerate(day.onsite, start=1):
            rt = sp(base, locs[j]) + sp(locs[j], base)
            if rt:
                self.m.add(day.drive >= rt * self.present[rid, day.expert.id, day.date])

    def add_cheapest_tour_of_each_stop_set(self, day: _ExpertDay, sets: list[Tour]) -> None:
        """(Redundant, for a strong bound.) A circuit day visits exactly one set of stops that
        some drivable order covers; its driving is at least that of the set's cheapest order."""
        assert day.on_day is not None
        eid, d = day.expert.id, day.date
        cover: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        choices, costs = [], []
        for tour in sets:
            lit = self.m.new_bool_var(
                f"stopset_{eid}_{d}_{'-'.join(sorted(day.onsite[i] for i in tour.order))}")
            choices.append(lit)
            day.stop_sets.append(lit)
            costs.append(tour.drive)
            for i in tour.order:
                cover[i + 1].append(lit)
        self.m.add(sum(choices) == day.on_day)
        for i, rid in enumerate(day.onsite, start=1):
            self.m.add(sum(cover.get(i, [])) == self.present[rid, eid, d])
        self.m.add(day.drive >= sum(c * lit for c, lit in zip(costs, choices, strict=True) if c))

    def add_travel_times_of_each_leg(self) -> None:
        """Each leg leaves at least its travel minutes: the first stop starts no earlier than
        work start plus the drive from the base, each next stop no earlier than the end of the
        one before plus the drive between them, and the drive home from the last stop ends by
        the end of work."""
        for (_eid, _d), day in self.days.items():
            if not day.timed or not day.arcs:
                continue
            e = day.expert
            locs = [e.base] + [self.p.request_by_id[r].location for r in day.onsite]
            for (i, j), lit in day.arcs.items():
                t = self.travel.minutes(locs[i], locs[j])
                if i == 0:
                    sj = self.start[day.onsite[j - 1]]
                    self.m.add(sj >= e.work_start + t).only_enforce_if(lit)
                elif j == 0:
                    qi = self.p.request_by_id[day.onsite[i - 1]]
                    self.m.add(self.start[qi.id] + qi.duration_min + t <= e.work_end
                               ).only_enforce_if(lit)
                else:
                    qi = self.p.request_by_id[day.onsite[i - 1]]
                    sj = self.start[day.onsite[j - 1]]
                    self.m.add(sj >= self.start[qi.id] + qi.duration_min + t).only_enforce_if(lit)

    def add_no_double_booking_and_no_online_while_driving(self) -> None:
        """An expert does one thing at a time: consultations on site and online, and each leg's
        drive, a block of its travel minutes placed anywhere between the end of the stop before
        it (or the start of work) and the start of the stop after it (or the end of work).
        Waiting is allowed anywhere, online consultations anywhere but inside a drive."""
        for (eid, d), day in self.days.items():
            if not day.online:
                # Only on-site visits: the tour's legs already keep them apart in time.
                continue
            e = day.expert
            intervals = []
            nodes = day.onsite
            locs = [e.base] + [self.p.request_by_id[r].location for r in nodes]
            for j, rid in enumerate(nodes, start=1):
                q = self.p.request_by_id[rid]
                p = self.present[rid, eid, d]
                s = self.start[rid]
                intervals.append(self.m.new_optional_fixed_size_interval_var(
                    s, q.duration_min, p, f"visit_{rid}_{eid}_{d}"))
                inbound = [(i, self.travel.minutes(locs[i], locs[j]), lit)
                           for (i, jj), lit in day.arcs.items() if jj == j]
                if not inbound:
                    continue
                intervals.append(self._drive_block(
                    f"drive_to_{rid}_{eid}_{d}", e, nodes, inbound, p, before=s))
            if day.on_day is not None and day.arcs:
                home = [(i, self.travel.minutes(locs[i], e.base), lit)
                        for (i, j), lit in day.arcs.items() if j == 0]
                if home:
                    intervals.append(self._drive_block(
                        f"drive_home_{eid}_{d}", e, nodes, home, day.on_day, before=None))
            for rid in day.online:
                q = self.p.request_by_id[rid]
                intervals.append(self.m.new_optional_fixed_size_interval_var(
                    self.start[rid], q.duration_min, self.present[rid, eid, d],
                    f"online_{rid}_{eid}_{d}"))
            if len(intervals) > 1:
                self.m.add_no_overlap(intervals)

    def _drive_block(self, name: str, e: Expert, nodes: list[str],
                     legs: list[tuple[int, int, cp_model.IntVar]], present: cp_model.LiteralT,
                     before: cp_model.IntVar | None) -> cp_model.IntervalVar:
        """One drive as an interval: its length is the minutes of the leg taken (one of
        ``legs``: (from node, minutes, literal)); it begins after the stop it leaves ends (or
        after work starts) and ends before ``before`` starts (or work ends)."""
        lengths = sorted({t for _, t, _ in legs})
        size: cp_model.LinearExprT
        if len(lengths) == 1:
            size = lengths[0]
        else:
            size_var = self.m.new_int_var_from_domain(
                cp_model.Domain.from_values(lengths), f"{name}_minutes")
            self.m.add(size_var == sum(t * lit for _, t, lit in legs if t)).only_enforce_if(present)
            size = size_var
        begin = self.m.new_int_var(e.work_start, e.work_end, f"{name}_from")
        end = self.m.new_int_var(e.work_start, e.work_end, f"{name}_to")
        for i, _, lit in legs:
            if i:
                qi = self.p.request_by_id[nodes[i - 1]]
                self.m.add(begin >= self.start[qi.id] + qi.duration_min).only_enforce_if(lit)
        if before is not None:
            self.m.add(end <= before).only_enforce_if(present)
        return self.m.new_optional_interval_var(begin, size, end, present, name)

    def add_expert_caps(self) -> None:
        """An expert's on-site visits per day and in total, on-site days in the horizon (the
        contracted visit days) and driving per day stay within the expert's caps (a day that
        chooses among its tours has only tours within the daily caps)."""
        per_expert_visits: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        per_expert_days: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for (eid, d), day in self.days.items():
            lits = [self.present[r, eid, d] for r in day.onsite]
            per_expert_visits[eid].extend(lits)
            if day.on_day is not None:
                per_expert_days[eid].append(day.on_day)
            if day.tours is not None:
                continue
            cap = day.expert.max_visits_per_day
            if cap is not None and len(lits) > cap:
                self.m.add(sum(lits) <= cap)
            drive_cap = day.expert.max_drive_minutes_per_day
            if drive_cap is not None and day.on_day is not None:
                self.m.add(day.drive <= drive_cap)
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
        """A published (fixed) visit is kept exactly: its experts, its date (and its start,
        ``add_published_starts``)."""
        for q in self.p.requests:
            if q.fixed is None:
                continue
            f = q.fixed
            lit = self.m.new_bool_var(f"keep_fixed_{q.id}")
            self.fixed_lits[q.id] = lit
            if self.fixed_mode == "hard":
                self.m.add(lit == 1)
            if q.id not in self.start or (q.id, f.date) not in self.on_date:
                # No way to serve it on its date at all: keeping it is impossible.
                self.m.add_bool_or([~lit])
                continue
            self.m.add(self.on_date[q.id, f.date] == 1).only_enforce_if(lit)
            for eid in f.experts:
                p = self.present.get((q.id, eid, f.date))
                if p is None:
                    self.m.add_bool_or([~lit])
                else:
                    self.m.add_implication(lit, p)
        if self.fixed_mode == "assume" and self.fixed_lits:
            self.m.add_assumptions(list(self.fixed_lits.values()))

    def add_published_starts(self) -> None:
        """A published (fixed) visit kept starts at its published time."""
        for rid, lit in self.fixed_lits.items():
            f = self.p.request_by_id[rid].fixed
            if f is not None and rid in self.start:
                self.m.add(self.start[rid] == f.start).only_enforce_if(lit)

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

    # ------------------------------------------------------------------ hints and reading
    def hint_plan(self, visits: list[Visit], *, complete: bool = False) -> list[int] | None:
        """Hint a plan (e.g. the greedy one) so that the search starts from it. With
        ``complete`` its choices are fixed in a quick probe solve that fills in every other
        variable (times, drive blocks), which CP-SAT needs to take a hint as its first
        solution of the full model; the completed values are returned (None if the probe
        found none)."""
        by_req = {v.request: v for v in visits}
        hint: dict[cp_model.IntVar, int] = {}
        for q in self.p.requests:
            if q.id not in self.start:
                continue
            v = by_req.get(q.id)
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
            index = {r: i for i, r in enumerate(day.onsite)}
            order = tuple(index[v.request] for v in stops)
            if day.tours is not None:
                chosen = _tour_index(day.tours, order, exact=day.timed)
                for k, lit in enumerate(day.tour_lits):
                    hint[lit] = int(k == chosen)
            path = [0, *(i + 1 for i in order), 0] if stops else []
            used = set(itertools.pairwise(path))
            if day.tours is None or day.timed:
                for (i, j), lit in day.arcs.items():
                    hint[lit] = int((i, j) in used)
        self.m.clear_hints()
        if complete:
            values = self._complete_hint(hint)
            if values is not None:
                return values
        for var, value in hint.items():
            self.m.add_hint(var, value)
        return None

    def _complete_hint(self, hint: dict[cp_model.IntVar, int]) -> list[int] | None:
        probe = self.m.clone()
        for var, value in hint.items():
            probe.add(probe.get_int_var_from_proto_index(var.index) == value)
        probe.clear_objective()
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 2.0
        if self.deadline is not None:
            solver.parameters.max_time_in_seconds = max(
                0.01, min(2.0, self.deadline - time.perf_counter()))
        solver.parameters.stop_after_first_solution = True
        if solver.solve(probe) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = list(solver.response_proto.solution)
            for i, v in enumerate(values):
                self.m.add_hint(self.m.get_int_var_from_proto_index(i), v)
            return values
        return None

    def read_plan(self, value: Callable[[cp_model.IntVar], int]) -> tuple[list[Visit], list[Route]]:
        """The visits and routes of a solution (``value`` reads a variable)."""
        chosen_date = {rid: d for (rid, d), lit in self.on_date.items() if value(lit)}
        starts: dict[str, int] = {}
        tours: dict[tuple[str, dt.date], list[str]] = {}
        for (eid, d), day in self.days.items():
            if day.on_day is None or not value(day.on_day):
                continue
            if day.tours is not None:
                k = next(k for k, lit in enumerate(day.tour_lits) if value(lit))
                tour = day.tours[k]
                order = [day.onsite[i] for i in tour.order]
                if not day.timed:
                    starts.update(zip(order, tour.starts, strict=True))
            else:
                succ = {i: j for (i, j), lit in day.arcs.items() if value(lit)}
                order, node = [], succ[0]
                while node:
                    order.append(day.onsite[node - 1])
                    node = succ[node]
            tours[eid, d] = order
        visits: list[Visit] = []
        for q in self.p.requests:
            date = chosen_date.get(q.id)
            if date is None:
                continue
            experts = [next(e for (rid, kk, e, d), v in self.slot.items()
                            if rid == q.id and kk == k and d == date and value(v))
                       for k in range(len(q.fields))]
            start = starts.get(q.id, value(self.start[q.id]))
            visits.append(Visit(q.id, tuple(experts), q.location, q.mode, date, start,
                                start + q.duration_min))
        return visits, build_routes(self.p, self.travel, visits, orders=tours)


class _OutOfTime(Exception):
    """The time limit ran out while the model was being built."""


def _tour_index(tours: list[Tour], order: tuple[int, ...], *, exact: bool) -> int | None:
    """Which enumerated tour drives ``order`` (``exact``), or covers its set of stops."""
    if not order:
        return None
    want = frozenset(order)
    for k, tour in enumerate(tours):
        if tour.order == order or (not exact and frozenset(tour.order) == want):
            return k
    return None


def build_routes(problem: PlanRequest, travel: TravelTimes, visits: list[Visit], *,
                 orders: dict[tuple[str, dt.date], list[str]] | None = None) -> list[Route]:
    """Routes per expert and date from the on-site visits (in start order), each leg's
    departure placed by ``solvers.routes.leg_departures`` around the day's online
    consultations. A day that cannot run that way (an invalid set of visits) gets legs just in
    time and straight home, so that the checker names what is wrong."""
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    online: dict[tuple[str, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for v in visits:
        for eid in v.experts:
            if v.mode == "onsite":
                per[eid, v.date].append(v)
            else:
                online[eid, v.date].append((v.start, v.end))
    routes = []
    for (eid, d), vs in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        vs.sort(key=lambda v: (v.start, v.end))
        e = problem.expert_by_id[eid]
        stops = [(v.start, v.end, v.location) for v in vs]
        path = [e.base, *(v.location for v in vs), e.base]
        legs = [travel.minutes(a, b) for a, b in itertools.pairwise(path)]
        deps = leg_departures(e.base, stops, online[eid, d], travel.minutes, e.work_start,
                              e.work_end)
        if deps is None:
            deps = (vs[0].start - legs[0], *(v.end for v in vs))
        routes.append(Route(eid, d, deps[0], deps[-1] + legs[-1], tuple(path[1:-1]), sum(legs),
                            tuple(deps)))
    return routes


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
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.random_seed = options.seed
    solver.parameters.num_workers = max(1, options.workers)
    # The served-priority part of the objective is a sum of at-most-one choices; only the
    # fuller linearisation puts those in the LP, which makes the bound tight from the root.
    solver.parameters.linearization_level = 2
    # Presolve probing costs more than it saves on these models (benchmarks/README.md).
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
    deadline = t0 + options.time_limit
    travel = TravelTimes(problem, speed_factor=options.travel_speed_factor)
    travel.check(_needed_legs(problem))
    info: dict[str, object] = {"seed": options.seed, "workers": options.workers,
                               "time_limit": options.time_limit}
    explainer = Explainer(problem, travel)
    # A valid first plan in milliseconds: the search starts from it, and it is the answer
    # when the search finds nothing better in time.
    greedy = greedy_visits(problem, travel, explainer.options, options.previous)
    greedy_routes = build_routes(problem, travel, greedy)
    greedy_value = objective_value(problem, greedy, greedy_routes)
    greedy_ok = all(q.id in {v.request for v in greedy} for q in problem.requests if q.fixed)
    model = PlannerModel(problem, travel, all_orders=options.previous is not None,
                         deadline=deadline, explainer=explainer)
    try:
        model.build()
        objective = model.main_objective()
        model.m.maximize(objective)
        model.hint_plan(greedy)
    except _OutOfTime:
        if not greedy_ok:
            return _error_plan(problem, "no plan found within the time limit",
                               time.perf_counter() - t0, info)
        info["first_plan"] = "greedy"
        return _finish(problem, "feasible", greedy_value,
                       max(_trivial_bound(problem, explainer), greedy_value), greedy,
                       greedy_routes, explainer, options, t0, info)
    found = _search(model, objective, options, t0, deadline, greedy)
    if found.status == "infeasible":
        return _release_fixed(problem, travel, explainer, options, t0, deadline, info)
    if found.values is None or found.objective is None:
        if not greedy_ok:
            return _error_plan(problem, "no plan found within the time limit",
                               time.perf_counter() - t0, info)
        info["first_plan"] = "greedy"
        bound = found.bound if found.bound is not None else _trivial_bound(problem, explainer)
        return _finish(problem, "feasible", greedy_value, max(bound, greedy_value), greedy,
                       greedy_routes, explainer, options, t0, info)
    values = found.values
    main_value = found.objective
    bound = found.bound if found.bound is not None else _trivial_bound(problem, explainer)
    if options.previous is not None and options.previous.visits:
        moved = model.moved_visits(options.previous)
        model.m.add(objective >= main_value)
        model.m.clear_objective()
        model.m.minimize(moved)
        model.m.clear_hints()
        for i, val in enumerate(values):
            model.m.add_hint(model.m.get_int_var_from_proto_index(i), val)
        solver2 = _solver(options, deadline - time.perf_counter())
        with _stop_watch(solver2, options.stop):
            code2 = solver2.solve(model.m, _Callback(options.progress, t0, "stability"))
        if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = list(solver2.response_proto.solution)
            main_value = int(round(solver2.value(objective)))
            info["moved"] = int(round(solver2.objective_value))
            info["moved_optimal"] = code2 == cp_model.OPTIMAL
    plan_visits, routes = model.read_plan(lambda var: values[var.index])
    # A proof covers the plan returned; a stability phase never lowers the main objective.
    optimal = found.status == "optimal"
    return _finish(problem, "optimal" if optimal else "feasible", main_value,
                   main_value if optimal else max(bound, main_value), plan_visits,
                   routes, explainer, options, t0, info)


@dataclass
class _Found:
    """The search's answer: CP-SAT status name, a full solution (variable values by index)
    with its objective, and the proven bound."""

    status: str
    values: list[int] | None
    objective: int | None
    bound: int | None


def _fix(model: cp_model.CpModel, values: dict[int, int]) -> None:
    for i, v in values.items():
        var = model.get_int_var_from_proto_index(i)
        model.add(var == v)


def _search(model: PlannerModel, objective: cp_model.LinearExprT, options: SolveOptions,
            t0: float, deadline: float, first: list[Visit]) -> _Found:
    """Choose first, then time: solve the model without its timing rules (the choice of
    tours and consultations, fast and with a tight bound); when the times of the chosen plan
    work out, that plan is optimal, proven. When some day's times do not, that day's choice
    (its tour with its online and joint consultations) is cut from the choice model, the rest
    of the plan is repaired with the full model, and the choice is solved again. After a few
    rounds (or a third of the time), the full model takes over from the best plan found, with
    the choice model's bound as a constraint.

    This is exact: the choice model is a relaxation of the full model (every cut removes only
    choices no timing can make work), so its optimum bounds every plan, and a plan that meets
    it is optimal."""
    choice = model.choice_model()
    n_choice = len(choice.proto.variables)
    hint = model.m.proto.solution_hint
    for i, v in zip(hint.vars, hint.values, strict=True):
        if i < n_choice:
            choice.add_hint(choice.get_int_var_from_proto_index(i), v)
    decisions = model.decisions()
    all_orders = {i for day in model.days.values() for i in day.order_vars()}
    best = _Found("unknown", None, None, None)
    budget = t0 + (deadline - t0) / 3
    bound: int | None = None
    for _round in range(_CHOICE_ROUNDS):
        if time.perf_counter() > budget:
            break
        solver = _solver(options, budget - time.perf_counter())
        # The choice model's LP is small: all of it from the start proves faster (about 2x on
        # the Ehime weeks, benchmarks/README.md).
        solver.parameters.add_lp_constraints_lazily = False
        with _stop_watch(solver, options.stop):
            code = solver.solve(choice)
        if code == cp_model.INFEASIBLE:
            return _Found("infeasible", None, None, None)
        if code != cp_model.OPTIMAL:
            if code == cp_model.FEASIBLE:
                bound = int(round(solver.best_objective_bound))
            break
        bound = int(round(solver.objective_value))
        chosen = list(solver.response_proto.solution)
        # The chosen consultations with times, the days' orders free to change: when this
        # meets the choice's objective, it is optimal.
        repaired = _repair(model, objective, options,
                           {i: chosen[i] for i in decisions if i not in all_orders}, deadline)
        if repaired is not None:
            value = _value_of(model, objective, repaired)
            if value >= bound:
                return _Found("optimal", repaired, value, value)
            if best.objective is None or value > best.objective:
                best = _Found("feasible", repaired, value, bound)
        groups = model.day_groups(chosen.__getitem__)
        bad = [k for k, g in enumerate(groups) if _time_the_choice(
            model, options, {i: 1 for i in g}, deadline) is None]
        bad_days = {day for k in bad for day in model.group_days[k]}
        # Repair: other orders on the days that failed, then those days decided anew.
        free_orders = {i for day in bad_days for i in model.days[day].order_vars()}
        on_bad_days = {rid for (rid, eid, d), lit in model.present.items()
                       if (eid, d) in bad_days and chosen[lit.index]}
        free_days = free_orders | {i for r in on_bad_days for i in model.request_vars(r)} | {
            model.days[day].on_day.index for day in bad_days           # type: ignore[union-attr]
            if model.days[day].on_day is not None}
        for free in (free_days,):
            repaired = _repair(model, objective, options,
                               {i: chosen[i] for i in decisions if i not in free}, deadline)
            if repaired is None:
                continue
            value = _value_of(model, objective, repaired)
            if best.objective is None or value > best.objective:
                best = _Found("feasible", repaired, value, bound)
                if options.progress is not None:
                    options.progress(Progress(time.perf_counter() - t0, value, bound, _round + 1))
            if value >= bound:
                return _Found("optimal", repaired, value, value)
        if not bad:
            break            # no single group explains it: the full search decides
        for k in bad:
            choice.add_bool_or([~choice.get_bool_var_from_proto_index(i) for i in groups[k]])
        choice.clear_hints()
        for i, v in enumerate(chosen):
            choice.add_hint(choice.get_int_var_from_proto_index(i), v)
    # The full model from the best plan, with the choice model's bound.
    if best.values is None:
        values = model.hint_plan(first, complete=True)
        if values is not None:
            best = _Found("feasible", values, _value_of(model, objective, values), bound)
    full = model.m.clone()
    if bound is not None:
        full.add(objective <= bound)
    if best.values is not None:
        full.clear_hints()
        for i, v in enumerate(best.values):
            full.add_hint(full.get_int_var_from_proto_index(i), v)
    solver = _solver(options, deadline - time.perf_counter())
    with _stop_watch(solver, options.stop):
        code = solver.solve(full, _Callback(options.progress, t0, "main"))
    if code == cp_model.INFEASIBLE:
        if best.values is not None and bound is not None:
            # nothing better than the best plan within the bound: it meets the bound
            return _Found("optimal", best.values, best.objective, best.objective)
        return _Found("infeasible", None, None, None)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = int(round(solver.objective_value))
        proven = int(round(solver.best_objective_bound))
        if bound is not None:
            proven = min(proven, bound)
        if best.objective is None or value >= best.objective:
            status = "optimal" if code == cp_model.OPTIMAL else "feasible"
            return _Found(status, list(solver.response_proto.solution), value,
                          max(proven, value))
        return _Found("feasible", best.values, best.objective, max(proven, best.objective))
    return _Found("feasible" if best.values is not None else "unknown", best.values,
                  best.objective, bound)


_CHOICE_ROUNDS = 12


def _value_of(model: PlannerModel, objective: cp_model.LinearExprT, values: list[int]) -> int:
    if isinstance(objective, int):
        return objective
    flat = cp_model.FlatIntExpr(objective)
    return int(flat.offset + sum(c * values[v.index]
                                 for v, c in zip(flat.vars, flat.coeffs, strict=True)))


def _time_the_choice(model: PlannerModel, options: SolveOptions, fixed: dict[int, int],
                     deadline: float) -> list[int] | None:
    """A full solution with these decision values (times found by CP-SAT), or None when no
    times make them work."""
    probe = model.m.clone()
    probe.clear_objective()
    probe.clear_hints()
    _fix(probe, fixed)
    solver = _solver(options, max(0.01, min(5.0, deadline - time.perf_counter())))
    solver.parameters.stop_after_first_solution = True
    code = solver.solve(probe)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution)
    return None


def _repair(model: PlannerModel, objective: cp_model.LinearExprT, options: SolveOptions,
            fixed: dict[int, int], deadline: float) -> list[int] | None:
    """The best plan that keeps these decisions (the days whose times worked out) and
    re-decides the rest with every rule."""
    probe = model.m.clone()
    probe.clear_hints()
    _fix(probe, fixed)
    solver = _solver(options, max(0.01, min(2.0, (deadline - time.perf_counter()) / 4)))
    code = solver.solve(probe)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return list(solver.response_proto.solution)
    return None


def _trivial_bound(problem: PlanRequest, explainer: Explainer) -> int:
    """The bound every plan obeys: all servable priority, no driving."""
    return problem.objective.priority * sum(q.priority for q in problem.requests
                                            if explainer.options.get(q.id))


def _finish(problem: PlanRequest, status: Status, value: int | None, bound: int | None,
            visits: list[Visit], routes: list[Route], explainer: Explainer,
            options: SolveOptions, t0: float, info: dict[str, object], *,
            released: dict[str, tuple[str, ...] | None] | None = None,
            messages: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> Plan:
    served = {v.request for v in visits}
    unscheduled = (explainer.explain_unscheduled(served, visits, routes, released=released)
                   if options.explain else explainer.bare_unscheduled(served, released=released))
    plan = Plan(status=status, objective=value, bound=bound,
                solve_seconds=time.perf_counter() - t0, visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), messages=messages[0],
                messages_ja=messages[1], solver=info)
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


# ---------------------------------------------------------------------- fixed visits that clash

def _release_fixed(problem: PlanRequest, travel: TravelTimes, explainer: Explainer,
                   options: SolveOptions, t0: float, deadline: float,
                   info: dict[str, object]) -> Plan:
    """Fixed visits that cannot all be kept: release the fewest of them, plan the rest, and say
    which were released and what each clashes with. The status stays ``infeasible`` (the
    published visits cannot all be kept); the plan beside it is usable as it stands."""
    soft = PlannerModel(problem, travel, fixed="soft", deadline=deadline, explainer=explainer)
    try:
        soft.build()
    except _OutOfTime:
        return _unreleased_error(problem, explainer, t0, info)
    kept = sum(soft.fixed_lits.values())
    soft.m.maximize(kept)
    first = _solver(options, (deadline - time.perf_counter()) / 2)
    with _stop_watch(first, options.stop):
        code = first.solve(soft.m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _unreleased_error(problem, explainer, t0, info)
    n_kept = int(round(first.objective_value))
    info["released_fewest"] = code == cp_model.OPTIMAL
    objective = soft.main_objective()
    soft.m.add(kept >= n_kept)
    soft.m.clear_objective()
    soft.m.maximize(objective)
    soft.m.clear_hints()
    for i, val in enumerate(first.response_proto.solution):
        soft.m.add_hint(soft.m.get_int_var_from_proto_index(i), val)
    second = _solver(options, deadline - time.perf_counter())
    with _stop_watch(second, options.stop):
        code2 = second.solve(soft.m, _Callback(options.progress, t0, "main"))
    best = second if code2 in (cp_model.OPTIMAL, cp_model.FEASIBLE) else first
    released = sorted(rid for rid, lit in soft.fixed_lits.items() if not best.value(lit))
    visits, routes = soft.read_plan(best.value)
    value = objective_value(problem, visits, routes)
    bound = (value if code2 == cp_model.OPTIMAL
             else max(value, int(round(second.best_objective_bound))) if best is second
             else _trivial_bound(problem, explainer))
    clashes = {rid: _clash_partners(problem, travel, explainer, rid,
                                    [r for r in soft.fixed_lits if r not in released], deadline)
               for rid in released}
    info["released_fixed"] = released
    info["conflicting_fixed"] = sorted({*released, *(x for c in clashes.values() if c for x in c)})
    planned = {v.request: v for v in visits}
    en, ja = [], []
    for rid, partners in clashes.items():
        f = problem.request_by_id[rid].fixed
        assert f is not None
        was = f"{f.date.month}/{f.date.day} {fmt_time(f.start)}"
        why_en = f"clashes with {', '.join(partners)}" if partners else "cannot be kept"
        why_ja = f"{', '.join(partners)} と衝突" if partners else "そのままでは守れません"
        v = planned.get(rid)
        if v is not None:
            now = f"{v.date.month}/{v.date.day} {fmt_time(v.start)}"
            en.append(f"{rid} ({was}) {why_en}: planned at {now} instead")
            ja.append(f"{rid}（{was}）は{why_ja}ため {now} に変更")
        else:
            en.append(f"{rid} ({was}) {why_en}: left out")
            ja.append(f"{rid}（{was}）は{why_ja}ため外しました")
    messages = ((f"the published visits cannot all be kept; released {len(released)}: "
                 + "; ".join(en),),
                (f"公開済みの訪問をすべて守ることはできません。{len(released)} 件を外しました: "
                 + "、".join(ja),))
    return _finish(problem, "infeasible", value, bound, visits, routes, explainer, options, t0,
                   info, released=clashes, messages=messages)


def _clash_partners(problem: PlanRequest, travel: TravelTimes, explainer: Explainer, rid: str,
                    kept: list[str], deadline: float) -> tuple[str, ...] | None:
    """The kept fixed visits that ``rid`` cannot be kept together with (a minimal-ish set from
    an infeasibility core), ``()`` when it cannot be kept even alone, ``None`` if unknown."""
    diag = PlannerModel(problem, travel, fixed="assume", explainer=explainer)
    diag.build()
    for other, lit in diag.fixed_lits.items():
        if other != rid and other not in kept:
            diag.m.add(lit == 0)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = max(0.05, min(5.0, deadline - time.perf_counter()))
    if solver.solve(diag.m) != cp_model.INFEASIBLE:
        return None
    core = set(solver.sufficient_assumptions_for_infeasibility())
    return tuple(sorted(o for o, lit in diag.fixed_lits.items()
                        if o != rid and o in kept and lit.index in core))


def _unreleased_error(problem: PlanRequest, explainer: Explainer, t0: float,
                      info: dict[str, object]) -> Plan:
    names = sorted(q.id for q in problem.requests if q.fixed is not None)
    plan = Plan(status="infeasible", objective=None, bound=None,
                solve_seconds=time.perf_counter() - t0,
                unscheduled=tuple(explainer.infeasible_fixed(names)),
                messages=(f"the fixed visits {', '.join(names)} cannot all be kept and no plan "
                          "releasing some of them was found within the time limit",),
                messages_ja=(f"確定済みの訪問 {', '.join(names)} をすべて守ることはできず、"
                             "制限時間内に代わりの計画も見つかりませんでした",),
                solver={**info, "conflicting_fixed": names})
    return replace(plan, kpis=plan_kpis(problem, plan))


def _error_plan(problem: PlanRequest, message: str, elapsed: float,
                info: dict[str, object]) -> Plan:
    uns = tuple(bare_reason(q.id, "not planned: " + message, "未計画: " + message)
                for q in problem.requests)
    plan = Plan(status="error", objective=None, bound=None, solve_seconds=elapsed,
                unscheduled=uns, messages=(message,), solver=info)
    return replace(plan, kpis=plan_kpis(problem, plan))

