"""``/v1/events``: when the week goes wrong, the centre says what happened; the rest of the
week is repaired at once and everyone affected gets a message (``service.events``).

- ``POST /v1/events`` (centre): an event/1 document (docs/FORMAT.md, "Events") → the repaired
  plan published as an event job, with its ``changes``, ``event`` block and the messages;
- ``GET /v1/outbox`` (centre: every message; a municipality or an expert: its own) with
  ``sent`` / ``needs_call`` (no e-mail address: the centre calls), ``?sent=false`` for the
  ones still to deliver;
- ``GET/PUT /v1/contacts/{kind}/{ref}`` (centre): where a municipality or an expert is
  reached and in which language.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service.api.deps import (
    CentreKey,
    CurrentKey,
    Id,
    IntId,
    PageDep,
    SessionDep,
    SettingsDep,
    audit,
    not_found,
    paged,
)
from service.db import ContactRow, ExpertRow, MunicipalityRow, OutboxRow, utcnow
from service.events import record_event, stored_event
from service.outbox import outbox_view
from service.problems import ApiProblem

router = APIRouter(prefix="/v1", tags=["events"])

EVENT_EXAMPLES = {
    "ill": {"summary": "an expert falls ill", "value": {
        "kind": "expert_unavailable", "now": "2026-12-08T10:00", "expert": "pr-1",
        "from": "2026-12-08T10:00", "until": "2026-12-09T17:15", "reason": "発熱"}},
    "overrun": {"summary": "a visit runs long", "value": {
        "kind": "visit_overrun", "now": "2026-12-08T11:00", "request": "r003", "minutes": 45}},
    "typhoon": {"summary": "a town hall closes", "value": {
        "kind": "location_closed", "now": "2026-12-08T07:00", "location": "383562",
        "date": "2026-12-09", "from": "08:30", "until": "17:15", "reason": "台風警報"}},
}


@router.post("/events", status_code=201)
def post_event(who: CentreKey, s: SessionDep, settings: SettingsDep, response: Response,
               body: Annotated[dict[str, Any], Body(openapi_examples=EVENT_EXAMPLES)],
               idempotency_key: Annotated[str | None, Header(
                   alias="Idempotency-Key", min_length=1, max_length=200,
                   description="any text naming this event once: sent again with the same "
                               "event (a POST that got no answer), the event is not applied "
                               "again and the first answer comes back, with the header "
                               "Idempotent-Replayed: true")] = None,
               ) -> dict[str, Any]:
    """Apply an event to the week ``now`` falls in: the past stays, the rest of the week is
    re-planned with every rule changing as few visits as possible (served priority first), the
    repair is published, and one message per affected municipality and expert is queued in
    the same transaction. 409 when the week has no published plan. With an
    ``Idempotency-Key`` the event is applied at most once (send it again when a POST got no
    answer); the same key with another event is 422."""
    out = record_event(s, who, body, time_limit=settings.event_time_limit,
                       key=idempotency_key)
    if out.pop("replayed"):
        response.headers["Idempotent-Replayed"] = "true"
        return out
    audit(s, who, f"event.{out['event']['kind']}", out["job"],
          changes=len(out["changes"]), messages=len(out["messages"]),
          priority_lost=out["event"].get("priority_lost"))
    try:
        s.commit()
    except IntegrityError:
        # the same key committed by another request meanwhile: answer as it did
        s.rollback()
        assert idempotency_key is not None
        done = stored_event(s, idempotency_key, body)
        if done is None:
            raise
        response.headers["Idempotent-Replayed"] = "true"
        return done
    return out


@router.get("/outbox")
def list_outbox(request: Request, who: CurrentKey, s: SessionDep, page: PageDep,
                sent: Annotated[bool | None, Query()] = None,
                week: Annotated[dt.date | None, Query(
                    description="only the messages about that week (its Monday)")] = None,
                ) -> Response:
    """Messages about events, newest first: the centre sees all, a municipality or an expert
    its own. ``sent``: delivered by e-mail; ``needs_call``: no address to send it to;
    ``week``: only the messages about the week of that Monday."""
    stmt = select(OutboxRow)
    if week is not None:
        stmt = stmt.where(OutboxRow.week == week)
    if who.role == "municipality":
        stmt = stmt.where(OutboxRow.recipient_kind == "municipality",
                          OutboxRow.recipient == who.municipality)
    elif who.role == "expert":
        stmt = stmt.where(OutboxRow.recipient_kind == "expert",
                          OutboxRow.recipient == who.expert)
    if sent is not None:
        stmt = stmt.where(OutboxRow.sent_at.is_not(None) if sent else OutboxRow.sent_at.is_(None))
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = s.scalars(stmt.order_by(OutboxRow.id.desc()).limit(page.limit).offset(page.offset))
    return paged(request, [outbox_view(m) for m in rows], total, page)


@router.post("/outbox/{message_id}/phoned")
def mark_phoned(message_id: IntId, who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """The centre passed a 連絡が必要 message on by telephone: it leaves the open messages
    (``sent_at`` is now, ``phoned`` true). Only a message with no e-mail address can be
    phoned (409 otherwise: the postman delivers it); marking it again changes nothing."""
    m = s.get(OutboxRow, message_id)
    if m is None:
        raise not_found("message", message_id)
    if m.address is not None:
        raise ApiProblem(409, f"message {message_id} goes by e-mail to {m.address}: it "
                         "cannot be marked as phoned",
                         f"このお知らせはメール（{m.address}）で送られます。電話連絡済みにはできません")
    if m.sent_at is None:
        m.sent_at = utcnow()
        audit(s, who, "outbox.phoned", str(message_id), recipient=m.recipient)
        s.commit()
    return outbox_view(m)


class ContactIn(BaseModel):
    """Where a municipality or an expert is reached: an e-mail address (null: by phone) and
    the language of its messages."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "dx@city.example.jp", "lang": "ja"}]})

    email: str | None = Field(default=None, max_length=254,
                              pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    lang: Literal["ja", "en"] = "ja"


def _contact_view(c: ContactRow) -> dict[str, Any]:
    return {"kind": c.kind, "ref": c.ref, "email": c.email, "lang": c.lang,
            "updated_at": c.updated_at.isoformat()}


def _known(s: SessionDep, kind: str, ref: str) -> None:
    row = s.get(MunicipalityRow, ref) if kind == "municipality" else s.get(ExpertRow, ref)
    if row is None:
        raise not_found(kind, ref)


@router.get("/contacts/{kind}/{ref}")
def get_contact(kind: Literal["municipality", "expert"], ref: Id, who: CentreKey,
                s: SessionDep) -> dict[str, Any]:
    """Where a municipality or an expert is reached (centre)."""
    _known(s, kind, ref)
    c = s.get(ContactRow, (kind, ref))
    if c is None:
        return {"kind": kind, "ref": ref, "email": None, "lang": "ja", "updated_at": None}
    return _contact_view(c)


@router.put("/contacts/{kind}/{ref}")
def put_contact(kind: Literal["municipality", "expert"], ref: Id, body: ContactIn,
                who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Set where a municipality or an expert is reached and its language (centre)."""
    _known(s, kind, ref)
    c = s.get(ContactRow, (kind, ref))
    if c is None:
        c = ContactRow(kind=kind, ref=ref)
        s.add(c)
    c.email, c.lang, c.updated_at = body.email, body.lang, utcnow()
    audit(s, who, "contact.set", f"{kind}/{ref}", lang=body.lang, email=bool(body.email))
    s.commit()
    return _contact_view(c)
