"""Feedback: recording an engagement outcome updates the graph so later scores change.

A completed, rated engagement moves the candidate's ``outcome`` component (smoothed mean
rating) and, unless confidential, adds or strengthens its ``engaged-with`` edge, which moves
graph proximity after ``refresh_proximity``. An active engagement uses one unit of capacity.
"""

from __future__ import annotations

import datetime as dt

from engine.errors import InputError, Problem
from engine.matching.model import Engagement
from solvers.matching.graph import MatchGraph

__all__ = ["record_outcome"]


def record_outcome(
    g: MatchGraph,
    candidate: str,
    municipality: str,
    rating: float | None,
    *,
    need: str = "",
    status: str = "completed",
    confidential: bool | None = None,
    on: dt.date | None = None,
    refresh_proximity: bool = True,
) -> Engagement:
    """Record an engagement in ``g`` (in place) and return it.

    ``rating`` 1..5 for a completed engagement (``None`` for an active one). The engagement
    inherits field, topics and confidentiality from ``need`` when given.
    ``refresh_proximity=False`` defers the PageRank update (call ``g.refresh_proximity()``),
    useful when recording many outcomes on a large graph.

    >>> from engine.matching import load_demo
    >>> from solvers.matching.graph import build_graph
    >>> g = build_graph(load_demo())
    >>> record_outcome(g, "C001", "382019", 5.0).rating
    5.0
    """
    if candidate not in g.cand_pos:
        raise InputError(
            Problem("candidate", f"unknown candidate {candidate!r}", f"未知の候補者 {candidate!r}")
        )
    if municipality not in g.muni_pos:
        raise InputError(
            Problem(
                "municipality",
                f"unknown municipality {municipality!r}",
                f"未知の自治体 {municipality!r}",
            )
        )
    n = g.data.need_by_id.get(need) if need else None
    if need and n is None:
        raise InputError(Problem("need", f"unknown need {need!r}", f"未知のニーズ {need!r}"))
    eid = f"E-fb-{len(g.data.engagements) + 1:05d}"
    engagement = Engagement(
        id=eid,
        candidate=candidate,
        municipality=municipality,
        field=n.field if n else "",
        topics=n.topics if n else (),
        start=on,
        end=on if status == "completed" else None,
        status=status,  # type: ignore[arg-type]
        rating=rating,
        need=need,
        confidential=bool(n.confidential) if confidential is None and n else bool(confidential),
    )
    g.data = g.data.with_engagement(engagement)
    g._add_engagement_stats(
        candidate, municipality, engagement.status, rating, engagement.confidential
    )
    if refresh_proximity and not engagement.confidential:
        g.refresh_proximity()
    return engagement
