"""Matching routes per role, with tenant isolation: a municipality sees its own needs,
recommendations, assignment view and peers; never another municipality's needs."""

from __future__ import annotations

import pytest

from tests.service.conftest import MUNI_A, MUNI_B, Service

A_CONFIDENTIAL = "N002"  # 松山市's confidential need in the demo data
B_PUBLIC = "N003"  # 今治市's public need


def test_centre_gets_recommendations_with_breakdown(service: Service) -> None:
    r = service.get("centre", "/v1/matching/needs/N001/recommendations", params={"k": 3})
    assert r.status_code == 200
    rows = r.json()["candidates"]
    assert len(rows) == 3 and [x["rank"] for x in rows] == [1, 2, 3]
    parts = ("field", "topic", "skill", "distance", "capacity", "outcome", "proximity")
    for x in rows:
        assert abs(sum(x[p] for p in parts) - x["score"]) < 0.05
        assert x["explanation_ja"]


def test_municipality_sees_only_its_own_needs(service: Service) -> None:
    mine = service.get("a", "/v1/matching/needs").json()
    assert mine and {n["municipality"] for n in mine} == {MUNI_A}
    assert A_CONFIDENTIAL in {n["id"] for n in mine}
    theirs = service.get("b", "/v1/matching/needs").json()
    assert A_CONFIDENTIAL not in {n["id"] for n in theirs}
    assert {n["municipality"] for n in theirs} == {MUNI_B}


@pytest.mark.parametrize("need", [A_CONFIDENTIAL, "N001"])
def test_other_municipalities_needs_look_unknown(service: Service, need: str) -> None:
    real = service.get("b", f"/v1/matching/needs/{need}/recommendations")
    fake = service.get("b", "/v1/matching/needs/N999/recommendations")
    assert real.status_code == fake.status_code == 404
    assert real.json()["title"] == fake.json()["title"]


def test_municipality_gets_its_own_recommendations(service: Service) -> None:
    r = service.get("a", f"/v1/matching/needs/{A_CONFIDENTIAL}/recommendations")
    assert r.status_code == 200 and r.json()["candidates"]
    assert service.get("b", f"/v1/matching/needs/{B_PUBLIC}/recommendations").status_code \
        == 200


def test_assignment_view_is_limited_to_own_needs(service: Service) -> None:
    full = service.get("centre", "/v1/matching/assignment", params={"floor": True}).json()
    assert len({x["municipality"] for x in full["assigned"]}) > 2
    view = service.get("b", "/v1/matching/assignment", params={"floor": True}).json()
    rows = view["assigned"] + view["unserved"]
    assert rows and {x["municipality"] for x in rows} == {MUNI_B}
    text = str(view)
    assert A_CONFIDENTIAL not in text


def test_peers_for_self_only(service: Service) -> None:
    r = service.get("b", "/v1/matching/peers", params={"k": 3})
    assert r.status_code == 200 and r.json()["municipality"] == MUNI_B
    assert len(r.json()["peers"]) == 3
    assert service.get("b", "/v1/matching/peers",
                       params={"municipality": MUNI_A}).status_code == 403
    assert service.get("centre", "/v1/matching/peers").status_code == 422
    assert service.get("centre", "/v1/matching/peers",
                       params={"municipality": MUNI_A}).status_code == 200


def test_experts_have_no_matching(service: Service) -> None:
    for url in ("/v1/matching/needs", "/v1/matching/assignment", "/v1/matching/peers",
                "/v1/matching/needs/N001/recommendations"):
        assert service.get("pr", url).status_code == 403
