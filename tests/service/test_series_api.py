"""Follow-up series in the service: a request stores the session it follows (``after``),
refused with the field's path when it names an unknown or another municipality's request, a
gap whose most is below its least, or a cycle; shown with the session it follows by name and
date (the dashboard's 「前回: … (date)」); and a week plans a follow-up of a session published
in an earlier week after it, by the same experts."""

from __future__ import annotations

import datetime as dt

from tests.service.conftest import Service, plan_and_publish, wait_job

FIRST_WEEK, NEXT_WEEK = "2027-03-01", "2027-03-08"


def test_a_follow_up_is_stored_checked_and_shown_with_its_first_session(service: Service
                                                                        ) -> None:
    first = service.new_request("a", earliest=FIRST_WEEK, latest="2027-03-05",
                                title="ワークショップ研修 第1回")
    follow = service.new_request("a", earliest=NEXT_WEEK, latest="2027-03-12",
                                 title="ワークショップ研修 第2回",
                                 after={"request": first["id"], "min_days": 7})
    assert follow["after"] == {"request": first["id"], "min_days": 7, "max_days": None,
                               "same_experts": True}
    got = service.get("a", f"/v1/requests/{follow['id']}").json()
    assert got["after_first"] == {"title": "ワークショップ研修 第1回", "fields": ["pr"],
                                  "municipality": "382019", "date": None}
    listed = service.get("a", "/v1/requests").json()
    assert next(q for q in listed if q["id"] == follow["id"])["after_first"]["title"] \
        == "ワークショップ研修 第1回"
    assert "after" not in service.get("a", f"/v1/requests/{first['id']}").json() or \
        service.get("a", f"/v1/requests/{first['id']}").json()["after"] is None
    other = service.new_request("b", earliest=FIRST_WEEK, latest="2027-03-05")
    for after, path in [({"request": "q404"}, "after.request"),
                        ({"request": other["id"]}, "after.request"),
                        ({"request": first["id"], "min_days": 9, "max_days": 3},
                         "after.max_days"),
                        ({"request": first["id"], "min_days": 0}, "after.min_days")]:
        r = service.post("a", "/v1/requests", {
            "fields": ["pr"], "mode": "online", "duration_min": 60, "earliest": NEXT_WEEK,
            "latest": "2027-03-12", "after": after})
        assert r.status_code == 422, (after, r.text)
        assert r.json()["errors"][0]["path"] == path, r.json()
    cycle = service.patch("a", f"/v1/requests/{first['id']}",
                          {"after": {"request": follow["id"]}})
    assert cycle.status_code == 422 and cycle.json()["errors"][0]["path"] == "after.request"
    for q in (first, follow, other):
        service.post(q["municipality"] == "382027" and "b" or "a",
                     f"/v1/requests/{q['id']}/cancel")


def test_a_week_plans_the_follow_up_of_an_earlier_weeks_session(service: Service) -> None:
    first = service.new_request("a", mode="onsite", earliest=FIRST_WEEK, latest="2027-03-05",
                                title="研修 第1回", submit=True)
    plan_and_publish(service, FIRST_WEEK)
    made = next(v for v in service.get("centre", "/v1/visits",
                                       params={"week": FIRST_WEEK}).json()
                if v["request"] == first["id"])
    follow = service.new_request("a", mode="onsite", earliest=NEXT_WEEK, latest="2027-03-12",
                                 title="研修 第2回", submit=True,
                                 after={"request": first["id"], "min_days": 3,
                                        "max_days": 11})
    assert service.get("a", f"/v1/requests/{follow['id']}").json()["after_first"]["date"] \
        == made["date"]
    r = service.post("centre", "/v1/plan-jobs", {"week": NEXT_WEEK, "time_limit": 10})
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done", job
    v = next(v for v in job["plan"]["visits"] if v["request"] == follow["id"])
    gap = (dt.date.fromisoformat(v["date"]) - dt.date.fromisoformat(made["date"])).days
    assert 3 <= gap <= 11 and v["experts"] == made["experts"]
