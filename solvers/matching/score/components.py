"""The parts of a score: the components and hard filters, their weights (``Weights``), one
need's scored candidates (``NeedScores``), and the elementwise expressions both scoring paths
share (travel minutes, the distance and outcome components, points), so that they agree to
the last bit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.errors import InputError, Problem
from engine.matching.model import Need
from engine.travel import (
    great_circle_km_radians,
    minutes_from_km,
)

__all__ = ["COMPONENTS", "FILTERS", "FILTER_LABELS", "NeedScores", "Weights", "distance_by_car", "distance_component", "outcome_component", "points", "travel_minutes"]


#: Score components, in breakdown order.
COMPONENTS: tuple[str, ...] = (
    "field",
    "topic",
    "skill",
    "distance",
    "capacity",
    "outcome",
    "proximity",
)


#: Hard filters, in the order they are reported.
FILTERS: tuple[str, ...] = ("conflict", "no_capacity", "out_of_reach", "unavailable")


FILTER_LABELS: dict[str, tuple[str, str]] = {
    "conflict": ("conflict of interest", "利益相反"),
    "no_capacity": ("no capacity left", "受託枠なし"),
    "out_of_reach": ("on-site need out of reach", "現地対応の移動範囲外"),
    "unavailable": ("not available in the time frame", "期間中に稼働不可"),
}


@dataclass(frozen=True, slots=True)
class Weights:
    """Component weights (any non-negative numbers, not all zero) and scoring constants.

    ``distance_horizon_min``: car minutes at which the distance component reaches 0;
    ``outcome_prior``/``outcome_prior_weight``: the rating a newcomer is assumed to have and
    how many pseudo-ratings it counts for.
    """

    field: float = 0.25
    topic: float = 0.25
    skill: float = 0.15
    distance: float = 0.10
    capacity: float = 0.05
    outcome: float = 0.10
    proximity: float = 0.10
    distance_horizon_min: float = 240.0
    outcome_prior: float = 3.0
    outcome_prior_weight: float = 2.0

    def __post_init__(self) -> None:
        ws = [getattr(self, c) for c in COMPONENTS]
        problems = [
            Problem(f"weights.{c}", "must be >= 0", "0 以上が必要です")
            for c, w in zip(COMPONENTS, ws, strict=True)
            if not w >= 0
        ]
        if not problems and sum(ws) <= 0:
            problems.append(
                Problem("weights", "at least one weight must be > 0", "正の重みが必要です")
            )
        if self.distance_horizon_min <= 0:
            problems.append(
                Problem("weights.distance_horizon_min", "must be > 0", "0 より大きい値が必要です")
            )
        if problems:
            raise InputError(problems)

    def vector(self) -> npt.NDArray[np.float64]:
        """Weights in ``COMPONENTS`` order, scaled to sum to 1."""
        w = np.array([getattr(self, c) for c in COMPONENTS], dtype=np.float64)
        return w / w.sum()


@dataclass(frozen=True)
class NeedScores:
    """Every relevant candidate of one need: positions (id order), components, filters.

    ``weight`` is the score in integer hundredths of a point (``8123`` = 81.23); it is what
    ranking and the assignment use, so displayed ties are real ties.
    """

    need: Need
    positions: npt.NDArray[np.int64]
    components: dict[str, npt.NDArray[np.float64]]
    filters: dict[str, npt.NDArray[np.bool_]]
    minutes: npt.NDArray[np.float64]
    remote_ok: npt.NDArray[np.bool_]
    capacity_left: npt.NDArray[np.int64]
    rating_mean: npt.NDArray[np.float64]
    rating_count: npt.NDArray[np.float64]
    weight: npt.NDArray[np.int64]

    @property
    def eligible(self) -> npt.NDArray[np.bool_]:
        bad = np.zeros(len(self.positions), dtype=bool)
        for f in FILTERS:
            bad |= self.filters[f]
        return ~bad

    def order(self, mask: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.int64]:
        """Indices (into ``positions``) by score descending then candidate id."""
        sel = np.flatnonzero(self.eligible if mask is None else mask)
        return sel[np.lexsort((self.positions[sel], -self.weight[sel]))]


def travel_minutes(
    phi: Any, cos_phi: Any, lam: Any, ferry: Any, c_phi: Any, c_cos_phi: Any, c_lam: Any
) -> npt.NDArray[np.float64]:
    """Estimated car minutes (``engine.travel``'s model, unrounded) from points (radians,
    cosine of latitude, ferry minutes) to candidates (their precomputed radians),
    elementwise with numpy broadcasting.

    Both scoring paths go through this one expression so that they agree to the last bit.
    """
    km = great_circle_km_radians(phi, lam, cos_phi, c_phi, c_lam, c_cos_phi)
    return np.asarray(minutes_from_km(km, ferry), dtype=np.float64)


def distance_by_car(minutes: npt.NDArray[np.float64], w: Weights) -> npt.NDArray[np.float64]:
    return np.clip(1.0 - minutes / w.distance_horizon_min, 0.0, 1.0)


def distance_component(
    minutes: npt.NDArray[np.float64], remote_ok: npt.NDArray[np.bool_], w: Weights
) -> npt.NDArray[np.float64]:
    return np.where(remote_ok, 1.0, distance_by_car(minutes, w))


def outcome_component(
    rsum: npt.NDArray[np.float64], rcnt: npt.NDArray[np.float64], w: Weights
) -> npt.NDArray[np.float64]:
    pw = w.outcome_prior_weight
    mean = (rsum + w.outcome_prior * pw) / np.maximum(rcnt + pw, 1e-12)
    return np.clip((mean - 1.0) / 4.0, 0.0, 1.0)


def points(s: NeedScores, w: Weights, sel: npt.NDArray[np.int64]) -> dict[str, Any]:
    wv = w.vector()
    return {
        c: np.round(100.0 * wi * s.components[c][sel], 2)
        for wi, c in zip(wv, COMPONENTS, strict=True)
    }
