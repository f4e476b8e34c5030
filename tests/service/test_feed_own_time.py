"""The expert's calendar feed shows the expert's own time beside the published visits: the
standing appointments and the lunch breaks of the published plan as busy time, a night away
as an all-day entry naming the town."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar

from tests.service.conftest import Service, plan_and_publish

WEEK = "2027-05-10"          # a Monday of its own
WED = "2027-05-12"


def test_the_feed_shows_appointments_lunch_and_nights(service: Service) -> None:
    from service.db import ExpertRow, PlanJob

    r = service.patch("centre", "/v1/experts/pr-1",
                      {"lunch": {"minutes": 45, "window": ["11:30", "13:30"]}})
    assert r.status_code == 200, r.text
    with service.app.state.sessions.begin() as s:
        row = s.get(ExpertRow, "pr-1")
        row.doc = {**row.doc, "busy": [{"date": WED, "start": "15:00", "end": "16:00"}]}
    try:
        service.new_request("a", fields=["pr"], mode="onsite", duration_min=90, priority=9,
                            earliest=WED, latest=WED, submit=True, title="SNS 研修")
        job = plan_and_publish(service, WEEK)
        url = service.get("pr", "/v1/experts/pr-1/calendar-url").json()["path"]
        events = {str(e["uid"]): e for e in
                  Calendar.from_ical(service.client.get(url).content).walk("VEVENT")}
        busy = events[f"busy:{WED}T15:00/pr-1@dxshare"]
        assert str(busy["summary"]) == "予定 / Appointment" and str(busy["transp"]) == "OPAQUE"
        assert busy.decoded("dtstart").strftime("%Y-%m-%d %H:%M") == f"{WED} 15:00"
        lunch = events[f"lunch:{WED}/pr-1@dxshare"]
        assert str(lunch["summary"]) == "昼休み / Lunch break"
        assert str(lunch["transp"]) == "OPAQUE"
        assert (lunch.decoded("dtend") - lunch.decoded("dtstart")) == dt.timedelta(minutes=45)
        # a night away in the published plan (its Wednesday ending in 宇和島市) shows too
        with service.app.state.sessions.begin() as s:
            pj = s.get(PlanJob, job["id"])
            plan = dict(pj.plan)
            plan["routes"] = [{**x, "end_at": "382035"} if x["expert"] == "pr-1" and
                              x["date"] == WED else x for x in plan["routes"]]
            pj.plan = plan
        events = {str(e["uid"]): e for e in
                  Calendar.from_ical(service.client.get(url).content).walk("VEVENT")}
        night = events[f"night:{WED}/pr-1@dxshare"]
        assert str(night["summary"]) == "宿泊: 宇和島市 / Night in Uwajima"
        assert night.decoded("dtstart") == dt.date(2027, 5, 12)
        assert str(night["transp"]) == "TRANSPARENT"
    finally:
        service.patch("centre", "/v1/experts/pr-1", {"lunch": None})
        with service.app.state.sessions.begin() as s:
            row = s.get(ExpertRow, "pr-1")
            row.doc = {k: v for k, v in row.doc.items() if k != "busy"}
