"""The offline map (issue 24): Ehime's real coastline and islands from the bundled GeoJSON
(OpenStreetMap land polygons, rebuilt by ``tools/build_ehime_map.py``), pan and zoom, labels
that never overlap, routes drawn in visiting order with the ferry crossing marked, and the
route list with times and driving minutes. Headless Chromium against a real ``dxshare
serve``; the week used here (MAP_WEEK) is its own."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from service.web import STATIC_DIR
from tests.web.conftest import KAMIJIMA, Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _css, _tab, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MAP_WEEK = "2027-02-15"
IKATA = "384429"  # 伊方町, at the root of 佐田岬半島
GEOJSON = STATIC_DIR / "ehime.geojson"


def _inside(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Ray casting: is the point inside the ring?"""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=False):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _part(doc: dict[str, Any], name: str) -> list[list[list[float]]]:
    return [poly[0] for f in doc["features"] if f["properties"]["part"] == name
            for poly in f["geometry"]["coordinates"]]


def test_the_bundled_coastline_is_ehimes_and_small() -> None:
    assert GEOJSON.stat().st_size < 150_000
    doc = json.loads(GEOJSON.read_text(encoding="utf-8"))
    assert "OpenStreetMap" in doc["source"]
    ehime, islands = _part(doc, "ehime"), _part(doc, "islands")
    # 佐田岬半島 reaches its cape (132.02°E), the westernmost point of Shikoku
    assert min(p[0] for ring in ehime for p in ring) < 132.05
    # halls on the mainland lie on it: 松山市, 伊方町 (on the peninsula), 愛南町 (on 宇和海)
    for lon, lat in ((132.7658, 33.8392), (132.3542, 33.4883), (132.5833, 32.9622)):
        assert any(_inside(lon, lat, ring) for ring in ehime), (lon, lat)
    # 上島町's hall stands on 弓削島, one of the 芸予諸島
    assert any(_inside(133.2044, 34.2575, ring) for ring in islands)
    # 宇和海's islands (日振島, 戸島, 嘉島, …) west of 宇和島
    assert sum(1 for ring in islands if all(132.2 < p[0] < 132.55 and 33.0 < p[1] < 33.3
                                            for p in ring)) >= 5
    # a real coast, not a hull: the mainland's outline has hundreds of points
    assert sum(len(r) for r in ehime) > 500


@pytest.fixture(scope="module")
def map_week(live: Live) -> dict[str, Any]:
    """A published week with an island visit (ferry), a 伊方町 one and a 松山市 one."""
    with live.api("centre") as api:
        for muni, field in ((KAMIJIMA, "security"), (IKATA, "data"), ("382019", "pr"),
                            ("382108", "security")):
            r = api.post("/v1/requests", json={
                "municipality": muni, "fields": [field], "mode": "onsite", "duration_min": 60,
                "priority": 10, "earliest": MAP_WEEK, "latest": "2027-02-19",
                "title": "地図の相談", "submit": True})
            assert r.status_code == 201, r.text
        job = plan_and_publish(api, MAP_WEEK, time_limit=5)
        return job["plan"]


def _boxes(browser: Any, selector: str) -> list[dict[str, float]]:
    return list(browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map((e) => e.getBoundingClientRect().toJSON())", selector))


def _overlaps(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes[:i])
            if a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
            and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5]


def _view(browser: Any) -> list[float]:
    return [float(x) for x in browser.execute_script(
        "return document.querySelector('#map').getAttribute('viewBox')").split()]


