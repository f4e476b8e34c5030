"""``/v1/plan-jobs``: solves that run in worker processes, their progress, cancel and
publish (centre only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import defer

from engine.errors import InputError, Problem
from service.api.deps import (
    CentreKey,
    Id,
    JobsDep,
    SessionDep,
    SettingsDep,
    audit,
    not_found,
    validate_body,
)
from service.api.views import job_view
from service.config import Settings
from service.db import PlanJob, utcnow
from service.glossary import state_words
from service.jobs.reasons import cancelled
from service.jobs.rows import ACTIVE, new_job
from service.problems import ApiProblem
from service.schemas import WeekJob
from service.weeks import publish_plan, week_dates, week_document

router = APIRouter(prefix="/v1/plan-jobs", tags=["plan jobs"])

JOB_EXAMPLES: dict[str, Any] = {
    "week": {"summary": "Plan a week from the database",
             "value": {"week": "2026-12-07"}},
    "document": {"summary": "A whole plan-request/1 document",
                 "value": {"format": "plan-request/1",
                           "horizon": {"start": "2026-12-07", "end": "2026-12-11"},
                           "locations": [{"id": "380008", "name": "愛媛県"},
                                         {"id": "382019", "name": "松山市"}],
                           "experts": [{"id": "pr-1", "fields": ["pr"],
                                        "base": "380008"}],
                           "requests": [{"id": "r1", "location": "382019",
                                         "fields": ["pr"], "mode": "onsite",
                                         "duration_min": 60, "priority": 5}]}},
}


def check_bounds(doc: dict[str, Any], settings: Settings) -> None:
    """Refuse a plan-request larger than the service's documented limits (422 naming the
    limit and the setting that raises it), before it is parsed or queued: a document may
    not ask for more work than a worker can do within its time limit and memory."""
    def count(key: str) -> int:
        items = doc.get(key)
        return len(items) if isinstance(items, list) else 0

    given = doc.get("horizon")
    horizon: dict[str, Any] = given if isinstance(given, dict) else {}
    try:
        days = (dt.date.fromisoformat(str(horizon.get("end"))) -
                dt.date.fromisoformat(str(horizon.get("start")))).days + 1
    except ValueError:
        days = 0  # the parser names the bad date
    problems = []
    for path, n, limit, setting in (
            ("requests", count("requests"), settings.max_job_requests, "MAX_JOB_REQUESTS"),
            ("experts", count("experts"), settings.max_job_experts, "MAX_JOB_EXPERTS"),
            ("locations", count("locations"), settings.max_job_locations,
             "MAX_JOB_LOCATIONS"),
            ("horizon", days, settings.max_job_days, "MAX_JOB_DAYS")):
        if n > limit:
            unit = "days" if path == "horizon" else path
            problems.append(Problem(
                path, f"{n} {unit}: a plan job takes at most {limit} (DXSHARE_{setting})",
                f"{n} 件: 1 つの計画ジョブは {limit} 件まで（DXSHARE_{setting}）"))
    size = count("requests") * max(1, count("experts")) * max(1, days)
    if not problems and size > settings.max_job_size:
        problems.append(Problem(
            "requests", f"requests × experts × days = {size}: a plan job takes at most "
            f"{settings.max_job_size} (DXSHARE_MAX_JOB_SIZE)",
            f"依頼数 × 専門家数 × 日数 = {size}: 上限は {settings.max_job_size} です"
            "（DXSHARE_MAX_JOB_SIZE）"))
    if problems:
        raise InputError(problems)


@router.post("", status_code=202)
def create_plan_job(who: CentreKey, s: SessionDep, jobs: JobsDep, settings: SettingsDep,
                    response: Response,
                    body: Annotated[dict[str, Any], Body(openapi_examples=JOB_EXAMPLES)],
                    time_limit: Annotated[float | None, Query(gt=0, le=600)] = None,
                    seed_: Annotated[int, Query(alias="seed", ge=0, le=2**31 - 1)] = 0,
                    ) -> dict[str, Any]:
    """Start a solve: ``{"week": "YYYY-MM-DD"}`` (a Monday; the week's requests from the
    database, published visits kept) or a whole plan-request/1 document (options in the
    query). Answers 202 with the job's URL; the job is stored before the answer."""
    limit = time_limit or settings.job_time_limit
    if "week" in body:
        wj = validate_body(WeekJob, body)
        week_dates(wj.week)
        options: dict[str, Any] = {"time_limit": wj.time_limit or limit, "seed": wj.seed,
                                   "keep_published": wj.keep_published}
        try:
            doc, previous = week_document(
                s, wj.week, keep_published=wj.keep_published,
                start_grid_min=settings.appointment_grid,
                blackouts=[b.model_dump(mode="json") for b in wj.blackouts])
            options["requests"] = len(doc["requests"])
            check_bounds(doc, settings)
            job = new_job(s, doc, week=wj.week, previous=previous, options=options)
        except InputError as err:  # name the body's fields, not the built document's
            raise InputError([Problem(p.path.removeprefix("horizon."), p.message,
                                      p.message_ja) for p in err.problems]) from None
    else:
        check_bounds(body, settings)
        reqs = body.get("requests")
        job = new_job(s, body, week=None, previous=None,
                      options={"time_limit": limit, "seed": seed_,
                               "requests": len(reqs) if isinstance(reqs, list) else None})
    audit(s, who, "plan_job.create", f"plan_job:{job.id}",
          week=job.week.isoformat() if job.week else None)
    s.commit()
    jobs.submit(job.id)
    response.headers["Location"] = f"/v1/plan-jobs/{job.id}"
    s.refresh(job)
    return job_view(job, full=False)


