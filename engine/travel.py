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

It is the one travel model of the project: the planner rounds it to whole minutes per pair of
locations (``estimate_minutes``, ``estimate_matrix``), the matcher scores distances with it
unrounded over arrays of coordinates (``car_minutes``, ``minutes_from_km``).

Examples
--------
>>> from engine.model import Location
>>> a = Location("382019", "松山市", 33.83917, 132.76556)
>>> b = Location("382035", "宇和島市", 33.22333, 132.56056)
>>> estimate_minutes(a, b)
88
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from engine.errors import InputError, Problem
from engine.model import Location, PlanRequest

__all__ = [
    "CIRCUITY",
    "FERRY_MINUTES",
    "MinutesMatrix",
    "OVERHEAD",
    "SPEED_KMH",
    "TravelTimes",
    "car_minutes",
    "estimate_matrix",
    "estimate_minutes",
    "great_circle_km",
    "great_circle_km_radians",
    "minutes_from_km",
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


#: Degrees or radians: a float, or an array of them (numpy broadcasting).
Coordinates = float | np.ndarray


def great_circle_km_radians(phi1: Coordinates, lam1: Coordinates, cos_phi1: Coordinates,
                            phi2: Coordinates, lam2: Coordinates,
                            cos_phi2: Coordinates) -> Any:
    """Haversine distance in kilometres between points given in radians (latitude ``phi``,
    longitude ``lam``) with the cosines of their latitudes, broadcasting like numpy: for
    callers that reuse the radians of many points."""
    h = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos_phi2 * np.sin((lam2 - lam1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def great_circle_km(lat1: Coordinates, lon1: Coordinates, lat2: Coordinates,
                    lon2: Coordinates) -> Any:
    """Haversine distance in kilometres between points given in degrees (broadcasts like
    numpy: floats give a float, arrays an array).

    >>> round(float(great_circle_km(33.839, 132.766, 34.066, 132.998)), 1)  # 松山市-今治市
    33.1
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    return great_circle_km_radians(p1, np.radians(lon1), np.cos(p1),
                                   p2, np.radians(lon2), np.cos(p2))


def minutes_from_km(km: Coordinates, ferry: Coordinates = 0.0, *, speed_kmh: float = SPEED_KMH,
                    circuity: float = CIRCUITY) -> Any:
    """The estimate, unrounded, for a straight-line distance of ``km`` kilometres:
    ``OVERHEAD + km × circuity / speed_kmh × 60 + ferry`` minutes (broadcasts like numpy)."""
    return OVERHEAD + km * circuity / speed_kmh * 60.0 + ferry


def car_minutes(lat1: Coordinates, lon1: Coordinates, lat2: Coordinates, lon2: Coordinates,
                ferry: Coordinates = 0.0, *, speed_kmh: float = SPEED_KMH,
                circuity: float = CIRCUITY) -> Any:
    """The estimate, unrounded, between points given in degrees, plus ``ferry`` minutes
    (``FERRY_MINUTES`` where exactly one end is an island); broadcasts like numpy.

    >>> round(float(car_minutes(33.839, 132.766, 34.066, 132.998)))   # 松山市-今治市
    46
    """
    return minutes_from_km(great_circle_km(lat1, lon1, lat2, lon2), ferry,
                           speed_kmh=speed_kmh, circuity=circuity)


def estimate_minutes(a: Location, b: Location, *, speed_kmh: float = SPEED_KMH,
                     circuity: float = CIRCUITY) -> int:
    """Estimated driving minutes from ``a`` to ``b`` (both need coordinates); 0 to itself."""
    if a.id == b.id:
        return 0
    return int(estimate_matrix([a], [b], speed_kmh=speed_kmh, circuity=circuity)[0, 0])


class MinutesMatrix(Mapping[str, Mapping[str, int]]):
    """Given driving minutes held as one array over ``ids`` (a negative entry: not given).

    What a request's ``travel.minutes`` is for a large instance: a 1,741 × 1,741 matrix read
    from a CSV or Parquet file holds 3 million pairs, too many for dictionaries. It reads as the
    same mapping (``matrix[a][b]``, ``matrix.get(a, {}).get(b)``), and ``TravelTimes`` reads its
    array directly.

    Examples
    --------
    >>> m = MinutesMatrix(["a", "b"], np.array([[0, 30], [-1, 0]]))
    >>> m["a"]["b"], m.get("b", {}).get("a")
    (30, None)
    """

    def __init__(self, ids: Sequence[str], minutes: np.ndarray):
        self.ids: tuple[str, ...] = tuple(ids)
        self.index: dict[str, int] = {x: i for i, x in enumerate(self.ids)}
        arr = np.asarray(minutes, dtype=np.int32)
        if arr.shape != (len(self.ids), len(self.ids)):
            raise InputError(Problem(
                "travel.minutes", f"a matrix over {len(self.ids)} ids needs that many rows and "
                f"columns, got {arr.shape}",
                f"{len(self.ids)} 地点の行列には行と列が {len(self.ids)} ずつ必要です（{arr.shape}）"))
        self.array = arr
        self._rows = np.flatnonzero((arr >= 0).any(axis=1))

    def pair(self, a: str, b: str) -> int | None:
        i, j = self.index.get(a), self.index.get(b)
        if i is None or j is None:
            return None
        v = int(self.array[i, j])
        return v if v >= 0 else None

    def __getitem__(self, a: str) -> Mapping[str, int]:
        i = self.index[a]
        row = self.array[i]
        if not (row >= 0).any():
            raise KeyError(a)
        return _Row(self, i)

    def __iter__(self) -> Iterator[str]:
        return (self.ids[i] for i in self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def count(self) -> int:
        """How many pairs are given."""
        return int((self.array >= 0).sum())

    def restrict(self, ids: Iterable[str]) -> MinutesMatrix:
        """The given minutes among ``ids`` only (ids the matrix does not know are left out)."""
        keep = [x for x in dict.fromkeys(ids) if x in self.index]
        idx = np.array([self.index[x] for x in keep], dtype=np.intp)
        return MinutesMatrix(keep, self.array[np.ix_(idx, idx)])

    def __reduce__(self) -> tuple[object, ...]:
        return (MinutesMatrix, (self.ids, self.array))


class _Row(Mapping[str, int]):
    """One row of a ``MinutesMatrix``: the given minutes from one place."""

    def __init__(self, matrix: MinutesMatrix, i: int):
        self._m, self._i = matrix, i

    def __getitem__(self, b: str) -> int:
        j = self._m.index[b]
        v = int(self._m.array[self._i, j])
        if v < 0:
            raise KeyError(b)
        return v

    def __iter__(self) -> Iterator[str]:
        return (self._m.ids[j] for j in np.flatnonzero(self._m.array[self._i] >= 0))

    def __len__(self) -> int:
        return int((self._m.array[self._i] >= 0).sum())


def estimate_matrix(sources: Sequence[Location], targets: Sequence[Location], *,
                    speed_kmh: float = SPEED_KMH, circuity: float = CIRCUITY) -> np.ndarray:
    """``estimate_minutes`` for every pair at once (rows ``sources``, columns ``targets``),
    as an int64 array; 0 where the ids agree. Every location needs coordinates."""
    def coords(locs: Sequence[Location]) -> tuple[np.ndarray, np.ndarray]:
        lat = np.array([np.nan if x.lat is None else x.lat for x in locs], dtype=float)
        lon = np.array([np.nan if x.lon is None else x.lon for x in locs], dtype=float)
        if np.isnan(lat).any():
            bad = next(x for x, v in zip(locs, lat, strict=True) if np.isnan(v))
            raise InputError(Problem(
                "locations", f"no coordinates to estimate travel for {bad.id!r}",
                f"{bad.id!r} の座標がないため移動時間を推定できません"))
        return np.radians(lat), np.radians(lon)

    la, lo = coords(sources)
    lb, lob = coords(targets)
    km = great_circle_km_radians(la[:, None], lo[:, None], np.cos(la)[:, None],
                                 lb[None, :], lob[None, :], np.cos(lb)[None, :])
    isl_a = np.array([x.island for x in sources])
    isl_b = np.array([x.island for x in targets])
    fer_a = np.array([FERRY_MINUTES if x.ferry_minutes is None else x.ferry_minutes
                      for x in sources], dtype=float)
    fer_b = np.array([FERRY_MINUTES if x.ferry_minutes is None else x.ferry_minutes
                      for x in targets], dtype=float)
    cross = isl_a[:, None] != isl_b[None, :]
    ferry = np.where(isl_a[:, None], fer_a[:, None], fer_b[None, :])
    minutes = minutes_from_km(km, np.where(cross, ferry, 0.0), speed_kmh=speed_kmh,
                              circuity=circuity)
    out = np.rint(minutes).astype(np.int64)
    same = np.array([x.id for x in sources])[:, None] == np.array([x.id for x in targets])[None, :]
    out[same] = 0
    return out


class TravelTimes:
    """All driving minutes a problem needs: given ones first, the estimate for the rest.

    ``minutes(a, b)`` is asymmetric where the matrix is; ``source(a, b)`` says ``'given'`` or
    ``'estimate'`` so that an answer can say where a number came from. Legs longer than a day
    are allowed: they just fit no working day. ``matrix(ids)`` gives many pairs at once (an
    array), ``shortest`` a lower bound on any tour's way between two places.
    """

    def __init__(self, problem: PlanRequest, *, speed_factor: float = 1.0):
        self._problem = problem
        self._given = problem.travel
        self._dense = problem.travel if isinstance(problem.travel, MinutesMatrix) else None
        self._locs = problem.location_by_id
        self._speed_factor = speed_factor
        self._cache: dict[tuple[str, str], int] = {}
        self._places: tuple[str, ...] | None = None
        self._graph: object | None = None
        self._from: dict[str, np.ndarray] = {}
        self._to: dict[str, np.ndarray] = {}
        self._is_metric: bool | None = None
        self._searched = False
        self._bases: set[str] = set()
        self._place_index: dict[str, int] = {}

    @property
    def speed_factor(self) -> float:
        """The estimated driving speed's factor (1: as estimated; given minutes keep theirs)."""
        return self._speed_factor

    def given(self, a: str, b: str) -> int | None:
        """The minutes the request gives for ``a`` → ``b`` (None where it gives none)."""
        if self._dense is not None:
            return self._dense.pair(a, b)
        return self._given.get(a, {}).get(b)

    def minutes(self, a: str, b: str) -> int:
        if a == b:
            return 0
        key = (a, b)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        value = self.given(a, b)
        if value is None:
            value = estimate_minutes(self._locs[a], self._locs[b],
                                     speed_kmh=SPEED_KMH * self._speed_factor)
        self._cache[key] = value
        return value

    def prefetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Estimate at once, in one vectorised pass, every pair of ``pairs`` that the request
        gives no minutes for (both ends with coordinates), so that ``minutes`` answers them from
        its cache: a planner asks for a hundred or more such legs one by one while building a
        week, each a separate estimate. The values are ``minutes``'s own."""
        todo = [(a, b) for a, b in dict.fromkeys(pairs)
                if a != b and (a, b) not in self._cache and self.given(a, b) is None
                and self._locs[a].lat is not None and self._locs[b].lat is not None]
        if not todo:
            return
        src, dst = sorted({a for a, _ in todo}), sorted({b for _, b in todo})
        out = estimate_matrix([self._locs[x] for x in src], [self._locs[x] for x in dst],
                              speed_kmh=SPEED_KMH * self._speed_factor)
        row, col = {x: i for i, x in enumerate(src)}, {x: j for j, x in enumerate(dst)}
        for a, b in todo:
            self._cache[a, b] = int(out[row[a], col[b]])

    def matrix(self, sources: Sequence[str], targets: Sequence[str] | None = None) -> np.ndarray:
        """``minutes`` for every pair (rows ``sources``, columns ``targets``, default the same
        ids) as an int64 array, in one vectorised pass: the estimate where the request gives
        nothing, the given minutes over it. Every id needs coordinates or given minutes for
        all its pairs."""
        targets = sources if targets is None else targets
        src = [self._locs[x] for x in sources]
        dst = [self._locs[x] for x in targets]
        have = all(x.lat is not None for x in src) and all(x.lat is not None for x in dst)
        if have:
            out = estimate_matrix(src, dst, speed_kmh=SPEED_KMH * self._speed_factor)
        else:
            out = np.array([[self.minutes(a, b) for b in targets] for a in sources],
                           dtype=np.int64).reshape(len(sources), len(targets))
            return out
        if self._dense is not None:
            m = self._dense
            si = np.array([m.index.get(x, -1) for x in sources], dtype=np.intp)
            ti = np.array([m.index.get(x, -1) for x in targets], dtype=np.intp)
            rows, cols = np.flatnonzero(si >= 0), np.flatnonzero(ti >= 0)
            if len(rows) and len(cols):
                block = m.array[np.ix_(si[rows], ti[cols])]
                sub = out[np.ix_(rows, cols)]
                out[np.ix_(rows, cols)] = np.where(block >= 0, block, sub)
        elif self._given:
            pos_s = {x: i for i, x in enumerate(sources)}
            pos_t = {x: j for j, x in enumerate(targets)}
            for a, row in self._given.items():
                i = pos_s.get(a)
                if i is None:
                    continue
                for b, v in row.items():
                    j = pos_t.get(b)
                    if j is not None and a != b:
                        out[i, j] = v
        return out

    def shortest(self, a: str, b: str) -> int:
        """Shortest driving minutes from ``a`` to ``b`` through any chain of the places a plan
        can visit (the experts' bases and the requests' locations): equals ``minutes`` where
        the times obey the triangle inequality, and is a lower bound on every tour's way from
        ``a`` to ``b`` always.

        Searched from every base at once (forward, and backward into every base) the first
        time it is asked, which covers every question the planner asks (a base at one end);
        other pairs get a search of their own. A way longer than the longest working day
        (``horizon``) is reported as that many minutes plus one: still a lower bound, and no
        tour can drive it. Where the request gives no minutes and every ferry leg is the same,
        the estimate obeys the triangle inequality (its 10-minute overhead covers rounding) and
        ``minutes`` is the answer at once.
        """
        if a == b:
            return 0
        if self._metric():
            return self.minutes(a, b)
        self._place_ids()
        index = self._place_index
        if a not in index or b not in index:
            return self.minutes(a, b)
        self._search_bases()
        row = self._from.get(a)
        if row is not None:
            return min(int(row[index[b]]), self.minutes(a, b))
        col = self._to.get(b)
        if col is not None:
            return min(int(col[index[a]]), self.minutes(a, b))
        row = self._from[a] = self._search([index[a]], reverse=False)[0]
        return min(int(row[index[b]]), self.minutes(a, b))

    def shortest_matrix(self, sources: Sequence[str], targets: Sequence[str]) -> np.ndarray:
        """``shortest`` for every pair (rows ``sources``, columns ``targets``) as an int64
        array, read from the searches of ``shortest`` when one side is all experts' bases."""
        out = self.matrix(sources, targets)
        if self._metric() or not len(sources) or not len(targets):
            return out
        self._place_ids()
        self._search_bases()
        index = self._place_index
        if set(sources) <= self._bases:
            cols = np.array([index.get(x, -1) for x in targets])
            known = cols >= 0
            for i, a in enumerate(sources):
                row = self._from[a][np.maximum(cols, 0)]
                out[i] = np.where(known, np.minimum(row, out[i]), out[i])
        elif set(targets) <= self._bases:
            rows = np.array([index.get(x, -1) for x in sources])
            known = rows >= 0
            for j, b in enumerate(targets):
                col = self._to[b][np.maximum(rows, 0)]
                out[:, j] = np.where(known, np.minimum(col, out[:, j]), out[:, j])
        else:
            out = np.array([[self.shortest(a, b) for b in targets] for a in sources],
                           dtype=np.int64)
        return out

    def _search_bases(self) -> None:
        """The searches from and into every base, once."""
        if self._searched:
            return
        self._searched = True
        bases = sorted(self._bases)
        index = self._place_index
        rows = self._search([index[x] for x in bases], reverse=False)
        cols = self._search([index[x] for x in bases], reverse=True)
        self._from.update(zip(bases, rows, strict=True))
        self._to.update(zip(bases, cols, strict=True))

    def _metric(self) -> bool:
        if self._is_metric is None:
            ferries = {(loc.ferry_minutes if loc.ferry_minutes is not None else FERRY_MINUTES)
                       for loc in self._problem.locations if loc.island}
            self._is_metric = not self._given and len(ferries) <= 1
        return self._is_metric

    def _place_ids(self) -> tuple[str, ...]:
        if self._places is None:
            self._bases = {e.base for e in self._problem.experts}
            self._places = tuple(sorted(self._bases
                                        | {q.location for q in self._problem.requests}))
            self._place_index = {x: i for i, x in enumerate(self._places)}
        return self._places

    def _search(self, starts: list[int], *, reverse: bool) -> list[np.ndarray]:
        """Shortest minutes from each place of ``starts`` to every place (into it with
        ``reverse``), capped at the longest working day + 1 (see ``shortest``)."""
        if self._graph is None:
            self._graph = self.matrix(self._place_ids())
        assert isinstance(self._graph, np.ndarray)
        # Into a place: the same search on the reversed legs.
        w = self._graph.T if reverse else self._graph
        cap = max((e.day_end - e.work_start for e in self._problem.experts), default=1440) + 1
        if w.shape[0] <= 300:
            return [np.minimum(_dijkstra(w, i), cap) for i in starts]
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        # Only legs up to ``cap`` can be on a way shorter than ``cap``. A leg of 0 minutes
        # between two places is kept as a tiny weight (a sparse graph drops zeros).
        weights = np.where(w < cap, np.maximum(w, 1e-6), 0.0)
        np.fill_diagonal(weights, 0.0)
        dist = dijkstra(csr_matrix(weights), indices=starts, limit=cap)
        dist = np.where(np.isfinite(dist), np.floor(dist + 1e-3), cap)
        return [np.minimum(row.astype(np.int64), cap) for row in np.atleast_2d(dist)]


    def source(self, a: str, b: str) -> str:
        return "given" if a == b or self.given(a, b) is not None else "estimate"

    def check(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Raise ``InputError`` for pairs with neither a given time nor coordinates."""
        problems = []
        for a, b in pairs:
            if a == b or self.given(a, b) is not None:
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


def _dijkstra(w: np.ndarray, i: int) -> np.ndarray:
    """Shortest minutes from ``i`` over the dense leg matrix ``w``, exact integers: one
    vectorised relaxation per settled place."""
    n = w.shape[0]
    big = np.iinfo(np.int64).max // 4
    dist = np.full(n, big, dtype=np.int64)
    dist[i] = 0
    done = np.zeros(n, dtype=bool)
    for _ in range(n):
        k = int(np.argmin(np.where(done, 2 * big, dist)))
        if done[k] or dist[k] >= big:
            break
        done[k] = True
        np.minimum(dist, dist[k] + w[k], out=dist)
    return dist
