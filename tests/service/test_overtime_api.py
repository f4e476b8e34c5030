"""Overtime (``experts[].overtime``) through the service: a plan-request/1 document is stored
as given and planned with its overtime paid; the centre sets or removes an expert's overtime
and the week's document carries it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from service.db import ExpertRow, PlanJob
from service.weeks import week_document
from tests.service.conftest import Service, wait_job


def test_a_document_with_overtime_is_stored_as_given_and_paid(service: Service) -> None:
    """An online call that may start only at 17:00 ends 15 minutes past work_end (17:15): the
    plan serves it and pays 15 × 10."""
    overtime = {"max_minutes": 60, "minute_cost": 10}
    doc = {"format": "plan-request/1", "horizon": {"start": "2027-02-01", "end": "2027-02-01"},
           "locations": [{"id": "x", "name": "X", "close": "19:00"}],
           "experts": [{"id": "e", "fields": ["pr"], "base": "x", "overtime": overtime}],
           "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": 30, "priority": 5, "window": ["17:00", "18:00"]}]}
    r = service.post("centre", "/v1/plan-jobs", doc)
    assert r.status_code == 202, r.text
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done", job
    plan = job["plan"]
    assert [(v["request"], v["start"]) for v in plan["visits"]] == [("r1", "17:00")]
    assert plan["objective"] == 5000 - 15 * 10 and plan["kpis"]["overtime_minutes"] == 15
    with service.app.state.sessions.begin() as s:
        stored = s.get(PlanJob, job["id"])
        assert stored is not None and stored.request_doc["experts"][0]["overtime"] == overtime


def test_the_centre_sets_and_removes_an_experts_overtime(service: Service) -> None:
    overtime = {"max_minutes": 45, "minute_cost": 25}
    r = service.patch("centre", "/v1/experts/cocreation-1", {"overtime": overtime})
    assert r.status_code == 200, r.text
    assert r.json()["overtime"] == overtime
    try:
        with service.app.state.sessions.begin() as s:
            doc, _ = week_document(s, dt.date(2027, 2, 8))
        assert {e["id"]: e.get("overtime") for e in doc["experts"]}["cocreation-1"] == overtime
        too_long = service.patch("centre", "/v1/experts/cocreation-1",
                                 {"overtime": {"max_minutes": 600, "minute_cost": 1}})
        assert too_long.status_code == 422
        assert too_long.json()["errors"][0]["path"] == "overtime.max_minutes"
        bad = service.patch("centre", "/v1/experts/cocreation-1",
                            {"overtime": {"max_minutes": -5, "minute_cost": 1}})
        assert bad.status_code == 422 and bad.json()["errors"][0]["path"].startswith("overtime")
    finally:
        gone = service.patch("centre", "/v1/experts/cocreation-1", {"overtime": None})
    assert gone.status_code == 200 and "overtime" not in gone.json()
    with service.app.state.sessions.begin() as s:
        row = s.scalars(select(ExpertRow).where(ExpertRow.id == "cocreation-1")).one()
        assert "overtime" not in row.doc
