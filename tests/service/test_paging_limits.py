"""Paging of the request list and the audit log, anonymous refusals folded so they cannot
drown the audit, and rate limits per key and per address (429 with Retry-After)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings
from tests.service.conftest import MUNI_A, MUNI_B, Service


def _next(r: Any) -> str | None:
    m = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
    return m.group(1) if m else None


def test_requests_are_paged_with_total_and_links(service: Service) -> None:
    made = {service.new_request("b", title=f"ページ{i}")["id"] for i in range(5)}
    first = service.get("b", "/v1/requests", params={"limit": 2})
    total = int(first.headers["x-total-count"])
    assert total >= 5 and len(first.json()) == 2
    seen, url, pages = [], "/v1/requests?limit=2", 0
    while url:
        r = service.get("b", url)
        assert r.status_code == 200
        seen += [q["id"] for q in r.json()]
        url, pages = _next(r), pages + 1
    assert len(seen) == len(set(seen)) == total and made <= set(seen)
    assert pages == (total + 1) // 2
    assert seen == sorted(seen)  # a stable order: pages never overlap or skip
    last = service.get("b", "/v1/requests", params={"limit": 2, "offset": total - 1})
    assert len(last.json()) == 1 and 'rel="prev"' in last.headers["link"]
    assert service.get("b", "/v1/requests", params={"limit": 1001}).status_code == 422
    assert service.get("b", "/v1/requests", params={"offset": -1}).status_code == 422


def test_paging_keeps_filters_and_tenancy(service: Service) -> None:
    for _ in range(3):
        service.new_request("a", submit=True)
    r = service.get("a", "/v1/requests", params={"status": "submitted", "limit": 1})
    assert "status=submitted" in _next(r)
    assert int(r.headers["x-total-count"]) >= 3
    rows = service.get("a", _next(r)).json()
    assert rows and all(q["status"] == "submitted" and q["municipality"] == MUNI_A
                        for q in rows)


def test_audit_offset_reaches_older_entries(service: Service) -> None:
    for i in range(3):
        service.new_request("b", title=f"監査{i}")
    head = service.get("centre", "/v1/audit", params={"limit": 3})
    total = int(head.headers["x-total-count"])
    p1 = head.json()
    p2 = service.get("centre", "/v1/audit", params={"limit": 3, "offset": 3}).json()
    assert len(p1) == len(p2) == 3 and total >= 6
    assert not {a["id"] for a in p1} & {a["id"] for a in p2}
    assert max(a["id"] for a in p2) < min(a["id"] for a in p1)
    creates = service.get("centre", "/v1/audit", params={"action": "request.*",
                                                         "municipality": MUNI_B}).json()
    assert creates and all(a["action"].startswith("request.") and a["municipality"] == MUNI_B
                           for a in creates)


@pytest.fixture()
def limited(tmp_path: Any) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app of its own with small budgets (the shared one must not be throttled)."""
    app = create_app(Settings(db_path=str(tmp_path / "limits.sqlite"), executor="serial",
                              rate_limit_per_key="5/minute", rate_limit_per_address="12/minute",
                              rate_limit_anonymous="4/minute"))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "a": create_key(s, "municipality", municipality=MUNI_A)[0],
                    "b": create_key(s, "municipality", municipality=MUNI_B)[0]}
        yield client, keys


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept-Language": "en"}


def test_per_key_budget_gives_429_with_retry_after(limited: Any) -> None:
    client, keys = limited
    codes = [client.get("/v1/municipalities", headers=_h(keys["a"])).status_code
             for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = client.get("/v1/municipalities", headers=_h(keys["a"]))
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/problem+json"
    # another key from the same address still has its own budget (the address has 12)
    assert client.get("/v1/municipalities", headers=_h(keys["b"])).status_code == 200
    assert client.get("/v1/health").status_code == 200  # liveness is never limited


def test_valid_keys_count_against_their_own_budgets_only(limited: Any) -> None:
    client, keys = limited
    codes = []
    for i in range(15):  # more than the address's 12, each key within its 5
        who = ("a", "b", "centre")[i % 3]
        codes.append(client.get("/v1/municipalities", headers=_h(keys[who])).status_code)
    assert codes == [200] * 15


def test_per_address_budget_covers_requests_without_a_valid_key(limited: Any) -> None:
    client, keys = limited
    client.app.state.rate_limits.anonymous = []  # the address budget alone
    codes = [client.get("/v1/municipalities").status_code for _ in range(14)]
    assert codes[:12] == [401] * 12 and codes[12:] == [429, 429]
    assert client.get("/v1/municipalities", headers=_h(keys["a"])).status_code == 200


def test_keyless_flood_does_not_lock_out_valid_keys(limited: Any) -> None:
    """Thousands of anonymous GETs from one address spend its budgets; the centre, a
    municipality and every other valid key at that address still pass (SERVICE.md)."""
    client, keys = limited
    codes = [client.get("/v1/municipalities").status_code for _ in range(300)]
    assert codes.count(429) >= 280
    client.app.state.key_cache.clear()  # the keys are looked up, not only taken from a cache
    for who in ("centre", "a", "b"):
        r = client.get("/v1/municipalities", headers=_h(keys[who]))
        assert r.status_code == 200, (who, r.text)
    assert client.get("/v1/municipalities", headers=_h("dxs_wrong")).status_code == 429


def test_anonymous_flood_is_one_audit_row_and_then_throttled(limited: Any) -> None:
    client, keys = limited
    codes = [client.post("/v1/requests", json={}, headers={"Authorization": "Bearer nope"}
                         ).status_code for _ in range(30)]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}
    # the address spent its refusals: without a valid key it now waits, but a valid key
    # from the same address still gets through (one wrong key does not lock out an office)
    assert client.get("/v1/municipalities").status_code == 429
    assert client.get("/v1/municipalities", headers=_h("dxs_wrong")).status_code == 429
    app = client.app
    app.state.key_cache.clear()  # the valid key is looked up, not only taken from the cache
    app.state.rate_limits.per_address = []  # the flood spent the address's own budget too
    rows = client.get("/v1/audit", headers=_h(keys["centre"])).json()
    anon = [a for a in rows if a["role"] == "anonymous"]
    assert len(anon) in (1, 2)  # one per address and minute (two if a minute turned)
    assert sum(a["detail"]["count"] for a in anon) == 30  # the GETs are not writes
    assert anon[0]["action"] == "refused.anonymous"
    assert set(anon[0]["detail"]["statuses"]) <= {"401", "429"}
    assert anon[0]["detail"]["paths"] == ["POST /v1/requests"]
