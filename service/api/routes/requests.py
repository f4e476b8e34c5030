"""``/v1/requests``: consultation requests and their lifecycle
draft → submitted → scheduled → done, or cancelled."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from engine.words import month_day
from service.api.deps import (
    CurrentKey,
    Id,
    PageDep,
    SessionDep,
    SettingsDep,
    WriterKey,
    allow,
    audit,
    not_found,
    paged,
)
from service.api.views import request_view
from service.auth import Principal
from service.config import Settings
from service.db import MunicipalityRow, PlanJob, RequestRow, VisitRow, utcnow
from service.glossary import state_words
from service.problems import ApiProblem, check_entry
from service.reasons import municipality_reasons
from service.schemas import RequestIn, RequestPatch
from service.weeks import week_dates

router = APIRouter(prefix="/v1/requests", tags=["requests"])


def own_request(s: Session, who: Principal, rid: str) -> RequestRow:
    """The request if the caller may see it: 404 for another municipality's, exactly as for
    an unknown id."""
    if who.role == "expert":  # before the lookup: the answer must not depend on the id
        raise ApiProblem(403, "experts do not manage requests", "専門家は相談依頼を扱えません")
    q = s.get(RequestRow, rid)
    if q is None or (who.role == "municipality" and q.municipality != who.municipality):
        raise not_found("request", rid)
    return q


def format_check(s: Session, muni: str, doc: dict[str, Any], earliest: dt.date,
                 latest: dt.date) -> None:
    """Check one request against the plan-request/1 rules (e.g. a window shorter than the
    duration), so a request accepted here can never make a week's plan job fail; problems
    name the request's own fields (``window``, not ``requests[0].window``)."""
    m = s.get(MunicipalityRow, muni)
    if m is None:
        raise InputError(Problem("municipality", f"unknown municipality {muni!r}",
                                 f"不明な自治体 {muni!r} です"))
    fields = list(dict.fromkeys(doc.get("fields", [])))
    probe = {"format": "plan-request/1",
             "horizon": {"start": earliest.isoformat(), "end": latest.isoformat()},
             "locations": [m.location],
             "experts": [{"id": f"probe-{i}", "fields": [f], "base": muni}
                         for i, f in enumerate(fields)],
             "requests": [{"id": "probe", "location": muni,
                           **{k: v for k, v in doc.items() if k != "after"},
                           "earliest": earliest.isoformat(), "latest": latest.isoformat()}]}
    check_entry(probe, "requests[0]")


def _visit_date(s: Session, rid: str) -> str | None:
    """The date of the request's published visit (None while it has none)."""
    v = s.scalars(select(VisitRow).where(VisitRow.request_id == rid, VisitRow.active.is_(True))
                  .order_by(VisitRow.date.desc())).first()
    return v.date.isoformat() if v is not None else None


def followups_of(s: Session, rows: list[RequestRow]) -> dict[str, list[RequestRow]]:
    """The requests that follow each of ``rows`` (``after.request``), not cancelled, by id: a
    follow-up is always of the same municipality, so only those municipalities are read."""
    ids = {q.id for q in rows}
    out: dict[str, list[RequestRow]] = {}
    if not ids:
        return out
    for f in s.scalars(select(RequestRow).where(
            RequestRow.municipality.in_({q.municipality for q in rows}),
            RequestRow.status != "cancelled").order_by(RequestRow.earliest, RequestRow.id)):
        a = f.doc.get("after")
        if a and a.get("request") in ids:
            out.setdefault(a["request"], []).append(f)
    return out


def with_first_session(s: Session, q: RequestRow,
                       followups: list[RequestRow] | None = None) -> dict[str, Any]:
    """The request's view with, for a follow-up, the session it follows (``after_first``):
    its subject, municipality and fields and the date of its published visit (null while it
    has none); and the sessions that follow it (``followups``, each with the gap asked for,
    ``min_days`` and ``max_days``, and its visit's date). People name a session by these,
    never by its id."""
    out = request_view(q)
    a = q.doc.get("after")
    first = s.get(RequestRow, a["request"]) if a else None
    if first is not None:
        out["after_first"] = {"title": first.doc.get("title", ""),
                              "municipality": first.municipality,
                              "fields": first.doc["fields"],
                              "date": _visit_date(s, first.id)}
    if followups is None:
        followups = followups_of(s, [q]).get(q.id, [])
    out["followups"] = [{"title": f.doc.get("title", ""), "municipality": f.municipality,
                         "fields": f.doc["fields"], "status": f.status,
                         "min_days": f.doc["after"].get("min_days", 1),
                         "max_days": f.doc["after"].get("max_days"),
                         "date": _visit_date(s, f.id)} for f in followups]
    return out


