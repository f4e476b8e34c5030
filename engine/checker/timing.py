"""The checker's rules on when a visit may happen: on a workable date the request allows,
within the opening, requested and working hours, on the appointment grid, out of closed
hours."""

from __future__ import annotations

from collections.abc import Iterable

from engine.calendar import date_status, keep_out
from engine.checker.context import Context, Violation, span, violation
from engine.model import fmt_time

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
        if until is not None and v.date <= until and q.fixed is None:
            yield violation("published_period", f"a new visit on {v.date}, in the plan published up to "
                     f"{until}", v.request, date=v.date)
        for eid in v.experts:
            st = date_status(c.p.horizon, c.p.expert_by_id[eid], v.date)
            if not st.workable:
                yield violation("workable_day", f"{v.date} is not workable for {eid}: {st.reason}",
                         v.request, eid, v.date)
        if not q.earliest <= v.date <= q.latest:
            yield violation("request_dates", f"{v.date} is outside the requested dates "
                     f"{q.earliest} – {q.latest}", v.request, date=v.date)


def within_hours(c: Context) -> Iterable[Violation]:
    """Start and end lie within the location's opening hours, the request's window (if any) and
    each expert's working hours."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        loc = c.p.location_by_id[v.location]
        if v.start < loc.open or v.end > loc.close:
            yield violation("location_hours", f"{span(v)} is outside {loc.id}'s hours "
                     f"{fmt_time(loc.open)}–{fmt_time(loc.close)}", v.request, date=v.date)
        if q.window and (v.start < q.window[0] or v.end > q.window[1]):
            yield violation("window", f"{span(v)} is outside the requested window "
                     f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}", v.request, date=v.date)
        for eid in v.experts:
            e = c.p.expert_by_id[eid]
            if v.start < e.work_start or v.end > e.day_end:
                yield violation("working_hours", f"{span(v)} is outside {eid}'s working hours "
                         f"{fmt_time(e.work_start)}–{fmt_time(e.day_end)}", v.request, eid,
                         v.date)


def starts_on_grid(c: Context) -> Iterable[Violation]:
    """Every consultation starts on the appointment grid: a multiple of
    ``horizon.start_grid_min`` minutes after midnight (drives may start at any minute)."""
    grid = c.p.horizon.start_grid_min
    for v in c.visits:
        if v.start % grid:
            yield violation("start_grid", f"{span(v)} does not start on the {grid}-minute "
                            "appointment grid", v.request, date=v.date)


def not_in_closed_hours(c: Context) -> Iterable[Violation]:
    """No consultation overlaps a closure of its location (``horizon.closures``) or a part-day
    blackout of one of its experts."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        for eid in v.experts:
            for lo, hi in keep_out(c.p, q, (eid,), v.date, closed=False):
                if v.start < hi and lo < v.end:
                    yield violation("closed_hours", f"{span(v)} overlaps {fmt_time(lo)}–{fmt_time(hi)}, "
                             f"when {eid} or {v.location} is unavailable", v.request, eid, v.date)


def not_in_places_closed_hours(c: Context) -> Iterable[Violation]:
    """No consultation, on site or online, overlaps the hours its place is closed every date
    (``locations[].closed``: the town hall's lunch hour)."""
    for v in c.visits:
        for lo, hi in c.p.location_by_id[v.location].closed:
            if v.start < hi and lo < v.end:
                yield violation("places_closed_hours", f"{span(v)} overlaps {fmt_time(lo)}–"
                                f"{fmt_time(hi)}, when {v.location} is closed", v.request,
                                date=v.date)
