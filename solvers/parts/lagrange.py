"""The Lagrangian bound: each expert's days planned on their own, the ties between experts
priced.

What ties one expert's plan to another's is moved into the objective at a price (a
*multiplier*): each field of a request taken at most once (``λ`` per request and field), the
fields of a joint visit on one date (``μ`` per joint visit, field and date, of either sign),
each place's coverage floor (``ρ``, between 0 and the shortfall's penalty), and each expert's
total on-site visits (``α``). Whatever the prices, the best plan of each expert on their own,
at those prices, added up with the prices times the limits, is at least every plan's
objective (weak duality): the bound holds at every iteration, and the least one found is
reported. The prices are improved by subgradient steps (Polyak's rule, each price scaled by
what it prices) until the time given is spent or the bound settles.

An expert's own best is bounded from above day by day, and the days are then chosen exactly:
the best on-site days, at most the month's cap in each month and the horizon's in all (caps on
nested sets of days, where taking the best first is the best choice). A day's on-site
consultations are a choice of at most the daily visits: sets of up to three stops enumerated
exactly among the day's ``TOP`` most valuable, each set driven at least its shortest tour from
the base through its places and back on the shortest ways between places (a lower bound on any
route's drive, legs that break the triangle inequality included) within the working day and
the daily drive; sets with a less valuable option or more stops are bounded by the values of
the best ones, the day's shortest consultation and its shortest way out and back. Online
consultations fill the minutes left as a fractional knapsack. One expert taking two fields of
a request, the places' daily caps, the series (``after``), the hours within the day, lunch,
standing appointments (and the drives around those at a place), overtime's cost (its minutes
are in the day) and lateness are not held (each only lowers what a plan can reach, or
only costs). So every plan's objective is at most the bound.

>>> lagrangian_bound(problem, TravelTimes(problem), until=time.perf_counter() + 5)
...                                                                     # doctest: +SKIP
7615648
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.model import Expert, PlanRequest, Request
from engine.travel import TravelTimes
from solvers.objective import served_value
from solvers.parts.bound import _columns
from solvers.parts.hoods import month_cap, month_of

__all__ = ["lagrangian_bound"]

#: The most valuable on-site consultations of a day among which sets of up to three stops are
#: enumerated exactly (the rest are bounded by the next most valuable one).
TOP = 7
#: The most valuable online consultations (by value a minute) filled exactly; the rest are
#: bounded by the next one's value a minute.
TOP_ONLINE = 12
#: Iterations at most (the time given, or three halvings of the step without a better
#: bound, usually end them first).
MAX_ROUNDS = 3000
#: Polyak's rule: the first step's factor, the rounds without a better bound before it is
#: halved, and how far below the least bound so far the target is (a share of it).
STEP = 1.0
PATIENCE = 30
TARGET = 0.002


@dataclass
class _Days:
    """The relaxation's data: options (a field of a request taken by an expert on a date),
    expert-days and the limits that tie them."""

    value: np.ndarray           # per option: its field's share of the request's value
    slot: np.ndarray            # per option: its (request, field)
    day: np.ndarray             # per option: its expert-day
    onsite: np.ndarray          # per option: on site or not
    dur: np.ndarray             # per option: minutes
    place: np.ndarray           # per option: index of its place in ``dist``
    loc: np.ndarray             # per option: its place's coverage floor's index, or -1
    n_slots: int
    slot_share: np.ndarray      # per (request, field): the share of the request's value
    day_expert: np.ndarray      # per expert-day: the expert's index
    day_month: np.ndarray       # per expert-day: index of (expert, month) with a cap, or -1
    day_base: np.ndarray        # per expert-day: index of the base in ``dist``
    day_minutes: np.ndarray     # per expert-day: working minutes
    day_drive: np.ndarray       # per expert-day: the daily drive cap (inf: none)
    day_visits: np.ndarray      # per expert-day: on-site visits at most
    day_cost: float             # objective.onsite_day
    drive_cost: float           # objective.drive_minute
    visits_total: np.ndarray    # per expert: on-site visits at most (inf: none)
    days_total: np.ndarray      # per expert: on-site days at most (inf: none)
    month_caps: np.ndarray      # per (expert, month) with a cap
    floors: np.ndarray          # per coverage floor: the floor
    penalty: float              # coverage.penalty
    dist: np.ndarray            # shortest minutes between places (bases and on-site places)
    #: per joint visit, field after the first and date: +1 on the first field's options,
    #: −1 on that field's (both fields are taken on the same date: the row is 0)
    links: Any
    slot_request: np.ndarray    # per (request, field): the request's index
    month_keys: list[tuple[int, str]]   # per (expert, month) with a cap
    floor_ids: list[str]        # per coverage floor: its location


def lagrangian_bound(problem: PlanRequest, travel: TravelTimes, until: float | None = None,
                     stop: Callable[[], bool] | None = None,
                     prices: Mapping[tuple[object, ...], float] | None = None) -> int | None:
    """An upper bound on every plan's objective by the Lagrangian relaxation of the ties
    between expert-days (module docstring), improved until ``until`` (``perf_counter``
    seconds; at most ``MAX_ROUNDS`` rounds) or ``stop()`` says so: the least bound of all
    rounds, rounded down. None when not even one round fits before ``until``."""
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    nothing = -cov.penalty * sum(floors.values()) if cov is not None else 0
    if not problem.experts or not problem.requests:
        return nothing
    data = _days_of(problem, travel)
    if data is None:
        return nothing
    best = _descend(data, until, stop, prices)
    if best is None:
        return None
    return int(math.floor(best + 1e-9 * (abs(best) + 1.0)))


def _days_of(problem: PlanRequest, travel: TravelTimes) -> _Days | None:
    """The options, expert-days and limits of ``problem`` (the options of the LP relaxation,
    ``solvers.parts.bound``: the request's dates and experts, the fields, hours and reach)."""
    lp = _columns(problem, travel)
    if not lp.cols:
        return None
    reqs, exps = lp.reqs, lp.exps
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    floor_ids = sorted(floors)
    fpos = {lid: i for i, lid in enumerate(floor_ids)}
    bases = sorted({e.base for e in exps})
    places = sorted({*bases, *(q.location for q in reqs if q.onsite)})
    ppos = {x: i for i, x in enumerate(places)}
    slots: dict[tuple[int, int], int] = {}
    days: dict[tuple[int, dt.date], int] = {}
    n = len(lp.cols)
    opt = {k: np.zeros(n, dtype=int) for k in ("slot", "day", "place", "loc")}
    value, dur = np.zeros(n), np.zeros(n)
    onsite = np.zeros(n, dtype=bool)
    for j, (qi, k, ei, d, _drive) in enumerate(lp.cols):
        q = reqs[qi]
        opt["slot"][j] = slots.setdefault((qi, k), len(slots))
        opt["day"][j] = days.setdefault((ei, d), len(days))
        value[j] = served_value(problem, q) / len(q.fields)
        dur[j] = q.duration_min
        onsite[j] = q.onsite
        opt["place"][j] = ppos[q.location] if q.onsite else 0
        counted = cov is not None and q.mode in cov.modes and q.location in fpos
        opt["loc"][j] = fpos[q.location] if counted else -1
    share = np.array([1.0 / len(reqs[qi].fields) for qi, _k in slots])
    month_keys: dict[tuple[int, str], int] = {}
    day_month = np.full(len(days), -1)
    for (ei, d), i in days.items():
        key = month_of(d)
        if month_cap(exps[ei], key) is not None:
            day_month[i] = month_keys.setdefault((ei, key), len(month_keys))
    day_expert = np.array([ei for ei, _d in days])
    inf = math.inf

    def per_expert(get: Callable[..., int | None]) -> np.ndarray:
        return np.array([inf if (v := get(e)) is None else float(v) for e in exps])

    w = problem.objective
    return _Days(
        value=value, slot=opt["slot"], day=opt["day"], onsite=onsite, dur=dur,
        place=opt["place"], loc=opt["loc"], n_slots=len(slots), slot_share=share,
        day_expert=day_expert, day_month=day_month,
        day_base=np.array([ppos[exps[ei].base] for ei in day_expert]),
        day_minutes=np.array([float(_working_minutes(exps[ei])) for ei in day_expert]),
        day_drive=per_expert(lambda e: e.max_drive_minutes_per_day)[day_expert],
        day_visits=per_expert(lambda e: e.max_visits_per_day)[day_expert],
        day_cost=float(w.onsite_day), drive_cost=float(w.drive_minute),
        visits_total=per_expert(lambda e: e.max_visits_total),
        days_total=per_expert(lambda e: e.max_onsite_days),
        month_caps=np.array([float(month_cap(exps[ei], key) or 0)
                             for ei, key in month_keys]),
        floors=np.array([float(floors[lid]) for lid in floor_ids]),
        penalty=float(cov.penalty) if cov is not None else 0.0,
        dist=_shortest_between(travel, places, bases), links=_links(lp.cols, reqs),
        slot_request=np.array([qi for qi, _k in slots]), month_keys=list(month_keys),
        floor_ids=floor_ids)


def _links(cols: list[tuple[int, int, int, dt.date, int]], reqs: list[Request]) -> Any:
    """The rows that tie a joint visit's fields to one date (``_Days.links``), sparse."""
    from scipy.sparse import coo_matrix  # start fast

    rows: dict[tuple[int, int, dt.date], int] = {}
    r, c, v = [], [], []
    for j, (qi, k, _ei, d, _drive) in enumerate(cols):
        for kk in range(1, len(reqs[qi].fields)):
            if k not in (0, kk):
                continue
            r.append(rows.setdefault((qi, kk, d), len(rows)))
            c.append(j)
            v.append(1.0 if k == 0 else -1.0)
    return coo_matrix((v, (r, c)), shape=(len(rows), len(cols))).tocsr()


def _working_minutes(e: Expert) -> int:
    """The most minutes an expert's day can hold: from the start of work to the latest end,
    overtime included (its cost is not counted: it only costs)."""
    return e.day_end - e.work_start


def _shortest_between(travel: TravelTimes, places: list[str], bases: list[str]) -> np.ndarray:
    """Minutes between places on the shortest ways through them (a lower bound on every leg
    a plan drives, whatever the legs given: a tour's drive is at least its tour on these).
    Past 400 places only the ways from and into the bases are searched; between two other
    places 0 stands (still a lower bound)."""
    m = travel.matrix(places).astype(float)
    n = len(places)
    if n <= 400:
        for k in range(n):
            np.minimum(m, m[:, k:k + 1] + m[k:k + 1, :], out=m)
    else:
        m[:] = 0.0
        pos = [places.index(b) for b in bases]
        m[pos, :] = travel.shortest_matrix(bases, places)
        m[:, pos] = travel.shortest_matrix(places, bases)
    np.fill_diagonal(m, 0.0)
    return np.maximum(m, 0.0)


def _padded(groups: np.ndarray, members: np.ndarray, n_groups: int, width: int
            ) -> np.ndarray:
    """Per group, its members (indices) in a row, padded with -1 to at least ``width``."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    counts = np.bincount(g, minlength=n_groups)
    out = np.full((n_groups, max(width, int(counts.max(initial=0)))), -1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out[g, np.arange(len(g)) - starts[g]] = members[order]
    return out


def _tours(top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The sets of one to three of ``top`` ranked consultations: their members (a 0/1 row
    each), sizes, and every order of each set's stops (three stops a row, the last repeated
    for shorter sets) grouped by set, with where each set's orders start."""
    sets = [c for size in (1, 2, 3) for c in itertools.combinations(range(top), size)]
    member = np.zeros((len(sets), top))
    orders: list[tuple[int, ...]] = []
    starts: list[int] = []
    for i, c in enumerate(sets):
        member[i, list(c)] = 1.0
        starts.append(len(orders))
        orders.extend(p + (p[-1],) * (3 - len(p)) for p in itertools.permutations(c))
    return member, member.sum(axis=1), np.array(orders), np.array(starts)


@dataclass
class _Prices:
    """The multipliers: per (request, field) served once, per expert's total on-site visits,
    per coverage floor, per joint visit's field and date (``_Days.links``)."""

    lam: np.ndarray
    alpha: np.ndarray
    rho: np.ndarray
    mu: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.lam, self.alpha, self.rho, self.mu


class _Relaxation:
    """The Lagrangian function of ``_Days``: its value at given prices (a bound on every
    plan's objective) and a subgradient, every expert-day at once (numpy)."""

    def __init__(self, data: _Days) -> None:
        self.data = d = data
        n_days = len(d.day_expert)
        ids = np.arange(len(d.value))
        self.on_rows = _padded(d.day[d.onsite], ids[d.onsite], n_days, TOP + 1)
        self.off_rows = _padded(d.day[~d.onsite], ids[~d.onsite], n_days, TOP_ONLINE + 1)
        self.member, self.size, self.orders, self.order_starts = _tours(TOP)
        self.share = d.slot_share[d.slot]
        self.expert = d.day_expert[d.day]
        # the most on-site visits a day can hold: its cap, and its minutes over the shortest
        shortest = np.full(n_days, np.inf)
        np.minimum.at(shortest, d.day[d.onsite], d.dur[d.onsite])
        by_minutes = np.where(np.isfinite(shortest), d.day_minutes // np.maximum(shortest, 1), 0)
        self.visits = np.minimum(d.day_visits, by_minutes)
        self.shortest = np.where(np.isfinite(shortest), shortest, 0.0)
        # the shortest way from the base to an on-site place of the day and back
        trip = d.dist[d.day_base[d.day], d.place] + d.dist[d.place, d.day_base[d.day]]
        out_back = np.full(n_days, np.inf)
        np.minimum.at(out_back, d.day[d.onsite], trip[d.onsite])
        self.out_back = np.where(np.isfinite(out_back), out_back, 0.0)
        self.finite_v = np.isfinite(d.visits_total)

    def start(self) -> _Prices:
        """Prices at which no consultation gains anything and no coverage floor is priced:
        the bound is every request served with no driving."""
        d = self.data
        lam = np.zeros(d.n_slots)
        np.maximum.at(lam, d.slot, d.value)
        n_exp = len(d.visits_total)
        return _Prices(lam, np.zeros(n_exp), np.zeros(len(d.floors)),
                       np.zeros(d.links.shape[0]))

    def priced(self, prices: Mapping[tuple[object, ...], float]) -> _Prices:
        """Prices read from another relaxation's solution (``capacity_prices``' tags): a
        request's price shared among its fields as its value is."""
        d = self.data
        n_exp = len(d.visits_total)
        lam = np.array([prices.get(("request", int(qi)), 0.0) for qi in d.slot_request])
        online = np.zeros(d.n_slots, dtype=bool)
        online[d.slot[~d.onsite]] = True
        full = self.start().lam
        return _Prices(
            np.where(online, full, np.minimum(lam * d.slot_share, full)),
            np.array([prices.get(("visits", ei), 0.0) for ei in range(n_exp)]),
            np.minimum([prices.get(("floor", lid), 0.0) for lid in d.floor_ids], d.penalty),
            np.zeros(d.links.shape[0]))

    def reduced(self, p: _Prices) -> np.ndarray:
        """Each option's value at prices ``p``."""
        d = self.data
        rho = np.append(p.rho, 0.0)            # loc −1: no floor counts the option
        cover = self.share * rho[d.loc]
        return (d.value + cover - p.lam[d.slot] - p.alpha[self.expert] * d.onsite
                + d.links.T @ p.mu)

    def constant(self, p: _Prices) -> float:
        """The prices times the limits they price."""
        d = self.data
        return float(p.lam.sum() + p.alpha[self.finite_v] @ d.visits_total[self.finite_v]
                     - p.rho @ d.floors)

    def online(self, r: np.ndarray) -> _Knapsack:
        """Each day's online consultations as a fractional knapsack of minutes: the
        ``TOP_ONLINE`` best by value a minute, and the next one's value a minute."""
        d = self.data
        rows = self.off_rows
        has = rows >= 0
        safe = np.maximum(rows, 0)
        rate = np.where(has & (r[safe] > 0), r[safe] / np.maximum(d.dur[safe], 1), 0.0)
        k = TOP_ONLINE + 1
        if rate.shape[1] > k:
            part = np.argpartition(-rate, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(rate.shape[1]), rate.shape)
        picked = np.take_along_axis(rate, part, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        rate = np.take_along_axis(picked, order, axis=1)
        ids = np.take_along_axis(safe, part, axis=1)
        minutes = np.where(rate > 0, d.dur[ids], 0.0)
        return _Knapsack(rate[:, :TOP_ONLINE], minutes[:, :TOP_ONLINE], ids[:, :TOP_ONLINE],
                         rate[:, TOP_ONLINE], ids[:, TOP_ONLINE], minutes[:, TOP_ONLINE])


@dataclass
class _Knapsack:
    """Per day, the online consultations that fill minutes best: value a minute, minutes and
    option of the best ones in order, and the value a minute of all the others at most."""

    rate: np.ndarray
    minutes: np.ndarray
    ids: np.ndarray
    tail: np.ndarray
    tail_id: np.ndarray
    tail_minutes: np.ndarray

    def __post_init__(self) -> None:
        self.before = np.cumsum(self.minutes, axis=1) - self.minutes
        self.total = self.minutes.sum(axis=1)

    def filled(self, left: np.ndarray) -> np.ndarray:
        """Per day (rows) and per choice (columns of ``left``, minutes free): the share of each
        best consultation taken (days × choices × consultations)."""
        m = np.maximum(left, 0.0)[..., None] - self.before[:, None, :]
        return np.clip(m, 0.0, self.minutes[:, None, :]) / np.maximum(
            self.minutes[:, None, :], 1e-9)

    def take(self, x: np.ndarray, left: np.ndarray) -> None:
        """Add to ``x`` (per option) what the knapsack takes in ``left`` free minutes a day:
        the best consultations, then the rest as if all were the next one."""
        np.add.at(x, self.ids, self.filled(left[:, None])[:, 0, :])
        rest = np.maximum(np.maximum(left, 0.0) - self.total, 0.0)
        more = (rest > 0) & (self.tail > 0)
        np.add.at(x, self.tail_id[more], rest[more] / np.maximum(self.tail_minutes[more], 1.0))

    def value(self, left: np.ndarray) -> np.ndarray:
        """The most value online consultations add in ``left`` free minutes (days × choices)."""
        taken = self.filled(left) * self.minutes[:, None, :]
        rest = np.maximum(np.maximum(left, 0.0) - self.total[:, None], 0.0)
        return (taken * self.rate[:, None, :]).sum(axis=2) + rest * self.tail[:, None]


@dataclass
class _Sets:
    """Per day, its ``TOP`` best on-site options (value, option) and the next one's value;
    per day and set of them: value, minutes, shortest tour, whether the day can hold it."""

    top: np.ndarray
    ids: np.ndarray
    nxt: np.ndarray
    nxt_id: np.ndarray
    value: np.ndarray
    minutes: np.ndarray
    drive: np.ndarray
    fits: np.ndarray


def _sets(rel: _Relaxation, r: np.ndarray) -> _Sets:
    """The on-site sets of up to three of each day's best options (values ``r``): a set
    fits when every member gains something, it is within the day's visits, and its minutes
    and its shortest tour from the base and back fit the day and the daily drive."""
    d = rel.data
    rows = rel.on_rows
    safe = np.maximum(rows, 0)
    val = np.where(rows >= 0, r[safe], -np.inf)
    k = TOP + 1
    part = np.argpartition(-val, k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(val, part, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    val = np.take_along_axis(picked, order, axis=1)
    ids = np.take_along_axis(safe, np.take_along_axis(part, order, axis=1), axis=1)
    top, nxt_id, ids = val[:, :TOP], ids[:, TOP], ids[:, :TOP]
    gains = top > 0
    base = d.day_base[:, None]
    place = np.where(gains, d.place[ids], base)
    member = rel.member.T
    value = np.where(gains, top, 0.0) @ member
    minutes = np.where(gains, d.dur[ids], 0.0) @ member
    a, b, c = (place[:, rel.orders[:, i]] for i in range(3))
    dist = d.dist
    tours = dist[base, a] + dist[a, b] + dist[b, c] + dist[c, base]
    drive = np.minimum.reduceat(tours, rel.order_starts, axis=1)
    fits = ((gains.astype(float) @ member == rel.size) & (rel.size <= rel.visits[:, None])
            & (minutes + drive <= d.day_minutes[:, None]) & (drive <= d.day_drive[:, None]))
    return _Sets(top, ids, np.maximum(val[:, TOP], 0.0), nxt_id, value, minutes, drive, fits)


def _beyond(rel: _Relaxation, s: _Sets, day_cost: np.ndarray, knap: _Knapsack
            ) -> tuple[np.ndarray, np.ndarray]:
    """A bound on each day's on-site sets not enumerated: those with an option past the
    ``TOP`` best (each member at most the next one's value) and those of four stops or more
    (at most the best options' values); each member at least the day's shortest on-site
    consultation, the drive at least the shortest way out and back. The bound, and its size."""
    d = rel.data
    cum = np.cumsum(np.maximum(s.top, 0.0), axis=1)
    cum = np.concatenate([np.zeros((len(cum), 1)), cum], axis=1)      # cum[:, i]: best i
    rows = np.arange(len(cum))
    cap = np.minimum(rel.visits, 10**6).astype(int)
    sizes = np.stack([np.minimum(cap, 1), np.minimum(cap, 2), np.minimum(cap, 3), cap], axis=1)
    value = cum[rows[:, None], np.minimum(sizes, TOP)] + np.maximum(sizes - TOP, 0) * s.nxt[
        :, None]
    past = (s.nxt[:, None] > 0) & (sizes >= 1) & (np.arange(4) < 3)
    value[:, :3] = np.where(past[:, :3], cum[rows[:, None], np.maximum(sizes[:, :3] - 1, 0)]
                            + s.nxt[:, None], -np.inf)
    value[:, 3] = np.where(cap >= 4, value[:, 3], -np.inf)
    left = d.day_minutes[:, None] - sizes * rel.shortest[:, None] - rel.out_back[:, None]
    value = np.where(left >= 0, value - d.drive_cost * rel.out_back[:, None] - day_cost[:, None]
                     + knap.value(left), -np.inf)
    best = np.argmax(value, axis=1)
    return value[rows, best], sizes[rows, best]


def _on_site_days(rel: _Relaxation, gain: np.ndarray) -> np.ndarray:
    """Which days an expert goes on site: the most valuable ones (``gain`` over staying
    online), at most the month's cap in each month and the horizon's cap in all (caps on
    nested sets of days: taking the best first is the best choice)."""
    d = rel.data
    n = len(gain)
    group = np.where(d.day_month >= 0, d.day_month, len(d.month_caps) + np.arange(n))
    cap = np.concatenate([d.month_caps, np.full(n, np.inf)])[group]
    ok = (gain > 0) & (_rank_in(group, gain) < cap)
    total = d.days_total[d.day_expert]
    return ok & (_rank_in(np.where(ok, d.day_expert, -1 - np.arange(n)), gain) < total)


def _rank_in(group: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Each item's rank by ``gain`` (highest first, 0-based) among the items of its group."""
    order = np.lexsort((-gain, group))
    g = group[order]
    first = np.concatenate([[True], g[1:] != g[:-1]]) if len(g) else np.zeros(0, dtype=bool)
    starts = np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    rank = np.empty(len(g), dtype=float)
    rank[order] = np.arange(len(g)) - starts
    return rank


def _evaluate(rel: _Relaxation, p: _Prices) -> tuple[float, _Prices]:
    """The Lagrangian function at prices ``p`` (a bound on every plan's objective) and a
    subgradient of it (from each day's best enumerated choice)."""
    d = rel.data
    r = rel.reduced(p)
    day_cost = np.full(len(d.day_expert), d.day_cost)
    whole = d.day_minutes[:, None]
    knap = rel.online(r)
    alone = knap.value(whole)[:, 0]
    s = _sets(rel, r)
    left = whole - s.minutes - s.drive
    with_sets = np.where(s.fits, s.value - d.drive_cost * s.drive - day_cost[:, None]
                         + knap.value(left), -np.inf)
    rows = np.arange(len(alone))
    best = np.argmax(with_sets, axis=1)
    best_value = with_sets[rows, best]
    beyond, size = _beyond(rel, s, day_cost, knap)
    gain = np.maximum(best_value, beyond) - alone
    taken = _on_site_days(rel, gain)
    bound = float((alone + np.where(taken, gain, 0.0)).sum()) + rel.constant(p)
    # the subgradient: what each day's best choice takes, against the limits priced
    past = taken & (beyond > best_value) & (size > 0)
    on_site = taken & ~past
    x = np.zeros(len(d.value))
    chosen = (rel.member[best] > 0) & on_site[:, None]
    np.add.at(x, s.ids[chosen], 1.0)
    free = np.where(on_site, left[rows, best], d.day_minutes)
    if past.any():
        # a set past the enumerated ones is the day's bound: its best members and the next
        on_site |= past
        ranks = np.arange(TOP)[None, :] < np.minimum(size, TOP)[:, None] - (size <= 3)[:, None]
        np.add.at(x, s.ids[past[:, None] & ranks], 1.0)
        np.add.at(x, s.nxt_id[past], np.where(size[past] <= 3, 1.0, np.maximum(
            size[past] - TOP, 0)))
        free = np.where(past, d.day_minutes - size * rel.shortest - rel.out_back, free)
    knap.take(x, free)
    n_exp = len(d.visits_total)
    visits = np.bincount(rel.expert, x * d.onsite, n_exp)
    counted = d.loc >= 0
    grad = _Prices(
        lam=1.0 - np.bincount(d.slot, x, d.n_slots),
        alpha=np.where(rel.finite_v, np.nan_to_num(d.visits_total - visits, posinf=0.0), 0.0),
        rho=np.bincount(d.loc[counted], (rel.share * x)[counted], len(d.floors)) - d.floors,
        mu=d.links @ x)
    return bound, grad


def _descend(data: _Days, until: float | None, stop: Callable[[], bool] | None,
             prices: Mapping[tuple[object, ...], float] | None) -> float | None:
    """Subgradient steps from ``_Relaxation.start`` (Polyak's rule towards a target a little
    below the least bound so far, each price's step scaled by what it prices, the step halved
    after rounds without a better bound), until ``until`` or ``stop()``; the least bound of
    all rounds, None when no round was made."""
    if until is not None and time.perf_counter() > until or stop is not None and stop():
        return None
    rel = _Relaxation(data)
    p = rel.start()
    if prices is not None:
        # from the other relaxation's prices where they give the lower bound
        other = rel.priced(prices)
        if _evaluate(rel, other)[0] < _evaluate(rel, p)[0]:
            p = other
    scale = _scales(rel, p)
    best: float | None = None
    theta, stale, fruitless, spent = STEP, 0, 0, 0.0
    for _round in range(MAX_ROUNDS):
        t0 = time.perf_counter()
        if until is not None and t0 + spent > until or stop is not None and stop():
            break
        bound, grad = _evaluate(rel, p)
        spent = time.perf_counter() - t0
        if best is None or bound < best - 1e-6 * abs(best):
            best, stale, fruitless = bound if best is None else min(best, bound), 0, 0
        else:
            best, stale, fruitless = min(best, bound), stale + 1, fruitless + 1
            if stale >= PATIENCE:
                theta, stale = theta / 2, 0
        if fruitless >= 3 * PATIENCE:
            break               # three halvings without a better bound: it has settled
        move = _moving(p, grad, data.penalty)
        direction = _Prices(*(np.where(m, g * s * s, 0.0) for m, g, s in zip(
            move.arrays(), grad.arrays(), scale.arrays(), strict=True)))
        norm = sum(float(g @ h) for g, h in zip(grad.arrays(), direction.arrays(), strict=True))
        if norm <= 0.0 or theta < 1e-4:
            break
        step = theta * (bound - (best - TARGET * abs(best) - 1.0)) / norm
        p = _Prices(*(x - step * g for x, g in zip(p.arrays(), direction.arrays(), strict=True)))
        p = _Prices(np.maximum(p.lam, 0.0), np.maximum(p.alpha, 0.0),
                    np.clip(p.rho, 0.0, data.penalty), p.mu)
    return best


def _scales(rel: _Relaxation, start: _Prices) -> _Prices:
    """What each price is measured in: a request field's value, a consultation's for the
    visits and joint dates, a full day's for the days, the penalty for the floors."""
    d = rel.data
    one = float(np.mean(d.value)) if len(d.value) else 1.0
    return _Prices(np.maximum(start.lam, one * 0.1), np.full_like(start.alpha, one),
                   np.full_like(start.rho, max(d.penalty, 1.0)), np.full_like(start.mu, one))


def _moving(p: _Prices, grad: _Prices, penalty: float) -> _Prices:
    """Which prices a step moves: a price at 0 whose limit is slack (or a coverage price at
    the penalty whose floor is short) stays put."""
    move = [~((price <= 0.0) & (g > 0.0)) for price, g in zip(p.arrays(), grad.arrays(),
                                                               strict=True)]
    move[2] &= ~((p.rho >= penalty) & (grad.rho < 0.0))
    return _Prices(*move)
