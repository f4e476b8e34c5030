"""Is a plan valid? An independent check of every rule of docs/FORMAT.md ("A plan is valid when").

The checker knows nothing of how a plan was made: it reads the problem and the plan and lists
what is wrong, so it catches a solver's mistakes as well as a hand-edited plan's. Each rule is
one function named after it whose docstring states the rule the way a coordinator would.

Examples
--------
>>> violations = check_plan(problem, plan)            # doctest: +SKIP
>>> [v.rule for v in violations]                       # doctest: +SKIP
['travel_between_stops']
>>> assert_valid(problem, plan)                        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from engine.calendar import date_status
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Visit, fmt_time, keep_out
from engine.travel import TravelTimes

__all__ = ["RULES", "Violation", "assert_valid", "check_plan"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which rule, and where (request, expert, date where they apply)."""

    rule: str
    request: str | None
    expert: str | None
    date: dt.date | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (
            f"request {self.request}" if self.request else "",
            f"expert {self.expert}" if self.expert else "",
            f"date {self.date}" if self.date else "") if x)
        return f"[{self.rule}] {where + ': ' if where else ''}{self.message}"


class _Ctx:
    """The problem, the plan and derived views every rule shares."""

    def __init__(self, problem: PlanRequest, plan: Plan, travel: TravelTimes):
        self.p = problem
        self.plan = plan
        self.t = travel
        # only visits whose request and experts exist are examined by the per-visit rules
        self.visits: list[Visit] = [
            v for v in plan.visits
            if v.request in problem.request_by_id and v.location in problem.location_by_id
            and all(e in problem.expert_by_id for e in v.experts)]
        self.by_expert_date: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
        for v in self.visits:
            for eid in dict.fromkeys(v.experts):
                self.by_expert_date[eid, v.date].append(v)
        for vs in self.by_expert_date.values():
            vs.sort(key=lambda v: (v.start, v.end))

    def onsite(self, eid: str, day: dt.date) -> list[Visit]:
        return [v for v in self.by_expert_date[eid, day] if v.mode == "onsite"]

    def online(self, eid: str, day: dt.date) -> list[Visit]:
        return [v for v in self.by_expert_date[eid, day] if v.mode == "online"]

    def onsite_days(self) -> Iterator[tuple[str, dt.date, list[Visit]]]:
        for (eid, day), _ in sorted(self.by_expert_date.items()):
            stops = self.onsite(eid, day)
            if stops:
                yield eid, day, stops

    def legs(self, eid: str, stops: list[Visit]) -> list[int]:
        base = self.p.expert_by_id[eid].base
        path = [base, *(v.location for v in stops), base]
        return [self.t.minutes(a, b) for a, b in zip(path, path[1:], strict=False)]


def _v(rule: str, message: str, request: str | None = None, expert: str | None = None,
       date: dt.date | None = None) -> Violation:
    return Violation(rule, request, expert, date, message)


def _span(v: Visit) -> str:
    return f"{fmt_time(v.start)}–{fmt_time(v.end)}"


# ---------------------------------------------------------------- the rules, one per function

def every_request_accounted_once(c: _Ctx) -> Iterable[Violation]:
    """Every request of the week appears exactly once: as a visit or as unscheduled, never
    both, never twice, never missing; and the plan mentions no request that was not asked."""
    seen: dict[str, int] = defaultdict(int)
    for v in c.plan.visits:
        seen[v.request] += 1
    for u in c.plan.unscheduled:
        seen[u.request] += 1
    for q in c.p.requests:
        if seen[q.id] == 0:
            yield _v("accounted_once", "neither scheduled nor reported unscheduled", q.id)
        elif seen[q.id] > 1:
            yield _v("accounted_once", f"appears {seen[q.id]} times in visits and unscheduled",
                     q.id)
    for rid in seen:
        if rid not in c.p.request_by_id:
            yield _v("accounted_once", "the plan names a request that is not in the problem", rid)


def unscheduled_have_reasons(c: _Ctx) -> Iterable[Violation]:
    """Every request left out carries at least one reason a coordinator can read."""
    for u in c.plan.unscheduled:
        if not any(isinstance(r, str) and r.strip() for r in u.reasons):
            yield _v("unscheduled_reason", "left out without a reason", u.request)


