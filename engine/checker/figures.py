"""The checker's rules on the figures a plan reports: its key figures, its objective and
bound, its coverage against the floors."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, violation
from engine.kpis import night_costs, plan_kpis
from engine.words import counted

__all__ = ["coverage_reported", "kpis_consistent", "objective_matches_formula"]


def kpis_consistent(c: Context) -> Iterable[Violation]:
    """The key figures the plan reports are those of its visits and routes (engine.kpis);
    a figure the plan does not report is not checked, ``moved`` needs last week's plan."""
    want = plan_kpis(c.p, c.plan)
    for key, value in c.plan.kpis.items():
        if key in want and value != want[key]:
            yield violation(c, "kpis", f"the plan reports {key} {value}, its visits and routes "
                            f"give {want[key]}", f"計画の {key} は {value} ですが、訪問とルートから"
                            f"計算すると {want[key]} です")


def objective_matches_formula(c: Context) -> Iterable[Violation]:
    """For a plan with a result (optimal or feasible, or infeasible with the fixed visits it
    released), ``objective`` is FORMAT.md's formula on the plan: priority × Σ priority served −
    drive_minute × Σ drive minutes − onsite_day × expert-dates on site − late_day × Σ calendar
    days each visit falls after its request's due date − Σ overtime minute_cost × minutes
    each expert-day ends past work_end (``_overtime``) − the nights' costs; ``bound`` is at
    least
    the objective, and equal to it when optimal."""
    if c.plan.status not in ("optimal", "feasible") and (
            c.plan.status != "infeasible" or c.plan.objective is None):
        return
    w = c.p.objective
    served = sum(c.p.request_by_id[v.request].priority for v in c.visits)
    drive = 0
    for eid, day, stops in c.day_stops():
        drive += sum(c.legs(eid, stops, day))
    ndays = sum(1 for _ in c.onsite_days())     # appointments alone make no on-site day
    value = w.priority * served - w.drive_minute * drive - w.onsite_day * ndays
    goals, goals_ja = "", ""
    nights = night_costs(c.p, c.plan.routes)
    if nights:
        value -= nights
        goals += f" − {nights} for nights away"
        goals_ja += f" − {nights}（宿泊）"
    late = sum((v.date - due).days for v in c.visits
               if (due := c.p.request_by_id[v.request].due) is not None and v.date > due)
    if w.late_day:
        value -= w.late_day * late
        goals += f" − {w.late_day} × {counted(late, 'day')} late"
        goals_ja += f" − {w.late_day} × {late}（遅れ日数）"
    paid = _overtime(c)
    if paid:
        value -= paid
        goals += f" − {paid} overtime"
        goals_ja += f" − {paid}（時間外）"
    small = c.p.goals.small_towns
    if small is not None:
        in_towns = sum(c.p.request_by_id[v.request].priority for v in c.visits
                       if small.includes(c.p.location_by_id[v.location]))
        value += small.bonus * in_towns
        goals += f" + {small.bonus} × {in_towns}"
        goals_ja += f" + {small.bonus} × {in_towns}"
    short = sum(_shortfalls(c).values())
    if c.p.goals.coverage is not None:
        value -= c.p.goals.coverage.penalty * short
        goals += f" − {c.p.goals.coverage.penalty} × {short}"
        goals_ja += f" − {c.p.goals.coverage.penalty} × {short}"
    if c.plan.objective is None or c.plan.objective != value:
        formula = f"{w.priority} × {served} − {w.drive_minute} × {drive} − {w.onsite_day} × {ndays}"
        yield violation(c, "objective", f"plan score {c.plan.objective}, the formula on the plan "
                        f"gives {value} ({formula}{goals})", f"計画のスコアは {c.plan.objective} "
                        f"ですが、計画から式で計算すると {value} です（{formula}{goals_ja}）")
    yield from _bound(c)


def _bound(c: Context) -> Iterable[Violation]:
    """The bound of a plan with a result: there, at least the objective, equal when optimal."""
    bound, objective = c.plan.bound, c.plan.objective
    if bound is None or objective is None:
        yield violation(c, "bound", "a plan with a result needs a bound",
                        "結果のある計画には上限値（bound）が必要です")
    elif bound < objective:
        yield violation(c, "bound", f"bound {bound} is below the plan score {objective}",
                        f"上限値 {bound} が計画のスコア {objective} を下回っています")
    elif c.plan.status == "optimal" and bound != objective:
        yield violation(c, "bound", f"status optimal but bound {bound} ≠ plan score {objective}",
                        f"最適解なのに上限値 {bound} が計画のスコア {objective} と異なります")


