"""The checker's rules on when a visit may happen: on a workable date the request allows,
within the opening, requested and working hours, on the appointment grid, out of closed
hours."""

from __future__ import annotations

from collections.abc import Iterable

from engine.calendar import date_status, keep_out
from engine.checker.context import Context, Violation, span, violation
from engine.model import fmt_time
from engine.words import month_day

__all__ = ["date_workable_and_requested", "not_in_closed_hours", "not_in_places_closed_hours",
           "starts_on_grid", "within_hours"]


def date_workable_and_requested(c: Context) -> Iterable[Violation]:
    """The visit's date is a working day for each of its experts (no weekend, no national
    holiday when holidays are skipped, one of the expert's days, no blackout) and lies between
    the request's earliest and latest dates; on or before ``horizon.published_until`` only
    published (fixed) visits are planned."""
    until = c.p.horizon.published_until
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        en, ja = c.req(v.request, "en"), c.req(v.request, "ja")
        if until is not None and v.date <= until and q.fixed is None:
            yield violation(c, "published_period", f"{en} is newly planned in the plan already "
                            f"published up to {month_day(until)}", f"{ja} が公開済みの期間"
                            f"（{month_day(until)} まで）に新しく計画されています", v.request,
                            date=v.date)
        for eid in v.experts:
            st = date_status(c.p.horizon, c.p.expert_by_id[eid], v.date)
            if not st.workable:
                yield violation(c, "workable_day", f"{en}: not a working day of the expert "
                                f"({st.reason})", f"{ja}: この専門家の勤務日ではありません"
                                f"（{st.reason_ja or st.reason}）", v.request, eid, v.date)
        if not q.earliest <= v.date <= q.latest:
            dates = f"{month_day(q.earliest)}–{month_day(q.latest)}"
            yield violation(c, "request_dates", f"{en} is outside the requested dates {dates}",
                            f"{ja} が希望日 {dates} の範囲外です", v.request, date=v.date)


def within_hours(c: Context) -> Iterable[Violation]:
    """Start and end lie within the location's opening hours, the request's window (if any) and
    each expert's working hours."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        loc = c.p.location_by_id[v.location]
        en, ja = f"{c.req(v.request, 'en')} {span(v)}", f"{c.req(v.request, 'ja')} {span(v)}"
        if v.start < loc.open or v.end > loc.close:
            hours = f"{fmt_time(loc.open)}–{fmt_time(loc.close)}"
            yield violation(c, "location_hours", f"{en} is outside the opening hours {hours} "
                            f"of {c.place(loc.id, 'en')}", f"{ja} が{c.place(loc.id, 'ja')}の"
                            f"受付時間 {hours} の外です", v.request, date=v.date)
        if q.window and (v.start < q.window[0] or v.end > q.window[1]):
            hours = f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}"
            yield violation(c, "window", f"{en} is outside the requested hours {hours}",
                            f"{ja} が希望時間帯 {hours} の外です", v.request, date=v.date)
        for eid in v.experts:
            e = c.p.expert_by_id[eid]
            if v.start < e.work_start or v.end > e.day_end:
                hours = f"{fmt_time(e.work_start)}–{fmt_time(e.day_end)}"
                yield violation(c, "working_hours", f"{en} is outside the working hours {hours}",
                                f"{ja} が勤務時間 {hours} の外です", v.request, eid, v.date)


def starts_on_grid(c: Context) -> Iterable[Violation]:
    """Every consultation starts on the appointment grid: a multiple of
    ``horizon.start_grid_min`` minutes after midnight (drives may start at any minute)."""
    grid = c.p.horizon.start_grid_min
    for v in c.visits:
        if v.start % grid:
            yield violation(c, "start_grid", f"{c.req(v.request, 'en')} {span(v)} does not "
                            f"start on the {grid}-minute appointment grid",
                            f"{c.req(v.request, 'ja')} {span(v)} の開始が {grid} 分刻みの予約枠に"
                            "合っていません", v.request, date=v.date)


def not_in_closed_hours(c: Context) -> Iterable[Violation]:
    """No consultation overlaps a closure of its location (``horizon.closures``) or a part-day
    blackout of one of its experts."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        for eid in v.experts:
            for lo, hi in keep_out(c.p, q, (eid,), v.date, closed=False):
                if v.start < hi and lo < v.end:
                    hours = f"{fmt_time(lo)}–{fmt_time(hi)}"
                    yield violation(c, "closed_hours", f"{c.req(v.request, 'en')} {span(v)} "
                                    f"overlaps {hours}, when the expert or "
                                    f"{c.place(v.location, 'en')} is unavailable",
                                    f"{c.req(v.request, 'ja')} {span(v)} が、専門家または"
                                    f"{c.place(v.location, 'ja')}の都合がつかない {hours} と"
                                    "重なっています", v.request, eid, v.date)


def not_in_places_closed_hours(c: Context) -> Iterable[Violation]:
    """No consultation, on site or online, overlaps the hours its place is closed every date
    (``locations[].closed``: the town hall's lunch hour)."""
    for v in c.visits:
        for lo, hi in c.p.location_by_id[v.location].closed:
            if v.start < hi and lo < v.end:
                hours = f"{fmt_time(lo)}–{fmt_time(hi)}"
                yield violation(c, "places_closed_hours", f"{c.req(v.request, 'en')} {span(v)} "
                                f"overlaps {hours}, when {c.place(v.location, 'en')} is closed",
                                f"{c.req(v.request, 'ja')} {span(v)} が"
                                f"{c.place(v.location, 'ja')}の休み時間 {hours} と重なっています",
                                v.request, date=v.date)
