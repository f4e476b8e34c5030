"""The planner's CP-SAT model: one method per rule of docs/FORMAT.md ("A plan is valid when
..."), named after the rule, with the rule in the coordinator's words.

The day as it really runs (``solvers.routes``): an expert's on-site day is one tour base →
stops → base; each leg is a block of its travel minutes placed anywhere between the stop before
it and the stop after it; the expert may wait anywhere and take online consultations anywhere
but inside a drive. Each on-site day chooses one of its *tours* (the orders of stops that fit the
stops' windows, the hours and the caps, enumerated up front with their exact driving minutes);
where a day has too many, a circuit over its legs takes their place.

The rules about start times are kept apart (``PlannerModel.timing``): without them the model is
the *choice* of tours and consultations, the relaxation ``solvers.cpsat.search`` solves first.

The model is written in parts, one place each: the variables and the build's state
(``solvers.cpsat.base``), the expert-day's legs in time (``solvers.cpsat.day``, shared with the
slot proposals), the choice of each day's tour (``solvers.cpsat.tours``), overtime
(``solvers.cpsat.overtime``), hints and reading a plan (``solvers.cpsat.hints``); here are the
other rules and the objective's terms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping

from ortools.sat.python import cp_model

from engine.calendar import calls_of, keep_out
from engine.model import After, Plan
from solvers.cpsat.base import OutOfTime
from solvers.cpsat.day import new_start_var
from solvers.cpsat.day_end import DayEndBounds
from solvers.cpsat.hints import HintsAndReading, fix_values, set_hint
from solvers.cpsat.overtime import OvertimeRules
from solvers.day_check import day_fits

__all__ = ["OutOfTime", "PlannerModel", "fix_values", "set_hint"]


class PlannerModel(OvertimeRules, HintsAndReading, DayEndBounds):
    """Builds the CP-SAT model of one ``PlanRequest``; ``add_*`` methods are the rules.

    ``use_tours`` (default) enumerates each day's tours where they are few (at most
    ``max_tours`` a day, ``max_total_tours`` in all, the days with fewest first); without it
    every day is a circuit over its legs. ``redundant`` adds the constraints that only tighten the bound
    (the cheapest tour of each set of stops, round trips) to circuit days. ``all_orders`` keeps
    every drivable order of every day (needed when start times matter everywhere, as when
    counting moved visits). ``fixed`` is ``"hard"`` (kept), ``"assume"`` (assumption literals,
    to find which cannot be kept together) or ``"soft"`` (literals the caller may maximise).
    """

    # ------------------------------------------------------------------ variables
    def build(self) -> None:
        """Every rule. The rules about start times (hours, legs, one thing at a time, drive
        blocks, published starts) are recorded in ``timing``: without them the model is the
        *choice* of tours and consultations, a relaxation that ``solve`` uses first."""
        # Every rule is on the clock: a model that cannot be built in time is OutOfTime.
        rules = (self.add_choice_of_expert_date_and_start, self.add_one_expert_per_field,
                 self.add_joint_visit_sync, self.add_tour_of_each_onsite_day,
                 self.add_expert_caps, self.add_location_caps, self.add_fixed_visits,
                 self.add_coverage_floors, self.add_follow_up_series,
                 self.add_overtime_of_each_day, self.add_joint_visit_starts_in_tours,
                 self.add_least_overtime_beside_online)
        for rule in rules:
            self._check_deadline()
            rule()
        self._check_deadline()
        self._choice = self.m.clone()
        with self._timing_rules():
            for rule in (self.add_hours_of_location_window_and_workday,
                         self.add_travel_times_of_each_leg,
                         self.add_no_double_booking_and_no_online_while_driving,
                         self.add_published_starts, self.add_no_consultation_in_closed_hours,
                         self.add_day_end_past_work_end):
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
        times |= {v.index for v in self.overtime.values()}     # follows from the times
        return [i for i in range(len(self.m.proto.variables)) if i not in times]

    def group_fits(self, k: int, value: Callable[[int], int], *,
                   time_limit: float | None = None,
                   order: tuple[int, ...] | None = None) -> bool | None:
        """Whether group ``k`` of the last ``day_groups`` call can be timed, decided on the day
        alone where the group is one expert-day without appointments at a place (exactly, by
        ``solvers.day_check.day_fits``, within ``time_limit`` seconds): its chosen tour, or its
        chosen legs where it is a circuit (``order``: its stops in this order instead), from
        where it starts to where it ends (a night away); None where the full model must
        decide (joint days) or the time ran out."""
        days = self.group_days[k]
        if len(days) != 1:
            return None
        eid, d = days[0]
        day = self.days[eid, d]
        if day.appointments:
            return None     # (an appointment's stop may be off the grid: the model decides)
        order = self.chosen_order(day, value) if order is None else order
        start, end = self.chosen_ends(day, value)
        if order is None or start is None or end is None:
            return None
        cands = self._candidates(day) if day.onsite else []
        online = [r for r in day.online if value(self.present[r, eid, d].index)]
        calls = [(*self._window[r, eid, d], self.p.request_by_id[r].duration_min) for r in online]
        out = [keep_out(self.p, self.p.request_by_id[r], (eid,), d) for r in day.onsite]
        e = day.expert
        # lunch: a block like a call, at any minute (the grid is the consultations')
        lunch = [(e.lunch.start, e.lunch.end - e.lunch.minutes, e.lunch.minutes)] \
            if e.lunch is not None and (order or calls) else []
        # a standing appointment is a block fixed in time, on a day with anything in it
        busy = calls_of(e, d) if order or calls or start != end else []
        calls += [(lo, lo, hi - lo) for lo, hi in busy]     # within working hours
        return day_fits(start, [cands[i] for i in order], calls, self.travel.minutes,
                        e.work_start, e.day_end, time_limit=time_limit,
                        grid=self.p.horizon.start_grid_min, end=end, breaks=lunch,
                        stop_out=[out[i] for i in order],
                        call_out=[keep_out(self.p, self.p.request_by_id[r], (eid,), d)
                                  for r in online])

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
            # where the day starts and ends decides its timing too (a night away)
            own = [*own, *self.end_literals(day)]
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
            self.start[q.id] = new_start_var(self.m, lo, hi, self.p.horizon.start_grid_min,
                                             f"start_{q.id}")
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
                self.rules.add_leg_time(day.expert, stops, i, j, lit, day.drives)

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
            ot = self.overtime.get((eid, d)) if day.timed or day.tours is None else None
            self.rules.add_one_thing_at_a_time(day.expert, stops, online, day.arcs, day.on_day,
                                               f"{eid}_{d}", busy=calls_of(day.expert, d),
                                               overtime=ot, drives=day.drives,
                                               away=day.ends is not None,
                                               more=self.between_nights_blocks(day))

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

    def add_follow_up_series(self) -> None:
        """A follow-up (``requests[].after``) is served only if the request it follows is, on a
        date at least ``min_days`` and at most ``max_days`` calendar days after that one's date,
        and, when the series asks for the same experts, by exactly that visit's experts."""
        dates: dict[str, list[dt.date]] = defaultdict(list)
        for rid, d in self.on_date:
            dates[rid].append(d)
        for q in self.p.requests:
            a = q.after
            if a is None or q.id not in self.served:
                continue
            first = a.request
            if a.date is not None:
                self._after_earlier_visit(q.id, a.date, a.experts, a)
                continue
            for d in dates[q.id]:
                gap_ok = [self.on_date[first, e] for e in dates.get(first, [])
                          if a.min_days <= (d - e).days
                          and (a.max_days is None or (d - e).days <= a.max_days)]
                # served on d only with the first visit on one of the dates the gap allows
                self.m.add_bool_or([~self.on_date[q.id, d], *gap_ok])
            if a.same_experts:
                self._same_experts_as(q.id, first)

    def _after_earlier_visit(self, rid: str, made: dt.date, experts: tuple[str, ...],
                             a: After) -> None:
        """The follow-up of a visit made before this plan (on ``made``, by ``experts``):
        only on the dates the gap allows, and by those experts when the series asks."""
        for (r, d), lit in self.on_date.items():
            gap = (d - made).days
            if r == rid and not (a.min_days <= gap and (a.max_days is None or gap <= a.max_days)):
                self.m.add(lit == 0)
        for (r, eid, _d), lit in self.present.items():
            if r == rid and a.same_experts and eid not in experts:
                self.m.add(lit == 0)

    def _same_experts_as(self, rid: str, first: str) -> None:
        """Every expert serving ``rid`` also served ``first`` (as many experts serve both, so
        the two sets are the same)."""
        uses: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
        for (r, eid, _d), lit in self.present.items():
            if r in (rid, first):
                uses[r, eid].append(lit)
        for (r, eid), mine in uses.items():
            if r == rid:
                self.m.add(sum(mine) <= sum(uses.get((first, eid), [])))

    def add_location_caps(self) -> None:
        """A location hosts at most its ``max_visits_per_day`` expert-visits a day, a joint
        visit of two experts counting as two."""
        per: dict[tuple[str, dt.date], list[cp_model.IntVar]] = defaultdict(list)
        for (rid, _eid, d), lit in self.present.items():
            q = self.p.request_by_id[rid]
            if q.onsite:
                per[q.location, d].append(lit)
        for (loc, d), lits in per.items():
            cap = self.p.location_by_id[loc].cap_on(d)
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
        """FORMAT.md: priority × Σ priority served − drive_minute × Σ drive − onsite_day × days
        − late_day × Σ days late − Σ overtime minute_cost × minutes past work_end − Σ
        night_cost of the nights away,
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
        if w.late_day:
            terms.append(-w.late_day * self.late_days())
        if self.overtime:
            terms.append(-self.overtime_paid())
        if self.nights:
            terms.append(-self.night_costs())
        value = sum(terms)
        return value

    def late_days(self) -> cp_model.LinearExprT:
        """Σ calendar days the visits fall after their requests' due dates: a request served
        on date ``d`` is ``d − due`` days late (0 on or before ``due``)."""
        return sum(self.p.request_by_id[rid].days_late(d) * lit
                   for (rid, d), lit in self.on_date.items()
                   if self.p.request_by_id[rid].days_late(d))

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

