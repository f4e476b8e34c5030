"""The dashboard on a phone (issue 24): at 390×844 every view of every role fits the screen's
width (no sideways scrolling), the week is a list of days with every visit of the week, and
the request table is a list of cards whose actions can be reached. Headless Chromium against
a real ``dxshare serve``.

The week used here (PHONE_WEEK) is its own: no other module plans it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

PHONE_WEEK = "2027-03-08"
VIEWS = {"centre": ("week", "map", "timeline", "requests", "unscheduled", "experts", "matching", "outcomes",
                    "messages"),
         "matsuyama": ("week", "requests", "unscheduled", "matching", "outcomes", "messages"),
         "pr": ("week", "map", "timeline", "experts", "messages")}


@pytest.fixture(scope="module")
def phone_week(live: Live) -> dict[str, Any]:
    """A published PHONE_WEEK: 松山市's PR and data consultations and 大洲市's one."""
    with live.api("centre") as api:
        for muni, field, mode in (("382019", "pr", "onsite"), ("382019", "data", "online"),
                                  ("382078", "data", "onsite")):
            r = api.post("/v1/requests", json={
                "municipality": muni, "fields": [field], "mode": mode, "duration_min": 60,
                "priority": 7, "earliest": PHONE_WEEK, "latest": "2027-03-12",
                "title": "スマートフォンで見る相談", "submit": True})
            assert r.status_code == 201, r.text
        plan_and_publish(api, PHONE_WEEK, time_limit=5)
        return {"visits": api.get("/v1/visits", params={"week": PHONE_WEEK}).json()}


def _overflow(browser: Any) -> int:
    return int(browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"))


def _cut_off(browser: Any) -> int:
    """How far the shown tables reach beyond their scrolling boxes (a table wider than its
    box hides its last columns behind a sideways scroll)."""
    return int(browser.execute_script(
        "let worst = 0; for (const w of document.querySelectorAll('.view:not([hidden]) "
        ".table-wrap, .view:not([hidden]) #need-detail')) { if (w.offsetParent === null) "
        "continue; worst = Math.max(worst, w.scrollWidth - w.clientWidth); } return worst"))


@pytest.mark.parametrize("size", [(390, 844), (1440, 900)], ids=["phone", "desk"])
@pytest.mark.parametrize("who", list(VIEWS))
def test_every_view_fits_the_screen(browser: Any, live: Live, phone_week: dict[str, Any],
                                    who: str, size: tuple[int, int]) -> None:
    """No view needs sideways scrolling, on a phone or at a desk (where the matching view's
    理由 column used to sit beyond the right edge)."""
    browser.set_window_size(*size)
    _open_week(browser, live, who, PHONE_WEEK)
    too_wide = {}
    for view in VIEWS[who]:
        _tab(browser, view)
        time.sleep(0.6)   # the matching and outcome views load when opened
        wide = _overflow(browser) + _cut_off(browser)
        if wide > 0:
            too_wide[view] = wide
        shot(browser, f"{'phone' if size[0] < 600 else 'desk'}-{who}-{view}")
    assert not too_wide, too_wide


def test_the_week_is_a_day_list_and_requests_are_cards(browser: Any, live: Live,
                                                       phone_week: dict[str, Any]) -> None:
    browser.set_window_size(390, 844)
    _open_week(browser, live, "centre", PHONE_WEEK)
    _tab(browser, "week")
    _wait(browser, lambda d: _css(d, "#week-days").is_displayed())
    assert not _css(browser, "#week-grid").is_displayed()
    days = _all(browser, "#week-days .day")
    assert [d.get_attribute("data-date") for d in days] == \
        ["2027-03-08", "2027-03-09", "2027-03-10", "2027-03-11", "2027-03-12"]
    listed = {b.get_attribute("data-request") for b in _all(browser, "#week-days .visit")}
    assert listed == {v["request"] for v in phone_week["visits"]}
    _tab(browser, "requests")
    width = browser.execute_script("return window.innerWidth")
    rows = [r for r in _all(browser, "#requests-table tbody tr")]
    assert rows
    for button in _all(browser, "#requests-table td.actions button")[:6]:
        rect = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()",
                                      button)
        assert rect["right"] <= width, rect
    # a card says what each figure is: the column's name beside it
    cell = rows[0].find_elements("css selector", "td")[4]
    assert cell.get_attribute("data-label") == "時間"
    shot(browser, "phone-centre-request-cards")
