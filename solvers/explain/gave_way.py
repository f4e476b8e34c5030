"""Why a request that could be served alone was left out of a plan: for each of its options,
the cap that is full (which, with what) or the visits that take the expert's day; then
whether it gave way to visits of equal or higher priority, or to a combination."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.calendar import day_places
from engine.kpis import served_value
from engine.model import PlanRequest, Request, Route, Unscheduled, Visit
from engine.travel import TravelTimes
from engine.words import counted
from solvers.explain.windows import Option
from solvers.explain.words import Names, month_day

__all__ = ["PlanState", "left_out"]


@dataclass
class PlanState:
    """A plan seen as the reasons need it: its visits per request and per expert-day, the
    on-site counts, the on-site days and each route's driving."""

    by_req: dict[str, Visit]
    onsite_by_ed: dict[tuple[str, dt.date], list[Visit]]
    all_by_ed: dict[tuple[str, dt.date], list[Visit]]
    onsite_total: dict[str, int]
    loc_day: dict[tuple[str, dt.date], int]
    onsite_days: dict[str, list[dt.date]]
    drive: dict[tuple[str, dt.date], int]

    @classmethod
    def of(cls, visits: Iterable[Visit], routes: Iterable[Route]) -> PlanState:
        visits = list(visits)
        st = cls({v.request: v for v in visits}, defaultdict(list), defaultdict(list),
                 defaultdict(int), defaultdict(int), defaultdict(list), {})
        for v in visits:
            for eid in v.experts:
                st.all_by_ed[eid, v.date].append(v)
                if v.mode == "onsite":
                    st.onsite_by_ed[eid, v.date].append(v)
                    st.onsite_total[eid] += 1
                    st.loc_day[v.location, v.date] += 1
        for r in routes:
            st.onsite_days[r.expert].append(r.date)
            st.drive[r.expert, r.date] = r.drive_minutes
        return st


@dataclass
class Reasons:
    """The reasons of one request, in English and Japanese with their codes, each said once
    (by key), and the visits that stand in its way."""

    en: list[str] = field(default_factory=list)
    ja: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    blockers: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    def add(self, key: str, en: str, ja: str, code: str) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self.en.append(en)
            self.ja.append(ja)
            self.codes.append(code)


def left_out(p: PlanRequest, travel: TravelTimes, names: Names,
             options: list[Option], q: Request, plan: PlanState) -> Unscheduled:
    """The reasons of one request left out of ``plan``: for each of its options, the cap
    that is full or the visits that take the day; then whether it gave way to visits of
    equal or higher priority, or to a combination."""
    late = _too_late(p, q, options) or _too_much_overtime(p, travel, names, q, options)
    if late is not None:
        return late
    why = Reasons()
    for o in options:
        if q.onsite and _cap_full(p, travel, names, q, o, plan, why):
            continue
        e = p.expert_by_id[o.expert]
        d = o.date
        taken = sorted(plan.all_by_ed[e.id, d], key=lambda v: v.start)
        why.blockers.update(v.request for v in taken)
        if taken:
            busy_en = ", ".join(names.visit(v, "en") for v in taken)
            busy_ja = "、".join(names.visit(v, "ja") for v in taken)
            why.add(f"busy{e.id}{d}",
                    f"{names.who(e.id)}'s {month_day(d)} has no room for it beside {busy_en}",
                    f"{names.who(e.id)} の {month_day(d)} は {busy_ja} で埋まっています",
                    "expert_day_taken")
    _head(p, names, q, plan, why)
    return Unscheduled(q.id, tuple(why.en[:6]), tuple(why.ja[:6]), tuple(why.codes[:6]))


def _too_late(p: PlanRequest, q: Request, options: list[Option]) -> Unscheduled | None:
    """The reason when every date that could serve ``q`` falls so long after its due date
    that the days late (``objective.late_day`` each) cost at least what serving it earns."""
    worth = served_value(p, q)
    w = p.objective.late_day
    if not w or q.due is None or not options or any(
            w * q.days_late(o.date) < worth for o in options):
        return None
    first = min(o.date for o in options)
    n = q.days_late(first)
    return Unscheduled(q.id, (
        f"every date it could be served falls after its due date {month_day(q.due)}: the "
        f"earliest, {month_day(first)}, is {counted(n, 'day')} late, and at {w} a day late that costs "
        f"more than serving it earns ({worth})",), (
        f"対応できる日はすべて期限 {month_day(q.due)} より後です: 最も早い {month_day(first)} でも "
        f"{n} 日遅れで、1 日 {w} の遅延費用が対応の価値（{worth}）以上になります",), ("late_cost",))


