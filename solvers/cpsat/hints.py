"""A plan into the model and back: hints (a plan the search starts from), fixed values, and the
visits and routes of a solution.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Mapping

from ortools.sat.python import cp_model

from engine.model import Request, Route, Visit
from solvers.cpsat.nights import NightRules
from solvers.cpsat.solver import new_solver
from solvers.routes import Tour, build_routes

__all__ = ["HintsAndReading", "fix_values", "set_hint"]


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


class HintsAndReading(NightRules):
    """Hints into the model (``hint_plan``) and plans out of it (``read_plan``)."""

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
            n = len(day.onsite)
            if day.appointments:    # the fixed stops after the candidates, in time order
                order = tuple(i for _, i in sorted(
                    [*((v.start, index[v.request]) for v in stops),
                     *((b.start, n + k) for k, b in enumerate(day.appointments))]))
            if day.tours is not None:
                chosen = _tour_index(day.tours, order, exact=day.timed)
                for k, lit in enumerate(day.tour_lits):
                    hint[lit] = int(k == chosen)
            path = [0, *(i + 1 for i in order), 0] if order else []
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
        limit = 2.0
        if self.deadline is not None:
            limit = max(0.01, min(2.0, self.deadline - time.perf_counter()))
        solver = new_solver(limit, first_solution=True)
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
        return visits, build_routes(self.p, self.travel, visits, self.read_nights(value))


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
