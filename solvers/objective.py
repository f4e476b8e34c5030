"""The objective of FORMAT.md on a plan, and the bound every plan obeys (every servable
request served with no driving): written once for the planner, the solve by parts, the season
and the slot proposals.
"""

from __future__ import annotations

from collections import Counter

from engine.kpis import objective_of, served_value
from engine.model import PlanRequest, Route, Visit

__all__ = ["objective_value", "served_value", "trivial_bound"]


def objective_value(problem: PlanRequest, visits: list[Visit], routes: list[Route]) -> int:
    """FORMAT.md's objective evaluated on a plan (``engine.kpis.objective_of``)."""
    return objective_of(problem, visits, routes)


def trivial_bound(problem: PlanRequest, servable: set[str]) -> int:
    """FORMAT.md's objective if every request in ``servable`` were served with no driving:
    a bound every plan obeys (the coverage shortfall counted is only what serving all of
    ``servable`` still leaves)."""
    value = sum(served_value(problem, q) for q in problem.requests if q.id in servable)
    cov = problem.goals.coverage
    if cov is not None:
        reach = Counter(q.location for q in problem.requests
                        if q.id in servable and q.mode in cov.modes)
        value -= cov.penalty * sum(max(0, f - reach[lid]) for lid, f in cov.floors(problem).items())
    return value
