"""``/v1/timeline``: each expert's day as drives, waits, on-site and online segments, timed by
the week's own travel model (the plan's legs give departures only), without a browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.format import parse_plan_request
from engine.travel import TravelTimes
from service.api.routes.timeline import day_segments
from service.app import create_app
from service.auth import create_key
from service.config import Settings

WEEK = "2026-12-07"


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _m(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str],
                                                                        dict[str, Any]]]:
    db = tmp_path_factory.mktemp("timeline") / "t.sqlite"
    app = create_app(Settings(db_path=str(db), executor="serial", demo_week=WEEK))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "muni": create_key(s, "municipality", municipality="382019")[0],
                    "expert": create_key(s, "expert", expert="pr-1")[0]}
        r = client.post("/v1/plan-jobs", json={"week": WEEK, "time_limit": 5},
                        headers=_h(keys["centre"]))
        assert r.status_code == 202, r.text
        url = r.json()["url"]
        deadline = time.monotonic() + 90
        while (job := client.get(url, headers=_h(keys["centre"])).json())["status"] in (
                "queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert job["status"] == "done", job
        yield client, keys, job


def test_drives_take_the_weeks_travel_minutes_and_sum_to_the_routes(planned: Any) -> None:
    client, keys, job = planned
    r = client.get(f"/v1/timeline?week={WEEK}&job={job['id']}", headers=_h(keys["centre"]))
    assert r.status_code == 200, r.text
    days = r.json()["days"]
    routes = {(x["expert"], x["date"]): x for x in job["plan"]["routes"]}
    assert routes and {(d["expert"], d["date"]) for d in days} >= set(routes)
    with client.app.state.sessions.begin() as s:  # type: ignore[attr-defined]
        from service.db import PlanJob
        doc = s.get(PlanJob, job["id"]).request_doc
    travel = TravelTimes(parse_plan_request(doc))
    for d in days:
        segs = d["segments"]
        for a, b in zip(segs, segs[1:], strict=False):
            assert _m(a["end"]) <= _m(b["start"]), (d["expert"], d["date"], a, b)
        drives = [x for x in segs if x["kind"] == "drive"]
        for x in drives:
            assert _m(x["end"]) - _m(x["start"]) == x["minutes"] == travel.minutes(x["from"], x["to"])
        rt = routes.get((d["expert"], d["date"]))
        if rt is None:
            assert not drives and d["leave"] is None
            continue
        assert d["drive_minutes"] == rt["drive_minutes"]
        assert (d["leave"], d["return"]) == (rt["leave"], rt["return"])
        base = next(e["base"] for e in doc["experts"] if e["id"] == d["expert"])
        path = [base, *rt["stops"], base]
        moving = [leg["depart"] for leg, a, b in zip(rt["legs"], path, path[1:], strict=False)
                  if travel.minutes(a, b)]   # two visits in one town: no drive between them
        assert [x["start"] for x in drives] == moving
        # away from the base every minute is driving, consulting or waiting
        away = [x for x in segs if _m(x["start"]) >= _m(rt["leave"]) and _m(x["end"]) <= _m(rt["return"])]
        assert sum(_m(x["end"]) - _m(x["start"]) for x in away) == _m(rt["return"]) - _m(rt["leave"])
    assert any(x["kind"] == "wait" for d in days for x in d["segments"])


def test_published_week_and_roles(planned: Any) -> None:
    client, keys, job = planned
    assert client.post(f"{job['url']}/publish", headers=_h(keys["centre"])).status_code == 200
    everyone = client.get(f"/v1/timeline?week={WEEK}", headers=_h(keys["centre"])).json()["days"]
    own = client.get(f"/v1/timeline?week={WEEK}", headers=_h(keys["expert"])).json()["days"]
    assert own and {d["expert"] for d in own} == {"pr-1"}
    assert own == [d for d in everyone if d["expert"] == "pr-1"]
    assert client.get(f"/v1/timeline?week={WEEK}&job={job['id']}",
                      headers=_h(keys["expert"])).status_code == 403
    assert client.get(f"/v1/timeline?week={WEEK}", headers=_h(keys["muni"])).status_code == 403
    assert client.get(f"/v1/timeline?week={WEEK}&job=nope",
                      headers=_h(keys["centre"])).status_code == 404


TINY = {"format": "plan-request/1", "horizon": {"start": "2027-01-11", "end": "2027-01-11"},
        "locations": [{"id": "base", "name": "拠点", "lat": 33.84, "lon": 132.77},
                      {"id": "a", "name": "A", "lat": 33.50, "lon": 132.55},
                      {"id": "isle", "name": "島", "lat": 34.25, "lon": 133.20, "island": True,
                       "ferry_minutes": 30}],
        "experts": [{"id": "x", "fields": ["data"], "base": "base"}], "requests": []}


def test_without_legs_the_day_is_driven_just_in_time_and_gaps_are_waits() -> None:
    problem = parse_plan_request(TINY)
    travel = TravelTimes(problem)
    to_a, a_isle = travel.minutes("base", "a"), travel.minutes("a", "isle")
    visits = [{"request": "r1", "mode": "onsite", "location": "a", "start": 600, "end": 660},
              {"request": "r2", "mode": "onsite", "location": "isle", "start": 1000, "end": 1060},
              {"request": "r3", "mode": "online", "location": "a", "start": 850, "end": 880}]
    day = day_segments(problem, travel, "x", visits, None)
    kinds = [(s["kind"], s["start"]) for s in day["segments"]]
    assert kinds[0] == ("drive", 600 - to_a)
    assert ("drive", 660) in kinds          # drives on as soon as the stop ends
    assert ("online", 850) in kinds
    waits = [s for s in day["segments"] if s["kind"] == "wait"]
    assert [(w["start"], w["end"]) for w in waits] == [(660 + a_isle, 850), (880, 1000)]
    assert day["wait_minutes"] == 850 - 660 - a_isle + 120
    crossing = [s for s in day["segments"] if s["kind"] == "drive" and s["to"] == "isle"]
    assert crossing[0]["ferry_minutes"] == 30
    home = [s for s in day["segments"] if s["kind"] == "drive" and s["to"] == "base"]
    assert home[0]["ferry_minutes"] == 30 and day["return"] == 1060 + travel.minutes("isle", "base")
    # the route's own departures win when they fit the stops
    later = day_segments(problem, travel, "x", visits, [500, 670, 1070])
    assert [s["start"] for s in later["segments"] if s["kind"] == "drive"] == [500, 670, 1070]
    assert later["leave"] == 500


def test_the_plans_lunch_is_a_segment_and_no_wait() -> None:
    problem = parse_plan_request(TINY)
    travel = TravelTimes(problem)
    to_a = travel.minutes("base", "a")
    visits = [{"request": "r1", "mode": "onsite", "location": "a", "start": 600, "end": 660},
              {"request": "r2", "mode": "onsite", "location": "a", "start": 840, "end": 900}]
    day = day_segments(problem, travel, "x", visits, None, [(720, 765)])
    lunch = [s for s in day["segments"] if s["kind"] == "lunch"]
    assert [(s["start"], s["end"], s["minutes"]) for s in lunch] == [(720, 765, 45)]
    waits = [(s["start"], s["end"]) for s in day["segments"] if s["kind"] == "wait"]
    assert waits == [(660, 720), (765, 840)]           # waiting around lunch, not through it
    assert day["wait_minutes"] == 60 + 75
    assert day["leave"] == 600 - to_a


def test_timeline_days_carry_the_plans_breaks() -> None:
    from service.api.routes.timeline import timeline

    problem = parse_plan_request(TINY)
    travel = TravelTimes(problem)
    visits = [{"request": "r1", "experts": ["x"], "mode": "online", "location": "a",
               "date": WEEK, "start": 600, "end": 660}]
    breaks = [{"expert": "x", "date": WEEK, "start": "12:00", "end": "12:45"},
              {"expert": "x", "date": "2026-12-08", "start": "12:00", "end": "12:45"}]
    days = timeline(problem, travel, visits, [], breaks)
    assert [(s["kind"], s["start"], s["end"]) for s in days[0]["segments"]] == [
        ("online", "10:00", "11:00"), ("lunch", "12:00", "12:45")]
    assert len(days) == 1           # a break on a day without visits opens no day


def test_a_standing_appointment_at_a_place_is_a_stop_of_the_timeline() -> None:
    """An appointment at A 13:00–14:00 on a day without visits: the day drives there and
    back around it, the appointment a segment of its own; with the route's departures the
    drives are the route's."""
    from service.api.routes.timeline import timeline

    doc = {**TINY, "horizon": {"start": WEEK, "end": WEEK},
           "experts": [{"id": "x", "fields": ["data"], "base": "base",
                        "busy": [{"date": WEEK, "start": "13:00", "end": "14:00", "at": "a"}]}]}
    problem = parse_plan_request(doc)
    travel = TravelTimes(problem)
    to_a = travel.minutes("base", "a")
    [day] = timeline(problem, travel, [], [])
    kinds = [(s["kind"], s["start"], s["end"]) for s in day["segments"]]
    assert ("appointment", "13:00", "14:00") in kinds
    drives = [s for s in day["segments"] if s["kind"] == "drive"]
    assert [(s["from"], s["to"]) for s in drives] == [("base", "a"), ("a", "base")]
    assert day["drive_minutes"] == to_a + travel.minutes("a", "base")
    route = {"expert": "x", "date": WEEK, "stops": ["a"],
             "legs": [{"depart": "11:00"}, {"depart": "14:30"}]}
    [day] = timeline(problem, travel, [], [route])
    assert [s["start"] for s in day["segments"] if s["kind"] == "drive"] == ["11:00", "14:30"]


