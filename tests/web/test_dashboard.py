"""The dashboard in headless Chromium against a running ``dxshare serve`` with the demo week:
the centre plans the week and sees it filled, publishes it and sees the routes with the
island's ferry leg; a municipality submits a request and sees only its own; an expert sees
its own week and its calendar feed. Screenshots are saved in ``test-artifacts/web/``."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest

from tests.web.conftest import DEMO_WEEK, Live, shot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _wait(driver: Any, condition: Any, timeout: float = 20.0) -> Any:
    """``condition(driver)`` once it holds, asked again every 0.2 s for ``timeout`` seconds. An
    element the page redrew between being found and being read is found again on the next
    ask, as one not drawn yet is (the page redraws its tables when the data changes)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(condition)


def _css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _all(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _login(driver: Any, live: Live, who: str) -> None:
    driver.get(live.base + "/")
    _wait(driver, lambda d: _css(d, "#key").is_displayed())
    _css(driver, "#key").send_keys(live.keys[who])
    _css(driver, "#login-form button[type=submit]").click()
    # the week is drawn (``data-week`` is set once it is), whatever it holds: a municipality
    # with nothing published yet sees no expert rows at all
    _wait(driver, lambda d: _css(d, "#app").is_displayed()
          and _css(d, "#week-grid").get_attribute("data-week"))


def _confirm(driver: Any, yes: bool = True) -> str:
    """Answer the question the page asks before a step that cannot be undone; its text."""
    box = _wait(driver, lambda d: _css(d, "#confirm") if _css(d, "#confirm").is_displayed()
                else None)
    text = box.text
    _css(driver, "#confirm-ok" if yes else "#confirm-back").click()
    _wait(driver, lambda d: not _css(d, "#confirm").is_displayed())
    return text


def _tab(driver: Any, view: str) -> None:
    _css(driver, f'#tabs button[data-view="{view}"]').click()
    _wait(driver, lambda d: _css(d, f"#view-{view}").is_displayed())


def _kamijima_request(live: Live) -> str:
    """A high-priority on-site request of the island town, so the plan has a ferry leg."""
    with live.api("kamijima") as api:
        r = api.post("/v1/requests", json={
            "fields": ["security"], "mode": "onsite", "duration_min": 60, "priority": 10,
            "earliest": DEMO_WEEK, "latest": "2026-12-11", "title": "島内の情報セキュリティ研修",
            "submit": True})
        assert r.status_code == 201, r.text
        return r.json()["id"]


@pytest.mark.slow
def test_centre_plans_publishes_and_sees_week_map_and_ferry(browser: Any, live: Live) -> None:
    island_request = _kamijima_request(live)
    _login(browser, live, "centre")
    assert _css(browser, "#week").get_attribute("value") == DEMO_WEEK
    heads = [e.text for e in _all(browser, "#week-grid .expert-head b")]
    assert heads == ["官民共創担当", "データ担当", "デザイン担当", "広報担当", "セキュリティ担当"]
    assert "月" in _css(browser, "#week-grid .day-head").text

    _css(browser, "#time-limit").clear()
    _css(browser, "#time-limit").send_keys("10")
    _css(browser, "#run-plan").click()
    # progress while it runs, then the filled week
    _wait(browser, lambda d: _css(d, "#plan-status").get_attribute("data-status")
          in ("queued", "running", "done"))
    _wait(browser, lambda d: _css(d, "#plan-status").get_attribute("data-status") == "done",
          timeout=60)
    _wait(browser, lambda d: int(_css(d, "#week-grid").get_attribute("data-count") or 0) > 0)
    count = int(_css(browser, "#week-grid").get_attribute("data-count"))
    with live.api("centre") as api:
        jobs = api.get("/v1/plan-jobs").json()
        plan = api.get(jobs[0]["url"]).json()["plan"]
    assert count == sum(len(v["experts"]) for v in plan["visits"]) > 20
    assert "完了" in _css(browser, "#plan-status").text
    # a joint visit is one event naming both experts, in each expert's row
    joint = next(v for v in plan["visits"] if len(v["experts"]) > 1)
    blocks = _all(browser, f'.visit.joint[data-request="{joint["request"]}"]')
    assert len(blocks) == len(joint["experts"])
    assert all(b.get_attribute("data-experts") == " ".join(joint["experts"]) for b in blocks)
    assert "合同" in blocks[0].text
    online = [v for v in plan["visits"] if v["mode"] == "online"]
    assert len(_all(browser, ".visit.online")) == sum(len(v["experts"]) for v in online) > 0
    assert "オンライン" in _css(browser, ".visit.online").text
    shot(browser, "centre-week-plan")

    # the island request was planned: its route has the ferry leg drawn on the map
    assert any(v["request"] == island_request for v in plan["visits"]), plan["unscheduled"]
    island_visit = next(v for v in plan["visits"] if v["request"] == island_request)
    _tab(browser, "map")
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#map-day")).select_by_value(island_visit["date"])
    routes_that_day = [r for r in plan["routes"] if r["date"] == island_visit["date"]]
    assert len(_all(browser, "#map g.route")) == len(routes_that_day)
    assert len(_all(browser, "#map .leg.ferry")) >= 2  # there and back
    assert "フェリー" in _css(browser, "#map .ferry-label").text
    assert len(_all(browser, "#map g.place")) == 21
    shot(browser, "centre-map-ferry")

    # unscheduled requests with the planner's reasons
    _tab(browser, "unscheduled")
    items = _all(browser, "#unscheduled-list > li[data-request]")
    assert len(items) == len(plan["unscheduled"])
    if plan["unscheduled"]:
        # the planner's reason, with experts, requests and places named, never by id
        with live.api("centre") as api:
            experts = {e["id"]: e["name"] for e in api.get("/v1/experts").json()}
        first = plan["unscheduled"][0]["reasons_ja"][0]
        for eid, name in experts.items():
            first = first.replace(eid, name)
        assert first in items[0].text
        shown = " ".join(i.text for i in items)
        assert not any(eid in shown for eid in experts), shown

    # publish: the week's published schedule equals the plan
    _tab(browser, "week")
    _css(browser, "#publish").click()
    assert "公開しますか" in _confirm(browser)
    _wait(browser, lambda d: "公開しました" in _css(d, "#message").text)
    _wait(browser, lambda d: _css(d, "#publish").get_attribute("disabled") is not None)
    with live.api("centre") as api:
        visits = api.get("/v1/visits", params={"week": DEMO_WEEK}).json()
    assert len(visits) == len(plan["visits"])
    assert _css(browser, "#changes").is_displayed() is False   # a first plan: nothing to compare

    # a new request after publishing; the re-plan says what changed, town by town, by name
    added = _kamijima_request(live)
    _css(browser, "#run-plan").click()
    _wait(browser, lambda d: _css(d, "#changes").is_displayed(), timeout=60)
    with live.api("centre") as api:
        replan = api.get(api.get("/v1/plan-jobs").json()[0]["url"]).json()["plan"]
    kinds = {c["request"]: c["kind"] for c in replan["changes"]}
    summary = _css(browser, "#changes summary").text
    assert summary.startswith(f"前回計画からの変更 {len(kinds)} 件") if kinds else "ありません" in summary
    _css(browser, "#changes summary").click()
    if kinds.get(added) == "added":
        item = _css(browser, f'#changes li[data-municipality="383562"] li[data-request="{added}"]')
        assert "新規" in item.text and "島内の情報セキュリティ研修" in item.text
        assert "上島町" in _css(browser, '#changes li[data-municipality="383562"] b').text
        assert "security-1" not in item.text and "セキュリティ担当" in item.text
    shown = {e.get_attribute("data-request"): e.get_attribute("data-kind")
             for e in _all(browser, "#changes li[data-request]")}
    assert shown == kinds
    shot(browser, "centre-replan-changes")

    # a tablet in portrait: the page fits its width (only the week grid may scroll)
    browser.set_window_size(820, 1180)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    shot(browser, "centre-week-tablet")
    browser.set_window_size(1366, 900)

    # English switch, then the print layout (A4 landscape, one page, no controls)
    _css(browser, "#lang").click()
    _wait(browser, lambda d: _css(d, '#tabs button[data-view="week"]').text == "Week")
    assert "joint" in _css(browser, ".visit.joint").text
    assert _css(browser, "html").get_attribute("lang") == "en"
    shot(browser, "centre-week-english")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not _css(browser, "#plan-bar").is_displayed()
    assert not _css(browser, "#tabs").is_displayed()
    assert _css(browser, "#week-grid").is_displayed()
    browser.set_window_size(1123, 794)  # A4 landscape at 96 dpi
    shot(browser, "centre-week-print")
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {
        "preferCSSPageSize": True, "printBackground": True})["data"])
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    (shot(browser, "centre-week-english").parent / "week-print.pdf").write_bytes(pdf)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1  # the whole week on one sheet for the meeting
    box = pdf.split(b"/MediaBox [", 1)[1].split(b"]", 1)[0].split()
    width, height = float(box[2]), float(box[3])
    assert width > height and abs(width - 842) < 3 and abs(height - 595) < 3  # A4 landscape


