"""The expert's real week kept by the service (issue 21): a request's due date and the
sessions that follow it, an expert's lunch and nights away; each stored, shown by name,
carried into the week's plan-request/1 and refused with the field's path in both languages
when it is wrong."""

from __future__ import annotations

import datetime as dt

from service.weeks import week_document
from tests.service.conftest import Service

WEEK = "2027-04-05"


def test_a_due_date_is_stored_edited_and_carried_into_the_week(service: Service) -> None:
    q = service.new_request("a", earliest=WEEK, latest="2027-04-09", due="2027/4/7",
                            submit=True)
    assert q["due"] == "2027-04-07"
    assert service.get("a", f"/v1/requests/{q['id']}").json()["due"] == "2027-04-07"
    r = service.patch("a", f"/v1/requests/{q['id']}", {"due": "2027-04-08"})
    assert r.status_code == 200 and r.json()["due"] == "2027-04-08"
    with service.app.state.sessions.begin() as s:
        doc, _ = week_document(s, dt.date(2027, 4, 5))
    assert next(x for x in doc["requests"] if x["id"] == q["id"])["due"] == "2027-04-08"
    for lang, word in (("en", "date"), ("ja", "日付")):
        bad = service.client.patch(f"/v1/requests/{q['id']}", json={"due": "next week"},
                                   headers=service.h("a", lang))
        assert bad.status_code == 422, bad.text
        [err] = bad.json()["errors"]
        assert err["path"] == "due" and word in err["message"], err
    gone = service.patch("a", f"/v1/requests/{q['id']}", {"due": None})
    assert gone.status_code == 200 and gone.json()["due"] is None
    service.post("a", f"/v1/requests/{q['id']}/cancel")


def test_the_earlier_session_shows_its_follow_ups_by_name_and_gap(service: Service) -> None:
    first = service.new_request("a", earliest=WEEK, latest="2027-04-09", title="研修 第1回")
    second = service.new_request("a", earliest="2027-04-12", latest="2027-04-30",
                                 title="研修 第2回",
                                 after={"request": first["id"], "min_days": 7, "max_days": 21})
    got = service.get("a", f"/v1/requests/{first['id']}").json()
    assert got["followups"] == [{"title": "研修 第2回", "municipality": "382019",
                                 "fields": ["pr"], "status": "draft", "min_days": 7,
                                 "max_days": 21, "date": None}]
    listed = {q["id"]: q for q in service.get("a", "/v1/requests").json()}
    assert listed[first["id"]]["followups"][0]["title"] == "研修 第2回"
    assert listed[second["id"]]["followups"] == []
    # editing the link moves it; a cancelled follow-up is no longer listed
    r = service.patch("a", f"/v1/requests/{second['id']}",
                      {"after": {"request": first["id"], "min_days": 3}})
    assert r.status_code == 200 and r.json()["after"]["max_days"] is None
    assert service.get("a", f"/v1/requests/{first['id']}").json()["followups"][0][
        "min_days"] == 3
    service.post("a", f"/v1/requests/{second['id']}/cancel")
    assert service.get("a", f"/v1/requests/{first['id']}").json()["followups"] == []
    service.post("a", f"/v1/requests/{first['id']}/cancel")


def test_the_centre_sets_an_experts_lunch_and_nights_away(service: Service) -> None:
    lunch = {"minutes": 45, "window": ["11:30", "13:30"]}
    r = service.patch("centre", "/v1/experts/cocreation-1", {
        "lunch": lunch, "overnight": {"places": ["宇和島市"], "night_cost": 3000}})
    assert r.status_code == 200, r.text
    try:
        assert r.json()["lunch"] == lunch
        assert r.json()["overnight"] == {"places": ["382035"], "night_cost": 3000,
                                         "max_nights": 1}
        with service.app.state.sessions.begin() as s:
            doc, _ = week_document(s, dt.date(2027, 4, 5))
        mine = next(e for e in doc["experts"] if e["id"] == "cocreation-1")
        assert mine["lunch"] == lunch and mine["overnight"]["places"] == ["382035"]
        for body, path in [
                ({"lunch": {"minutes": 45, "window": ["07:00", "08:00"]}}, "lunch.window"),
                ({"lunch": {"minutes": 90, "window": ["12:00", "13:00"]}}, "lunch.minutes"),
                ({"lunch": {"minutes": 45, "window": ["13:00", "12:00"]}}, "lunch.window"),
                ({"overnight": {"places": ["no-such-town"]}}, "overnight.places[0]"),
                ({"overnight": {"places": []}}, "overnight.places"),
                ({"overnight": {"places": "*", "max_nights": -1}}, "overnight.max_nights")]:
            for lang in ("en", "ja"):
                bad = service.client.patch("/v1/experts/cocreation-1", json=body,
                                           headers=service.h("centre", lang))
                assert bad.status_code == 422, (body, bad.text)
                errors = bad.json()["errors"]
                assert errors[0]["path"] == path, (body, errors)
                if lang == "ja":
                    assert any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff"
                               for c in errors[0]["message"]), errors
        # nothing refused was stored
        assert service.get("centre", "/v1/experts/cocreation-1").json()["lunch"] == lunch
    finally:
        gone = service.patch("centre", "/v1/experts/cocreation-1",
                             {"lunch": None, "overnight": None})
    assert gone.status_code == 200
    assert "lunch" not in gone.json() and "overnight" not in gone.json()
