"""The day check: whether one expert's day can run as the choice made it — its stops in their
order (a tour), its online consultations, its lunch and standing appointments — decided on
that day alone, exactly (``day_fits``). The search (``solvers.cpsat.search``) asks it of each
day the choice model chose before it asks CP-SAT about the whole week.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from ortools.sat.python import cp_model

from engine.clock import grid_down, grid_up
from solvers.cpsat.solver import new_solver
from solvers.routes import Candidate, Minutes

__all__ = ["Block", "Spans", "day_fits"]


#: A block of the day as (earliest start, latest start, minutes), minutes after midnight.
Block = tuple[int, int, int]
#: Spans of the day a block must not overlap, ``(start, end)`` minutes, end exclusive.
Spans = Sequence[tuple[int, int]]


def day_fits(base: str, stops: Sequence[Candidate], calls: Sequence[tuple[int, int, int]],
             minutes: Minutes, work_start: int, work_end: int, *, end: str | None = None,
             time_limit: float | None = None, grid: int = 1,
             breaks: Sequence[tuple[int, int, int]] = (), stop_out: Sequence[Spans] = (),
             call_out: Sequence[Spans] = ()) -> bool | None:
    """Whether one expert's day can run: from ``base`` the on-site ``stops`` in this order
    (each with its start window) to ``end`` (a night away; None: back to ``base``), and online
    ``calls`` given as ``(earliest start, latest start, duration)``, each anywhere outside the
    drives and within working hours (before leaving, at a stop, at the day's end).

    Exact, and polynomial in the calls wherever one of three quick answers settles it (all of
    them do on a day whose calls share their earliest start or their latest end, e.g. calls
    without windows; see docs/PLANNER.md):

    1. the day's blocks (drives and stops in their order, calls in between) placed one after
       the other, each time the one that must end first among those that may start, forwards
       from the start of work and backwards from its end: a day that runs so fits;
    2. the same blocks each allowed to pause and resume (earliest deadline first): a day that
       cannot run even so does not fit;
    3. otherwise CP-SAT decides on the day alone (one interval per block, no two at once).

    ``time_limit`` (seconds) bounds step 3; ``None`` comes back only when it runs out undecided.
    On an appointment ``grid`` of more than a minute (stops and calls start on its multiples,
    a call of one start minute keeps it: a standing appointment) step 1 is skipped.
    ``breaks`` are blocks like calls that start at any minute, on any grid: the expert's
    lunch (FORMAT.md: the grid is the consultations'). ``stop_out`` and ``call_out`` give,
    stop by stop and call by call, the spans ``(start, end)`` each must not overlap (a town
    hall's closed hours, a blackout): a day with any skips step 1 (its placing knows none),
    step 2 ignores them (a relaxation still), and CP-SAT keeps each block out of them.

    >>> minutes = lambda a, b: 0 if a == b else 120
    >>> day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 60)], minutes, 480, 1080)
    True
    >>> day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 150)], minutes, 480, 1080)
    False
    """
    chain = _chain(base, stops, minutes, work_start, work_end, grid, end)
    if chain is None:
        return False
    steps = [grid if lo < hi else 1 for lo, hi, _ in calls] + [1] * len(breaks)
    jobs = [(grid_up(max(lo, work_start), g), grid_down(min(hi, work_end - dur), g), dur)
            for (lo, hi, dur), g in zip([*calls, *breaks], steps, strict=True)]
    if any(lo > hi for lo, hi, _ in jobs):
        return False
    # the spans each block keeps out of: the chain's (its stops are its odd blocks), the calls'
    outs = [(stop_out[i // 2] if i % 2 and i // 2 < len(stop_out) else ()) for i in
            range(len(chain))] + [call_out[j] if j < len(call_out) else () for j in
                                  range(len(jobs))]
    mirrored = (_mirror(chain[::-1]), _mirror(jobs), -work_end)
    if grid == 1 and not any(outs) and any(
            _list_schedule(*day, calls_first=rule) for rule in (False, True)
            for day in ((chain, jobs, work_start), mirrored)):
        return True
    if not _fits_with_pauses([*chain, *jobs], work_start):
        return False
    return _cp_sat_fits(chain, jobs, time_limit, grid, steps, outs)


def _chain(base: str, stops: Sequence[Candidate], minutes: Minutes, work_start: int,
           work_end: int, grid: int = 1, end: str | None = None) -> list[Block] | None:
    """The drives and stops of the day in their order (from ``base`` to ``end``, or back to
    ``base``), each with the earliest start the blocks before it allow and the latest start
    that leaves room for the blocks after it (calls aside; stops on the grid); ``None`` when
    even without calls they do not fit."""
    places = [base, *(c.location for c in stops), base if end is None else end]
    lengths: list[int] = []
    windows: list[tuple[int, int] | None] = []     # None: a drive, any time
    for i in range(len(stops) + 1):
        lengths.append(minutes(places[i], places[i + 1]))
        windows.append(None)
        if i < len(stops):
            lengths.append(stops[i].duration)
            windows.append((stops[i].lo, stops[i].hi))
    early: list[int] = []
    clock = work_start
    for length, window in zip(lengths, windows, strict=True):
        start = clock if window is None else grid_up(max(clock, window[0]), grid)
        if window is not None and start > window[1]:
            return None
        early.append(start)
        clock = start + length
    if clock > work_end:
        return None
    late: list[int] = []
    by = work_end
    for length, window in zip(reversed(lengths), reversed(windows), strict=True):
        start = by - length if window is None else grid_down(min(window[1], by - length), grid)
        late.append(start)
        by = start
    late.reverse()
    return list(zip(early, late, lengths, strict=True))


def _mirror(blocks: Sequence[Block]) -> list[Block]:
    """The blocks on a clock running backwards (minute ``t`` becomes ``-t``): a block that
    occupies ``[s, s + d)`` occupies ``[-s - d, -s)`` there."""
    return [(-(hi + d), -(lo + d), d) for lo, hi, d in blocks]


def _list_schedule(chain: Sequence[Block], calls: Sequence[Block], start: int, *,
                   calls_first: bool) -> bool:
    """Whether the day runs when the blocks are placed one after the other from ``start``,
    each as early as it may start: a day that runs so fits (the converse need not hold).

    Which block comes next, among those that may start now (the chain's next drive or stop,
    the calls already open): the one whose latest end comes first (``calls_first`` false);
    or (``calls_first``) the open call whose latest end comes first among those that end
    before the chain's next block must start, the chain's block when none does. When nothing
    may start, the clock moves on to the first block that may."""
    waiting = sorted(range(len(calls)), key=lambda j: (calls[j][1] + calls[j][2], j))
    t, c = start, 0
    while c < len(chain) or waiting:
        link = chain[c] if c < len(chain) else None
        pick = None
        for pos, j in enumerate(waiting):
            lo, hi, d = calls[j]
            if lo > t:
                continue
            if link is not None and (
                    (calls_first and t + d > link[1])
                    or (not calls_first and link[0] <= t and link[1] + link[2] <= hi + d)):
                continue
            pick = pos
            break
        if pick is not None:
            block = calls[waiting.pop(pick)]
        elif link is not None and link[0] <= t:
            block = link
            c += 1
        else:
            opens = [calls[j][0] for j in waiting if calls[j][0] > t]
            if link is not None and link[0] > t:
                opens.append(link[0])
            if not opens:
                return False            # nothing left may ever start
            t = min(opens)
            continue
        if t > block[1]:
            return False
        t += block[2]
    return True


def _fits_with_pauses(blocks: Sequence[Block], start: int) -> bool:
    """Whether the blocks fit if each could pause and resume (earliest latest-end first,
    which is exact for that relaxed day): a day that does not fit so cannot run at all."""
    opening = sorted(range(len(blocks)), key=lambda j: blocks[j][0])
    ready: list[tuple[int, int]] = []      # (latest end, minutes still to do)
    t, nxt = start, 0
    while nxt < len(opening) or ready:
        if not ready:
            t = max(t, blocks[opening[nxt]][0])
        while nxt < len(opening) and blocks[opening[nxt]][0] <= t:
            lo, hi, d = blocks[opening[nxt]]
            heapq.heappush(ready, (hi + d, d))
            nxt += 1
        due, todo = heapq.heappop(ready)
        until = blocks[opening[nxt]][0] if nxt < len(opening) else t + todo
        run = min(todo, until - t)
        t += run
        if run < todo:
            heapq.heappush(ready, (due, todo - run))
        elif t > due:
            return False
    return True


def _cp_sat_fits(chain: Sequence[Block], calls: Sequence[Block],
                 time_limit: float | None, grid: int = 1,
                 steps: Sequence[int] | None = None,
                 outs: Sequence[Spans] = ()) -> bool | None:
    """The exact answer from CP-SAT: one interval per block within its window, the chain's
    blocks in their order, no two blocks at once, stops of more than one start minute on the
    ``grid`` (the chain's odd blocks are its stops), each call on its own step (``steps``;
    default the grid for a call of more than one start minute), each block clear of its spans
    (``outs``, block by block, the chain's first); ``None`` if ``time_limit`` runs out."""
    m = cp_model.CpModel()
    intervals = []
    starts = []
    for kind, blocks in (("leg", chain), ("call", calls)):
        for i, (lo, hi, d) in enumerate(blocks):
            step = (grid if i % 2 else 1) if kind == "leg" else \
                grid if steps is None else steps[i]
            out = outs[i if kind == "leg" else len(chain) + i] if outs else ()
            if (step > 1 and lo < hi) or (out and d):
                values = [t for t in range(grid_up(lo, step) if lo < hi else lo, hi + 1, step)
                          if not any(t < b and a < t + d for a, b in out)]
                if not values:
                    return False
                s = m.new_int_var_from_domain(cp_model.Domain.from_values(values),
                                              f"{kind}_{i}_start")
            else:
                s = m.new_int_var(lo, hi, f"{kind}_{i}_start")
            starts.append(s)
            if d:       # a drive of no minutes (the next stop is at the same place) blocks nothing
                intervals.append(m.new_fixed_size_interval_var(s, d, f"{kind}_{i}"))
    for i in range(1, len(chain)):
        m.add(starts[i] >= starts[i - 1] + chain[i - 1][2])
    # Calls alike (same window, same minutes) are interchangeable: taking them in one order
    # spares the search trying each of their orders (n! of them, when none fits).
    alike: dict[tuple[Block, Spans], int] = {}
    for j, block in enumerate(calls):
        s = starts[len(chain) + j]
        key = (block, tuple(outs[len(chain) + j]) if outs else ())
        if key in alike:
            m.add(s >= starts[alike[key]] + block[2])
        alike[key] = len(chain) + j
    m.add_no_overlap(intervals)
    solver = new_solver(None if time_limit is None else max(0.001, time_limit))
    code = solver.solve(m)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return True
    if code == cp_model.INFEASIBLE:
        return False
    return None
