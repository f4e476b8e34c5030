"""Ways to cut a problem into parts (``Split``): ``RegionSplit`` (clusters of the experts'
bases, country scale) and ``WindowSplit`` (windows of a few weeks, long horizons), with the
neighbourhoods each repair round re-solves across the parts' borders.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from engine.calendar import date_status
from engine.errors import InputError, Problem
from engine.model import Expert, PlanRequest, Request, Visit
from engine.travel import TravelTimes
from solvers.parts.hoods import (
    Neighbourhood,
    apportion,
    month_cap,
    month_of,
    months_between,
)
from solvers.size import PART_REQUESTS

__all__ = ["PART_REQUESTS", "RegionSplit", "Split", "WindowSplit", "default_split"]



class Split(Protocol):
    """How to cut a problem: the parts solved first, and the neighbourhoods of each repair
    round given the plan so far (``round`` counts from 0)."""

    name: str
    #: the share of the time limit after which no repair round starts (the rest is for the
    #: reasons of the requests left out; 0.8 when a split does not say)
    repair_until: float
    #: a repair round's deterministic time, as a share of the time limit (0.5 when a split
    #: does not say)
    round_share: float

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]: ...

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]: ...


@dataclass
class RegionSplit:
    """Regions: clusters of the experts' bases by round-trip driving minutes (k-medoids from
    farthest-point seeds), about ``target`` requests each (a region with over 1.6 times as
    many is cut in two by its bases); each request goes to the nearest region (by its nearest
    base) with, for each of its fields, an expert who can reach it and back within a working
    day and the daily drive cap (the nearest region when none can)."""

    target: int = PART_REQUESTS
    name: str = "regions"
    #: many experts leave many reasons to find in the last fifth of the time
    repair_until: float = 0.8
    round_share: float = 0.5
    region_of_expert: dict[str, int] = field(default_factory=dict)
    region_of_request: dict[str, int] = field(default_factory=dict)
    near: list[list[int]] = field(default_factory=list)
    _trip: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    _col: dict[str, int] = field(default_factory=dict, repr=False)
    _bpos: dict[str, int] = field(default_factory=dict, repr=False)
    _reach: dict[tuple[int, str], tuple[int, float]] = field(default_factory=dict, repr=False)

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]:
        bases = sorted({e.base for e in problem.experts})
        if not bases:
            return [Neighbourhood("all", frozenset(), frozenset(q.id for q in problem.requests))]
        n_exp = np.array([sum(e.base == b for e in problem.experts) for b in bases], float)
        bb = travel.matrix(bases)
        rt = (bb + bb.T).astype(float)
        k = max(1, min(len(bases), round(len(problem.requests) / max(1, self.target))))
        label = _k_medoids(rt, n_exp, k)
        locs = sorted({q.location for q in problem.requests})
        trip = travel.matrix(bases, locs) + travel.matrix(locs, bases).T   # round trips
        col = {x: j for j, x in enumerate(locs)}
        bpos = {b: i for i, b in enumerate(bases)}
        reach = _reach(problem, bpos)

        def assign(label: np.ndarray) -> dict[str, int]:
            return _nearest_region(problem, label, trip, col, reach)

        # regions with far more requests than the target are cut in two, by their bases
        for _ in range(2 * k):
            of_request = assign(label)
            regions = sorted(set(label.tolist()))
            load = np.bincount(list(of_request.values()), minlength=len(regions))
            big = [r for r in np.argsort(-load, kind="stable")
                   if load[r] > 1.6 * self.target
                   and len(np.flatnonzero(label == regions[r])) > 1]
            if not big:
                break
            m = np.flatnonzero(label == regions[big[0]])
            half = _k_medoids(rt[np.ix_(m, m)], n_exp[m], 2)
            label = label.copy()
            label[m[half == half[0]]] = len(bases) + int(label.max()) + 1
        of_request = assign(label)
        self._trip, self._col, self._bpos, self._reach = trip, col, bpos, reach
        regions = sorted(set(label.tolist()))
        rindex = {r: i for i, r in enumerate(regions)}
        base_region = {b: rindex[int(label[i])] for i, b in enumerate(bases)}
        self.region_of_expert = {e.id: base_region[e.base] for e in problem.experts}
        self.region_of_request = of_request
        reg_of_base = np.array([base_region[b] for b in bases])
        centre = np.array([[rt[np.ix_(reg_of_base == a, reg_of_base == b)].min()
                            for b in range(len(regions))] for a in range(len(regions))])
        self.near = [[int(b) for b in np.argsort(centre[a], kind="stable") if b != a][:3]
                     for a in range(len(regions))]
        hoods = []
        for r in range(len(regions)):
            exps = [e for e in problem.experts if self.region_of_expert[e.id] == r]
            reqs = [problem.request_by_id[q] for q, x in self.region_of_request.items() if x == r]
            for k, (es, qs) in enumerate(self._independent(problem, exps, reqs)):
                hoods.append(Neighbourhood(f"region {r}.{k}", frozenset(es), frozenset(qs),
                                           weight=max(1, len(qs))))
        return hoods

    def _independent(self, problem: PlanRequest, experts: list[Expert],
                     requests: list[Request]) -> list[tuple[list[str], list[str]]]:
        """A region's experts and requests in groups that share nothing: a request joins the
        experts who could serve it (a field of theirs, within reach), and the requests of a
        place with a daily cap join one another. Groups are solved as separate parts (no
        plan is lost: nothing links them); the small ones are put together up to a tenth of
        the target."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(a: str, b: str) -> None:
            parent[find(a)] = find(b)

        for e in experts:
            find("e:" + e.id)
        for q in requests:
            node = "q:" + q.id
            find(node)
            j = self._col.get(q.location)
            for e in experts:
                if not set(e.fields) & set(q.fields):
                    continue
                if q.onsite and j is not None:
                    trip = self._trip[self._bpos[e.base], j]
                    if trip + q.duration_min > e.day_end - e.work_start or (
                            e.max_drive_minutes_per_day is not None
                            and trip > e.max_drive_minutes_per_day):
                        continue
                union(node, "e:" + e.id)
            if q.onsite and problem.location_by_id[q.location].max_visits_per_day is not None:
                union(node, "l:" + q.location)
        groups: dict[str, tuple[list[str], list[str]]] = {}
        for e in experts:
            groups.setdefault(find("e:" + e.id), ([], []))[0].append(e.id)
        for q in requests:
            groups.setdefault(find("q:" + q.id), ([], []))[1].append(q.id)
        out: list[tuple[list[str], list[str]]] = []
        small: tuple[list[str], list[str]] = ([], [])
        for es, qs in sorted(groups.values(), key=lambda g: (-len(g[1]), g[0], g[1])):
            if len(qs) >= max(1, self.target // 10):
                out.append((es, qs))
            else:
                small[0].extend(es)
                small[1].extend(qs)
        if small[0] or small[1]:
            out.append(small)
        return out

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]:
        """Even rounds: around the requests left out (``around_left_out``); odd rounds: pairs
        of nearby regions (``region_pairs``)."""
        if round % 2 == 0:
            hoods = self.around_left_out(problem, visits)
            if hoods:
                return hoods
        return self.region_pairs(problem, visits, round)

    def around_left_out(self, problem: PlanRequest, visits: Sequence[Visit],
                        experts_per_field: int = 4, max_experts: int = 12
                        ) -> list[Neighbourhood]:
        """Neighbourhoods around the requests left out, highest priority first: for each, the
        nearest experts of each of its fields who can reach it within a working day and the
        drive cap, with every request they serve, so that their days can make room for it.
        Neighbourhoods share no expert; a request whose experts are taken waits for a later
        round."""
        served = {v.request for v in visits}
        left = sorted((q for q in problem.requests if q.id not in served),
                      key=lambda q: (-q.priority, q.id))
        owner: dict[str, int] = {}
        groups: list[tuple[set[str], set[str]]] = []
        for q in left:
            j = self._col.get(q.location)
            if j is None:
                continue
            cands: set[str] = set()
            for f in q.fields:
                ok = [(self._trip[self._bpos[e.base], j], e.id) for e in problem.experts
                      if f in e.fields and (not q.onsite or (
                          self._trip[self._bpos[e.base], j] + q.duration_min
                          <= e.day_end - e.work_start and (
                              e.max_drive_minutes_per_day is None
                              or self._trip[self._bpos[e.base], j]
                              <= e.max_drive_minutes_per_day)))]
                cands.update(x for _t, x in sorted(ok)[:experts_per_field])
            if not cands:
                continue
            hit = {owner[e] for e in cands if e in owner}
            if not hit:
                groups.append((set(cands), {q.id}))
                for e in cands:
                    owner[e] = len(groups) - 1
            elif len(hit) == 1:
                g = hit.pop()
                exps, reqs = groups[g]
                if len(exps | cands) <= max_experts and not any(
                        owner.get(e, g) != g for e in cands):
                    exps |= cands
                    reqs.add(q.id)
                    for e in cands:
                        owner[e] = g
        hoods = []
        for k, (exps, reqs) in enumerate(groups):
            free = set(reqs) | {v.request for v in visits if set(v.experts) <= exps}
            hoods.append(Neighbourhood(f"around left-out {k}", frozenset(exps), frozenset(free),
                                       weight=max(1, len(free))))
        return hoods

    def region_pairs(self, problem: PlanRequest, visits: Sequence[Visit],
                     round: int) -> list[Neighbourhood]:
        """Disjoint pairs of nearby regions, the pairs with most requests left out first: each
        pair's experts and its requests left out, and the requests those experts serve."""
        served = {v.request for v in visits}
        left: dict[int, int] = defaultdict(int)
        for rid, r in self.region_of_request.items():
            if rid not in served:
                left[r] += 1
        pairs = {tuple(sorted((a, b))) for a in range(len(self.near)) for b in self.near[a]}
        # alternate which neighbour a region is paired with from one round to the next
        ranked = sorted(pairs, key=lambda p: (-(left[p[0]] + left[p[1]]),
                                              (p[0] + p[1] * (round + 1)) % 7, p))
        taken: set[int] = set()
        chosen = []
        for a, b in ranked:
            if a in taken or b in taken or left[a] + left[b] == 0:
                continue
            taken.update((a, b))
            chosen.append((a, b))
        hoods = []
        for a, b in chosen:
            exps = frozenset(e for e, x in self.region_of_expert.items() if x in (a, b))
            reqs = {q for q, x in self.region_of_request.items()
                    if x in (a, b) and q not in served}
            reqs |= {v.request for v in visits if set(v.experts) <= exps}
            hoods.append(Neighbourhood(f"regions {a}+{b}", exps, frozenset(reqs),
                                       weight=max(1, len(reqs))))
        return hoods



