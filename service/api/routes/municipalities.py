"""``/v1/municipalities``: the 20 municipalities and the prefectural office."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from service.api.deps import CurrentKey, MunicipalityPath, SessionDep, not_found
from service.api.views import muni_view
from service.db import MunicipalityRow

router = APIRouter(prefix="/v1/municipalities", tags=["municipalities"])


@router.get("")
def list_municipalities(who: CurrentKey, s: SessionDep) -> list[dict[str, Any]]:
    """The 20 municipalities and the prefectural office (public reference data)."""
    return [muni_view(m) for m in s.scalars(select(MunicipalityRow)
                                             .order_by(MunicipalityRow.code))]


@router.get("/{code}")
def get_municipality(code: MunicipalityPath, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    m = s.get(MunicipalityRow, code)
    if m is None:
        raise not_found("municipality", code)
    return muni_view(m)
