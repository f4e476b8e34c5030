"""Network matching: graph, recommendations, global assignment, peer networks, feedback.

Typical use::

    from engine.matching import load_demo
    from solvers.matching import build_graph, recommend, assign, suggest_peers

    g = build_graph(load_demo())
    recommend(g, "N001", k=10, as_municipality="380008")
    result = assign(g, floor=True, small_weight=0.2)
    suggest_peers(g, "上島町")
"""

from engine.matching.model import MatchData
from solvers.matching.assign import AssignmentResult, assign, networkx_optimum, pair_values
from solvers.matching.feedback import record_outcome
from solvers.matching.graph import GraphParams, MatchGraph, build_graph, personalised_pagerank
from solvers.matching.peers import communities, suggest_peers
from solvers.matching.score import (
    COMPONENTS,
    FILTERS,
    Weights,
    eligibility,
    recommend,
    score_need,
    score_table,
)

__all__ = [
    "COMPONENTS",
    "FILTERS",
    "AssignmentResult",
    "GraphParams",
    "MatchData",
    "MatchGraph",
    "Weights",
    "assign",
    "build_graph",
    "communities",
    "eligibility",
    "networkx_optimum",
    "pair_values",
    "personalised_pagerank",
    "record_outcome",
    "recommend",
    "score_need",
    "score_table",
    "suggest_peers",
]