def _reach(problem: PlanRequest, bpos: Mapping[str, int]) -> dict[tuple[int, str], tuple[int, float]]:
    """Per base (its index in ``bpos``) and field: the longest working day and the largest
    daily drive cap among the experts of that field who start there."""
    reach: dict[tuple[int, str], tuple[int, float]] = {}
    for e in problem.experts:
        for f in e.fields:
            day, cap = reach.get((bpos[e.base], f), (0, 0.0))
            reach[bpos[e.base], f] = (max(day, e.day_end - e.work_start), max(
                cap, math.inf if e.max_drive_minutes_per_day is None
                else e.max_drive_minutes_per_day))
    return reach


def _nearest_region(problem: PlanRequest, label: np.ndarray, trip: np.ndarray,
                    col: Mapping[str, int], reach: Mapping[tuple[int, str], tuple[int, float]]
                    ) -> dict[str, int]:
    """Each request's region (by ``label``, the region of each base): the nearest (by its
    nearest base, ``trip`` the round trips base × location) that serves it, else the
    nearest."""
    def serves(members: np.ndarray, q: Request) -> bool:
        j = col[q.location]
        for f in q.fields:
            ok = False
            for b in members:
                day, cap = reach.get((int(b), f), (0, -1.0))
                if day and (not q.onsite or (trip[b, j] + q.duration_min <= day
                                             and trip[b, j] <= cap)):
                    ok = True
                    break
            if not ok:
                return False
        return True

    regions = sorted(set(label.tolist()))
    members = [np.flatnonzero(label == r) for r in regions]
    near = np.array([trip[m].min(axis=0) for m in members])   # regions × locations
    out = {}
    for q in problem.requests:
        order = np.argsort(near[:, col[q.location]], kind="stable")
        out[q.id] = int(next((r for r in order if serves(members[r], q)), order[0]))
    return out