def visit_known_ids(c: _Ctx) -> Iterable[Violation]:
    """A visit is made by experts of the programme at a place of the problem (known ids); a
    visit naming an unknown one is not examined further."""
    for v in c.plan.visits:
        if v.location not in c.p.location_by_id:
            yield _v("unknown_location", f"unknown location {v.location!r}", v.request,
                     date=v.date)
        for eid in v.experts:
            if eid not in c.p.expert_by_id:
                yield _v("unknown_expert", f"unknown expert {eid!r}", v.request, eid, v.date)


def visit_matches_request(c: _Ctx) -> Iterable[Violation]:
    """A visit happens where and how the municipality asked: same location, same mode
    (on-site or online), and lasts exactly the requested minutes (end − start = duration)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if v.location != q.location:
            yield _v("visit_matches_request", f"location {v.location!r} but the request is for "
                     f"{q.location!r}", v.request, date=v.date)
        if v.mode != q.mode:
            yield _v("visit_matches_request", f"mode {v.mode!r} but the request asks {q.mode!r}",
                     v.request, date=v.date)
        if v.end - v.start != q.duration_min:
            yield _v("duration", f"{_span(v)} lasts {v.end - v.start} min, the request asks "
                     f"{q.duration_min} min", v.request, date=v.date)


def experts_cover_fields(c: _Ctx) -> Iterable[Violation]:
    """One expert per requested field: as many distinct experts as fields, and the experts can
    be paired with the fields so that each has the field they cover (a joint visit of 'pr' and
    'data' needs a PR expert and a data expert, not two PR experts)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if len(set(v.experts)) != len(v.experts):
            yield _v("fields", f"names an expert twice: {list(v.experts)}", v.request,
                     date=v.date)
            continue
        if len(v.experts) != len(q.fields):
            yield _v("fields", f"{len(v.experts)} experts for {len(q.fields)} fields "
                     f"{list(q.fields)}", v.request, date=v.date)
            continue
        for eid in v.experts:
            if not set(c.p.expert_by_id[eid].fields) & set(q.fields):
                yield _v("expert_field", f"{eid} has none of the fields {list(q.fields)}",
                         v.request, eid, v.date)
        if not _perfect_matching(list(q.fields),
                                 [set(c.p.expert_by_id[e].fields) for e in v.experts]):
            yield _v("fields", f"experts {list(v.experts)} cannot cover fields "
                     f"{list(q.fields)} one each", v.request, date=v.date)


def _perfect_matching(fields: list[str], has: list[set[str]]) -> bool:
    """Can each field get its own expert who has it? (tiny bipartite matching)"""
    match: dict[int, int] = {}

    def augment(k: int, seen: set[int]) -> bool:
        for i, fs in enumerate(has):
            if fields[k] in fs and i not in seen:
                seen.add(i)
                if i not in match or augment(match[i], seen):
                    match[i] = k
                    return True
        return False

    return all(augment(k, set()) for k in range(len(fields)))


def date_workable_and_requested(c: _Ctx) -> Iterable[Violation]:
    """The visit's date is a working day for each of its experts (no weekend, no national
    holiday when holidays are skipped, one of the expert's days, no blackout) and lies between
    the request's earliest and latest dates; on or before ``horizon.published_until`` only
    published (fixed) visits are planned."""
    until = c.p.horizon.published_until
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if until is not None and v.date <= until and q.fixed is None:
            yield _v("published_period", f"a new visit on {v.date}, in the plan published up to "
                     f"{until}", v.request, date=v.date)
        for eid in v.experts:
            st = date_status(c.p.horizon, c.p.expert_by_id[eid], v.date)
            if not st.workable:
                yield _v("workable_day", f"{v.date} is not workable for {eid}: {st.reason}",
                         v.request, eid, v.date)
        if not q.earliest <= v.date <= q.latest:
            yield _v("request_dates", f"{v.date} is outside the requested dates "
                     f"{q.earliest} – {q.latest}", v.request, date=v.date)