def test_municipality_sees_and_edits_only_its_own(browser: Any, live: Live) -> None:
    _login(browser, live, "matsuyama")
    for hidden in ("map", "experts"):
        assert not _css(browser, f'#tabs button[data-view="{hidden}"]').is_displayed()
    assert not _css(browser, "#plan-bar").is_displayed()
    _tab(browser, "requests")
    rows = _all(browser, "#requests-table tbody tr")
    assert rows and {r.get_attribute("data-municipality") for r in rows} == {"382019"}
    before = len(rows)
    assert not _css(browser, "#request-form select[name=municipality]").is_displayed()

    # a bad request: the form names the offending field by its own label, once
    _css(browser, "#request-form input[name=title]").send_keys("分野なし")
    _css(browser, "#save-request").click()
    _wait(browser, lambda d: _all(d, "#form-errors li"))
    errors = [e.text for e in _all(browser, "#form-errors li")]
    assert len(errors) == 1 and errors[0].startswith("分野: "), errors
    assert "fields" not in errors[0]
    assert len(_all(browser, "#requests-table tbody tr")) == before

    # a good one is listed at once
    _css(browser, '#field-boxes input[value="data"]').click()
    _css(browser, "#request-form input[name=priority]").clear()
    _css(browser, "#request-form input[name=priority]").send_keys("7")
    _css(browser, "#save-request").click()
    _wait(browser, lambda d: len(_all(d, "#requests-table tbody tr")) == before + 1)
    with live.api("matsuyama") as api:
        mine = api.get("/v1/requests").json()
    new = next(q for q in mine if q["title"] == "分野なし")
    assert (new["fields"], new["priority"], new["status"]) == (["data"], 7, "submitted")
    shot(browser, "municipality-requests")

    # edit it in the form
    row = _css(browser, f'#requests-table tr[data-id="{new["id"]}"]')
    # the page scrolled down to the new request's slots: back up to its row
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.find_element("css selector", "td.actions button").click()
    title = _css(browser, "#request-form input[name=title]")
    title.clear()
    title.send_keys("データ活用の相談")
    _css(browser, "#save-request").click()
    _wait(browser, lambda d: "データ活用の相談" in _css(d, "#requests-table tbody").text)

    # the page's key cannot reach another municipality's request: the same 404 as no request
    other = _kamijima_request(live)   # its own, not one another test may have left
    script = """const done = arguments[arguments.length - 1];
      const key = localStorage.getItem('dxs_key');
      Promise.all([arguments[0], 'qdoesnotexist'].map((id) => fetch('/v1/requests/' + id,
        {method: 'PATCH', headers: {'Authorization': 'Bearer ' + key,
         'Content-Type': 'application/json'}, body: JSON.stringify({priority: 1})})
        .then((r) => r.status))).then(done);"""
    assert browser.execute_async_script(script, other) == [404, 404]
    with live.api("centre") as api:
        assert api.get(f"/v1/requests/{other}").json()["priority"] != 1


