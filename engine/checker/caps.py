"""The checker's rules on caps: each expert's visits, driving and on-site days, each
municipality's daily visits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, violation
from engine.words import counted

__all__ = ["expert_caps", "location_caps"]


def expert_caps(c: Context) -> Iterable[Violation]:
    """Each expert stays within their caps: on-site visits per day and in total, driving
    minutes per day (legs start → stops → end, the base unless the day follows or
    precedes a night away) and the number of dates with an on-site visit,
    in the horizon and in each calendar month."""
    total: dict[str, int] = defaultdict(int)
    days: dict[str, int] = defaultdict(int)
    drives = {(eid, day) for eid, day, _ in c.day_stops()}
    for eid, day in sorted(drives - {(eid, day) for eid, day, _ in c.onsite_days()}):
        e = c.p.expert_by_id[eid]
        drive = sum(c.legs(eid, c.stops(eid, day), day))
        if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
            most = e.max_drive_minutes_per_day
            yield violation(c, "cap_drive", f"{drive} min of driving without a visit, cap {most}",
                            f"訪問のない日の運転が {drive} 分です（上限 {most} 分）",
                            expert=eid, date=day)
    for eid, day, stops in c.onsite_days():
        e = c.p.expert_by_id[eid]
        total[eid] += len(stops)
        days[eid] += bool(stops)
        if e.max_visits_per_day is not None and len(stops) > e.max_visits_per_day:
            yield violation(c, "cap_expert_day", f"{counted(len(stops), 'on-site visit')}, cap "
                            f"{e.max_visits_per_day}", f"現地訪問が {len(stops)} 件です（上限 "
                            f"{e.max_visits_per_day} 件）", expert=eid, date=day)
        drive = sum(c.legs(eid, c.stops(eid, day), day))
        if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
            most = e.max_drive_minutes_per_day
            yield violation(c, "cap_drive", f"{drive} min of driving, cap {most}",
                            f"運転が {drive} 分です（上限 {most} 分）", expert=eid, date=day)
    months: dict[tuple[str, int, int], int] = defaultdict(int)
    for eid, day, _stops in c.onsite_days():
        months[eid, day.year, day.month] += 1
    for (eid, y, m), n in sorted(months.items()):
        cap = c.p.expert_by_id[eid].month_cap(y, m)
        if cap is not None and n > cap:
            yield violation(c, "cap_onsite_days_month", f"on-site on {counted(n, 'date')} in "
                            f"{dt.date(y, m, 1):%B %Y}, cap {cap}",
                            f"{y}年{m}月の現地訪問日が {n} 日です（上限 {cap} 日）", expert=eid)
    for e in c.p.experts:
        if e.max_visits_total is not None and total[e.id] > e.max_visits_total:
            yield violation(c, "cap_expert_total", f"{counted(total[e.id], 'on-site visit')}, "
                            f"cap {e.max_visits_total}", f"現地訪問が {total[e.id]} 件です（上限 "
                            f"{e.max_visits_total} 件）", expert=e.id)
        if e.max_onsite_days is not None and days[e.id] > e.max_onsite_days:
            yield violation(c, "cap_onsite_days", f"on-site on {counted(days[e.id], 'date')}, "
                            f"cap {e.max_onsite_days}", f"現地訪問日が {days[e.id]} 日です（上限 "
                            f"{e.max_onsite_days} 日）", expert=e.id)


def location_caps(c: Context) -> Iterable[Violation]:
    """A municipality hosts at most its daily number of on-site expert-visits, a joint visit
    of two experts counting as two."""
    count: dict[tuple[str, dt.date], int] = defaultdict(int)
    for v in c.visits:
        if v.mode == "onsite":
            count[v.location, v.date] += len(v.experts)
    for (lid, day), n in sorted(count.items()):
        loc = c.p.location_by_id.get(lid)
        cap = None if loc is None else loc.cap_on(day)
        if cap is not None and n > cap:
            yield violation(c, "cap_location_day", f"{c.place(lid, 'en')} hosts "
                            f"{counted(n, 'expert-visit')}, cap {cap}",
                            f"{c.place(lid, 'ja')}への専門家の訪問が {n} 件です（上限 {cap} 件）",
                            date=day)