def within_hours(c: _Ctx) -> Iterable[Violation]:
    """Start and end lie within the location's opening hours, the request's window (if any) and
    each expert's working hours."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        loc = c.p.location_by_id[v.location]
        if v.start < loc.open or v.end > loc.close:
            yield _v("location_hours", f"{_span(v)} is outside {loc.id}'s hours "
                     f"{fmt_time(loc.open)}–{fmt_time(loc.close)}", v.request, date=v.date)
        if q.window and (v.start < q.window[0] or v.end > q.window[1]):
            yield _v("window", f"{_span(v)} is outside the requested window "
                     f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}", v.request, date=v.date)
        for eid in v.experts:
            e = c.p.expert_by_id[eid]
            if v.start < e.work_start or v.end > e.work_end:
                yield _v("working_hours", f"{_span(v)} is outside {eid}'s working hours "
                         f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}", v.request, eid,
                         v.date)


def not_in_closed_hours(c: _Ctx) -> Iterable[Violation]:
    """No consultation overlaps a closure of its location (``horizon.closures``) or a part-day
    blackout of one of its experts."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        for eid in v.experts:
            for lo, hi in keep_out(c.p, q, (eid,), v.date):
                if v.start < hi and lo < v.end:
                    yield _v("closed_hours", f"{_span(v)} overlaps {fmt_time(lo)}–{fmt_time(hi)}, "
                             f"when {eid} or {v.location} is unavailable", v.request, eid, v.date)


def nothing_new_in_history(c: _Ctx) -> Iterable[Violation]:
    """Before ``horizon.history_until`` the week has happened: only fixed visits stand there;
    an unfixed visit that day starts after it, reached by a drive that leaves no earlier."""
    past = c.p.horizon.history_until
    if past is None:
        return
    now = past.hour * 60 + past.minute
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if q.fixed is not None or v.date > past.date():
            continue
        if v.date < past.date() or v.start < now:
            yield _v("history", f"a new visit {_span(v)} on {v.date}, before now "
                     f"({past:%Y-%m-%d %H:%M})", v.request, date=v.date)
            continue
        if v.mode != "onsite":
            continue
        for eid in v.experts:
            before = [w for w in c.onsite(eid, v.date) if w.start < v.start]
            here = before[-1].location if before else c.p.expert_by_id[eid].base
            need = c.t.minutes(here, v.location)
            if v.start < now + need:
                yield _v("history", f"{_span(v)} cannot be reached from {here} by a "
                         f"{need}-min drive leaving after now ({fmt_time(now)})", v.request,
                         eid, v.date)


def one_thing_at_a_time(c: _Ctx) -> Iterable[Violation]:
    """No expert is in two consultations at once (on-site or online, any mix)."""
    for (eid, day), vs in sorted(c.by_expert_date.items()):
        for i, b in enumerate(vs):
            for a in vs[:i]:
                if b.start < a.end:
                    yield _v("double_booking", f"{a.request} {_span(a)} overlaps {b.request} "
                             f"{_span(b)}", b.request, eid, day)


def _free_block(lo: int, hi: int, busy: list[tuple[int, int]]) -> int:
    """Longest stretch of minutes in [lo, hi] not covered by any ``busy`` interval."""
    best, cur = 0, lo
    for s, e in sorted(busy):
        if e <= cur or s >= hi:
            continue
        best = max(best, min(s, hi) - cur)
        cur = max(cur, e)
    return max(best, hi - cur)


def travel_between_stops(c: _Ctx) -> Iterable[Violation]:
    """Between two consecutive on-site stops the expert has at least the driving minutes, and
    those minutes are one stretch free of online consultations (nobody consults while driving)."""
    for eid, day, stops in c.onsite_days():
        busy = [(v.start, v.end) for v in c.online(eid, day)]
        for a, b in zip(stops, stops[1:], strict=False):
            need = c.t.minutes(a.location, b.location)
            if b.start - a.end < need:
                yield _v("travel_between_stops", f"{a.request} ends {fmt_time(a.end)} at "
                         f"{a.location}, {b.request} starts {fmt_time(b.start)} at {b.location}: "
                         f"{b.start - a.end} min for a {need}-min drive", b.request, eid, day)
            elif need and _free_block(a.end, b.start, busy) < need:
                yield _v("online_while_driving", f"online consultations between {a.request} and "
                         f"{b.request} leave no {need}-min stretch to drive", b.request, eid, day)


