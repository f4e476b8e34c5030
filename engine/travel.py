"""Driving minutes between locations: the request's matrix where given, else an estimate.

The estimate, for two different locations ``a`` and ``b`` with coordinates::

    minutes = round(OVERHEAD + great_circle_km(a, b) × CIRCUITY / SPEED_KMH × 60) + ferry

``CIRCUITY`` (road km per straight-line km) and ``SPEED_KMH`` are calibrated against typical
car times between Ehime's town halls (``engine/data/travel_times.csv``: 松山市 to 宇和島市,
愛南町 and 四国中央市, 今治市 to 上島町); ``OVERHEAD`` covers getting to the car and parking.
``ferry`` is added when exactly one end is an island location (上島町 on 弓削島): the
土生→立石 car ferry crossing (~5 min), the wait for a sailing (up to ~20 min at ~3 an hour)
and boarding, ``FERRY_MINUTES`` by default or the location's own ``ferry_minutes``.
``tests/test_travel.py`` checks every reference pair lies within 15 minutes of its range.

Examples
--------
>>> from engine.model import Location
>>> a = Location("382019", "松山市", 33.83917, 132.76556)
>>> b = Location("382035", "宇和島市", 33.22333, 132.56056)
>>> estimate_minutes(a, b)
88
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from engine.errors import InputError, Problem
from engine.model import Location, PlanRequest

__all__ = [
    "CIRCUITY",
    "FERRY_MINUTES",
    "OVERHEAD",
    "SPEED_KMH",
    "TravelTimes",
    "estimate_minutes",
    "great_circle_km",
]

EARTH_RADIUS_KM = 6371.0088
#: Road kilometres per straight-line kilometre in Ehime (mountains, coastlines).
CIRCUITY = 1.32
#: Mean door-to-door driving speed, km/h (expressway for long legs, town roads for short).
SPEED_KMH = 72.0
#: Minutes to reach the car and park at the other end.
OVERHEAD = 10
#: Ferry crossing, expected wait and boarding for an island location, minutes.
FERRY_MINUTES = 40


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def estimate_minutes(a: Location, b: Location, *, speed_kmh: float = SPEED_KMH,
                     circuity: float = CIRCUITY) -> int:
    """Estimated driving minutes from ``a`` to ``b`` (both need coordinates); 0 to itself."""
    if a.id == b.id:
        return 0
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        raise ValueError(f"no coordinates to estimate travel from {a.id!r} to {b.id!r}")
    km = great_circle_km(a.lat, a.lon, b.lat, b.lon)
    minutes = OVERHEAD + km * circuity / speed_kmh * 60.0
    if a.island != b.island:
        island = a if a.island else b
        minutes += island.ferry_minutes if island.ferry_minutes is not None else FERRY_MINUTES
    return int(round(minutes))


class TravelTimes:
    """All driving minutes a problem needs: given ones first, the estimate for the rest.

    ``minutes(a, b)`` is asymmetric where the matrix is; ``source(a, b)`` says ``'given'`` or
    ``'estimate'`` so that an answer can say where a number came from.
    """

    def __init__(self, problem: PlanRequest, *, speed_factor: float = 1.0):
        self._problem = problem
        self._given = problem.travel
        self._locs = problem.location_by_id
        self._speed_factor = speed_factor
        self._cache: dict[tuple[str, str], int] = {}
        self._sp: dict[tuple[str, str], int] | None = None

    def minutes(self, a: str, b: str) -> int:
        if a == b:
            return 0
        key = (a, b)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        given = self._given.get(a, {}).get(b)
        if given is not None:
            value = given
        else:
            value = estimate_minutes(self._locs[a], self._locs[b],
                                     speed_kmh=SPEED_KMH * self._speed_factor)
        self._cache[key] = value
        return value

    def shortest(self, a: str, b: str) -> int:
        """Shortest driving minutes from ``a`` to ``b`` through any chain of the places a plan
        can visit (the experts' bases and the requests' locations): equals ``minutes`` where
        the times obey the triangle inequality, and is a lower bound on every tour's way from
        ``a`` to ``b`` always.
        """
        if a == b:
            return 0
        if self._sp is None:
            self._sp = self._all_shortest()
        hit = self._sp.get((a, b))
        return self.minutes(a, b) if hit is None else hit

    def _all_shortest(self) -> dict[tuple[str, str], int]:
        ids = sorted({e.base for e in self._problem.experts}
                     | {q.location for q in self._problem.requests})
        n = len(ids)
        dist = np.array([[self.minutes(x, y) for y in ids] for x in ids], dtype=np.int64)
        for k in range(n):           # Floyd–Warshall, one row-and-column sweep per place
            np.minimum(dist, dist[:, k, None] + dist[None, k, :], out=dist)
        return {(x, y): int(dist[i, j]) for i, x in enumerate(ids) for j, y in enumerate(ids)}

    def source(self, a: str, b: str) -> str:
        return "given" if a == b or b in self._given.get(a, {}) else "estimate"

    def check(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Raise ``InputError`` for pairs with neither a given time nor coordinates."""
        problems = []
        for a, b in pairs:
            if a == b or b in self._given.get(a, {}):
                continue
            for ident in (a, b):
                loc = self._locs[ident]
                if loc.lat is None or loc.lon is None:
                    idx = next(i for i, x in enumerate(self._locs) if x == ident)
                    problems.append(Problem(
                        f"locations[{idx}].lat",
                        f"needed: no travel.minutes from {a!r} to {b!r} and no coordinates for "
                        f"{ident!r} to estimate it",
                        f"{a!r} から {b!r} への移動時間がなく、{ident!r} の座標もないため推定できません"))
                    break
        if problems:
            uniq = list({p.path + p.message: p for p in problems}.values())
            raise InputError(uniq)
