"""An independent exact solver for tiny plan requests, to prove the planner's ``optimal`` wrong.

It shares no code with the planner (nothing from ``solvers``): it reads the problem's own
objects and enumerates, the plain way, everything FORMAT.md allows:

1. every *assignment*: each request unserved, or served on one of its dates by one expert per
   field (distinct experts, each with the field, the date workable for each); a fixed request
   only as published; a follow-up (``after``) only with the request it follows, within the
   gap of days, by the same experts when asked;
2. per expert and date, every *order* of the on-site stops, and every way to slot the online
   consultations, the expert's lunch (a block of its minutes inside its window, on a day
   with any consultation) and their standing appointments (``busy``: a block at its own
   time; one at a place, ``at``, is one more stop of the order, fixed at its own time with
   the drives to and from it around it, on every workable date it falls on, consultations or
   not) between the blocks of the day (base → stop drive, stop, stop → stop
   drive, …, drive home; before the first drive and after the last included);
   with nights away (``overnight``), every way each expert may spend the nights (each
   date followed by a workable date ends at the base or at one of their places, no trip
   longer than ``max_nights``), each day then starting and ending where they say (a day
   away without stops drives from the one place to the other, within working hours);
3. the *start minutes*: for one choice of all orders, the constraints are "block b starts after
   block a ends" plus earliest and latest starts, a system whose least solution (every block as
   early as the blocks before it allow, a consultation on the next minute of the appointment
   grid) is feasible exactly when the system is. Joint requests
   share one start across their experts' days, which couples those days; they are solved
   together. A consultation whose place is closed at some hours (``closed``) that it would
   overlap is pushed to the end of them: the least start at or after a given minute that
   overlaps no closed hours grows with that minute, so the least solution stays the test.

The objective (FORMAT.md, with the season goals: the small-town bonus and the coverage
penalty) depends only on the assignment and the on-site orders, but for overtime
(``experts[].overtime``: a day may end up to ``max_minutes`` after ``work_end``, each minute
past it paid): the least solution also ends each day as early as any timing of its orders
can, so its overtime is the least for those orders. Search: the
assignments by depth-first search with a bound (priority still available), each day's orders
cheapest first. Tiny means ≤ 6 requests, 1–2 experts, 1–2 dates: the enumeration is exponential.

``best_plan(problem)`` returns ``(objective, visits)`` of an optimal plan keeping every fixed
visit, or ``None`` when no plan keeps them all; ``fewest_released(problem)`` the least number of
fixed visits to release and the best objective then (a released visit may still be made on its
published date by its published experts at another time, or not at all).

``insertions(problem, visits, rid)`` is the reference of slot proposals: for every (date,
experts) that could serve request ``rid`` alone, the best objective of a plan that adds it to
``visits`` while every one of those keeps its date and experts (any order, any times), or
``None``; with ``allow_drop`` the visits of the expert-days it joins (and of the days joined to
those by joint visits) that are not published may also be left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from engine.calendar import date_status
from engine.model import Expert, PlanRequest, Request
from engine.travel import TravelTimes

__all__ = ["best_plan", "fewest_released", "insertions"]

INF = 10**9


@dataclass(frozen=True)
class _Choice:
    request: str
    date: dt.date
    experts: tuple[str, ...]
    lo: int          # earliest start (hours, window, every expert's working hours)
    hi: int          # latest start


def _choices(p: PlanRequest, q: Request, *, release: bool) -> list[_Choice]:
    """Every (date, experts) that may serve ``q``; a fixed request only as published (with
    ``release``: on its date with its experts, at any time)."""
    loc = p.location_by_id[q.location]
    out = []
    dates = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
    for d in dates:
        for experts in itertools.permutations([e.id for e in p.experts], len(q.fields)):
            es = [p.expert_by_id[x] for x in experts]
            if not all(f in e.fields for f, e in zip(q.fields, es, strict=True)):
                continue
            if not all(date_status(p.horizon, e, d).workable for e in es):
                continue
            if q.fixed is not None and (d != q.fixed.date
                                        or set(experts) != set(q.fixed.experts)):
                continue
            until = p.horizon.published_until
            if q.fixed is None and until is not None and d <= until:
                continue
            lo = max([loc.open] + [e.work_start for e in es]
                     + ([q.window[0]] if q.window else []))
            hi = min([loc.close] + [_last_minute(e) for e in es]
                     + ([q.window[1]] if q.window else [])) - q.duration_min
            # the appointment grid: a start is a multiple of g minutes after midnight
            g = p.horizon.start_grid_min
            lo, hi = (lo + g - 1) // g * g, hi - hi % g
            if q.fixed is not None and not release:
                if not lo <= q.fixed.start <= hi:
                    continue
                lo = hi = q.fixed.start
            if lo <= hi:
                out.append(_Choice(q.id, d, tuple(sorted(experts)), lo, hi))
    # distinct expert sets only (the order of experts over fields does not matter here)
    return list({(c.date, c.experts): c for c in out}.values())


def _last_minute(e: Expert) -> int:
    """The latest a day of ``e`` may end: work_end, plus overtime's max_minutes if any."""
    return e.work_end + (e.overtime.max_minutes if e.overtime is not None else 0)


