"""Plan jobs: solves that run outside the request handlers and survive restarts.

The job row is committed (status ``queued``) before the client gets its 202. A worker process
(``solvers.executor``: local processes or a Dask cluster) runs ``run_plan_job``: it marks the
row ``running``, writes the solver's progress (elapsed, objective, bound) as it comes, and
finally the plan/1 document (``done``) or the reason it could not (``failed``). The server
only submits and watches. On start-up ``JobManager.recover`` re-queues every job left
``queued`` or ``running`` by a stopped or killed server, or, once it has been started
``job_max_attempts`` times, marks it ``failed`` with that reason.

A job is also the unit of publishing: ``publish_plan`` turns a done week job's visits into
the week's published visits, which later week jobs keep fixed (or, on request, only prefer).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import logging
import threading
import time
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.changes import with_changes
from engine.errors import InputError, Problem
from engine.format import parse_plan, parse_plan_request, plan_request_to_dict, plan_to_dict
from engine.model import FIELDS, Horizon, PlanRequest
from service.db import (
    BlackoutRow,
    ExpertRow,
    MunicipalityRow,
    PlanJob,
    RequestRow,
    VisitRow,
    make_engine,
    utcnow,
)
from service.workers import WorkerPool
from solvers.executor import Executor, make_executor

__all__ = [
    "ACTIVE",
    "JobManager",
    "new_job",
    "publish_plan",
    "published_plan",
    "run_plan_job",
    "week_document",
    "week_dates",
]

log = logging.getLogger("dxshare.jobs")

#: Statuses of a job that is not finished.
ACTIVE = ("queued", "running")

_ENGINES: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    return _ENGINES[url]


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def week_dates(monday: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Friday of the week starting ``monday`` (must be a Monday)."""
    if monday.weekday() != 0:
        raise InputError(Problem("week", f"must be a Monday, got {monday} ({monday:%A})",
                                 f"月曜日である必要があります（{monday}）"))
    return monday, monday + dt.timedelta(days=4)


def published_plan(session: Session, monday: dt.date) -> PlanJob | None:
    """The most recently published job of that week, if any."""
    return session.scalar(select(PlanJob).where(PlanJob.week == monday,
                                                PlanJob.published_at.is_not(None))
                          .order_by(PlanJob.published_at.desc(), PlanJob.created_at.desc())
                          .limit(1))


