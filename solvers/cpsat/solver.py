"""The one place a CP-SAT solver is configured: every solve of the planner, the repair, the
slot proposals, the hint probe and the day check gets its solver here, so a setting changed
here changes them all and none hides in a caller.

>>> solver = new_solver(2.0, first_solution=True)
>>> solver.parameters.num_workers, solver.parameters.stop_after_first_solution
(1, True)
"""

from __future__ import annotations

from ortools.sat.python import cp_model

__all__ = ["new_solver"]


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