def _orders(items: list[str]) -> Iterator[tuple[str, ...]]:
    yield from itertools.permutations(items)


class _Solver:
    def __init__(self, p: PlanRequest, release: bool):
        self.p = p
        self.t = TravelTimes(p)
        self.release = release
        self.req = p.request_by_id
        self.choices = {q.id: _choices(p, q, release=release) for q in p.requests}
        # what serving a request adds to the objective, before driving and coverage
        small = p.goals.small_towns
        self.gain = {q.id: q.priority * (p.objective.priority + (
            small.bonus if small is not None and small.includes(p.location_by_id[q.location])
            else 0)) for q in p.requests}
        # answers that depend only on a day's (or linked days') consultations, kept
        self.day_memo: dict[tuple, list[tuple[int, list[tuple[str, str, int]]]]] = {}
        self.group_memo: dict[tuple, int | None] = {}

    # ---------------------------------------------------------------- one assignment
    def caps_ok(self, chosen: dict[str, _Choice]) -> bool:
        per_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        days: dict[str, set[dt.date]] = defaultdict(set)
        loc_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        for c in chosen.values():
            q = self.req[c.request]
            if q.mode != "onsite":
                continue
            loc_day[q.location, c.date] += len(c.experts)
            for eid in c.experts:
                per_day[eid, c.date] += 1
                total[eid] += 1
                days[eid].add(c.date)
        for (lid, _d), n in loc_day.items():
            cap = self.p.location_by_id[lid].max_visits_per_day
            if cap is not None and n > cap:
                return False
        for e in self.p.experts:
            if e.max_visits_total is not None and total[e.id] > e.max_visits_total:
                return False
            if e.max_onsite_days is not None and len(days[e.id]) > e.max_onsite_days:
                return False
            months = Counter((d.year, d.month) for d in days[e.id])
            if any((cap := e.month_cap(y, m)) is not None and n > cap
                   for (y, m), n in months.items()):
                return False
            if e.max_visits_per_day is not None and any(
                    n > e.max_visits_per_day for (x, _), n in per_day.items() if x == e.id):
                return False
        return True

    def series_ok(self, chosen: dict[str, _Choice]) -> bool:
        """FORMAT.md's follow-ups: a request with ``after`` is made only with the request it
        follows made too, ``min_days``..``max_days`` calendar days earlier, by the same set
        of experts when ``same_experts``."""
        for c in chosen.values():
            link = self.req[c.request].after
            if link is None:
                continue
            before = chosen.get(link.request)
            if link.date is not None:            # made before the document
                when, who = link.date, set(link.experts)
            elif before is None:
                return False
            else:
                when, who = before.date, set(before.experts)
            days = (c.date - when).days
            if days < link.min_days or (link.max_days is not None and days > link.max_days):
                return False
            if link.same_experts and set(c.experts) != who:
                return False
        return True

    def day_sequences(self, eid: str, d: dt.date, onsite: list[str], online: list[str],
                      chosen: dict[str, _Choice], ends: tuple[str, str] | None = None
                      ) -> list[tuple[int, list[tuple[str, str, int]]]]:
        """(drive minutes, blocks) for every way the day can run, cheapest first; a block is
        (kind, name, minutes): ("visit"|"online", request id, duration) or ("drive", tag, m).
        Ways whose blocks cannot all start by their latest start, each as early as the blocks
        before it allow, are left out (``_merges``). The day starts at ``ends[0]`` and ends
        at ``ends[1]`` (default: the base); a day that starts or ends away drives even
        without stops (a "trip" block: its one drive, within working hours)."""
        e = self.p.expert_by_id[eid]
        start, end = ends or (e.base, e.base)
        # an appointment at a place (``at``) is one more stop, a block at its own time
        there = {f"at:{eid}:{i}": b for i, b in enumerate(e.busy)
                 if b.date == d and b.at is not None and date_status(
                     self.p.horizon, e, d).workable}

        def place(r: str) -> str:
            return str(there[r].at) if r in there else self.req[r].location

        def minutes(r: str) -> int:
            return there[r].end - there[r].start if r in there else self.req[r].duration_min

        out = []
        stops = [*onsite, *there]
        for order in _orders(stops) if stops else [()]:
            if not order and (start, end) != (e.base, e.base):
                drive = self.t.minutes(start, end)
                if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
                    continue
                skeleton = [("trip", f"{eid}{d}#0", drive)]
            elif order:
                path = [start, *(place(r) for r in order), end]
                legs = [self.t.minutes(a, b) for a, b in itertools.pairwise(path)]
                drive = sum(legs)
                if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
                    continue
                skeleton: list[tuple[str, str, int]] = [("drive", f"{eid}{d}#0", legs[0])]
                for i, r in enumerate(order):
                    skeleton.append(("at" if r in there else "visit", r, minutes(r)))
                    skeleton.append(("drive", f"{eid}{d}#{i + 1}", legs[i + 1]))
            else:
                drive, skeleton = 0, []
            extra = [("online", r, self.req[r].duration_min) for r in online]
            if e.lunch is not None and (onsite or online):  # lunch: a block, like a call
                extra.append(("lunch", f"lunch:{eid}:{d}", e.lunch.minutes))
            for i, b in enumerate(e.busy):  # a standing appointment: a block at its own time
                if b.date == d and b.at is None:
                    extra.append(("busy", f"busy:{eid}:{i}", b.end - b.start))
            for blocks in self._merges(e, skeleton, extra, chosen):
                out.append((drive, blocks))
        out.sort(key=lambda x: x[0])
        return out

    def _window(self, e: Expert, kind: str, name: str, minutes: int,
                chosen: dict[str, _Choice]) -> tuple[int, int]:
        """The earliest and latest start of one block of ``e``'s day."""
        if kind == "drive":
            return e.work_start, _last_minute(e) - minutes
        if kind == "trip":              # a day away without stops: within working hours
            return e.work_start, e.work_end - minutes
        if kind == "lunch":
            assert e.lunch is not None
            return e.lunch.start, e.lunch.end - minutes
        if kind in ("busy", "at"):
            b = e.busy[int(name.rsplit(":", 1)[1])]
            return b.start, b.start
        c = chosen[name]
        return c.lo, c.hi

    def _merges(self, e: Expert, skeleton: list, extra: list, chosen: dict[str, _Choice]
                ) -> list[list]:
        """Every interleaving of the blocks ``extra`` (in any order) into ``skeleton`` (kept
        in its order), but those in which some block, started as early as its window and the
        blocks before it allow, starts after its latest start: the day alone cannot be timed
        so, and a joint visit linking it to other days only pushes its blocks later."""
        out: list[list] = []
        acc: list = []

        def rec(i: int, rest: tuple, t: int) -> None:
            if i == len(skeleton) and not rest:
                out.append(list(acc))
                return
            options = [(skeleton[i], i + 1, rest)] if i < len(skeleton) else []
            options += [(b, i, rest[:j] + rest[j + 1:]) for j, b in enumerate(rest)]
            for block, nxt, left in options:
                kind, name, minutes = block
                lo, hi = self._window(e, kind, name, minutes, chosen)
                key = name if kind != "drive" else "drive:" + name
                start = self._after_closed(key, minutes, max(lo, t))
                if start <= hi:
                    acc.append(block)
                    rec(nxt, left, start + minutes)
                    acc.pop()

        rec(0, tuple(extra), 0)
        return out

    def _after_closed(self, key: str, minutes: int, t: int) -> int:
        """The least start at or after ``t`` of the block ``key`` (``minutes`` long) that
        is on the appointment grid and overlaps none of its place's closed hours (a
        consultation; other blocks, drives, start at ``t``)."""
        q = self.req.get(key)
        if q is None:
            return t
        spans = self.p.location_by_id[q.location].closed
        g = self.p.horizon.start_grid_min
        moved = True
        while moved:
            moved = False
            if t % g:           # the next minute on the grid
                t, moved = t + g - t % g, True
            for a, b in spans:
                if t < b and a < t + minutes:
                    t, moved = b, True
        return t

    def overtime_cost(self, chosen: dict[str, _Choice],
                      days: dict[tuple[str, dt.date], list[tuple[str, str, int]]]) -> int | None:
        """What these days cost in overtime at the least solution (None: they cannot be
        timed). Every block there starts as early as any timing allows, so each day's end (its
        last consultation or drive, whichever ends later) is the earliest it can be, and its
        overtime the least: minute_cost × the minutes past work_end."""
        start = self.least_starts(chosen, days)
        if start is None:
            return None
        cost = 0
        for (eid, _d), blocks in days.items():
            e = self.p.expert_by_id[eid]
            ends = [start[name if kind != "drive" else "drive:" + name] + minutes
                    for kind, name, minutes in blocks if kind in ("visit", "online", "drive")]
            if e.overtime is not None and ends:
                cost += e.overtime.minute_cost * max(0, max(ends) - e.work_end)
        return cost

    def least_starts(self, chosen: dict[str, _Choice],
                     days: dict[tuple[str, dt.date], list[tuple[str, str, int]]]
                     ) -> dict[str, int] | None:
        """Least solution of the block-order constraints, then every latest start checked:
        the blocks' starts, or None when the orders cannot be timed."""
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        size: dict[str, int] = {}
        edges: list[tuple[str, str, int]] = []         # (a, b, c): start_b ≥ start_a + c
        for (eid, _d), blocks in days.items():
            e = self.p.expert_by_id[eid]
            prev: tuple[str, int] | None = None
            for kind, name, minutes in blocks:
                key = name if kind != "drive" else "drive:" + name
                if kind == "drive":
                    lo[key], hi[key] = e.work_start, _last_minute(e) - minutes
                elif kind == "trip":        # a day away without stops: within working hours
                    lo[key], hi[key] = e.work_start, e.work_end - minutes
                elif kind == "lunch":
                    assert e.lunch is not None
                    lo[key], hi[key] = e.lunch.start, e.lunch.end - minutes
                elif kind in ("busy", "at"):
                    b = e.busy[int(name.rsplit(":", 1)[1])]
                    lo[key] = hi[key] = b.start
                else:
                    c = chosen[name]
                    lo[key], hi[key] = c.lo, c.hi
                if prev is not None:
                    edges.append((prev[0], key, prev[1]))
                prev = (key, minutes)
                size[key] = minutes
        start = {k: self._after_closed(k, size[k], t) for k, t in lo.items()}
        for _ in range(len(start) + 1):
            changed = False
            for a, b, c in edges:
                if start[a] + c > start[b]:
                    start[b] = self._after_closed(b, size[b], start[a] + c)
                    changed = True
                    if start[b] > hi[b]:
                        return None
            if not changed:
                break
        else:
            return None
        return start if all(start[k] <= hi[k] for k in start) else None

    def sequences_of(self, key: tuple[str, dt.date], onsite: list[str], online: list[str],
                     chosen: dict[str, _Choice], ends: tuple[str, str] | None = None
                     ) -> list[tuple[int, list[tuple[str, str, int]]]]:
        """``day_sequences``, computed once per expert, date, set of consultations (with
        their choices) and places the day starts and ends at."""
        memo = (key, tuple(sorted(onsite)), tuple(sorted(online)),
                tuple(chosen[r] for r in sorted([*onsite, *online])), ends)
        if memo not in self.day_memo:
            self.day_memo[memo] = self.day_sequences(key[0], key[1], list(memo[1]),
                                                     list(memo[2]), chosen, ends)
        return self.day_memo[memo]

    def group_cost(self, chosen: dict[str, _Choice], keys: list[tuple[str, dt.date]],
                   seqs: dict[tuple[str, dt.date], list[tuple[int, list[tuple[str, str, int]]]]]
                   ) -> int | None:
        """The least driving and overtime cost of the days ``keys`` (linked by joint
        visits) over every way each can run, or None when none can be timed."""
        w = self.p.objective
        best = None
        for combo in itertools.product(*(seqs[k] for k in keys)):
            cost = w.drive_minute * sum(x[0] for x in combo)
            if best is not None and cost >= best:
                continue        # overtime only adds to it
            over = self.overtime_cost(chosen, {k: x[1] for k, x in
                                               zip(keys, combo, strict=True)})
            if over is not None and (best is None or cost + over < best):
                best = cost + over
        return best

    def evaluate(self, chosen: dict[str, _Choice]) -> int | None:
        """Best objective of this assignment over all orders, times and nights away, or
        None."""
        if not self.caps_ok(chosen) or not self.series_ok(chosen):
            return None
        per: dict[tuple[str, dt.date], tuple[list[str], list[str]]] = defaultdict(
            lambda: ([], []))
        for c in chosen.values():
            q = self.req[c.request]
            for eid in c.experts:
                per[eid, c.date][0 if q.mode == "onsite" else 1].append(q.id)
        for e in self.p.experts:        # a day with an appointment at a place drives anyway
            for b in e.busy:
                if b.at is not None and date_status(self.p.horizon, e, b.date).workable:
                    per.setdefault((e.id, b.date), ([], []))
        best = None
        for nights in self.night_plans():
            value = self.evaluate_with(chosen, per, nights)
            if value is not None and (best is None or value > best):
                best = value
        return best

    def night_plans(self) -> Iterator[dict[tuple[str, dt.date], str]]:
        """Every way the experts may spend their nights (FORMAT.md's ``overnight``): per
        expert, each date whose next calendar date is also a workable date of theirs ends at
        the base or at one of their places (never the base), with no run of consecutive
        nights longer than ``max_nights``; (expert, date) → place for each night."""
        per_expert = []
        h = self.p.horizon
        for e in self.p.experts:
            o = e.overnight
            if o is None or o.max_nights < 1:
                continue
            places = sorted({x for x in (o.places if o.places is not None
                                         else [loc.id for loc in self.p.locations])} - {e.base})
            work = [d for d in h.dates if date_status(h, e, d).workable]
            nights = [d for d in work if d + dt.timedelta(days=1) in work]
            ways = []
            for pick in itertools.product([None, *places], repeat=len(nights)):
                run, ok = 0, True
                for i, x in enumerate(pick):
                    follows = i and (nights[i] - nights[i - 1]).days == 1 and pick[i - 1]
                    run = (run + 1 if follows else 1) if x is not None else 0
                    ok = ok and run <= o.max_nights
                if ok:
                    ways.append({(e.id, d): x for d, x in zip(nights, pick, strict=True)
                                 if x is not None})
            per_expert.append(ways)
        for combo in itertools.product(*per_expert):
            yield {k: v for part in combo for k, v in part.items()}

    def evaluate_with(self, chosen: dict[str, _Choice],
                      per: dict[tuple[str, dt.date], tuple[list[str], list[str]]],
                      nights: dict[tuple[str, dt.date], str]) -> int | None:
        """Best objective of this assignment with these nights away, or None."""
        w = self.p.objective
        ends: dict[tuple[str, dt.date], tuple[str, str]] = {}
        for (eid, d), place in nights.items():
            base = self.p.expert_by_id[eid].base
            nxt = (eid, d + dt.timedelta(days=1))
            ends[eid, d] = (ends.get((eid, d), (base, base))[0], place)
            ends[nxt] = (place, ends.get(nxt, (base, base))[1])
        per = dict(per)
        for k in ends:
            per.setdefault(k, ([], []))
        seqs = {k: self.sequences_of(k, on, off, chosen, ends.get(k))
                for k, (on, off) in per.items()}
        if any(not s for s in seqs.values()):
            return None
        # days linked by a request with two or more experts are solved together
        link: dict[tuple[str, dt.date], set[tuple[str, dt.date]]] = {k: {k} for k in per}
        for c in chosen.values():
            if len(c.experts) > 1:
                group = set().union(*(link[(e, c.date)] for e in c.experts))
                for k in group:
                    link[k] = group
        paid = 0                # driving (drive_minute a minute) and overtime
        for group in {frozenset(g) for g in link.values()}:
            keys = sorted(group)
            # what these days cost depends on nothing but their consultations and those
            # consultations' choices: the search meets the same days again and again
            memo = (tuple((k, *map(tuple, map(sorted, per[k])), ends.get(k)) for k in keys),
                    tuple(sorted((r, chosen[r]) for k in keys for part in per[k]
                                 for r in part)))
            if memo not in self.group_memo:
                self.group_memo[memo] = self.group_cost(chosen, keys, seqs)
            best = self.group_memo[memo]
            if best is None:
                return None
            paid += best
        gain = sum(self.gain[c.request] for c in chosen.values())
        onsite_days = sum(1 for (on, _) in per.values() if on)
        value = gain - paid - w.onsite_day * onsite_days
        for eid, _d in nights:         # each night away costs its expert's night_cost
            o = self.p.expert_by_id[eid].overnight
            assert o is not None
            value -= o.night_cost
        for c in chosen.values():       # each calendar day after the due date costs late_day
            due = self.req[c.request].due
            if due is not None and c.date > due:
                value -= w.late_day * (c.date - due).days
        cov = self.p.goals.coverage
        if cov is not None:
            for lid, floor in cov.floors(self.p).items():
                made = sum(1 for c in chosen.values() if self.req[c.request].location == lid
                           and self.req[c.request].mode in cov.modes)
                value -= cov.penalty * max(0, floor - made)
        return value

    # ---------------------------------------------------------------- the search
    def search(self, released_max: int) -> tuple[int, int] | None:
        """Best (released count, objective) with at most ``released_max`` fixed visits not
        kept as published (fewest first, then the best objective)."""
        reqs = sorted(self.p.requests, key=lambda q: -self.gain[q.id])
        best: list[tuple[int, int] | None] = [None]
        chosen: dict[str, _Choice] = {}

        def key(released: int, value: int) -> tuple[int, int]:
            return (-released, value)

        def rec(i: int, released: int, prio_left: int) -> None:
            if released > released_max:
                return
            b = best[0]
            if b is not None and key(released, sum(
                    self.gain[r] for r in chosen) + prio_left) <= key(*b):
                return
            if i == len(reqs):
                value = self.evaluate(chosen)
                if value is not None and (b is None or key(released, value) > key(*b)):
                    best[0] = (released, value)
                return
            q = reqs[i]
            rest = prio_left - self.gain[q.id]
            f = q.fixed
            for c in self.choices[q.id]:
                chosen[q.id] = c
                if f is None or c.lo == c.hi == f.start:
                    rec(i + 1, released, rest)             # an ordinary request, or kept
                    continue
                # released mode: made at another time on its date (counts as released) ...
                rec(i + 1, released + 1, rest)
                if c.lo <= f.start <= c.hi:               # ... or kept as published
                    chosen[q.id] = _Choice(c.request, c.date, c.experts, f.start, f.start)
                    rec(i + 1, released, rest)
            chosen.pop(q.id, None)
            rec(i + 1, released + (f is not None), rest)  # not made at all

        rec(0, 0, sum(self.gain[q.id] for q in reqs))
        return best[0]


