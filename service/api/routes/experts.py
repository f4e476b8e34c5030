"""``/v1/experts``: the experts, their published schedule and their calendar feed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Path, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from engine.format import parse_plan, parse_plan_request
from engine.format.reader import Reader
from engine.ical import expert_calendar, uid
from engine.model import Break, Busy, Plan, PlanRequest, Route, Visit
from engine.model import Request as Req
from engine.names import resolve_municipality
from service.api.deps import CentreKey, CurrentKey, Id, SessionDep, SettingsDep, audit, not_found
from service.api.views import expert_view, visit_view
from service.auth import Principal, feed_token
from service.calendars import calendar_stems
from service.clock import japan_now
from service.db import ExpertRow, MunicipalityRow, RequestRow, VisitRow, utcnow
from service.problems import ApiProblem, check_entry
from service.schemas import ExpertPatch
from service.weeks import published_plan, week_dates

router = APIRouter(prefix="/v1", tags=["experts"])


def expert_access(who: Principal, expert_id: str, s: Session) -> None:
    """The centre reads every expert's schedule, an expert its own; municipalities none."""
    if who.role == "municipality":
        raise ApiProblem(403, "municipalities cannot read expert schedules",
                         "自治体は専門家の予定を参照できません")
    if who.role == "expert" and who.expert != expert_id:
        raise ApiProblem(403, "an expert key reads its own schedule only",
                         "自分以外の専門家の予定は参照できません")
    if s.get(ExpertRow, expert_id) is None:
        raise not_found("expert", expert_id)


#: what the API shows beside an appointment's place and never stores
_SHOWN_ONLY = {"at_name_ja", "at_name_en"}


def _places(s: Session) -> dict[str, MunicipalityRow]:
    """The municipalities by code (what an appointment's place is named by)."""
    return {m.code: m for m in s.scalars(select(MunicipalityRow))}


@router.get("/experts")
def list_experts(who: CurrentKey, s: SessionDep) -> list[dict[str, Any]]:
    """Experts with fields, base, hours, available days and caps."""
    places = _places(s)
    return [expert_view(e, places) for e in s.scalars(select(ExpertRow).order_by(ExpertRow.id))]


