"""``GET /v1/health``: liveness and the database in use (no key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from service.api.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/health")
def health(s: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Liveness and the database in use (no key needed)."""
    s.execute(select(1))
    return {"status": "ok", "database": s.get_bind().dialect.name,
            "executor": settings.executor}