def best_plan(problem: PlanRequest) -> int | None:
    """The optimal objective over plans that keep every fixed visit, or None when none does."""
    found = _Solver(problem, release=False).search(released_max=0)
    return None if found is None else found[1]


def fewest_released(problem: PlanRequest) -> tuple[int, int]:
    """The fewest fixed visits a plan must release and the best objective with that many."""
    n_fixed = sum(q.fixed is not None for q in problem.requests)
    found = _Solver(problem, release=True).search(released_max=n_fixed)
    assert found is not None            # serving nothing but releasing all is always a plan
    return found


def insertions(problem: PlanRequest, visits: list, rid: str, *, allow_drop: bool = False
               ) -> dict[tuple[dt.date, frozenset[str]], int | None]:
    """For every (date, set of experts) that could serve ``rid`` alone: the best objective of
    ``visits`` (each keeping its date and experts) plus ``rid`` there, over every order and
    time, or ``None`` when no order and times work; ``allow_drop`` as the module says."""
    solver = _Solver(problem, release=False)
    q = problem.request_by_id[rid]
    kept: dict[str, _Choice] = {}
    for v in visits:
        match = [c for c in solver.choices[v.request]
                 if c.date == v.date and set(c.experts) == set(v.experts)]
        assert match, f"{v.request}: its visit is not one of its choices"
        kept[v.request] = match[0]
    out: dict[tuple[dt.date, frozenset[str]], int | None] = {}
    for c in solver.choices[q.id]:
        droppable = _linked(problem, kept, c) if allow_drop else []
        best: int | None = None
        for n in range(len(droppable) + 1):
            for gone in itertools.combinations(droppable, n):
                chosen = {r: x for r, x in kept.items() if r not in gone}
                chosen[q.id] = c
                value = solver.evaluate(chosen)
                if value is not None and (best is None or value > best):
                    best = value
        out[c.date, frozenset(c.experts)] = best
    return out


def _linked(problem: PlanRequest, kept: dict[str, _Choice], new: _Choice) -> list[str]:
    """The unpublished visits on the new visit's expert-days and on the days joined to them
    through joint visits (same date)."""
    experts = set(new.experts)
    grew = True
    while grew:
        grew = False
        for c in kept.values():
            if c.date == new.date and experts & set(c.experts) and not set(c.experts) <= experts:
                experts |= set(c.experts)
                grew = True
    return sorted(r for r, c in kept.items() if c.date == new.date and experts & set(c.experts)
                  and problem.request_by_id[r].fixed is None)
