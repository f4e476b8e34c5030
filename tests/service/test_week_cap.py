"""One municipality cannot fill a week's plan job for everyone: at most
``max_open_requests_per_week`` submitted or scheduled requests of one municipality meet one
week, whichever way a request becomes open there (created submitted, submitted, moved,
a slot chosen). One app of its own on SQLite with a cap of 3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings
from tests.service.conftest import MUNI_A, MUNI_B

WEEK, FRIDAY = "2027-02-01", "2027-02-05"
NEXT, NEXT_FRIDAY = "2027-02-08", "2027-02-12"


class Client:
    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client, self.keys = client, keys

    def call(self, method: str, who: str, url: str, lang: str = "en", **kw: Any) -> Any:
        h = {"Authorization": f"Bearer {self.keys[who]}", "Accept-Language": lang}
        return getattr(self.client, method)(url, headers=h, **kw)

    def request(self, who: str = "a", earliest: str = WEEK, latest: str = FRIDAY,
                submit: bool = True, lang: str = "en") -> Any:
        return self.call("post", who, "/v1/requests", lang, json={
            "fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
            "earliest": earliest, "latest": latest, "submit": submit})


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Client]:
    app = create_app(Settings(db_path=str(tmp_path / "cap.sqlite"), executor="serial",
                              max_open_requests_per_week=3))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "a": create_key(s, "municipality", municipality=MUNI_A)[0],
                    "b": create_key(s, "municipality", municipality=MUNI_B)[0]}
        yield Client(client, keys)


def _refused(r: Any) -> str:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["path"] == "earliest"
    return r.json()["detail"]  # type: ignore[no-any-return]


def test_a_municipality_has_at_most_the_cap_open_in_a_week(api: Client) -> None:
    for _ in range(3):
        assert api.request().status_code == 201
    detail = _refused(api.request())
    assert "Matsuyama" in detail and "3 open requests in the week of 2027-02-01" in detail
    assert "at most 3" in detail and "DXSHARE_MAX_OPEN_REQUESTS_PER_WEEK" in detail
    ja = _refused(api.request(lang="ja"))
    assert "松山市" in ja and "上限 3 件" in ja
    # the centre filing for the municipality meets the same cap
    r = api.call("post", "centre", "/v1/requests", json={
        "municipality": MUNI_A, "fields": ["pr"], "mode": "online", "duration_min": 60,
        "priority": 5, "earliest": WEEK, "latest": FRIDAY, "submit": True})
    _refused(r)
    # where it does not bite: another municipality, the next week, a draft
    assert api.request("b").status_code == 201
    assert api.request(earliest=NEXT, latest=NEXT_FRIDAY).status_code == 201
    draft = api.request(submit=False)
    assert draft.status_code == 201
    # ... but submitting the draft does
    _refused(api.call("post", "a", f"/v1/requests/{draft.json()['id']}/submit"))
    # nor choosing a slot for it, which would submit it too
    slot = {"experts": ["pr-1"], "date": "2027-02-02", "start": "10:00", "mode": "online"}
    _refused(api.call("post", "a", f"/v1/requests/{draft.json()['id']}/accept-slot",
                      json=slot))


def test_moving_or_spanning_into_a_full_week_counts(api: Client) -> None:
    ids = [api.request().json()["id"] for _ in range(3)]
    later = api.request(earliest=NEXT, latest=NEXT_FRIDAY).json()["id"]
    # moving a submitted request into the full week is refused; other edits are not
    _refused(api.call("patch", "a", f"/v1/requests/{later}",
                      json={"earliest": WEEK, "latest": NEXT_FRIDAY}))
    assert api.call("patch", "a", f"/v1/requests/{later}",
                    json={"title": "改題"}).status_code == 200
    assert api.call("patch", "a", f"/v1/requests/{ids[0]}",
                    json={"latest": "2027-02-04"}).status_code == 200  # its own week
    # a request spanning two weeks counts in both
    span = _refused(api.request(earliest="2027-01-25", latest=FRIDAY))
    assert "2027-02-01" in span
    # cancelling one makes room
    assert api.call("post", "a", f"/v1/requests/{ids[1]}/cancel").status_code == 200
    assert api.request(earliest="2027-01-25", latest=FRIDAY).status_code == 201
