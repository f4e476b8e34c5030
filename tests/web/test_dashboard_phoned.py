"""A 連絡が必要 message (nobody to e-mail) can be marked as phoned by the centre
(``POST /v1/outbox/{id}/phoned``): it leaves the inbox and the open messages, and the 連絡 view
says 電話で連絡済み. The route without a browser, then the page in headless Chromium against
a real ``dxshare serve`` (its own week, PHONED_WEEK)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings
from service.db import AuditEntry, OutboxRow
from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _wait
from tests.web.test_dashboard_views import _click, _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PHONED_WEEK = "2027-06-07"
MATSUYAMA = "382019"


@pytest.fixture(scope="module")
def app_with_messages(tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[tuple[TestClient, Any, dict[str, str], dict[str, int]]]:
    db = tmp_path_factory.mktemp("phoned") / "p.sqlite"
    app = create_app(Settings(db_path=str(db), executor="serial"))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "muni": create_key(s, "municipality", municipality=MATSUYAMA)[0]}
            ids = {}
            for name, address in (("call", None), ("mail", "dx@example.jp")):
                m = OutboxRow(message_id=f"<{name}@dxshare>", job_id="j", week=dt.date(2027, 6, 7),
                              kind="location_closed", recipient_kind="municipality",
                              recipient=MATSUYAMA, lang="ja", address=address, subject="変更",
                              body="本文", requests=[])
                s.add(m)
                s.flush()
                ids[name] = m.id
        yield client, app, keys, ids


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_only_a_message_without_address_is_phoned_by_the_centre(app_with_messages: Any) -> None:
    client, app, keys, ids = app_with_messages
    url = f"/v1/outbox/{ids['call']}/phoned"
    assert client.post(url, headers=_h(keys["muni"])).status_code == 403
    r = client.post(url, headers=_h(keys["centre"]))
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["phoned"] and m["sent"] and not m["needs_call"]
    first = m["sent_at"]
    assert client.post(url, headers=_h(keys["centre"])).json()["sent_at"] == first  # once
    still_open = client.get("/v1/outbox?sent=false", headers=_h(keys["centre"])).json()
    assert [x["id"] for x in still_open] == [ids["mail"]]
    # an e-mail goes by e-mail: refused, naming the address
    r = client.post(f"/v1/outbox/{ids['mail']}/phoned", headers=_h(keys["centre"]))
    assert r.status_code == 409 and "dx@example.jp" in r.json()["detail"]
    assert client.post("/v1/outbox/99999/phoned", headers=_h(keys["centre"])).status_code == 404
    with app.state.sessions() as s:
        assert s.query(AuditEntry).filter(AuditEntry.action == "outbox.phoned").count() == 1


@pytest.fixture(scope="module")
def closed(live: Live) -> dict[str, Any]:
    """PHONED_WEEK published, then 松山市's hall closed on its visit's day: 松山市 has no
    e-mail address, so the centre must call it."""
    with live.api("centre") as api:
        r = api.post("/v1/requests", json={
            "municipality": MATSUYAMA, "fields": ["pr"], "mode": "onsite", "duration_min": 60,
            "priority": 9, "earliest": PHONED_WEEK, "latest": "2027-06-11",
            "title": "電話連絡の確認", "submit": True})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        plan_and_publish(api, PHONED_WEEK, time_limit=5)
        v = next(x for x in api.get("/v1/visits", params={"week": PHONED_WEEK}).json()
                 if x["request"] == rid)
        r = api.post("/v1/events", json={
            "kind": "location_closed", "now": f"{PHONED_WEEK}T07:00", "location": MATSUYAMA,
            "date": v["date"], "from": "07:00", "until": "20:00", "reason": "停電"})
        assert r.status_code == 201, r.text
        call = [m for m in r.json()["messages"] if m["needs_call"] and m["recipient"] == MATSUYAMA]
        assert call
        return call[0]


def test_the_inbox_button_marks_it_phoned_and_the_messages_say_so(
        browser: Any, live: Live, closed: dict[str, Any]) -> None:
    browser.set_window_size(1440, 900)
    _open_week(browser, live, "centre", PHONED_WEEK)
    item = _wait(browser, lambda d: _all(d, f'#inbox li[data-message="{closed["id"]}"]'))[0]
    assert "電話で連絡" in item.text
    item.find_element("css selector", "button.phoned").click()
    _wait(browser, lambda d: not _all(d, f'#inbox li[data-message="{closed["id"]}"]'))
    assert "電話で連絡済みにしました" in _css(browser, "#message").text
    _click(browser, '#tabs button[data-view="messages"]')
    li = _wait(browser, lambda d: _all(d, f'#messages-list li[data-message="{closed["message_id"]}"]'))[0]
    assert li.get_attribute("data-status") == "phoned"
    assert li.find_element("css selector", ".tag").text == "電話で連絡済み"
    assert not li.find_elements("css selector", "button.phoned")
    shot(browser, "desk-centre-messages-phoned")
