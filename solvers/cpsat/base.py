"""What every part of the planner's CP-SAT model shares: the variables of a week (each
request's date, experts and start, each expert-day's tour) and the state of the build (its
options, its deadline). The rules are written over this state in ``solvers.cpsat.tours`` (the
choice of each on-site day's tour), ``solvers.cpsat.day`` (the day's legs in time, written once
for the planner and the slot proposals), ``solvers.model`` (the rest) and read back in
``solvers.cpsat.hints``.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from engine.model import Busy, Expert, PlanRequest
from engine.travel import TravelTimes
from solvers.cpsat.day import DayRules, Ends, Stop
from solvers.day_starts import DayBlocks
from solvers.explain import Explainer
from solvers.routes import Candidate, Tour

__all__ = ["ExpertDay", "ModelBase", "OutOfTime"]


@dataclass
class ExpertDay:
    """Variables of one expert on one date.

    Nodes of the day's tour: 0 is the base, ``i >= 1`` the on-site candidate ``onsite[i - 1]``,
    then the standing appointments at a place (``appointments``, stops fixed in time).
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
    #: standing appointments at a place (``busy[].at``): the day's last nodes, fixed in time
    appointments: list[Busy] = field(default_factory=list)
    #: where the day may start and end, for an expert who may stay away (else the base)
    ends: Ends | None = None
    #: the drives of each leg where the day has ``ends`` (``solvers.cpsat.day.Drives``)
    drives: dict[tuple[int, int], list[tuple[int, cp_model.LiteralT]]] | None = None
    #: a day with ``ends`` and no stop: its drive between two places, (minutes, literal)
    direct: list[tuple[int, cp_model.LiteralT]] = field(default_factory=list)

    def order_vars(self) -> list[int]:
        """Indices of the literals that choose the day's order of stops, with those that
        follow from it: the drive of each leg from or to the place of a night away, and the
        drive between two nights of a day without stops (a plan re-decided with its order kept
        none of them, else they hold the day to the order it had)."""
        drives = [x for options in (self.drives or {}).values() for _, x in options]
        return [x.index for x in [*self.tour_lits, *self.arcs.values(), *self.stop_sets, *drives,
                                  *(x for _, x in self.direct)]
                if isinstance(x, cp_model.IntVar)]


class OutOfTime(Exception):
    """The time limit ran out while the model was being built."""


class ModelBase:
    """The variables of one ``PlanRequest``'s model and the state of its build (see
    ``solvers.model.PlannerModel`` for the arguments)."""

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
        self.days: dict[tuple[str, dt.date], ExpertDay] = {}
        #: (expert, date, place) → "the day ends at the place, the next day starts there"
        self.nights: dict[tuple[str, dt.date, str], cp_model.IntVar] = {}
        self._stops: dict[tuple[str, dt.date], tuple[list[Stop], list[Stop]]] = {}
        self.keep: dict[str, cp_model.IntVar] = {}
        self.shortfall: dict[str, cp_model.IntVar] = {}
        #: the minutes each expert-day of an expert with overtime ends past work_end
        self.overtime: dict[tuple[str, dt.date], cp_model.IntVar] = {}
        self._window: dict[tuple[str, str, dt.date], tuple[int, int]] = {}
        #: the blocks of each expert-day's tours, made where the choice needs them
        self._day_blocks: dict[tuple[str, dt.date], DayBlocks] = {}
        #: indices of the constraints and variables about start times (see ``build``)
        self.timing: list[int] = []
        self.timing_vars: list[int] = []
        self._choice = cp_model.CpModel()
        #: the expert-days of each group of the last ``day_groups`` call, in the same order
        self.group_days: list[list[tuple[str, dt.date]]] = []

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

    def _check_deadline(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OutOfTime

    def _stops_of(self, day: ExpertDay) -> tuple[list[Stop], list[Stop]]:
        """The day's on-site and online consultations as stops of the day's model (each
        with its window on this expert-day), the on-site ones followed by the standing
        appointments at a place."""
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

            fixed = [Stop(f"appointment_{eid}_{d}_{b.start}", b.at or "", b.end - b.start,
                          b.start, b.start, self.m.new_constant(b.start), 1, appointment=True)
                     for b in day.appointments]
            got = ([*(stop(r, True) for r in day.onsite), *fixed],
                   [stop(r, False) for r in day.online])
            self._stops[eid, d] = got
        return got

    def _candidates(self, day: ExpertDay) -> list[Candidate]:
        """The day's on-site candidates, then its standing appointments at a place (fixed in
        time), in the order of the day's nodes."""
        out = []
        for rid in day.onsite:
            q = self.p.request_by_id[rid]
            lo, hi = self._window[rid, day.expert.id, day.date]
            out.append(Candidate(q.location, q.duration_min, lo, hi))
        out += [Candidate(b.at or "", b.end - b.start, b.start, b.start, fixed_time=True)
                for b in day.appointments]
        return out

    def _now_on(self, day: dt.date) -> int | None:
        """The minute of ``horizon.history_until`` when it falls on ``day``, else None."""
        h = self.p.horizon.history_until
        return h.hour * 60 + h.minute if h is not None and h.date() == day else None

    def _domain_bounds(self, rid: str) -> tuple[int, int]:
        opts = self.options[rid]
        return min(o.lo for o in opts), max(o.hi for o in opts)
