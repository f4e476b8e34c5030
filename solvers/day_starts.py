"""When one consultation of an expert-day can start, given the rest of the day: its tour.

A tour (``solvers.routes.Tour``) runs as a chain of blocks in a fixed order: the drive to the
first stop, the stop, the drive on, ..., the drive home. Each block starts after the one
before it ends, within its own limits: a stop in its window, on the appointment grid, clear
of its place's closed hours and of the expert's blackouts; a drive after work starts, home
by the end of the day (overtime included); none of them during a standing appointment. The
expert's lunch is one more block, anywhere in the chain (waiting may be lunch, a drive may
not). With one consultation held at a start ``t`` (a stop of the tour, or an online
consultation between two of its blocks), the day can run exactly when the blocks before it
can end by ``t`` and those after it can start once it ends: placing each block as early as it
may (as late as it may, from the end) settles both, since an earlier end never hurts what
follows. So the starts at which the day can run are the consultation's own starts within a
few intervals, computed once per tour (``Reach``), for every consultation of the day.

The planner's choice of tours uses these sets for its joint consultations
(``solvers.cpsat.tours``): two experts' tours with no start in common are never chosen
together.

Examples
--------
>>> drive, stop = Block(30, 480, 1050), Block(60, 540, 960, grid=15, out=((720, 780),))
>>> lunch = Block(45, 690, 765)
>>> reach = Reach([drive, stop, drive], lunch)
>>> reach.stop_starts(1)              # not from 11:15 (it would end in the closed hour)
((540, 660), (780, 960))
>>> reach.call_starts(Block(60, 480, 1020, grid=15))     # not at 12:00: no room for lunch
((480, 705), (735, 1020))
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.calendar import calls_of, keep_out
from engine.clock import grid_down, grid_up
from engine.model import Expert, PlanRequest
from solvers.routes import Candidate, Tour

__all__ = ["Block", "DayBlocks", "Reach", "Starts", "tour_chain"]

#: Starts of a consultation, as intervals ``(first, last)`` of starts on the grid, in order.
Starts = tuple[tuple[int, int], ...]

#: Minutes after midnight before and after anything of a day.
_NEVER = -(10**6)
_ALWAYS = 10**6


@dataclass(frozen=True, slots=True)
class Block:
    """A block of the day: ``minutes`` long, starting between ``lo`` and ``hi`` (minutes after
    midnight) on a ``grid`` of minutes (1: any minute), overlapping none of the spans ``out``
    (``(start, end)`` minutes, end exclusive, sorted by start). A block of no minutes (a
    drive to the same place) overlaps nothing."""

    minutes: int
    lo: int
    hi: int
    grid: int = 1
    out: tuple[tuple[int, int], ...] = ()

    def first(self, clock: int | None) -> int | None:
        """Its earliest start at or after ``clock`` (None: there is none, or no clock)."""
        if clock is None:
            return None
        t = grid_up(max(clock, self.lo), self.grid)
        if self.minutes and self.out:
            for a, b in self.out:
                if b <= t:
                    continue
                if a >= t + self.minutes:
                    break
                t = grid_up(b, self.grid)
        return t if t <= self.hi else None

    def last(self, by: int | None) -> int | None:
        """Its latest start that ends by ``by`` (None: there is none, or no ``by``)."""
        if by is None:
            return None
        t = grid_down(min(self.hi, by - self.minutes), self.grid)
        if self.minutes and self.out:
            for a, b in _by_end(self.out):
                if a >= t + self.minutes:
                    continue
                if b <= t:
                    break
                t = grid_down(a - self.minutes, self.grid)
        return t if t >= self.lo else None

    def starts(self) -> list[tuple[int, int]]:
        """The starts it may take, as intervals ``(first, last)`` of starts on its grid, in
        order."""
        out = [(self.lo, self.hi)]
        if self.minutes:
            for a, b in self.out:       # starts in a - minutes + 1 … b - 1 overlap (a, b)
                out = [part for lo, hi in out
                       for part in ((lo, min(hi, a - self.minutes)), (max(lo, b), hi))
                       if part[0] <= part[1]]
        return _on_grid(out, self.grid)


def _on_grid(spans: Sequence[tuple[int, int]], grid: int) -> list[tuple[int, int]]:
    """The intervals of ``spans`` (sorted) with their ends moved onto the ``grid``, the empty
    ones left out and the ones no grid step apart joined."""
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        lo, hi = grid_up(lo, grid), grid_down(hi, grid)
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + grid:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


@functools.lru_cache(maxsize=1024)
def _by_end(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """``spans`` latest end first."""
    return tuple(sorted(spans, key=lambda s: -s[1]))


def _end(block: Block, clock: int | None) -> int | None:
    t = block.first(clock)
    return None if t is None else t + block.minutes


def _earliest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class Reach:
    """How far a chain of ``blocks`` (in their order) reaches, with ``lunch`` (a block that
    goes anywhere in the chain; None: no break) or without it yet: ``done[h]`` /
    ``done_lunch[h]`` the earliest end of blocks ``0…h-1`` (with the break among them),
    ``todo[h]`` / ``todo_lunch[h]`` the latest start of blocks ``h…`` (with the break among
    them); None where they cannot run."""

    def __init__(self, blocks: Sequence[Block], lunch: Block | None):
        n = len(blocks)
        self.blocks, self.lunch = blocks, lunch
        done: list[int | None] = [_NEVER]
        done_lunch: list[int | None] = [_end(lunch, _NEVER) if lunch else None]
        for b in blocks:
            done.append(_end(b, done[-1]))
            done_lunch.append(_earliest(_end(b, done_lunch[-1]),
                                        _end(lunch, done[-1]) if lunch else None))
        todo: list[int | None] = [_ALWAYS] * (n + 1)
        todo_lunch: list[int | None] = [None] * (n + 1)
        todo_lunch[n] = lunch.last(_ALWAYS) if lunch else None
        for h in range(n - 1, -1, -1):
            todo[h] = blocks[h].last(todo[h + 1])
            todo_lunch[h] = _latest(blocks[h].last(todo_lunch[h + 1]),
                                    lunch.last(todo[h]) if lunch else None)
        self.done, self.done_lunch, self.todo, self.todo_lunch = done, done_lunch, todo, todo_lunch

    def _spans(self, before: int, after: int) -> list[tuple[int, int]]:
        """Where a block held between ``blocks[before - 1]`` and ``blocks[after]`` may lie,
        as (earliest start, latest end): the break before it or after it."""
        if self.lunch is None:
            pairs = [(self.done[before], self.todo[after])]
        else:
            pairs = [(self.done_lunch[before], self.todo[after]),
                     (self.done[before], self.todo_lunch[after])]
        return [(a, b) for a, b in pairs if a is not None and b is not None]

    def stop_starts(self, k: int) -> Starts:
        """The starts at which ``blocks[k]`` (a stop) can be held with the whole day run, as
        intervals ``(first, last)`` of starts on its grid."""
        return _within(self.blocks[k], [self._spans(k, k + 1)])

    def call_fits(self, call: Block) -> bool:
        """Whether ``call_starts(call)`` has a start: the same answer, without listing them."""
        own = _starts(call)
        for h in range(len(self.blocks) + 1):
            for a, b in self._spans(h, h):
                for lo, hi in own:
                    first = grid_up(max(lo, a), call.grid)
                    if first <= min(hi, b - call.minutes):
                        return True
        return False

    def call_starts(self, call: Block) -> Starts:
        """The starts at which ``call`` (a consultation outside the chain) can be held between
        two of its blocks (or before or after them all) with the whole day run, as intervals
        ``(first, last)`` of starts on its grid."""
        return _within(call, [self._spans(h, h) for h in range(len(self.blocks) + 1)])


@functools.lru_cache(maxsize=4096)
def _starts(block: Block) -> list[tuple[int, int]]:
    """``block.starts()``, once per block: a day's consultation is held beside each of its
    tours."""
    return block.starts()


def _within(block: Block, spans: list[list[tuple[int, int]]]) -> Starts:
    """The starts of ``block`` that lie, with its minutes, inside one of ``spans``, as
    intervals of starts on its grid (``Block.starts``)."""
    own = _starts(block)
    fits = _on_grid(sorted((a, b - block.minutes) for group in spans for a, b in group), 1)
    keep = [(max(lo, a), min(hi, b)) for a, b in fits for lo, hi in own
            if max(lo, a) <= min(hi, b)]
    return tuple(_on_grid(sorted(keep), block.grid))


def tour_chain(places: Sequence[str], stops: Sequence[Block], minutes: Callable[[str, str], int],
               work_start: int, day_end: int, busy: tuple[tuple[int, int], ...]
               ) -> list[Block]:
    """A tour's chain of blocks: the drive from ``places[0]`` to the first stop, each stop
    (``stops``, as blocks), the drive on, ..., the drive to ``places[-1]``; each drive after
    ``work_start`` and done by ``day_end``, clear of the standing appointments ``busy``.
    ``places`` are the day's start, the stops' places and the day's end; ``minutes(a, b)``
    the driving between two places."""
    out: list[Block] = []
    for i in range(len(stops) + 1):
        leg = minutes(places[i], places[i + 1])
        out.append(Block(leg, work_start, day_end - leg, 1, busy))
        if i < len(stops):
            out.append(stops[i])
    return out


class DayBlocks:
    """The blocks of one expert's day (``expert`` on ``date``) that any of its tours is made
    of: each candidate stop (``candidates``, the first ones the on-site ``requests``, the rest
    standing appointments at a place, fixed in time), the lunch break and the online
    consultations, each with its closed hours, blackouts and standing appointments."""

    def __init__(self, problem: PlanRequest, minutes: Callable[[str, str], int], expert: Expert,
                 date: dt.date, candidates: Sequence[Candidate], requests: Sequence[str]):
        self.p, self.minutes, self.expert, self.date = problem, minutes, expert, date
        self.candidates = candidates
        self.grid = problem.horizon.start_grid_min
        self.busy = tuple(calls_of(expert, date))
        lunch = expert.lunch
        self.lunch = None if lunch is None else Block(lunch.minutes, lunch.start,
                                                      lunch.end - lunch.minutes, 1, self.busy)
        self.stops = [
            Block(c.duration, c.lo, c.hi, 1, self.busy) if c.fixed_time or i >= len(requests)
            else Block(c.duration, c.lo, c.hi, self.grid, self._out(requests[i]))
            for i, c in enumerate(candidates)]
        #: nothing holds the day's blocks but their windows and drives: no lunch, no
        #: standing appointment, no closed hours of its stops
        self.plain = self.lunch is None and not self.busy and not any(b.out for b in self.stops)
        self._reach: dict[int, Reach] = {}

    def _out(self, rid: str) -> Starts:
        """What a consultation of ``rid`` by the expert that day must not overlap."""
        q = self.p.request_by_id[rid]
        return tuple(sorted({*keep_out(self.p, q, (self.expert.id,), self.date), *self.busy}))


    def call(self, rid: str, lo: int, hi: int) -> Block:
        """The online consultation ``rid`` as a block, starting between ``lo`` and ``hi``."""
        return Block(self.p.request_by_id[rid].duration_min, lo, hi, self.grid, self._out(rid))

    def call_starts(self, rid: str, lo: int, hi: int) -> Starts:
        """The starts, between ``lo`` and ``hi``, at which the day can take the online
        consultation ``rid`` beside lunch and the standing appointments, whatever its tour."""
        return Reach([], self.lunch).call_starts(self.call(rid, lo, hi))

    def reach(self, tour: Tour) -> Reach:
        """How far the chain of ``tour`` reaches, lunch aside (worked out once per tour)."""
        got = self._reach.get(id(tour))
        if got is None:
            e = self.expert
            places = [tour.start_at or e.base,
                      *(self.candidates[i].location for i in tour.order), tour.end_at or e.base]
            chain = tour_chain(places, [self.stops[i] for i in tour.order], self.minutes,
                               e.work_start, e.day_end, self.busy)
            got = self._reach[id(tour)] = Reach(chain, self.lunch)
        return got

    def stop_starts(self, tour: Tour, p: int) -> Starts:
        """The starts at which the tour's ``p``-th stop can be held with the whole day run
        (``Reach.stop_starts``). On a ``plain`` day, the tour's own earliest to latest start
        there (``Tour.starts``, ``Tour.latest``): the same answer, already at hand."""
        if self.plain:
            return tuple(_on_grid([(tour.starts[p], tour.latest[p])], self.grid))
        return self.reach(tour).stop_starts(2 * p + 1)
