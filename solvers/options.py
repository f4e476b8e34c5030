"""How to solve: the options of a solve (``SolveOptions``) and the progress events it sends
(``Progress``). Read by the planner, its searches and the solve by parts alike, so that none of
them imports another for its options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from engine.errors import InputError, Problem
from engine.model import Plan

__all__ = ["ModelSettings", "PartRules", "Progress", "SolveOptions"]


@dataclass(frozen=True, slots=True)
class Progress:
    """A solver event: seconds since the start, objective of the best plan and proven bound."""

    elapsed: float
    objective: float
    bound: float
    solutions: int
    phase: str = "main"


@dataclass(frozen=True)
class ModelSettings:
    """How the planner's CP-SAT model (``solvers.model.PlannerModel``) is formulated.

    ``use_tours``: days choose among enumerated tours (the default), else every day is a
    circuit over its legs; ``redundant``: the redundant bounds that help the search (the
    cheapest tour per set of stops, or the round-trip bound with ``max_tours=0``);
    ``max_tours``, ``max_tour_sets``, ``max_total_tours``: how many tours are enumerated per
    day, per set of stops and in all before a day falls back to its circuit.

    >>> ModelSettings.of({"use_tours": False}).use_tours
    False
    """

    use_tours: bool = True
    redundant: bool = True
    max_tours: int = 600
    max_tour_sets: int = 3000
    max_total_tours: int = 40000

    @classmethod
    def of(cls, given: ModelSettings | Mapping[str, Any]) -> ModelSettings:
        """``given`` as settings: as it is, or built from a mapping of field names (an
        unknown name is an ``InputError`` naming ``model.<name>``)."""
        if isinstance(given, ModelSettings):
            return given
        known = {f.name for f in fields(cls)}
        unknown = [k for k in given if k not in known]
        if unknown:
            raise InputError([Problem(f"model.{k}", f"unknown model setting; known: "
                                      f"{', '.join(sorted(known))}",
                                      f"不明なモデル設定です（{', '.join(sorted(known))}）")
                              for k in unknown])
        return cls(**given)

    def kwargs(self) -> dict[str, Any]:
        """The settings as ``PlannerModel``'s keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
    deterministic time (work, not seconds; ``solvers.cpsat.search.Clock`` shares it out): when it,
    not the wall clock, ends the searches, the same seed gives the same plan on any machine
    and executor. ``start`` is a plan to start from: its visits are placed
    first (as they were, wherever they still fit) in the first plan the search improves on,
    without counting moves as ``previous`` does. ``model`` is how the model is formulated
    (``ModelSettings``, or a mapping of its fields, e.g. ``{"use_tours": False}`` to plan every
    day with a circuit): for tests that check each formulation, and for experiments.

    Large problems are solved by parts (``solvers.parts``): ``decompose`` is ``"auto"``
    (by parts when ``solvers.parts.needs_parts`` says one model is too large), ``"always"``
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
    model: ModelSettings = field(default_factory=lambda: ModelSettings())
    start: Plan | None = None
    decompose: str = "auto"
    executor: str = "processes"
    executor_address: str | None = None
    executor_workers: int | None = None

    def __post_init__(self) -> None:
        # A mapping of settings (what tests and benchmarks pass) becomes ModelSettings.
        object.__setattr__(self, "model", ModelSettings.of(self.model))


@dataclass(frozen=True)
class PartRules:
    """What every part of one plan is solved under, as the whole plan is checked: the driving
    speed's factor (``SolveOptions.travel_speed_factor``: a part planned at another speed
    than the whole loses, in the join, what does not fit at the whole's) and the plan
    published before (``SolveOptions.previous``: its nights already spent stay, its visits move
    as few as they must), given only where one part is the whole problem. Pickled with each
    part to its worker."""

    speed_factor: float = 1.0
    previous: Plan | None = None
