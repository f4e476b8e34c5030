"""The planner's CP-SAT model: one method per rule of docs/FORMAT.md ("A plan is valid when
..."), named after the rule, with the rule in the coordinator's words.

The day as it really runs (``solvers.routes``): an expert's on-site day is one tour base →
stops → base; each leg is a block of its travel minutes placed anywhere between the stop before
it and the stop after it; the expert may wait anywhere and take online consultations anywhere
but inside a drive. Each on-site day chooses one of its *tours* (the orders of stops that fit the
stops' windows, the hours and the caps, enumerated up front with their exact driving minutes);
where a day has too many, a circuit over its legs takes their place.

The rules about start times are kept apart (``PlannerModel.timing``): without them the model is
the *choice* of tours and consultations, the relaxation ``solvers.search`` solves first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from engine.model import Expert, Plan, PlanRequest, Request, Route, Visit, keep_out
from engine.travel import TravelTimes
from solvers.cpsat.day import DayRules, Stop
from solvers.explain import Explainer
from solvers.routes import Candidate, Tour, build_routes, day_fits, day_tours

__all__ = ["OutOfTime", "PlannerModel"]


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

    ``use_tours`` (default) enumerates each day's tours where they are few (at most
    ``max_tours`` a day, ``max_total_tours`` in all, the days with fewest first); without it
    every day is a circuit over its legs. ``redundant`` adds the constraints that only tighten the bound
    (the cheapest tour of each set of stops, round trips) to circuit days. ``all_orders`` keeps
    every drivable order of every day (needed when start times matter everywhere, as when
    counting moved visits). ``fixed`` is ``"hard"`` (kept), ``"assume"`` (assumption literals,
    to find which cannot be kept together) or ``"soft"`` (literals the caller may maximise).
    """

    def __init__(self, problem: PlanRequest, travel: TravelTimes, *, fixed: str = "hard",
                 use_tours: bool = True, redundant: bool = True, all_orders: bool = False,
                 max_tours: int = 600, max_tour_sets: int = 3000, max_total_tours: int = 40000,
                 deadline: float | None = None, explainer: Explainer | None = None):
        self.p = problem
        self.travel = travel
        self.m = cp_model.CpModel()
        self.rules = DayRules(self.m, travel.minutes, travel.shortest)
        self.explainer = explainer or Explainer(problem, travel)
        self.options = self.explainer.options          # feasible (request, expert, date) windows
        self.fixed_mode = fixed
        self.use_tours = use_tours
        self.redundant = redundant
        self.all_orders = all_orders
        self.max_tours = max_tours
        self.max_tour_sets = max_tour_sets
        self.max_total_tours = max_total_tours
        self._tour_sets_left = max_total_tours
        self.deadline = deadline
        self.fixed_lits: dict[str, cp_model.IntVar] = {}
        self.start: dict[str, cp_model.IntVar] = {}
        self.served: dict[str, cp_model.IntVar] = {}
        self.on_date: dict[tuple[str, dt.date], cp_model.IntVar] = {}
        self.slot: dict[tuple[str, int, str, dt.date], cp_model.IntVar] = {}
        self.present: dict[tuple[str, str, dt.date], cp_model.IntVar] = {}
        self.days: dict[tuple[str, dt.date], _ExpertDay] = {}
        self._stops: dict[tuple[str, dt.date], tuple[list[Stop], list[Stop]]] = {}
        self.keep: dict[str, cp_model.IntVar] = {}
        self.shortfall: dict[str, cp_model.IntVar] = {}
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
        # Every rule is on the clock: a model that cannot be built in time is OutOfTime.
        rules = (self.add_choice_of_expert_date_and_start, self.add_one_expert_per_field,
                 self.add_joint_visit_sync, self.add_tour_of_each_onsite_day,
                 self.add_expert_caps, self.add_location_caps, self.add_fixed_visits,
                 self.add_coverage_floors)
        for rule in rules:
            self._check_deadline()
            rule()
        self._check_deadline()
        self._choice = self.m.clone()
        with self._timing_rules():
            for rule in (self.add_hours_of_location_window_and_workday,
                         self.add_travel_times_of_each_leg,
                         self.add_no_double_booking_and_no_online_while_driving,
                         self.add_published_starts, self.add_no_consultation_in_closed_hours):
                self._check_deadline()
                rule()
        self._check_deadline()

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

    def group_fits(self, k: int, value: Callable[[int], int], *,
                   time_limit: float | None = None) -> bool | None:
        """Whether group ``k`` of the last ``day_groups`` call can be timed, decided on the day
        alone where the group is one expert-day that chose among its tours (exactly, by
        ``solvers.routes.day_fits``, within ``time_limit`` seconds); None where the full model
        must decide (joint days, circuits) or the time ran out."""
        days = self.group_days[k]
        if len(days) != 1:
            return None
        eid, d = days[0]
        day = self.days[eid, d]
        if day.tours is None and day.arcs:
            return None
        order: tuple[int, ...] = ()
        if day.tours is not None and day.on_day is not None and value(day.on_day.index):
            order = next(t.order for t, lit in zip(day.tours, day.tour_lits, strict=True)
                         if value(lit.index))
        cands = self._candidates(day) if day.onsite else []
        calls = [(*self._window[r, eid, d], self.p.request_by_id[r].duration_min)
                 for r in day.online if value(self.present[r, eid, d].index)]
        e = day.expert
        return day_fits(e.base, [cands[i] for i in order], calls, self.travel.minutes,
                        e.work_start, e.work_end, time_limit=time_limit)

    @functools.cached_property
    def booleans(self) -> frozenset[int]:
        """Indices of the model's 0/1 decision literals (after ``build``): the choices of
        date, expert and presence, each day's tours, legs and on-site indicator, the kept
        published visits."""
        lits = [*self.served.values(), *self.on_date.values(), *self.slot.values(),
                *self.present.values(), *self.keep.values()]
        for day in self.days.values():
            lits += [*day.tour_lits, *day.arcs.values(), *day.stop_sets]
            if day.on_day is not None:
                lits.append(day.on_day)
        return frozenset(x.index for x in lits)

    def request_vars(self, rids: Collection[str]) -> set[int]:
        """Indices of the literals that decide whether, when and by whom the requests ``rids``
        are served (one pass over each table, whatever the number of requests)."""
        rids = set(rids)
        out = {self.served[rid].index for rid in rids if rid in self.served}
        out |= {x.index for (r, _d), x in self.on_date.items() if r in rids}
        out |= {x.index for (r, *_), x in self.slot.items() if r in rids}
        out |= {x.index for (r, *_), x in self.present.items() if r in rids}
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
            raise OutOfTime

    def add_choice_of_expert_date_and_start(self) -> None:
        """Each request is served at most once: on one date, by one expert per field, at one
        start time shared by all its experts."""
        for q in self.p.requests:
            self._check_deadline()
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
        h = self.p.horizon
        if (h.history_until is not None and h.history_until.date() == day.date) or any(
                keep_out(self.p, self.p.request_by_id[r], (day.expert.id,), day.date)
                for r in day.onsite):
            return True
        return any(self.p.request_by_id[r].joint or self.p.request_by_id[r].fixed is not None
                   for r in day.onsite)

    def add_tour_of_each_onsite_day(self) -> None:
        """Each expert's on-site day is one tour base → stops → base within the stops' windows
        and the working hours, with at most the expert's daily visits and driving minutes; the
        day's driving is the sum of its legs. A day with few drivable tours chooses one of them
        (each with its exact driving); otherwise its legs form a circuit."""
        self._collect_days()
        onsite_days = sorted(((k, day) for k, day in self.days.items() if day.onsite),
                             key=lambda kv: (kv[0][0], kv[0][1]))
        enumerated: dict[tuple[str, dt.date], list[Tour]] = {}
        for key, day in onsite_days:
            self._check_deadline()
            day.timed = self._needs_times(day)
            if self.use_tours:
                # all orders where start times matter; else the cheapest order of each set
                limit = self.max_tours if day.timed else self.max_tour_sets
                tours = self._tours(day, all_orders=day.timed, limit=limit)
                if tours is not None:
                    enumerated[key] = tours
        # The model stays small enough to solve: days with the fewest tours choose among them
        # until the budget is spent, the rest get a circuit (both exact). A timed day's tour
        # costs more (it carries the redundant timing rules).
        left = self.max_total_tours

        def cost(key: tuple[str, dt.date]) -> int:
            return len(enumerated[key]) * (3 if self.days[key].timed else 1)

        for key in sorted(enumerated, key=cost):
            if cost(key) > left:
                del enumerated[key]
            else:
                left -= cost(key)
        self._tour_sets_left = left
        for (eid, d), day in onsite_days:
            self._check_deadline()
            day.on_day = self.m.new_bool_var(f"onsite_day_{eid}_{d}")
            if (eid, d) in enumerated:
                self._choose_one_tour(day, enumerated[eid, d])
            else:
                day.timed = True
                self._circuit_of_legs(day)
            self.rules.link_on_day(self._stops_of(day)[0], day.on_day)
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
        for rid in day.online:
            q = self.p.request_by_id[rid]
            lo, hi = self._window[rid, e.id, d]
            clash = [lit for tour, lit in zip(day.tours, day.tour_lits, strict=True)
                     if not tour.fits_beside(e.base, cands, self.travel.minutes, e.work_start,
                                             e.work_end, lo, hi, q.duration_min)]
            if clash:
                # the day has at most one tour, so one list says it for all of them
                self.m.add_at_most_one([self.present[rid, e.id, d], *clash])
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
        stops = self._stops_of(day)[0]
        day.arcs = self.rules.new_legs(e, stops, f"{e.id}_{d}")
        self.rules.add_circuit(stops, day.arcs, day.on_day)
        day.drive = self.rules.drive(e, stops, day.arcs)
        if self.redundant:
            sets = self._tours(day, all_orders=False,
                               limit=min(self.max_tours, self._tour_sets_left))
            if sets is not None:
                self._tour_sets_left -= len(sets)
                self.add_cheapest_tour_of_each_stop_set(day, sets)
            else:
                self.add_round_trip_lower_bound(day, self.rules.places(e, stops))

    def _stops_of(self, day: _ExpertDay) -> tuple[list[Stop], list[Stop]]:
        """The day's on-site and online consultations as stops of the day's model (each
        with its window on this expert-day)."""
        eid, d = day.expert.id, day.date
        got = self._stops.get((eid, d))
        if got is None:
            now = self._now_on(d)

            def stop(rid: str, onsite: bool) -> Stop:
                q = self.p.request_by_id[rid]
                lo, hi = self._window[rid, eid, d]
                leaves = now if onsite and q.fixed is None else None
                return Stop(rid, q.location, q.duration_min, lo, hi, self.start[rid],
                            self.present[rid, eid, d], leaves)

            got = ([stop(r, True) for r in day.onsite], [stop(r, False) for r in day.online])
            self._stops[eid, d] = got
        return got

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
        the end of work (``DayRules.add_leg_time``)."""
        for day in self.days.values():
            if not day.timed or not day.arcs:
                continue
            stops = self._stops_of(day)[0]
            for (i, j), lit in day.arcs.items():
                self.rules.add_leg_time(day.expert, stops, i, j, lit)

    def _now_on(self, day: dt.date) -> int | None:
        """The minute of ``horizon.history_until`` when it falls on ``day``, else None."""
        h = self.p.horizon.history_until
        return h.hour * 60 + h.minute if h is not None and h.date() == day else None

    def add_no_consultation_in_closed_hours(self) -> None:
        """No consultation overlaps a closure of its location or a part-day blackout of one of
        its experts: it ends by the start of the closed hours or starts at their end."""
        for q in self.p.requests:
            if q.id not in self.start:
                continue
            s = self.start[q.id]
            for o in self.options[q.id]:
                for lo, hi in keep_out(self.p, q, (o.expert,), o.date):
                    if o.hi + q.duration_min <= lo or o.lo >= hi:
                        continue        # this option cannot meet it
                    lit = self.present[q.id, o.expert, o.date]
                    before = self.m.new_bool_var(f"before_closed_{q.id}_{o.expert}_{o.date}_{lo}")
                    after = self.m.new_bool_var(f"after_closed_{q.id}_{o.expert}_{o.date}_{lo}")
                    self.m.add(s + q.duration_min <= lo).only_enforce_if(before)
                    self.m.add(s >= hi).only_enforce_if(after)
                    self.m.add_bool_or([before, after, ~lit])

    def add_no_double_booking_and_no_online_while_driving(self) -> None:
        """An expert does one thing at a time: consultations on site and online, and each leg's
        drive, a block of its travel minutes placed anywhere between the end of the stop before
        it (or the start of work) and the start of the stop after it (or the end of work).
        Waiting is allowed anywhere, online consultations anywhere but inside a drive
        (``DayRules.add_one_thing_at_a_time``)."""
        for (eid, d), day in self.days.items():
            stops, online = self._stops_of(day)
            self.rules.add_one_thing_at_a_time(day.expert, stops, online, day.arcs, day.on_day,
                                               f"{eid}_{d}")

    def add_expert_caps(self) -> None:
        """An expert's on-site visits per day and in total, on-site days in the horizon and in
        each calendar month (the contracted visit days) and driving per day stay within the
        expert's caps (a day that chooses among its tours has only tours within the daily
        caps)."""
        per_expert_visits: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        per_expert_days: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        per_month: dict[tuple[str, int, int], list[cp_model.IntVar]] = defaultdict(list)
        for (eid, d), day in self.days.items():
            lits = [self.present[r, eid, d] for r in day.onsite]
            per_expert_visits[eid].extend(lits)
            if day.on_day is not None:
                per_expert_days[eid].append(day.on_day)
                per_month[eid, d.year, d.month].append(day.on_day)
            if day.tours is None:
                self.rules.add_daily_caps(day.expert, self._stops_of(day)[0], day.drive,
                                          day.on_day)
        for e in self.p.experts:
            if e.max_visits_total is not None and len(per_expert_visits[e.id]) > e.max_visits_total:
                self.m.add(sum(per_expert_visits[e.id]) <= e.max_visits_total)
            if e.max_onsite_days is not None and len(per_expert_days[e.id]) > e.max_onsite_days:
                self.m.add(sum(per_expert_days[e.id]) <= e.max_onsite_days)
        for (eid, y, m), lits in per_month.items():
            cap = self.p.expert_by_id[eid].month_cap(y, m)
            if cap is not None and len(lits) > cap:
                self.m.add(sum(lits) <= cap)

    def add_coverage_floors(self) -> None:
        """(Season goal.) Every place is reached: each location that is no expert's base
        should have at least its floor of consultations of the counted modes; each one
        missing is a shortfall the objective pays for (``goals.coverage``)."""
        c = self.p.goals.coverage
        if c is None:
            return
        for lid, floor in c.floors(self.p).items():
            counted = [self.served[q.id] for q in self.p.requests
                       if q.location == lid and q.mode in c.modes and q.id in self.served]
            short = self.m.new_int_var(max(0, floor - len(counted)), floor, f"short_{lid}")
            if counted:
                self.m.add(short >= floor - sum(counted))
            self.shortfall[lid] = short

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
            # (its options are on its date only, with its experts: serving it is keeping it)
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
        """FORMAT.md: priority × Σ priority served − drive_minute × Σ drive − onsite_day × days,
        with the season goals: + small_towns.bonus × Σ priority served in small towns −
        coverage.penalty × Σ shortfall."""
        w = self.p.objective
        served = sum(q.priority * self.served[q.id] for q in self.p.requests
                     if q.id in self.start)
        drive = sum(day.drive for day in self.days.values())
        days = sum(day.on_day for day in self.days.values() if day.on_day is not None)
        terms: list[cp_model.LinearExprT] = [
            w.priority * served - w.drive_minute * drive - w.onsite_day * days]  # type: ignore[operator]
        small = self.p.goals.small_towns
        if small is not None and small.bonus:
            terms.append(small.bonus * sum(
                q.priority * self.served[q.id] for q in self.p.requests
                if q.id in self.start and small.includes(self.p.location_by_id[q.location])))
        c = self.p.goals.coverage
        if c is not None and c.penalty and self.shortfall:
            terms.append(-c.penalty * sum(self.shortfall.values()))
        value = sum(terms)
        return value

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

    def weighted_changes(self, previous: Plan, weights: Mapping[str, int]
                         ) -> cp_model.LinearExprT:
        """What changing last plan's visits costs, each visit by its largest change: ``time``
        (same experts and date, another start), ``date`` (same experts, another date),
        ``experts`` (another expert), ``dropped`` (left out); a visit kept as it was costs 0.
        Requests no longer asked for are not counted. (Minimised, the literals are exact.)"""
        terms: list[cp_model.LinearExprT] = []
        w = weights
        for v in previous.visits:
            q = self.p.request_by_id.get(v.request)
            if q is None:
                continue
            if q.id not in self.start:
                terms.append(w["dropped"])
                continue
            same_day = self.m.new_bool_var(f"same_experts_date_{q.id}")
            keep = self.m.new_bool_var(f"stays_{q.id}")
            by_date = []
            for d in sorted({d for (rid, d) in self.on_date if rid == q.id}):
                lits = [self.present.get((q.id, eid, d)) for eid in v.experts]
                if any(x is None for x in lits) or len(v.experts) != len(q.fields):
                    continue
                se = self.m.new_bool_var(f"same_experts_{q.id}_{d}")
                for x in lits:
                    assert x is not None
                    self.m.add_implication(se, x)
                by_date.append(se)
                if d == v.date:
                    self.m.add_implication(same_day, se)
            if not any(d == v.date for (rid, d) in self.on_date if rid == q.id) or not by_date:
                self.m.add(same_day == 0)
            self.m.add_implication(keep, same_day)
            self.m.add(self.start[q.id] == v.start).only_enforce_if(keep)
            same_experts = sum(by_date)
            # dropped > experts > date > time: each level's weight less the one below it
            terms.append(w["dropped"] - (w["dropped"] - w["experts"]) * self.served[q.id]
                         - (w["experts"] - w["date"]) * same_experts
                         - (w["date"] - w["time"]) * same_day - w["time"] * keep)
        return sum(terms)

    # ------------------------------------------------------------------ hints and reading
    def hint_plan(self, visits: list[Visit], *, complete: bool = False) -> list[int] | None:
        """Hint a plan (e.g. the greedy one) so that the search starts from it. With
        ``complete`` its choices are fixed in a quick probe solve that fills in every other
        variable (times, drive blocks), which CP-SAT needs to take a hint as its first
        solution of the full model; the completed values are returned (None if the probe
        found none)."""
        by_req = {v.request: v for v in visits}
        hint: dict[cp_model.IntVar, int] = {}
        # One pass over each table (a pass per request would grow as requests x options).
        for (rid, d), lit in self.on_date.items():
            v = by_req.get(rid)
            hint[lit] = int(v is not None and v.date == d)
        for rid, lit in self.served.items():
            hint[lit] = int(rid in by_req)
        slot_of = {q.id: _slots_of(q, by_req[q.id].experts) for q in self.p.requests
                   if q.id in by_req}
        for (rid, k, eid, d), lit in self.slot.items():
            v = by_req.get(rid)
            hint[lit] = int(v is not None and v.date == d and slot_of[rid].get(eid) == k)
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
        set_hint(self.m, {var.index: value for var, value in hint.items()})
        return None

    def _complete_hint(self, hint: dict[cp_model.IntVar, int]) -> list[int] | None:
        probe = self.m.clone()
        fix_values(probe, {var.index: value for var, value in hint.items()}, self.booleans)
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
            set_hint(self.m, dict(enumerate(values)))
            return values
        return None

    def read_plan(self, value: Callable[[cp_model.IntVar], int]) -> tuple[list[Visit], list[Route]]:
        """The visits and routes of a solution (``value`` reads a variable)."""
        chosen_date = {rid: d for (rid, d), lit in self.on_date.items() if value(lit)}
        # Days without timing rules take their tour's earliest starts; the others the solver's.
        starts: dict[str, int] = {}
        for day in self.days.values():
            if day.timed or day.tours is None or day.on_day is None or not value(day.on_day):
                continue
            tour = next(t for t, lit in zip(day.tours, day.tour_lits, strict=True) if value(lit))
            starts.update((day.onsite[i], s) for i, s in zip(tour.order, tour.starts, strict=True))
        # Each request's expert per field, read in one pass over the slots.
        expert_of: dict[tuple[str, int], str] = {}
        for (rid, k, eid, d), lit in self.slot.items():
            if chosen_date.get(rid) == d and value(lit):
                expert_of[(rid, k)] = eid
        visits: list[Visit] = []
        for q in self.p.requests:
            date = chosen_date.get(q.id)
            if date is None:
                continue
            experts = [expert_of[(q.id, k)] for k in range(len(q.fields))]
            start = starts.get(q.id, value(self.start[q.id]))
            visits.append(Visit(q.id, tuple(experts), q.location, q.mode, date, start,
                                start + q.duration_min))
        return visits, build_routes(self.p, self.travel, visits)


def fix_values(model: cp_model.CpModel, values: Mapping[int, int],
               booleans: Collection[int] = ()) -> None:
    """Fix these variables (index: value). The ``booleans`` among them (indices known to be
    0/1 literals) are fixed by one conjunction written into the proto at once; the others by
    narrowing their domains, one cheap write each (a constraint each would cost a Python
    object per variable); a value outside its domain gets a constraint, which makes the model
    infeasible as it should."""
    lits: list[int] = []
    variables = model.proto.variables
    for i, v in values.items():
        if i in booleans and v in (0, 1):
            lits.append(i if v else -i - 1)
            continue
        domain = variables[i].domain
        bounds = list(domain)
        if any(lo <= v <= hi for lo, hi in zip(bounds[::2], bounds[1::2], strict=True)):
            domain.clear()
            domain.extend((v, v))
        else:
            model.add(model.get_int_var_from_proto_index(i) == v)
    if lits:
        model.proto.constraints.add().bool_and.literals.extend(lits)


def set_hint(model: cp_model.CpModel, values: Mapping[int, int]) -> None:
    """Replace the model's hint by these values (variable index: value), written into the
    proto at once: adding them one by one costs a Python call per variable."""
    model.clear_hints()
    hint = model.proto.solution_hint
    hint.vars.extend(values.keys())
    hint.values.extend(values.values())


class OutOfTime(Exception):
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


def _slots_of(q: Request, experts: tuple[str, ...]) -> dict[str, int]:
    """Which field (index) each expert of a visit covers."""
    return {eid: k for k, eid in enumerate(experts)} if len(experts) == len(q.fields) else {}
