"""The checker's rules on an expert's day: one thing at a time, time to drive between stops
and from and to the base, drives free of online calls, routes that are the day's visits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import Visit, fmt_time
from engine.words import counted

__all__ = ["day_starts_and_ends_at_base", "legs_driven_between_stops", "one_thing_at_a_time", "routes_agree_with_visits", "travel_between_stops"]


def one_thing_at_a_time(c: Context) -> Iterable[Violation]:
    """No expert is in two consultations at once (on-site or online, any mix)."""
    for (eid, day), vs in sorted(c.by_expert_date.items()):
        for i, b in enumerate(vs):
            for a in vs[:i]:
                if b.start < a.end:
                    yield violation(c, "double_booking", f"{c.req(a.request, 'en')} {span(a)} "
                                    f"overlaps {c.req(b.request, 'en')} {span(b)}",
                                    f"{c.req(a.request, 'ja')} {span(a)} と "
                                    f"{c.req(b.request, 'ja')} {span(b)} が重なっています",
                                    b.request, eid, day)


def _free_block(lo: int, hi: int, busy: list[tuple[int, int]]) -> int:
    """Longest stretch of minutes in [lo, hi] not covered by any ``busy`` interval."""
    best, cur = 0, lo
    for s, e in sorted(busy):
        if e <= cur or s >= hi:
            continue
        best = max(best, min(s, hi) - cur)
        cur = max(cur, e)
    return max(best, hi - cur)


def travel_between_stops(c: Context) -> Iterable[Violation]:
    """Between two consecutive on-site stops the expert has at least the driving minutes, and
    those minutes are one stretch free of online consultations (nobody consults while driving)."""
    for eid, day, stops in c.day_stops():
        busy = [(v.start, v.end) for v in c.online(eid, day)]
        for a, b in zip(stops, stops[1:], strict=False):
            need = c.t.minutes(a.location, b.location)
            if b.start - a.end < need:
                yield violation(
                    c, "travel_between_stops",
                    f"{c.stop(a, 'en')} ends {fmt_time(a.end)} and {c.stop(b, 'en')} starts "
                    f"{fmt_time(b.start)}: {b.start - a.end} min for the {need}-min drive from "
                    f"{c.place(a.location, 'en')} to {c.place(b.location, 'en')}",
                    f"{c.stop(a, 'ja')} の終了 {fmt_time(a.end)} から {c.stop(b, 'ja')} の開始 "
                    f"{fmt_time(b.start)} まで {b.start - a.end} 分しかなく、"
                    f"{c.place(a.location, 'ja')}から{c.place(b.location, 'ja')}への移動 {need} 分"
                    "に足りません", b.request, eid, day)
            elif need and _free_block(a.end, b.start, busy) < need:
                yield violation(
                    c, "online_while_driving",
                    f"online consultations between {c.stop(a, 'en')} and {c.stop(b, 'en')} "
                    f"leave no {need}-min stretch to drive",
                    f"{c.stop(a, 'ja')} と {c.stop(b, 'ja')} の間のオンライン相談のため、"
                    f"移動に必要な連続 {need} 分がありません", b.request, eid, day)


def day_starts_and_ends_at_base(c: Context) -> Iterable[Violation]:
    """Each on-site day leaves the base (or the place of last night) no earlier than work
    starts and is back at the base (or at the place of the night) no later than work ends,
    with time to drive out to the first stop and on from the last, and no online consultation
    during those drives: leave ≥ work_start, leave + drive to first ≤ its start, last end +
    drive on ≤ return ≤ work_end (+ ``overtime.max_minutes``: ``day_end``). (A day away
    without stops: ``nights_away_kept``.)"""
    for eid, day, stops in c.day_stops():
        if not stops:
            continue
        start_at, end_at = c.ends(eid, day)
        out = c.t.minutes(start_at, stops[0].location)
        back = c.t.minutes(stops[-1].location, end_at)
        yield from _drives_out_and_home(c, eid, day, stops, out, back)
        if (eid, day) in c.route_of:
            yield from _route_hours(c, eid, day, stops, out, back)


def _drives_out_and_home(c: Context, eid: str, day: dt.date, stops: list[Visit], out: int,
                         back: int) -> Iterable[Violation]:
    """The drive out to the first stop and on from the last fit the working day and no online
    consultation falls in them."""
    e = c.p.expert_by_id[eid]
    first, last = stops[0], stops[-1]
    busy = [(v.start, v.end) for v in c.online(eid, day)]
    to, home = (c.place(first.location, "en"), c.place(first.location, "ja")), (
        c.place(last.location, "en"), c.place(last.location, "ja"))
    if first.start - out < e.work_start:
        yield violation(c, "working_hours", f"the drive to {to[0]} ({out} min) for "
                        f"{fmt_time(first.start)} means leaving before work starts "
                        f"{fmt_time(e.work_start)}", f"{fmt_time(first.start)} に{to[1]}へ着くには"
                        f"（移動 {out} 分）勤務開始 {fmt_time(e.work_start)} より前に出発することに"
                        "なります", first.request, eid, day)
    elif out and _free_block(e.work_start, first.start, busy) < out:
        yield violation(c, "online_while_driving", f"online consultations leave no {out}-min "
                        f"stretch to drive to {to[0]}", f"オンライン相談のため、{to[1]}への移動に"
                        f"必要な連続 {out} 分がありません", first.request, eid, day)
    if last.end + back > e.day_end:
        yield violation(c, "working_hours", f"the drive home from {home[0]} ({back} min) after "
                        f"{fmt_time(last.end)} ends after work ends {fmt_time(e.day_end)}",
                        f"{fmt_time(last.end)} 以降の{home[1]}からの帰りの移動（{back} 分）が"
                        f"勤務終了 {fmt_time(e.day_end)} を過ぎます", last.request, eid, day)
    elif back and _free_block(last.end, e.day_end, busy) < back:
        yield violation(c, "online_while_driving", f"online consultations leave no {back}-min "
                        f"stretch to drive home from {home[0]}", f"オンライン相談のため、"
                        f"{home[1]}からの帰りの移動に必要な連続 {back} 分がありません",
                        last.request, eid, day)


def _route_hours(c: Context, eid: str, day: dt.date, stops: list[Visit], out: int,
                 back: int) -> Iterable[Violation]:
    """The route's ``leave`` and ``return`` agree with the working day, the first and last
    stops and the drives out and home, and no online consultation falls in those drives."""
    e = c.p.expert_by_id[eid]
    r = c.route_of[eid, day]
    first, last = stops[0], stops[-1]
    leave, ret, start, end = (fmt_time(r.leave), fmt_time(r.return_), fmt_time(e.work_start),
                              fmt_time(e.day_end))
    if r.leave < e.work_start:
        yield violation(c, "route_hours", f"leaves {leave}, before work starts {start}",
                        f"出発 {leave} が勤務開始 {start} より前です", expert=eid, date=day)
    if r.leave + out > first.start:
        yield violation(c, "route_hours", f"leaves {leave} and needs {out} min to reach "
                        f"{c.place(first.location, 'en')} for {fmt_time(first.start)}",
                        f"{leave} に出発すると、{fmt_time(first.start)} に"
                        f"{c.place(first.location, 'ja')}へ着くのに必要な {out} 分がありません",
                        first.request, eid, day)
    if r.return_ < last.end + back:
        yield violation(c, "route_hours", f"back {ret}, but {c.stop(last, 'en')} ends "
                        f"{fmt_time(last.end)} and the drive home takes {back} min",
                        f"帰着が {ret} ですが、{c.stop(last, 'ja')} の終了が {fmt_time(last.end)}"
                        f"で帰りの移動に {back} 分かかります", last.request, eid, day)
    if r.return_ > e.day_end:
        yield violation(c, "route_hours", f"back {ret}, after work ends {end}",
                        f"帰着 {ret} が勤務終了 {end} より後です", expert=eid, date=day)
    for v in c.online(eid, day):
        for s, t, what in ((r.leave, r.leave + out, ("out", "行き")),
                           (r.return_ - back, r.return_, ("home", "帰り"))):
            if t > s and v.start < t and s < v.end:
                drive = f"{fmt_time(s)}–{fmt_time(t)}"
                yield violation(c, "online_while_driving", f"online {c.req(v.request, 'en')} "
                                f"{span(v)} falls in the route's drive {what[0]} {drive}",
                                f"オンライン {c.req(v.request, 'ja')} {span(v)} が{what[1]}の"
                                f"移動 {drive} の最中です", v.request, eid, day)


def legs_driven_between_stops(c: Context) -> Iterable[Violation]:
    """Where a route says when each leg is driven (``departures``), the drives are real: one
    per leg, each leaves after the stop before it ends (the first after work starts) and
    arrives by the start of the stop after it (home by the end of work), no online consultation
    falls inside a drive, the route leaves with the first and is back when the last arrives."""
    days = {(eid, day): stops for eid, day, stops in c.day_stops()}
    for r in c.plan.routes:
        stops = days.get((r.expert, r.date))
        if not r.departures or stops is None or r.expert not in c.p.expert_by_id:
            continue
        e = c.p.expert_by_id[r.expert]
        legs = c.legs(r.expert, stops, r.date)
        if len(r.departures) != len(legs):
            yield violation(c, "legs", f"{counted(len(r.departures), 'leg departure')} for "
                            f"{counted(len(legs), 'leg')}", f"{len(legs)} 区間の移動に出発時刻が "
                            f"{len(r.departures)} 件あります", expert=r.expert, date=r.date)
            continue
        online = c.online(r.expert, r.date)
        for i, (dep, t) in enumerate(zip(r.departures, legs, strict=True)):
            after = e.work_start if i == 0 else stops[i - 1].end
            by = stops[i].start if i < len(stops) else e.day_end
            what = (f"leg {i + 1} ({fmt_time(dep)}, {t} min)",
                    f"{i + 1} 区間目の移動（{fmt_time(dep)} 発、{t} 分）")
            if dep < after:
                yield violation(c, "legs", f"{what[0]} leaves before {fmt_time(after)}",
                                f"{what[1]}が {fmt_time(after)} より前に出発します",
                                expert=r.expert, date=r.date)
            if dep + t > by:
                yield violation(c, "legs", f"{what[0]} arrives after {fmt_time(by)}",
                                f"{what[1]}の到着が {fmt_time(by)} より後です",
                                expert=r.expert, date=r.date)
            for v in online:
                if t and v.start < dep + t and dep < v.end:
                    yield violation(c, "online_while_driving", f"online "
                                    f"{c.req(v.request, 'en')} {span(v)} falls in {what[0]}",
                                    f"オンライン {c.req(v.request, 'ja')} {span(v)} が"
                                    f"{what[1]}の最中です", v.request, r.expert, r.date)
        if r.leave != r.departures[0] or r.return_ != r.departures[-1] + legs[-1]:
            times = f"{fmt_time(r.leave)} / {fmt_time(r.return_)}"
            yield violation(c, "legs", f"leave / return {times} do not match the first departure "
                            "and the last arrival", f"出発・帰着 {times} が最初の出発・最後の到着と"
                            "一致しません", expert=r.expert, date=r.date)


def routes_agree_with_visits(c: Context) -> Iterable[Violation]:
    """The routes are the on-site visits seen per expert and date: exactly one route for each
    expert-date with on-site visits or standing appointments at a place (and one for each day
    that starts or ends away from the base, its stops possibly none), its stops the locations
    of both in start order, and its driving minutes the sum of the legs start → stops → end
    (the base unless away)."""
    days = {(eid, day): stops for eid, day, stops in c.day_stops()}
    seen: set[tuple[str, dt.date]] = set()
    for r in c.plan.routes:
        key = (r.expert, r.date)
        if key in seen:
            yield violation(c, "routes", "two routes for the same expert and date",
                            "同じ専門家・同じ日のルートが 2 つあります", expert=r.expert,
                            date=r.date)
            continue
        seen.add(key)
        stops = days.get(key)
        if stops is None:
            yield violation(c, "routes", "a route on a date without on-site visits or "
                            "appointments at a place", "現地訪問も場所の決まった予定もない日に"
                            "ルートがあります", expert=r.expert, date=r.date)
            continue
        want = tuple(v.location for v in stops)
        if tuple(r.stops) != want:
            yield violation(c, "routes", f"the route stops at {c.places(r.stops, 'en')}, but the "
                            f"visits in start order are at {c.places(want, 'en')}",
                            f"ルートの立ち寄り先は{c.places(r.stops, 'ja')}ですが、訪問は開始順に"
                            f"{c.places(want, 'ja')}です", expert=r.expert, date=r.date)
        drive = sum(c.legs(r.expert, stops, r.date))
        if r.drive_minutes != drive:
            yield violation(c, "routes", f"the route drives {r.drive_minutes} min, but its legs "
                            f"sum to {drive} min", f"ルートの運転時間は {r.drive_minutes} 分ですが、"
                            f"各区間の合計は {drive} 分です", expert=r.expert, date=r.date)
    for key, stops in days.items():
        if key not in seen and stops:
            yield violation(c, "routes", "on-site visits but no route",
                            "現地訪問があるのにルートがありません", expert=key[0], date=key[1])
