"""The two small read-only routes the dashboard needs besides the API.

- ``GET /v1/me``: who the key is (role, municipality or expert), the fields' labels from the
  catalogue, and the week the page opens on (the demo week when the server has one, else the newest plan job's or published
  visit's week, else this week's Monday).
- ``GET /v1/map``: every location with coordinates, the island flag and the ferry minutes,
  so the page can draw Ehime and the ferry leg without online map tiles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from engine.model import FIELD_LABELS, FIELDS
from engine.travel import FERRY_MINUTES
from service.api.deps import CurrentKey, SessionDep
from service.db import MunicipalityRow, PlanJob, VisitRow
from service.web import OFFICE_CODE, monday_of

router = APIRouter(prefix="/v1")


def default_week(request: Request, s: Any) -> dt.date:
    """The demo week, else the newest plan job's or published visit's week, else now."""
    demo = request.app.state.settings.demo_week
    if demo:
        return dt.date.fromisoformat(demo)
    job_week = s.scalar(select(PlanJob.week).where(PlanJob.week.is_not(None))
                        .order_by(PlanJob.created_at.desc()).limit(1))
    if job_week is not None:
        return job_week  # type: ignore[no-any-return]
    visit_week = s.scalar(select(VisitRow.week).where(VisitRow.active.is_(True))
                          .order_by(VisitRow.week.desc()).limit(1))
    if visit_week is not None:
        return visit_week  # type: ignore[no-any-return]
    return monday_of(dt.date.today())


def _ferry_minutes(loc: dict[str, Any]) -> int:
    """The island's own ``ferry_minutes`` or the default ``FERRY_MINUTES`` (40)."""
    own = loc.get("ferry_minutes")
    return int(own) if own is not None else FERRY_MINUTES


@router.get("/me", tags=["service"])
def me(request: Request, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """The caller's role and binding, and the week the dashboard opens on."""
    return {"role": who.role, "municipality": who.municipality, "expert": who.expert,
            "key_id": who.key_id, "week": default_week(request, s).isoformat(),
            "fields": field_vocabulary()}


def field_vocabulary() -> list[dict[str, str]]:
    """The programme's fields in its order with the catalogue's labels (``FIELD_LABELS``),
    so that the page names each field as the feeds, exports and reasons do."""
    return [{"id": f, "en": FIELD_LABELS[f][0], "ja": FIELD_LABELS[f][1]} for f in FIELDS]


@router.get("/map", tags=["municipalities"])
def map_data(who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    """Locations for drawing the map: id, names, kind, lat/lon, ``island`` and
    ``ferry_minutes`` (the ferry leg added to a trip with exactly one island end)."""
    out = []
    for m in s.scalars(select(MunicipalityRow).order_by(MunicipalityRow.code)):
        loc = m.location
        island = bool(loc.get("island", False))
        out.append({"code": m.code, "name_ja": m.name_ja, "name_en": m.name_en,
                    "kind": m.kind, "lat": loc.get("lat"), "lon": loc.get("lon"),
                    "island": island,
                    "ferry_minutes": _ferry_minutes(loc) if island else None})
    return {"office": OFFICE_CODE, "locations": out}
