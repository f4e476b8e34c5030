"""When the week goes wrong: the event document (``event/1``) and the week it leaves behind.

An event says what happened and when (``now``, local time). ``apply_event`` turns the week
(plan request), its plan and the event into the *week after the event*: everything before
``now`` is history and is kept as it was (its visits become fixed), a visit in progress stays,
and so does the visit an expert is driving to, and so do the nights away that have passed (an
expert who spent Tuesday night in 宇和島市 starts Wednesday there: ``AfterEvent.nights``);
the rest of the week is open again, with the
event's consequences written as the format's own rules (a blackout, a part-day blackout, a
closure, a longer or shorter visit, a request more or less). ``solvers.repair`` plans that week
with every rule, changing as little as it can.

Kinds (FORMAT.md, "Events"):

- ``expert_unavailable`` ``{expert, from, until}`` (local date-times: ill, train stopped);
- ``visit_overrun`` ``{request, minutes}`` (the visit that started runs longer);
- ``urgent_request`` ``{request: {…a plan-request request…}, by: date}``;
- ``cancelled`` ``{request, by: "municipality" | "expert"}``;
- ``no_show`` ``{request}`` (the visit that started ends now: nobody came);
- ``location_closed`` ``{location, date, from, until}`` (``from``/``until`` HH:MM).

Examples
--------
>>> ev = parse_event({"kind": "no_show", "now": "2026-12-08T10:00", "request": "r1"},
...                  week)                                       # doctest: +SKIP
>>> after = apply_event(week, plan, ev)                          # doctest: +SKIP
>>> after.pinned                                                 # doctest: +SKIP
('r1',)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.format.places import Places, expert_names, request_words
from engine.model import (
    Blackout,
    Closure,
    Fixed,
    Horizon,
    Plan,
    PlanRequest,
    Request,
    Visit,
    fmt_time,
)
from engine.nights import night_places
from engine.travel import TravelTimes
from engine.words import month_day

__all__ = ["EVENT_FORMAT", "EVENT_KINDS", "AfterEvent", "Event", "apply_event", "event_to_dict",
           "nights_passed", "parse_event"]

EVENT_FORMAT = "event/1"

#: Each kind with the fields it takes besides ``kind``, ``now``, ``format`` and ``reason``.
EVENT_KINDS: Mapping[str, frozenset[str]] = {
    "expert_unavailable": frozenset({"expert", "from", "until"}),
    "visit_overrun": frozenset({"request", "minutes"}),
    "urgent_request": frozenset({"request", "by"}),
    "cancelled": frozenset({"request", "by"}),
    "no_show": frozenset({"request"}),
    "location_closed": frozenset({"location", "date", "from", "until"}),
}
_COMMON = frozenset({"format", "kind", "now", "reason"})


@dataclass(frozen=True)
class Event:
    """One event, validated against the week it happens in (references are ids).

    Only the fields of its ``kind`` are set: ``expert`` with ``start``/``end`` (date-times) for
    ``expert_unavailable``; ``request`` (an id) for ``visit_overrun`` (with ``minutes``),
    ``cancelled`` (with ``by``: who cancelled), ``no_show``; ``new_request`` and ``by_date`` for
    ``urgent_request``; ``location``, ``date`` and ``start``/``end`` (datetimes on that date)
    for ``location_closed``. ``reason`` is free text for the people told.
    """

    kind: str
    now: dt.datetime
    expert: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    request: str | None = None
    minutes: int | None = None
    by: str | None = None
    new_request: Request | None = None
    by_date: dt.date | None = None
    location: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class AfterEvent:
    """The week after an event: ``week`` to plan (history fixed, ``horizon.history_until`` =
    now), ``previous`` the plan as it stood with the event's facts applied to it (an overrun
    visit longer, a no-show visit ending now) against which changes are counted, ``pinned``
    the requests whose visits are history or under way, ``urgent`` the new request's id,
    ``nights`` the nights that have passed by now, which the repair keeps as they were (see
    ``nights_passed``): (expert, date) → where that day ended, None at the base."""

    event: Event
    week: PlanRequest
    previous: Plan
    pinned: tuple[str, ...]
    urgent: str | None = None
    nights: Mapping[tuple[str, dt.date], str | None] = field(default_factory=dict)


# ---------------------------------------------------------------------------- reading

def _err(path: str, en: str, ja: str) -> Problem:
    return Problem(path, en, ja)


def _request(week: PlanRequest, rid: str, lang: str) -> str:
    """A request of the week as the reasons name it (place and subject), its id when the week
    does not have it; the path (``request``) names the event's field."""
    q = week.request_by_id.get(rid)
    if q is None:
        return rid
    loc = week.location_by_id.get(q.location)
    place = q.location if loc is None else loc.label if lang == "en" else loc.name
    return request_words(q, place, lang)