def day_starts_and_ends_at_base(c: _Ctx) -> Iterable[Violation]:
    """Each on-site day leaves the base no earlier than work starts and is back no later than
    work ends, with time to drive out to the first stop and home from the last, and no online
    consultation during those drives: leave ≥ work_start, leave + drive to first ≤ its start,
    last end + drive home ≤ return ≤ work_end."""
    routes = {(r.expert, r.date): r for r in c.plan.routes}
    for eid, day, stops in c.onsite_days():
        e = c.p.expert_by_id[eid]
        first, last = stops[0], stops[-1]
        out = c.t.minutes(e.base, first.location)
        back = c.t.minutes(last.location, e.base)
        busy = [(v.start, v.end) for v in c.online(eid, day)]
        if first.start - out < e.work_start:
            yield _v("working_hours", f"the drive to {first.location} ({out} min) for "
                     f"{fmt_time(first.start)} means leaving before work starts "
                     f"{fmt_time(e.work_start)}", first.request, eid, day)
        elif out and _free_block(e.work_start, first.start, busy) < out:
            yield _v("online_while_driving", f"online consultations leave no {out}-min stretch "
                     f"to drive to {first.location}", first.request, eid, day)
        if last.end + back > e.work_end:
            yield _v("working_hours", f"the drive home from {last.location} ({back} min) after "
                     f"{fmt_time(last.end)} ends after work ends {fmt_time(e.work_end)}",
                     last.request, eid, day)
        elif back and _free_block(last.end, e.work_end, busy) < back:
            yield _v("online_while_driving", f"online consultations leave no {back}-min stretch "
                     f"to drive home from {last.location}", last.request, eid, day)
        r = routes.get((eid, day))
        if r is None:
            continue
        if r.leave < e.work_start:
            yield _v("route_hours", f"leaves {fmt_time(r.leave)}, before work starts "
                     f"{fmt_time(e.work_start)}", expert=eid, date=day)
        if r.leave + out > first.start:
            yield _v("route_hours", f"leaves {fmt_time(r.leave)} and needs {out} min to reach "
                     f"{first.location} for {fmt_time(first.start)}", first.request, eid, day)
        if r.return_ < last.end + back:
            yield _v("route_hours", f"back {fmt_time(r.return_)}, but {last.request} ends "
                     f"{fmt_time(last.end)} and the drive home takes {back} min",
                     last.request, eid, day)
        if r.return_ > e.work_end:
            yield _v("route_hours", f"back {fmt_time(r.return_)}, after work ends "
                     f"{fmt_time(e.work_end)}", expert=eid, date=day)
        for v in c.online(eid, day):
            for s, t, what in ((r.leave, r.leave + out, "out"),
                               (r.return_ - back, r.return_, "home")):
                if t > s and v.start < t and s < v.end:
                    yield _v("online_while_driving", f"online {v.request} {_span(v)} falls in the "
                             f"route's drive {what} {fmt_time(s)}–{fmt_time(t)}", v.request, eid,
                             day)