@router.get("")
def list_plan_jobs(who: CentreKey, s: SessionDep,
                   status: Annotated[str | None, Query(
                       pattern="^(queued|running|done|failed|cancelled)$")] = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    stmt = select(PlanJob).options(defer(PlanJob.request_doc), defer(PlanJob.previous_doc),
                                   defer(PlanJob.plan)).order_by(
        PlanJob.created_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(PlanJob.status == status)
    return [job_view(j, full=False) for j in s.scalars(stmt)]


@router.get("/{job_id}")
def get_plan_job(job_id: Id, who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Status, progress (elapsed, objective, bound), history, and the plan/1 when done."""
    job = s.get(PlanJob, job_id, options=[defer(PlanJob.request_doc),
                                          defer(PlanJob.previous_doc)])
    if job is None:
        raise not_found("plan job", job_id)
    return job_view(job)


@router.post("/{job_id}/cancel")
def cancel_plan_job(job_id: Id, who: CentreKey, s: SessionDep, jobs: JobsDep) -> dict[str, Any]:
    job = s.get(PlanJob, job_id)
    if job is None:
        raise not_found("plan job", job_id)
    if job.status not in ACTIVE:
        en, ja = state_words("job", job.status)
        raise ApiProblem(409, f"the plan job is already {en}", f"計画ジョブは既に{ja}です")
    job.status, job.finished_at = "cancelled", utcnow()
    job.reason, job.reason_ja = cancelled()
    job.history = list(job.history) + [{"at": utcnow().isoformat(), "event": "cancelled"}]
    audit(s, who, "plan_job.cancel", f"plan_job:{job.id}")
    s.commit()
    jobs.cancel(job.id)
    return job_view(job)


@router.post("/{job_id}/publish")
def publish_plan_job(job_id: Id, who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Make a finished week job's visits the week's published visits: municipalities and
    experts see them, and later plans of the week keep them."""
    job = s.get(PlanJob, job_id)
    if job is None:
        raise not_found("plan job", job_id)
    if job.status != "done" or job.plan is None:
        en, ja = state_words("job", job.status)
        raise ApiProblem(409, f"only a done job can be published (this one is {en})",
                         f"完了したジョブのみ公開できます（このジョブは{ja}）")
    if job.week is None:
        raise ApiProblem(409, "only week jobs can be published (a plan-request document "
                         "is not tied to the database's requests)",
                         "週単位のジョブのみ公開できます")
    counts = publish_plan(s, job)
    audit(s, who, "plan_job.publish", f"plan_job:{job.id}", **counts)
    s.commit()
    return {**job_view(job, full=False), "published": counts}
