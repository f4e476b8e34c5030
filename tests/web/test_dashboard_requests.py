"""The request table at a season's volume (issue 24), in headless Chromium against a real
``dxshare serve``: each request shows when and with whom it is scheduled; the table sorts,
filters, searches and turns pages, and stays quick with 400 requests. The weeks used here
(RQ_WEEKS) are their own: no other module plans them."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from engine.model import FIELD_LABELS
from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RQ_WEEKS = ("2027-05-10", "2027-05-17", "2027-05-24", "2027-05-31")
PER_WEEK = 100
FIELDS = ["design", "security", "data", "cocreation", "pr"]


@pytest.fixture(scope="module")
def season(live: Live) -> dict[str, Any]:
    """400 requests over RQ_WEEKS (five per municipality and week), the first week planned
    and published."""
    with live.api("centre") as api:
        places = api.get("/v1/map").json()
        codes = sorted(m["code"] for m in places["locations"] if m["code"] != places["office"])
        n = 0
        for monday in RQ_WEEKS:
            friday = (dt.date.fromisoformat(monday) + dt.timedelta(days=4)).isoformat()
            for i in range(PER_WEEK):
                n += 1
                r = api.post("/v1/requests", json={
                    "municipality": codes[i % len(codes)], "fields": [FIELDS[i % 5]],
                    "mode": "onsite" if i % 3 else "online", "duration_min": 60,
                    "priority": 1 + i % 10, "earliest": monday, "latest": friday,
                    "title": f"季節の相談 {n}", "submit": True})
                assert r.status_code == 201, r.text
        plan_and_publish(api, RQ_WEEKS[0], time_limit=5)
        visits = api.get("/v1/visits", params={"week": RQ_WEEKS[0]}).json()
        names = {e["id"]: e.get("name", e["id"]) for e in api.get("/v1/experts").json()}
        return {"visits": visits, "names": names}


def _rows(browser: Any) -> list[Any]:
    return [r for r in _all(browser, "#requests-table tbody tr") if r.get_attribute("data-id")]


def _col(browser: Any, index: int) -> list[str]:
    return [r.find_elements("css selector", "td")[index].text for r in _rows(browser)]


def _redrawn(browser: Any, before: Any) -> None:
    """Wait until the table's first row is a new element (the table was drawn again)."""
    from selenium.common.exceptions import StaleElementReferenceException

    def gone(_: Any) -> bool:
        try:
            before.get_attribute("data-id")
            return False
        except StaleElementReferenceException:
            return True
    _wait(browser, gone)