def check_after(s: Session, muni: str, rid: str | None, doc: dict[str, Any]) -> None:
    """A follow-up's link (``after``, the week documents write it as plan-request/1's): it
    names another stored request of the same municipality, closes no cycle, asks no fewer
    days than ``min_days``, and with the same experts the two need as many experts."""
    a = doc.get("after")
    if not a:
        return
    first = s.get(RequestRow, a["request"])
    if first is None or first.municipality != muni:
        raise InputError(Problem("after.request", f"unknown request {a['request']!r}",
                                 f"不明な依頼 {a['request']!r} です"))
    if a.get("max_days") is not None and a["max_days"] < a.get("min_days", 1):
        raise InputError(Problem("after.max_days", f"must not be less than min_days "
                                 f"({a.get('min_days', 1)})",
                                 f"min_days（{a.get('min_days', 1)}）より小さくはできません"))
    if a.get("same_experts", True) and len(first.doc["fields"]) != len(doc["fields"]):
        raise InputError(Problem("after.same_experts", "the same experts cannot make both: "
                                 "the two need different numbers of experts",
                                 "必要な専門家の人数が異なるため、同じ専門家では担当できません"))
    seen = {rid} if rid else set()
    cur: RequestRow | None = first
    while cur is not None:
        if cur.id in seen:
            raise InputError(Problem("after.request", "a request cannot follow itself, "
                                     "directly or through its series",
                                     "自分自身の後には（続きの回を通じても）置けません"))
        seen.add(cur.id)
        nxt = (cur.doc.get("after") or {}).get("request")
        cur = s.get(RequestRow, nxt) if nxt else None


#: Statuses of a request that a week's plan job takes (``service.jobs``).
OPEN = ("submitted", "scheduled")
_EPOCH = dt.date(2000, 1, 3)  # a Monday: weeks are counted from it


def _week(day: dt.date) -> int:
    return (day - _EPOCH).days // 7


def check_week_cap(s: Session, settings: Settings, muni: str, earliest: dt.date,
                   latest: dt.date, *, exclude: str | None = None) -> None:
    """422 when a request of ``muni`` open from ``earliest`` to ``latest`` would be one too
    many in a week: every week a request's dates meet takes it into that week's plan job,
    so one municipality with more than ``max_open_requests_per_week`` open requests in a
    week could push the week past ``max_job_requests`` for everyone. ``exclude``: the
    request itself, when it is being edited."""
    cap = settings.max_open_requests_per_week
    if cap <= 0:
        return
    cond = [RequestRow.municipality == muni, RequestRow.status.in_(OPEN),
            RequestRow.earliest <= latest, RequestRow.latest >= earliest]
    if exclude is not None:
        cond.append(RequestRow.id != exclude)
    first, last = _week(earliest), _week(latest)
    change: dict[int, int] = {}
    for start, end in s.execute(select(RequestRow.earliest, RequestRow.latest).where(*cond)):
        a, b = max(first, _week(start)), min(last, _week(end)) + 1
        change[a] = change.get(a, 0) + 1
        change[b] = change.get(b, 0) - 1
    open_now = 0
    for week in sorted(change):
        open_now += change[week]
        if open_now >= cap and week <= last:
            monday = _EPOCH + dt.timedelta(weeks=week)
            m = s.get(MunicipalityRow, muni)
            name_en, name_ja = (m.name_en, m.name_ja) if m is not None else (muni, muni)
            raise InputError(Problem(
                "earliest",
                f"{name_en} already has {open_now} open requests in the week of {monday} "
                f"(at most {cap} per municipality and week, "
                "DXSHARE_MAX_OPEN_REQUESTS_PER_WEEK); choose other dates or cancel one",
                f"{name_ja}は {monday} の週に既に {open_now} 件の依頼があります（1 自治体・"
                f"1 週あたり上限 {cap} 件、DXSHARE_MAX_OPEN_REQUESTS_PER_WEEK）。"
                "日付を変えるか、いずれかを取り消してください"))


