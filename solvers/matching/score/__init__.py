"""Scores of candidates for a need, with breakdown, explanation and hard filters.

``score = 100 × Σ wᵢ·cᵢ / Σ wᵢ`` over components ``cᵢ`` in 0..1 (default weights in
``Weights``):

- ``field``     1 if the candidate covers the need's field, else 0
- ``topic``     share of the need's topic tags the candidate offers (field fit if none)
- ``skill``     best skill level (1..5) among the need's topics and field, divided by 5
- ``distance``  1 for remote work by a remote-capable candidate, else ``1 - car_min / 240``
- ``capacity``  free share of the candidate's concurrent-engagement capacity
- ``outcome``   mean past rating, smoothed towards 3/5 by 2 pseudo-ratings, as ``(r-1)/4``
- ``proximity`` personalised PageRank of the candidate from the need's municipality (0..1)

The breakdown columns hold each component's *points* (``100 × wᵢ·cᵢ / Σ wᵢ``): they add up to
the score. Only candidates sharing the field or a topic with the need are considered.
Hard filters remove a candidate: a conflict of interest with the municipality, no capacity
left, an on-site need beyond the candidate's ``max_travel_min`` (a remote need counts as
on-site for a candidate who cannot work remotely), or fewer available days in the need's
time frame than its effort (capped at the frame's length). Ties are broken by candidate id.

Confidentiality: a viewer (``as_municipality``) only reaches needs it may see; past
outcomes of a municipality's confidential engagements count only when that municipality
(or the programme office, ``None``) is asking.

Modules: ``components`` (components, filters, weights and their shared expressions), ``need``
(one need scored), ``ranking`` (top candidates, explanations, filter counts), ``table`` (every
pair at once) and ``blocks`` (a block of needs as one array).
"""

from __future__ import annotations

from solvers.matching.score.components import COMPONENTS, FILTERS, NeedScores, Weights
from solvers.matching.score.need import score_need
from solvers.matching.score.ranking import eligibility, explain, recommend
from solvers.matching.score.table import score_table

__all__ = [
    "COMPONENTS",
    "FILTERS",
    "NeedScores",
    "Weights",
    "eligibility",
    "explain",
    "recommend",
    "score_need",
    "score_table",
]
