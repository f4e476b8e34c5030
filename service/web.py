"""The dashboard page: ``/`` and its static files under ``/static``.

The page is plain HTML, CSS and JavaScript shipped in ``service/static`` (no build step); it
asks for the API key once, keeps it in the browser's localStorage and calls the ``/v1`` API
with it. Its two own routes (``/v1/me``, ``/v1/map``) are in
``service/api/routes/dashboard.py``.

Examples
--------
>>> monday_of(dt.date(2026, 12, 10))
datetime.date(2026, 12, 7)
"""

import datetime as dt
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["OFFICE_CODE", "STATIC_DIR", "install", "monday_of"]

#: The dashboard's files, inside the installed package.
STATIC_DIR = Path(str(resources.files("service").joinpath("static")))

#: Id of the prefectural office (the experts' base).
OFFICE_CODE = "380008"


def monday_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week, e.g. Thursday 2026-12-10 → Monday 2026-12-07."""
    return day - dt.timedelta(days=day.weekday())


def install(app: FastAPI) -> None:
    """Serve the dashboard at ``/`` and its files at ``/static``."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})