def week_document(session: Session, monday: dt.date, *, keep_published: str = "fixed",
                  blackouts: list[dict[str, Any]] | None = None,
                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The plan-request/1 document of a week from the database, and the published plan/1 of
    that week (``previous``) if there is one.

    Requests taken: submitted or scheduled ones whose dates meet the week (dates clipped to
    it). With ``keep_published='fixed'`` each published visit whose request is still open is
    ``fixed``; with ``'prefer'`` it is only passed as ``previous`` (moves are minimised).
    A slot a municipality chose that awaits the centre (``service.slots``) is ``fixed`` too.
    ``blackouts`` (plan-request/1 form) are dates experts cannot work that week, besides the
    stored ones (``/v1/blackouts``) of the week, which every week job takes. A stored
    request the format would refuse (possible only for rows written before the check at
    creation existed) is left out and named in the document's ``skipped`` list.
    """
    start, end = week_dates(monday)
    locations = [m.location for m in session.scalars(
        select(MunicipalityRow).order_by(MunicipalityRow.code))]
    experts = []
    # the programme's order of fields (as the CLI's week lists them), then id
    expert_rows = sorted(session.scalars(select(ExpertRow)), key=lambda e: (
        FIELDS.index(e.doc["fields"][0]) if e.doc.get("fields") and e.doc["fields"][0] in FIELDS
        else len(FIELDS), e.id))
    for e in expert_rows:
        doc = dict(e.doc)
        if doc.get("days") is not None:
            doc["days"] = [d for d in doc["days"]
                           if start <= dt.date.fromisoformat(d) <= end]
        experts.append(doc)
    pub = published_plan(session, monday)
    fixed: dict[str, dict[str, Any]] = {}
    if pub is not None and keep_published == "fixed":
        for v in session.scalars(select(VisitRow).where(VisitRow.week == monday,
                                                        VisitRow.active.is_(True))):
            fixed[v.request_id] = {"experts": list(v.experts), "date": v.date.isoformat(),
                                   "start": _fmt(v.start)}
    from service.slots import pending_fixed

    for rid, slot in pending_fixed(session, monday).items():   # chosen, awaiting the centre
        fixed.setdefault(rid, slot)
    requests = []
    rows = session.scalars(select(RequestRow).where(
        RequestRow.status.in_(("submitted", "scheduled")), RequestRow.earliest <= end,
        RequestRow.latest >= start).order_by(RequestRow.id))
    for q in rows:
        x = {"id": q.id, "location": q.municipality, **q.doc}
        x["earliest"] = max(q.earliest, start).isoformat()
        x["latest"] = min(q.latest, end).isoformat()
        if q.id in fixed:
            x["fixed"] = fixed[q.id]
        requests.append(x)
    base = plan_request_to_dict(PlanRequest(Horizon(start, end), (), (), ()))
    stored = [{"date": b.date.isoformat(), "experts": list(b.experts), "reason": b.reason}
              for b in session.scalars(select(BlackoutRow).where(
                  BlackoutRow.date >= start, BlackoutRow.date <= end)
                  .order_by(BlackoutRow.date, BlackoutRow.id))]
    # the body's own first, so that problems keep their paths (blackouts[i] of the body)
    base["horizon"]["blackouts"] = list(blackouts or []) + stored
    doc = {**base, "name": f"week of {start}", "locations": locations, "experts": experts,
           "requests": requests}
    try:
        parse_plan_request(doc)
    except InputError as err:
        bad = {int(p.path.split("]")[0].removeprefix("requests[")) for p in err.problems
               if p.path.startswith("requests[")}
        if not bad:
            raise
        doc["requests"] = [q for i, q in enumerate(requests) if i not in bad]
        doc["description"] = "skipped invalid stored requests: " + ", ".join(
            requests[i]["id"] for i in sorted(bad))
    previous = None
    if pub is not None and pub.plan is not None:
        ids = {q["id"] for q in requests}
        previous = dict(pub.plan)
        previous["visits"] = [v for v in previous["visits"] if v["request"] in ids]
        previous["unscheduled"] = [u for u in previous["unscheduled"] if u["request"] in ids]
    return doc, previous


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


def _guarded(job_id: str, attempt: int, statuses: tuple[str, ...]) -> Any:
    return update(PlanJob).where(PlanJob.id == job_id, PlanJob.attempt == attempt,
                                 PlanJob.status.in_(statuses))


def run_plan_job(url: str, job_id: str, attempt: int,
                 parts: dict[str, Any] | None = None) -> str:
    """Run one plan job in a worker process; returns the status it ended with.

    ``parts`` says where a problem too large for one model is solved by parts
    (``solvers.decompose``): ``executor`` (processes, dask, serial), ``address`` (of the Dask
    cluster), ``workers``.

    Writes only while the row still has this ``attempt`` and is not cancelled, so a stale
    or cancelled solve can never overwrite the job.
    """
    from solvers.planner import Progress, SolveOptions, solve

    eng = _engine(url)
    with eng.begin() as conn:
        row = conn.execute(select(PlanJob.request_doc, PlanJob.previous_doc, PlanJob.options,
                                  PlanJob.history)
                           .where(PlanJob.id == job_id, PlanJob.attempt == attempt,
                                  PlanJob.status.in_(ACTIVE))).first()
        if row is None:
            return "skipped"
        history = list(row.history or []) + [{"at": utcnow().isoformat(),
                                              "event": f"started (attempt {attempt})"}]
        conn.execute(_guarded(job_id, attempt, ACTIVE).values(
            status="running", started_at=utcnow(), history=history,
            progress={"elapsed": 0.0, "objective": None, "bound": None, "solutions": 0,
                      "phase": "model"}))
    try:
        problem = parse_plan_request(row.request_doc)
        previous = parse_plan(row.previous_doc) if row.previous_doc else None
    except InputError as err:
        return _finish(eng, job_id, attempt, "failed", reason=f"invalid input: {err}")
    t0 = time.perf_counter()
    latest: list[Progress] = []
    stop = threading.Event()
    abandoned = threading.Event()     # cancelled, or taken over by a newer attempt

    def progress(p: Progress) -> None:
        # called from the solver's search thread: keep it instant, a writer thread saves it
        latest[:] = [p]

    def writer() -> None:
        saved = None
        while not stop.wait(0.5):
            try:
                with eng.connect() as conn:
                    row_now = conn.execute(select(PlanJob.status, PlanJob.attempt).where(
                        PlanJob.id == job_id)).first()
                if row_now is None or row_now[0] != "running" or row_now[1] != attempt:
                    abandoned.set()       # the solver stops at its next check
            except Exception:  # noqa: BLE001 - a missed check only delays the stop
                log.exception("could not read the status of job %s", job_id)
            p = latest[0] if latest else None
            if p is None or p is saved:
                continue
            saved = p
            try:
                with eng.begin() as conn:
                    conn.execute(_guarded(job_id, attempt, ("running",)).values(progress={
                        "elapsed": round(p.elapsed, 3), "objective": p.objective,
                        "bound": p.bound, "solutions": p.solutions, "phase": p.phase}))
            except Exception:  # noqa: BLE001 - progress is best effort; the result is not
                log.exception("could not save progress of job %s", job_id)

    thread = threading.Thread(target=writer, name=f"progress-{job_id}", daemon=True)
    thread.start()
    opts = row.options or {}
    try:
        where = parts or {}
        plan = solve(problem, SolveOptions(time_limit=float(opts.get("time_limit", 20.0)),
                                           seed=int(opts.get("seed", 0)), workers=1,
                                           previous=previous, progress=progress,
                                           stop=abandoned.is_set,
                                           executor=where.get("executor", "processes"),
                                           executor_address=where.get("address"),
                                           executor_workers=where.get("workers")))
    except Exception as exc:  # noqa: BLE001 - recorded as the job's reason
        log.exception("plan job %s failed", job_id)
        return _finish(eng, job_id, attempt, "failed",
                       reason=f"solver error: {type(exc).__name__}: {exc}")
    finally:
        stop.set()
        thread.join()
    doc = plan_to_dict(with_changes(plan, previous))
    final = {"elapsed": round(time.perf_counter() - t0, 3), "objective": plan.objective,
             "bound": plan.bound, "solutions": None, "phase": "finished"}
    if plan.status in ("optimal", "feasible"):
        return _finish(eng, job_id, attempt, "done", plan=doc, progress=final)
    reason = "; ".join(plan.messages) or f"the planner answered {plan.status}"
    return _finish(eng, job_id, attempt, "failed", plan=doc, progress=final,
                   reason=f"no plan: {reason}")


def _finish(eng: Engine, job_id: str, attempt: int, status: str, *,
            plan: dict[str, Any] | None = None, progress: dict[str, Any] | None = None,
            reason: str | None = None) -> str:
    with eng.begin() as conn:
        hist = conn.execute(select(PlanJob.history).where(PlanJob.id == job_id)).scalar()
        history = list(hist or []) + [{"at": utcnow().isoformat(), "event": status,
                                       **({"reason": reason} if reason else {})}]
        values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "reason": reason,
                                  "history": history}
        if plan is not None:
            values["plan"] = plan
        if progress is not None:
            values["progress"] = progress
        res = conn.execute(_guarded(job_id, attempt, ACTIVE).values(**values))
    return status if res.rowcount else "skipped"


def _warm() -> int:
    """Import the solver in a fresh worker so the first job does not pay for it."""
    import solvers.planner  # noqa: F401

    return 0


class JobManager:
    """Submits jobs to the workers and keeps the job rows honest about them.

    ``kind='processes'`` (the default) runs each job in a worker process of the server's own
    ``WorkerPool``: week jobs and document jobs in separate lanes, cancel and the deadline
    terminate the process, and no worker outlives the server. ``'dask'`` submits to a Dask
    cluster (cancel stops the solve at its next check) and ``'serial'`` solves in the
    calling thread (tests).
    """

    def __init__(self, url: str, sessions: sessionmaker[Session], *, kind: str = "processes",
                 workers: int = 2, document_workers: int = 1, address: str | None = None,
                 max_attempts: int = 2, grace: float = 10.0, memory_mb: int | None = 4096,
                 parts: dict[str, Any] | None = None):
        self.url = url
        self.parts = parts
        self.sessions = sessions
        self.max_attempts = max_attempts
        self.kind = kind
        self.pool: WorkerPool | None = None
        self.executor: Executor | None = None
        if kind == "processes":
            self.pool = WorkerPool(url, week_slots=workers, document_slots=document_workers,
                                   grace=grace, memory_mb=memory_mb, on_exit=self._exited,
                                   parts=parts)
        else:
            self.executor = make_executor(kind, workers=workers, address=address)
            if kind != "serial":
                for _ in range(workers):
                    self.executor.submit(_warm)
        self._futures: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closing = False

    def submit(self, job_id: str) -> None:
        """Count a new attempt in the row (committed), then hand the job to a worker."""
        with self.sessions.begin() as s:
            job = s.get(PlanJob, job_id)
            if job is None or job.status not in ACTIVE:
                return
            job.attempt += 1
            job.status = "queued"
            attempt = job.attempt
            lane = "week" if job.week is not None else "document"
            time_limit = float((job.options or {}).get("time_limit", 20.0))
        if self.pool is not None:
            self.pool.submit(job_id, attempt, lane=lane, time_limit=time_limit)
            return
        assert self.executor is not None
        fut = self.executor.submit(run_plan_job, self.url, job_id, attempt, self.parts)
        with self._lock:
            self._futures[job_id] = fut
        if hasattr(fut, "add_done_callback"):
            fut.add_done_callback(lambda f: self._done(job_id, attempt, f))

    def _exited(self, job_id: str, attempt: int, reason: str) -> None:
        _finish(_engine(self.url), job_id, attempt, "failed", reason=reason)

    def _done(self, job_id: str, attempt: int, fut: Any) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if self._closing or fut.cancelled():
            return
        try:
            exc = fut.exception()
        except Exception as err:  # noqa: BLE001 - e.g. a cancelled Dask future
            exc = err
        if exc is None:
            return
        reason = f"worker failed: {type(exc).__name__}: {exc}"
        try:
            _finish(_engine(self.url), job_id, attempt, "failed", reason=reason)
        except Exception:  # noqa: BLE001 - the next start-up recovers the row
            log.exception("could not record failure of job %s", job_id)

    def cancel(self, job_id: str) -> None:
        """Stop the job: drop it from the queue, or end its worker process (on Dask: the
        solve stops at its next look at the row, and its result is discarded)."""
        if self.pool is not None:
            self.pool.cancel(job_id)
            return
        with self._lock:
            fut = self._futures.get(job_id)
        if fut is not None:
            fut.cancel()

    def recover(self) -> list[str]:
        """Resume or fail every job a previous server left unfinished; returns their ids."""
        resumed: list[str] = []
        with self.sessions.begin() as s:
            jobs = list(s.scalars(select(PlanJob).where(PlanJob.status.in_(ACTIVE))
                                  .order_by(PlanJob.created_at)))
            for job in jobs:
                now = utcnow().isoformat()
                if job.started_at is not None and job.attempt >= self.max_attempts:
                    job.status = "failed"
                    job.finished_at = utcnow()
                    job.reason = (f"interrupted by a server restart; gave up after "
                                  f"{job.attempt} attempts")
                    job.history = list(job.history) + [{"at": now, "event": "failed",
                                                        "reason": job.reason}]
                else:
                    job.history = list(job.history) + [
                        {"at": now, "event": "resumed after a server restart"}]
                    resumed.append(job.id)
        for job_id in resumed:
            self.submit(job_id)
        return resumed

    def shutdown(self) -> None:
        self._closing = True
        if self.pool is not None:
            self.pool.shutdown()
            return
        with self._lock:
            futures = list(self._futures.values())
        for fut in futures:
            fut.cancel()
        assert self.executor is not None
        self.executor.shutdown()


def publish_plan(session: Session, job: PlanJob) -> dict[str, int]:
    """Make a done week job's visits the week's published visits.

    A visit identical to the published one (same request, experts, date, start) keeps its
    row and outcome; others replace it. Planned requests become ``scheduled``; requests
    scheduled before but left out now go back to ``submitted``. Visits of requests the job did
    not plan (done or cancelled since) are left as they are. Returns counts.
    """
    assert job.week is not None and job.plan is not None
    planned_ids = {q["id"] for q in job.request_doc.get("requests", [])}
    current = {v.request_id: v for v in session.scalars(
        select(VisitRow).where(VisitRow.week == job.week, VisitRow.active.is_(True)))
        if v.request_id in planned_ids}
    planned = {v["request"]: v for v in job.plan["visits"]}
    kept = added = dropped = 0
    for rid, v in planned.items():
        q = session.get(RequestRow, rid)
        if q is None:
            continue
        date = dt.date.fromisoformat(v["date"])
        start, end = _parse_hhmm(v["start"]), _parse_hhmm(v["end"])
        old = current.pop(rid, None)
        if (old is not None and old.date == date and old.start == start
                and list(old.experts) == list(v["experts"])):
            old.job_id = job.id
            kept += 1
        else:
            if old is not None:
                old.active = False
            session.add(VisitRow(job_id=job.id, week=job.week, request_id=rid,
                                 municipality=q.municipality, experts=list(v["experts"]),
                                 mode=v["mode"], date=date, start=start, end=end, active=True))
            added += 1
        if q.status == "submitted":
            q.status = "scheduled"
            q.updated_at = utcnow()
    for rid, old in current.items():
        old.active = False
        dropped += 1
        q = session.get(RequestRow, rid)
        if q is not None and q.status == "scheduled":
            q.status = "submitted"
            q.updated_at = utcnow()
    job.published_at = utcnow()
    session.flush()
    return {"kept": kept, "added": added, "withdrawn": dropped}


def wait_for(sessions: sessionmaker[Session], job_id: str, timeout: float = 60.0) -> PlanJob:
    """Poll until the job is finished (tests and the benchmark); returns the row."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as s:
            job = s.get(PlanJob, job_id)
            if job is not None and job.status not in ACTIVE:
                return job
        if time.monotonic() > deadline:
            raise cf.TimeoutError(f"job {job_id} not finished after {timeout} s")
        time.sleep(0.1)
