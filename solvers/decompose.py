"""The solve by parts under its former name: it lives in ``solvers.parts`` (one module a step);
its names are kept here so that code importing them from ``solvers.decompose`` still works."""

from solvers.parts import (
    PART_REQUESTS,
    Neighbourhood,
    Part,
    PartSolver,
    RegionSplit,
    Split,
    WindowSplit,
    default_split,
    join,
    needs_parts,
    relaxation_bound,
    solve_by_parts,
    sub_problem,
)

__all__ = [
    "PART_REQUESTS",
    "Neighbourhood",
    "Part",
    "PartSolver",
    "RegionSplit",
    "Split",
    "WindowSplit",
    "default_split",
    "join",
    "needs_parts",
    "relaxation_bound",
    "solve_by_parts",
    "sub_problem",
]
