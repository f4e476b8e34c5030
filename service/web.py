"""The centre dashboard: the page at ``/``, its static files under ``/static``, and the two
small read-only routes the page needs besides the API.

- ``GET /v1/me``: who the key is (role, municipality or expert) and the week the page opens
  on (the demo week when the server has one, else the newest plan job's or published
  visit's week, else this week's Monday).
- ``GET /v1/map``: every location with coordinates, the island flag and the ferry minutes,
  so the page can draw Ehime and the ferry leg without online map tiles.

The page itself is plain HTML, CSS and JavaScript shipped in ``service/static`` (no build
step); it asks for the API key once, keeps it in the browser's localStorage and calls the
``/v1`` API with it.

Examples
--------
>>> monday_of(dt.date(2026, 12, 10))
datetime.date(2026, 12, 7)
"""

import datetime as dt
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select

from engine.travel import FERRY_MINUTES
from service.db import MunicipalityRow, PlanJob, VisitRow

__all__ = ["STATIC_DIR", "install", "monday_of"]

#: The dashboard's files, inside the installed package.
STATIC_DIR = Path(str(resources.files("service").joinpath("static")))

#: Id of the prefectural office (the experts' base).
OFFICE_CODE = "380008"


def monday_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week, e.g. Thursday 2026-12-10 → Monday 2026-12-07."""
    return day - dt.timedelta(days=day.weekday())


def _default_week(request: Request) -> dt.date:
    demo = request.app.state.settings.demo_week
    if demo:
        return dt.date.fromisoformat(demo)
    with request.app.state.sessions() as s:
        job_week = s.scalar(select(PlanJob.week).where(PlanJob.week.is_not(None))
                            .order_by(PlanJob.created_at.desc()).limit(1))
        if job_week is not None:
            return job_week
        visit_week = s.scalar(select(VisitRow.week).where(VisitRow.active.is_(True))
                              .order_by(VisitRow.week.desc()).limit(1))
        if visit_week is not None:
            return visit_week
    return monday_of(dt.date.today())


def _ferry_minutes(loc: dict[str, Any]) -> int:
    """The island's own ``ferry_minutes`` or the default ``FERRY_MINUTES`` (40)."""
    own = loc.get("ferry_minutes")
    return int(own) if own is not None else FERRY_MINUTES


def install(app: FastAPI, principal: Callable[..., Any]) -> None:
    """Serve the dashboard at ``/`` and ``/static`` and add ``/v1/me`` and ``/v1/map``
    (any valid key; ``principal`` is the service's key check)."""
    Who = Annotated[Any, Depends(principal)]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/v1/me", tags=["service"])
    def me(request: Request, who: Who) -> dict[str, Any]:
        """The caller's role and binding, and the week the dashboard opens on."""
        return {"role": who.role, "municipality": who.municipality, "expert": who.expert,
                "key_id": who.key_id, "week": _default_week(request).isoformat()}

    @app.get("/v1/map", tags=["municipalities"])
    def map_data(request: Request, who: Who) -> dict[str, Any]:
        """Locations for drawing the map: id, names, kind, lat/lon, ``island`` and
        ``ferry_minutes`` (the ferry leg added to a trip with exactly one island end)."""
        with request.app.state.sessions() as s:
            rows = list(s.scalars(select(MunicipalityRow).order_by(MunicipalityRow.code)))
        out = []
        for m in rows:
            loc = m.location
            island = bool(loc.get("island", False))
            out.append({"code": m.code, "name_ja": m.name_ja, "name_en": m.name_en,
                        "kind": m.kind, "lat": loc.get("lat"), "lon": loc.get("lon"),
                        "island": island,
                        "ferry_minutes": _ferry_minutes(loc) if island else None})
        return {"office": OFFICE_CODE, "locations": out}
