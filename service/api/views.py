"""How stored rows are shown by the API (plain JSON-ready dicts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.clock import fmt_time
from engine.names import resolve_municipality
from service.auth import Principal
from service.clock import has_started
from service.db import ExpertRow, MunicipalityRow, PlanJob, RequestRow, VisitRow

__all__ = ["expert_view", "job_view", "muni_view", "request_view", "visit_view"]


def request_view(q: RequestRow) -> dict[str, Any]:
    return {"id": q.id, "municipality": q.municipality, "status": q.status,
            "fields": q.doc["fields"], "mode": q.doc["mode"],
            "duration_min": q.doc["duration_min"], "priority": q.doc["priority"],
            "earliest": q.earliest.isoformat(), "latest": q.latest.isoformat(),
            "window": q.doc.get("window"), "title": q.doc.get("title", ""),
            "confidential": q.confidential, "after": q.doc.get("after"),
            "due": q.doc.get("due"), "created_at": q.created_at.isoformat(),
            "updated_at": q.updated_at.isoformat(), "url": f"/v1/requests/{q.id}"}


def visit_view(v: VisitRow, who: Principal, q: RequestRow | None, *, now: dt.datetime,
               changed: bool = False) -> dict[str, Any]:
    """A published visit; its notes only for the centre, the visited municipality, or when
    the request is not confidential. ``changed``: it replaced an earlier published version
    of the same consultation that week (an event's repair, a re-plan, an overrun), which the
    dashboard marks 「変更あり」. ``started``: the visit has begun by ``now`` (Japan time),
    so its outcome can be recorded."""
    out: dict[str, Any] = {
        "id": v.id, "request": v.request_id, "municipality": v.municipality,
        "experts": list(v.experts), "mode": v.mode, "date": v.date.isoformat(),
        "start": fmt_time(v.start), "end": fmt_time(v.end),
        "title": q.doc.get("title", "") if q is not None else "",
        "held": v.held, "satisfaction": v.satisfaction, "changed": changed,
        "started": has_started(v.date, v.start, now), "url": f"/v1/visits/{v.id}"}
    confidential = q is not None and q.confidential
    if who.is_centre or who.municipality == v.municipality or not confidential:
        out["notes"] = v.notes
    return out


def job_view(job: PlanJob, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id, "url": f"/v1/plan-jobs/{job.id}", "status": job.status,
        "week": job.week.isoformat() if job.week else None, "attempt": job.attempt,
        "progress": job.progress, "reason": job.reason,
        "reason_ja": job.reason_ja,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "published_at": job.published_at.isoformat() if job.published_at else None,
        "requests": job.options.get("requests"),
    }
    if full:
        out["history"] = job.history
        out["plan"] = job.plan if job.status in ("done", "failed") else None
    return out


def muni_view(m: MunicipalityRow) -> dict[str, Any]:
    return {"code": m.code, "name_ja": m.name_ja, "name_en": m.name_en, "kind": m.kind,
            "population": m.population, "lat": m.location.get("lat"),
            "lon": m.location.get("lon"), "url": f"/v1/municipalities/{m.code}"}


def expert_view(e: ExpertRow, places: Mapping[str, MunicipalityRow]) -> dict[str, Any]:
    """An expert as stored, each standing appointment at a place (``busy[].at``, its code)
    with the place's names beside the code (``at_name_ja``, ``at_name_en``), for people read
    names. ``places``: the municipalities by code."""
    out = {**e.doc, "url": f"/v1/experts/{e.id}"}
    if e.doc.get("busy"):
        out["busy"] = [_named_busy(b, places) for b in e.doc["busy"]]
    return out


def _named_busy(b: dict[str, Any], places: Mapping[str, MunicipalityRow]) -> dict[str, Any]:
    at = b.get("at")
    if at is None:
        return dict(b)
    m = places.get(at) or places.get(resolve_municipality(at) or "")
    return {**b, "at_name_ja": m.name_ja if m else at, "at_name_en": m.name_en if m else at}
