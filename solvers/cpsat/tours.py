"""The choice of each on-site day's tour: a day with few drivable tours chooses one of them
(each enumerated up front with its exact driving), the others a circuit over their legs
(``solvers.cpsat.day``), with the redundant rules that only tighten the bound.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from engine.calendar import appointments_at, keep_out
from solvers.cpsat.base import ExpertDay
from solvers.cpsat.nights import NightRules
from solvers.day_starts import DayBlocks, Starts
from solvers.routes import Tour, day_tours, fits_in_gaps

__all__ = ["TourRules"]


class TourRules(NightRules):
    """The rules of each on-site day's tour (``add_tour_of_each_onsite_day``) and its
    redundant rules."""

    def chosen_order(self, day: ExpertDay, value: Callable[[int], int]
                      ) -> tuple[int, ...] | None:
        """The day's stops (candidate indices) in the order the choice drives them: its
        chosen tour, or its circuit's chosen legs followed from node 0; None where the legs
        make no single tour."""
        if day.tours is not None:
            if day.on_day is None or not value(day.on_day.index):
                return ()
            return next(t.order for t, lit in zip(day.tours, day.tour_lits, strict=True)
                        if value(lit.index))
        after = {a: b for (a, b), lit in day.arcs.items() if value(lit.index)}
        order: list[int] = []
        node = after.get(0)
        while node is not None and node != 0 and len(order) < len(after):
            order.append(node - 1)
            node = after.get(node)
        if after and (node != 0 or len(order) + 1 != len(after)):
            return None
        return tuple(order)

    def _collect_days(self) -> None:
        for e in self.p.experts:        # a day with an appointment at a place always drives
            for d in sorted({b.date for b in e.busy if b.at is not None}):
                got = appointments_at(self.p, e, d)
                if got:
                    self.days[e.id, d] = ExpertDay(e, d, appointments=got)
        for o_list in self.options.values():
            for o in o_list:
                key = (o.expert, o.date)
                if key not in self.days:
                    self.days[key] = ExpertDay(self.p.expert_by_id[o.expert], o.date)
                req = self.p.request_by_id[o.request]
                (self.days[key].onsite if req.onsite else self.days[key].online).append(o.request)

    def _needs_times(self, day: ExpertDay) -> bool:
        """Start times matter on a day when a consultation there may meet something outside
        its tour: an online consultation or the expert's lunch (neither while driving), a
        joint visit (same start as its partner), a fixed visit (a given start), or a count of
        moved visits."""
        if self.all_orders or day.online or day.expert.lunch is not None:
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
        (each with its exact driving); otherwise its legs form a circuit, as do the days of
        an expert who may stay away (``add_nights_away``)."""
        self._collect_days()
        self.add_nights_away()
        onsite_days = sorted(((k, day) for k, day in self.days.items()
                              if day.onsite or day.appointments),
                             key=lambda kv: (kv[0][0], kv[0][1]))
        enumerated: dict[tuple[str, dt.date], list[Tour]] = {}
        for key, day in onsite_days:
            self._check_deadline()
            day.timed = self._needs_times(day)
            if day.ends is not None:
                if self.use_tours:      # it may start or end away: tours from and to each place
                    tours = self._tours_between_nights(day)
                    if tours:
                        enumerated[key] = self._with_room_for_lunch(day, tours)
            elif self.use_tours and day.appointments:
                tours = self._tours_through_appointments(day)
                if tours:
                    enumerated[key] = tours
            elif self.use_tours:
                # all orders where start times matter; else the cheapest order of each set
                limit = self.max_tours if day.timed else self.max_tour_sets
                # with overtime an order that drives more may end earlier: every order
                tours = self._tours(day, all_orders=day.timed or self._pays_overtime(day),
                                    limit=limit)
                if tours is not None:
                    enumerated[key] = self._with_room_for_lunch(day, tours)
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
        for day in self.days.values():
            if day.ends is not None:
                self.add_drive_between_nights(day)
        if self.redundant:
            self.add_joint_starts_each_tour_allows()

    @staticmethod
    def _pays_overtime(day: ExpertDay) -> bool:
        """Whether the expert's days may run past work_end at a cost."""
        ot = day.expert.overtime
        return ot is not None and ot.max_minutes > 0

    def _tours(self, day: ExpertDay, *, all_orders: bool, limit: int,
               start_at: str | None = None, end_at: str | None = None) -> list[Tour] | None:
        e = day.expert
        cap = e.max_visits_per_day      # the appointments are stops, not visits
        return day_tours(e.base, self._candidates(day), self.travel.minutes, e.work_start, e.day_end,
                         max_stops=None if cap is None else cap + len(day.appointments), max_drive=e.max_drive_minutes_per_day,
                         all_orders=all_orders, limit=limit, lower=self.travel.shortest,
                         grid=self.p.horizon.start_grid_min, start_at=start_at, end_at=end_at)

    def _tours_between_nights(self, day: ExpertDay) -> list[Tour] | None:
        """The tours of a day that may start or end away from the base (a night away before
        or after it): for each place it may start at and each it may end at, the tours from
        the one to the other, each with its own driving and times (the day trips first). As
        on any day, every order where start times matter or overtime is paid, else the
        cheapest order of each set; with standing appointments at a place, only the tours
        that pass them all. None when a way has more than ``max_tours``."""
        assert day.ends is not None
        e = day.expert
        if day.appointments:
            day.timed = True
        every = day.timed or self._pays_overtime(day)
        out: list[Tour] = []
        for s, _ in day.ends.starts:
            for q, _ in day.ends.ends:
                tours = self._tours(day, all_orders=every,     # each way its own limit
                                    limit=self.max_tours if every else self.max_tour_sets,
                                    start_at=None if s == e.base else s,
                                    end_at=None if q == e.base else q)
                if tours is None:
                    return None
                out += self._through_appointments(day, tours)
        return out

    def _tours_through_appointments(self, day: ExpertDay) -> list[Tour] | None:
        """The tours of a day with standing appointments at a place: every drivable order
        that passes all of them (each a stop fixed in time, the day's last candidates), the
        one through the appointments alone included (the day without visits, which still
        drives). Start times matter on such a day (``timed``). None when there are too many."""
        day.timed = True
        tours = self._tours(day, all_orders=True, limit=self.max_tours)
        return None if tours is None else self._through_appointments(day, tours)

    @staticmethod
    def _through_appointments(day: ExpertDay, tours: list[Tour]) -> list[Tour]:
        """The tours that pass every standing appointment at a place of the day."""
        n = len(day.onsite)
        need = set(range(n, n + len(day.appointments)))
        return [t for t in tours if need <= set(t.order)]

    def _with_room_for_lunch(self, day: ExpertDay, tours: list[Tour]) -> list[Tour]:
        """The tours beside which the expert's lunch fits (all of them without ``lunch``): a
        day with a tour has a consultation, so its break must fit between the tour's drives
        and stops, and a tour where it cannot is no way to run the day. Deciding this here,
        exactly (one block beside a chain, ``fits_in_gaps``), keeps such tours out of the
        choice model instead of cutting them one round at a time. Only where every order
        is enumerated: a kept cheapest order may have no room where another order has."""
        lunch = day.expert.lunch
        if lunch is None or not day.timed:
            return tours
        e, cands = day.expert, self._candidates(day)
        return [t for t in tours
                if fits_in_gaps(t.gaps(e.base, cands, self.travel.minutes, e.work_start,
                                       e.day_end),
                                lunch.start, lunch.end - lunch.minutes, lunch.minutes)]

    def _choose_one_tour(self, day: ExpertDay, tours: list[Tour]) -> None:
        eid, d = day.expert.id, day.date
        assert day.on_day is not None
        covering: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        by_arc: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
        for tour in tours:
            stops = (day.onsite[i] if i < len(day.onsite) else f"appointment{i}"
                     for i in tour.order)
            lit = self.m.new_bool_var(f"tour_{eid}_{d}_{'-'.join(stops)}")
            day.tour_lits.append(lit)
            nodes = [0, *(i + 1 for i in tour.order), 0]
            for i in tour.order:
                covering[i + 1].append(lit)
            if day.timed:
                for a, b in itertools.pairwise(nodes):
                    by_arc[a, b].append(lit)
        day.tours = tours
        # a day with an appointment at a place always drives one of its tours
        self.m.add(_sum_of(day.tour_lits) == (1 if day.appointments else day.on_day))
        for i, rid in enumerate(day.onsite, start=1):
            self.m.add(_sum_of(covering.get(i, [])) == self.present[rid, eid, d])
        driven = [(t.drive, lit) for t, lit in zip(tours, day.tour_lits, strict=True) if t.drive]
        day.drive = _sum_of([lit for _, lit in driven], [c for c, _ in driven])
        for (a, b), lits in by_arc.items():
            day.arcs[a, b] = self._one_of(lits, f"leg_{eid}_{d}_{a}_{b}")
        if day.ends is not None:
            self._tours_start_and_end_with_nights(day)
        if day.timed and self.redundant:
            self.add_tour_leaves_room_for_online(day)

    def _one_of(self, lits: list[cp_model.IntVar], name: str) -> cp_model.IntVar:
        """A literal true when one of ``lits`` (at most one true) is."""
        if len(lits) == 1:
            return lits[0]
        x = self.m.new_bool_var(name)
        self.m.add(_sum_of(lits) == x)
        return x

    def _tours_start_and_end_with_nights(self, day: ExpertDay) -> None:
        """A day that may start or end away chooses a tour from where it starts (the night
        before: ``ExpertDay.ends``) to where it ends (its own night). Where it is timed, each
        leg from or to node 0 is one drive per place (``solvers.cpsat.day.Drives``), its
        literal "one of the chosen tours drives the leg from (to) that place"."""
        assert day.ends is not None and day.tours is not None
        e, name = day.expert, f"{day.expert.id}_{day.date}"
        for side, attr in ((day.ends.starts, "start_at"), (day.ends.ends, "end_at")):
            for place, at in side:
                mine = [lit for t, lit in zip(day.tours, day.tour_lits, strict=True)
                        if (getattr(t, attr) or e.base) == place]
                if mine:
                    self.m.add(sum(mine) <= at)
        if not day.timed:
            return
        locs = self.rules.places(e, self._stops_of(day)[0])
        by_leg: dict[tuple[int, int, str], list[cp_model.IntVar]] = defaultdict(list)
        for tour, lit in zip(day.tours, day.tour_lits, strict=True):
            nodes = [0, *(i + 1 for i in tour.order), 0]
            for a, b in itertools.pairwise(nodes):
                end = (tour.start_at or e.base) if a == 0 else (tour.end_at or e.base)
                by_leg[a, b, end if not (a and b) else ""].append(lit)
        drives: dict[tuple[int, int], list[tuple[int, cp_model.LiteralT]]] = defaultdict(list)
        for (a, b, end), lits in sorted(by_leg.items()):
            t = self.travel.minutes(end if a == 0 else locs[a], end if b == 0 else locs[b])
            drives[a, b].append((t, self._one_of(lits, f"drive_{name}_{a}_{b}_{end}")))
        day.drives = dict(drives)

    def add_tour_leaves_room_for_online(self, day: ExpertDay) -> None:
        """(Redundant, for a strong bound.) A tour and an online consultation that cannot fit
        beside it (with the expert's lunch, standing appointments and closed hours, where
        the day has them: ``solvers.day_starts``) are never chosen together, and the day's
        drives, stops and online consultations fit in the working day."""
        e, d = day.expert, day.date
        assert day.tours is not None
        cands = self._candidates(day)
        blocks = self._blocks_of(day)
        gaps = [tour.gaps(e.base, cands, self.travel.minutes, e.work_start, e.day_end)
                for tour in day.tours] if day.online and blocks.plain else []
        # Calls alike (window, length, closed hours) clash with the same tours: found once.
        clashes: dict[object, list[cp_model.IntVar]] = {}
        for rid in day.online:
            self._check_deadline()      # days of many calls and many tours: on the clock
            q = self.p.request_by_id[rid]
            lo, hi = self._window[rid, e.id, d]
            if blocks.plain:
                key: object = (lo, hi, q.duration_min)
                if key not in clashes:
                    clashes[key] = [lit for g, lit in zip(gaps, day.tour_lits, strict=True)
                                    if not fits_in_gaps(g, lo, hi, q.duration_min,
                                                        grid=self.p.horizon.start_grid_min)]
            else:       # beside lunch, standing appointments and closed hours too
                key = blocks.call(rid, lo, hi)
                if key not in clashes:
                    clashes[key] = [lit for t, lit in zip(day.tours, day.tour_lits, strict=True)
                                    if not blocks.reach(t).call_fits(key)]
            clash = clashes[key]
            if clash:
                # the day has at most one tour, so one list says it for all of them
                self.m.add_at_most_one([self.present[rid, e.id, d], *clash])
        if day.online:
            busy = [t.drive + sum(cands[i].duration for i in t.order) for t in day.tours]
            online = [self.p.request_by_id[r].duration_min for r in day.online]
            self.m.add(_sum_of([*day.tour_lits, *(self.present[r, e.id, d] for r in day.online)],
                               [*busy, *online]) <= e.day_end - e.work_start)

    def _blocks_of(self, day: ExpertDay) -> DayBlocks:
        """The blocks of the day's tours (``solvers.day_starts``), made once per day."""
        key = (day.expert.id, day.date)
        got = self._day_blocks.get(key)
        if got is None:
            got = self._day_blocks[key] = DayBlocks(self.p, self.travel.minutes, day.expert,
                                                    day.date, self._candidates(day), day.onsite)
        return got

    def add_joint_starts_each_tour_allows(self) -> None:
        """(Redundant, for a strong bound.) The experts of a joint consultation start it
        together, so each expert's chosen tour must let it start at a time the other's tour
        lets it start too. For each tour, the starts on the grid at which that tour alone can
        run with the visit as its stop, its lunch, closed hours, standing appointments and
        drives included (``solvers.day_starts``): a tour chosen holds the shared start to
        them. An online one keeps to the starts at which the expert's day beside lunch and
        standing appointments can take it. Every timing meets them, so no plan is lost, and
        two tours with no start in common are never chosen together. The starts are one
        shared scale per consultation and date (``_JointScale``).

        (An online one beside each tour was measured too: on the weeks on a one-minute grid
        its gaps made the choice twice as large and slower to prove, and the expert's real
        week needed no fewer rounds.)"""
        #: (request, date) → [(the starts allowed, the literals that allow only those)]
        rows: dict[tuple[str, dt.date], list[tuple[Starts, cp_model.IntVar]]] = defaultdict(list)
        for (eid, d), day in self.days.items():
            onsite = {i for i, rid in enumerate(day.onsite)
                      if self.p.request_by_id[rid].joint and rid in self.start}
            online = [rid for rid in day.online
                      if self.p.request_by_id[rid].joint and rid in self.start]
            if not onsite and not online:
                continue
            self._check_deadline()
            blocks = self._blocks_of(day)
            for rid in online:
                rows[rid, d].append((blocks.call_starts(rid, *self._window[rid, eid, d]),
                                     self.present[rid, eid, d]))
            for tour, lit in zip(day.tours or [], day.tour_lits, strict=True):
                for p, i in enumerate(tour.order):
                    if i in onsite:
                        rows[day.onsite[i], d].append((blocks.stop_starts(tour, p), lit))
        for (rid, d), items in rows.items():
            scale = _JointScale(self.m, f"joint_{rid}_{d}", [s for s, _ in items])
            for allowed, when in items:
                scale.hold(allowed, when)

    def _circuit_of_legs(self, day: ExpertDay) -> None:
        e, d = day.expert, day.date
        assert day.on_day is not None
        stops = self._stops_of(day)[0]
        day.arcs = self.rules.new_legs(e, stops, f"{e.id}_{d}", day.ends)
        self.rules.add_circuit(stops, day.arcs, day.on_day)
        if day.ends is not None:
            # node 0 is where the day starts and ends: the bounds below assume the base
            day.drives = self.rules.leg_drives(e, stops, day.arcs, day.ends, f"{e.id}_{d}")
            day.drive = self.rules.drive(e, stops, day.arcs, day.drives)
            if self.redundant:
                self.add_round_trip_lower_bound(day, self.rules.places(e, stops))
            return
        day.drive = self.rules.drive(e, stops, day.arcs)
        if self.redundant and day.appointments:
            # the cheapest order of a set of stops need not bound a tour that also passes the
            # appointments (the matrix may be no metric): the round trips still do
            self.add_round_trip_lower_bound(day, self.rules.places(e, stops))
        elif self.redundant:
            sets = self._tours(day, all_orders=False,
                               limit=min(self.max_tours, self._tour_sets_left))
            if sets is not None:
                self._tour_sets_left -= len(sets)
                self.add_cheapest_tour_of_each_stop_set(day, sets)
            else:
                self.add_round_trip_lower_bound(day, self.rules.places(e, stops))

    def add_round_trip_lower_bound(self, day: ExpertDay, locs: list[str]) -> None:
        """(Redundant, for a strong bound.) A day's driving is at least the shortest round trip
        from the base to each of its stops (from the nearest place the day may start at, to
        the nearest it may end at, for a day around a night away)."""
        sp = self.travel.shortest
        froms = [x for x, _ in day.ends.starts] if day.ends else [locs[0]]
        tos = [x for x, _ in day.ends.ends] if day.ends else [locs[0]]
        for j, rid in enumerate(day.onsite, start=1):
            rt = min(sp(x, locs[j]) for x in froms) + min(sp(locs[j], x) for x in tos)
            if rt:
                self.m.add(day.drive >= rt * self.present[rid, day.expert.id, day.date])

    def add_cheapest_tour_of_each_stop_set(self, day: ExpertDay, sets: list[Tour]) -> None:
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


