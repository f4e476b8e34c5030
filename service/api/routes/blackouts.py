"""``/v1/blackouts``: dates on which experts cannot work (camps, closures), stored so that
every week job of that week takes them (centre; experts read the ones that concern them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from service.api.deps import CentreKey, CurrentKey, IntId, SessionDep, audit, not_found
from service.db import BlackoutRow, ExpertRow, utcnow
from service.problems import ApiProblem
from service.schemas import BlackoutIn, BlackoutPatch

router = APIRouter(prefix="/v1/blackouts", tags=["blackouts"])


def blackout_view(b: BlackoutRow) -> dict[str, Any]:
    return {"id": b.id, "date": b.date.isoformat(), "experts": list(b.experts),
            "reason": b.reason, "updated_at": b.updated_at.isoformat(),
            "url": f"/v1/blackouts/{b.id}"}


def _check_experts(s: Session, experts: list[str]) -> None:
    known = {e for e in s.scalars(select(ExpertRow.id))}
    bad = [Problem(f"experts[{i}]", f"unknown expert {e!r} (or \"*\" for everyone)",
                   f"不明な専門家 {e!r} です（全員は \"*\"）")
           for i, e in enumerate(experts) if e != "*" and e not in known]
    if "*" in experts and len(experts) > 1:
        bad.append(Problem("experts", '"*" (everyone) stands alone',
                           "\"*\"（全員）は単独で指定してください"))
    if bad:
        raise InputError(bad)


@router.get("")
def list_blackouts(who: CurrentKey, s: SessionDep,
                   start: Annotated[dt.date | None, Query(alias="from")] = None,
                   end: Annotated[dt.date | None, Query(alias="to")] = None,
                   ) -> list[dict[str, Any]]:
    """Blackouts by date (``from``/``to`` inclusive): all for the centre, those that concern
    the expert for an expert key."""
    if who.role == "municipality":
        raise ApiProblem(403, "municipalities do not read the experts' blackouts",
                         "自治体は専門家の休止日を参照できません")
    stmt = select(BlackoutRow).order_by(BlackoutRow.date, BlackoutRow.id)
    if start:
        stmt = stmt.where(BlackoutRow.date >= start)
    if end:
        stmt = stmt.where(BlackoutRow.date <= end)
    rows = [b for b in s.scalars(stmt)
            if who.role != "expert" or "*" in b.experts or who.expert in b.experts]
    return [blackout_view(b) for b in rows]


@router.post("", status_code=201)
def create_blackout(who: CentreKey, s: SessionDep, body: BlackoutIn,
                    response: Response) -> dict[str, Any]:
    """A date on which the listed experts (``["*"]`` = all) cannot work."""
    _check_experts(s, body.experts)
    b = BlackoutRow(date=body.date, experts=list(body.experts), reason=body.reason,
                    created_at=utcnow(), updated_at=utcnow())
    s.add(b)
    s.flush()
    audit(s, who, "blackout.create", f"blackout:{b.id}", date=body.date.isoformat())
    s.commit()
    response.headers["Location"] = f"/v1/blackouts/{b.id}"
    return blackout_view(b)


@router.patch("/{blackout_id}")
def patch_blackout(blackout_id: IntId, who: CentreKey, s: SessionDep,
                   body: BlackoutPatch) -> dict[str, Any]:
    b = s.get(BlackoutRow, blackout_id)
    if b is None:
        raise not_found("blackout", blackout_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if body.experts is not None:
        _check_experts(s, body.experts)
        b.experts = list(body.experts)
    if body.date is not None:
        b.date = body.date
    if body.reason is not None:
        b.reason = body.reason
    b.updated_at = utcnow()
    audit(s, who, "blackout.update", f"blackout:{b.id}", changes=changes)
    s.commit()
    return blackout_view(b)


@router.delete("/{blackout_id}", status_code=204)
def delete_blackout(blackout_id: IntId, who: CentreKey, s: SessionDep) -> Response:
    b = s.get(BlackoutRow, blackout_id)
    if b is None:
        raise not_found("blackout", blackout_id)
    s.delete(b)
    audit(s, who, "blackout.delete", f"blackout:{blackout_id}")
    s.commit()
    return Response(status_code=204)
