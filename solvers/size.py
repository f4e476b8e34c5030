"""Whether a problem is planned as one model or by parts (``solvers.parts``): the rule alone,
apart from the machinery for parts, so that a week planned as one model does not load it.

>>> from engine.demand import ehime_week
>>> needs_parts(ehime_week("2026-12-07", seed=0))
False
"""

from __future__ import annotations

from collections import defaultdict

from engine.model import PlanRequest

__all__ = ["PART_REQUESTS", "needs_parts"]

#: Requests a part aims at: small enough that its model is built and searched in seconds;
#: a problem of more than twice this many goes by parts.
PART_REQUESTS = 120


def needs_parts(problem: PlanRequest) -> bool:
    """Whether ``solve`` should go by parts (the rule in ``solvers.parts``)."""
    n_req, n_exp = len(problem.requests), len(problem.experts)
    if n_req > 2 * PART_REQUESTS or n_exp > 40:
        return True
    days = (problem.horizon.end - problem.horizon.start).days + 1
    by_field: dict[str, int] = defaultdict(int)
    for e in problem.experts:
        for f in e.fields:
            by_field[f] += 1
    combos = sum(max((by_field.get(f, 0) for f in q.fields), default=0) for q in problem.requests)
    return combos * days > 200_000