def legs_driven_between_stops(c: _Ctx) -> Iterable[Violation]:
    """Where a route says when each leg is driven (``departures``), the drives are real: one
    per leg, each leaves after the stop before it ends (the first after work starts) and
    arrives by the start of the stop after it (home by the end of work), no online consultation
    falls inside a drive, the route leaves with the first and is back when the last arrives."""
    days = {(eid, day): stops for eid, day, stops in c.onsite_days()}
    for r in c.plan.routes:
        stops = days.get((r.expert, r.date))
        if not r.departures or stops is None or r.expert not in c.p.expert_by_id:
            continue
        e = c.p.expert_by_id[r.expert]
        legs = c.legs(r.expert, stops)
        if len(r.departures) != len(legs):
            yield _v("legs", f"{len(r.departures)} leg departures for {len(legs)} legs",
                     expert=r.expert, date=r.date)
            continue
        online = c.online(r.expert, r.date)
        for i, (dep, t) in enumerate(zip(r.departures, legs, strict=True)):
            after = e.work_start if i == 0 else stops[i - 1].end
            by = stops[i].start if i < len(stops) else e.work_end
            what = f"leg {i + 1} ({fmt_time(dep)}, {t} min)"
            if dep < after:
                yield _v("legs", f"{what} leaves before {fmt_time(after)}", expert=r.expert,
                         date=r.date)
            if dep + t > by:
                yield _v("legs", f"{what} arrives after {fmt_time(by)}", expert=r.expert,
                         date=r.date)
            for v in online:
                if t and v.start < dep + t and dep < v.end:
                    yield _v("online_while_driving", f"online {v.request} {_span(v)} falls in "
                             f"{what}", v.request, r.expert, r.date)
        if r.leave != r.departures[0] or r.return_ != r.departures[-1] + legs[-1]:
            yield _v("legs", f"leave {fmt_time(r.leave)} / return {fmt_time(r.return_)} do not "
                     "match the first departure and the last arrival", expert=r.expert,
                     date=r.date)


def routes_agree_with_visits(c: _Ctx) -> Iterable[Violation]:
    """The routes are the on-site visits seen per expert and date: exactly one route for each
    expert-date with on-site visits, its stops the visits' locations in start order, and its
    driving minutes the sum of the legs base → stops → base."""
    days = {(eid, day): stops for eid, day, stops in c.onsite_days()}
    seen: set[tuple[str, dt.date]] = set()
    for r in c.plan.routes:
        key = (r.expert, r.date)
        if key in seen:
            yield _v("routes", "two routes for the same expert and date", expert=r.expert,
                     date=r.date)
            continue
        seen.add(key)
        stops = days.get(key)
        if stops is None:
            yield _v("routes", "a route on a date without on-site visits", expert=r.expert,
                     date=r.date)
            continue
        want = tuple(v.location for v in stops)
        if tuple(r.stops) != want:
            yield _v("routes", f"stops {list(r.stops)} but the visits in start order are at "
                     f"{list(want)}", expert=r.expert, date=r.date)
        drive = sum(c.legs(r.expert, stops))
        if r.drive_minutes != drive:
            yield _v("routes", f"drive_minutes {r.drive_minutes}, but the legs base → stops → "
                     f"base sum to {drive}", expert=r.expert, date=r.date)
    for key in days:
        if key not in seen:
            yield _v("routes", "on-site visits but no route", expert=key[0], date=key[1])


def expert_caps(c: _Ctx) -> Iterable[Violation]:
    """Each expert stays within their caps: on-site visits per day and in total, driving
    minutes per day (legs base → stops → base) and the number of dates with an on-site visit,
    in the horizon and in each calendar month."""
    total: dict[str, int] = defaultdict(int)
    days: dict[str, int] = defaultdict(int)
    for eid, day, stops in c.onsite_days():
        e = c.p.expert_by_id[eid]
        total[eid] += len(stops)
        days[eid] += 1
        if e.max_visits_per_day is not None and len(stops) > e.max_visits_per_day:
            yield _v("cap_expert_day", f"{len(stops)} on-site visits, cap "
                     f"{e.max_visits_per_day}", expert=eid, date=day)
        drive = sum(c.legs(eid, stops))
        if e.max_drive_minutes_per_day is not None and drive > e.max_drive_minutes_per_day:
            yield _v("cap_drive", f"{drive} min of driving, cap {e.max_drive_minutes_per_day}",
                     expert=eid, date=day)
    months: dict[tuple[str, int, int], int] = defaultdict(int)
    for eid, day, _stops in c.onsite_days():
        months[eid, day.year, day.month] += 1
    for (eid, y, m), n in sorted(months.items()):
        cap = c.p.expert_by_id[eid].month_cap(y, m)
        if cap is not None and n > cap:
            yield _v("cap_onsite_days_month", f"on-site on {n} dates in {y}-{m:02d}, cap {cap}",
                     expert=eid)
    for e in c.p.experts:
        if e.max_visits_total is not None and total[e.id] > e.max_visits_total:
            yield _v("cap_expert_total", f"{total[e.id]} on-site visits, cap "
                     f"{e.max_visits_total}", expert=e.id)
        if e.max_onsite_days is not None and days[e.id] > e.max_onsite_days:
            yield _v("cap_onsite_days", f"on-site on {days[e.id]} dates, cap "
                     f"{e.max_onsite_days}", expert=e.id)


