"""``/v1/audit`` and ``/v1/stats`` (centre only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select

from service.api.deps import CentreKey, MunicipalityQuery, PageDep, SessionDep, paged
from service.db import AuditEntry, PlanJob, RequestRow

router = APIRouter(prefix="/v1", tags=["service"])


class AuditRow(BaseModel):
    """One audited write or refusal: who (key id, role, municipality), what, when."""

    id: int
    at: str
    key_id: int | None
    role: str
    municipality: str | None
    action: str
    target: str
    detail: dict[str, Any]


@router.get("/audit", response_model=list[AuditRow])
def audit_log(who: CentreKey, s: SessionDep, request: Request, page: PageDep,
              action: Annotated[str | None, Query(
                  max_length=64, pattern=r"^[a-z_.0-9*]+$",
                  description="an action, or a prefix ending in * (e.g. request.*)")] = None,
              role: Annotated[str | None, Query(
                  pattern="^(centre|municipality|expert|anonymous)$")] = None,
              municipality: MunicipalityQuery = None,
              refusals: Annotated[bool, Query(
                  description="include refused requests (refused.*)")] = True,
              ) -> Response:
    """The audit log, newest first (centre only), paged by ``limit`` and ``offset``
    (``X-Total-Count`` and ``Link`` headers), filtered by action, role or municipality.
    Refusals of callers without a valid key are folded into one ``refused.anonymous`` row
    per address and minute (``detail.count``), so they cannot push real entries away."""
    request.app.state.refusals.flush()
    cond = []
    if action:
        cond.append(AuditEntry.action.startswith(action[:-1]) if action.endswith("*")
                    else AuditEntry.action == action)
    if role:
        cond.append(AuditEntry.role == role)
    if municipality:
        cond.append(AuditEntry.municipality == municipality)
    if not refusals:
        cond.append(AuditEntry.action.not_like("refused.%"))
    total = s.scalar(select(func.count()).select_from(AuditEntry).where(*cond)) or 0
    rows = s.scalars(select(AuditEntry).where(*cond).order_by(AuditEntry.id.desc())
                     .limit(page.limit).offset(page.offset))
    return paged(request, [{"id": a.id, "at": a.at.isoformat(), "key_id": a.key_id,
                            "role": a.role, "municipality": a.municipality,
                            "action": a.action, "target": a.target, "detail": a.detail}
                           for a in rows], total, page)


@router.get("/stats")
def stats(who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Counts of requests by status and jobs by status (centre only)."""
    req = dict(s.execute(select(RequestRow.status, func.count()).group_by(
        RequestRow.status)).all())
    jobs = dict(s.execute(select(PlanJob.status, func.count()).group_by(
        PlanJob.status)).all())
    return {"requests": req, "plan_jobs": jobs}