def planning(s: Session, q: RequestRow, who: Principal) -> dict[str, Any] | None:
    """The request's visit in the latest published plan that considered it, or why it was
    left out (a municipality: one general sentence per reason code)."""
    first = q.earliest - dt.timedelta(days=q.earliest.weekday())
    jobs = s.scalars(select(PlanJob).where(PlanJob.published_at.is_not(None),
                                           PlanJob.week >= first, PlanJob.week <= q.latest)
                     .order_by(PlanJob.published_at.desc()))
    for job in jobs:
        plan = job.plan or {}
        for v in plan.get("visits", []):
            if v["request"] == q.id:
                return {"job": job.id, "week": job.week.isoformat() if job.week else None,
                        "scheduled": True, "date": v["date"], "start": v["start"],
                        "end": v["end"], "experts": v["experts"], "mode": v["mode"]}
        for u in plan.get("unscheduled", []):
            if u["request"] == q.id:
                out: dict[str, Any] = {"job": job.id, "scheduled": False,
                                       "week": job.week.isoformat() if job.week else None}
                if who.is_centre:
                    out["reasons"] = u.get("reasons", [])
                    out["reasons_ja"] = u.get("reasons_ja", [])
                    out["codes"] = u.get("codes", [])
                else:
                    out["reasons"] = municipality_reasons(u.get("codes", []))
                return out
    return None


class RequestOut(BaseModel):
    """A request as the API shows it."""

    id: str
    municipality: str
    status: str
    fields: list[str]
    mode: str
    duration_min: int
    priority: int
    earliest: str
    latest: str
    window: list[str] | None
    title: str
    confidential: bool
    #: the follow-up's link, and the session it follows as people name it (its subject,
    #: municipality and fields, the date of its published visit or null): the dashboard's
    #: 「前回: … (date)」; the sessions that follow this one, with the gap each asks for
    after: dict[str, Any] | None = None
    after_first: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = []
    #: the date it is due (plan-request/1 ``requests[].due``), or null
    due: str | None = None
    created_at: str
    updated_at: str
    url: str


@router.get("", response_model=list[RequestOut])
def list_requests(who: WriterKey, s: SessionDep, request: Request, page: PageDep,
                  status: Annotated[str | None, Query(
                      pattern="^(draft|submitted|scheduled|done|cancelled)$")] = None,
                  week: Annotated[dt.date | None, Query()] = None,
                  municipality: Annotated[str | None, Query(
                      max_length=16, pattern=r"^[A-Za-z0-9._-]+$")] = None,
                  ) -> Response:
    """Requests visible to the key: all (centre) or the municipality's own, by id, paged
    by ``limit`` (default 100, at most 1000) and ``offset``; ``X-Total-Count`` gives the
    number of matching rows and ``Link`` the next and previous pages."""
    if week is not None:
        week_dates(week)
    cond = []
    if who.role == "municipality":
        cond.append(RequestRow.municipality == who.municipality)
    if municipality:
        cond.append(RequestRow.municipality == municipality)
    if status:
        cond.append(RequestRow.status == status)
    if week:
        cond += [RequestRow.earliest <= week + dt.timedelta(days=4), RequestRow.latest >= week]
    total = s.scalar(select(func.count()).select_from(RequestRow).where(*cond)) or 0
    rows = list(s.scalars(select(RequestRow).where(*cond).order_by(RequestRow.id)
                          .limit(page.limit).offset(page.offset)))
    nxt = followups_of(s, rows)
    return paged(request, [with_first_session(s, q, nxt.get(q.id, [])) for q in rows], total,
                 page)


@router.post("", status_code=201)
def create_request(who: WriterKey, s: SessionDep, body: RequestIn, settings: SettingsDep,
                   response: Response) -> dict[str, Any]:
    """A new request, ``draft`` (or ``submitted`` with ``"submit": true``)."""
    if who.role == "municipality":
        if body.municipality not in (None, who.municipality):
            raise ApiProblem(403, "a municipality key creates requests for its own "
                             "municipality only", "自団体以外の依頼は作成できません")
        muni = who.municipality
        assert muni is not None      # a municipality key always names its municipality
    else:
        if body.municipality is None:
            raise InputError(Problem("municipality", "is required for centre keys",
                                     "センターのキーでは必須です"))
        muni = body.municipality
    if s.get(MunicipalityRow, muni) is None:
        raise InputError(Problem("municipality", f"unknown municipality {muni!r}",
                                 f"不明な自治体 {muni!r} です"))
    doc = body.model_dump(mode="json", exclude={"municipality", "submit", "earliest",
                                                "latest", "confidential"})
    if doc.get("window") is None:
        doc.pop("window", None)
    for k in ("after", "due"):
        if doc.get(k) is None:
            doc.pop(k, None)
    doc["confidential"] = body.confidential
    format_check(s, muni, doc, body.earliest, body.latest)
    check_after(s, muni, None, doc)
    if body.submit:
        check_week_cap(s, settings, muni, body.earliest, body.latest)
    q = RequestRow(id=f"q{uuid.uuid4().hex[:12]}", municipality=muni,
                   status="submitted" if body.submit else "draft", earliest=body.earliest,
                   latest=body.latest, doc=doc, confidential=body.confidential)
    s.add(q)
    audit(s, who, "request.create", f"request:{q.id}", status=q.status)
    s.commit()
    response.headers["Location"] = f"/v1/requests/{q.id}"
    return request_view(q)


