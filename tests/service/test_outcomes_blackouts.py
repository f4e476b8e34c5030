"""Visit outcomes make the season's satisfaction share (the programme's 80 % yardstick);
blackouts stored in the database reach every week job of their week."""

from __future__ import annotations

from tests.service.conftest import MUNI_A, MUNI_B, PUBLISHED_WEEK, Service, wait_job


def test_satisfaction_share_of_the_season(service: Service, published: dict) -> None:
    season = {"from": PUBLISHED_WEEK, "to": "2027-01-22"}
    # A's held visit was rated 4 by the fixture; B now rates its own visit 2
    r = service.put("b", f"/v1/visits/{published['vb']['id']}/outcome",
                    {"held": True, "notes": "資料不足", "satisfaction": 2})
    assert r.status_code == 200, r.text
    body = service.get("centre", "/v1/outcomes", params=season).json()
    s = body["season"]
    visits = service.get("centre", "/v1/visits", params={"week": PUBLISHED_WEEK}).json()
    assert s["visits"] == len(visits) >= 3  # other tests may add visits to the week
    assert (s["recorded"], s["held"], s["rated"], s["satisfied"]) == (2, 2, 2, 1)
    assert s["satisfaction_share"] == 0.5 and s["meets_target"] is False
    assert s["target"] == 0.8 and s["mean_satisfaction"] == 3.0
    per = {m["municipality"]: m for m in body["by_municipality"]}
    assert per[MUNI_A]["satisfaction_share"] == 1.0 and per[MUNI_A]["name"] == "松山市"
    assert per[MUNI_B]["satisfaction_share"] == 0.0
    own = service.get("b", "/v1/outcomes", params=season).json()
    assert [m["municipality"] for m in own["by_municipality"]] == [MUNI_B]
    assert own["season"]["visits"] == sum(v["municipality"] == MUNI_B for v in visits)
    assert service.get("pr", "/v1/outcomes").status_code == 403
    bad = service.get("centre", "/v1/outcomes", params={"from": "2027-02-01",
                                                         "to": "2027-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "to"


def test_stored_blackouts_reach_the_week_job(service: Service) -> None:
    week = "2027-03-15"
    q = service.new_request("b", fields=["data"], earliest=week, latest=week, submit=True)
    r = service.post("centre", "/v1/blackouts",
                     {"date": week, "experts": ["data-1"], "reason": "DXキャンプ"})
    assert r.status_code == 201, r.text
    b = r.json()
    assert r.headers["location"] == b["url"]
    job = wait_job(service, service.post("centre", "/v1/plan-jobs",
                                         {"week": week}).json()["url"])
    left = {u["request"]: u for u in job["plan"]["unscheduled"]}
    assert q["id"] in left and "no_workable_day" in left[q["id"]]["codes"]
    # moved to the next day, the request can be served again
    moved = service.patch("centre", b["url"], {"date": "2027-03-16"})
    assert moved.status_code == 200 and moved.json()["date"] == "2027-03-16"
    job = wait_job(service, service.post("centre", "/v1/plan-jobs",
                                         {"week": week}).json()["url"])
    assert q["id"] in {v["request"] for v in job["plan"]["visits"]}
    assert [x["id"] for x in service.get("data", "/v1/blackouts").json()] == [b["id"]]
    assert service.get("pr", "/v1/blackouts").json() == []
    assert service.delete_(b["url"]).status_code == 204
    assert service.get("centre", "/v1/blackouts", params={"from": week}).json() == []


def test_blackouts_are_checked_and_the_centres(service: Service) -> None:
    bad = service.post("centre", "/v1/blackouts", {"date": "2027-03-15",
                                                   "experts": ["nobody"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "experts[0]"
    assert service.post("centre", "/v1/blackouts", {"date": "2027-03-15",
                                                    "experts": ["*", "pr-1"]}
                        ).status_code == 422
    assert service.post("a", "/v1/blackouts", {"date": "2027-03-15"}).status_code == 403
    assert service.get("a", "/v1/blackouts").status_code == 403
    assert service.patch("centre", "/v1/blackouts/999999", {"reason": "x"}).status_code == 404