def _k_medoids(rt: np.ndarray, weight: np.ndarray, k: int, rounds: int = 8) -> np.ndarray:
    """Cluster labels (medoid index per point) of points with pairwise distances ``rt``:
    farthest-point seeds from the heaviest point, then alternate assignment and medoid."""
    seeds = [int(np.argmax(weight))]
    while len(seeds) < k:
        d = rt[:, seeds].min(axis=1)
        d[seeds] = -1
        seeds.append(int(np.argmax(d)))
    medoids = np.array(seeds)
    label = medoids[np.argmin(rt[:, medoids], axis=1)]
    for _ in range(rounds):
        new = []
        for m in medoids:
            members = np.flatnonzero(label == m)
            if len(members) == 0:
                new.append(m)
                continue
            cost = (rt[np.ix_(members, members)] * weight[members][None, :]).sum(axis=1)
            new.append(int(members[np.argmin(cost)]))
        new_medoids = np.array(new)
        new_label = new_medoids[np.argmin(rt[:, new_medoids], axis=1)]
        if np.array_equal(new_label, label) and np.array_equal(new_medoids, medoids):
            break
        medoids, label = new_medoids, new_label
    return label


@dataclass
class WindowSplit:
    """Windows of ``weeks`` weeks (``overlap_days`` shared with the next one) with every
    expert; an expert's horizon budgets (total visits, on-site days) are shared between the
    windows in proportion to the expert's workable days in each window's own days. A request
    belongs to the window holding its earliest date (a published visit to the window of its
    date). Repair neighbourhoods: spans of a few weeks around the borders and the middles of
    the windows, and one expert's calendar month, with what the rest of the plan leaves of
    each budget."""

    weeks: int = 3
    overlap_days: int = 0
    name: str = "windows"
    windows: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    #: a window's length in days, when not whole weeks (overrides ``weeks``)
    days: int | None = None
    #: a repair neighbourhood reaches this many weeks either side of its centre
    repair_weeks: int = 2
    #: a season's few experts leave few reasons to find: the repair may run longer
    repair_until: float = 0.9
    #: shorter rounds, so that the spans around the borders and those around the middles
    #: both get their turn
    round_share: float = 0.2
    #: a season planned afresh starts from its weeks planned one after the other, not from
    #: its windows solved side by side (``solvers.parts.solve``: the weeks score higher)
    weeks_first: bool = True

    def parts(self, problem: PlanRequest, travel: TravelTimes) -> list[Neighbourhood]:
        h = problem.horizon
        span = self.days if self.days is not None else 7 * self.weeks
        if span < 1:
            raise InputError(Problem("days", f"a window must span at least one day, got {span}",
                                     f"期間は 1 日以上です（{span}）"))
        starts = []
        d = h.start
        while d <= h.end:
            starts.append(d)
            d += dt.timedelta(days=span)
        own = [(s, min(h.end, s + dt.timedelta(days=span - 1))) for s in starts]
        self.windows = [(s, min(h.end, e + dt.timedelta(days=self.overlap_days)))
                        for s, e in own]
        workable = {e.id: [d for d in h.dates if date_status(h, e, d).workable]
                    for e in problem.experts}
        # the published (fixed) on-site visits: each window keeps what its own need, and
        # the rest of a budget is shared in proportion to the workable days
        fixed_days: dict[str, list[dt.date]] = defaultdict(list)
        for q in problem.requests:
            if q.fixed is not None and q.onsite:
                for eid in q.fixed.experts:
                    fixed_days[eid].append(q.fixed.date)

        def share(cap: int, days: list[dt.date], kept: list[dt.date]) -> list[int]:
            """``cap`` over the windows: each its ``kept`` (published) ones, the rest in
            proportion to the ``days`` (workable dates) in each window's own dates."""
            here = [sum(s <= d <= e for d in days) for s, e in own]
            mine = [sum(s <= d <= e for d in kept) for s, e in own]
            rest = apportion(max(0, cap - len(kept)), here)
            return [m + r for m, r in zip(mine, rest, strict=True)]

        budgets: list[dict[str, tuple[int | None, int | None]]] = [{} for _ in own]
        months: list[dict[str, dict[str, int]]] = [{} for _ in own]
        for x in problem.experts:
            days = workable[x.id]
            fixed = fixed_days[x.id]
            total = [None] * len(own) if x.max_visits_total is None else \
                share(x.max_visits_total, days, fixed)
            onsite = [None] * len(own) if x.max_onsite_days is None else \
                share(x.max_onsite_days, days, sorted(set(fixed)))
            for i in range(len(own)):
                budgets[i][x.id] = (total[i], onsite[i])
            for key in months_between(h.start, h.end):
                cap = month_cap(x, key)
                if cap is None:
                    continue
                in_month = [d for d in days if month_of(d) == key]
                kept = sorted({d for d in fixed if month_of(d) == key})
                for i, n in enumerate(share(cap, in_month, kept)):
                    if key in months_between(*own[i]):
                        months[i].setdefault(x.id, {})[key] = n
        hoods = []
        for i, ((s, e_own), (_s, e)) in enumerate(zip(own, self.windows, strict=True)):

            def home(q: Request, s: dt.date = s, e_own: dt.date = e_own) -> bool:
                # a published visit belongs to the window of its date, any other request to
                # the window of its earliest date
                return s <= (q.fixed.date if q.fixed is not None else q.earliest) <= e_own
            reqs = frozenset(q.id for q in problem.requests if home(q) and q.latest >= s)
            hoods.append(Neighbourhood(f"window {s}–{e}", frozenset(x.id for x in problem.experts),
                                       reqs, (s, e), budgets[i], weight=max(1, len(reqs)),
                                       months=months[i]))
        return hoods

    def neighbourhoods(self, problem: PlanRequest, travel: TravelTimes,
                       visits: Sequence[Visit], round: int) -> list[Neighbourhood]:
        """Round by round: spans of ``2 × repair_weeks`` weeks with every expert around each
        border between windows (where the windows' cut truncated requests' dates), one expert
        in one calendar month each (``expert_months``), the spans around each window's middle,
        the expert-months of the other months; disjoint within a round."""
        if round % 2 == 1:
            return expert_months(problem, visits, round // 2)
        served = {v.request for v in visits}
        h = problem.horizon
        half = dt.timedelta(days=7 * self.repair_weeks)
        if round % 4 == 0 and len(self.windows) > 1:
            centres = [s for s, _e in self.windows[1:]]
        else:
            centres = [s + (e - s) // 2 for s, e in self.windows]
        hoods = []
        last = h.start - dt.timedelta(days=1)
        for c in centres:
            lo = max(h.start, c - half, last + dt.timedelta(days=1))
            hi = min(h.end, c + half - dt.timedelta(days=1))
            if lo > hi:
                continue
            last = hi
            reqs = {q.id for q in problem.requests if q.id not in served
                    and q.earliest <= hi and q.latest >= lo}
            reqs |= {v.request for v in visits if lo <= v.date <= hi}
            hoods.append(Neighbourhood(f"dates {lo}–{hi}",
                                       frozenset(e.id for e in problem.experts),
                                       frozenset(reqs), (lo, hi), weight=max(1, len(reqs))))
        return hoods


def expert_months(problem: PlanRequest, visits: Sequence[Visit], turn: int
                  ) -> list[Neighbourhood]:
    """One expert's days in one calendar month each (the month cap on on-site days is what
    binds a season: which requests share an expert's few days out), every other month on
    ``turn``'s parity, so that no two share a request: the requests the expert serves alone
    that month, and those left out that the expert could serve then — each of these in one
    neighbourhood only (the first month its dates reach, and one of the experts who can cover
    it, chosen by its id and the turn)."""
    h = problem.horizon
    months: list[tuple[dt.date, dt.date]] = []
    d = h.start
    while d <= h.end:
        nxt = (d.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        months.append((d, min(h.end, nxt - dt.timedelta(days=1))))
        d = nxt
    chosen = [m for i, m in enumerate(months) if i % 2 == turn % 2]
    experts = sorted(problem.experts, key=lambda e: e.id)
    mine: dict[tuple[str, int], set[str]] = defaultdict(set)
    served = set()
    for v in visits:
        served.add(v.request)
        if len(v.experts) != 1:
            continue
        for j, (lo, hi) in enumerate(chosen):
            if lo <= v.date <= hi:
                mine[v.experts[0], j].add(v.request)
    for q in problem.requests:
        if q.id in served or q.fixed is not None:
            continue
        js = [j for j, (lo, hi) in enumerate(chosen) if q.earliest <= hi and q.latest >= lo]
        able = [e for e in experts if any(f in e.fields for f in q.fields)]
        if not js or not able:
            continue
        e = able[(turn // 2 + hash_id(q.id)) % len(able)]
        mine[e.id, js[0]].add(q.id)
    return [Neighbourhood(f"{eid} {chosen[j][0]}–{chosen[j][1]}", frozenset({eid}),
                          frozenset(reqs), chosen[j], weight=max(1, len(reqs)))
            for (eid, j), reqs in sorted(mine.items()) if reqs]


def hash_id(text: str) -> int:
    """A stable small number from an id (Python's ``hash`` of a string changes by process)."""
    return sum(text.encode())


def default_split(problem: PlanRequest) -> Split:
    """Time windows of six weeks for a horizon over five weeks with few experts (a season
    of one programme), else regions (many experts spread over a country). Six weeks: on a
    33-week season of 1,320 requests in 120 s, the plan came 4.8 % from the LP bound with
    windows of six weeks, 5.0 % with two and 5.3 % with three."""
    days = (problem.horizon.end - problem.horizon.start).days + 1
    if days > 35 and len(problem.experts) <= 40:
        return WindowSplit(weeks=6)
    return RegionSplit()

