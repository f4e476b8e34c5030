"""Tenant isolation: municipality B can neither read, list, modify nor infer A's data, route
by route; an expert sees only its own visits and never confidential notes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import MUNI_A, MUNI_B, Service


def _same_as_missing(service: Service, method: str, url: str, missing_url: str,
                     body: Any = None) -> None:
    """B gets exactly what it gets for an id that does not exist (status and body shape)."""
    call = getattr(service, method)
    args = (body,) if body is not None or method in ("patch", "put") else ()
    real = call("b", url, *args)
    fake = call("b", missing_url, *args)
    assert real.status_code == fake.status_code == 404, (real.text, fake.text)
    r, f = real.json(), fake.json()
    assert set(r) == set(f) and r["title"] == f["title"]


REQ_ROUTES = [("get", ""), ("patch", ""), ("post", "/submit"), ("post", "/cancel"),
              ("post", "/done")]


@pytest.mark.parametrize(("method", "suffix"), REQ_ROUTES)
def test_b_cannot_touch_a_request(service: Service, published: dict, method: str,
                                  suffix: str) -> None:
    rid = published["qa"]["id"]
    body = {"priority": 1} if method == "patch" else None
    _same_as_missing(service, method, f"/v1/requests/{rid}{suffix}",
                     f"/v1/requests/qdoesnotexist{suffix}", body)
    assert service.get("a", f"/v1/requests/{rid}").json()["status"] in ("scheduled", "done")


def test_b_lists_only_its_own_requests(service: Service, published: dict) -> None:
    rows = service.get("b", "/v1/requests").json()
    assert rows and {q["municipality"] for q in rows} == {MUNI_B}
    assert service.get("b", "/v1/requests", params={"municipality": MUNI_A}).json() == []


@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("get", "", None), ("put", "/outcome", {"held": False, "notes": "x"})])
def test_b_cannot_touch_a_visit(service: Service, published: dict, method: str, suffix: str,
                                body: Any) -> None:
    vid = published["va"]["id"]
    _same_as_missing(service, method, f"/v1/visits/{vid}{suffix}",
                     f"/v1/visits/2147483000{suffix}", body)
    notes = service.get("a", f"/v1/visits/{vid}").json()["notes"]
    assert notes == "職員Xの異動について"


def test_b_lists_only_its_own_visits(service: Service, published: dict) -> None:
    rows = service.get("b", "/v1/visits").json()
    assert rows and {v["municipality"] for v in rows} == {MUNI_B}
    assert published["va"]["id"] not in {v["id"] for v in rows}


def test_b_cannot_reach_centre_views_that_hold_a_data(service: Service,
                                                      published: dict) -> None:
    job_url = published["job"]["url"]
    for url in (job_url, "/v1/plan-jobs", "/v1/audit", "/v1/stats",
                "/v1/experts/pr-1/schedule", "/v1/experts/pr-1/calendar-url"):
        assert service.get("b", url).status_code == 403, url
    assert service.post("b", f"{job_url}/publish").status_code == 403
    assert service.post("b", f"{job_url}/cancel").status_code == 403


def test_expert_sees_own_visits_but_not_confidential_notes(service: Service,
                                                           published: dict) -> None:
    va = published["va"]
    owner = "pr" if "pr-1" in va["experts"] else None
    assert owner == "pr"
    mine = {v["id"]: v for v in service.get("pr", "/v1/visits").json()}
    assert va["id"] in mine and "notes" not in mine[va["id"]]
    assert all("pr-1" in v["experts"] for v in mine.values())
    assert service.get("data", f"/v1/visits/{va['id']}").status_code == 404
    assert service.put("pr", f"/v1/visits/{va['id']}/outcome",
                       {"held": True}).status_code == 403


def test_centre_sees_everything(service: Service, published: dict) -> None:
    rows = service.get("centre", "/v1/visits", params={"week": "2027-01-18"}).json()
    assert {v["municipality"] for v in rows} == {MUNI_A, MUNI_B}
    assert any(v.get("notes") for v in rows)


def test_refused_writes_are_audited_with_the_caller(service: Service, published: dict) -> None:
    rid = published["qa"]["id"]
    assert service.post("b", f"/v1/requests/{rid}/cancel").status_code == 404
    rows = service.get("centre", "/v1/audit", params={"limit": 5}).json()
    hit = [a for a in rows if a["target"] == f"POST /v1/requests/{rid}/cancel"]
    assert hit and hit[0]["action"] == "refused.404" and hit[0]["municipality"] == MUNI_B


@pytest.mark.parametrize("extra", [{"status": "scheduled"}, {"id": "qchosen"},
                                   {"created_at": "2020-01-01"}])
def test_mass_assignment_bodies_are_refused(service: Service, extra: dict) -> None:
    """A body may not set what only the service sets (status, id, timestamps), nor move a
    request to another municipality."""
    body = {"fields": ["pr"], "mode": "online", "duration_min": 30, "priority": 5,
            "earliest": "2027-01-11", "latest": "2027-01-15", **extra}
    r = service.post("b", "/v1/requests", body)
    assert r.status_code == 422 and list(extra)[0] in [e["path"] for e in r.json()["errors"]]
    own = service.new_request("b")
    p = service.patch("b", own["url"], extra)
    assert p.status_code == 422
    moved = service.patch("b", own["url"], {"municipality": MUNI_A})
    assert moved.status_code == 422
    assert service.get("b", own["url"]).json()["municipality"] == MUNI_B
