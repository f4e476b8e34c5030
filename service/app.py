"""The dxshare HTTP service (``/v1``): municipalities, experts, requests, plan jobs, visits.

``create_app(settings)`` builds the FastAPI app; its lifespan opens the database (migrating
and seeding it on first start), starts the job executor and resumes unfinished jobs.

Access: ``Authorization: Bearer <key>`` (or ``X-API-Key``). Missing or unknown key → 401; a
role that may not use the route → 403; another municipality's resource → 404, exactly as if
it did not exist, so nothing can be inferred about it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine.errors import InputError, Problem
from engine.format import parse_plan_request
from engine.ical import expert_calendar
from service.auth import Principal, feed_token, hash_key, lookup_key
from service.config import Settings
from service.db import (
    AuditEntry,
    ExpertRow,
    MunicipalityRow,
    PlanJob,
    RequestRow,
    VisitRow,
    make_engine,
    migrate,
    seed,
    server_secret,
    session_factory,
    utcnow,
)
from service.jobs import ACTIVE, JobManager, new_job, publish_plan, week_dates, week_document
from service.matching_api import STATE as MATCHING
from service.matching_api import build_router as build_matching_router
from service.problems import ApiProblem, install_handlers, problem_response
from service.reasons import municipality_reasons
from service.schemas import ExpertPatch, Outcome, RequestIn, RequestPatch, WeekJob
from service.web import install as install_dashboard

__all__ = ["create_app"]

API_DESCRIPTION = """
Weekly planning of the shared DX experts of Ehime Prefecture.