def _open_map(browser: Any, live: Live, who: str, plan: dict[str, Any]) -> dict[str, Any]:
    from selenium.webdriver.support.ui import Select

    _open_week(browser, live, who, MAP_WEEK)
    _tab(browser, "map")
    island = next(v for v in plan["visits"] if v["location"] == KAMIJIMA)
    Select(_css(browser, "#map-day")).select_by_value(island["date"])
    _wait(browser, lambda d: len(_all(d, "#map path.land")) == 3
          and int(_css(d, "#map").get_attribute("data-labels") or 0) > 0
          and re.search(r"\d\d:\d\d", _css(d, "#route-list").text))
    return island


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desk", "phone"])
def test_coast_labels_routes_and_ferry(browser: Any, live: Live, map_week: dict[str, Any],
                                       size: tuple[int, int]) -> None:
    browser.set_window_size(*size)
    island = _open_map(browser, live, "centre", map_week)
    # labels never overlap each other, nor the places' dots
    labels = _boxes(browser, "#map text.map-label")
    assert labels and not _overlaps(labels)
    # each inside the map's box, none under the zoom buttons
    frame = _boxes(browser, "#map")[0]
    assert all(b["left"] >= frame["left"] - 0.5 and b["right"] <= frame["right"] + 0.5
               and b["top"] >= frame["top"] - 0.5 and b["bottom"] <= frame["bottom"] + 0.5
               for b in labels)
    tools = _boxes(browser, ".map-tools")[0]
    assert all(not _overlaps([b, tools]) for b in labels)
    dots = _boxes(browser, "#map .place .dot")
    assert not [(i, j) for i, a in enumerate(labels) for j, b in enumerate(dots)
                if _overlaps([a, b])]
    if size[0] > 600:   # at a desk every town's name fits at the first zoom
        assert len(labels) >= 21
    # the ferry crossing: dashed legs, named with its minutes
    assert len(_all(browser, "#map .leg.ferry")) >= 2
    assert "フェリー 40分" in [e.text for e in _all(browser, "#map text.ferry-label")]
    # routes in visiting order: stop n sits on the route's n-th stop
    routes = [r for r in map_week["routes"] if r["date"] == island["date"]]
    for r in routes:
        g = _css(browser, f'#map g.route[data-expert="{r["expert"]}"]')
        for n, code in enumerate(r["stops"], start=1):
            stop = g.find_element("css selector", f'circle.stop-no[data-stop="{n}"]')
            dot = _css(browser, f'#map g.place[data-code="{code}"] .dot')
            a, b = stop.rect, dot.rect
            assert abs(a["y"] + a["height"] / 2 - b["y"] - b["height"] / 2) < 3, (r, n)
    # the list says when: leave, each stop's time, driving minutes, back
    items = _all(browser, "#route-list li")
    assert len(items) == len(routes)
    text = _css(browser, "#route-list").text
    assert "上島町" in text and "フェリー 40分" in text and re.search(r"運転 \d+分", text)
    assert not re.search(r"\b(r\d+|\d{6}|[a-z]+-\d+)\b", text + " ".join(
        e.text for e in _all(browser, "#map text")))
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")
    shot(browser, f"{'phone' if size[0] < 600 else 'desk'}-centre-map")


def test_zoom_and_pan_keep_labels_apart(browser: Any, live: Live,
                                        map_week: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    browser.set_window_size(1440, 900)
    _open_map(browser, live, "centre", map_week)
    home = _view(browser)
    _css(browser, "#map-in").click()
    _css(browser, "#map-in").click()
    zoomed = _view(browser)
    assert zoomed[2] < home[2] / 2
    assert not _overlaps(_boxes(browser, "#map text.map-label"))
    # dragging moves the view the other way
    ActionChains(browser).move_to_element(_css(browser, "#map")).click_and_hold() \
        .move_by_offset(120, 0).release().perform()
    panned = _view(browser)
    assert panned[0] < zoomed[0] and panned[2] == pytest.approx(zoomed[2])
    # the wheel zooms around the pointer; 全体 goes back
    browser.execute_script(
        "const m = document.querySelector('#map'); const r = m.getBoundingClientRect();"
        "m.dispatchEvent(new WheelEvent('wheel', {deltaY: 100, clientX: r.left + 10,"
        " clientY: r.top + 10, bubbles: true, cancelable: true}))")
    wheeled = _view(browser)
    assert wheeled[2] > panned[2]
    _css(browser, "#map-home").click()
    assert _view(browser) == \
        pytest.approx(home)
    assert not _overlaps(_boxes(browser, "#map text.map-label"))
    shot(browser, "desk-centre-map-home")
