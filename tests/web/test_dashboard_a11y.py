"""Accessibility of the dashboard (issue 24): axe-core run on every view of every role, at a
desk's 1440×900 and a phone's 390×844, finds no serious or critical violation. Headless
Chromium against a real ``dxshare serve``; axe-core is vendored in ``tests/web/vendor``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish
from tests.web.test_dashboard import _tab
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
WEEK = "2027-03-15"   # its own week: no other module plans it
VIEWS = {"centre": ("week", "map", "timeline", "requests", "unscheduled", "experts", "matching", "outcomes",
                    "messages"),
         "matsuyama": ("week", "requests", "unscheduled", "matching", "outcomes", "messages"),
         "pr": ("week", "map", "timeline", "experts", "messages")}


@pytest.fixture(scope="module")
def filled_week(live: Live) -> None:
    """WEEK published with a joint visit, an island request left out, then a request sent
    after the plan and a slot 松山市 chose: every kind of block, list and inbox item."""
    with live.api("centre") as api:
        def add(muni: str, **body: Any) -> None:
            r = api.post("/v1/requests", json={
                "municipality": muni, "mode": "onsite", "duration_min": 60, "priority": 9,
                "earliest": WEEK, "latest": "2027-03-19", "submit": True, **body})
            assert r.status_code == 201, r.text

        add("382019", fields=["pr", "data"], title="広報とデータの合同相談")
        add("383562", fields=["design"], window=["08:30", "09:30"], title="朝の窓口改善")
        plan_and_publish(api, WEEK, time_limit=5)
        add("382078", fields=["security"], title="情報セキュリティ研修")
    with live.api("matsuyama") as api:
        q = api.post("/v1/requests", json={
            "fields": ["cocreation"], "mode": "online", "duration_min": 30, "priority": 4,
            "earliest": WEEK, "latest": "2027-03-19", "title": "協働の窓口"}).json()
        props = api.post(f"/v1/requests/{q['id']}/slot-proposals",
                         json={"top": 1}).json()["proposals"]
        assert api.post(f"/v1/requests/{q['id']}/accept-slot",
                        json=props[0]["choose"]).status_code == 201


def _axe(browser: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now."""
    if not browser.execute_script("return typeof window.axe !== 'undefined'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    found = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations"
        ".filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => ({id: v.id,"
        " impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target"
        ".join(' '))}))))")
    return list(found)


@pytest.mark.parametrize("size", [pytest.param((1440, 900), id="desk"),
                                  pytest.param((390, 844), id="phone", marks=pytest.mark.slow)])
@pytest.mark.parametrize("who", list(VIEWS))
def test_no_serious_accessibility_problem_on_any_view(browser: Any, live: Live, who: str,
                                                     size: tuple[int, int],
                                                     filled_week: None) -> None:
    browser.set_window_size(*size)
    browser.set_script_timeout(60)
    _open_week(browser, live, who, WEEK)
    problems = {}
    for view in VIEWS[who]:
        _tab(browser, view)
        time.sleep(0.6)   # the matching and outcome views load when opened
        found = _axe(browser)
        if found:
            problems[view] = found
    assert not problems, problems