def _overtime(c: Context) -> int:
    """What the plan's overtime costs: for each expert with ``overtime`` and each date with
    a consultation of theirs or a drive (to a standing appointment at a place), ``minute_cost``
    × the minutes the day ends past ``work_end``, the day ending when its last consultation
    (online too) or its drive home ends (the route's ``return``; without a route, the last
    stop's end plus the drive home)."""
    ends: dict[tuple[str, dt.date], int] = {}
    for v in c.visits:
        for eid in v.experts:
            ends[eid, v.date] = max(ends.get((eid, v.date), 0), v.end)
    back = {(r.expert, r.date): r.return_ for r in c.plan.routes}
    for eid, day, stops in c.day_stops():       # a day that drives: its drive home too
        if (eid, day) in back:
            home = back[eid, day]
        elif stops:         # (home: where the day ends, the base unless a night away)
            home = stops[-1].end + c.t.minutes(stops[-1].location, c.ends(eid, day)[1])
        else:
            continue
        ends[eid, day] = max(ends.get((eid, day), 0), home)
    paid = 0
    for (eid, _day), end in ends.items():
        e = c.p.expert_by_id.get(eid)
        if e is not None and e.overtime is not None and end > e.work_end:
            paid += e.overtime.minute_cost * (end - e.work_end)
    return paid


def _shortfalls(c: Context) -> dict[str, int]:
    """Consultations each location with a coverage floor misses (counted modes only)."""
    cov = c.p.goals.coverage
    if cov is None:
        return {}
    seen: dict[str, int] = defaultdict(int)
    for v in c.visits:
        if v.mode in cov.modes:
            seen[v.location] += 1
    return {lid: max(0, floor - seen[lid]) for lid, floor in cov.floors(c.p).items()}


def coverage_reported(c: Context) -> Iterable[Violation]:
    """Where the plan reports coverage against the floors (``goals.coverage``), the figures are
    those of its visits, every location with a floor is there, and each one left short says
    why."""
    if not c.plan.coverage:
        return
    cov = c.p.goals.coverage
    floors = cov.floors(c.p) if cov is not None else {}
    seen: dict[str, int] = defaultdict(int)
    for v in c.visits:
        if cov is not None and v.mode in cov.modes:
            seen[v.location] += 1
    listed = {x.location: x for x in c.plan.coverage}
    for lid in floors:
        if lid not in listed:
            yield violation(c, "coverage", f"{c.place(lid, 'en')} has a floor of "
                            f"{counted(floors[lid], 'visit')} but is not reported",
                            f"{c.place(lid, 'ja')}には最低 {floors[lid]} 件の目標がありますが、"
                            "報告されていません")
    for x in c.plan.coverage:
        en, ja = c.place(x.location, "en"), c.place(x.location, "ja")
        if x.location not in floors:
            yield violation(c, "coverage", f"{en} is reported but has no floor",
                            f"{ja}が報告されていますが、最低件数の目標がありません")
            continue
        want = (seen[x.location], floors[x.location],
                max(0, floors[x.location] - seen[x.location]))
        if (x.visits, x.min_visits, x.shortfall) != want:
            yield violation(c, "coverage", f"{en}: reported {counted(x.visits, 'visit')}, floor "
                            f"{x.min_visits}, short {x.shortfall}; the plan gives "
                            f"{counted(want[0], 'visit')}, floor {want[1]}, short {want[2]}",
                            f"{ja}: 報告は {x.visits} 件・目標 {x.min_visits} 件・不足 "
                            f"{x.shortfall} 件ですが、計画では {want[0]} 件・目標 {want[1]} 件・"
                            f"不足 {want[2]} 件です")
        if x.shortfall and not any(r.strip() for r in x.reasons):
            yield violation(c, "coverage", f"{en} is short of its floor without a reason",
                            f"{ja}は目標に届いていませんが、理由がありません")
