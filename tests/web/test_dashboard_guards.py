"""Guards and small truths on the dashboard (issue 24), in headless Chromium against a real
``dxshare serve``: an outcome only for a visit that has started (the server's clock is fixed
at ``NOW``), an outcome card with nothing but figures in it and a season table with headers
and every municipality, a repeated request that asks first and shows the original, and a
slot's cost in words (visits, driving, other visits moved), never the planner's score.

The week used here (GUARD_WEEK) is its own: other modules plan 2026-12-14, 2026-12-21 and
2027-01-18."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _confirm, _css, _tab, _wait
from tests.web.test_dashboard_views import _click, _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

GUARD_WEEK = "2027-02-01"   # after the server's clock (NOW): its visits are still to come
FRIDAY = "2027-02-05"
MATSUYAMA = "382019"
OZU = "382078"  # 大洲市
TITLE = "広報誌の刷新相談"
MACHINE = re.compile(r"\b(?:null|undefined|NaN)\b|\[object")
#: Seconds to wait for what solves (slot proposals): the machine is shared.
SOLVING = 60.0


@pytest.fixture(scope="module")
def guard_week(live: Live) -> dict[str, Any]:
    """A published GUARD_WEEK with an on-site PR visit at 松山市."""
    with live.api("centre") as api:
        r = api.post("/v1/requests", json={
            "municipality": MATSUYAMA, "fields": ["pr"], "mode": "onsite", "duration_min": 60,
            "priority": 8, "earliest": GUARD_WEEK, "latest": FRIDAY, "title": TITLE,
            "submit": True})
        assert r.status_code == 201, r.text
        plan_and_publish(api, GUARD_WEEK, time_limit=5)
        visit = next(v for v in api.get("/v1/visits", params={"week": GUARD_WEEK}).json()
                     if v["request"] == r.json()["id"])
        return {"request": r.json(), "visit": visit}


def test_an_outcome_waits_for_the_visit_and_the_card_shows_only_figures(
        browser: Any, live: Live, guard_week: dict[str, Any]) -> None:
    visit = guard_week["visit"]
    _open_week(browser, live, "matsuyama", GUARD_WEEK)
    _tab(browser, "outcomes")
    row_sel = f'#outcomes-table tr[data-visit="{visit["id"]}"]'
    _wait(browser, lambda d: _all(d, row_sel) and _css(d, "#season").text)
    season = _css(browser, "#season").text
    assert not MACHINE.search(season), season
    row = _css(browser, row_sel)
    assert "訪問の開始後に記録できます" in row.text
    assert not row.find_element("css selector", "input[name=held]").is_enabled()
    assert not row.find_elements("css selector", "button.save-outcome")
    shot(browser, "municipality-outcome-not-yet")
    with live.api("matsuyama") as api:
        r = api.put(f"{visit['url']}/outcome", json={"held": True, "satisfaction": 5},
                    headers={"Accept-Language": "ja"})
        assert r.status_code == 409, r.text
        assert "開始後に記録できます" in r.json()["detail"]
        assert api.get(visit["url"]).json()["held"] is None
    # the centre's season table: headers, and every municipality, never visited ones too
    _css(browser, "#logout").click()
    _open_week(browser, live, "centre", GUARD_WEEK)
    _tab(browser, "outcomes")
    _wait(browser, lambda d: _all(d, "#season-table tbody tr"))
    heads = [th.text for th in _all(browser, "#season-table thead th")]
    assert heads[0] == "自治体" and len(heads) == 4, heads
    with live.api("centre") as api:
        places = api.get("/v1/map").json()
    munis = {m["code"] for m in places["locations"]} - {places["office"]}
    rows = {tr.get_attribute("data-municipality") for tr in _all(browser, "#season-table tbody tr")}
    assert rows == munis
    assert not MACHINE.search(_css(browser, "#season").text)
    shot(browser, "centre-season-table")


def test_a_repeated_request_asks_first_and_shows_the_original(
        browser: Any, live: Live, guard_week: dict[str, Any]) -> None:
    original = guard_week["request"]
    _open_week(browser, live, "matsuyama", GUARD_WEEK)

    def same_again() -> None:
        _tab(browser, "requests")
        form = _css(browser, "#request-form")
        title = form.find_element("css selector", "input[name=title]")
        title.clear()
        title.send_keys(TITLE)
        if not _css(browser, '#field-boxes input[value="pr"]').is_selected():
            _css(browser, '#field-boxes input[value="pr"]').click()
        for name, value in (("earliest", GUARD_WEEK), ("latest", FRIDAY)):
            el = form.find_element("css selector", f"input[name={name}]")
            browser.execute_script("arguments[0].value = arguments[1]", el, value)
        _css(browser, "#save-request").click()

    def count() -> int:
        with live.api("matsuyama") as api:
            return len([q for q in api.get("/v1/requests", params={"week": GUARD_WEEK}).json()
                        if q["title"] == TITLE])

    same_again()
    box = _wait(browser, lambda d: _css(d, "#confirm") if _css(d, "#confirm").is_displayed()
                else None)
    assert "同じ内容の相談依頼がすでにあります" in box.text
    assert f"松山市「{TITLE}」" in box.text and "2/1–2/5" in box.text
    shot(browser, "municipality-duplicate-request")
    _css(browser, "#confirm-link").click()
    _wait(browser, lambda d: not _css(d, "#confirm").is_displayed())
    row = _wait(browser, lambda d: _css(d, f'#requests-table tr[data-id="{original["id"]}"]'))
    _wait(browser, lambda d: "hl" in row.get_attribute("class").split())
    assert count() == 1
    # asked again, the person may still add it
    same_again()
    _confirm(browser, yes=True)
    _wait(browser, lambda d: count() == 2)


def test_a_slot_says_what_it_costs_in_words(browser: Any, live: Live,
                                             guard_week: dict[str, Any]) -> None:
    with live.api("centre") as api:
        q = api.post("/v1/requests", json={
            "municipality": OZU, "fields": ["data"], "mode": "online", "duration_min": 30,
            "priority": 4, "earliest": GUARD_WEEK, "latest": FRIDAY, "title": "統計の相談",
            "submit": True}).json()
    _open_week(browser, live, "centre", GUARD_WEEK)
    _tab(browser, "requests")
    _click(browser, f'#requests-table tr[data-id="{q["id"]}"] button.slots-btn')
    _wait(browser, lambda d: len(_all(d, "#slots-list li .cost")) > 0, timeout=SOLVING)
    costs = [c.text for c in _all(browser, "#slots-list li .cost")]
    shot(browser, "centre-slot-cost-words")
    for text in costs:
        assert re.fullmatch(r"\+1 件、運転 [+−±]\d+ 分、(?:他の訪問 \d+ 件が移動|他の訪問は動きません)"
                            r"(?:、他の訪問 \d+ 件が外れる)?", text), text
    assert not any("評価値" in c for c in costs)
    with live.api("centre") as api:
        props = api.post(f"/v1/requests/{q['id']}/slot-proposals",
                         json={"top": 3, "other_mode": "fallback"}).json()["proposals"]
    first = props[0]
    assert first["visits_added"] == 1
    drive = first["drive_minutes_added"]
    assert f"運転 {'+' if drive > 0 else '−' if drive < 0 else '±'}{abs(drive)} 分" in costs[0]


def test_a_municipality_sees_no_expert_counts_made_from_its_own_visits(
        browser: Any, live: Live, guard_week: dict[str, Any]) -> None:
    """A municipality sees only its own visits, so an expert's 訪問日 1/3 (the week being full,
    3/3) or a day's totals counted from them would mislead: they are not shown to it."""
    _open_week(browser, live, "matsuyama", GUARD_WEEK)
    _wait(browser, lambda d: _all(d, f'#week-grid .visit[data-request="{guard_week["request"]["id"]}"]'))
    grid = _css(browser, "#week-grid").text
    assert "訪問日" not in grid and "訪問/日" not in grid and "日計" not in grid, grid
    assert not _all(browser, "#week-grid [data-cap]")
    _css(browser, "#logout").click()
    _open_week(browser, live, "centre", GUARD_WEEK)
    _wait(browser, lambda d: _all(d, '#week-grid [data-cap="onsite-days"]'))


def test_the_publication_time_is_japan_time(browser: Any, live: Live,
                                            guard_week: dict[str, Any]) -> None:
    """The plan's 公開済み time is read on a Japanese clock, not the stored UTC one."""
    import datetime as dt

    with live.api("centre") as api:
        job = next(j for j in api.get("/v1/plan-jobs", params={"limit": 100}).json()
                   if j["week"] == GUARD_WEEK and j["published_at"])
    stored = dt.datetime.fromisoformat(job["published_at"])
    stored = stored if stored.tzinfo else stored.replace(tzinfo=dt.UTC)
    japan = stored.astimezone(dt.timezone(dt.timedelta(hours=9))).strftime("%Y-%m-%d %H:%M")
    _open_week(browser, live, "centre", GUARD_WEEK)
    _wait(browser, lambda d: "公開済み" in _css(d, "#plan-status").text)
    assert f"公開済み {japan}" in _css(browser, "#plan-status").text