@router.get("/{rid}")
def get_request(rid: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """The request, and ``planning``: its visit in the latest published plan that
    considered it, or why it was left out (a municipality sees one general sentence per
    reason code; the centre the planner's full reasons)."""
    q = own_request(s, who, rid)
    return {**with_first_session(s, q), "planning": planning(s, q, who)}


@router.patch("/{rid}")
def patch_request(rid: Id, who: CurrentKey, s: SessionDep, body: RequestPatch,
                  settings: SettingsDep) -> dict[str, Any]:
    """Edit a draft or submitted request."""
    q = own_request(s, who, rid)
    if q.status not in ("draft", "submitted"):
        en, ja = state_words("request", q.status)
        raise ApiProblem(409, f"a {en} request cannot be edited",
                         f"{ja}の依頼は編集できません")
    changes = body.model_dump(exclude_unset=True, mode="json")
    if body.after is not None:      # the link whole, its defaults written as on creation
        changes["after"] = body.after.model_dump(mode="json")
    earliest = body.earliest or q.earliest
    latest = body.latest or q.latest
    if latest < earliest:
        raise InputError(Problem("latest", f"must not be before earliest ({month_day(earliest)})",
                                 f"earliest（{month_day(earliest)}）より前にはできません"))
    doc = dict(q.doc)
    for k, v in changes.items():
        if k in ("earliest", "latest"):
            continue
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    format_check(s, q.municipality, doc, earliest, latest)
    check_after(s, q.municipality, q.id, doc)
    if q.status in OPEN and (earliest, latest) != (q.earliest, q.latest):
        check_week_cap(s, settings, q.municipality, earliest, latest, exclude=q.id)
    q.doc, q.earliest, q.latest = doc, earliest, latest
    q.confidential = bool(doc.get("confidential", False))
    q.updated_at = utcnow()
    audit(s, who, "request.update", f"request:{q.id}", changes=changes)
    s.commit()
    return request_view(q)


def _transition(rid: str, who: Principal, s: Session, to: str, allowed: tuple[str, ...],
                roles: tuple[str, ...] = ("centre", "municipality"),
                settings: Settings | None = None) -> dict[str, Any]:
    q = own_request(s, who, rid)
    allow(who, *roles)
    if q.status not in allowed:
        (en, ja), (to_en, to_ja) = state_words("request", q.status), state_words("request", to)
        from_en, from_ja = zip(*(state_words("request", a) for a in allowed), strict=True)
        raise ApiProblem(409, f"a {en} request cannot become {to_en} (only a "
                         f"{' or '.join(from_en)} one)",
                         f"{ja}の依頼は{to_ja}にできません（{'・'.join(from_ja)}の依頼のみ）")
    if to in OPEN and q.status not in OPEN and settings is not None:
        check_week_cap(s, settings, q.municipality, q.earliest, q.latest, exclude=q.id)
    before = q.status
    q.status, q.updated_at = to, utcnow()
    if to == "cancelled":
        for v in s.scalars(select(VisitRow).where(VisitRow.request_id == q.id,
                                                  VisitRow.active.is_(True))):
            v.active = False
    audit(s, who, f"request.{to}", f"request:{q.id}", before=before)
    s.commit()
    return request_view(q)


@router.post("/{rid}/submit")
def submit_request(rid: Id, who: CurrentKey, s: SessionDep,
                   settings: SettingsDep) -> dict[str, Any]:
    """draft → submitted (422 when the municipality's week is full)."""
    return _transition(rid, who, s, "submitted", ("draft",), settings=settings)


@router.post("/{rid}/cancel")
def cancel_request(rid: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """draft, submitted or scheduled → cancelled (its published visit is withdrawn)."""
    return _transition(rid, who, s, "cancelled", ("draft", "submitted", "scheduled"))


@router.post("/{rid}/done")
def complete_request(rid: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """scheduled → done (also set by a visit outcome with ``held: true``)."""
    return _transition(rid, who, s, "done", ("scheduled",))
