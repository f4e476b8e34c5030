"""The day as it really runs (``solvers.routes``), each piece against a plain enumeration.

``day_fits`` (can a day with these stops in this order and these online calls run?) is checked
against every interleaving of the calls between the day's blocks, each timed as early as it can
be; ``day_tours`` against every permutation of the stops; ``leg_departures`` and ``free_start``
on hand-made days.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.routes import Candidate, day_fits, day_tours, free_start, leg_departures

PLACES = ("base", "a", "b", "c")


def test_free_start_earliest_and_latest_around_a_call():
    assert free_start(480, 720, 120, [(630, 690)]) == 480
    assert free_start(480, 720, 120, [(630, 690)], latest=True) == 510
    assert free_start(480, 720, 160, [(630, 690)]) is None
    assert free_start(600, 600, 0, []) == 600


def test_leave_early_call_from_the_town_then_visit():
    """The issue's smallest case: 120 min each way, call 10:30–11:30, visit 12:00–13:00."""
    minutes = {("base", "far"): 120, ("far", "base"): 120}

    def t(a: str, b: str) -> int:
        return 0 if a == b else minutes[a, b]

    deps = leg_departures("base", [(720, 780, "far")], [(630, 690)], t, 480, 1080)
    assert deps == (510, 780)          # leave 08:30 (latest clear of the call), home at 13:00
    assert day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 60)], t, 480, 1080)
    # the glued model's answer ("no room beside call") is wrong: only a call that leaves no
    # two-hour stretch before noon makes the day impossible
    assert not day_fits("base", [Candidate("far", 60, 720, 720)], [(570, 570, 60)], t, 480,
                        1080)


def test_a_call_inside_every_possible_drive_blocks_the_leg():
    def t(a: str, b: str) -> int:
        return 0 if a == b else 60

    # stops end 10:00 and start 11:00: the 60-minute drive must fill the gap exactly
    assert leg_departures("base", [(540, 600, "a"), (660, 720, "b")], [], t, 480, 1080) == (
        480, 600, 720)
    assert leg_departures("base", [(540, 600, "a"), (660, 720, "b")], [(620, 640)], t, 480,
                          1080) is None


@st.composite
def days(draw: Any) -> dict[str, Any]:
    minutes = {(a, b): draw(st.integers(5, 120)) for a in PLACES for b in PLACES if a != b}
    work_start = draw(st.sampled_from([480, 510]))
    work_end = work_start + draw(st.sampled_from([360, 480, 600]))
    stops = []
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.integers(480, 900))
        stops.append(Candidate(draw(st.sampled_from(PLACES[1:])),
                               draw(st.sampled_from([30, 60, 90])), lo,
                               lo + draw(st.sampled_from([0, 30, 120, 300]))))
    calls = []
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.integers(480, 960))
        calls.append((lo, lo + draw(st.sampled_from([0, 30, 90, 240])),
                      draw(st.sampled_from([30, 60]))))
    return {"minutes": minutes, "ws": work_start, "we": work_end, "stops": stops,
            "calls": calls}


def plain_day_fits(day: dict[str, Any]) -> bool:
    """Every order of the calls, merged every way into drive, stop, drive, …, drive home (or
    alone on a day without stops), each block as early as its predecessors allow."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    stops, calls, ws, we = day["stops"], day["calls"], day["ws"], day["we"]
    skeleton: list[tuple[str, Any]] = []
    if stops:
        path = ["base", *(s.location for s in stops), "base"]
        for i in range(len(stops) + 1):
            skeleton.append(("drive", t(path[i], path[i + 1])))
            if i < len(stops):
                skeleton.append(("stop", stops[i]))

    def merges(a: list, b: list) -> Any:
        if not a or not b:
            yield a + b
            return
        for rest in merges(a[1:], b):
            yield [a[0], *rest]
        for rest in merges(a, b[1:]):
            yield [b[0], *rest]

    for perm in itertools.permutations([("call", c) for c in calls]):
        for seq in merges(skeleton, list(perm)):
            clock, ok = ws, True
            for kind, x in seq:
                if kind == "drive":
                    clock += x
                else:
                    lo, hi, dur = (x.lo, x.hi, x.duration) if kind == "stop" else x
                    start = max(clock, lo)
                    if start > hi:
                        ok = False
                        break
                    clock = start + dur
                if clock > we:
                    ok = False
                    break
            if ok:
                return True
    return False


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(days())
def test_day_fits_agrees_with_every_interleaving(day):
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    assert day_fits("base", day["stops"], day["calls"], t, day["ws"], day["we"]) == \
        plain_day_fits(day)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(days(), st.sampled_from([None, 2]), st.sampled_from([None, 150, 300]))
def test_day_tours_are_exactly_the_drivable_orders(day, max_stops, max_drive):
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    cands = day["stops"]
    found = day_tours("base", cands, t, day["ws"], day["we"], max_stops=max_stops,
                      max_drive=max_drive, lower=None)
    assert found is not None
    want = {}
    for k in range(1, len(cands) + 1):
        if max_stops is not None and k > max_stops:
            continue
        for order in itertools.permutations(range(len(cands)), k):
            path = ["base", *(cands[i].location for i in order), "base"]
            drive = sum(t(a, b) for a, b in itertools.pairwise(path))
            if max_drive is not None and drive > max_drive:
                continue
            if plain_day_fits({**day, "stops": [cands[i] for i in order], "calls": []}):
                want[order] = drive
    assert {tour.order: tour.drive for tour in found} == want
    for tour in found:
        # each stop's earliest start in the order, and the latest that lets the rest fit
        for pos, i in enumerate(tour.order):
            assert cands[i].lo <= tour.starts[pos] <= tour.latest[pos] <= cands[i].hi