def _who(week: PlanRequest, eid: str) -> str:
    e = week.expert_by_id.get(eid)
    return e.name if e is not None and e.name else eid


def _span(h: Horizon) -> str:
    """The week's first and last days as messages write them: ``12/7 – 12/11``."""
    return f"{month_day(h.start)} – {month_day(h.end)}"


def _datetime(x: Mapping[str, Any], key: str, out: list[Problem]) -> dt.datetime | None:
    v = x.get(key)
    if v is None:
        out.append(_err(key, "is required", "必須項目です"))
        return None
    if isinstance(v, str) and len(v) in (16, 19) and v[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(v)
        except ValueError:
            pass
    out.append(_err(key, f"must be a local date and time YYYY-MM-DDTHH:MM, got {v!r}",
                    f"日時（YYYY-MM-DDTHH:MM）である必要があります（{v!r}）"))
    return None


def _date(x: Mapping[str, Any], key: str, out: list[Problem]) -> dt.date | None:
    v = x.get(key)
    if v is None:
        out.append(_err(key, "is required", "必須項目です"))
        return None
    if isinstance(v, str) and len(v) == 10:
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
    out.append(_err(key, f"must be a date YYYY-MM-DD, got {v!r}",
                    f"日付（YYYY-MM-DD）である必要があります（{v!r}）"))
    return None


def _time(x: Mapping[str, Any], key: str, out: list[Problem]) -> int | None:
    v = x.get(key)
    if isinstance(v, str) and len(v) == 5 and v[2] == ":" and v[:2].isdigit() \
            and v[3:].isdigit() and int(v[:2]) < 24 and int(v[3:]) < 60:
        return int(v[:2]) * 60 + int(v[3:])
    out.append(_err(key, "is required" if v is None else f"must be a time HH:MM, got {v!r}",
                    "必須項目です" if v is None else f"時刻（HH:MM）である必要があります（{v!r}）"))
    return None


def _string(x: Mapping[str, Any], key: str, out: list[Problem]) -> str | None:
    v = x.get(key)
    if isinstance(v, str) and v.strip():
        return v
    out.append(_err(key, "is required" if v is None else "must be a non-empty string",
                    "必須項目です" if v is None else "空でない文字列である必要があります"))
    return None


def _planned_request(week: PlanRequest, x: Mapping[str, Any], out: list[Problem]) -> str | None:
    rid = _string(x, "request", out)
    if rid is not None and rid not in week.request_by_id:
        out.append(_err("request", f"unknown request {rid!r}", f"不明な依頼 {rid!r} です"))
        return None
    return rid


def parse_event(doc: Any, week: PlanRequest) -> Event:
    """Validate an event document against ``week``; ``InputError`` names every bad field by its
    path (``request.duration_min``, ``until``). Experts and locations may be named as in the
    plan request (``"広報担当"``, ``"上島町"``)."""

    if not isinstance(doc, dict):
        raise InputError(_err("", "an event must be a JSON object", "イベントは JSON オブジェクトです"))
    out: list[Problem] = []
    fmt = doc.get("format", EVENT_FORMAT)
    if fmt != EVENT_FORMAT:
        out.append(_err("format", f"must be {EVENT_FORMAT!r}, got {fmt!r}",
                        f"{EVENT_FORMAT!r} である必要があります（{fmt!r}）"))
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind not in EVENT_KINDS:
        out.append(_err("kind", f"must be one of {', '.join(EVENT_KINDS)}, got {kind!r}",
                        f"{'、'.join(EVENT_KINDS)} のいずれかである必要があります（{kind!r}）"))
        raise InputError(out)
    allowed = EVENT_KINDS[kind] | _COMMON
    out += [_err(k, f"unknown field for {kind} (allowed: {', '.join(sorted(allowed))})",
                 f"{kind} には不明な項目です") for k in doc if k not in allowed]
    now = _datetime(doc, "now", out)
    h = week.horizon
    if now is not None and not h.start <= now.date() <= h.end + dt.timedelta(days=1):
        out.append(_err("now", f"{month_day(now)} is outside the week {_span(h)}",
                        f"{month_day(now)} は計画期間 {_span(h)} の外です"))
    reason = doc.get("reason", "")
    if not isinstance(reason, str):
        out.append(_err("reason", "must be a string", "文字列である必要があります"))
        reason = ""
    if kind == "expert_unavailable":
        ev = _unavailable_fields(doc, week, out)
    elif kind in ("visit_overrun", "no_show", "cancelled"):
        ev = _visit_fields(doc, week, kind, out)
    elif kind == "urgent_request":
        ev = _urgent_fields(doc, week, now, out)
    else:   # location_closed
        ev = _closed_fields(doc, week, out)
    if out:
        raise InputError(out)
    assert now is not None
    return Event(kind=kind, now=now, reason=reason, **ev)


def _unavailable_fields(doc: dict[str, Any], week: PlanRequest,
                        out: list[Problem]) -> dict[str, Any]:
    """The expert and the span of an ``expert_unavailable`` event."""
    raw = _string(doc, "expert", out)
    eid = expert_names(list(week.experts)).resolve(raw) if raw else None
    if raw and eid is None:
        out.append(_err("expert", f"unknown expert {raw!r}", f"不明な専門家 {raw!r} です"))
    start, end = _datetime(doc, "from", out), _datetime(doc, "until", out)
    if start and end and end <= start:
        out.append(_err("until", f"must be after from ({start:%Y-%m-%d %H:%M})",
                        f"from（{start:%Y-%m-%d %H:%M}）より後である必要があります"))
    return {"expert": eid, "start": start, "end": end}


def _visit_fields(doc: dict[str, Any], week: PlanRequest, kind: str,
                  out: list[Problem]) -> dict[str, Any]:
    """The visit of an overrun, no-show or cancellation (with its minutes, or who cancelled)."""
    ev: dict[str, Any] = {"request": _planned_request(week, doc, out)}
    if kind == "visit_overrun":
        m = doc.get("minutes")
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= 600:
            out.append(_err("minutes", f"must be whole minutes from 1 to 600, got {m!r}",
                            f"1 から 600 までの整数（分）である必要があります（{m!r}）"))
        else:
            ev["minutes"] = m
    if kind == "cancelled":
        by = doc.get("by")
        if by not in ("municipality", "expert"):
            out.append(_err("by", f"must be 'municipality' or 'expert', got {by!r}",
                            f"'municipality' か 'expert' である必要があります（{by!r}）"))
        ev["by"] = by
    return ev


def _urgent_fields(doc: dict[str, Any], week: PlanRequest, now: dt.datetime | None,
                   out: list[Problem]) -> dict[str, Any]:
    """The new request of an ``urgent_request`` event and the date it is needed by."""
    ev: dict[str, Any] = {}
    h = week.horizon
    by_date = _date(doc, "by", out)
    if by_date and not h.start <= by_date <= h.end:
        out.append(_err("by", f"{month_day(by_date)} is outside the week {_span(h)}",
                        f"{month_day(by_date)} は計画期間 {_span(h)} の外です"))
        by_date = None
    raw = doc.get("request")
    if not isinstance(raw, dict):
        out.append(_err("request", "must be an object (a request of the plan request)",
                        "オブジェクト（依頼）である必要があります"))
    elif by_date and now:
        q, problems = _read_request(week, raw, now, by_date)
        out += problems
        ev = {"new_request": q, "by_date": by_date}
    return ev


def _closed_fields(doc: dict[str, Any], week: PlanRequest, out: list[Problem]) -> dict[str, Any]:
    """The place, date and hours of a ``location_closed`` event."""
    ev: dict[str, Any] = {}
    h = week.horizon
    raw = _string(doc, "location", out)
    places = Places(list(week.locations))
    lid = places.resolve(raw) if raw else None
    if raw and (lid is None or lid not in week.location_by_id):
        out.append(_err("location", f"unknown location {raw!r}", f"不明な場所 {raw!r} です"))
        lid = None
    day = _date(doc, "date", out)
    if day and not h.start <= day <= h.end:
        out.append(_err("date", f"{month_day(day)} is outside the week {_span(h)}",
                        f"{month_day(day)} は計画期間 {_span(h)} の外です"))
    lo, hi = _time(doc, "from", out), _time(doc, "until", out)
    if lo is not None and hi is not None and hi <= lo:
        out.append(_err("until", f"must be after from ({fmt_time(lo)})",
                        f"from（{fmt_time(lo)}）より後である必要があります"))
    if day and lo is not None and hi is not None:
        base = dt.datetime.combine(day, dt.time())
        ev = {"location": lid, "start": base + dt.timedelta(minutes=lo),
              "end": base + dt.timedelta(minutes=hi)}
    return ev

def _read_request(week: PlanRequest, raw: Mapping[str, Any], now: dt.datetime,
                  by: dt.date) -> tuple[Request | None, list[Problem]]:
    """The urgent request, read by the plan request's own rules (its paths under
    ``request.``): due ``by`` that date, from today on unless it says otherwise."""

    x = dict(raw)
    x.setdefault("earliest", max(week.horizon.start, now.date()).isoformat())
    x.setdefault("latest", by.isoformat())
    if isinstance(x.get("id"), str) and x["id"] in week.request_by_id:
        return None, [_err("request.id", f"{x['id']!r} is already a request of the week",
                           f"{x['id']!r} はすでにこの週の依頼です")]
    doc = plan_request_to_dict(week)
    doc["requests"] = [*doc["requests"], x]
    n = len(week.requests)
    prefix = f"requests[{n}]"
    try:
        problem = parse_plan_request(doc)
    except InputError as e:
        mine = [replace(p, path="request" + p.path[len(prefix):]) for p in e.problems
                if p.path.startswith(prefix)]
        return None, mine or e.problems
    q = problem.requests[-1]
    if q.latest > by:
        return None, [_err("request.latest", f"must not be after by ({by})",
                           f"by（{by}）より後にはできません")]
    return replace(q, fixed=None), []


def event_to_dict(ev: Event) -> dict[str, Any]:
    """The event as a JSON-ready ``event/1`` document (references as ids)."""

    d: dict[str, Any] = {"format": EVENT_FORMAT, "kind": ev.kind,
                         "now": ev.now.isoformat(timespec="minutes")}
    if ev.kind == "expert_unavailable":
        assert ev.start is not None and ev.end is not None
        d.update(expert=ev.expert, **{"from": ev.start.isoformat(timespec="minutes"),
                                      "until": ev.end.isoformat(timespec="minutes")})
    elif ev.kind == "location_closed":
        assert ev.start is not None and ev.end is not None
        d.update(location=ev.location, date=ev.start.date().isoformat(),
                 **{"from": f"{ev.start:%H:%M}", "until": f"{ev.end:%H:%M}"})
    elif ev.kind == "urgent_request":
        assert ev.new_request is not None and ev.by_date is not None
        week = PlanRequest(horizon=_any_horizon(ev), locations=(), experts=(),
                           requests=(ev.new_request,))
        d.update(request=plan_request_to_dict(week)["requests"][0], by=ev.by_date.isoformat())
    else:
        d["request"] = ev.request
        if ev.minutes is not None:
            d["minutes"] = ev.minutes
        if ev.by is not None:
            d["by"] = ev.by
    if ev.reason:
        d["reason"] = ev.reason
    return d


def _any_horizon(ev: Event) -> Any:
    return Horizon(ev.now.date(), ev.now.date())


# ---------------------------------------------------------------------------- applying

def _minute(t: dt.datetime) -> int:
    return t.hour * 60 + t.minute


def _arrival_leg_departures(week: PlanRequest, plan: Plan, travel: TravelTimes
                            ) -> dict[tuple[str, str], int]:
    """(request, expert) → when the expert leaves for that on-site visit: the plan's own
    ``legs`` where it has them, else just in time."""
    out: dict[tuple[str, str], int] = {}
    routes = {(rt.expert, rt.date): rt for rt in plan.routes}
    per: dict[tuple[str, dt.date], list[Visit]] = {}
    for v in plan.visits:
        if v.mode == "onsite":
            for e in v.experts:
                per.setdefault((e, v.date), []).append(v)
    for (eid, day), vs in per.items():
        vs.sort(key=lambda v: v.start)
        rt = routes.get((eid, day))
        expert = week.expert_by_id.get(eid)
        here = expert.base if expert is not None else vs[0].location
        for k, v in enumerate(vs):
            if rt is not None and len(rt.departures) == len(vs) + 1 \
                    and list(rt.stops) == [w.location for w in vs]:
                out[v.request, eid] = rt.departures[k]
            else:
                out[v.request, eid] = v.start - travel.minutes(here, v.location)
            here = v.location
    return out


def _overrun_fits(week: PlanRequest, travel: TravelTimes, v: Visit, end: int,
                  pins: Mapping[str, Visit]) -> None:
    """Refuse (``InputError`` on ``minutes``) an overrun after which the day's history cannot
    stand: a visit already fixed later that day for one of its experts starts before the
    longer visit ends (and the drive there), or, after the last on-site visit, the expert
    cannot be home by the end of work — no plan of the week after could keep both."""
    for eid in v.experts:
        e = week.expert_by_id.get(eid)
        later = sorted((w for w in pins.values() if w.date == v.date and eid in w.experts
                        and w.start > v.start), key=lambda w: w.start)
        if later:
            w = later[0]
            need = end + (travel.minutes(v.location, w.location)
                          if v.mode == "onsite" and w.mode == "onsite" else 0)
            if w.start < need:
                raise InputError(_err(
                    "minutes", f"{_request(week, v.request, 'en')} would end at {fmt_time(end)}, "
                    f"and {_who(week, eid)} is due at {_request(week, w.request, 'en')} at "
                    f"{fmt_time(w.start)}",
                    f"{_request(week, v.request, 'ja')} の終了が {fmt_time(end)} となり、"
                    f"{_who(week, eid)} の次の訪問 {_request(week, w.request, 'ja')}"
                    f"（{fmt_time(w.start)}）に間に合いません"))
        if e is None or v.mode != "onsite" or any(w.mode == "onsite" for w in later):
            continue
        home = end + travel.minutes(v.location, e.base)
        if home > e.day_end:
            raise InputError(_err(
                "minutes", f"{_request(week, v.request, 'en')} would end at {fmt_time(end)}, "
                f"and {_who(week, eid)} would be back at {fmt_time(home)}, after the end of "
                f"work ({fmt_time(e.day_end)})",
                f"{_request(week, v.request, 'ja')} の終了が {fmt_time(end)} となり、"
                f"{_who(week, eid)} の帰着が {fmt_time(home)} と勤務終了（{fmt_time(e.day_end)}）"
                "を過ぎます"))


def apply_event(week: PlanRequest, plan: Plan, event: Event) -> AfterEvent:
    """The week after ``event`` (see the module docstring). Raises ``InputError`` (paths of the
    event document) when the event does not fit the plan: an overrun or no-show of a visit that
    has not started, a cancellation of one that has, an overrun past closing time."""
    now = event.now
    today, minute = now.date(), _minute(now)
    travel = TravelTimes(week)
    leaving = _arrival_leg_departures(week, plan, travel)
    visits = {v.request: v for v in plan.visits if v.request in week.request_by_id}

    def started(v: Visit) -> bool:
        return v.date < today or (v.date == today and v.start < minute)

    def pinned(v: Visit) -> bool:
        # history, under way, or being driven to: an expert mid-drive arrives
        return started(v) or (v.date == today and any(
            leaving.get((v.request, e), 24 * 60) <= minute for e in v.experts))

    ends: dict[str, int] = {}
    requests = list(week.requests)
    urgent = None
    blackouts = list(week.horizon.blackouts)
    closures = list(week.horizon.closures)
    if event.kind in ("visit_overrun", "no_show", "cancelled"):
        requests, ends = _visit_event(week, event, visits, started, requests)
    elif event.kind == "urgent_request":
        assert event.new_request is not None
        urgent = event.new_request.id
        requests.append(event.new_request)

    pins = {rid: v for rid, v in visits.items() if pinned(v) and
            any(q.id == rid for q in requests)}
    durations = {rid: end - visits[rid].start for rid, end in ends.items()}
    if event.kind == "visit_overrun":
        assert event.request is not None
        _overrun_fits(week, travel, visits[event.request], ends[event.request], pins)

    if event.kind == "expert_unavailable":
        blackouts += _unavailable_blackouts(week, event, pins, durations)
    elif event.kind == "location_closed":
        closures += _closure(event, pins, durations)

    out = [_pinned_request(q, pins.get(q.id), durations) for q in requests]
    horizon = replace(week.horizon, history_until=now.replace(second=0, microsecond=0),
                      published_until=None, blackouts=tuple(blackouts), closures=tuple(closures))
    after = replace(week, horizon=horizon, requests=tuple(out))
    previous = replace(plan, visits=tuple(
        replace(v, end=v.start + durations[v.request]) if v.request in durations else v
        for v in plan.visits))
    return AfterEvent(event, after, previous, tuple(sorted(pins)), urgent,
                      nights_passed(week, plan, now))


def nights_passed(week: PlanRequest, plan: Plan, now: dt.datetime
                  ) -> dict[tuple[str, dt.date], str | None]:
    """Where each night that has passed by ``now`` was spent, as the plan has it: for every
    expert who may stay away (``experts[].overnight``) and every date of the week before
    ``now``'s date — and ``now``'s date itself when its route is back by ``now`` — the place
    that day's route ends (None: the base, as on a date without a route). They happened: the
    day after a night in 宇和島市 starts there, whatever the repair would prefer now."""
    today, minute = now.date(), _minute(now)
    routes = {(r.expert, r.date): r for r in plan.routes}
    out: dict[tuple[str, dt.date], str | None] = {}
    for e in week.experts:
        if not night_places(week, e):
            continue
        for d in week.horizon.dates:
            r = routes.get((e.id, d))
            if d < today or (d == today and r is not None and r.return_ <= minute):
                out[e.id, d] = None if r is None or r.end_at == e.base else r.end_at
    return out


def _visit_event(week: PlanRequest, event: Event, visits: dict[str, Visit],
                 started: Callable[[Visit], bool], requests: list[Request]
                 ) -> tuple[list[Request], dict[str, int]]:
    """An event about one visit of the plan: the requests that remain (a cancelled visit's
    leaves) and the new end of the visit (an overrun's, or a no-show's: now)."""
    now = event.now
    today, minute = now.date(), _minute(now)
    ends: dict[str, int] = {}
    rid = event.request
    assert rid is not None
    v = visits.get(rid)
    en, ja = _request(week, rid, "en"), _request(week, rid, "ja")
    if v is None:
        raise InputError(_err("request", f"{en} has no visit in the plan",
                              f"{ja} は計画に訪問がありません"))
    if event.kind == "cancelled":
        if started(v):
            raise InputError(_err("request", f"{en} started at {month_day(v.date)} "
                                  f"{fmt_time(v.start)}:"
                                  " a visit under way is not cancelled (no_show ends it)",
                                  f"{ja} は {month_day(v.date)} {fmt_time(v.start)} に始まって"
                                  "います。"
                                  "始まった訪問は取り消せません（no_show を使ってください）"))
        requests = [q for q in requests if q.id != rid]
    elif not started(v):
        raise InputError(_err("request", f"{en} has not started by now "
                              f"({month_day(v.date)} {fmt_time(v.start)})",
                              f"{ja} はまだ始まっていません（{month_day(v.date)} "
                              f"{fmt_time(v.start)}）"))
    elif event.kind == "visit_overrun":
        assert event.minutes is not None
        end = v.end + event.minutes
        loc = week.location_by_id[v.location]
        last = min([loc.close, *(week.expert_by_id[e].day_end for e in v.experts
                                 if e in week.expert_by_id)])
        if end > last:
            raise InputError(_err("minutes", f"{en} would end at {fmt_time(end)}, after "
                                  f"{fmt_time(last)} (closing or the end of work)",
                                  f"{ja} の終了が {fmt_time(end)} となり、{fmt_time(last)}"
                                  "（閉庁または勤務終了）を過ぎます"))
        ends[rid] = end
    else:   # no_show: the visit ends now (the expert was there until now)
        if v.date == today and minute < v.end:
            ends[rid] = max(minute, v.start + 1)
    return requests, ends


def _unavailable_blackouts(week: PlanRequest, event: Event, pins: dict[str, Visit],
                           durations: dict[str, int]) -> list[Blackout]:
    """The blackouts of an expert unavailable from now (or the event's start) to its end, day
    by day, each after the pinned visits the expert is still at."""
    assert event.expert is not None and event.start is not None and event.end is not None
    e = week.expert_by_id[event.expert]
    lo = max(event.start, event.now)
    day = lo.date()
    out: list[Blackout] = []
    while day <= min(event.end.date(), week.horizon.end):
        a = _minute(lo) if day == lo.date() else 0
        b = _minute(event.end) if day == event.end.date() else 24 * 60
        mine = [v for v in pins.values() if v.date == day and event.expert in v.experts]
        a = max([a, *(v.start + durations.get(v.request, v.end - v.start) for v in mine
                      if v.start < b)])
        if day >= week.horizon.start and a < b:
            if a <= e.work_start and b >= e.day_end and not mine:
                out.append(Blackout(day, (e.id,), event.reason or "unavailable"))
            else:
                out.append(Blackout(day, (e.id,), event.reason or "unavailable", a, b))
        day += dt.timedelta(days=1)
    return out


def _closure(event: Event, pins: dict[str, Visit], durations: dict[str, int]) -> list[Closure]:
    """The closure of a location (none when nothing is left of it after the pinned visits
    there)."""
    assert event.location is not None and event.start is not None and event.end is not None
    day, a, b = event.start.date(), _minute(event.start), _minute(event.end)
    a = max([a, *(v.start + durations.get(v.request, v.end - v.start)
                  for v in pins.values()
                  if v.date == day and v.location == event.location and v.start < b)])
    return [Closure(event.location, day, a, b, event.reason or "closed")] if a < b else []


def _pinned_request(q: Request, v: Visit | None, durations: dict[str, int]) -> Request:
    """The request after the event: published (fixed) as its pinned visit ``v`` is, with its
    duration (an overrun's) and its window and dates widened to hold it; or not published."""
    if v is None:
        return replace(q, fixed=None)
    dur = durations.get(q.id, v.end - v.start)
    window = q.window
    if window is not None and (v.start < window[0] or v.start + dur > window[1]):
        window = (min(window[0], v.start), max(window[1], v.start + dur))
    return replace(q, fixed=Fixed(v.experts, v.date, v.start), duration_min=dur,
                   window=window, earliest=min(q.earliest, v.date),
                   latest=max(q.latest, v.date))
