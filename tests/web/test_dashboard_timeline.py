"""The per-expert timeline (issue 24), in headless Chromium against a real ``dxshare serve``:
each expert's day on an hour axis with drives (long ones marked, the ferry crossing shown),
waiting, on-site and online blocks placed at their times, and names, never ids, in what a
person reads. The week used here (TL_WEEK) is its own: no other module plans it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import KAMIJIMA, Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TL_WEEK = "2027-02-01"
AINAN = "385069"  # 愛南町, the far south: a long drive from 松山


@pytest.fixture(scope="module")
def tl_week(live: Live) -> dict[str, Any]:
    """A published week: a 愛南町 visit (a long drive), an island visit (a ferry leg) and an
    online consultation."""
    with live.api("centre") as api:
        for muni, field, mode, title in ((AINAN, "data", "onsite", "南の統計相談"),
                                         (KAMIJIMA, "security", "onsite", "島の研修"),
                                         ("382019", "pr", "online", "広報の相談")):
            r = api.post("/v1/requests", json={
                "municipality": muni, "fields": [field], "mode": mode, "duration_min": 60,
                "priority": 10, "earliest": TL_WEEK, "latest": "2027-02-05", "title": title,
                "submit": True})
            assert r.status_code == 201, r.text
        plan_and_publish(api, TL_WEEK, time_limit=5)
        return api.get("/v1/timeline", params={"week": TL_WEEK}).json()


def _minute(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:])


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_each_day_is_drawn_on_the_hour_axis(browser: Any, live: Live, tl_week: dict[str, Any],
                                            size: tuple[int, int]) -> None:
    browser.set_window_size(*size)
    _open_week(browser, live, "centre", TL_WEEK)
    _tab(browser, "timeline")
    _wait(browser, lambda d: _css(d, "#timeline").get_attribute("data-week") == TL_WEEK)
    rows = _all(browser, "#timeline .tl-row")
    assert {(r.get_attribute("data-expert"), r.get_attribute("data-date")) for r in rows} == \
        {(d["expert"], d["date"]) for d in tl_week["days"]}
    drives = _all(browser, "#timeline .seg-drive")
    assert drives and _all(browser, "#timeline .seg-onsite") and _all(browser, "#timeline .seg-online")
    # a long drive is marked and says its minutes; the ferry crossing is drawn inside its leg
    long = _all(browser, "#timeline .seg-drive.long")
    assert long and all(re.search(r"\d+分", x.get_attribute("title")) for x in long)
    assert _all(browser, "#timeline .seg-drive .seg-ferry")
    assert any("フェリー" in x.get_attribute("title") for x in drives)
    # blocks sit where their times are: later starts lie further right, lengths in proportion
    for row in rows:
        segs = row.find_elements("css selector", ".seg")
        boxes = [(s.get_attribute("data-start"), s.get_attribute("data-end"), s.rect) for s in segs]
        boxes.sort(key=lambda b: _minute(b[0]))
        xs = [b[2]["x"] for b in boxes]
        assert xs == sorted(xs), row.get_attribute("data-date")
        per_minute = [b[2]["width"] / (_minute(b[1]) - _minute(b[0])) for b in boxes
                      if _minute(b[1]) - _minute(b[0]) >= 30]
        assert max(per_minute) - min(per_minute) < 0.2 * max(per_minute) + 0.05
    # names, never ids, in what a person reads (tooltips included)
    text = _css(browser, "#timeline").text + " ".join(
        s.get_attribute("title") for s in _all(browser, "#timeline .seg"))
    assert "松山市" in text and "上島町" in text
    assert not re.search(r"\b(r\d+|\d{6}|[a-z]+-\d+)\b", text), text
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    shot(browser, f"{'phone' if size[0] < 600 else 'desk'}-centre-timeline")


def test_an_expert_sees_only_its_own_days(browser: Any, live: Live,
                                          tl_week: dict[str, Any]) -> None:
    _open_week(browser, live, "pr", TL_WEEK)
    _tab(browser, "timeline")
    _wait(browser, lambda d: _css(d, "#timeline").get_attribute("data-week") == TL_WEEK)
    experts = {r.get_attribute("data-expert") for r in _all(browser, "#timeline .tl-row")}
    assert experts <= {"pr-1"}
    assert experts == ({"pr-1"} & {d["expert"] for d in tl_week["days"]})


def test_the_timeline_names_places_as_the_service_answers(browser: Any, live: Live,
                                                           tl_week: dict[str, Any]) -> None:
    """The page reads each place's name from the timeline's answer (``location_name_ja``,
    ``from_name_ja`` …), not only from its own map: with the map's names gone the blocks
    still say 愛南町 and 上島町, never their codes."""
    assert {s["location_name_ja"] for d in tl_week["days"] for s in d["segments"]
            if s.get("location") == AINAN} == {"愛南町"}
    _open_week(browser, live, "centre", TL_WEEK)
    _tab(browser, "timeline")
    _wait(browser, lambda d: _css(d, "#timeline").get_attribute("data-week") == TL_WEEK)
    browser.execute_script("state.munis.clear(); drawTimeline();")
    text = _css(browser, "#timeline").text + " ".join(
        s.get_attribute("title") for s in _all(browser, "#timeline .seg"))
    assert "愛南町" in text and "上島町" in text and "松山市" in text, text
    assert not re.search(r"\b\d{6}\b", text), text