NIGHTS = {**TINY, "horizon": {"start": "2027-01-11", "end": "2027-01-12"},
          "experts": [{"id": "x", "fields": ["data"], "base": "base", "work_end": "17:15",
                       "overnight": {"places": ["a"]},
                       "overtime": {"max_minutes": 60, "minute_cost": 1}}]}


def test_a_night_away_ends_one_day_there_and_starts_the_next() -> None:
    """Monday ends at A (its last stop: no drive home), Tuesday starts at A and drives home
    without a visit: both days are on the timeline with where they start and end, and the
    drives leave from and arrive at the night's place."""
    from service.api.routes.timeline import timeline

    problem = parse_plan_request(NIGHTS)
    travel = TravelTimes(problem)
    visits = [{"request": "r1", "experts": ["x"], "mode": "onsite", "location": "a",
               "date": "2027-01-11", "start": 900, "end": 1020}]
    routes = [{"expert": "x", "date": "2027-01-11", "stops": ["a"], "end_at": "a",
               "legs": [{"depart": "13:00"}, {"depart": "17:00"}]},
              {"expert": "x", "date": "2027-01-12", "stops": [], "start_at": "a",
               "legs": [{"depart": "08:30"}]}]
    mon, tue = timeline(problem, travel, visits, routes)
    assert (mon["start_at"], mon["end_at"], tue["start_at"], tue["end_at"]) == (None, "a", "a", None)
    assert [(s["from"], s["to"]) for s in mon["segments"] if s["kind"] == "drive"] == [("base", "a")]
    assert mon["return"] == "17:00"                  # the day ends where it stays
    [home] = [s for s in tue["segments"] if s["kind"] == "drive"]
    assert (home["from"], home["to"], home["start"]) == ("a", "base", "08:30")
    assert tue["leave"] == "08:30" and tue["drive_minutes"] == travel.minutes("a", "base")
    # without the route's legs the day away is still driven: its one leg at the start of work
    [tue] = timeline(problem, travel, [], [{**routes[1], "legs": []}])
    assert [(s["from"], s["to"]) for s in tue["segments"] if s["kind"] == "drive"] == [("a", "base")]