@router.get("/experts/{expert_id}")
def get_expert(expert_id: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    e = s.get(ExpertRow, expert_id)
    if e is None:
        raise not_found("expert", expert_id)
    return expert_view(e, _places(s))


@router.patch("/experts/{expert_id}")
def patch_expert(expert_id: Id, who: CentreKey, s: SessionDep,
                 body: Annotated[ExpertPatch, Body()]) -> dict[str, Any]:
    """Change availability (``days``), hours, caps, overtime, lunch, nights away
    (``overnight``) or the standing appointments (``busy``, the whole list; ``null`` removes
    any of them). Centre only."""
    e = s.get(ExpertRow, expert_id)
    if e is None:
        raise not_found("expert", expert_id)
    doc = dict(e.doc)
    changes = body.model_dump(exclude_unset=True, mode="json")
    for k in ("overtime", "lunch", "overnight"):     # whole, with their defaults written
        if getattr(body, k) is not None:
            changes[k] = getattr(body, k).model_dump(mode="json")
    if body.busy is not None:       # as the format writes them: a place only where one is given
        changes["busy"] = [b.model_dump(mode="json", exclude_none=True, exclude=_SHOWN_ONLY)
                           for b in body.busy] or None
    doc.update({k: v for k, v in changes.items()})
    for k in [k for k, v in doc.items() if v is None]:
        del doc[k]
    start, end = doc.get("work_start", "08:30"), doc.get("work_end", "17:15")
    if start >= end:
        raise InputError(Problem("work_end", "must be after work_start",
                                 "work_start より後である必要があります"))
    most = (doc.get("overtime") or {}).get("max_minutes", 0)
    if int(end[:2]) * 60 + int(end[3:]) + most > 24 * 60:
        raise InputError(Problem("overtime.max_minutes", f"{most} min after work_end ({end}) "
                                 "ends after 24:00", f"勤務終了（{end}）の {most} 分後は "
                                 "24:00 を過ぎます"))
    _format_check(s, doc)
    _busy_check(s, doc)
    e.doc, e.updated_at = doc, utcnow()
    audit(s, who, "expert.update", f"expert:{expert_id}", changes=changes)
    s.commit()
    return expert_view(e, _places(s))


def _format_check(s: Session, doc: dict[str, Any],
                  dates: tuple[str, str] | None = None) -> None:
    """Check the expert against the plan-request/1 rules (a lunch window outside the working
    hours, a night's place that is no municipality), so that a change accepted here never
    makes a week's plan job fail; problems name the expert's own fields (``lunch.window``,
    not ``experts[0].lunch.window``). Dated entries (``days``, ``busy``) are each week's:
    the standing appointments are checked only with the horizon ``dates`` that holds them."""
    drop = ("days",) if dates else ("days", "busy")
    probe = {"format": "plan-request/1",
             "horizon": {"start": dates[0] if dates else "2026-12-07",
                         "end": dates[1] if dates else "2026-12-11"},
             "locations": [m.location for m in s.scalars(select(MunicipalityRow))],
             "experts": [{k: v for k, v in doc.items() if k not in drop}],
             "requests": []}
    check_entry(probe, "experts[0]")


def _busy_check(s: Session, doc: dict[str, Any]) -> None:
    """Check the standing appointments as the format does (each within the working hours,
    none overlapping one at a place, each place known and reachable in time on its date),
    over horizons of at most a year each: problems name ``busy[j]`` as the list was given."""
    items = sorted(enumerate(doc.get("busy") or []), key=lambda x: x[1]["date"])
    chunks: list[list[tuple[int, dict[str, Any]]]] = []
    for j, b in items:
        if chunks and (dt.date.fromisoformat(b["date"])
                       - dt.date.fromisoformat(chunks[-1][0][1]["date"])).days < 366:
            chunks[-1].append((j, b))
        else:
            chunks.append([(j, b)])
    problems: list[Problem] = []
    for chunk in chunks:
        try:
            _format_check(s, {**doc, "busy": [b for _, b in chunk]},
                          (chunk[0][1]["date"], chunk[-1][1]["date"]))
        except InputError as err:
            problems += [Problem(_renumber(p.path, [j for j, _ in chunk]), p.message,
                                 p.message_ja) for p in err.problems]
    if problems:
        raise InputError(sorted(problems, key=_given_order))


def _given_order(p: Problem) -> int:
    m = re.match(r"busy\[(\d+)\]", p.path)
    return int(m.group(1)) if m else -1


def _renumber(path: str, given: list[int]) -> str:
    """``busy[k]…`` of a probe as ``busy[j]…`` of the list as given (``given[k] == j``)."""
    m = re.match(r"busy\[(\d+)\]", path)
    return f"busy[{given[int(m.group(1))]}]{path[m.end():]}" if m else path


@router.get("/experts/{expert_id}/schedule")
def expert_schedule(expert_id: Id, who: CurrentKey, s: SessionDep, settings: SettingsDep,
                    week: Annotated[dt.date | None, Query()] = None) -> list[dict[str, Any]]:
    """The expert's published visits (centre, or that expert)."""
    expert_access(who, expert_id, s)
    if week is not None:
        week_dates(week)
    rows = s.scalars(select(VisitRow).where(VisitRow.active.is_(True))
                     .order_by(VisitRow.date, VisitRow.start))
    out = []
    now = japan_now(settings)
    for v in rows:
        if expert_id in v.experts and (week is None or v.week == week):
            out.append(visit_view(v, who, s.get(RequestRow, v.request_id), now=now))
    return out


@router.get("/experts/{expert_id}/calendar-url")
def calendar_url(expert_id: Id, who: CurrentKey, s: SessionDep,
                 request: Request) -> dict[str, str]:
    """The secret iCalendar feed URL of the expert's published visits."""
    expert_access(who, expert_id, s)
    token = feed_token(request.app.state.feed_secret, expert_id)
    path = f"/v1/feeds/{expert_id}/{token}.ics"
    return {"path": path, "url": str(request.base_url).rstrip("/") + path}


@router.get("/feeds/{expert_id}/{token}.ics",
            responses={200: {"content": {"text/calendar": {}}}})
def calendar_feed(expert_id: Id, token: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
                  s: SessionDep, request: Request) -> Response:
    """iCalendar feed (no key: the URL is the credential)."""
    good = feed_token(request.app.state.feed_secret, expert_id)
    row = s.get(ExpertRow, expert_id)
    if not hmac.compare_digest(good.encode(), token.encode()) or row is None:
        raise not_found("feed", expert_id)
    # the expert's working days play no part in a feed; the standing appointments are in it,
    # read apart (dated perhaps far from the visits, they would stretch the horizon)
    expert_doc = {k: v for k, v in row.doc.items() if k not in ("days", "busy")}
    mine = [v for v in s.scalars(select(VisitRow).order_by(VisitRow.id))
            if expert_id in v.experts]
    rows = [v for v in mine if v.active]
    # SEQUENCE: how many times the expert's event for that request was replaced; a request
    # whose last row with this expert is no longer active was taken away: cancelled
    versions: dict[str, list[VisitRow]] = {}
    for v in mine:
        versions.setdefault(v.request_id, []).append(v)
    sequences = {uid(rid, expert_id): len(vs) - 1 for rid, vs in versions.items()}
    gone = [(Visit(rid, tuple(vs[-1].experts), vs[-1].municipality, vs[-1].mode,  # type: ignore[arg-type]
                   vs[-1].date, vs[-1].start, vs[-1].end), len(vs))
            for rid, vs in versions.items() if not any(v.active for v in vs)]
    reqs, visits = [], []
    for v in rows:
        q = s.get(RequestRow, v.request_id)
        if q is None:
            continue
        reqs.append({"id": q.id, "location": q.municipality, **q.doc,
                     "earliest": v.date.isoformat(), "latest": v.date.isoformat()})
        visits.append(Visit(v.request_id, tuple(v.experts), v.municipality, v.mode,  # type: ignore[arg-type]
                            v.date, v.start, v.end))
    breaks, routes = _published_own_time(s, expert_id,
                                         {v.week for v in rows if v.week is not None})
    days = sorted({v.date for v in rows}) or [dt.date.today()]
    locations = [m.location for m in s.scalars(select(MunicipalityRow))]
    problem = parse_plan_request({"format": "plan-request/1",
                                  "horizon": {"start": days[0].isoformat(),
                                              "end": days[-1].isoformat(),
                                              "skip_holidays": False},
                                  "locations": locations, "experts": [expert_doc],
                                  "requests": []})
    expert = dataclasses.replace(problem.experts[0],
                                 busy=_stored_busy(row.doc.get("busy", []), problem))
    problem = dataclasses.replace(problem, requests=tuple(_request_obj(r) for r in reqs),
                                  experts=(expert,))
    body = expert_calendar(problem, Plan("feasible", None, None, 0.0, tuple(visits),
                                         routes=routes, breaks=breaks),
                           expert_id, sequences=sequences, cancelled=gone)
    # saved from a browser, the file is named as the CLI names it (広報担当.ics), not by the
    # token in the URL; an ASCII name first for clients that do not read RFC 5987
    stem = calendar_stems(problem.experts, "ja")[expert_id]
    disposition = f"inline; filename=\"calendar.ics\"; filename*=UTF-8''{quote(stem + '.ics')}"
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": disposition})


def _stored_busy(items: list[dict[str, Any]], problem: PlanRequest) -> tuple[Busy, ...]:
    """An expert's stored standing appointments (checked when they were stored) as the
    format reads them, each place by its code."""
    r = Reader()
    out = []
    for b in items:
        start, end = r.time(b.get("start"), "busy"), r.time(b.get("end"), "busy")
        at = b.get("at")
        if start is None or end is None:
            continue
        place = at if at is None or at in problem.location_by_id else resolve_municipality(at)
        out.append(Busy(dt.date.fromisoformat(b["date"]), start, end, place))
    return tuple(out)


def _published_own_time(s: Session, expert_id: str, weeks: set[dt.date]
                        ) -> tuple[tuple[Break, ...], tuple[Route, ...]]:
    """The expert's lunch breaks and on-site days (where a night away shows) in the published
    plans of ``weeks``: what the feed shows beside the visits."""
    breaks: list[Break] = []
    routes: list[Route] = []
    for week in sorted(weeks):
        pub = published_plan(s, week)
        if pub is None or not pub.plan:
            continue
        plan = parse_plan(pub.plan)
        breaks += [b for b in plan.breaks if b.expert == expert_id]
        routes += [r for r in plan.routes if r.expert == expert_id]
    return tuple(breaks), tuple(routes)


def _request_obj(x: dict[str, Any]) -> Any:
    return Req(id=x["id"], location=x["location"], fields=tuple(x["fields"]), mode=x["mode"],
               duration_min=x["duration_min"], priority=x["priority"],
               earliest=dt.date.fromisoformat(x["earliest"]),
               latest=dt.date.fromisoformat(x["latest"]), title=x.get("title", ""),
               confidential=bool(x.get("confidential", False)))