def _too_much_overtime(p: PlanRequest, travel: TravelTimes, names: Names, q: Request,
                       options: list[Option]) -> Unscheduled | None:
    """The reason when every start that could serve ``q`` ends an expert's day so long after
    their ``work_end`` (at its earliest start, back at the base after an on-site visit) that
    the overtime (``overtime.minute_cost`` a minute) costs at least what serving it earns —
    and, for an expert who may stay away (``experts[].overnight``), so does ending the day at
    the place of a night instead (its ``night_cost`` and what overtime remains), said too."""
    worth = served_value(p, q)
    home: list[tuple[int, int]] = []            # (overtime cost, minutes past work_end)
    away: list[tuple[int, int, str]] = []       # (night and overtime cost, minutes, place)
    for o in options:
        e = p.expert_by_id[o.expert]
        if e.overtime is None:
            return None
        end = o.lo + q.duration_min
        back = travel.shortest(q.location, e.base) if q.onsite else 0
        home.append((e.overtime_cost(end + back), end + back - e.work_end))
        night = e.overnight.night_cost if e.overnight is not None else 0
        for x in day_places(p, e, o.date)[1][1:] if q.onsite else ():
            there = end + travel.shortest(q.location, x)
            if there <= e.day_end:
                away.append((night + e.overtime_cost(there), max(0, there - e.work_end), x))
    least = min([c for c, _ in home] + [c for c, _, _ in away], default=None)
    if least is None or least < worth:
        return None
    cost, minutes = min(home)
    en = (f"it could only be served late in the day: at the earliest the expert's day would "
          f"end {minutes} min after work ends, and that overtime ({cost}) costs at least what "
          f"serving it earns ({worth})")
    ja = (f"遅い時間にしか対応できません: 最も早くても勤務終了の {minutes} 分後に一日が終わり、"
          f"その残業の費用（{cost}）が対応の価値（{worth}）以上になります")
    if away:
        c, m, x = min(away)
        en += (f"; ending the day away instead, a night in {names.loc(x)} costs {c}"
               + (f" (with {m} min of overtime)" if m else "") + ", no less")
        ja += (f"。代わりに{names.loc(x, 'ja')}に宿泊しても費用は {c}"
               + (f"（残業 {m} 分を含む）" if m else "") + " で、対応の価値以上です")
    return Unscheduled(q.id, (en,), (ja,), ("overtime_cost",))


