"""A plan job's solve, run in a worker process: it marks the row ``running``, writes the
solver's progress (elapsed, objective, bound) as it comes, and finally the plan/1 document
(``done``) or the reason it could not (``failed``)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import select

from engine.changes import with_changes
from engine.errors import InputError
from engine.format import parse_plan, parse_plan_request, plan_to_dict
from service.db import PlanJob, utcnow
from service.jobs.reasons import invalid_input, no_plan, solver_error
from service.jobs.rows import ACTIVE, engine_for, finish, guarded_update

__all__ = ["run_plan_job", "warm"]

log = logging.getLogger("dxshare.jobs")


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

    eng = engine_for(url)
    with eng.begin() as conn:
        row = conn.execute(select(PlanJob.request_doc, PlanJob.previous_doc, PlanJob.options,
                                  PlanJob.history)
                           .where(PlanJob.id == job_id, PlanJob.attempt == attempt,
                                  PlanJob.status.in_(ACTIVE))).first()
        if row is None:
            return "skipped"
        history = list(row.history or []) + [{"at": utcnow().isoformat(),
                                              "event": f"started (attempt {attempt})"}]
        conn.execute(guarded_update(job_id, attempt, ACTIVE).values(
            status="running", started_at=utcnow(), history=history,
            progress={"elapsed": 0.0, "objective": None, "bound": None, "solutions": 0,
                      "phase": "model"}))
    try:
        problem = parse_plan_request(row.request_doc)
        previous = parse_plan(row.previous_doc) if row.previous_doc else None
    except InputError as err:
        return finish(eng, job_id, attempt, "failed", reason=invalid_input(err))
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
                    conn.execute(guarded_update(job_id, attempt, ("running",)).values(progress={
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
        return finish(eng, job_id, attempt, "failed", reason=solver_error(exc))
    finally:
        stop.set()
        thread.join()
    doc = plan_to_dict(with_changes(plan, previous))
    final = {"elapsed": round(time.perf_counter() - t0, 3), "objective": plan.objective,
             "bound": plan.bound, "solutions": None, "phase": "finished"}
    if plan.status in ("optimal", "feasible"):
        return finish(eng, job_id, attempt, "done", plan=doc, progress=final)
    return finish(eng, job_id, attempt, "failed", plan=doc, progress=final,
                  reason=no_plan(plan.status, plan.messages, plan.messages_ja))



def warm() -> int:
    """Import the solver in a fresh worker so the first job does not pay for it."""
    import solvers.planner  # noqa: F401  # start fast

    return 0

