"""The capacity bound: what the experts' capacities allow, added up month by month.

Per request, field, expert and month (a *period*), whether that expert takes that field on
some date of the month; per expert and month, the number of on-site days; per expert, month
and place, the number of days it stops there. The experts' limits are summed over each
month's workable dates instead of holding date by date, so the linear program is many times
smaller than the relaxation of ``solvers.parts.bound`` (a month stands for some twenty dates)
and solves in seconds at any horizon, at the price of a looser bound where the experts are
short on some dates and idle on others of the same month. (Periods of a week within a month
were tried: a bound tighter by 0.006 % on a 33-week season, for a program forty times slower
to solve.)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from engine.calendar import date_status
from engine.model import Expert, PlanRequest, Request
from engine.travel import TravelTimes
from solvers.objective import served_value
from solvers.parts.bound import LinearProgram, _columns, _Rows
from solvers.parts.hoods import month_cap, month_of

__all__ = ["capacity_bound", "capacity_prices", "capacity_program"]

Period = str                            # a calendar month, "YYYY-MM"
_Z = dict[tuple[int, Period], int]      # the z column of each (request, period)
_Y = dict[tuple[int, int, int, Period], int]    # of each (request, field, expert, period)


def period_of(d: dt.date) -> Period:
    """The period a date falls in: its month.

    >>> period_of(dt.date(2026, 12, 1))
    '2026-12'
    """
    return month_of(d)


def capacity_bound(problem: PlanRequest, travel: TravelTimes,
                   time_limit: float | None = None) -> int | None:
    """An upper bound on every plan's objective from the capacity program
    (``capacity_program``) solved by HiGHS, or None when it could not be solved within
    ``time_limit`` seconds.

    Every plan is a solution of the program: a visit is a (request, field, expert, month)
    taken once, each field of a joint visit by a different expert in the same month; an
    expert's on-site visits in a month are at most the daily cap times its on-site days there,
    the visits plus the drives of those days fit those working days (and the daily drive cap),
    and all its consultations fit the month's workable days; its on-site days are at most the
    month's workable days, the month's cap and the horizon's; each place it stops at in a month
    costs at least the shortest drive into it once (none at its own base); its on-site visits
    at most its total; a place at most its daily cap times the month's dates; the small-town
    bonus, the coverage shortfall and the on-site days at their weights; only the (request,
    expert, date) options of the relaxation (``solvers.parts.bound``: the request's dates, the
    published ones excluded, its fixed date and experts, the fields, the hours and the reach).

    >>> capacity_bound(problem, TravelTimes(problem))            # doctest: +SKIP
    7616548
    """
    solved = capacity_prices(problem, travel, time_limit)
    return None if solved is None else solved[0]


def capacity_prices(problem: PlanRequest, travel: TravelTimes, time_limit: float | None = None
                    ) -> tuple[int, dict[tuple[object, ...], float]] | None:
    """``capacity_bound`` and the prices its solution puts on the limits that tie the
    experts' plans together, by tag: ``("request", i)`` (the ``i``-th request served once),
    ``("visits", e)``, ``("days", e)``, ``("month", e, "YYYY-MM")`` (the ``e``-th expert's
    total visits, on-site days, a month's on-site days), ``("floor", location)`` — where the
    Lagrangian bound (``solvers.parts.lagrange``) may start. None when HiGHS did not solve it
    within ``time_limit`` seconds."""
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    nothing = -cov.penalty * sum(floors.values()) if cov is not None else 0
    program = capacity_program(problem, travel) if problem.experts and problem.requests \
        else None
    if program is None:
        return nothing, {}
    solved = program.solve(time_limit)
    if solved is None:
        return None
    bound, lam = solved
    return bound, {tag: float(lam[row]) for row, tag in program.tags.items()}


def capacity_program(problem: PlanRequest, travel: TravelTimes) -> LinearProgram | None:
    """The capacity bound's linear program (``capacity_bound`` says what it holds), or None
    when no request can be served on any date."""
    lp = _columns(problem, travel)
    if not lp.z_cols:
        return None
    reqs, exps = lp.reqs, lp.exps
    cov = problem.goals.coverage
    floors = cov.floors(problem) if cov is not None else {}
    w = problem.objective

    # the columns: z per (request, period), y per (request, field, expert, period)
    z: _Z = {}
    y: _Y = {}
    drive_of: dict[int, int] = {}
    n = 0
    periods = {d: period_of(d) for d in problem.horizon.dates}
    for qi, d in lp.z_cols:
        key = (qi, periods[d])
        if key not in z:
            z[key] = n
            n += 1
    for qi, k, ei, d, drive in lp.cols:
        key4 = (qi, k, ei, periods[d])
        if key4 not in y:
            y[key4] = n
            drive_of[n] = drive
            n += 1
    # on-site days per (expert, period) and stops per (expert, period, place) with a drive
    onsite_days: dict[tuple[int, Period], int] = {}
    stops: dict[tuple[int, Period, str], int] = {}
    for (qi, _k, ei, p), j in y.items():
        q = reqs[qi]
        if not q.onsite:
            continue
        if (ei, p) not in onsite_days:
            onsite_days[ei, p] = n
            n += 1
        if drive_of[j] > 0 and (ei, p, q.location) not in stops:
            stops[ei, p, q.location] = n
            drive_of[n] = drive_of[j]
            n += 1
    short = {lid: n + i for i, lid in enumerate(sorted(floors))}
    n += len(short)

    # the workable dates of each expert in each period, and each period's dates
    h = problem.horizon
    workable: dict[tuple[int, Period], int] = defaultdict(int)
    dates_in: dict[Period, int] = defaultdict(int)
    for d in h.dates:
        p = periods[d]
        dates_in[p] += 1
        for ei, e in enumerate(exps):
            workable[ei, p] += date_status(h, e, d).workable

    c = np.zeros(n)
    upper = np.ones(n)
    for (qi, _p), j in z.items():
        c[j] = -served_value(problem, reqs[qi])
    for (ei, p), j in onsite_days.items():
        c[j] = w.onsite_day
        upper[j] = workable[ei, p]
    for (ei, p, _lid), j in stops.items():
        c[j] = w.drive_minute * drive_of[j]
        upper[j] = workable[ei, p]
    for lid, j in short.items():
        c[j] = cov.penalty if cov is not None else 0
        upper[j] = floors[lid]

    rows = _Rows()
    _request_rows(z, y, rows)
    _expert_rows(problem, lp.exps, reqs, y, onsite_days, stops, drive_of, workable, rows)
    _place_rows(problem, reqs, y, dates_in, rows)
    if cov is not None:
        _coverage_rows(cov.modes, reqs, z, short, floors, rows)
    return LinearProgram.of(c, rows, upper)


def _coverage_rows(modes: Collection[str], reqs: Sequence[Request], z: _Z,
                   short: Mapping[str, int], floors: Mapping[str, int], rows: _Rows) -> None:
    """Each place's consultations of the counted modes plus its shortfall reach its floor."""
    counted: dict[str, list[int]] = defaultdict(list)
    for (qi, _p), j in z.items():
        if reqs[qi].mode in modes:
            counted[reqs[qi].location].append(j)
    for lid, sj in short.items():
        rows.ub([(sj, -1.0)] + [(j, -1.0) for j in counted.get(lid, [])], -float(floors[lid]),
                ("floor", lid))


def _request_rows(z: _Z, y: _Y, rows: _Rows) -> None:
    """A request served at most once; in the period it is served, each field taken by one
    expert; an expert takes at most one of a request's fields."""
    by_q: dict[int, list[int]] = defaultdict(list)
    for (qi, _p), j in z.items():
        by_q[qi].append(j)
    for qi, js in by_q.items():
        rows.ub([(j, 1.0) for j in js], 1.0, ("request", qi))
    slot: dict[tuple[int, Period, int], list[int]] = defaultdict(list)
    same_expert: dict[tuple[int, int, Period], list[int]] = defaultdict(list)
    for (qi, k, ei, p), j in y.items():
        slot[qi, p, k].append(j)
        same_expert[qi, ei, p].append(j)
    for (qi, p, _k), js in slot.items():
        rows.eq0([(j, 1.0) for j in js] + [(z[qi, p], -1.0)])
    for (qi, _ei, p), js in same_expert.items():
        if len(js) > 1:
            rows.ub([(j, 1.0) for j in js] + [(z[qi, p], -1.0)], 0.0)


def _expert_rows(problem: PlanRequest, exps: list[Expert], reqs: list[Request], y: _Y,
                 onsite_days: dict[tuple[int, Period], int],
                 stops: dict[tuple[int, Period, str], int], drive_of: dict[int, int],
                 workable: dict[tuple[int, Period], int], rows: _Rows) -> None:
    """Per expert and period: its consultations within its workable days' working minutes;
    the on-site visits within the daily cap, and with the drives within the working minutes
    and the daily drive of its on-site days; a stop paid for each request served there. Per
    expert: the total visits, the on-site days and each month's."""
    busy: dict[tuple[int, Period], list[tuple[int, float]]] = defaultdict(list)
    onsite: dict[tuple[int, Period], list[tuple[int, float]]] = defaultdict(list)
    at_stop: dict[tuple[int, Period, str], list[int]] = defaultdict(list)
    total: dict[int, list[int]] = defaultdict(list)
    for (qi, _k, ei, p), j in y.items():
        q = reqs[qi]
        busy[ei, p].append((j, float(q.duration_min)))
        if q.onsite:
            onsite[ei, p].append((j, float(q.duration_min)))
            total[ei].append(j)
            if (ei, p, q.location) in stops and drive_of[j] > 0:
                at_stop[ei, p, q.location].append(j)
    drives: dict[tuple[int, Period], list[tuple[int, float]]] = defaultdict(list)
    for (ei, p, lid), sj in stops.items():
        drives[ei, p].append((sj, float(drive_of[sj])))
        for j in at_stop[ei, p, lid]:
            rows.ub([(j, 1.0), (sj, -1.0)], 0.0)
    for (ei, p), entries in busy.items():
        e = exps[ei]
        day = float(e.day_end - e.work_start)
        rows.ub(entries + drives.get((ei, p), []), day * workable[ei, p])
        if (ei, p) not in onsite_days:
            continue
        od = onsite_days[ei, p]
        rows.ub(onsite[ei, p] + drives.get((ei, p), []) + [(od, -day)], 0.0)
        if e.max_visits_per_day is not None:
            rows.ub([(j, 1.0) for j, _m in onsite[ei, p]] + [(od, -float(e.max_visits_per_day))],
                    0.0)
        if e.max_drive_minutes_per_day is not None and drives.get((ei, p)):
            rows.ub(drives[ei, p] + [(od, -float(e.max_drive_minutes_per_day))], 0.0)
        for j, _m in onsite[ei, p]:
            rows.ub([(j, 1.0), (od, -1.0)], 0.0)        # a visit needs an on-site day
    for ei, js in total.items():
        e = exps[ei]
        if e.max_visits_total is not None:
            rows.ub([(j, 1.0) for j in js], float(e.max_visits_total), ("visits", ei))
    days_of: dict[int, list[tuple[Period, int]]] = defaultdict(list)
    for (ei, p), j in onsite_days.items():
        days_of[ei].append((p, j))
    for ei, pj in days_of.items():
        e = exps[ei]
        if e.max_onsite_days is not None:
            rows.ub([(j, 1.0) for _p, j in pj], float(e.max_onsite_days), ("days", ei))
        months: dict[str, list[int]] = defaultdict(list)
        for p, j in pj:
            months[p].append(j)
        for month, mj in months.items():
            cap = month_cap(e, month)
            if cap is not None:
                rows.ub([(j, 1.0) for j in mj], float(cap), ("month", ei, month))


def _place_rows(problem: PlanRequest, reqs: list[Request], y: _Y, dates_in: dict[Period, int],
                rows: _Rows) -> None:
    """Per place and period: at most its daily cap of on-site expert-visits on each date."""
    at: dict[tuple[str, Period], list[int]] = defaultdict(list)
    for (qi, _k, _ei, p), j in y.items():
        if reqs[qi].onsite:
            at[reqs[qi].location, p].append(j)
    for (lid, p), js in at.items():
        cap = problem.location_by_id[lid].max_visits_per_day
        if cap is not None:
            rows.ub([(j, 1.0) for j in js], float(cap * dates_in[p]))
