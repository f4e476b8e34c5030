"""Municipality similarity from public information only.

``similarity = 0.40 × shared topics (Jaccard) + 0.20 × same population band
+ 0.15 × same region + 0.25 × closeness`` where closeness is ``max(0, 1 - car_min / 120)``.
A municipality's topics are those of its *non-confidential* needs and engagements, so a
confidential need can never make two municipalities look alike nor appear in a reason.

>>> population_band(7404)
'5k-20k'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from engine.matching.model import MatchData
from engine.travel import FERRY_MINUTES, car_minutes

__all__ = ["BANDS", "PeerWeights", "public_topics", "population_band", "similarity_matrix"]

#: Population bands (upper bounds exclusive) and their labels.
BANDS: tuple[tuple[int, str], ...] = (
    (5_000, "<5k"),
    (20_000, "5k-20k"),
    (50_000, "20k-50k"),
    (200_000, "50k-200k"),
    (10**12, "200k+"),
)


def population_band(population: int) -> str:
    """Label of the population band: ``population_band(29630)`` → ``'20k-50k'``."""
    for upper, label in BANDS:
        if population < upper:
            return label
    return BANDS[-1][1]


@dataclass(frozen=True, slots=True)
class PeerWeights:
    """Weights of the similarity components (they sum to 1) and the closeness horizon."""

    topics: float = 0.40
    band: float = 0.20
    region: float = 0.15
    travel: float = 0.25
    travel_horizon_min: float = 120.0


def public_topics(data: MatchData) -> dict[str, set[str]]:
    """Topics of each municipality from its non-confidential needs and engagements."""
    out: dict[str, set[str]] = {m.code: set() for m in data.municipalities}
    for n in data.needs:
        if not n.confidential:
            out[n.municipality].update(n.topics)
    for e in data.engagements:
        if not e.confidential:
            out[e.municipality].update(e.topics)
    return out


def similarity_matrix(
    data: MatchData, weights: PeerWeights = PeerWeights()
) -> dict[str, npt.NDArray[np.float64]]:
    """All pairwise components, each an ``n × n`` array in ``data.municipalities`` order:
    ``topics`` (Jaccard), ``band``, ``region`` (0/1), ``travel_min``, ``closeness`` and
    ``similarity`` (diagonal set to 0)."""
    munis = data.municipalities
    n = len(munis)
    topics = public_topics(data)
    vocab = {t: i for i, t in enumerate(sorted({t for s in topics.values() for t in s}))}
    rows, cols = [], []
    for i, m in enumerate(munis):
        for t in topics[m.code]:
            rows.append(i)
            cols.append(vocab[t])
    b = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, max(1, len(vocab))))
    inter = np.asarray((b @ b.T).todense(), dtype=np.float64)
    size = np.asarray(b.sum(axis=1)).ravel()
    union = size[:, None] + size[None, :] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    bands = np.array([population_band(m.population) for m in munis])
    regions = np.array([m.region for m in munis])
    same_band = (bands[:, None] == bands[None, :]).astype(np.float64)
    same_region = ((regions[:, None] == regions[None, :]) & (regions[:, None] != "")).astype(
        np.float64
    )
    lat = np.array([m.lat for m in munis])
    lon = np.array([m.lon for m in munis])
    island = np.array([m.island for m in munis])
    ferry = FERRY_MINUTES * (island[:, None] != island[None, :])
    minutes = np.asarray(car_minutes(lat[:, None], lon[:, None], lat[None, :], lon[None, :],
                                     ferry))
    np.fill_diagonal(minutes, 0.0)
    closeness = np.clip(1.0 - minutes / weights.travel_horizon_min, 0.0, 1.0)
    sim = (
        weights.topics * jac
        + weights.band * same_band
        + weights.region * same_region
        + weights.travel * closeness
    )
    np.fill_diagonal(sim, 0.0)
    return {
        "topics": jac,
        "band": same_band,
        "region": same_region,
        "travel_min": minutes,
        "closeness": closeness,
        "similarity": sim,
    }
