"""Each route with each role: what it allows, what it refuses, and the shape of errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.service.conftest import MUNI_A, MUNI_B, WEEK, Service, wait_job

PROBLEM = "application/problem+json"


def test_health_needs_no_key(service: Service) -> None:
    r = service.client.get("/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer dxs_wrong"},
                                     {"X-API-Key": "nope"}, {"Authorization": "Basic abc"}])
def test_missing_or_unknown_key_is_401_with_challenge(service: Service, headers: dict) -> None:
    r = service.client.get("/v1/requests", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_x_api_key_header_is_accepted(service: Service) -> None:
    r = service.client.get("/v1/municipalities", headers={"X-API-Key": service.keys["a"]})
    assert r.status_code == 200


def test_municipalities_are_seeded_and_readable_by_every_role(service: Service) -> None:
    for who in ("centre", "a", "pr"):
        rows = service.get(who, "/v1/municipalities").json()
        assert len(rows) == 21
    one = service.get("a", f"/v1/municipalities/{MUNI_B}").json()
    assert one["name_ja"] == "今治市"
    assert service.get("a", "/v1/municipalities/999999").status_code == 404


def test_experts_listed_and_only_centre_changes_them(service: Service) -> None:
    experts = service.get("a", "/v1/experts").json()
    assert {e["id"] for e in experts} == {"design-1", "security-1", "data-1", "cocreation-1",
                                          "pr-1"}
    assert service.patch("a", "/v1/experts/pr-1", {"max_onsite_days": 2}).status_code == 403
    assert service.patch("pr", "/v1/experts/pr-1", {"max_onsite_days": 2}).status_code == 403
    r = service.patch("centre", "/v1/experts/security-1", {"max_onsite_days": 2})
    assert r.status_code == 200 and r.json()["max_onsite_days"] == 3 - 1
    bad = service.patch("centre", "/v1/experts/security-1", {"work_start": "25:00"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "work_start"
    assert service.patch("centre", "/v1/experts/nobody", {"name": "x"}).status_code == 404


def test_municipality_creates_draft_and_submits(service: Service) -> None:
    q = service.new_request("a")
    assert q["status"] == "draft" and q["municipality"] == MUNI_A
    r = service.post("a", f"/v1/requests/{q['id']}/submit")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    again = service.post("a", f"/v1/requests/{q['id']}/submit")
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM


def test_created_request_has_location_header(service: Service) -> None:
    body = {"fields": ["data"], "mode": "onsite", "duration_min": 90, "priority": 3,
            "earliest": WEEK, "latest": WEEK}
    r = service.post("a", "/v1/requests", body)
    assert r.status_code == 201 and r.headers["location"] == r.json()["url"]


def test_municipality_cannot_create_for_another(service: Service) -> None:
    r = service.post("a", "/v1/requests", {
        "municipality": MUNI_B, "fields": ["pr"], "mode": "online", "duration_min": 30,
        "priority": 5, "earliest": WEEK, "latest": WEEK})
    assert r.status_code == 403


def test_centre_must_name_the_municipality(service: Service) -> None:
    body = {"fields": ["pr"], "mode": "online", "duration_min": 30, "priority": 5,
            "earliest": WEEK, "latest": WEEK}
    r = service.post("centre", "/v1/requests", body)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "municipality"
    ok = service.post("centre", "/v1/requests", {**body, "municipality": MUNI_B})
    assert ok.status_code == 201 and ok.json()["municipality"] == MUNI_B


def test_experts_cannot_create_or_list_requests(service: Service) -> None:
    assert service.get("pr", "/v1/requests").status_code == 403
    r = service.post("pr", "/v1/requests", {"fields": ["pr"], "mode": "online",
                                             "duration_min": 30, "priority": 5,
                                             "earliest": WEEK, "latest": WEEK})
    assert r.status_code == 403


@pytest.mark.parametrize(("change", "path"), [
    ({"duration_min": 0}, "duration_min"),
    ({"priority": 11}, "priority"),
    ({"fields": ["cooking"]}, "fields[0]"),
    ({"fields": []}, "fields"),
    ({"mode": "teleport"}, "mode"),
    ({"latest": "2027-01-01"}, "latest"),
    ({"window": ["12:00", "09:00"]}, "window"),
    ({"window": ["09:00", "09:30"]}, "window"),  # shorter than the duration (format rule)
    ({"earliest": "not a date"}, "earliest"),
    ({"title": "a\x00b"}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_bad_request_bodies_are_422_naming_the_field(service: Service, change: dict,
                                                     path: str) -> None:
    body = {"fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
            "earliest": WEEK, "latest": "2027-01-15", **change}
    r = service.post("a", "/v1/requests", body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert path in [e["path"] for e in r.json()["errors"]]


def test_malformed_json_is_422_not_500(service: Service) -> None:
    r = service.client.post("/v1/requests", content=b"{not json",
                            headers={**service.h("a"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


def test_oversized_body_is_413(service: Service) -> None:
    big = b'{"title": "' + b"x" * 1_100_000 + b'"}'
    r = service.client.post("/v1/requests", content=big,
                            headers={**service.h("a"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM


def test_errors_are_japanese_by_default(service: Service) -> None:
    r = service.client.get("/v1/requests")
    assert r.json()["title"] == "認証が必要です"
    r = service.client.get("/v1/requests", headers={"Accept-Language": "en"})
    assert r.json()["title"] == "Authentication required"


def test_edit_only_while_draft_or_submitted(service: Service) -> None:
    q = service.new_request("a")
    r = service.patch("a", f"/v1/requests/{q['id']}", {"priority": 9, "window": None})
    assert r.status_code == 200 and r.json()["priority"] == 9
    bad = service.patch("a", f"/v1/requests/{q['id']}", {"latest": "2027-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "latest"
    service.post("a", f"/v1/requests/{q['id']}/cancel")
    assert service.patch("a", f"/v1/requests/{q['id']}", {"priority": 2}).status_code == 409


def test_done_only_from_scheduled(service: Service) -> None:
    q = service.new_request("a", submit=True)
    assert service.post("a", f"/v1/requests/{q['id']}/done").status_code == 409


def test_list_filters(service: Service) -> None:
    q = service.new_request("a", submit=True)
    rows = service.get("a", "/v1/requests", params={"status": "submitted"}).json()
    assert q["id"] in {x["id"] for x in rows}
    assert all(x["status"] == "submitted" for x in rows)
    assert service.get("a", "/v1/requests", params={"week": "2027-01-12"}).status_code == 422
    assert service.get("a", "/v1/requests", params={"status": "lost"}).status_code == 422


def test_plan_jobs_are_centre_only(service: Service) -> None:
    for who in ("a", "pr"):
        assert service.post(who, "/v1/plan-jobs", {"week": WEEK}).status_code == 403
        assert service.get(who, "/v1/plan-jobs").status_code == 403
    assert service.get("centre", "/v1/plan-jobs/unknown-job").status_code == 404


def test_plan_job_bad_bodies_are_422(service: Service) -> None:
    r = service.post("centre", "/v1/plan-jobs", {"week": "2027-01-12"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "week"
    r = service.post("centre", "/v1/plan-jobs", {"week": WEEK, "time_limit": -1})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "time_limit"
    doc = {"format": "plan-request/1", "horizon": {"start": WEEK, "end": "2027-01-15"},
           "locations": [{"id": "x", "name": "X"}],
           "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
           "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": -5, "priority": 5}]}
    r = service.post("centre", "/v1/plan-jobs", doc)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "requests[0].duration_min"


def test_audit_records_writes_and_is_centre_only(service: Service) -> None:
    q = service.new_request("b")
    rows = service.get("centre", "/v1/audit", params={"limit": 20}).json()
    mine = [a for a in rows if a["target"] == f"request:{q['id']}"]
    assert mine and mine[0]["action"] == "request.create" and mine[0]["municipality"] == MUNI_B
    assert service.get("a", "/v1/audit").status_code == 403


def test_expert_reads_own_schedule_only(service: Service) -> None:
    assert service.get("pr", "/v1/experts/pr-1/schedule").status_code == 200
    assert service.get("pr", "/v1/experts/data-1/schedule").status_code == 403
    assert service.get("a", "/v1/experts/pr-1/schedule").status_code == 403
    assert service.get("centre", "/v1/experts/pr-1/schedule").status_code == 200


def test_calendar_feed_url_is_the_credential(service: Service) -> None:
    url = service.get("pr", "/v1/experts/pr-1/calendar-url").json()["path"]
    r = service.client.get(url)
    assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR")
    # saved from a browser, the file is named by the expert, not by the token in the URL
    assert r.headers["content-disposition"] == (
        "inline; filename=\"calendar.ics\"; filename*=UTF-8''%E5%BA%83%E5%A0%B1%E6%8B%85%E5%BD%93.ics")
    forged = url.replace("pr-1", "data-1")
    assert service.client.get(forged).status_code == 404
    assert service.get("pr", "/v1/experts/data-1/calendar-url").status_code == 403


def test_openapi_has_examples(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    body = spec["paths"]["/v1/plan-jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"week", "document"}
    assert spec["components"]["schemas"]["RequestIn"]["examples"]


def test_expert_learns_nothing_about_request_ids(service: Service) -> None:
    """An expert key is refused the same way whether the request exists or not."""
    q = service.new_request("a")
    for suffix in ("", "/submit", "/cancel"):
        method = "get" if suffix == "" else "post"
        real = getattr(service, method)("pr", f"/v1/requests/{q['id']}{suffix}")
        fake = getattr(service, method)("pr", f"/v1/requests/qdoesnotexist{suffix}")
        assert real.status_code == fake.status_code == 403, (real.text, fake.text)
        assert real.json()["detail"] == fake.json()["detail"]


def _chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_chunked_body_over_the_limit_is_413(service: Service) -> None:
    big = b'{"title": "' + b"x" * 1_100_000 + b'"}'
    r = service.client.post("/v1/requests", content=_chunks(big),
                            headers={**service.h("a"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM


def test_chunked_body_within_the_limit_is_read_whole(service: Service) -> None:
    body = json.dumps({"fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
                       "earliest": WEEK, "latest": WEEK, "title": "分割送信" * 5000}
                      ).encode()
    r = service.client.post("/v1/requests", content=_chunks(body, 1000),
                            headers={**service.h("a"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "title"  # too long,
    # i.e. the whole body arrived and was judged, not cut short


@pytest.mark.parametrize(("change", "path"), [
    ({"duration_min": True}, "duration_min"),
    ({"duration_min": "60"}, "duration_min"),
    ({"duration_min": 60.5}, "duration_min"),
    ({"priority": "5"}, "priority"),
    ({"submit": "yes"}, "submit"),
    ({"confidential": 1}, "confidential"),
    ({"fields": ["pr", "pr"]}, "fields"),
])
def test_numbers_and_booleans_are_strict(service: Service, change: dict, path: str) -> None:
    body = {"fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
            "earliest": WEEK, "latest": WEEK, **change}
    r = service.post("a", "/v1/requests", body)
    assert r.status_code == 422, r.text
    assert path in [e["path"] for e in r.json()["errors"]]
    q = service.new_request("a")
    p = service.patch("a", f"/v1/requests/{q['id']}",
                      {k: v for k, v in change.items() if k != "submit"} or {"priority": "5"})
    assert p.status_code == 422


def test_outcome_satisfaction_is_strict(service: Service, published: dict) -> None:
    vid = published["vb"]["id"]
    for bad in ({"held": True, "satisfaction": True}, {"held": "yes"},
                {"held": True, "satisfaction": "4"}):
        r = service.put("b", f"/v1/visits/{vid}/outcome", bad)
        assert r.status_code == 422, (bad, r.text)


def test_calendar_feed_reads_an_expert_with_standing_appointments(service: Service) -> None:
    """An expert stored with standing appointments (one at a place, dated outside the feed's
    visits) still gets their feed, the appointment in it at its place."""
    from service.db import ExpertRow, PlanJob

    with service.app.state.sessions.begin() as s:
        row = s.get(ExpertRow, "pr-1")
        row.doc = {**row.doc, "busy": [{"date": "2031-01-06", "start": "13:00", "end": "14:00",
                                        "at": "382035"}]}
    try:
        url = service.get("pr", "/v1/experts/pr-1/calendar-url").json()["path"]
        r = service.client.get(url)
        assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR"), r.text
        from icalendar import Calendar

        [ev] = [e for e in Calendar.from_ical(r.content).walk("VEVENT")
                if str(e["uid"]) == "busy:2031-01-06T13:00/pr-1@dxshare"]
        assert str(ev["summary"]) == "予定（宇和島市）/ Appointment (Uwajima)"
        # a week the appointment is not in is planned as before: its document carries only
        # the week's own appointments (one dated outside its horizon would be refused)
        job = service.post("centre", "/v1/plan-jobs", {"week": WEEK, "time_limit": 5})
        assert job.status_code == 202, job.text
        done = wait_job(service, job.json()["url"])
        assert done["status"] == "done", done
        with service.app.state.sessions.begin() as s:
            doc = s.get(PlanJob, done["id"]).request_doc
        assert "busy" not in next(e for e in doc["experts"] if e["id"] == "pr-1")
    finally:
        with service.app.state.sessions.begin() as s:
            row = s.get(ExpertRow, "pr-1")
            row.doc = {k: v for k, v in row.doc.items() if k != "busy"}
