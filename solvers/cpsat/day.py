"""The expert-day in CP-SAT, written once: the rules of one expert's day (docs/FORMAT.md).

An expert's on-site day is one tour base → stops → base. Each *leg* (node ``i`` to node ``j``;
0 is the base, ``i >= 1`` the stop ``stops[i - 1]``) is a literal; the legs taken form a
circuit. Each leg leaves at least its travel minutes between the stops it joins; each drive is a
block of its leg's travel minutes placed anywhere between the end of the stop it leaves (or the
start of work) and the start of the stop it reaches (or the end of work), and nothing else
happens during it: the expert waits anywhere and takes online consultations anywhere but
inside a drive. The day holds at most the expert's daily visits and driving minutes.

The planner (``solvers.model.PlannerModel``, every expert-day of a week) and the slot proposals
(``solvers.slots``, the few expert-days a new request touches) describe their days as ``Stop``
lists and compose these rules on their own model; a rule changed here changes both.

Examples
--------
>>> from ortools.sat.python import cp_model
>>> from engine.model import Expert
>>> m = cp_model.CpModel()
>>> e = Expert("e1", ("pr",), "office", work_start=540, work_end=1020)
>>> minutes = lambda a, b: 0 if a == b else 30
>>> stop = Stop("r1", "town", 60, 540, 960, m.new_int_var(540, 960, "start_r1"), present=1)
>>> rules = DayRules(m, minutes, minutes)
>>> legs = rules.new_legs(e, [stop], "e1")
>>> sorted(legs)
[(0, 1), (1, 0)]
>>> rules.add_circuit([stop], legs, on_day=1)
>>> for (i, j), lit in legs.items():
...     rules.add_leg_time(e, [stop], i, j, lit)
>>> m.minimize(stop.start)
>>> solver = cp_model.CpSolver()
>>> solver.solve(m) == cp_model.OPTIMAL, solver.value(stop.start)    # 09:00 + 30 min drive
(True, 570)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from engine.clock import grid_up
from engine.model import Expert

__all__ = ["DayRules", "Drives", "Ends", "Leg", "Legs", "Stop", "new_start_var", "negated"]

#: The legs of a day: (from node, to node) → the literal "the tour drives this leg".
Legs = Mapping[tuple[int, int], cp_model.IntVar]
#: A drive that may be taken: (the node it leaves, its minutes, its literal).
Leg = tuple[int, int, cp_model.LiteralT]
#: The drives each leg may be: (i, j) → [(its minutes, the literal "the tour drives it")];
#: one per leg, but a leg from or to node 0 of a day that may start or end away from the
#: base is one drive per place it may start or end at.
Drives = Mapping[tuple[int, int], list[tuple[int, cp_model.LiteralT]]]


@dataclass(frozen=True)
class Ends:
    """Where an expert-day may start (``starts``) and end (``ends``): the base, or the place
    of a night away before or after it, each as (place, literal), exactly one of each true.
    Node 0 of the day's tour is then where it starts (leaving) and where it ends (coming
    back)."""

    starts: tuple[tuple[str, cp_model.LiteralT], ...]
    ends: tuple[tuple[str, cp_model.LiteralT], ...]




@dataclass(frozen=True)
class Stop:
    """One consultation of an expert-day in the model: where (``location``), how long
    (``duration``, minutes), the starts it may take (``lo``…``hi``, minutes after midnight),
    its start variable and whether it is made (``present``: a literal, or 1 when it must be).
    ``leaves_from``: the drive to it leaves no earlier than this minute (the day's "now" for a
    stop not yet published), or None. An ``appointment`` is a standing appointment at a place
    (``experts[].busy[].at``): a stop fixed in time (``lo == hi``, present 1) that is no visit,
    so that it counts in no visit cap and makes no on-site day, yet its day always drives."""

    request: str
    location: str
    duration: int
    lo: int
    hi: int
    start: cp_model.IntVar
    present: cp_model.LiteralT
    leaves_from: int | None = None
    appointment: bool = False


def new_start_var(m: cp_model.CpModel, lo: int, hi: int, grid: int, name: str
                  ) -> cp_model.IntVar:
    """A consultation's start (minutes after midnight, ``lo``…``hi``) on the appointment grid:
    a multiple of ``grid`` minutes (``horizon.start_grid_min``; 1 is any minute).

    >>> m = cp_model.CpModel()
    >>> list(new_start_var(m, 556, 600, 15, "start_r1").proto.domain)
    [570, 570, 585, 585, 600, 600]
    """
    if grid <= 1:
        return m.new_int_var(lo, hi, name)
    first = grid_up(lo, grid)
    return m.new_int_var_from_domain(cp_model.Domain.from_values(range(first, hi + 1, grid)),
                                     name)


def negated(x: cp_model.LiteralT) -> cp_model.LiteralT:
    """The negation of a literal or of a constant 0/1."""
    if isinstance(x, int):
        return 1 - x
    return ~x  # type: ignore[operator]


class DayRules:
    """The rules of an expert-day on the model ``m``, with the driving minutes ``minutes(a, b)``
    of a leg and ``shortest(a, b)``, the shortest driving between two places (a lower bound
    for any way between them). Each method is one rule; ``name`` is the day's part of its
    variables' names."""

    def __init__(self, m: cp_model.CpModel, minutes: Callable[[str, str], int],
                 shortest: Callable[[str, str], int]):
        self.m = m
        self.minutes = minutes
        self.shortest = shortest

    @staticmethod
    def places(e: Expert, stops: list[Stop]) -> list[str]:
        """The day's nodes as places: the base, then each stop's location."""
        return [e.base, *(s.location for s in stops)]

    # ------------------------------------------------------------------ the tour's legs
    def leg_possible(self, e: Expert, stops: list[Stop], i: int, j: int,
                     ends: Ends | None = None) -> bool:
        """Whether ``j`` can directly follow ``i`` (0: the base, or where the day starts and
        ends, ``ends``) on this expert-day: the earliest end of ``i`` (0: the start of work)
        plus the drive must meet ``j``'s latest start (0: the end of work), and a tour through
        both must stay within the day's drive cap. Impossible legs get no literal at all."""
        locs = self.places(e, stops)
        starts = [x for x, _ in ends.starts] if ends else [e.base]
        finals = [x for x, _ in ends.ends] if ends else [e.base]
        t_ij = min(self.minutes(a, b) for a in (starts if i == 0 else [locs[i]])
                   for b in (finals if j == 0 else [locs[j]]))
        end_i = e.work_start if i == 0 else stops[i - 1].lo + stops[i - 1].duration
        latest_j = e.day_end if j == 0 else stops[j - 1].hi
        if end_i + t_ij > latest_j:
            return False
        cap = e.max_drive_minutes_per_day
        sp = self.shortest
        lead = min(sp(x, locs[i]) for x in starts) if i else 0
        tail = min(sp(locs[j], x) for x in finals) if j else 0
        return cap is None or lead + t_ij + tail <= cap

    def new_legs(self, e: Expert, stops: list[Stop], name: str, ends: Ends | None = None
                 ) -> dict[tuple[int, int], cp_model.IntVar]:
        """A literal for each leg the day may drive (``leg_possible``)."""
        legs: dict[tuple[int, int], cp_model.IntVar] = {}
        for i, j in itertools.permutations(range(len(stops) + 1), 2):
            if self.leg_possible(e, stops, i, j, ends):
                legs[i, j] = self.m.new_bool_var(f"leg_{name}_{i}_{j}")
        return legs

    def leg_drives(self, e: Expert, stops: list[Stop], legs: Legs, ends: Ends | None = None,
                   name: str = "") -> dict[tuple[int, int], list[tuple[int, cp_model.LiteralT]]]:
        """The drives of each leg (``Drives``): a leg from or to node 0 of a day with ``ends``
        is one drive per place the day may start or end at, its literal "the leg is taken
        and the day starts (ends) there"."""
        locs = self.places(e, stops)
        out: dict[tuple[int, int], list[tuple[int, cp_model.LiteralT]]] = {}
        for (i, j), lit in legs.items():
            if ends is None or (i and j):
                out[i, j] = [(self.minutes(locs[i], locs[j]), lit)]
                continue
            side = ends.starts if i == 0 else ends.ends
            out[i, j] = []
            for place, at in side:
                t = self.minutes(place, locs[j]) if i == 0 else self.minutes(locs[i], place)
                x = self.both(lit, at, f"{name}_{i}_{j}_{place}")
                if not isinstance(x, int) or x:
                    out[i, j].append((t, x))
        return out

    def both(self, a: cp_model.LiteralT, b: cp_model.LiteralT, name: str) -> cp_model.LiteralT:
        """A literal true exactly when ``a`` and ``b`` are (a constant where one is)."""
        if isinstance(b, int):
            return a if b else 0
        if isinstance(a, int):
            return b if a else 0
        x = self.m.new_bool_var(f"drive_{name}")
        self.m.add_implication(x, a)  # type: ignore[arg-type]
        self.m.add_implication(x, b)  # type: ignore[arg-type]
        self.m.add_bool_or([x, negated(a), negated(b)])
        return x

    @staticmethod
    def drives(stops: list[Stop], on_day: cp_model.LiteralT) -> cp_model.LiteralT:
        """Whether the day drives a tour: always with a standing appointment at a place, else
        when it is an on-site day."""
        return 1 if any(s.appointment for s in stops) else on_day

    def add_circuit(self, stops: list[Stop], legs: Legs, on_day: cp_model.LiteralT) -> None:
        """The legs taken form one tour base → stops → base through every stop made, or none
        when the day is not an on-site day and has no appointment at a place."""
        arcs: list[tuple[int, int, cp_model.LiteralT]] = []
        if not isinstance(tour := self.drives(stops, on_day), int):
            arcs.append((0, 0, negated(tour)))
        arcs += [(i, j, lit) for (i, j), lit in legs.items()]
        for i, s in enumerate(stops, start=1):
            if not isinstance(s.present, int):
                arcs.append((i, i, negated(s.present)))
        self.m.add_circuit(arcs)

    def drive(self, e: Expert, stops: list[Stop], legs: Legs,
              drives: Drives | None = None) -> cp_model.LinearExprT:
        """The day's driving minutes: the sum of the legs taken (of ``drives`` where given)."""
        terms = []
        for _leg, options in (drives or self.leg_drives(e, stops, legs)).items():
            terms += [t * lit for t, lit in options if t]
        return sum(terms)

    def link_on_day(self, stops: list[Stop], on_day: cp_model.LiteralT) -> None:
        """A day is an on-site day exactly when one of its stops is made (a standing
        appointment at a place is no visit)."""
        stops = [s for s in stops if not s.appointment]
        for s in stops:
            self.m.add_implication(s.present, on_day)  # type: ignore[arg-type]
        self.m.add(sum(s.present for s in stops) >= on_day)

    def add_daily_caps(self, e: Expert, stops: list[Stop], drive: cp_model.LinearExprT,
                       on_day: cp_model.LiteralT | None) -> bool:
        """At most the expert's visits a day and driving minutes a day. False when the stops
        that must be made already exceed the visits. Standing appointments at a place count
        in the driving, not in the visits."""
        visits = [s for s in stops if not s.appointment]
        cap = e.max_visits_per_day
        if cap is not None:
            if sum(isinstance(s.present, int) for s in visits) > cap:
                return False
            if len(visits) > cap:
                self.m.add(sum(s.present for s in visits) <= cap)
        drive_cap = e.max_drive_minutes_per_day
        if drive_cap is not None and on_day is not None:
            self.m.add(drive <= drive_cap)
        return True

    def add_out_of_closed_hours(self, s: Stop, spans: list[tuple[int, int]],
                                name: str) -> None:
        """A consultation made overlaps none of ``spans`` (minutes, end exclusive: its place's
        closed hours and closures, its experts' part-day blackouts): it ends by the start of
        each or starts at its end."""
        for lo, hi in spans:
            if s.hi + s.duration <= lo or s.lo >= hi:
                continue                # its starts cannot meet this one
            before = self.m.new_bool_var(f"before_closed_{name}_{lo}")
            after = self.m.new_bool_var(f"after_closed_{name}_{lo}")
            self.m.add(s.start + s.duration <= lo).only_enforce_if(before)
            self.m.add(s.start >= hi).only_enforce_if(after)
            self.m.add_bool_or([before, after, negated(s.present)])

    # ------------------------------------------------------------------ legs in time
    def add_leg_time(self, e: Expert, stops: list[Stop], i: int, j: int,
                     lit: cp_model.IntVar, drives: Drives | None = None) -> None:
        """A leg taken leaves at least its travel minutes: the first stop starts no earlier
        than work start plus the drive from the base (or from where the day starts), each next
        stop no earlier than the end of the one before plus the drive between them, and the
        drive home (or to where the day ends) from the last stop ends by the end of work; a
        stop with ``leaves_from`` is reached by a drive that leaves from that minute on."""
        locs = self.places(e, stops)
        options = drives[i, j] if drives is not None else [(self.minutes(locs[i], locs[j]), lit)]
        for t, x in options:
            self._leg_time(e, stops, i, j, t, x)

    def _leg_time(self, e: Expert, stops: list[Stop], i: int, j: int, t: int,
                  lit: cp_model.LiteralT) -> None:
        if isinstance(lit, int) and not lit:
            return
        now = stops[j - 1].leaves_from if j else None
        if now is not None:
            self._when(self.m.add(stops[j - 1].start >= now + t), lit)
        if i == 0:
            sj = stops[j - 1].start
            self._when(self.m.add(sj >= e.work_start + t), lit)
        elif j == 0:
            si = stops[i - 1]
            self._when(self.m.add(si.start + si.duration + t <= e.day_end), lit)
        else:
            si, sj = stops[i - 1], stops[j - 1].start
            self._when(self.m.add(sj >= si.start + si.duration + t), lit)

    def add_one_thing_at_a_time(self, e: Expert, stops: list[Stop], online: list[Stop],
                                legs: Legs, on_day: cp_model.LiteralT | None,
                                name: str, *, busy: Sequence[tuple[int, int]],
                                overtime: cp_model.IntVar | None = None,
                                drives: Drives | None = None, away: bool = False,
                                more: Sequence[cp_model.IntervalVar] = ()) -> None:
        """An expert does one thing at a time: consultations on site and online, and each
        leg's drive as a block (``drive_block``). Waiting is allowed anywhere, online
        consultations anywhere but inside a drive. An expert with ``lunch`` has the break as
        one more block (``lunch``); each standing appointment of the day (``busy``, minutes
        ``(start, end)``, taken anywhere) is a block fixed in time, and one at a place is a stop
        of the day; ``more`` are blocks the caller adds (a day's drive between the places of
        two nights). On a day that may start or end away (``away``: it may drive without
        consultations) lunch is due only with a consultation. (A day without online
        consultations, lunch or standing appointments needs nothing: its legs keep its stops
        apart in time.) With ``overtime`` (``new_overtime``) the day ends no earlier than its
        drive home's block."""
        if not online and e.lunch is None and not busy:
            return
        drives = drives if drives is not None else self.leg_drives(e, stops, legs)
        intervals = list(more)
        for j, s in enumerate(stops, start=1):
            intervals.append(self._interval(s, f"visit_{s.request}_{name}"))
            inbound = [(i, t, x) for (i, jj), xs in drives.items() if jj == j for t, x in xs]
            if not inbound:
                continue
            intervals.append(self.drive_block(f"drive_to_{s.request}_{name}", e, stops,
                                              inbound, s.present, before=s.start))
        if on_day is not None and legs:
            home = [(i, t, x) for (i, j), xs in drives.items() if j == 0 for t, x in xs]
            if home:
                tour = self.drives(stops, on_day)
                block = self.drive_block(f"drive_home_{name}", e, stops, home, tour,
                                         before=None)
                intervals.append(block)
                if overtime is not None:
                    ends: cp_model.LinearExprT = block.end_expr()  # type: ignore[assignment]
                    self._when(self.m.add(overtime >= ends - e.work_end), tour)  # type: ignore[operator]
        for s in online:
            intervals.append(self._interval(s, f"online_{s.request}_{name}"))
        if e.lunch is not None:
            visits = [s for s in stops if not s.appointment]
            met = busy or len(visits) < len(stops) or away
            intervals.append(self.lunch(e, name, [*visits, *online] if met else None))
        for lo, hi in busy:
            intervals.append(self.m.new_fixed_size_interval_var(lo, hi - lo,
                                                                f"busy_{name}_{lo}"))
        if len(intervals) > 1:
            self.m.add_no_overlap(intervals)

    # ------------------------------------------------------------------ overtime
    def new_overtime(self, e: Expert, name: str) -> cp_model.IntVar | None:
        """The minutes the day ends past ``work_end`` (0 … ``overtime.max_minutes``: the
        objective pays ``minute_cost`` for each, so the least the rules allow is taken), or
        None for an expert without overtime, whose day ends by ``work_end``."""
        if e.overtime is None or not e.overtime.max_minutes:
            return None
        return self.m.new_int_var(0, e.overtime.max_minutes, f"overtime_{name}")

    def add_day_end(self, e: Expert, overtime: cp_model.IntVar, stops: list[Stop],
                    online: list[Stop], legs: Legs, drives: Drives | None = None) -> None:
        """A day ends when its last consultation (on site or online) or its drive home ends,
        whichever is later: ``overtime`` is at least each consultation's end and each drive
        home's earliest end (the last stop's end plus the drive) past ``work_end``. (Where the
        drive home is a block of its own, ``add_one_thing_at_a_time`` holds its end too.)"""
        we = e.work_end
        for s in [*stops, *online]:
            if s.hi + s.duration > we:
                self._when(self.m.add(overtime >= s.start + s.duration - we), s.present)
        for (i, j), options in (drives or self.leg_drives(e, stops, legs)).items():
            if j == 0 and i:
                si = stops[i - 1]
                for t, lit in options:      # (the drive to where the day ends)
                    if si.hi + si.duration + t > we:
                        self._when(self.m.add(overtime >= si.start + si.duration + t - we), lit)

    def lunch(self, e: Expert, name: str,
              due_with: list[Stop] | None = None) -> cp_model.IntervalVar:
        """The expert's lunch break: ``lunch.minutes`` long, inside its window. Without
        ``due_with`` it is made on every expert-day of the model: a day without consultations
        has nothing it could overlap, so it costs nothing there. With ``due_with`` (a day with
        standing appointments, which a lunch could overlap even on a day without
        consultations) it is made whenever one of those consultations is."""
        assert e.lunch is not None
        start = self.m.new_int_var(e.lunch.start, e.lunch.end - e.lunch.minutes,
                                   f"lunch_{name}")
        size = e.lunch.minutes
        if due_with is None:
            return self.m.new_fixed_size_interval_var(start, size, f"lunch_block_{name}")
        due = self.m.new_bool_var(f"lunch_due_{name}")
        for s in due_with:
            self.m.add(due >= s.present)
        return self.m.new_optional_fixed_size_interval_var(start, size, due,
                                                           f"lunch_block_{name}")

    def drive_block(self, name: str, e: Expert, stops: list[Stop], legs: list[Leg],
                    present: cp_model.LiteralT,
                    before: cp_model.IntVar | None) -> cp_model.IntervalVar:
        """One drive as an interval: its length is the minutes of the leg taken (one of
        ``legs``); it begins after the stop it leaves ends (or after work starts) and ends
        before ``before`` starts (or work ends)."""
        lengths = sorted({t for _, t, _ in legs})
        size: cp_model.LinearExprT
        if len(lengths) == 1:
            size = lengths[0]
        else:
            size_var = self.m.new_int_var_from_domain(
                cp_model.Domain.from_values(lengths), f"{name}_minutes")
            self._when(self.m.add(size_var == sum(t * lit for _, t, lit in legs if t)), present)
            size = size_var
        begin = self.m.new_int_var(e.work_start, e.day_end, f"{name}_from")
        end = self.m.new_int_var(e.work_start, e.day_end, f"{name}_to")
        for i, _, lit in legs:
            if i:
                si = stops[i - 1]
                self._when(self.m.add(begin >= si.start + si.duration), lit)
        if before is not None:
            self._when(self.m.add(end <= before), present)
        if isinstance(present, int):
            return self.m.new_interval_var(begin, size, end, name)
        return self.m.new_optional_interval_var(begin, size, end, present, name)

    def _interval(self, s: Stop, name: str) -> cp_model.IntervalVar:
        if isinstance(s.present, int):
            return self.m.new_fixed_size_interval_var(s.start, s.duration, name)
        return self.m.new_optional_fixed_size_interval_var(s.start, s.duration, s.present, name)

    @staticmethod
    def _when(ct: cp_model.Constraint, present: cp_model.LiteralT) -> None:
        if not isinstance(present, int):
            ct.only_enforce_if(present)
