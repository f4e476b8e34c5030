"""Follow-up series (``requests[].after``) in a plan by parts: no border cuts a series.

- The first plan keeps each series in one part: the part holding the series' first request
  takes every request of the series, and its dates reach to the series' last date
  (``keep_series_together``).
- A sub-problem re-decides a series only whole: a request whose series has a member the
  sub-problem does not re-decide stays as the rest of the plan has it (``cut_series``), so
  that a follow-up and the visit it follows are never decided apart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.model import PlanRequest

if TYPE_CHECKING:
    from solvers.parts.hoods import Neighbourhood

__all__ = ["cut_series", "keep_series_together", "series_of"]


def series_of(problem: PlanRequest) -> dict[str, frozenset[str]]:
    """Request id → the ids of its whole series (itself included), for the requests that are
    in a series of two or more."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for q in problem.requests:
        if q.after is not None and q.after.request in problem.request_by_id:
            parent[find(q.id)] = find(q.after.request)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return {x: frozenset(g) for g in groups.values() if len(g) > 1 for x in g}


def keep_series_together(problem: PlanRequest, hoods: Sequence[Neighbourhood]
                         ) -> list[Neighbourhood]:
    """``hoods`` (the parts of a first plan) with each series moved whole into the part of
    its first request, that part's dates reaching from the series' first date to its last."""
    series = series_of(problem)
    if not series:
        return list(hoods)
    reqs = problem.request_by_id
    owner: dict[frozenset[str], int] = {}
    for i, h in enumerate(hoods):
        for rid in h.requests:
            q = reqs.get(rid)
            if rid in series and q is not None and (
                    q.after is None or q.after.request not in reqs):
                owner.setdefault(series[rid], i)
    out = []
    for i, h in enumerate(hoods):
        mine = [g for g, k in owner.items() if k == i]
        members = set().union(*mine) if mine else set()
        kept = {rid for rid in h.requests if rid not in series or series[rid] in mine}
        dates = h.dates
        if dates is not None and members:
            days = [d for rid in members for d in (reqs[rid].earliest, reqs[rid].latest)]
            dates = (min(dates[0], *days), max(dates[1], *days))
        out.append(replace(h, requests=frozenset(kept | members), dates=dates))
    return out


def cut_series(problem: PlanRequest, free: Collection[str],
               within: Callable[[str], bool]) -> set[str]:
    """The requests of ``free`` whose series is not whole in the sub-problem: a member is not
    free, or falls outside its dates (``within`` false)."""
    series = series_of(problem)
    return {rid for rid in free if rid in series
            and not all(x in free and within(x) for x in series[rid])}
