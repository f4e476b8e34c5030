"""The centre adds and removes an expert's standing appointments on the experts page, in
headless Chromium against a real ``dxshare serve``: what the page shows is the date with its
weekday, the hours and the place by name; a refused time is named under its own label.

The appointments are セキュリティ担当's (security-1), dated in a week no other module plans,
and removed afterwards, so no other module's counts change."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import DEMO_WEEK, Live, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_real_week import MACHINE, UWAJIMA, _press
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WHO = "security-1"


def _fill(browser: Any, day: str, start: str, end: str) -> None:
    browser.execute_script(
        "const f = document.querySelector('#busy-form');"
        "f.busy_date.value = arguments[0]; f.busy_start.value = arguments[1];"
        "f.busy_end.value = arguments[2];", day, start, end)


def _items(browser: Any) -> list[str]:
    return [li.find_element("css selector", "span").text
            for li in _all(browser, "#expert-busy .busy-item")]


def test_the_centre_adds_and_removes_an_experts_appointments(browser: Any, live: Live) -> None:
    from selenium.webdriver.support.ui import Select

    _open_week(browser, live, "centre", DEMO_WEEK)
    _tab(browser, "experts")
    _press(browser, _css(browser, f'#experts-list button[data-expert="{WHO}"]'))
    _wait(browser, lambda d: _css(d, f'#expert-busy[data-expert="{WHO}"]'))
    try:
        assert _css(browser, "#expert-busy .empty").text == "予定はありません"
        _fill(browser, "2027-09-08", "14:00", "13:00")          # ends before it starts
        Select(_css(browser, "#busy-form select[name=busy_at]")).select_by_visible_text("宇和島市")
        _press(browser, _css(browser, "#add-busy"))
        err = _wait(browser, lambda d: _css(d, '#busy-errors li[data-path="busy[0].end"]'))
        assert err.text == "終了: 開始（14:00）より後である必要があります"
        with live.api("centre") as api:
            assert "busy" not in api.get(f"/v1/experts/{WHO}").json()
        _fill(browser, "2027-09-08", "14:00", "15:00")
        _press(browser, _css(browser, "#add-busy"))
        _wait(browser, lambda d: len(_items(d)) == 1)
        assert _items(browser) == ["2027年9月8日(水) 14:00–15:00 宇和島市"]
        _fill(browser, "2027-09-07", "09:00", "09:30")          # no place: a call
        _press(browser, _css(browser, "#add-busy"))
        _wait(browser, lambda d: len(_items(d)) == 2)
        shown = _items(browser)
        assert shown == ["2027年9月7日(火) 09:00–09:30", "2027年9月8日(水) 14:00–15:00 宇和島市"]
        assert not any(MACHINE.search(text) for text in shown), shown
        shot(browser, "expert-busy")
        with live.api("centre") as api:
            got = api.get(f"/v1/experts/{WHO}").json()["busy"]
        assert sorted(got, key=lambda b: b["date"]) == [
            {"date": "2027-09-07", "start": "09:00", "end": "09:30"},
            {"date": "2027-09-08", "start": "14:00", "end": "15:00", "at": UWAJIMA,
             "at_name_ja": "宇和島市", "at_name_en": "Uwajima"}]
        remove = _all(browser, "#expert-busy .busy-remove")[0]
        assert re.fullmatch(r"削除 2027年9月7日\(火\) 09:00", remove.get_attribute("aria-label"))
        _press(browser, remove)
        _wait(browser, lambda d: len(_items(d)) == 1)
        assert _items(browser) == ["2027年9月8日(水) 14:00–15:00 宇和島市"]
        with live.api("centre") as api:
            assert [b["date"] for b in api.get(f"/v1/experts/{WHO}").json()["busy"]] == [
                "2027-09-08"]
    finally:
        with live.api("centre") as api:
            api.patch(f"/v1/experts/{WHO}", json={"busy": None})