def _cap_full(p: PlanRequest, travel: TravelTimes, names: Names, q: Request, o: Option,
              plan: PlanState, why: Reasons) -> bool:
    """Whether a cap of the on-site option ``o`` is full in ``plan`` (said in ``why``): the
    expert's contracted days, that month's days, visits in the period, visits that day,
    the place's visits that day, or the day's driving."""
    e = p.expert_by_id[o.expert]
    d = o.date
    days = plan.onsite_days[e.id]
    if e.max_onsite_days is not None and d not in days and len(days) >= e.max_onsite_days:
        used = ", ".join(month_day(x) for x in sorted(days))
        why.add(f"days{e.id}",
                f"{names.who(e.id)}'s contracted on-site days ({e.max_onsite_days}) "
                f"are all used ({used})",
                f"{names.who(e.id)} の訪問契約日数（{e.max_onsite_days} 日）はすべて使われています（{used}）",
                "expert_days_full")
        return True
    month = [x for x in days if (x.year, x.month) == (d.year, d.month)]
    month_cap = e.month_cap(d.year, d.month)
    if month_cap is not None and d not in days and len(month) >= month_cap:
        used = ", ".join(month_day(x) for x in sorted(month))
        why.add(f"month{e.id}{d.year}{d.month}",
                f"{names.who(e.id)}'s contracted on-site days for {d:%B %Y} "
                f"({month_cap}) are all used ({used})",
                f"{names.who(e.id)} の {d.year}年{d.month}月の訪問契約日数"
                f"（{month_cap} 日）はすべて使われています（{used}）",
                "expert_month_full")
        return True
    if e.max_visits_total is not None and plan.onsite_total[e.id] >= e.max_visits_total:
        why.add(f"total{e.id}",
                f"{names.who(e.id)}'s {e.max_visits_total} on-site visits for the "
                "period are all planned",
                f"{names.who(e.id)} の期間中の訪問上限 {e.max_visits_total} 件はすべて計画済みです",
                "expert_total_full")
        return True
    n_day = len(plan.onsite_by_ed[e.id, d])
    if e.max_visits_per_day is not None and n_day >= e.max_visits_per_day:
        why.add(f"day{e.id}{d}",
                f"{names.who(e.id)} already makes {n_day} on-site visits on {month_day(d)} "
                "(daily cap)",
                f"{names.who(e.id)} は {month_day(d)} にすでに {n_day} 件訪問します（1日の上限）",
                "expert_day_full")
        why.blockers.update(v.request for v in plan.onsite_by_ed[e.id, d])
        return True
    loc = p.location_by_id[q.location]
    cap = loc.cap_on(d)
    # (visits outside a sub-problem count: what the whole plan makes there that day)
    hosted = plan.loc_day[loc.id, d] + (
        0 if cap is None or loc.max_visits_per_day is None else loc.max_visits_per_day - cap)
    if cap is not None and plan.loc_day[loc.id, d] >= cap:
        why.add(f"loc{d}",
                f"{loc.label} already hosts {hosted} expert-visits on "
                f"{month_day(d)} (its daily cap)",
                f"{loc.name} は {month_day(d)} にすでに {hosted} 件の訪問を受けます"
                "（1日の上限）", "location_day_full")
        return True
    if e.max_drive_minutes_per_day is not None and (e.id, d) in plan.drive:
        extra = _cheapest_insertion(travel, e.base, plan.onsite_by_ed[e.id, d], q.location)
        if plan.drive[e.id, d] + extra > e.max_drive_minutes_per_day:
            why.add(f"drive{e.id}{d}",
                    f"adding it to {names.who(e.id)}'s {month_day(d)} route would need about "
                    f"{plan.drive[e.id, d] + extra} min of driving, above the cap of "
                    f"{e.max_drive_minutes_per_day}",
                    f"{names.who(e.id)} の {month_day(d)} の行程に加えると運転が約 "
                    f"{plan.drive[e.id, d] + extra} 分となり上限 {e.max_drive_minutes_per_day}"
                    " 分を超えます", "drive_cap_full")
            return True
    return False


def _head(p: PlanRequest, names: Names, q: Request, plan: PlanState, why: Reasons) -> None:
    """The first reason: it gave way to visits of equal or higher priority (named), or it
    fits alone but not in the best total, or serving it needs a costlier combination."""
    prio = p.request_by_id
    higher = sorted((b for b in why.blockers if prio[b].priority >= q.priority),
                    key=lambda b: (-prio[b].priority, b))
    if higher:
        head_en = ("gave way to visits of equal or higher priority: "
                   + ", ".join(names.visit(plan.by_req[b], "en") for b in higher[:6])
                   + (" …" if len(higher) > 6 else ""))
        head_ja = ("優先度が同じか高い訪問を優先しました: "
                   + "、".join(names.visit(plan.by_req[b], "ja") for b in higher[:6])
                   + (" …" if len(higher) > 6 else ""))
        why.en.insert(0, head_en)
        why.ja.insert(0, head_ja)
        why.codes.insert(0, "gave_way")
    elif not why.en:
        why.en.append("it could be served alone, but not together with the plan's visits "
                      "at a better total (priorities first, then driving)")
        why.ja.append("単独なら対応できますが、計画全体（優先度の合計、次に運転時間）を"
                      "より良くする組み合わせに入りませんでした")
        why.codes.append("gave_way")
    elif why.blockers:
        why.en.insert(0, "serving it would mean dropping or moving lower-priority visits "
                      "that together are worth more, or more driving")
        why.ja.insert(0, "対応すると、合計でより価値のある他の訪問を外すか、運転が増えます")
        why.codes.insert(0, "gave_way_combination")


def _cheapest_insertion(travel: TravelTimes, base: str, day: list[Visit], loc: str) -> int:
    """The fewest driving minutes that adding a stop at ``loc`` to the day's route adds."""
    path = [base] + [v.location for v in sorted(day, key=lambda v: v.start)] + [base]
    t = travel.minutes
    return min(t(a, loc) + t(loc, b) - t(a, b) for a, b in zip(path, path[1:], strict=False))
