"""Parts solved on an executor: each part a ``Task`` with its share of the time, submitted
heaviest first, at most as many at a time as the executor has workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.model import Plan, PlanRequest, Visit
from solvers.executor import Executor, FutureLike
from solvers.options import PartRules
from solvers.parts.hoods import Neighbourhood

__all__ = ["PartRules", "PartSolver", "Task", "catching", "run_tasks", "workers_of"]


def workers_of(executor: Executor) -> int:
    """How many parts ``executor`` solves at once (a Dask cluster: its threads)."""
    n = getattr(executor, "workers", None)
    if isinstance(n, int) and n > 0:
        return n
    client = getattr(executor, "_client", None)
    if client is not None:
        try:
            return max(1, sum(w.get("nthreads", 1) for w in
                              client.scheduler_info()["workers"].values()))
        except Exception:  # noqa: BLE001 - an unknown cluster: assume one
            return 1
    return 1


@dataclass
class Task:
    """One sub-problem to solve on the executor: its weight sets its share of the time."""

    hood: Neighbourhood
    problem: PlanRequest
    start: tuple[Visit, ...]
    weight: float
    dtime: float | None
    seed: int
    limit: float = 0.0
    result: Plan | None = None
    late: bool = False


#: Solves one part in a worker: ``(problem, time_limit, seed, deterministic_time, start visits,
#: rules) -> Plan``; a module-level function, as executors pickle it.
PartSolver = Callable[[PlanRequest, float, int, "float | None", "tuple[Visit, ...]", PartRules],
                      Plan]


def run_tasks(executor: Executor, n_work: int, tasks: list[Task], until: float,
         part_solver: PartSolver, meanwhile: Callable[[], None] | None = None,
         rules: PartRules | None = None) -> None:
    """Solve the tasks on the executor, at most ``n_work`` at a time, heaviest first; each
    task's wall-clock limit is set when it starts: its fair share of the time left (what a
    part that ends early leaves goes to those after it), never past ``until`` — on a loaded
    machine, where a part's deterministic limit takes longer than its share of wall time,
    twice the share let the first parts take the time of all the others. A task not done by
    ``until`` keeps ``result`` None and is marked ``late``. ``meanwhile`` runs on a thread of
    this process once the first tasks are submitted, while the next ones keep being submitted
    as workers come free (run here, it held them back: a season's first two parts ended after
    25 s and the workers then stood idle for 30 s while the bounds were computed); it is waited
    for before returning. Every task is solved under ``rules`` (default: at the estimated
    speed, nothing published before)."""
    rules = rules or PartRules()
    order = sorted(range(len(tasks)), key=lambda i: (-tasks[i].weight, i))
    beside: threading.Thread | None = None
    failed: list[BaseException] = []
    running: dict[int, FutureLike] = {}
    left_weight = sum(t.weight for t in tasks)
    nxt = 0
    while (nxt < len(order) or running) and time.perf_counter() < until:
        while nxt < len(order) and len(running) < n_work:
            i = order[nxt]
            nxt += 1
            t = tasks[i]
            remaining = until - time.perf_counter()
            if remaining < 0.3:
                t.late = True
                continue
            # this task's share of the worker-seconds left, by weight
            fair = remaining * n_work * t.weight / max(t.weight, left_weight)
            t.limit = max(0.3, min(0.9 * remaining, fair))
            left_weight -= t.weight
            try:
                running[i] = executor.submit(part_solver, t.problem, t.limit, t.seed, t.dtime,
                                             t.start, rules)
            except Exception:  # noqa: BLE001 - a broken executor: the task stays unsolved
                t.late = True
        if meanwhile is not None and beside is None:
            beside = threading.Thread(target=catching, args=(meanwhile, failed),
                                      name="meanwhile", daemon=True)
            beside.start()
        for i, f in list(running.items()):
            if f.done():
                try:
                    tasks[i].result = f.result()
                except Exception:  # noqa: BLE001 - a failed part is replaced, never fatal
                    tasks[i].late = True
                del running[i]
        if running:
            time.sleep(0.01)
    for i, f in running.items():
        f.cancel()
        tasks[i].late = True
    for i in order[nxt:]:
        tasks[i].late = True
    if beside is not None:
        beside.join()
        if failed:
            raise failed[0]
    elif meanwhile is not None:         # no task started: it still runs, here
        meanwhile()


def catching(fn: Callable[[], None], failed: list[BaseException]) -> None:
    """``fn()``, its exception kept in ``failed`` (raised again by the caller's thread)."""
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - handed to the caller
        failed.append(exc)
