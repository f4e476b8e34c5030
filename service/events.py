"""``POST /v1/events``: an event applied to the stored week, its repair published, and the
people it affects told (``service.outbox``), all in one transaction.

The week is the one ``now`` falls in; its plan is the one published last (a week job, a slot
job or an earlier event's repair), and the week's document is that job's own (so that a
second event starts from the week after the first: history fixed, closures kept). The
repaired plan becomes an *event job* (a plan job row, ``done``, ``options.event`` the event,
published at once): visits move in ``/v1/visits``, calendars and ``planning``; a cancelled
request becomes ``cancelled``, an urgent one a new submitted request of its municipality.

An event sent with an idempotency key (the ``Idempotency-Key`` header) is applied at most
once: its job's id is derived from the key, so a second POST with the key finds the stored
job and gets the first answer again (``replayed``), and two at once cannot both commit (the
job's primary key). The key is bound to the document it came with: the same key with another
event is refused. Without a key every POST is a new event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import Conflict, InputError, Problem
from engine.events import event_to_dict, parse_event
from engine.format import parse_plan, parse_plan_request, plan_request_to_dict, plan_to_dict
from service.auth import Principal
from service.db import MunicipalityRow, OutboxRow, PlanJob, RequestRow, VisitRow, utcnow
from service.outbox import compose, outbox_view
from service.weeks import event_additions, publish_plan, published_plan
from solvers.repair import RepairOptions, repair

__all__ = ["event_answer", "event_job_id", "record_event", "stored_event"]

#: Event jobs sent with an idempotency key have ids derived from it (uuid5 in this namespace).
_KEYS = uuid.UUID("6f6b9e52-4d0c-5b8e-9a51-2f0c1e7d3a10")


def _monday_of(doc: Any) -> dt.date:
    now = doc.get("now") if isinstance(doc, dict) else None
    try:
        day = dt.datetime.fromisoformat(now).date() if isinstance(now, str) else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(Problem("now", f"must be a local date and time YYYY-MM-DDTHH:MM, got "
                                 f"{now!r}", "日時（YYYY-MM-DDTHH:MM）である必要があります"))
    return day - dt.timedelta(days=day.weekday())


def event_job_id(key: str) -> str:
    """The id of the event job an idempotency key makes."""
    return str(uuid.uuid5(_KEYS, key))


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


def stored_event(session: Session, key: str, doc: Any) -> dict[str, Any] | None:
    """The answer of the event already recorded with ``key``, or None when there is none;
    ``InputError`` on ``Idempotency-Key`` when the key came with another document."""
    job = session.get(PlanJob, event_job_id(key))
    if job is None:
        return None
    if (job.options or {}).get("request_digest") != _digest(doc):
        raise InputError(Problem("Idempotency-Key", "was already used for another event",
                                 "別のイベントですでに使われています"))
    rows = session.scalars(select(OutboxRow).where(OutboxRow.job_id == job.id)
                           .order_by(OutboxRow.id))
    return event_answer(job, list(rows))


def event_answer(job: PlanJob, messages: list[OutboxRow]) -> dict[str, Any]:
    """What ``POST /v1/events`` answers for an event job and its messages."""
    plan = job.plan or {}
    assert job.week is not None
    return {"job": job.id, "url": f"/v1/plan-jobs/{job.id}", "week": job.week.isoformat(),
            "event": plan.get("event") or {}, "status": plan.get("status"),
            "changes": plan.get("changes", []), "published": (job.options or {}).get(
                "published", {}), "messages": [outbox_view(m) for m in messages]}


def record_event(session: Session, who: Principal, doc: Any, *, time_limit: float = 5.0,
                 key: str | None = None) -> dict[str, Any]:
    """Apply ``doc`` (event/1) to its week, publish the repair and queue the messages.
    ``InputError`` for a bad event (paths of the document), ``Conflict`` (409) when the week
    has no published plan to repair. With ``key`` (an idempotency key) an event already
    recorded with it is not applied again: its first answer is returned (``stored_event``)."""
    if key is not None and (done := stored_event(session, key, doc)) is not None:
        return {**done, "replayed": True}
    monday = _monday_of(doc)
    pub = published_plan(session, monday)
    if pub is None or pub.plan is None:
        raise Conflict(f"the week of {monday} has no published plan to repair",
                       f"{monday} の週には修復する公開済みの計画がありません")
    week = parse_plan_request(pub.request_doc)
    plan = parse_plan(pub.plan)
    event = parse_event(doc, week)
    if event.new_request is not None:
        q = event.new_request
        if session.get(RequestRow, q.id) is not None:
            raise InputError(Problem("request.id", f"{q.id!r} is already a request",
                                     f"{q.id!r} はすでに依頼として登録されています"))
        if session.get(MunicipalityRow, q.location) is None:
            raise InputError(Problem("request.location", f"{q.location!r} is no municipality",
                                     f"{q.location!r} は自治体ではありません"))
    fixed = repair(week, plan, event, RepairOptions(time_limit=time_limit))
    now = utcnow()
    plan_doc = plan_to_dict(fixed.plan)
    request_doc = plan_request_to_dict(fixed.after.week)
    adds = event_additions(plan_request_to_dict(week), request_doc, fixed.after.pinned)
    for k in ("name", "description"):
        if k in pub.request_doc:
            request_doc[k] = pub.request_doc[k]
    options: dict[str, Any] = {"event": event_to_dict(event), "by": who.role,
                               "repairs": pub.id, "adds": adds}
    if key is not None:
        options |= {"idempotency_key": key, "request_digest": _digest(doc)}
    job = PlanJob(id=event_job_id(key) if key is not None else str(uuid.uuid4()),
                  status="done", week=monday, request_doc=request_doc,
                  previous_doc=pub.plan, plan=plan_doc, attempt=0, started_at=now,
                  finished_at=now, options=options,
                  history=[{"at": now.isoformat(), "event": f"{event.kind} repaired"}])
    session.add(job)
    if event.new_request is not None:
        q = event.new_request
        x = plan_request_to_dict(fixed.after.week)["requests"][-1]
        body = {k: v for k, v in x.items() if k not in ("id", "location", "fixed")}
        session.add(RequestRow(id=q.id, municipality=q.location, status="submitted",
                               earliest=q.earliest, latest=q.latest, doc=body,
                               confidential=q.confidential, created_at=now, updated_at=now))
    session.flush()
    counts = publish_plan(session, job)
    ends = {v.request: v.end for v in fixed.plan.visits}
    for v in list(session.scalars(select(VisitRow).where(VisitRow.week == monday,
                                                         VisitRow.active.is_(True)))):
        if v.request_id in ends and v.end != ends[v.request_id]:
            # an overrun or a no-show: the same visit with a new end, as a new version (the
            # calendars count versions), its outcome carried over
            v.active = False
            session.add(VisitRow(job_id=job.id, week=v.week, request_id=v.request_id,
                                 municipality=v.municipality, experts=list(v.experts),
                                 mode=v.mode, date=v.date, start=v.start,
                                 end=ends[v.request_id], active=True, held=v.held,
                                 notes=v.notes, satisfaction=v.satisfaction,
                                 outcome_at=v.outcome_at))
    if event.kind == "cancelled" and event.request is not None:
        row = session.get(RequestRow, event.request)
        if row is not None:
            row.status = "cancelled"
            row.updated_at = now
        for v in session.scalars(select(VisitRow).where(
                VisitRow.request_id == event.request, VisitRow.active.is_(True))):
            v.active = False
    job.options = {**options, "published": counts}
    block = dict(fixed.plan.event or {})
    messages = compose(session, fixed.after.week, fixed.plan.changes, block, job)
    session.flush()
    return {**event_answer(job, messages), "replayed": False}
