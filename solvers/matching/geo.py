"""Great-circle distance and a rough car-time estimate, vectorised over numpy arrays.

Road distance is taken as 1.3 × the great-circle distance, driven at 60 km/h; an island
municipality (no road link) adds a ferry allowance. This is a deliberately simple stand-in
that a shared travel-time model can later replace.

>>> round(float(great_circle_km(33.839, 132.766, 34.066, 132.998)), 1)  # Matsuyama-Imabari
33.1
>>> int(car_minutes(33.839, 132.766, 34.066, 132.998))
43
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_KM",
    "FERRY_MINUTES",
    "ROAD_FACTOR",
    "SPEED_KMH",
    "car_minutes",
    "great_circle_km",
]

EARTH_RADIUS_KM = 6371.0
ROAD_FACTOR = 1.3
SPEED_KMH = 60.0
FERRY_MINUTES = 30.0

ArrayLike = float | npt.NDArray[np.float64]


def great_circle_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> ArrayLike:
    """Haversine distance in km between points given in degrees (broadcasts like numpy)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def car_minutes(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike, island: bool = False
) -> ArrayLike:
    """Estimated car minutes: ``1.3 × great-circle km`` at 60 km/h, plus 30 min to an island."""
    minutes = great_circle_km(lat1, lon1, lat2, lon2) * ROAD_FACTOR / SPEED_KMH * 60.0
    return minutes + (FERRY_MINUTES if island else 0.0)
