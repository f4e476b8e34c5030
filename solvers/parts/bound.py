"""The bound of a plan by parts: a linear relaxation of the whole problem, solved once.

Columns: per request and date, whether it is served then (``z``); per request, field (slot),
expert and date, whether that expert takes that field then (``y``); per expert and date with
an on-site option, whether it is an on-site day; per expert, date and place that needs a
drive, the stop whose drive is paid once; per location with a coverage floor, its shortfall.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.calendar import date_status
from engine.model import Expert, PlanRequest, Request
from engine.nights import night_places
from engine.travel import TravelTimes
from solvers.objective import served_value
from solvers.parts.hoods import month_cap, month_of

__all__ = ["LinearProgram", "relaxation_bound"]


def relaxation_bound(problem: PlanRequest, travel: TravelTimes,
                     time_limit: float | None = None) -> int | None:
    """An upper bound on every plan's objective from a linear relaxation solved once (HiGHS):
    each request served at most once, one expert per field on one date; per expert-date, the
    consultations plus the shortest drive into each on-site stop fit the working day, at most
    the daily visits and drive; per expert, the total visits and on-site days; per location and
    date, its cap; the season goals (small-town bonus, coverage shortfall, monthly on-site
    days) and the published dates. Driving is counted once per place an expert stops at on a
    date, as the shortest way into it from anywhere else (every leg ends at a stop or at the
    base, so a plan drives at least that much; none into the expert's own base). The
    (request, expert, date) options are a superset of the planner's (shortest ways, not the
    legs of a tour), so every plan is a solution and the optimum bounds it. None if the LP
    could not be solved to its optimum (within ``time_limit`` seconds of HiGHS, if given)."""
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    nothing = -cov.penalty * sum(floors.values()) if cov is not None else 0  # nothing served
    if not problem.experts or not problem.requests:
        return nothing
    lp = _columns(problem, travel)
    if not lp.z_cols:
        return nothing
    _day_and_stop_columns(problem, lp, floors)
    c = _costs(problem, lp)
    rows = _Rows()
    _request_rows(lp, rows)
    _expert_day_rows(problem, lp, rows)
    _budget_rows(problem, lp, rows, floors)
    var_bounds = np.zeros((lp.n_total, 2))
    var_bounds[:, 1] = 1.0
    for lid, sj in lp.short_index.items():
        var_bounds[sj, 1] = floors[lid]         # a shortfall runs from 0 to the floor
    return LinearProgram.of(c, rows, var_bounds[:, 1]).upper_bound(time_limit)


@dataclass(frozen=True)
class LinearProgram:
    """``min c·x`` subject to ``a_ub·x ≤ b_ub``, ``a_eq·x = 0`` and ``0 ≤ x ≤ upper``: the
    relaxation of a plan's objective (the objective negated), ready for HiGHS."""

    c: np.ndarray
    a_ub: Any
    b_ub: np.ndarray
    a_eq: Any
    upper: np.ndarray
    #: what some ``≤`` rows stand for (row index → a tag the program's builder chose)
    tags: Mapping[int, tuple[object, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, c: np.ndarray, rows: _Rows, upper: np.ndarray) -> LinearProgram:
        from scipy.sparse import coo_matrix  # start fast

        n = len(c)
        a_ub = coo_matrix((rows.v_ub, (rows.r_ub, rows.c_ub)), shape=(rows.row, n)).tocsr()
        a_eq = coo_matrix((rows.v_eq, (rows.r_eq, rows.c_eq)), shape=(rows.eq_row, n)).tocsr()
        return cls(c, a_ub, np.array(rows.b_ub, dtype=float), a_eq, upper, dict(rows.tags))

    def dual_bound(self, lam: np.ndarray, mu: np.ndarray) -> float:
        """The upper bound on ``−c·x`` (the plan's objective) that any multipliers give, by weak
        duality: ``λ ≥ 0`` on the ``≤`` rows (negative entries are taken as 0), ``μ`` free on
        the ``= 0`` rows; for every ``x`` in the box, ``−c·x ≤ λ·b − Σ min(0, r)·upper`` with
        the reduced costs ``r = c + a_ubᵀλ + a_eqᵀμ``. Valid whatever the multipliers, so a
        solver's tolerances cannot make it wrong."""
        lam = np.maximum(lam, 0.0)
        r = self.c + self.a_ub.T @ lam + self.a_eq.T @ mu
        return float(lam @ self.b_ub - np.minimum(r, 0.0) @ self.upper)

    def upper_bound(self, time_limit: float | None = None) -> int | None:
        """The LP's optimum as a bound on every plan's objective (HiGHS's duals put into
        ``dual_bound``, rounded down: objectives are whole), or None when HiGHS did not reach
        the optimum (within ``time_limit`` seconds, if given)."""
        solved = self.solve(time_limit)
        return None if solved is None else solved[0]

    def solve(self, time_limit: float | None = None) -> tuple[int, np.ndarray] | None:
        """``upper_bound`` and the ``≤`` rows' multipliers (λ ≥ 0) that give it, or None."""
        from scipy.optimize import linprog  # start fast

        res = linprog(self.c, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq,
                      b_eq=np.zeros(self.a_eq.shape[0]),
                      bounds=np.column_stack([np.zeros(len(self.c)), self.upper]),
                      method="highs",
                      options={} if time_limit is None else {"time_limit": max(0.1, time_limit)})
        if res.status != 0:
            return None
        lam = -np.asarray(res.ineqlin.marginals)
        value = self.dual_bound(lam, -np.asarray(res.eqlin.marginals))
        # a margin for the sums' rounding (relative 1e-9 of the terms)
        return int(math.floor(value + 1e-9 * (abs(value) + 1.0))), np.maximum(lam, 0.0)


@dataclass
class _LP:
    """The relaxation's columns (indices into its variables)."""

    reqs: list[Request]
    exps: list[Expert]
    #: the y columns: (request, slot, expert, date, drive into the stop) each
    cols: list[tuple[int, int, int, dt.date, int]]
    #: the z column of each (request, date)
    z_cols: dict[tuple[int, dt.date], int]
    #: the first y column (y columns follow the z columns)
    y0: int
    n_total: int
    od_index: dict[tuple[int, dt.date], int] = field(default_factory=dict)
    at_stop: dict[tuple[int, dt.date, str], dict[int, list[int]]] = field(default_factory=dict)
    stop_vars: dict[tuple[int, dt.date, str], list[int]] = field(default_factory=dict)
    stop_drive: dict[int, int] = field(default_factory=dict)
    short_index: dict[str, int] = field(default_factory=dict)


def _columns(problem: PlanRequest, travel: TravelTimes) -> _LP:
    """The z and y columns: every (request, date) with, for each of its fields, an expert who
    has the field, works that date and can reach the place and be back within the day (from
    and to the base or a place the expert may stay the night: none of its stops needs a drive
    into it)."""
    h = problem.horizon
    exps = list(problem.experts)
    reqs = list(problem.requests)
    dates = h.dates
    didx = {d: i for i, d in enumerate(dates)}
    published = h.published_until
    workable = np.array([[date_status(h, e, d).workable for d in dates] for e in exps])
    fields = sorted({f for e in exps for f in e.fields} | {f for q in reqs for f in q.fields})
    has = {f: np.array([f in e.fields for e in exps]) for f in fields}
    ws = np.array([e.work_start for e in exps])
    we = np.array([e.day_end for e in exps])
    dcap = np.array([np.inf if e.max_drive_minutes_per_day is None
                     else e.max_drive_minutes_per_day for e in exps])
    # where a day may start or end: the base, or a place of a night away (experts[].overnight)
    homes = [(e.base, *night_places(problem, e)) for e in exps]
    bases = sorted({x for h in homes for x in h})
    bi = [np.array([bases.index(x) for x in h]) for h in homes]
    places = sorted({*bases, *(q.location for q in reqs)})
    onsite_locs = sorted({q.location for q in reqs if q.onsite})
    lj = {x: j for j, x in enumerate(onsite_locs)}
    into = _shortest_into(travel, places, onsite_locs)          # min way into each stop
    out_sp = travel.shortest_matrix(bases, onsite_locs) if onsite_locs else None
    back_sp = travel.shortest_matrix(onsite_locs, bases).T if onsite_locs else None
    cols: list[tuple[int, int, int, dt.date, int]] = []   # (request, slot, expert, date, drive)
    z_cols: dict[tuple[int, dt.date], int] = {}
    n = 0
    for qi, q in enumerate(reqs):
        loc = problem.location_by_id[q.location]
        lo = np.maximum(max(loc.open, q.window[0] if q.window else 0), ws)
        hi = np.minimum(min(loc.close, q.window[1] if q.window else 1440), we) - q.duration_min
        drive = 0
        ok = np.ones(len(exps), dtype=bool)
        if q.onsite:
            assert out_sp is not None and back_sp is not None
            o = np.array([out_sp[ix, lj[q.location]].min() for ix in bi])
            b = np.array([back_sp[ix, lj[q.location]].min() for ix in bi])
            ok = o + b <= dcap
            lo = np.maximum(lo, ws + o)
            hi = np.minimum(hi, we - b - q.duration_min)
            drive = into[q.location]
        ok &= lo <= hi
        at_base = np.array([q.location in h for h in homes]) if q.onsite else None
        if q.fixed is not None:
            ok &= np.array([e.id in q.fixed.experts for e in exps])
        span = [q.fixed.date] if q.fixed is not None else [
            q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        for d in span:
            if d not in didx or (q.fixed is None and published is not None and d <= published):
                continue
            mask = ok & workable[:, didx[d]]
            per_slot = [np.flatnonzero(mask & has[f]) for f in q.fields]
            if any(len(x) == 0 for x in per_slot):
                continue
            z_cols[qi, d] = n
            n += 1
            for k, idx in enumerate(per_slot):
                # a stop at the expert's own base may need no drive at all
                cols.extend((qi, k, int(ei), d,
                             0 if at_base is not None and at_base[ei] else drive) for ei in idx)
    return _LP(reqs, exps, cols, z_cols, y0=n, n_total=n + len(cols))


def _day_and_stop_columns(problem: PlanRequest, lp: _LP, floors: dict[str, int]) -> None:
    """The on-site day, stop and shortfall columns, after the y columns."""
    reqs, cols = lp.reqs, lp.cols
    # on-site day indicators per (expert, date) with an on-site option
    for qi, _k, ei, d, _drive in cols:
        if reqs[qi].onsite and (ei, d) not in lp.od_index:
            lp.od_index[ei, d] = lp.n_total
            lp.n_total += 1
    # stops: per (expert, date, place) with an on-site option that needs a drive, the drive
    # into the place is paid once however many consultations are made there — by the options'
    # own columns when they are one request's (most places: an expert takes one field of a
    # request at most, so they add up to at most one), else by a stop variable at least each
    # request's options there
    at_stop: dict[tuple[int, dt.date, str], dict[int, list[int]]] = defaultdict(
        lambda: defaultdict(list))
    for j, (qi, _k, ei, d, drive) in enumerate(cols):
        if reqs[qi].onsite and drive > 0:
            at_stop[ei, d, reqs[qi].location][qi].append(j)
    lp.at_stop = at_stop
    for key, by_req in at_stop.items():
        drive = next(cols[js[0]][4] for js in by_req.values())
        if len(by_req) == 1:
            lp.stop_vars[key] = [lp.y0 + j for js in by_req.values() for j in js]
        else:
            lp.stop_vars[key] = [lp.n_total]
            lp.n_total += 1
        for sj in lp.stop_vars[key]:
            lp.stop_drive[sj] = drive
    # coverage shortfall per location with a floor (≥ floor − consultations counted there)
    for lid in sorted(floors):
        lp.short_index[lid] = lp.n_total
        lp.n_total += 1


def _costs(problem: PlanRequest, lp: _LP) -> np.ndarray:
    """The objective to minimise: minus the value of each request served, plus the coverage
    shortfall, the drive into each stop and each on-site day at their weights."""
    w = problem.objective
    cov = problem.goals.coverage
    reqs = lp.reqs
    c = np.zeros(lp.n_total)
    for (qi, _d), j in lp.z_cols.items():
        c[j] = -served_value(problem, reqs[qi])
    if cov is not None:
        for j in lp.short_index.values():
            c[j] = cov.penalty
    for j, drive in lp.stop_drive.items():
        c[j] = w.drive_minute * drive
    for j in lp.od_index.values():
        c[j] = w.onsite_day
    return c


@dataclass
class _Rows:
    """The constraint rows, as sparse entries: ``≤`` rows and ``= 0`` rows."""

    r_ub: list[int] = field(default_factory=list)
    c_ub: list[int] = field(default_factory=list)
    v_ub: list[float] = field(default_factory=list)
    b_ub: list[float] = field(default_factory=list)
    r_eq: list[int] = field(default_factory=list)
    c_eq: list[int] = field(default_factory=list)
    v_eq: list[float] = field(default_factory=list)
    row: int = 0
    eq_row: int = 0
    tags: dict[int, tuple[object, ...]] = field(default_factory=dict)

    def ub(self, entries: list[tuple[int, float]], rhs: float,
           tag: tuple[object, ...] | None = None) -> None:
        """Σ coefficient × column ≤ ``rhs`` (``tag``: what the row stands for, if asked)."""
        if tag is not None:
            self.tags[self.row] = tag
        for j, v in entries:
            self.r_ub.append(self.row)
            self.c_ub.append(j)
            self.v_ub.append(v)
        self.b_ub.append(rhs)
        self.row += 1

    def eq0(self, entries: list[tuple[int, float]]) -> None:
        """Σ coefficient × column = 0."""
        for j, v in entries:
            self.r_eq.append(self.eq_row)
            self.c_eq.append(j)
            self.v_eq.append(v)
        self.eq_row += 1


def _request_rows(lp: _LP, rows: _Rows) -> None:
    """A request served at most once; on its date each field taken by one expert; an expert
    takes at most one of a request's fields."""
    by_q: dict[int, list[int]] = defaultdict(list)
    for (qi, _d), j in lp.z_cols.items():
        by_q[qi].append(j)
    for js in by_q.values():
        rows.ub([(j, 1.0) for j in js], 1.0)
    slot_cols: dict[tuple[int, dt.date, int], list[int]] = defaultdict(list)
    qed_cols: dict[tuple[int, int, dt.date], list[int]] = defaultdict(list)
    for j, (qi, k, ei, d, _drive) in enumerate(lp.cols):
        slot_cols[qi, d, k].append(lp.y0 + j)
        qed_cols[qi, ei, d].append(lp.y0 + j)
    for (qi, d, _k), js in slot_cols.items():
        rows.eq0([(j, 1.0) for j in js] + [(lp.z_cols[qi, d], -1.0)])
    for (qi, _ei, d), js in qed_cols.items():
        if len(js) > 1:
            rows.ub([(j, 1.0) for j in js] + [(lp.z_cols[qi, d], -1.0)], 0.0)


def _expert_day_rows(problem: PlanRequest, lp: _LP, rows: _Rows) -> None:
    """Per expert and date: each stop's drive paid once, consultations and drives within the
    working day, an on-site day counted, the daily visits and drive capped."""
    reqs, cols, y0 = lp.reqs, lp.cols, lp.y0
    ed_cols: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    for j, (_qi, _k, ei, d, _drive) in enumerate(cols):
        ed_cols[ei, d].append(j)
    stops_of: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    for (ei, d, _lid), sjs in lp.stop_vars.items():
        stops_of[ei, d].extend(sjs)
    for key, by_req in lp.at_stop.items():
        if len(by_req) > 1:
            (sj,) = lp.stop_vars[key]
            for js in by_req.values():
                rows.ub([(y0 + j, 1.0) for j in js] + [(sj, -1.0)], 0.0)
    for (ei, d), js in ed_cols.items():
        e = lp.exps[ei]
        drives = [(sj, float(lp.stop_drive[sj])) for sj in stops_of.get((ei, d), [])]
        busy = [(y0 + j, float(reqs[cols[j][0]].duration_min)) for j in js]
        rows.ub(busy + drives, float(e.day_end - e.work_start))
        onsite = [y0 + j for j in js if reqs[cols[j][0]].onsite]
        if onsite:
            od = lp.od_index[ei, d]
            for j in onsite:
                rows.ub([(j, 1.0), (od, -1.0)], 0.0)
            if e.max_visits_per_day is not None:
                rows.ub([(j, 1.0) for j in onsite], float(e.max_visits_per_day))
            if e.max_drive_minutes_per_day is not None and drives:
                rows.ub(drives, float(e.max_drive_minutes_per_day))


def _budget_rows(problem: PlanRequest, lp: _LP, rows: _Rows, floors: dict[str, int]) -> None:
    """Per expert, the total visits, on-site days and each month's on-site days; per location
    with a floor, its shortfall; per location and date, its cap."""
    reqs = lp.reqs
    e_cols: dict[int, list[int]] = defaultdict(list)
    ld_cols: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    for j, (qi, _k, ei, d, _drive) in enumerate(lp.cols):
        if reqs[qi].onsite:
            e_cols[ei].append(lp.y0 + j)
            ld_cols[reqs[qi].location, d].append(lp.y0 + j)
    for ei, js in e_cols.items():
        e = lp.exps[ei]
        if e.max_visits_total is not None:
            rows.ub([(j, 1.0) for j in js], float(e.max_visits_total))
    days_of: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for (ei, d), j in lp.od_index.items():
        days_of[ei].append((d, j))
    for ei, dj in days_of.items():
        e = lp.exps[ei]
        if e.max_onsite_days is not None:
            rows.ub([(j, 1.0) for _d, j in dj], float(e.max_onsite_days))
        months: dict[str, list[int]] = defaultdict(list)
        for d, j in dj:
            months[month_of(d)].append(j)
        for month, mj in months.items():
            cap = month_cap(e, month)
            if cap is not None:
                rows.ub([(j, 1.0) for j in mj], float(cap))
    cov = problem.goals.coverage
    if cov is not None:
        counted: dict[str, list[int]] = defaultdict(list)
        for (qi, _d), j in lp.z_cols.items():
            if reqs[qi].mode in cov.modes:
                counted[reqs[qi].location].append(j)
        for lid, sj in lp.short_index.items():
            # −shortfall − Σ counted ≤ −floor
            rows.ub([(sj, -1.0)] + [(j, -1.0) for j in counted.get(lid, [])],
                    -float(floors[lid]))
    for (lid, _d), js in ld_cols.items():
        cap = problem.location_by_id[lid].max_visits_per_day
        if cap is not None:
            rows.ub([(j, 1.0) for j in js], float(cap))


def _shortest_into(travel: TravelTimes, places: Sequence[str], stops: Sequence[str]
                   ) -> dict[str, int]:
    """The shortest single leg into each stop from any other place (a lower bound on the leg
    every plan drives into it)."""
    if not stops:
        return {}
    m = travel.matrix(list(places), list(stops)).astype(float)
    pos = {x: i for i, x in enumerate(places)}
    for j, s in enumerate(stops):
        m[pos[s], j] = np.inf
    best = m.min(axis=0)
    return {s: int(best[j]) if np.isfinite(best[j]) else 0 for j, s in enumerate(stops)}
