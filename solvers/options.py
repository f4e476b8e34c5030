"""How to solve: the options of a solve (``SolveOptions``) and the progress events it sends
(``Progress``). Read by the planner, its searches and the solve by parts alike, so that none of
them imports another for its options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.model import Plan

__all__ = ["Progress", "SolveOptions"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A solver event: seconds since the start, objective of the best plan and proven bound."""

    elapsed: float
    objective: float
    bound: float
    solutions: int
    phase: str = "main"


@dataclass(frozen=True)
class SolveOptions:
    """How to solve.

    ``time_limit`` in seconds of wall clock for the whole call, model building included;
    ``seed`` and ``workers`` go to CP-SAT: with ``workers=1`` (the default, and the fastest to a
    proof on the Ehime weeks, see benchmarks/README.md) the same seed gives the same plan when
    no time limit interrupts. ``previous`` is last week's plan: its visits stay unless they must
    move, the number moved minimised right after the main objective. ``travel_speed_factor``
    scales the estimated driving speed (scenarios). ``stop`` is polled a few times a second;
    when it returns true the search ends early and the best plan so far is returned (status
    ``feasible``), as on a time limit.

    ``deterministic_time`` bounds the CP-SAT searches of the call together in CP-SAT's
    deterministic time (work, not seconds; ``solvers.search.Clock`` shares it out): when it,
    not the wall clock, ends the searches, the same seed gives the same plan on any machine
    and executor. ``start`` is a plan to start from: its visits are placed
    first (as they were, wherever they still fit) in the first plan the search improves on,
    without counting moves as ``previous`` does. ``model`` passes settings to
    ``solvers.model.PlannerModel`` (e.g. ``{"use_tours": False}`` to plan every day with a
    circuit): for tests that check each formulation, and for experiments.

    Large problems are solved by parts (``solvers.decompose``): ``decompose`` is ``"auto"``
    (by parts when ``solvers.decompose.needs_parts`` says one model is too large), ``"always"``
    or ``"never"``; the parts run on the executor ``executor`` (``"processes"``, ``"dask"`` with
    ``executor_address`` or a new local cluster, ``"serial"``) with ``executor_workers``
    workers (default: the machine's cores).
    """

    time_limit: float = 30.0
    seed: int = 0
    workers: int = 1
    previous: Plan | None = None
    progress: Callable[[Progress], None] | None = None
    travel_speed_factor: float = 1.0
    explain: bool = True
    stop: Callable[[], bool] | None = None
    deterministic_time: float | None = None
    model: Mapping[str, Any] = field(default_factory=dict)
    start: Plan | None = None
    decompose: str = "auto"
    executor: str = "processes"
    executor_address: str | None = None
    executor_workers: int | None = None
