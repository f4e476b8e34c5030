"""Slot proposals on the dashboard, in headless Chromium against a real ``dxshare serve``: a
municipality creating a request sees its best slots and picks one; the centre sees the pick
as a pending fixed visit (in the week grid and in its list) and confirms it, or chooses
another slot instead. The week used here (WEEK3) is planned and published first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_views import _click, _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WEEK3 = "2026-12-21"
FRIDAY = "2026-12-25"
MATSUYAMA = "382019"
#: Seconds to wait for what solves (proposals, a choice checked again): the machine is shared.
SOLVING = 60.0


@pytest.fixture(scope="module")
def week3(live: Live) -> dict[str, Any]:
    """A published week with one on-site PR visit at 松山市."""
    with live.api("centre") as api:
        r = api.post("/v1/requests", json={
            "municipality": MATSUYAMA, "fields": ["pr"], "mode": "onsite", "duration_min": 90,
            "priority": 8, "earliest": WEEK3, "latest": FRIDAY, "submit": True,
            "title": "広報誌の刷新"})
        assert r.status_code == 201, r.text
        job = plan_and_publish(api, WEEK3, time_limit=10)
        return {"first": r.json()["id"], "visits": job["plan"]["visits"]}


def _new_request(browser: Any, title: str) -> None:
    """Fill the request form (PR, on-site, 60 min, the whole week) and save it."""
    _tab(browser, "requests")
    form = _css(browser, "#request-form")
    form.find_element("css selector", "input[name=title]").send_keys(title)
    _css(browser, '#field-boxes input[value="pr"]').click()
    for name, value in (("earliest", WEEK3), ("latest", FRIDAY)):
        el = form.find_element("css selector", f"input[name={name}]")
        browser.execute_script("arguments[0].value = arguments[1]", el, value)
    _css(browser, "#save-request").click()


def _pending(live: Live, rid: str) -> list[dict[str, Any]]:
    with live.api("centre") as api:
        return [p for p in api.get("/v1/slot-picks", params={"status": "pending"}).json()
                if p["request"] == rid]


@pytest.mark.slow
def test_a_municipality_picks_a_slot_and_the_centre_confirms_it(browser: Any, live: Live,
                                                                 week3: dict) -> None:
    _open_week(browser, live, "matsuyama", WEEK3)
    _new_request(browser, "SNS運用の相談")
    # the new request's best slots appear at once, best first
    _wait(browser, lambda d: _css(d, "#slots-card").is_displayed()
          and len(_all(d, "#slots-list li")) > 0, timeout=SOLVING)
    rid = _css(browser, "#slots-list").get_attribute("data-request")
    with live.api("matsuyama") as api:
        expected = api.post(f"/v1/requests/{rid}/slot-proposals",
                            json={"top": 3}).json()["proposals"]
    items = _all(browser, "#slots-list li")
    assert [(li.get_attribute("data-date"), li.get_attribute("data-start")) for li in items] \
        == [(p["date"], p["start"]) for p in expected]
    assert "広報担当" in items[0].text and "評価値" not in items[0].text   # no costs for it
    shot(browser, "municipality-slot-proposals")
    first = expected[0]
    items[0].find_element("css selector", "button.choose").click()
    _wait(browser, lambda d: "センターの確認待ち" in _css(d, "#message").text, timeout=SOLVING)
    _wait(browser, lambda d: any("確認待ち" in r.text for r in _all(
        d, f'#requests-table tr[data-id="{rid}"] .status')))
    [pick] = _pending(live, rid)
    assert (pick["date"], pick["start"], pick["chosen_by"]) == (first["date"], first["start"],
                                                              "municipality")
    # the centre: a pending fixed visit in the week grid and in its list to confirm
    _css(browser, "#logout").click()
    _open_week(browser, live, "centre", WEEK3)
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#source")).select_by_value("published")
    # (read inside the wait: the grid redraws when an expert's own week arrives after it)
    text = _wait(browser, lambda d: _css(d, f'.visit.pending[data-request="{rid}"]').text)
    assert first["start"] in text and "確認待ち" in text
    shot(browser, "centre-pending-pick-week")
    _tab(browser, "requests")
    _wait(browser, lambda d: _all(d, f'#picks-list li[data-request="{rid}"]'))
    shot(browser, "centre-pending-picks")
    _click(browser, f'#picks-list li[data-request="{rid}"] button.confirm')
    _wait(browser, lambda d: "確定" in _css(d, "#message").text, timeout=SOLVING)
    with live.api("centre") as api:
        visits = {v["request"]: v for v in api.get("/v1/visits",
                                                   params={"week": WEEK3}).json()}
        status = api.get(f"/v1/requests/{rid}").json()["status"]
    assert (visits[rid]["date"], visits[rid]["start"]) == (first["date"], first["start"])
    assert status == "scheduled" and _pending(live, rid) == []
    for v in week3["visits"]:
        assert (visits[v["request"]]["date"], visits[v["request"]]["start"]) == \
            (v["date"], v["start"])


def test_the_centre_chooses_another_slot_instead(browser: Any, live: Live,
                                                 week3: dict) -> None:
    with live.api("matsuyama") as api:
        q = api.post("/v1/requests", json={
            "fields": ["pr"], "mode": "online", "duration_min": 30, "priority": 4,
            "earliest": WEEK3, "latest": FRIDAY, "title": "ウェブ会議の相談"}).json()
        props = api.post(f"/v1/requests/{q['id']}/slot-proposals",
                         json={"top": 3}).json()["proposals"]
        assert len(props) >= 2
        assert api.post(f"/v1/requests/{q['id']}/accept-slot",
                        json=props[0]["choose"]).json()["status"] == "pending"
    _open_week(browser, live, "centre", WEEK3)
    _tab(browser, "requests")
    _click(browser, f'#picks-list li[data-request="{q["id"]}"] button.other')
    _wait(browser, lambda d: _css(d, "#slots-card").is_displayed()
          and len(_all(d, "#slots-list li")) >= 2, timeout=SOLVING)
    second = _all(browser, "#slots-list li")[1]
    # the centre sees what each one costs, in words
    assert "運転" in second.text and "評価値" not in second.text
    date, start = second.get_attribute("data-date"), second.get_attribute("data-start")
    second.find_element("css selector", "button.choose").click()
    _wait(browser, lambda d: "確定" in _css(d, "#message").text, timeout=SOLVING)
    with live.api("centre") as api:
        picks = [p for p in api.get("/v1/slot-picks", params={"week": WEEK3}).json()
                 if p["request"] == q["id"]]
        visit = {v["request"]: v for v in api.get("/v1/visits",
                                                  params={"week": WEEK3}).json()}[q["id"]]
    assert [p["status"] for p in picks] == ["confirmed", "overridden"]
    assert (visit["date"], visit["start"]) == (date, start)
