"""``/v1/visits``: published visits and their outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import CurrentKey, IntId, SessionDep, WriterKey, audit, not_found
from service.api.views import visit_view
from service.auth import Principal
from service.db import RequestRow, VisitRow, utcnow
from service.jobs import week_dates
from service.schemas import Outcome

router = APIRouter(prefix="/v1/visits", tags=["visits"])


def own_visit(s: Session, who: Principal, visit_id: int) -> VisitRow:
    """The visit if the caller may see it (404 otherwise, as for an unknown id)."""
    v = s.get(VisitRow, visit_id)
    if v is None or (who.role == "municipality" and v.municipality != who.municipality) or (
            who.role == "expert" and who.expert not in v.experts):
        raise not_found("visit", visit_id)
    return v


@router.get("")
def list_visits(who: CurrentKey, s: SessionDep,
                week: Annotated[dt.date | None, Query()] = None) -> list[dict[str, Any]]:
    """Published visits: all (centre), the municipality's own, or the expert's own."""
    if week is not None:
        week_dates(week)
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
        out.append(visit_view(v, who, s.get(RequestRow, v.request_id)))
    return out


@router.get("/{visit_id}")
def get_visit(visit_id: IntId, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    v = own_visit(s, who, visit_id)
    return visit_view(v, who, s.get(RequestRow, v.request_id))


@router.put("/{visit_id}/outcome")
def put_outcome(visit_id: IntId, who: WriterKey, s: SessionDep, body: Outcome) -> dict[str, Any]:
    """Record whether the visit was held, notes and satisfaction (centre or the visited
    municipality). Held visits complete their request."""
    v = own_visit(s, who, visit_id)
    v.held, v.notes, v.satisfaction = body.held, body.notes, body.satisfaction
    v.outcome_at = utcnow()
    q = s.get(RequestRow, v.request_id)
    if body.held and q is not None and q.status == "scheduled":
        q.status, q.updated_at = "done", utcnow()
    audit(s, who, "visit.outcome", f"visit:{v.id}", held=body.held,
          satisfaction=body.satisfaction)
    s.commit()
    return visit_view(v, who, q)
