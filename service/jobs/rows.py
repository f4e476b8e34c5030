"""The plan job's row: the statuses of a job still to finish, a new queued job, and its end
written only while the attempt that ends it is still the row's (a stale or cancelled solve can
never overwrite a job)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from engine.format import parse_plan, parse_plan_request
from service.db import PlanJob, make_engine, utcnow

__all__ = ["ACTIVE", "engine_for", "finish", "guarded_update", "new_job"]

#: Statuses of a job that is not finished.
ACTIVE = ("queued", "running")

_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """The database engine of ``url``, one per process."""
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def new_job(session: Session, request_doc: dict[str, Any], *, week: dt.date | None,
            previous: dict[str, Any] | None, options: dict[str, Any]) -> PlanJob:
    """Validate the document (``InputError`` with paths) and add a queued job row."""
    parse_plan_request(request_doc)
    if previous is not None:
        parse_plan(previous)
    job = PlanJob(id=str(uuid.uuid4()), status="queued", week=week, request_doc=request_doc,
                  previous_doc=previous, options=options, attempt=0,
                  history=[{"at": utcnow().isoformat(), "event": "queued"}])
    session.add(job)
    session.flush()
    return job


def guarded_update(job_id: str, attempt: int, statuses: tuple[str, ...]) -> Any:
    """An update of the job's row that applies only while it has this ``attempt`` and one of
    ``statuses``."""
    return update(PlanJob).where(PlanJob.id == job_id, PlanJob.attempt == attempt,
                                 PlanJob.status.in_(statuses))


def finish(eng: Engine, job_id: str, attempt: int, status: str, *,
            plan: dict[str, Any] | None = None, progress: dict[str, Any] | None = None,
            reason: tuple[str, str] | None = None) -> str:
    """Write the job\'s end (``status``, its plan, progress and ``reason``: English, Japanese,
    see ``service.jobs.reasons``) unless another attempt took the row or it is no longer
    active; returns ``status``, or ``"skipped"``."""
    en, ja = reason if reason is not None else (None, None)
    with eng.begin() as conn:
        hist = conn.execute(select(PlanJob.history).where(PlanJob.id == job_id)).scalar()
        history = list(hist or []) + [{"at": utcnow().isoformat(), "event": status,
                                       **({"reason": en} if en else {})}]
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "reason": en,
                                  "reason_ja": ja, "history": history}
        if plan is not None:
            values["plan"] = plan
        if progress is not None:
            values["progress"] = progress
        res = conn.execute(guarded_update(job_id, attempt, ACTIVE).values(**values))
    return status if res.rowcount else "skipped"

