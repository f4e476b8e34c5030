"""``/v1/audit`` and ``/v1/stats`` (centre only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from service.api.deps import CentreKey, SessionDep
from service.db import AuditEntry, PlanJob, RequestRow

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/audit")
def audit_log(who: CentreKey, s: SessionDep,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """The latest writes, newest first (centre only)."""
    rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [{"id": a.id, "at": a.at.isoformat(), "key_id": a.key_id, "role": a.role,
             "municipality": a.municipality, "action": a.action, "target": a.target,
             "detail": a.detail} for a in rows]


@router.get("/stats")
def stats(who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Counts of requests by status and jobs by status (centre only)."""
    req = dict(s.execute(select(RequestRow.status, func.count()).group_by(
        RequestRow.status)).all())
    jobs = dict(s.execute(select(PlanJob.status, func.count()).group_by(
        PlanJob.status)).all())
    return {"requests": req, "plan_jobs": jobs}
