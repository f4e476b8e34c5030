"""Slot proposals for a request and the slot chosen from them (``service.slots``).

- ``POST /v1/requests/{id}/slot-proposals``: the best slots in the current plans of the
  request's weeks, best first (the centre, or the request's own municipality; another
  municipality's request is answered exactly like a missing one, 404);
- ``POST /v1/requests/{id}/accept-slot``: choose one: a municipality's choice is held as
  pending for the centre; the centre's (or its confirmation of the municipality's) is fixed
  into the published week. Who chose and who decided is audited;
- ``GET`` / ``DELETE /v1/requests/{id}/slot-pick``: the chosen slot; a municipality takes its
  pending choice back, the centre turns it down;
- ``GET /v1/slot-picks``: the chosen slots (the centre: all, e.g. ``?status=pending`` to
  confirm; a municipality: its own).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from service.api.deps import CurrentKey, Id, SessionDep, SettingsDep, WriterKey, audit, not_found
from service.api.routes.requests import OPEN, check_week_cap, own_request
from service.db import RequestRow, SlotPick, utcnow
from service.glossary import state_words
from service.problems import ApiProblem
from service.slots import accept, holding_pick, pick_view, propose
from service.weeks import week_dates

router = APIRouter(tags=["slot proposals"])

_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class ProposalsIn(BaseModel):
    """What to propose: how many (``top``), whether to offer the other mode (online instead
    of on-site or the reverse: only when the asked mode has no slot, always, or never), and
    optionally one week (its Monday) instead of every week the request's dates meet."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"top": 3, "other_mode": "fallback"}]})

    top: StrictInt = Field(default=3, ge=1, le=10)
    other_mode: Literal["no", "fallback", "also"] = "fallback"
    week: dt.date | None = None


class SlotIn(BaseModel):
    """The chosen slot, as a proposal's ``choose`` gives it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"experts": ["security-1"], "date": "2026-12-08", "start": "13:30", "mode": "onsite"}]})

    experts: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=5)
    date: dt.date
    start: str = Field(pattern=_HHMM)
    mode: Literal["onsite", "online"]


@router.post("/v1/requests/{rid}/slot-proposals")
def slot_proposals(rid: Id, who: CurrentKey, s: SessionDep,
                   body: Annotated[ProposalsIn | None, Body()] = None) -> dict[str, Any]:
    """The request's best slots in the current (published) plans of its weeks, best first:
    distinct dates first, then other times the same day; each with its experts, date, start,
    mode and the body to choose it. A municipality sees the slots and general reasons; the
    centre also what each costs the week (``objective_change``, ``drive_minutes_added``) and
    the whole plan/1 with it. When the asked mode has no slot, ``unscheduled`` says why, in
    the planner's words."""
    q = own_request(s, who, rid)
    if q.status not in ("draft", "submitted"):
        en, ja = state_words("request", q.status)
        raise ApiProblem(409, f"a {en} request has no slot to propose",
                         f"{ja}の依頼には候補を出せません")
    opts = body or ProposalsIn()
    if opts.week is not None:
        week_dates(opts.week)
    return propose(s, q, who, top=opts.top, other_mode=opts.other_mode, week=opts.week)


@router.post("/v1/requests/{rid}/accept-slot", status_code=201)
def accept_slot(rid: Id, who: WriterKey, s: SessionDep, body: SlotIn,
                settings: SettingsDep, response: Response) -> dict[str, Any]:
    """Choose a slot (a proposal's ``choose``). It is checked once more against the week as
    it is now (409 when it no longer fits). A municipality's choice is held as ``pending``
    until the centre confirms or overrides it; the centre's choice (the same slot confirms a
    pending one, another overrides it) is fixed into the week's published plan at once."""
    q = own_request(s, who, rid)
    if q.status not in OPEN:  # the choice submits the request: the week must have room
        check_week_cap(s, settings, q.municipality, q.earliest, q.latest, exclude=q.id)
    start = int(body.start[:2]) * 60 + int(body.start[3:])
    pick, counts = accept(s, q, who, experts=list(body.experts), date=body.date, start=start,
                          mode=body.mode)
    audit(s, who, "request.accept_slot", f"request:{q.id}", status=pick.status,
          slot={"experts": list(pick.experts), "date": pick.date.isoformat(),
                "start": body.start, "mode": pick.mode},
          chosen_by=pick.chosen_role, pick=pick.id)
    s.commit()
    response.headers["Location"] = f"/v1/requests/{q.id}/slot-pick"
    out = pick_view(s, pick, who)
    if counts is not None:
        out["published"] = counts
    return out


@router.get("/v1/requests/{rid}/slot-pick")
def get_slot_pick(rid: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """The slot chosen for the request: the one held (pending) or the latest decided."""
    q = own_request(s, who, rid)
    pick = holding_pick(s, q.id) or s.scalar(
        select(SlotPick).where(SlotPick.request_id == q.id).order_by(SlotPick.id.desc())
        .limit(1))
    if pick is None:
        raise not_found("slot pick of request", q.id)
    return pick_view(s, pick, who)


@router.delete("/v1/requests/{rid}/slot-pick")
def drop_slot_pick(rid: Id, who: WriterKey, s: SessionDep) -> dict[str, Any]:
    """Take back a pending choice (its municipality) or turn it down (the centre); the
    request stays submitted and is planned by the next week plan. A confirmed slot is part
    of the published week: cancel the request or re-plan the week instead."""
    q = own_request(s, who, rid)
    pick = holding_pick(s, q.id)
    if pick is None:
        raise not_found("pending slot pick of request", q.id)
    pick.status = "rejected" if who.is_centre else "withdrawn"
    pick.decided_role, pick.decided_key, pick.decided_at = who.role, who.key_id, utcnow()
    audit(s, who, f"request.slot_{pick.status}", f"request:{q.id}", pick=pick.id)
    s.commit()
    return pick_view(s, pick, who)


@router.get("/v1/slot-picks")
def list_slot_picks(who: WriterKey, s: SessionDep,
                    status: Annotated[str | None, Query(
                        pattern="^(pending|confirmed|overridden|rejected|withdrawn)$")] = None,
                    week: Annotated[dt.date | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Chosen slots, newest first: all of them for the centre (``?status=pending``: those
    awaiting its decision), a municipality's own for a municipality key."""
    stmt = select(SlotPick).order_by(SlotPick.id.desc()).limit(limit)
    if who.role == "municipality":
        stmt = stmt.where(SlotPick.municipality == who.municipality)
    if status:
        stmt = stmt.where(SlotPick.status == status)
    if week is not None:
        week_dates(week)
        stmt = stmt.where(SlotPick.week == week)
    if status == "pending":         # a pending choice whose request was closed is moot
        stmt = stmt.join(RequestRow, RequestRow.id == SlotPick.request_id).where(
            RequestRow.status.in_(("draft", "submitted")))
    return [pick_view(s, p, who) for p in s.scalars(stmt)]