def test_overtime_minutes_count_from_work_end_to_the_days_end() -> None:
    problem = parse_plan_request(NIGHTS)
    travel = TravelTimes(problem)
    late = [{"request": "r1", "mode": "onsite", "location": "a", "start": 900, "end": 1020}]
    day = day_segments(problem, travel, "x", late, None)
    assert day["overtime_minutes"] == 1020 + travel.minutes("a", "base") - (17 * 60 + 15)
    online = [{"request": "r2", "mode": "online", "location": "a", "start": 1020, "end": 1060}]
    assert day_segments(problem, travel, "x", online, None)["overtime_minutes"] == 1060 - 1035
    early = [{"request": "r1", "mode": "onsite", "location": "a", "start": 600, "end": 660}]
    assert day_segments(problem, travel, "x", early, None)["overtime_minutes"] == 0
    # an expert without overtime reads 0 whatever the day
    plain = parse_plan_request(TINY)
    assert day_segments(plain, TravelTimes(plain), "x", late, None)["overtime_minutes"] == 0


def test_a_day_between_two_nights_in_one_place_drives_nowhere() -> None:
    """Two nights in A: the day between starts and ends there without a visit; it is a day of
    the timeline (where it starts and ends), with no drive, no leave and no return."""
    from service.api.routes.timeline import timeline

    problem = parse_plan_request(NIGHTS)
    travel = TravelTimes(problem)
    route = {"expert": "x", "date": "2027-01-12", "stops": [], "start_at": "a", "end_at": "a",
             "legs": []}
    [day] = timeline(problem, travel, [], [route])
    assert (day["start_at"], day["end_at"], day["leave"], day["return"]) == ("a", "a", None, None)
    assert day["segments"] == [] and day["overtime_minutes"] == 0


