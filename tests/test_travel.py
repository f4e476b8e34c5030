import csv
from importlib import resources

import pytest

import engine.travel as travel_mod
from engine.ehime import ehime_locations
from engine.format import parse_plan_request
from engine.model import Location
from engine.travel import TravelTimes, estimate_minutes, great_circle_km


def _reference_rows():
    with resources.files("engine").joinpath("data/travel_times.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", _reference_rows(), ids=lambda r: f"{r['from']}-{r['to']}")
def test_estimate_within_15_minutes_of_reference_range(row):
    locs = {loc.id: loc for loc in ehime_locations()}
    est = estimate_minutes(locs[row["from_code"]], locs[row["to_code"]])
    lo, hi = int(row["car_minutes_low"]), int(row["car_minutes_high"])
    assert lo - 15 <= est <= hi + 15, (est, lo, hi)


def test_ferry_leg_added_only_when_one_end_is_an_island():
    a = Location("a", "A", 34.0, 133.0)
    b = Location("b", "B", 34.1, 133.1)
    island = Location("b", "B", 34.1, 133.1, island=True)
    assert estimate_minutes(a, island) == estimate_minutes(a, b) + 40
    own = Location("b", "B", 34.1, 133.1, island=True, ferry_minutes=15)
    assert estimate_minutes(a, own) == estimate_minutes(a, b) + 15
    assert estimate_minutes(island, island) == 0


def test_great_circle_known_distance():
    # Matsuyama city hall to Uwajima city hall: about 71 km in a straight line.
    assert great_circle_km(33.83917, 132.76556, 33.22333, 132.56056) == pytest.approx(71.1, abs=0.5)


def _doc(travel=None, with_coords=True):
    loc_b = {"id": "b", "name": "B"}
    if with_coords:
        loc_b.update({"lat": 33.9, "lon": 132.9})
    return {
        "format": "plan-request/1",
        "horizon": {"start": "2026-12-07", "end": "2026-12-11"},
        "locations": [{"id": "a", "name": "A", "lat": 33.8, "lon": 132.8}, loc_b],
        "experts": [{"id": "e", "fields": ["pr"], "base": "a"}],
        "requests": [],
        "travel": {"minutes": travel or {}},
    }


def test_given_minutes_win_over_estimate_and_may_be_asymmetric():
    tt = TravelTimes(parse_plan_request(_doc({"a": {"b": 50}})))
    assert tt.minutes("a", "b") == 50
    assert tt.source("a", "b") == "given"
    assert tt.source("b", "a") == "estimate"
    assert tt.minutes("b", "a") != 50
    assert tt.minutes("a", "a") == 0


def test_shortest_is_a_lower_bound_through_chains():
    doc = _doc({"a": {"b": 200}})
    doc["locations"].append({"id": "c", "name": "C", "lat": 33.85, "lon": 132.85})
    # b and c are places a plan can visit (requests are there), so a tour may pass through c
    doc["requests"] = [{"id": f"r{x}", "location": x, "fields": ["pr"], "mode": "onsite",
                        "duration_min": 30, "priority": 1} for x in "bc"]
    tt = TravelTimes(parse_plan_request(doc))
    assert tt.shortest("a", "b") <= tt.minutes("a", "c") + tt.minutes("c", "b")
    assert tt.shortest("a", "b") < 200


def test_prefetched_minutes_are_the_pairwise_ones_and_need_no_more_estimates(monkeypatch):
    doc = _doc({"a": {"b": 50}})
    doc["locations"] += [{"id": x, "name": x.upper(), "lat": 33.7 + i / 10, "lon": 132.6}
                         for i, x in enumerate("cdef")]
    problem = parse_plan_request(doc)
    ids = [loc.id for loc in problem.locations]
    pairs = [(a, b) for a in ids for b in ids]
    one_by_one = TravelTimes(problem, speed_factor=0.8)
    expected = {(a, b): one_by_one.minutes(a, b) for a, b in pairs}
    tt = TravelTimes(problem, speed_factor=0.8)
    tt.prefetch(pairs)

    def no_more(*_a, **_k):
        raise AssertionError("estimated again after prefetch")

    monkeypatch.setattr(travel_mod, "estimate_minutes", no_more)
    assert {(a, b): tt.minutes(a, b) for a, b in pairs} == expected
    assert tt.minutes("a", "b") == 50 and tt.source("a", "b") == "given"


def test_speed_factor_scales_estimates():
    p = parse_plan_request(_doc())
    slow = TravelTimes(p, speed_factor=0.5).minutes("a", "b")
    fast = TravelTimes(p).minutes("a", "b")
    assert slow > fast


def test_missing_time_without_coordinates_is_a_path_named_input_error():
    from engine.errors import InputError
    from solvers.planner import SolveOptions, solve

    doc = _doc(with_coords=False)
    doc["requests"] = [{"id": "r1", "location": "b", "fields": ["pr"], "mode": "onsite",
                        "duration_min": 60, "priority": 5}]
    with pytest.raises(InputError, match=r"locations\[1\]\.lat: needed: no travel.minutes"):
        solve(parse_plan_request(doc), SolveOptions(time_limit=5))
    doc["travel"] = {"minutes": {"a": {"b": 30}, "b": {"a": 30}}}
    plan = solve(parse_plan_request(doc), SolveOptions(time_limit=5))
    assert plan.status == "optimal" and plan.routes[0].drive_minutes == 60


def test_a_matrix_of_the_wrong_shape_is_an_input_error_naming_travel_minutes():
    import numpy as np

    from engine.errors import InputError
    from engine.travel import MinutesMatrix

    with pytest.raises(InputError) as err:
        MinutesMatrix(["a", "b"], np.zeros((2, 3), dtype=int))
    assert err.value.problems[0].path == "travel.minutes"
    assert MinutesMatrix(["a", "b"], np.zeros((2, 2), dtype=int)).count() == 4


def test_estimating_without_coordinates_is_an_input_error_naming_the_location():
    from engine.errors import InputError
    from engine.model import Location
    from engine.travel import estimate_matrix

    a = Location("a", "A", 33.8, 132.7)
    with pytest.raises(InputError, match="'b'") as err:
        estimate_matrix([a], [Location("b", "B")])
    assert err.value.problems[0].path == "locations"
    assert estimate_matrix([a], [Location("c", "C", 33.9, 132.8)]).shape == (1, 1)