def _sum_of(lits: list[cp_model.IntVar], coeffs: list[int] | None = None) -> cp_model.LinearExprT:
    """``sum(lits)`` (with ``coeffs``: ``sum(c * x)``), the same expression, built at once: a
    Python sum makes an expression object per term, which on a day of hundreds of tours is
    a good part of building the model. 0 for no terms, as ``sum`` gives."""
    if not lits:
        return 0
    if coeffs is None:
        return cp_model.LinearExpr.sum(lits)
    return cp_model.LinearExpr.weighted_sum(lits, coeffs)


class _JointScale:
    """One joint consultation's start on one date, as literals "it starts at or after t",
    one per ``t`` that begins or ends one of the intervals of ``sets`` (each a set of starts
    some literals allow); a set is then a clause per end of it and per gap in it."""

    def __init__(self, m: cp_model.CpModel, name: str, sets: list[Starts]):
        self.m = m
        cuts = sorted({t for s in sets for lo, hi in s for t in (lo, hi + 1)})
        self.at_least = {t: m.new_bool_var(f"{name}_from_{t}") for t in cuts}
        for t1, t2 in itertools.pairwise(cuts):
            m.add_implication(self.at_least[t2], self.at_least[t1])

    def hold(self, allowed: Starts, when: cp_model.IntVar) -> None:
        """The start is one of ``allowed`` when ``when`` holds: at or after its first start,
        before its last start's next minute, and in no gap between two of its intervals
        (none: ``when`` never holds)."""
        if not allowed:
            self.m.add(when == 0)
            return
        self.m.add_implication(when, self.at_least[allowed[0][0]])
        self.m.add_implication(when, ~self.at_least[allowed[-1][1] + 1])
        for (_, hi), (lo, _) in itertools.pairwise(allowed):
            self.m.add_bool_or([~when, ~self.at_least[hi + 1], self.at_least[lo]])
