"""Plan-job solves in worker processes the server owns and can end.

Each job runs in a process of its own (started with ``spawn``, so no solver thread is ever
forked); the process ends with its job, so whatever memory a solve took is returned to the
system. A warm spare process, with the solver already imported, waits for the next job so
a job starts at once (as many spares as there are slots, so that jobs posted together all
start at once).

- **Lanes.** Week jobs (planned from the database) and document jobs (a whole
  plan-request/1 body) have separate slots: ``week_slots`` processes for weeks,
  ``document_slots`` for documents. A week job never waits behind a document, and jobs of
  different weeks run side by side up to ``week_slots``.
- **Cancel** terminates the job's process (SIGTERM, then SIGKILL after a second): the slot is
  free at once, whatever the solver was doing (model building included).
- **Deadline.** A job still running ``grace`` seconds after its time limit is terminated
  and marked failed with that reason.
- **Memory.** Each process may use at most ``memory_mb`` of address space (Linux
  ``RLIMIT_AS``); a solve that needs more fails with that reason instead of taking the
  machine.
- **No orphans.** A worker watches its parent from its first instant (warming up included):
  when the server goes away (even by SIGKILL) the worker is re-parented or the pipe to it
  closes, and the worker exits within a second; the processes of a job solved by parts
  watch the worker the same way (``solvers.executor.exit_with_parent``).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing as mp
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from solvers.executor import exit_with_parent

__all__ = ["JobTarget", "WorkerPool"]

#: What a worker runs: ``(database url, job id, attempt, parts) -> the status it ended with``.
JobTarget = Callable[[str, str, int, "dict[str, Any] | None"], str]

log = logging.getLogger("dxshare.workers")

#: Seconds between the checks of a worker on its parent.
WATCH_SECONDS = 0.5


def _limit_memory(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this system: no limit
        log.warning("could not limit worker memory to %s MB", memory_mb)


def _watch_parent(conn: Connection, parent: int) -> None:
    """End this process when the server is gone: its end of the pipe closed (EOF) or this
    process was handed to another parent (the server died)."""
    while True:
        try:
            if conn.poll(WATCH_SECONDS):
                conn.recv()  # the server sends nothing while a job runs: EOF means it died
        except (EOFError, OSError):
            os._exit(70)
        if os.getppid() != parent:
            os._exit(70)


def _warm_up() -> None:
    """Import the solver and solve a one-request plan, so that the job this process takes
    does not pay for first-time imports and set-up."""
    try:
        from engine.format import parse_plan_request  # start fast
        from solvers.planner import SolveOptions, solve  # start fast

        doc = {"format": "plan-request/1",
               "horizon": {"start": "2026-12-07", "end": "2026-12-07"},
               "locations": [{"id": "a", "name": "A", "lat": 33.8, "lon": 132.7},
                             {"id": "b", "name": "B", "lat": 33.9, "lon": 132.8}],
               "experts": [{"id": "e", "fields": ["pr"], "base": "a"}],
               "requests": [{"id": "r", "location": "b", "fields": ["pr"], "mode": "onsite",
                             "duration_min": 60, "priority": 5}]}
        solve(parse_plan_request(doc), SolveOptions(time_limit=0.5, workers=1))
    except Exception:  # noqa: BLE001 - warming is an optimisation; the job reports errors
        log.exception("warming up a plan worker")


def worker_main(conn: Connection, parent: int, memory_mb: int | None,
                target: JobTarget | str) -> None:
    """A worker process: import the solver, wait for one job, run it, exit.

    Messages from the server: ``("run", url, job_id, attempt, parts)`` (``parts``: where a
    problem too large for one model solves its parts, see ``service.jobs.runner.run_plan_job``); to
    the server: ``("ready",)`` once warm and ``("ended", status)`` when the job is written.
    The job runs as ``target(url, job_id, attempt, parts)``; given by name
    (``"module:function"``), it is imported here, after the parent is watched: what a
    process is handed is unpickled before any of its code runs, and unpickling a function
    imports its module (for plan jobs: the database layer and pandas, seconds under load).
    """
    exit_with_parent(parent, kill_signal=True)    # started by the pool's own thread
    if isinstance(target, str):
        module, _, name = target.partition(":")
        run: JobTarget = getattr(importlib.import_module(module), name)
    else:
        run = target
    _limit_memory(memory_mb)
    _warm_up()

    try:
        conn.send(("ready",))
        while not conn.poll(WATCH_SECONDS):
            if os.getppid() != parent:
                os._exit(70)
        msg = conn.recv()
    except (EOFError, OSError):
        os._exit(70)
    if not msg or msg[0] != "run":
        os._exit(0)
    threading.Thread(target=_watch_parent, args=(conn, parent), name="watch-parent",
                     daemon=True).start()
    _, url, job_id, attempt, parts = msg
    try:
        status = run(url, job_id, attempt, parts)
    except MemoryError:
        status = "memory"
    try:
        conn.send(("ended", status))
    except OSError:
        pass
    os._exit(0 if status != "memory" else 71)


@dataclass
class _Proc:
    process: Any
    conn: Connection
    ready: bool = False


@dataclass
class _Running:
    job_id: str
    attempt: int
    lane: str
    proc: _Proc
    started: float
    deadline: float
    ended: str | None = None
    end_asked: float | None = None


@dataclass
class _Queued:
    job_id: str
    attempt: int
    lane: str
    time_limit: float


@dataclass
class _Lanes:
    slots: dict[str, int]
    queues: dict[str, deque[_Queued]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queues = {lane: deque() for lane in self.slots}


class WorkerPool:
    """Runs jobs in worker processes (see the module docstring): each one as
    ``target(url, job_id, attempt, parts)`` in a process of its own, which returns the
    status the job ended with (``service.jobs.runner.run_plan_job`` for plan jobs); ``target`` must
    be a module-level function, as it is handed to a spawned process.

    ``on_exit(job_id, attempt, reason, reason_ja)`` is called (from the pool's thread) when a
    job's process ended without writing the job: terminated at its deadline, out of memory,
    or crashed; it records the reason (English, Japanese) on the row. Cancelled jobs are not
    reported.
    """

    def __init__(self, url: str, target: JobTarget, *, week_slots: int = 2,
                 document_slots: int = 1,
                 grace: float = 10.0, memory_mb: int | None = 4096,
                 on_exit: Callable[[str, int, str, str], None] | None = None,
                 spares: int | None = None, parts: dict[str, Any] | None = None):
        self.url, self.grace, self.memory_mb = url, grace, memory_mb
        self.target = target
        self.parts = parts
        self.spares = spares if spares is not None else max(1, week_slots) + max(1,
                                                                                 document_slots)
        self.on_exit = on_exit
        self._lanes = _Lanes({"week": max(1, week_slots), "document": max(1, document_slots)})
        self._ctx = mp.get_context("spawn")
        self._lock = threading.Condition()
        self._running: dict[str, _Running] = {}
        self._spares: list[_Proc] = []
        self._closing = False
        self._spare_failures = 0
        #: The last jobs whose process ended: (job id, how it ended, exit code, seconds
        #: from the end request, cancel or deadline, to the process being gone).
        self.ended: deque[tuple[str, str, int | None, float | None]] = deque(maxlen=100)
        self._next_spare = 0.0
        self._thread = threading.Thread(target=self._loop, name="plan-job-pool", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public
    def submit(self, job_id: str, attempt: int, *, lane: str, time_limit: float) -> None:
        """Queue the job's attempt in its lane (``week`` or ``document``)."""
        with self._lock:
            self._lanes.queues[lane].append(_Queued(job_id, attempt, lane, time_limit))
            self._lock.notify_all()

    def cancel(self, job_id: str) -> bool:
        """Drop the queued job or terminate its process; True if it was here."""
        with self._lock:
            for q in self._lanes.queues.values():
                for item in list(q):
                    if item.job_id == job_id:
                        q.remove(item)
                        return True
            run = self._running.get(job_id)
            if run is None:
                return False
            run.ended = "cancelled"
            run.end_asked = time.monotonic()
        # SIGTERM only: the pool's own thread joins the process and escalates to SIGKILL
        # (two threads waiting on one process can leave its exit code unread)
        run.proc.process.terminate()
        with self._lock:
            self._lock.notify_all()
        return True

    def running(self) -> dict[str, dict[str, Any]]:
        """The jobs in worker processes now: lane, pid, seconds since start."""
        now = time.monotonic()
        with self._lock:
            return {j: {"lane": r.lane, "pid": r.proc.process.pid,
                        "elapsed": round(now - r.started, 2)}
                    for j, r in self._running.items()}

    def queued(self) -> list[str]:
        with self._lock:
            return [i.job_id for q in self._lanes.queues.values() for i in q]

    def pids(self) -> list[int]:
        """Process ids of every worker (running jobs and warm spares)."""
        with self._lock:
            procs = [r.proc for r in self._running.values()] + list(self._spares)
            return [p.process.pid for p in procs if p.process.pid is not None]

    def shutdown(self) -> None:
        """Terminate every worker (their jobs are resumed at the next start)."""
        with self._lock:
            self._closing = True
            procs = [r.proc for r in self._running.values()] + list(self._spares)
            self._running.clear()
            self._spares.clear()
            for q in self._lanes.queues.values():
                q.clear()
            self._lock.notify_all()
        self._thread.join(timeout=5)
        for p in procs:
            self._terminate(p, close=True)

    # ------------------------------------------------------------------ internals
    def _spawn(self) -> _Proc:
        ours, theirs = self._ctx.Pipe()
        # the job's function by name: the process imports it once it watches this one
        qualname = getattr(self.target, "__qualname__", "<locals>")
        target: JobTarget | str = (self.target if "<" in qualname
                                   else f"{self.target.__module__}:{qualname}")
        process = self._ctx.Process(target=worker_main, args=(theirs, os.getpid(),
                                                              self.memory_mb, target),
                                    name="dxshare-plan-worker", daemon=True)
        process.start()
        theirs.close()
        return _Proc(process, ours)

    def _terminate(self, proc: _Proc, *, close: bool = False) -> None:
        """SIGTERM, then SIGKILL after a second. The pipe is closed only by the pool's own
        thread (``close``), never under its ``wait``."""
        if proc.process.is_alive():
            proc.process.terminate()
            proc.process.join(1.0)
            if proc.process.is_alive():
                proc.process.kill()
                proc.process.join(1.0)
        if close:
            try:
                proc.conn.close()
            except OSError:
                pass

    def _take_spare(self) -> _Proc:
        for p in self._spares:
            if p.ready and p.process.is_alive():
                self._spares.remove(p)
                return p
        for p in list(self._spares):
            if p.process.is_alive():
                self._spares.remove(p)
                return p  # still importing: the job message waits in its pipe
        return self._spawn()

    def _start_next(self) -> None:
        """Start queued jobs while their lane has a free slot (lock held)."""
        for lane, queue in self._lanes.queues.items():
            busy = sum(1 for r in self._running.values() if r.lane == lane)
            while queue and busy < self._lanes.slots[lane]:
                item = queue.popleft()
                proc = self._take_spare()
                try:
                    proc.conn.send(("run", self.url, item.job_id, item.attempt, self.parts))
                except OSError:
                    self._terminate(proc)
                    queue.appendleft(item)
                    continue
                now = time.monotonic()
                self._running[item.job_id] = _Running(
                    item.job_id, item.attempt, lane, proc, now,
                    now + item.time_limit + self.grace)
                busy += 1
        dead = [p for p in self._spares if not p.process.is_alive()]
        if dead:
            self._spares = [p for p in self._spares if p.process.is_alive()]
            crashed = [p for p in dead if not p.ready and (p.process.exitcode or 0) > 0]
            if crashed:  # failed while warming up (not a signal from outside): back off
                self._spare_failures += 1
                self._next_spare = time.monotonic() + min(30.0, 2.0 ** self._spare_failures)
                log.error("a plan worker failed while starting (exit code %s)",
                          crashed[0].process.exitcode)
        # ``spares`` warm processes at all times, so that jobs posted together, or right
        # after others ended, all start at once
        while not self._closing and len(self._spares) < self.spares \
                and time.monotonic() >= self._next_spare:
            self._spares.append(self._spawn())

    def _loop(self) -> None:
        while True:
            try:
                if self._step():
                    return
            except Exception:  # noqa: BLE001 - the pool must outlive any one odd event
                log.exception("plan worker pool")
                time.sleep(0.25)

    def _step(self) -> bool:
        """One round: start what can start, wait a little, collect what ended. True when
        the pool is closing."""
        with self._lock:
            if self._closing:
                return True
            self._start_next()
            waitables: list[Any] = []
            for r in self._running.values():
                waitables += [r.proc.process.sentinel, r.proc.conn]
            for p in self._spares:
                if not p.ready:
                    waitables.append(p.conn)
        ready: list[Any] = []
        if waitables:
            ready = list(wait(waitables, timeout=0.25))
        else:
            time.sleep(0.25)
        reports: list[tuple[str, int, str, str]] = []
        with self._lock:
            if self._closing:
                return True
            for p in self._spares:
                if not p.ready and p.conn in ready:
                    try:
                        p.ready = p.conn.recv()[0] == "ready"
                        self._spare_failures = 0
                    except (EOFError, OSError):
                        p.process.join(0.1)
            now = time.monotonic()
            for job_id, r in list(self._running.items()):
                if r.ended is None and r.proc.conn in (ready or []):
                    try:
                        msg = r.proc.conn.recv()
                        if msg[0] == "ended":
                            r.ended = "memory" if msg[1] == "memory" else "written"
                    except (EOFError, OSError):
                        pass
                if r.ended is None and now > r.deadline:
                    r.ended, r.end_asked = "deadline", now
                    self._terminate(r.proc)
                if r.proc.process.is_alive() and r.ended not in ("deadline",
                                                                 "cancelled"):
                    continue
                r.proc.process.join(1.0)
                self._terminate(r.proc, close=True)
                del self._running[job_id]
                self.ended.append((job_id, r.ended or "exited", r.proc.process.exitcode,
                                   None if r.end_asked is None
                                   else round(time.monotonic() - r.end_asked, 3)))
                why = self._exit_reason(r)
                if why is not None:
                    reports.append((job_id, r.attempt, *why))
        for job_id, attempt, en, ja in reports:
            if self.on_exit is not None:
                try:
                    self.on_exit(job_id, attempt, en, ja)
                except Exception:  # noqa: BLE001 - the next start-up recovers the row
                    log.exception("could not record the end of job %s", job_id)
        return False

    def _exit_reason(self, r: _Running) -> tuple[str, str] | None:
        """Why the job's process ended without writing it (English, Japanese), or None."""
        if r.ended in ("written", "cancelled"):
            return None
        from service.jobs.reasons import exit_reason  # start fast: not in a worker's first import

        return exit_reason(r.ended or "exited", grace=self.grace,
                           limit=round(r.deadline - r.started - self.grace, 1),
                           memory_mb=self.memory_mb, exitcode=r.proc.process.exitcode)
