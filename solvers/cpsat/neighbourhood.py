"""The CP-SAT model of a slot proposal's neighbourhood: the new visit on its expert-days,
those days' visits and the days joined to them by joint visits, every rule of FORMAT.md that
involves them (the expert-day's rules are ``solvers.cpsat.day``, shared with the planner), and
the coordinator's order of preference (``solvers.slots`` chooses among the placements).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from engine.calendar import appointments_at, calls_of, keep_out
from engine.kpis import day_ends, served_value
from engine.model import Plan, PlanRequest, Request, Route, Visit
from engine.travel import TravelTimes
from solvers.cpsat.day import DayRules, Stop, new_start_var
from solvers.cpsat.solver import new_solver
from solvers.explain import Option
from solvers.objective import objective_value

__all__ = ["ROUND_START", "Neighbourhood", "Node", "Placement", "Solved", "Week", "placements"]

#: Starts on a multiple of this many minutes are preferred where they cost nothing.
ROUND_START = 15

Day = tuple[str, dt.date]


# ------------------------------------------------------------------------------ the week as is

class Week:
    """The current plan seen per expert-day, with the counts the caps need."""

    def __init__(self, problem: PlanRequest, plan: Plan, travel: TravelTimes):
        self.p = problem
        self.plan = plan
        self.travel = travel
        self.by_day: dict[Day, list[Visit]] = defaultdict(list)
        self.onsite_total: dict[str, int] = defaultdict(int)
        self.onsite_days: dict[str, set[dt.date]] = defaultdict(set)
        self.location_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        for v in plan.visits:
            for eid in v.experts:
                self.by_day[eid, v.date].append(v)
                if v.mode == "onsite":
                    self.onsite_total[eid] += 1
                    self.onsite_days[eid].add(v.date)
            if v.mode == "onsite":
                self.location_day[v.location, v.date] += len(v.experts)
        self.routes: dict[Day, Route] = {(r.expert, r.date): r for r in plan.routes}
        self.objective = objective_value(problem, list(plan.visits), list(plan.routes))
        self.ends = day_ends(plan.visits, plan.routes)

    def group(self, seeds: Sequence[Day]) -> list[Day]:
        """The expert-days whose times hang together with ``seeds``: joined by joint visits."""
        out: list[Day] = []
        todo = list(seeds)
        seen = set(todo)
        while todo:
            day = todo.pop()
            out.append(day)
            for v in self.by_day.get(day, ()):
                for eid in v.experts:
                    nxt = (eid, v.date)
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
        return sorted(out)


# ------------------------------------------------------------------------------ candidates

@dataclass(frozen=True, slots=True)
class Placement:
    """The new visit on ``date`` by ``experts`` (one per field, in the fields' order),
    starting between ``lo`` and ``hi``."""

    date: dt.date
    experts: tuple[str, ...]
    lo: int
    hi: int


def placements(q: Request, options: list[Option]) -> list[Placement]:
    """Every (date, experts) that could serve ``q`` on its own: one expert per field, distinct,
    their start windows overlapping (the same set of experts counted once)."""
    by_date: dict[dt.date, list[Option]] = defaultdict(list)
    for o in options:
        by_date[o.date].append(o)
    out: dict[tuple[dt.date, frozenset[str]], Placement] = {}
    for d, opts in sorted(by_date.items()):
        per_field = [[o for o in opts if k in o.slots] for k in range(len(q.fields))]
        for combo in itertools.product(*per_field):
            experts = tuple(o.expert for o in combo)
            if len(set(experts)) != len(experts):
                continue
            lo, hi = max(o.lo for o in combo), min(o.hi for o in combo)
            key = (d, frozenset(experts))
            if lo <= hi and key not in out:
                out[key] = Placement(d, experts, lo, hi)
    return list(out.values())


# ------------------------------------------------------------------------------ one neighbourhood

@dataclass
class Node:
    """A visit of the neighbourhood: its start variable, whether it stays, how it is counted."""

    visit: Visit
    request: Request
    start: cp_model.IntVar
    present: cp_model.LiteralT
    lo: int
    hi: int
    new: bool = False
    fixed: bool = False
    keep: cp_model.LiteralT | None = None


@dataclass
class Solved:
    """A candidate's best placement: the objective change, every start of the
    neighbourhood, the visits dropped and moved, whether it is proven best."""

    value: int
    starts: dict[str, int]
    dropped: set[str]
    moved: int
    proven: bool


@dataclass
class Neighbourhood:
    """The CP-SAT model of one candidate: the new visit on its expert-days, those days' visits
    and the days joined to them, every rule of FORMAT.md that involves them."""

    week: Week
    problem: PlanRequest
    q: Request
    cand: Placement
    allow_drop: bool
    m: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    nodes: dict[str, Node] = field(default_factory=dict)
    days: list[Day] = field(default_factory=list)
    drive_terms: list[cp_model.LinearExprT] = field(default_factory=list)
    on_day: dict[Day, cp_model.LiteralT] = field(default_factory=dict)
    old_drive: int = 0
    old_days: int = 0
    #: overtime of the neighbourhood's days: minute_cost × minutes past work_end, and before
    overtime_terms: list[cp_model.LinearExprT] = field(default_factory=list)
    old_overtime: int = 0
    change: cp_model.LinearExprT = 0
    score: cp_model.LinearExprT = 0
    proven_empty: bool = True

    # -------------------------------------------------------------- building
    def build(self) -> bool:
        """Build the model; false when a quick count already shows the candidate cannot work."""
        w = self.problem.objective
        d = self.cand.date
        self.days = self.week.group([(eid, d) for eid in self.cand.experts])
        visits = {v.request: v for day in self.days for v in self.week.by_day.get(day, ())}
        new = Visit(self.q.id, self.cand.experts, self.q.location, self.q.mode, d,
                    self.cand.lo, self.cand.lo + self.q.duration_min)
        for v in [*visits.values(), new]:
            if not self._node(v, is_new=v is new):
                return False
        for day in self.days:
            r = self.week.routes.get(day)
            if r is not None:
                self.old_drive += r.drive_minutes
                # a route to a standing appointment alone is no on-site day
                self.old_days += day[1] in self.week.onsite_days[day[0]]
            if not self.add_day(day):
                return False
        if not self.add_caps_across_days():
            return False
        rules = DayRules(self.m, self.week.travel.minutes, self.week.travel.shortest)
        for rid, n in self.nodes.items():
            rules.add_out_of_closed_hours(stop_of(n), keep_out(self.problem, n.request,
                                                               n.visit.experts, d), rid)
        # what a visit served is worth (priority, and the small-town bonus): gained for the
        # new one, lost for each dropped one (Σ worth − Σ worth × stays over those that may go)
        may_go = [n for n in self.nodes.values() if not isinstance(n.present, int)]
        kept = cp_model.LinearExpr.weighted_sum([n.present for n in may_go],
                                                [self._worth(n.request) for n in may_go])
        lost = sum(self._worth(n.request) for n in may_go) - kept
        drive = cp_model.LinearExpr.sum(self.drive_terms)
        on_days = cp_model.LinearExpr.sum(list(self.on_day.values()))
        overtime = cp_model.LinearExpr.sum(self.overtime_terms)
        self.change = cp_model.LinearExpr.weighted_sum(
            [drive, on_days, lost, self._coverage_shortfall_added(), overtime],
            [-w.drive_minute, -w.onsite_day, -1, -1, -1]) + (
            self._worth(self.q) + w.drive_minute * self.old_drive
            + w.onsite_day * self.old_days + self.old_overtime)
        self.add_preferences()
        return True

    def _worth(self, q: Request) -> int:
        """What serving ``q`` on the candidate's date adds to the objective
        (``engine.kpis.served_value``, less ``late_day`` for each day after its due date)."""
        late = self.problem.objective.late_day * q.days_late(self.cand.date)
        return served_value(self.problem, q) - late

    def _coverage_shortfall_added(self) -> cp_model.LinearExpr:
        """The coverage goal's penalty for consultations now missing at a place below its
        floor, minus the penalty before (the new visit counts where it is; a dropped visit
        no longer counts): penalty × (shortfall after − shortfall before), over the places
        that change."""
        c = self.problem.goals.coverage
        if c is None or not c.penalty:
            return cp_model.LinearExpr.sum([])
        floors = c.floors(self.problem)
        counted = [v for v in self.week.plan.visits if v.mode in c.modes]
        terms: list[cp_model.LinearExprT] = []
        places = {n.request.location for n in self.nodes.values()
                  if (n.new or not isinstance(n.present, int)) and n.visit.mode in c.modes}
        for loc in sorted(places & set(floors)):
            before = sum(v.location == loc for v in counted)
            was = max(0, floors[loc] - before)
            here = [n for n in self.nodes.values() if n.request.location == loc
                    and n.visit.mode in c.modes and (n.new or not isinstance(n.present, int))]
            fixed = before + sum(1 for n in here if n.new)
            free = [n.present for n in here if not n.new]
            if not free:
                terms.append(c.penalty * (max(0, floors[loc] - fixed) - was))
                continue
            short = self.m.new_int_var(0, floors[loc], f"shortfall_{loc}")
            # ``fixed`` counts every visit of the place; each one dropped counts off it
            self.m.add(short + cp_model.LinearExpr.sum(free) >= floors[loc] - fixed + len(free))
            terms.append(c.penalty * short - c.penalty * was)
        return cp_model.LinearExpr.sum(terms)

    def _node(self, v: Visit, *, is_new: bool) -> bool:
        q = self.problem.request_by_id[v.request]
        loc = self.problem.location_by_id[q.location]
        experts = [self.problem.expert_by_id[e] for e in v.experts]
        lo = max([loc.open, *(e.work_start for e in experts)]
                 + ([q.window[0]] if q.window else []))
        hi = min([loc.close, *(e.day_end for e in experts)]
                 + ([q.window[1]] if q.window else [])) - q.duration_min
        if is_new:
            lo, hi = max(lo, self.cand.lo), min(hi, self.cand.hi)
            if q.fixed is not None:         # a request that comes published: only its time
                lo, hi = max(lo, q.fixed.start), min(hi, q.fixed.start)
        fixed = q.fixed is not None and not is_new
        if fixed:
            lo = hi = v.start
        else:       # a start that may move keeps to the appointment grid
            lo, hi = self.problem.horizon.grid_up(lo), self.problem.horizon.grid_down(hi)
        if hi < lo:
            return False                    # no start at all: the candidate cannot work
        start = new_start_var(self.m, lo, hi, self.problem.horizon.start_grid_min,
                              f"start_{q.id}")
        present: cp_model.LiteralT = 1
        if self.allow_drop and not fixed and not is_new:
            present = self.m.new_bool_var(f"stays_{q.id}")
        self.nodes[q.id] = Node(v, q, start, present, lo, hi, is_new, fixed)
        return True

    def add_day(self, day: Day) -> bool:
        """One expert-day, by the day's rules (``solvers.cpsat.day``): a tour base → stops →
        base over the day's on-site visits (a circuit of legs, each leaving at least its travel
        minutes), its drives as blocks no online consultation overlaps, at most the day's visits
        and driving minutes. False when the day cannot hold its visits that must stay."""
        eid, _d = day
        e = self.problem.expert_by_id[eid]
        rules = DayRules(self.m, self.week.travel.minutes, self.week.travel.shortest)
        here = [n for n in self.nodes.values() if eid in n.visit.experts]
        visits = [stop_of(n) for n in here if n.visit.mode == "onsite"]
        stops = [*visits, *(Stop(f"appointment_{eid}_{b.start}", b.at or "", b.end - b.start,
                                 b.start, b.start, self.m.new_constant(b.start), 1,
                                 appointment=True)
                            for b in appointments_at(self.problem, e, day[1]))]
        online = [stop_of(n) for n in here if n.visit.mode == "online"]
        on_day: cp_model.LiteralT | None = None
        legs: dict[tuple[int, int], cp_model.IntVar] = {}
        if stops:
            on_day = self._on_day(rules, eid, visits) if visits else 0
            if visits:
                self.on_day[day] = on_day
            legs = rules.new_legs(e, stops, eid)
            for (i, j), x in legs.items():
                rules.add_leg_time(e, stops, i, j, x)
            # a stop no leg can reach (or leave) cannot be made: dropped if it may be, else
            # the candidate fails (the circuit would say so too, less plainly)
            for i, s in enumerate(stops, start=1):
                if not any(b == i for (_a, b) in legs) or not any(a == i for (a, _b) in legs):
                    if isinstance(s.present, int):
                        return False
                    self.m.add(s.present == 0)
            rules.add_circuit(stops, legs, on_day)
            drive = rules.drive(e, stops, legs)
            self.drive_terms.append(drive)
            if not rules.add_daily_caps(e, stops, drive, on_day):
                return False
            if online and isinstance(on_day, int) and not any(j == 0 for (_i, j) in legs):
                return False                # no way home, yet calls need the drive placed
        ot = rules.new_overtime(e, eid)
        if ot is not None:              # the day may end past work_end, each minute paid
            assert e.overtime is not None
            rules.add_day_end(e, ot, stops, online, legs)
            self.overtime_terms.append(e.overtime.minute_cost * ot)
            self.old_overtime += e.overtime_cost(self.week.ends.get(day, e.work_end))
        rules.add_one_thing_at_a_time(e, stops, online, legs, on_day, eid,
                                      busy=calls_of(e, day[1]), overtime=ot)
        return True

    def _on_day(self, rules: DayRules, eid: str, stops: list[Stop]) -> cp_model.LiteralT:
        if any(isinstance(s.present, int) for s in stops):
            return 1
        on_day = self.m.new_bool_var(f"onsite_day_{eid}")
        rules.link_on_day(stops, on_day)
        return on_day

    def add_caps_across_days(self) -> bool:
        """Caps that count beyond the neighbourhood: each expert's on-site visits in total and
        on-site dates (contracted days), and the visits the new visit's place hosts that day
        (a joint visit counting once per expert). False when they cannot hold."""
        d = self.cand.date
        for eid in {e for (e, _d) in self.days}:
            e = self.problem.expert_by_id[eid]
            mine = [n for n in self.nodes.values()
                    if eid in n.visit.experts and n.visit.mode == "onsite"]
            if e.max_visits_total is not None:
                before = self.week.onsite_total[eid] - sum(not n.new for n in mine)
                if not self._at_most(before, [(1, n.present) for n in mine], e.max_visits_total):
                    return False
            lits = [(1, x) for day, x in self.on_day.items() if day[0] == eid]
            if e.max_onsite_days is not None and mine:
                days = self.week.onsite_days[eid]
                before = len(days) - (d in days)
                if not self._at_most(before, lits, e.max_onsite_days):
                    return False
            month_cap = e.month_cap(d.year, d.month)
            if month_cap is not None and mine:   # the contract's on-site days that month
                days = {x for x in self.week.onsite_days[eid]
                        if (x.year, x.month) == (d.year, d.month)}
                before = len(days) - (d in days)
                if not self._at_most(before, lits, month_cap):
                    return False
        if self.q.mode == "onsite":
            loc = self.problem.location_by_id[self.q.location]
            if loc.max_visits_per_day is not None:
                here = [n for n in self.nodes.values()
                        if n.visit.mode == "onsite" and n.request.location == loc.id]
                before = self.week.location_day[loc.id, d] - sum(
                    len(n.visit.experts) for n in here if not n.new)
                terms = [(len(n.visit.experts), n.present) for n in here]
                if not self._at_most(before, terms, loc.max_visits_per_day):
                    return False
        return True

    def _at_most(self, before: int, terms: list[tuple[int, cp_model.LiteralT]], cap: int) -> bool:
        fixed = before + sum(c for c, x in terms if isinstance(x, int))
        if fixed > cap:
            return False
        free = [(c, x) for c, x in terms if not isinstance(x, int)]
        if free and fixed + sum(c for c, _ in free) > cap:
            self.m.add(sum(c * x for c, x in free) <= cap - fixed)  # type: ignore[operator]
        return True

    def add_preferences(self) -> None:
        """Best objective first; then the fewest visits moved or dropped; then a new start on
        the quarter hour; then the earliest such start. The weights keep that order: each
        level outweighs everything below it."""
        moves = []
        for n in self.nodes.values():
            if n.new or n.fixed:
                continue
            keep = self.m.new_bool_var(f"keeps_time_{n.request.id}")
            self.m.add(n.start == n.visit.start).only_enforce_if(keep)
            if not isinstance(n.present, int):
                self.m.add_implication(keep, n.present)
            n.keep = keep
            moves.append(keep)
        new = self.nodes[self.q.id]
        off = self.m.new_bool_var("start_off_the_quarter")
        quarter = self.m.new_int_var(new.lo // ROUND_START, new.hi // ROUND_START + 1, "quarter")
        self.m.add(new.start == ROUND_START * quarter).only_enforce_if(~off)
        later = new.start - new.lo                      # 0 … span minutes
        d = new.hi - new.lo + 1                         # > any difference in ``later``
        c = d                                           # one start off the quarter > any later
        b = c + d                                       # one visit moved > both
        a = b * (len(moves) + 1) + c + d                # one point of objective > all of them
        moved = len(moves) + -cp_model.LinearExpr.sum(moves)
        self.score = cp_model.LinearExpr.weighted_sum([self.change, moved, off, later],
                                                      [a, -b, -c, -1])
        self.m.maximize(self.score)

    # -------------------------------------------------------------- solving
    def solve(self, time_limit: float) -> Solved | None:
        """The best placement (``None`` when there is none, or none found in time:
        ``proven_empty`` tells which)."""
        solver = new_solver(max(0.01, time_limit))
        code = solver.solve(self.m)
        self.proven_empty = code == cp_model.INFEASIBLE
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        starts = {rid: int(solver.value(n.start)) for rid, n in self.nodes.items()}
        dropped = {rid for rid, n in self.nodes.items()
                   if not isinstance(n.present, int) and not solver.boolean_value(n.present)}
        moved = sum(1 for rid, n in self.nodes.items()
                    if not n.new and rid not in dropped and starts[rid] != n.visit.start)
        return Solved(int(solver.value(self.change)), starts, dropped, moved,
                       code == cp_model.OPTIMAL)

    def exclude_near(self, start: int, gap: int) -> None:
        """The new visit starts at least ``gap`` minutes away from ``start``."""
        s = self.nodes[self.q.id].start
        later = self.m.new_bool_var(f"after_{start}")
        self.m.add(s >= start + gap).only_enforce_if(later)
        self.m.add(s <= start - gap).only_enforce_if(~later)


def stop_of(n: Node) -> Stop:
    """A visit of the neighbourhood as a stop of the day's model."""
    return Stop(n.request.id, n.request.location, n.request.duration_min, n.lo, n.hi, n.start,
                n.present)
