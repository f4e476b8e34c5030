"""``GET /v1/health``: liveness and the database in use (no key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from service.api.deps import CentreKey, JobsDep, SessionDep, SettingsDep

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/health")
def health(s: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Liveness and the database in use (no key needed)."""
    s.execute(select(1))
    return {"status": "ok", "database": s.get_bind().dialect.name,
            "executor": settings.executor}


@router.get("/workers")
def workers(who: CentreKey, jobs: JobsDep) -> dict[str, Any]:
    """The plan-job worker processes (centre only): jobs running (lane, process id, seconds
    since start), jobs queued, and the last jobs whose process ended (how, exit code, and
    seconds from the cancel or deadline to the process being gone)."""
    pool = jobs.pool
    if pool is None:
        return {"executor": jobs.kind, "running": {}, "queued": [], "ended": []}
    return {"executor": jobs.kind, "running": pool.running(), "queued": pool.queued(),
            "ended": [{"job": j, "how": how, "exit_code": code, "freed_after": secs}
                      for j, how, code, secs in list(pool.ended)[-20:]]}
