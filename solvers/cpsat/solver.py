"""The one place a CP-SAT solver is configured: every solve of the planner, the repair, the
slot proposals, the hint probe and the day check gets its solver here, so a setting changed
here changes them all and none hides in a caller. Also here: the planner's ``Clock`` (the
time, wall and deterministic, each of its solves may take), the stop watch, progress events
and the guard against CP-SAT's presolve failing.

>>> solver = new_solver(2.0, first_solution=True)
>>> solver.parameters.num_workers, solver.parameters.stop_after_first_solution
(1, True)
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solvers.options import Progress, SolveOptions

__all__ = ["Clock", "ProgressCallback", "cp_solver", "new_solver", "solve_guarded",
           "stop_watch"]


def new_solver(time_limit: float | None = None, *, workers: int = 1, seed: int | None = None,
               deterministic_time: float | None = None, first_solution: bool = False,
               tuned: bool = False) -> cp_model.CpSolver:
    """A CP-SAT solver: at most ``time_limit`` seconds of wall clock (None: no limit) and
    ``deterministic_time`` of CP-SAT's deterministic time, on ``workers`` threads, with
    ``seed``; ``first_solution`` stops at the first solution found; ``tuned`` sets what the
    planner's models solve best with (the full linearisation, no presolve probing)."""
    solver = cp_model.CpSolver()
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = time_limit
    if seed is not None:
        solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    if deterministic_time is not None:
        solver.parameters.max_deterministic_time = deterministic_time
    if first_solution:
        solver.parameters.stop_after_first_solution = True
    if tuned:
        # The served-priority part of the objective is a sum of at-most-one choices; only the
        # fuller linearisation puts those in the LP, which makes the bound tight from the root.
        solver.parameters.linearization_level = 2
        # Presolve probing costs more than it saves on these models (benchmarks/README.md).
        solver.parameters.cp_model_probing_level = 0
    return solver


class ProgressCallback(cp_model.CpSolverSolutionCallback):
    def __init__(self, sink: Callable[[Progress], None] | None, t0: float, phase: str):
        super().__init__()
        self._sink, self._t0, self._phase, self.count = sink, t0, phase, 0

    def on_solution_callback(self) -> None:
        self.count += 1
        if self._sink is not None:
            self._sink(Progress(time.perf_counter() - self._t0, self.objective_value,
                                self.best_objective_bound, self.count, self._phase))


@contextlib.contextmanager
def stop_watch(solver: cp_model.CpSolver,
               stop: Callable[[], bool] | None) -> Iterator[threading.Event]:
    """While the block runs, end the search as soon as ``stop()`` says so; the event it gives
    is set once it has."""
    fired = threading.Event()
    if stop is None:
        yield fired
        return
    if stop():
        # told before the solve began (a stop_search now would be lost): no time for it
        fired.set()
        solver.parameters.max_time_in_seconds = 0.0
        yield fired
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.2):
            if stop():
                fired.set()
                solver.stop_search()
                return

    thread = threading.Thread(target=watch, name="dxshare-stop-watch", daemon=True)
    thread.start()
    try:
        yield fired
    finally:
        done.set()
        thread.join()


def solve_guarded(solver: cp_model.CpSolver, model: cp_model.CpModel,
                  callback: cp_model.CpSolverSolutionCallback | None = None
                  ) -> cp_model.CpSolverStatus:
    """``solver.solve``, and again without presolve when CP-SAT's presolve fails inside the
    solve (an IndexError from its hash map, seen on a week after an event, history_until set,
    re-planned with a previous plan): the same model solves without it."""
    try:
        return solver.solve(model, callback) if callback is not None else solver.solve(model)
    except IndexError:
        if not solver.parameters.cp_model_presolve:
            raise
        solver.parameters.cp_model_presolve = False
        return solver.solve(model, callback) if callback is not None else solver.solve(model)


def cp_solver(options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    det = options.deterministic_time
    return new_solver(max(0.01, time_limit), workers=max(1, options.workers), seed=options.seed,
                      deterministic_time=None if det is None else max(0.01, det), tuned=True)


@dataclass
class Clock:
    """The time a solve may take: the wall-clock deadline (the promise the caller was made)
    and, with ``options.deterministic_time``, a budget of CP-SAT deterministic time shared by
    every CP-SAT call, so that the same seed gives the same plan on any machine and executor
    (as long as the wall clock does not run out first)."""

    options: SolveOptions
    t0: float
    deadline: float
    spent: float = 0.0
    #: ``options.stop`` has ended a search: no time is left for another.
    stopped: bool = False

    def left(self) -> float:
        """Wall seconds left (none once the search was told to stop)."""
        if self.stopped:
            return 0.0
        return max(0.0, self.deadline - time.perf_counter())

    def solver(self, share: float = 1.0, cap: float | None = None) -> cp_model.CpSolver:
        """A CP-SAT solver allowed ``share`` of what is left (at most ``cap`` seconds)."""
        wall = self.left() * share
        solver = cp_solver(self.options, wall if cap is None else min(wall, cap))
        total = self.options.deterministic_time
        if total is not None:
            det = max(0.001, (total - self.spent) * share)
            solver.parameters.max_deterministic_time = det if cap is None else min(det, cap)
        return solver

    def run(self, solver: cp_model.CpSolver, model: cp_model.CpModel,
            callback: cp_model.CpSolverSolutionCallback | None = None) -> cp_model.CpSolverStatus:
        """Solve (stoppable by ``options.stop``) and count the deterministic time spent."""
        with stop_watch(solver, self.options.stop) as fired:
            code = solve_guarded(solver, model, callback)
        self.spent += solver.response_proto.deterministic_time
        self.stopped = self.stopped or fired.is_set()
        return code

    def past(self, share: float) -> bool:
        """Whether ``share`` of the whole budget is used (wall, or deterministic when set);
        all of it is once the search was told to stop."""
        if self.stopped:
            return True
        total = self.options.deterministic_time
        if total is not None and self.spent >= share * total:
            return True
        return time.perf_counter() >= self.t0 + share * (self.deadline - self.t0)