def test_places_are_named_beside_their_codes() -> None:
    """People read 宇和島市, not ``a``: a standing appointment's place, each drive's ends and
    where a day ends after a night away are named in both languages beside their codes,
    which stay as they were."""
    from service.api.routes.timeline import timeline

    doc = {**NIGHTS, "horizon": {"start": WEEK, "end": WEEK},
           "locations": [{**TINY["locations"][0], "name_en": "Base"},
                         {**TINY["locations"][1], "name": "宇和島市", "name_en": "Uwajima"}],
           "experts": [{**NIGHTS["experts"][0],
                        "busy": [{"date": WEEK, "start": "13:00", "end": "14:00", "at": "a"}]}]}
    problem = parse_plan_request(doc)
    [day] = timeline(problem, TravelTimes(problem), [],
                     [{"expert": "x", "date": WEEK, "stops": ["a"], "end_at": "a"}])
    [appt] = [s for s in day["segments"] if s["kind"] == "appointment"]
    assert (appt["location"], appt["location_name_ja"], appt["location_name_en"]) == (
        "a", "宇和島市", "Uwajima")
    [drive] = [s for s in day["segments"] if s["kind"] == "drive"]
    assert (drive["from"], drive["from_name_ja"], drive["to_name_ja"], drive["to_name_en"]) == (
        "base", "拠点", "宇和島市", "Uwajima")
    assert (day["end_at"], day["end_at_name_ja"], day["end_at_name_en"]) == (
        "a", "宇和島市", "Uwajima")
    assert "start_at_name_ja" not in day          # a day from the base names no night


def test_the_weeks_timeline_names_each_municipality(planned: Any) -> None:
    client, keys, job = planned
    names = {m["code"]: (m["name_ja"], m["name_en"])
             for m in client.get("/v1/municipalities", headers=_h(keys["centre"])).json()}
    days = client.get(f"/v1/timeline?week={WEEK}&job={job['id']}",
                      headers=_h(keys["centre"])).json()["days"]
    places = [(s[k], s[f"{k}_name_ja"], s[f"{k}_name_en"]) for d in days for s in d["segments"]
              for k in ("location", "from", "to") if k in s]
    assert places and all(names[code] == (ja, en) for code, ja, en in places), places