def test_scheduled_date_and_experts_sort_filter_search_and_pages(
        browser: Any, live: Live, season: dict[str, Any]) -> None:
    browser.set_window_size(1440, 900)
    _open_week(browser, live, "centre", RQ_WEEKS[0])
    _tab(browser, "requests")
    assert _css(browser, "#requests-table").get_attribute("data-total") == str(PER_WEEK)
    assert len(_rows(browser)) == 50
    assert "100 件中 1–50 件" in _css(browser, "#rq-count").text
    # one label per field, the catalogue's (as in the feeds and exports), never a second wording
    catalogue = {ja for _, ja in FIELD_LABELS.values()}
    assert set(_col(browser, 2)) <= catalogue and "システム・セキュリティ" in _col(browser, 2)
    options = [o.text for o in _all(browser, "#rq-field option")][1:]
    assert options == [FIELD_LABELS[f][1] for f in FIELDS]
    boxes = [x.text for x in _all(browser, "#field-boxes label")]
    assert boxes == options
    # scheduled: the published visit's date, time and experts by name
    by_request = {v["request"]: v for v in season["visits"]}
    _css(browser, "#rq-status").send_keys("計画済")
    _wait(browser, lambda d: _css(d, "#requests-table").get_attribute("data-total")
          == str(len(by_request)))
    for row in _rows(browser):
        v = by_request[row.get_attribute("data-id")]
        cells = row.find_elements("css selector", "td")
        m, d = int(v["date"][5:7]), int(v["date"][8:])
        assert cells[7].text == f"{m}/{d} {v['start']}–{v['end']}"
        assert cells[8].text == " + ".join(season["names"][e] for e in v["experts"])
        assert "計画済" in cells[9].text
    # sort by priority, highest first (second click), then back
    first = _rows(browser)[0]
    _css(browser, 'th[data-sort="priority"] button').click()
    _redrawn(browser, first)
    first = _rows(browser)[0]
    _css(browser, 'th[data-sort="priority"] button').click()
    _redrawn(browser, first)
    prios = [int(x) for x in _col(browser, 5)]
    assert prios == sorted(prios, reverse=True) and prios[0] > prios[-1]
    assert _css(browser, 'th[data-sort="priority"]').get_attribute("aria-sort") == "descending"
    # search: words of the subject, the municipality's name or the field
    _css(browser, "#rq-status").send_keys("すべて")
    _wait(browser, lambda d: _css(d, "#requests-table").get_attribute("data-total") == str(PER_WEEK))
    _css(browser, "#rq-search").send_keys("季節の相談 77")
    _wait(browser, lambda d: _css(d, "#requests-table").get_attribute("data-total") == "1")
    assert _col(browser, 1) == ["季節の相談 77"]
    _css(browser, "#rq-search").clear()
    _css(browser, "#rq-search").send_keys("松山市 デザイン")
    _wait(browser, lambda d: len(_rows(d)) and all("松山市" in r.text and "デザイン" in r.text
                                                     for r in _rows(d)))
    # pages: the second page holds the rows after the first fifty
    _css(browser, "#rq-search").clear()
    _css(browser, "#rq-search").send_keys(" ")
    _wait(browser, lambda d: _css(d, "#requests-table").get_attribute("data-total") == str(PER_WEEK))
    page1 = {r.get_attribute("data-id") for r in _rows(browser)}
    _css(browser, "#rq-next").click()
    _wait(browser, lambda d: "51–100" in _css(d, "#rq-count").text)
    page2 = {r.get_attribute("data-id") for r in _rows(browser)}
    assert len(page2) == 50 and not page1 & page2
    assert not _css(browser, "#rq-next").is_enabled()
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    shot(browser, "desk-centre-requests-season")


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_all_weeks_stay_quick_and_fit(browser: Any, live: Live, season: dict[str, Any],
                                      size: tuple[int, int]) -> None:
    """Every week's requests (400 here and more from other modules): drawn, searched and
    paged within a quarter of a second, with no sideways scrolling."""
    browser.set_window_size(*size)
    _open_week(browser, live, "centre", RQ_WEEKS[0])
    _tab(browser, "requests")
    _css(browser, "#rq-scope").send_keys("すべての週")
    _wait(browser, lambda d: int(_css(d, "#requests-table").get_attribute("data-total") or 0)
          >= 4 * PER_WEEK)
    assert len(_rows(browser)) == 50
    ms = browser.execute_script(
        "const t0 = performance.now(); state.rq.q = '季節'; renderRequests();"
        "state.rq.sort = 'scheduled'; renderRequests(); state.rq.page = 3; renderRequests();"
        "return performance.now() - t0")
    assert ms < 250, ms
    assert int(_css(browser, "#requests-table").get_attribute("data-total")) >= 4 * PER_WEEK
    # sorted by the scheduled date: the scheduled ones first, in date order, the rest after
    keys = browser.execute_script(
        "return filteredRequests().map((r) => r.v ? r.v.date + ' ' + r.v.start : null)")
    dated = [k for k in keys if k is not None]
    assert dated and dated == sorted(dated) and keys[:len(dated)] == dated
    time.sleep(0.2)
    wide = browser.execute_script(
        "const w = document.querySelector('#view-requests .table-wrap');"
        "return document.documentElement.scrollWidth - window.innerWidth"
        " + Math.max(0, w.scrollWidth - w.clientWidth)")
    assert wide <= 0, wide
    shot(browser, f"{'phone' if size[0] < 600 else 'desk'}-centre-requests-all-weeks")
