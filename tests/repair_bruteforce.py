"""An independent minimum-change reference for the repair, on tiny weeks of on-site visits.

Shares no code with the planner or the repair (nothing from ``solvers``, nothing of the event
reading): it takes the week after an event (``AfterEvent.week``: fixed history, blackouts,
part-day blackouts, closures, ``history_until``) and the previous plan, and enumerates, the
plain way:

1. for each request: left out, or one (date, expert) that is workable, within its dates and
   has the field — and where that is the previous visit's date and expert, also "kept at its
   previous start"; a fixed request only as fixed;
2. per expert and date, every order of the day's stops and, for each stop and each closed
   time it could meet, "ends before" or "starts after"; the earliest start of each stop in
   that order is then forced (a chain of lower bounds) and the day fits when each stays under
   its latest start and the drive home ends by the end of work.

Each choice costs by its largest change against the previous visit: dropped 8, another expert
4, another date 2, another start 1 (a choice "not kept" that happens to land on the old start
costs more than the "kept" one beside it, so the minimum is exact). Served priority counts an
urgent request above all others together, as the repair does.

Tiny means ≤ 5 single-field on-site requests, 1–2 experts, 1–2 dates, no caps beyond the
expert's daily visits.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

from engine.calendar import date_status
from engine.model import Plan, PlanRequest, Request
from engine.travel import TravelTimes

__all__ = ["fewest_changes"]

_WEIGHT = {"dropped": 8, "experts": 4, "date": 2, "time": 1}


def _closed(p: PlanRequest, q: Request, eid: str, d: dt.date) -> list[tuple[int, int]]:
    out = []
    for b in p.horizon.blackouts:
        if b.date == d and b.start is not None and b.end is not None and (
                "*" in b.experts or eid in b.experts):
            out.append((b.start, b.end))
    for c in p.horizon.closures:
        if c.date == d and c.location == q.location:
            out.append((c.start, c.end))
    return out


def _day_fits(p: PlanRequest, t: TravelTimes, eid: str, d: dt.date,
              stops: list[tuple[Request, int | None]]) -> bool:
    """Can ``eid`` make these stops on ``d`` (each with a forced start or None)?"""
    e = p.expert_by_id[eid]
    if e.max_visits_per_day is not None and len(stops) > e.max_visits_per_day:
        return False
    past = p.horizon.history_until
    now = past.hour * 60 + past.minute if past is not None and past.date() == d else None
    for order in itertools.permutations(stops):
        for sides in itertools.product(*[
                [None] if not _closed(p, q, eid, d)
                else list(itertools.product((0, 1), repeat=len(_closed(p, q, eid, d))))
                for q, _ in order]):
            here, clock, ok, drive = e.base, e.work_start, True, 0
            for (q, forced), side in zip(order, sides, strict=True):
                loc = p.location_by_id[q.location]
                leg = t.minutes(here, q.location)
                drive += leg
                lo = max(clock + leg, loc.open, q.window[0] if q.window else 0, e.work_start)
                hi = min(loc.close, q.window[1] if q.window else 24 * 60, e.work_end) \
                    - q.duration_min
                if now is not None and q.fixed is None:
                    lo = max(lo, now + leg)
                if side is not None:
                    for (a, b), after in zip(_closed(p, q, eid, d), side, strict=True):
                        if after:
                            lo = max(lo, b)
                        else:
                            hi = min(hi, a - q.duration_min)
                if forced is not None:
                    if not lo <= forced <= hi:
                        ok = False
                        break
                    lo = forced
                if lo > hi:
                    ok = False
                    break
                clock, here = lo + q.duration_min, q.location
            if not ok:
                continue
            drive += t.minutes(here, e.base)
            if clock + t.minutes(here, e.base) > e.work_end:
                continue
            if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
                continue
            return True
    return False


def fewest_changes(week: PlanRequest, previous: Plan, urgent: str | None = None
                   ) -> tuple[int, int] | None:
    """(most served priority, fewest weighted changes at it) over every valid plan of
    ``week``, or None when none keeps every fixed visit."""
    t = TravelTimes(week)
    before = {v.request: v for v in previous.visits}
    total = sum(q.priority for q in week.requests)
    weight = {q.id: q.priority + (total if q.id == urgent else 0) for q in week.requests}
    options: dict[str, list[tuple[dt.date, str, int | None, int, int]]] = {}
    for q in week.requests:
        assert q.onsite and len(q.fields) == 1, "tiny repair instances are single on-site"
        old = before.get(q.id)
        opts: list[tuple[dt.date, str, int | None, int, int]] = []
        if q.fixed is not None:
            opts.append((q.fixed.date, q.fixed.experts[0], q.fixed.start, weight[q.id], 0))
        else:
            opts.append((q.earliest, "", None, 0, _WEIGHT["dropped"] if old else 0))
            for e in week.experts:
                if q.fields[0] not in e.fields:
                    continue
                for d in week.horizon.dates:
                    if not q.earliest <= d <= q.latest or not date_status(
                            week.horizon, e, d).workable:
                        continue
                    past = week.horizon.history_until
                    if past is not None and d < past.date():
                        continue        # nothing new in the past
                    if old is None:
                        cost = 0
                    elif old.experts != (e.id,):
                        cost = _WEIGHT["experts"]
                    elif old.date != d:
                        cost = _WEIGHT["date"]
                    else:
                        cost = _WEIGHT["time"]
                        opts.append((d, e.id, old.start, weight[q.id], 0))
                    opts.append((d, e.id, None, weight[q.id], cost))
        options[q.id] = opts
    best: tuple[int, int] | None = None
    ids = [q.id for q in week.requests]
    for combo in itertools.product(*(options[r] for r in ids)):
        served = sum(c[3] for c in combo)
        cost = sum(c[4] for c in combo)
        if best is not None and (served, -cost) <= (best[0], -best[1]):
            continue
        days: dict[tuple[str, dt.date], list[tuple[Request, int | None]]] = defaultdict(list)
        for rid, (d, eid, start, _, _) in zip(ids, combo, strict=True):
            if eid:
                days[eid, d].append((week.request_by_id[rid], start))
        if all(_day_fits(week, t, eid, d, stops) for (eid, d), stops in days.items()):
            best = (served, cost)
    return best
