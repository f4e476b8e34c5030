"""Plan jobs: solves that run outside the request handlers and survive restarts.

The job row is committed (status ``queued``) before the client gets its 202. A worker process
(``solvers.executor``: local processes or a Dask cluster) runs ``run_plan_job``: it marks the
row ``running``, writes the solver's progress (elapsed, objective, bound) as it comes, and
finally the plan/1 document (``done``) or the reason it could not (``failed``). The server
only submits and watches. On start-up ``JobManager.recover`` re-queues every job left
``queued`` or ``running`` by a stopped or killed server, or, once it has been started
``job_max_attempts`` times, marks it ``failed`` with that reason.

A job is also the unit of publishing: ``publish_plan`` (``service.weeks``, the week's state)
turns a done week job's visits into the week's published visits, which later week jobs keep
fixed (or, on request, only prefer).
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
from engine.errors import InputError
from engine.format import parse_plan, parse_plan_request, plan_to_dict
from service.db import (
    PlanJob,
    make_engine,
    utcnow,
)

# The week's state lives in service.weeks; these names stay importable from here.
from service.weeks import publish_plan, published_plan, week_dates, week_document
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
    (``solvers.parts``): ``executor`` (processes, dask, serial), ``address`` (of the Dask
    cluster), ``workers``.

    Writes only while the row still has this ``attempt`` and is not cancelled, so a stale
    or cancelled solve can never overwrite the job.
    """
    from solvers.planner import Progress, SolveOptions, solve  # start fast

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
    import solvers.planner  # noqa: F401  # start fast

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
            self.pool = WorkerPool(url, run_plan_job, week_slots=workers, document_slots=document_workers,
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