def location_caps(c: _Ctx) -> Iterable[Violation]:
    """A municipality hosts at most its daily number of on-site expert-visits, a joint visit
    of two experts counting as two."""
    count: dict[tuple[str, dt.date], int] = defaultdict(int)
    for v in c.visits:
        if v.mode == "onsite":
            count[v.location, v.date] += len(v.experts)
    for (lid, day), n in sorted(count.items()):
        loc = c.p.location_by_id.get(lid)
        if loc is not None and loc.max_visits_per_day is not None and n > loc.max_visits_per_day:
            yield _v("cap_location_day", f"{lid} hosts {n} expert-visits, cap "
                     f"{loc.max_visits_per_day}", date=day)


def fixed_visits_kept(c: _Ctx) -> Iterable[Violation]:
    """A published (fixed) visit is kept exactly: same experts, same date, same start. Only a
    plan that says the fixed visits cannot all be kept (status infeasible) may release some,
    and it names each one it released (``solver.released_fixed``): a released visit is either
    unscheduled with the code ``fixed_conflict`` or planned at another time."""
    infeasible = c.plan.status == "infeasible"
    raw = c.plan.solver.get("released_fixed", ()) if infeasible else ()
    released = set(raw) if isinstance(raw, (list, tuple)) else set()
    codes = {u.request: u.codes for u in c.plan.unscheduled}
    by_req = {v.request: v for v in c.plan.visits}
    for q in c.p.requests:
        if q.fixed is None:
            continue
        f = q.fixed
        v = by_req.get(q.id)
        if q.id in released:
            if v is None and "fixed_conflict" not in codes.get(q.id, ()):
                yield _v("fixed", "released published visit left out without the code "
                         "fixed_conflict", q.id, date=f.date)
            continue
        if v is None:
            if infeasible and not released:
                continue            # nothing planned: every request unscheduled
            yield _v("fixed", f"the published visit ({f.date} {fmt_time(f.start)}) was dropped",
                     q.id, date=f.date)
        elif v.date != f.date or v.start != f.start or set(v.experts) != set(f.experts):
            yield _v("fixed", f"published as {list(f.experts)} {f.date} {fmt_time(f.start)}, "
                     f"planned as {list(v.experts)} {v.date} {fmt_time(v.start)}", q.id,
                     date=v.date)


def kpis_consistent(c: _Ctx) -> Iterable[Violation]:
    """The key figures the plan reports are those of its visits and routes (engine.kpis);
    a figure the plan does not report is not checked, ``moved`` needs last week's plan."""
    want = plan_kpis(c.p, c.plan)
    for key, value in c.plan.kpis.items():
        if key in want and value != want[key]:
            yield _v("kpis", f"kpis[{key!r}] is {value}, the plan's visits give {want[key]}")