Authenticate with `Authorization: Bearer <key>` (keys are created with `dxshare keys create`).
Roles: **centre** (everything), **municipality** (its own requests, visits and matching),
**expert** (its own schedule and calendar feed). Errors are `application/problem+json`
(RFC 9457) naming the offending field; messages are Japanese unless `Accept-Language: en`.
"""

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
IntId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class _BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with 413 (declared or streamed)."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or {}).get(b"content-length")
        too_big = False
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = True
        if too_big:
            await problem_response(413, f"body larger than {self.limit} bytes",
                                   "en")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    raise ApiProblem(413, f"body larger than {self.limit} bytes")
            return msg

        await self.app(scope, limited, send)


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as s:
        yield s


DB = Annotated[Session, Depends(_session)]


#: Seconds a verified key is trusted without asking the database again.
KEY_CACHE_SECONDS = 30.0


def _lookup(request: Request, key: str) -> Principal | None:
    with request.app.state.sessions() as s:
        return lookup_key(s, key)


async def _principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or ``X-API-Key``; verified keys are
    remembered for ``KEY_CACHE_SECONDS`` (by hash) so hot read routes skip the database."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("x-api-key", "").strip()
    challenge = {"WWW-Authenticate": 'Bearer realm="dxshare"'}
    if not key:
        raise ApiProblem(401, "an API key is required (Authorization: Bearer <key>)",
                         "APIキーが必要です（Authorization: Bearer <key>）", headers=challenge)
    cache: dict[str, tuple[float, Principal]] = request.app.state.key_cache
    digest = hash_key(key)
    now = time.monotonic()
    hit = cache.get(digest)
    if hit is not None and hit[0] > now:
        request.state.who = hit[1]
        return hit[1]
    who = await run_in_threadpool(_lookup, request, key)
    if who is not None:
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (now + KEY_CACHE_SECONDS, who)
        request.state.who = who
    if who is None:
        raise ApiProblem(401, "unknown or revoked API key", "APIキーが無効です",
                         headers=challenge)
    return who


Who = Annotated[Principal, Depends(_principal)]


def _centre(who: Who) -> Principal:
    _allow(who, "centre")
    return who


def _writer(who: Who) -> Principal:
    _allow(who, "centre", "municipality")
    return who


#: A centre key (403 before the body is even read).
Centre = Annotated[Principal, Depends(_centre)]
#: A centre or municipality key.
Writer = Annotated[Principal, Depends(_writer)]


def _allow(who: Principal, *roles: str) -> None:
    if who.role not in roles:
        raise ApiProblem(403, f"role {who.role!r} may not do this (needs {' or '.join(roles)})",
                         f"ロール {who.role!r} にはこの操作の権限がありません")


def _not_found(what: str, ident: Any) -> ApiProblem:
    return ApiProblem(404, f"no {what} {ident!r}", f"{what} {ident!r} は見つかりません")


def _audit(s: Session, who: Principal, action: str, target: str, **detail: Any) -> None:
    s.add(AuditEntry(key_id=who.key_id, role=who.role, municipality=who.municipality,
                     action=action, target=target, detail=detail))


def _validate(model: Any, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


JOB_EXAMPLES: dict[str, Any] = {
    "week": {"summary": "Plan a week from the database",
             "value": {"week": "2026-12-07"}},
    "document": {"summary": "A whole plan-request/1 document",
                 "value": {"format": "plan-request/1",
                           "horizon": {"start": "2026-12-07", "end": "2026-12-11"},
                           "locations": [{"id": "380008", "name": "愛媛県"},
                                         {"id": "382019", "name": "松山市"}],
                           "experts": [{"id": "pr-1", "fields": ["pr"],
                                        "base": "380008"}],
                           "requests": [{"id": "r1", "location": "382019",
                                         "fields": ["pr"], "mode": "onsite",
                                         "duration_min": 60, "priority": 5}]}},
}


# ---------------------------------------------------------------- representations

def _request_view(q: RequestRow) -> dict[str, Any]:
    return {"id": q.id, "municipality": q.municipality, "status": q.status,
            "fields": q.doc["fields"], "mode": q.doc["mode"],
            "duration_min": q.doc["duration_min"], "priority": q.doc["priority"],
            "earliest": q.earliest.isoformat(), "latest": q.latest.isoformat(),
            "window": q.doc.get("window"), "title": q.doc.get("title", ""),
            "confidential": q.confidential, "created_at": q.created_at.isoformat(),
            "updated_at": q.updated_at.isoformat(), "url": f"/v1/requests/{q.id}"}


def _visit_view(v: VisitRow, who: Principal, q: RequestRow | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": v.id, "request": v.request_id, "municipality": v.municipality,
        "experts": list(v.experts), "mode": v.mode, "date": v.date.isoformat(),
        "start": f"{v.start // 60:02d}:{v.start % 60:02d}",
        "end": f"{v.end // 60:02d}:{v.end % 60:02d}",
        "title": q.doc.get("title", "") if q is not None else "",
        "held": v.held, "satisfaction": v.satisfaction, "url": f"/v1/visits/{v.id}"}
    confidential = q is not None and q.confidential
    if who.is_centre or who.municipality == v.municipality or not confidential:
        out["notes"] = v.notes
    return out


def _job_view(job: PlanJob, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id, "url": f"/v1/plan-jobs/{job.id}", "status": job.status,
        "week": job.week.isoformat() if job.week else None, "attempt": job.attempt,
        "progress": job.progress, "reason": job.reason,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "published_at": job.published_at.isoformat() if job.published_at else None,
        "requests": job.options.get("requests"),
    }
    if full:
        out["history"] = job.history
        out["plan"] = job.plan if job.status in ("done", "failed") else None
    return out


def _own_request(s: Session, who: Principal, rid: str) -> RequestRow:
    q = s.get(RequestRow, rid)
    if q is None or (who.role == "municipality" and q.municipality != who.municipality):
        raise _not_found("request", rid)
    if who.role == "expert":
        raise ApiProblem(403, "experts do not manage requests", "専門家は相談依頼を扱えません")
    return q


def _check_week(week: dt.date | None) -> None:
    if week is not None:
        week_dates(week)


# ---------------------------------------------------------------- app

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _audit_refusal(app: Any, who: Principal | None, method: str, path: str,
                   status: int) -> None:
    """Record a refused write (401/403/404/409) with whoever asked, in its own transaction."""
    with app.state.sessions.begin() as s:
        s.add(AuditEntry(key_id=who.key_id if who else None,
                         role=who.role if who else "anonymous",
                         municipality=who.municipality if who else None,
                         action=f"refused.{status}", target=f"{method} {path}"[:128], detail={}))


class _AuditRefusals:
    """Audit every write the service refused (who tried what), besides the successful writes
    the handlers record in their own transaction."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        status = [0]

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        app = scope.get("app")
        if status[0] in (401, 403, 404, 409) and app is not None and hasattr(app.state,
                                                                           "sessions"):
            who = (scope.get("state") or {}).get("who")
            await run_in_threadpool(_audit_refusal, app, who, scope["method"], scope["path"],
                                    status[0])


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service over ``settings`` (environment ``DXSHARE_*`` when not given)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.url()
        eng = make_engine(url)
        migrate(eng)
        sessions = session_factory(eng)
        with sessions.begin() as s:
            if settings.seed:
                seed(s, demo_week=settings.demo_week, demo_seed=settings.demo_seed)
            app.state.feed_secret = server_secret(s)
        app.state.engine, app.state.sessions = eng, sessions
        app.state.jobs = JobManager(url, sessions, kind=settings.executor,
                                    workers=settings.job_workers,
                                    address=settings.dask_address,
                                    max_attempts=settings.job_max_attempts)
        app.state.jobs.recover()
        MATCHING.warm()
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            eng.dispose()

    app = FastAPI(title="dxshare", version="1", description=API_DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.key_cache = {}
    install_handlers(app)

    app.add_middleware(_AuditRefusals)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.include_router(build_matching_router(_principal))
    install_dashboard(app, _principal)  # the page at / and its static files (service/web.py)

    # ------------------------------------------------------------ health
    @app.get("/v1/health", tags=["service"])
    def health(s: DB) -> dict[str, Any]:
        """Liveness and the database in use (no key needed)."""
        s.execute(select(1))
        return {"status": "ok", "database": s.get_bind().dialect.name,
                "executor": settings.executor}

    # ------------------------------------------------------------ municipalities
    @app.get("/v1/municipalities", tags=["municipalities"])
    def list_municipalities(who: Who, s: DB) -> list[dict[str, Any]]:
        """The 20 municipalities and the prefectural office (public reference data)."""
        return [_muni_view(m) for m in s.scalars(select(MunicipalityRow)
                                                  .order_by(MunicipalityRow.code))]

    @app.get("/v1/municipalities/{code}", tags=["municipalities"])
    def get_municipality(code: Id, who: Who, s: DB) -> dict[str, Any]:
        m = s.get(MunicipalityRow, code)
        if m is None:
            raise _not_found("municipality", code)
        return _muni_view(m)

    # ------------------------------------------------------------ experts
    @app.get("/v1/experts", tags=["experts"])
    def list_experts(who: Who, s: DB) -> list[dict[str, Any]]:
        """Experts with fields, base, hours, available days and caps."""
        return [{**e.doc, "url": f"/v1/experts/{e.id}"}
                for e in s.scalars(select(ExpertRow).order_by(ExpertRow.id))]

    @app.get("/v1/experts/{expert_id}", tags=["experts"])
    def get_expert(expert_id: Id, who: Who, s: DB) -> dict[str, Any]:
        e = s.get(ExpertRow, expert_id)
        if e is None:
            raise _not_found("expert", expert_id)
        return {**e.doc, "url": f"/v1/experts/{e.id}"}

    @app.patch("/v1/experts/{expert_id}", tags=["experts"])
    def patch_expert(expert_id: Id, who: Centre, s: DB,
                     body: Annotated[ExpertPatch, Body()]) -> dict[str, Any]:
        """Change availability (``days``), hours or caps. Centre only."""
        e = s.get(ExpertRow, expert_id)
        if e is None:
            raise _not_found("expert", expert_id)
        doc = dict(e.doc)
        changes = body.model_dump(exclude_unset=True, mode="json")
        doc.update({k: v for k, v in changes.items()})
        for k in [k for k, v in doc.items() if v is None]:
            del doc[k]
        start, end = doc.get("work_start", "08:30"), doc.get("work_end", "17:15")
        if start >= end:
            raise InputError(Problem("work_end", "must be after work_start",
                                     "work_start より後である必要があります"))
        e.doc, e.updated_at = doc, utcnow()
        _audit(s, who, "expert.update", f"expert:{expert_id}", changes=changes)
        s.commit()
        return {**e.doc, "url": f"/v1/experts/{e.id}"}

    @app.get("/v1/experts/{expert_id}/schedule", tags=["experts"])
    def expert_schedule(expert_id: Id, who: Who, s: DB,
                        week: Annotated[dt.date | None, Query()] = None) -> list[dict[str, Any]]:
        """The expert's published visits (centre, or that expert)."""
        _expert_access(who, expert_id, s)
        _check_week(week)
        rows = s.scalars(select(VisitRow).where(VisitRow.active.is_(True))
                         .order_by(VisitRow.date, VisitRow.start))
        out = []
        for v in rows:
            if expert_id in v.experts and (week is None or v.week == week):
                out.append(_visit_view(v, who, s.get(RequestRow, v.request_id)))
        return out

    @app.get("/v1/experts/{expert_id}/calendar-url", tags=["experts"])
    def calendar_url(expert_id: Id, who: Who, s: DB, request: Request) -> dict[str, str]:
        """The secret iCalendar feed URL of the expert's published visits."""
        _expert_access(who, expert_id, s)
        token = feed_token(request.app.state.feed_secret, expert_id)
        path = f"/v1/feeds/{expert_id}/{token}.ics"
        return {"path": path, "url": str(request.base_url).rstrip("/") + path}

    @app.get("/v1/feeds/{expert_id}/{token}.ics", tags=["experts"],
             responses={200: {"content": {"text/calendar": {}}}})
    def calendar_feed(expert_id: Id, token: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
                      s: DB,
                      request: Request) -> Response:
        """iCalendar feed (no key: the URL is the credential)."""
        good = feed_token(request.app.state.feed_secret, expert_id)
        row = s.get(ExpertRow, expert_id)
        if not hmac.compare_digest(good.encode(), token.encode()) or row is None:
            raise _not_found("feed", expert_id)
        expert_doc = {k: v for k, v in row.doc.items() if k != "days"}
        from engine.model import Plan, Visit

        rows = [v for v in s.scalars(select(VisitRow).where(VisitRow.active.is_(True)))
                if expert_id in v.experts]
        reqs, visits = [], []
        for v in rows:
            q = s.get(RequestRow, v.request_id)
            if q is None:
                continue
            reqs.append({"id": q.id, "location": q.municipality, **q.doc,
                         "earliest": v.date.isoformat(), "latest": v.date.isoformat()})
            visits.append(Visit(v.request_id, tuple(v.experts), v.municipality, v.mode,  # type: ignore[arg-type]
                                v.date, v.start, v.end))
        days = sorted({v.date for v in rows}) or [dt.date.today()]
        locations = [m.location for m in s.scalars(select(MunicipalityRow))]
        problem = parse_plan_request({"format": "plan-request/1",
                        "horizon": {"start": days[0].isoformat(), "end": days[-1].isoformat(),
                                    "skip_holidays": False},
                        "locations": locations, "experts": [expert_doc], "requests": []})
        problem = dataclasses.replace(problem, requests=tuple(_req_obj(r) for r in reqs))
        body = expert_calendar(problem, Plan("feasible", None, None, 0.0, tuple(visits)),
                               expert_id)
        return Response(body, media_type="text/calendar; charset=utf-8")

    # ------------------------------------------------------------ requests
    @app.get("/v1/requests", tags=["requests"])
    def list_requests(who: Writer, s: DB,
                      status: Annotated[str | None, Query(
                          pattern="^(draft|submitted|scheduled|done|cancelled)$")] = None,
                      week: Annotated[dt.date | None, Query()] = None,
                      municipality: Annotated[str | None, Query(
                          max_length=16, pattern=r"^[A-Za-z0-9._-]+$")] = None,
                      ) -> list[dict[str, Any]]:
        """Requests visible to the key: all (centre) or the municipality's own."""
        _check_week(week)
        stmt = select(RequestRow).order_by(RequestRow.id)
        if who.role == "municipality":
            stmt = stmt.where(RequestRow.municipality == who.municipality)
        if municipality:
            stmt = stmt.where(RequestRow.municipality == municipality)
        if status:
            stmt = stmt.where(RequestRow.status == status)
        if week:
            stmt = stmt.where(RequestRow.earliest <= week + dt.timedelta(days=4),
                              RequestRow.latest >= week)
        return [_request_view(q) for q in s.scalars(stmt)]

    @app.post("/v1/requests", tags=["requests"], status_code=201)
    def create_request(who: Writer, s: DB, body: RequestIn, response: Response) -> dict[str, Any]:
        """A new request, ``draft`` (or ``submitted`` with ``"submit": true``)."""
        if who.role == "municipality":
            if body.municipality not in (None, who.municipality):
                raise ApiProblem(403, "a municipality key creates requests for its own "
                                 "municipality only", "自団体以外の依頼は作成できません")
            muni = who.municipality
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
        doc["confidential"] = body.confidential
        _format_check(s, muni, doc, body.earliest, body.latest)
        q = RequestRow(id=f"q{uuid.uuid4().hex[:12]}", municipality=muni,
                       status="submitted" if body.submit else "draft", earliest=body.earliest,
                       latest=body.latest, doc=doc, confidential=body.confidential)
        s.add(q)
        _audit(s, who, "request.create", f"request:{q.id}", status=q.status)
        s.commit()
        response.headers["Location"] = f"/v1/requests/{q.id}"
        return _request_view(q)

    @app.get("/v1/requests/{rid}", tags=["requests"])
    def get_request(rid: Id, who: Who, s: DB) -> dict[str, Any]:
        """The request, and ``planning``: its visit in the latest published plan that
        considered it, or why it was left out (a municipality sees one general sentence per
        reason code; the centre the planner's full reasons)."""
        q = _own_request(s, who, rid)
        return {**_request_view(q), "planning": _planning(s, q, who)}

    @app.patch("/v1/requests/{rid}", tags=["requests"])
    def patch_request(rid: Id, who: Who, s: DB, body: RequestPatch) -> dict[str, Any]:
        """Edit a draft or submitted request."""
        q = _own_request(s, who, rid)
        if q.status not in ("draft", "submitted"):
            raise ApiProblem(409, f"a {q.status} request cannot be edited",
                             f"状態 {q.status} の依頼は編集できません")
        changes = body.model_dump(exclude_unset=True, mode="json")
        earliest = body.earliest or q.earliest
        latest = body.latest or q.latest
        if latest < earliest:
            raise InputError(Problem("latest", f"must not be before earliest ({earliest})",
                                     f"earliest（{earliest}）より前にはできません"))
        doc = dict(q.doc)
        for k, v in changes.items():
            if k in ("earliest", "latest"):
                continue
            if v is None:
                doc.pop(k, None)
            else:
                doc[k] = v
        _format_check(s, q.municipality, doc, earliest, latest)
        q.doc, q.earliest, q.latest = doc, earliest, latest
        q.confidential = bool(doc.get("confidential", False))
        q.updated_at = utcnow()
        _audit(s, who, "request.update", f"request:{q.id}", changes=changes)
        s.commit()
        return _request_view(q)

    def _transition(rid: str, who: Principal, s: Session, to: str, allowed: tuple[str, ...],
                    roles: tuple[str, ...] = ("centre", "municipality")) -> dict[str, Any]:
        q = _own_request(s, who, rid)
        _allow(who, *roles)
        if q.status not in allowed:
            raise ApiProblem(409, f"cannot go from {q.status} to {to} (only from "
                             f"{', '.join(allowed)})",
                             f"状態 {q.status} から {to} には変更できません")
        before = q.status
        q.status, q.updated_at = to, utcnow()
        if to == "cancelled":
            for v in s.scalars(select(VisitRow).where(VisitRow.request_id == q.id,
                                                      VisitRow.active.is_(True))):
                v.active = False
        _audit(s, who, f"request.{to}", f"request:{q.id}", before=before)
        s.commit()
        return _request_view(q)

    @app.post("/v1/requests/{rid}/submit", tags=["requests"])
    def submit_request(rid: Id, who: Who, s: DB) -> dict[str, Any]:
        """draft → submitted."""
        return _transition(rid, who, s, "submitted", ("draft",))

    @app.post("/v1/requests/{rid}/cancel", tags=["requests"])
    def cancel_request(rid: Id, who: Who, s: DB) -> dict[str, Any]:
        """draft, submitted or scheduled → cancelled (its published visit is withdrawn)."""
        return _transition(rid, who, s, "cancelled", ("draft", "submitted", "scheduled"))

    @app.post("/v1/requests/{rid}/done", tags=["requests"])
    def complete_request(rid: Id, who: Who, s: DB) -> dict[str, Any]:
        """scheduled → done (also set by a visit outcome with ``held: true``)."""
        return _transition(rid, who, s, "done", ("scheduled",))

    # ------------------------------------------------------------ plan jobs
    @app.post("/v1/plan-jobs", tags=["plan jobs"], status_code=202)
    def create_plan_job(who: Centre, s: DB, request: Request, response: Response,
                        body: Annotated[dict[str, Any], Body(openapi_examples=JOB_EXAMPLES)],
                        time_limit: Annotated[float | None, Query(gt=0, le=600)] = None,
                        seed_: Annotated[int, Query(alias="seed", ge=0, le=2**31 - 1)] = 0,
                        ) -> dict[str, Any]:
        """Start a solve: ``{"week": "YYYY-MM-DD"}`` (a Monday; the week's requests from the
        database, published visits kept) or a whole plan-request/1 document (options in the
        query). Answers 202 with the job's URL; the job is stored before the answer."""
        limit = time_limit or settings.job_time_limit
        if "week" in body:
            wj = _validate(WeekJob, body)
            week_dates(wj.week)
            options: dict[str, Any] = {"time_limit": wj.time_limit or limit, "seed": wj.seed,
                                       "keep_published": wj.keep_published}
            try:
                doc, previous = week_document(
                    s, wj.week, keep_published=wj.keep_published,
                    blackouts=[b.model_dump(mode="json") for b in wj.blackouts])
                options["requests"] = len(doc["requests"])
                job = new_job(s, doc, week=wj.week, previous=previous, options=options)
            except InputError as err:  # name the body's fields, not the built document's
                raise InputError([Problem(p.path.removeprefix("horizon."), p.message,
                                          p.message_ja) for p in err.problems]) from None
        else:
            reqs = body.get("requests")
            job = new_job(s, body, week=None, previous=None,
                          options={"time_limit": limit, "seed": seed_,
                                   "requests": len(reqs) if isinstance(reqs, list) else None})
        _audit(s, who, "plan_job.create", f"plan_job:{job.id}",
               week=job.week.isoformat() if job.week else None)
        s.commit()
        request.app.state.jobs.submit(job.id)
        response.headers["Location"] = f"/v1/plan-jobs/{job.id}"
        s.refresh(job)
        return _job_view(job, full=False)

    @app.get("/v1/plan-jobs", tags=["plan jobs"])
    def list_plan_jobs(who: Centre, s: DB,
                       status: Annotated[str | None, Query(
                           pattern="^(queued|running|done|failed|cancelled)$")] = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        stmt = select(PlanJob).options(defer(PlanJob.request_doc), defer(PlanJob.previous_doc),
                                       defer(PlanJob.plan)).order_by(
            PlanJob.created_at.desc()).limit(limit)
        if status:
            stmt = stmt.where(PlanJob.status == status)
        return [_job_view(j, full=False) for j in s.scalars(stmt)]

    @app.get("/v1/plan-jobs/{job_id}", tags=["plan jobs"])
    def get_plan_job(job_id: Id, who: Centre, s: DB) -> dict[str, Any]:
        """Status, progress (elapsed, objective, bound), history, and the plan/1 when done."""
        job = s.get(PlanJob, job_id, options=[defer(PlanJob.request_doc),
                                              defer(PlanJob.previous_doc)])
        if job is None:
            raise _not_found("plan job", job_id)
        return _job_view(job)

    @app.post("/v1/plan-jobs/{job_id}/cancel", tags=["plan jobs"])
    def cancel_plan_job(job_id: Id, who: Centre, s: DB, request: Request) -> dict[str, Any]:
        job = s.get(PlanJob, job_id)
        if job is None:
            raise _not_found("plan job", job_id)
        if job.status not in ACTIVE:
            raise ApiProblem(409, f"job is {job.status}", f"ジョブは既に {job.status} です")
        job.status, job.finished_at = "cancelled", utcnow()
        job.reason = "cancelled by the centre"
        job.history = list(job.history) + [{"at": utcnow().isoformat(), "event": "cancelled"}]
        _audit(s, who, "plan_job.cancel", f"plan_job:{job.id}")
        s.commit()
        request.app.state.jobs.cancel(job.id)
        return _job_view(job)

    @app.post("/v1/plan-jobs/{job_id}/publish", tags=["plan jobs"])
    def publish_plan_job(job_id: Id, who: Centre, s: DB) -> dict[str, Any]:
        """Make a finished week job's visits the week's published visits: municipalities and
        experts see them, and later plans of the week keep them."""
        job = s.get(PlanJob, job_id)
        if job is None:
            raise _not_found("plan job", job_id)
        if job.status != "done" or job.plan is None:
            raise ApiProblem(409, f"only a done job can be published (this one is "
                             f"{job.status})", "完了したジョブのみ公開できます")
        if job.week is None:
            raise ApiProblem(409, "only week jobs can be published (a plan-request document "
                             "is not tied to the database's requests)",
                             "週単位のジョブのみ公開できます")
        counts = publish_plan(s, job)
        _audit(s, who, "plan_job.publish", f"plan_job:{job.id}", **counts)
        s.commit()
        return {**_job_view(job, full=False), "published": counts}

    # ------------------------------------------------------------ visits
    @app.get("/v1/visits", tags=["visits"])
    def list_visits(who: Who, s: DB, week: Annotated[dt.date | None, Query()] = None
                    ) -> list[dict[str, Any]]:
        """Published visits: all (centre), the municipality's own, or the expert's own."""
        _check_week(week)
        stmt = select(VisitRow).where(VisitRow.active.is_(True)).order_by(VisitRow.date,
                                                                          VisitRow.start)
        if who.role == "municipality":
            stmt = stmt.where(VisitRow.municipality == who.municipality)
        if week:
            stmt = stmt.where(VisitRow.week == week)
        out = []
        for v in s.scalars(stmt):
            if who.role == "expert" and who.expert not in v.experts:
                continue
            out.append(_visit_view(v, who, s.get(RequestRow, v.request_id)))
        return out

    @app.get("/v1/visits/{visit_id}", tags=["visits"])
    def get_visit(visit_id: IntId, who: Who, s: DB) -> dict[str, Any]:
        v = _own_visit(s, who, visit_id)
        return _visit_view(v, who, s.get(RequestRow, v.request_id))

    @app.put("/v1/visits/{visit_id}/outcome", tags=["visits"])
    def put_outcome(visit_id: IntId, who: Writer, s: DB, body: Outcome) -> dict[str, Any]:
        """Record whether the visit was held, notes and satisfaction (centre or the visited
        municipality). Held visits complete their request."""
        v = _own_visit(s, who, visit_id)
        v.held, v.notes, v.satisfaction = body.held, body.notes, body.satisfaction
        v.outcome_at = utcnow()
        q = s.get(RequestRow, v.request_id)
        if body.held and q is not None and q.status == "scheduled":
            q.status, q.updated_at = "done", utcnow()
        _audit(s, who, "visit.outcome", f"visit:{v.id}", held=body.held,
               satisfaction=body.satisfaction)
        s.commit()
        return _visit_view(v, who, q)

    # ------------------------------------------------------------ audit
    @app.get("/v1/audit", tags=["service"])
    def audit_log(who: Centre, s: DB, limit: Annotated[int, Query(ge=1, le=1000)] = 100
                  ) -> list[dict[str, Any]]:
        """The latest writes, newest first (centre only)."""
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return [{"id": a.id, "at": a.at.isoformat(), "key_id": a.key_id, "role": a.role,
                 "municipality": a.municipality, "action": a.action, "target": a.target,
                 "detail": a.detail} for a in rows]

    @app.get("/v1/stats", tags=["service"])
    def stats(who: Centre, s: DB) -> dict[str, Any]:
        """Counts of requests by status and jobs by status (centre only)."""
        req = dict(s.execute(select(RequestRow.status, func.count()).group_by(
            RequestRow.status)).all())
        jobs = dict(s.execute(select(PlanJob.status, func.count()).group_by(
            PlanJob.status)).all())
        return {"requests": req, "plan_jobs": jobs}

    return app


def _planning(s: Session, q: RequestRow, who: Principal) -> dict[str, Any] | None:
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


def _format_check(s: Session, muni: str, doc: dict[str, Any], earliest: dt.date,
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
             "requests": [{"id": "probe", "location": muni, **doc,
                           "earliest": earliest.isoformat(), "latest": latest.isoformat()}]}
    try:
        parse_plan_request(probe)
    except InputError as err:
        mine = [Problem(p.path.removeprefix("requests[0]."), p.message, p.message_ja)
                for p in err.problems if p.path.startswith("requests[0]")]
        if mine:
            raise InputError(mine) from None
        raise


def _muni_view(m: MunicipalityRow) -> dict[str, Any]:
    return {"code": m.code, "name_ja": m.name_ja, "name_en": m.name_en, "kind": m.kind,
            "population": m.population, "lat": m.location.get("lat"),
            "lon": m.location.get("lon"), "url": f"/v1/municipalities/{m.code}"}


def _expert_access(who: Principal, expert_id: str, s: Session) -> None:
    if who.role == "municipality":
        raise ApiProblem(403, "municipalities cannot read expert schedules",
                         "自治体は専門家の予定を参照できません")
    if who.role == "expert" and who.expert != expert_id:
        raise ApiProblem(403, "an expert key reads its own schedule only",
                         "自分以外の専門家の予定は参照できません")
    if s.get(ExpertRow, expert_id) is None:
        raise _not_found("expert", expert_id)


def _own_visit(s: Session, who: Principal, visit_id: int) -> VisitRow:
    v = s.get(VisitRow, visit_id)
    if v is None or (who.role == "municipality" and v.municipality != who.municipality) or (
            who.role == "expert" and who.expert not in v.experts):
        raise _not_found("visit", visit_id)
    return v


def _req_obj(x: dict[str, Any]) -> Any:
    from engine.model import Request as Req

    return Req(id=x["id"], location=x["location"], fields=tuple(x["fields"]), mode=x["mode"],
               duration_min=x["duration_min"], priority=x["priority"],
               earliest=dt.date.fromisoformat(x["earliest"]),
               latest=dt.date.fromisoformat(x["latest"]), title=x.get("title", ""),
               confidential=bool(x.get("confidential", False)))