def test_expert_sees_its_own_week_and_calendar_feed(browser: Any, live: Live) -> None:
    _login(browser, live, "pr")
    assert [e.text for e in _all(browser, "#week-grid .expert-head b")] == ["広報担当"]
    with live.api("pr") as api:
        own = api.get("/v1/visits", params={"week": DEMO_WEEK}).json()
    assert int(_css(browser, "#week-grid").get_attribute("data-count")) == len(own)
    assert not _css(browser, '#tabs button[data-view="requests"]').is_displayed()
    _tab(browser, "experts")
    assert [b.get_attribute("data-expert") for b in _all(browser, "#experts-list button")] == \
        ["pr-1"]
    link = _wait(browser, lambda d: _all(d, "#feed-link"))[0]
    href = link.get_attribute("href")
    assert "/v1/feeds/pr-1/" in href and href.endswith(".ics")
    feed = httpx.get(href, timeout=10)
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    with live.api("pr") as api:   # the feed holds every week's visits, not only this one's
        every_week = api.get("/v1/visits").json()
    assert feed.text.count("BEGIN:VEVENT") == len(every_week)
    shot(browser, "expert-feed")


def test_wrong_key_is_refused_and_asked_again(browser: Any, live: Live) -> None:
    browser.get(live.base + "/")
    _wait(browser, lambda d: _css(d, "#key").is_displayed())
    _css(browser, "#key").send_keys("dxs_wrong")
    _css(browser, "#login-form button[type=submit]").click()
    _wait(browser, lambda d: "無効" in _css(d, "#login-error").text)
    assert not _css(browser, "#app").is_displayed()
    assert browser.execute_script("return localStorage.getItem('dxs_key')") is None
    start = time.monotonic()
    _css(browser, "#key").send_keys(live.keys["centre"])
    _css(browser, "#login-form button[type=submit]").click()
    _wait(browser, lambda d: _css(d, "#app").is_displayed())
    assert time.monotonic() - start < 20
