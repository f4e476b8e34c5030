"""The server's side of plan jobs: ``JobManager`` hands each job to a worker (the server's own
``WorkerPool``, a Dask cluster, or the calling thread), cancels it, records a worker that
ended without writing its job, and on start-up resumes or fails the jobs a stopped server
left unfinished."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.db import PlanJob, utcnow
from service.jobs.pool import WorkerPool
from service.jobs.reasons import gave_up, worker_failed
from service.jobs.rows import ACTIVE, engine_for, finish
from service.jobs.runner import run_plan_job, warm
from solvers.executor import Executor, make_executor

__all__ = ["JobManager", "wait_for"]

log = logging.getLogger("dxshare.jobs")


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
                    self.executor.submit(warm)
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

    def _exited(self, job_id: str, attempt: int, reason: str, reason_ja: str) -> None:
        finish(engine_for(self.url), job_id, attempt, "failed", reason=(reason, reason_ja))

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
        reason = worker_failed(exc)
        try:
            finish(engine_for(self.url), job_id, attempt, "failed", reason=reason)
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
                    job.reason, job.reason_ja = gave_up(job.attempt)
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