def objective_matches_formula(c: _Ctx) -> Iterable[Violation]:
    """For a plan with a result (optimal or feasible, or infeasible with the fixed visits it
    released), ``objective`` is FORMAT.md's formula on the plan: priority × Σ priority served −
    drive_minute × Σ drive minutes − onsite_day × expert-dates on site; ``bound`` is at least
    the objective, and equal to it when optimal."""
    if c.plan.status not in ("optimal", "feasible") and (
            c.plan.status != "infeasible" or c.plan.objective is None):
        return
    w = c.p.objective
    served = sum(c.p.request_by_id[v.request].priority for v in c.visits)
    drive = 0
    ndays = 0
    for eid, _day, stops in c.onsite_days():
        drive += sum(c.legs(eid, stops))
        ndays += 1
    value = w.priority * served - w.drive_minute * drive - w.onsite_day * ndays
    goals = ""
    small = c.p.goals.small_towns
    if small is not None:
        in_towns = sum(c.p.request_by_id[v.request].priority for v in c.visits
                       if small.includes(c.p.location_by_id[v.location]))
        value += small.bonus * in_towns
        goals += f" + {small.bonus} × {in_towns}"
    short = sum(_shortfalls(c).values())
    if c.p.goals.coverage is not None:
        value -= c.p.goals.coverage.penalty * short
        goals += f" − {c.p.goals.coverage.penalty} × {short}"
    if c.plan.objective is None or c.plan.objective != value:
        yield _v("objective", f"objective {c.plan.objective}, the formula on the plan gives "
                 f"{value} ({w.priority} × {served} − {w.drive_minute} × {drive} − "
                 f"{w.onsite_day} × {ndays}{goals})")
    if c.plan.bound is None or c.plan.objective is None:
        yield _v("bound", "a plan with a result needs a bound")
    elif c.plan.bound < c.plan.objective:
        yield _v("bound", f"bound {c.plan.bound} is below the objective {c.plan.objective}")
    elif c.plan.status == "optimal" and c.plan.bound != c.plan.objective:
        yield _v("bound", f"status optimal but bound {c.plan.bound} ≠ objective "
                 f"{c.plan.objective}")


def _shortfalls(c: _Ctx) -> dict[str, int]:
    """Consultations each location with a coverage floor misses (counted modes only)."""
    cov = c.p.goals.coverage
    if cov is None:
        return {}
    seen: dict[str, int] = defaultdict(int)
    for v in c.visits:
        if v.mode in cov.modes:
            seen[v.location] += 1
    return {lid: max(0, floor - seen[lid]) for lid, floor in cov.floors(c.p).items()}


def coverage_reported(c: _Ctx) -> Iterable[Violation]:
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
            yield _v("coverage", f"{lid} has a floor of {floors[lid]} but is not reported")
    for x in c.plan.coverage:
        if x.location not in floors:
            yield _v("coverage", f"{x.location} is reported but has no floor")
            continue
        want = (seen[x.location], floors[x.location],
                max(0, floors[x.location] - seen[x.location]))
        if (x.visits, x.min_visits, x.shortfall) != want:
            yield _v("coverage", f"{x.location}: reported {x.visits} visits, floor "
                     f"{x.min_visits}, short {x.shortfall}; the plan gives {want[0]} visits, "
                     f"floor {want[1]}, short {want[2]}")
        if x.shortfall and not any(r.strip() for r in x.reasons):
            yield _v("coverage", f"{x.location} is short of its floor without a reason")


#: The rules in the order they are checked (name → function).
RULES = {f.__name__: f for f in (
    every_request_accounted_once, unscheduled_have_reasons, visit_known_ids,
    visit_matches_request, experts_cover_fields, date_workable_and_requested, within_hours,
    not_in_closed_hours, nothing_new_in_history,
    one_thing_at_a_time, travel_between_stops, day_starts_and_ends_at_base,
    legs_driven_between_stops, routes_agree_with_visits, expert_caps, location_caps,
    fixed_visits_kept, kpis_consistent, objective_matches_formula, coverage_reported)}


def check_plan(problem: PlanRequest, plan: Plan, *,
               travel: TravelTimes | None = None) -> list[Violation]:
    """Every violation of FORMAT.md's validity rules by ``plan`` for ``problem`` (empty: valid).

    ``travel`` gives the driving minutes (default: the problem's own, estimate filling gaps);
    pass the planner's when it solved with another speed factor.
    """
    c = _Ctx(problem, plan, travel or TravelTimes(problem))
    out: list[Violation] = []
    for rule in RULES.values():
        out.extend(rule(c))
    return out


def assert_valid(problem: PlanRequest, plan: Plan, *, travel: TravelTimes | None = None) -> None:
    """Raise ``AssertionError`` listing every violation when ``plan`` is not valid."""
    found = check_plan(problem, plan, travel=travel)
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        raise AssertionError(f"plan is not valid, {len(found)} violation(s):\n{lines}")
