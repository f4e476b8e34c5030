"""How long the centre waits from 'log in' to a filled week (issue 24's target: ≤ 1 s at the
95th percentile with 40 requests), in headless Chromium against a real ``dxshare serve``.
The times are written to ``test-artifacts/web/login-timing.json``.

The week used here (TIMING_WEEK) is its own: 40 requests, planned and published."""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, Live
from tests.web.test_dashboard import _css, _wait

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TIMING_WEEK = "2027-03-22"
LOGINS = 10
#: Seconds at the 95th percentile (the issue's target).
TARGET = 1.0


@pytest.fixture(scope="module")
def filled(live: Live) -> int:
    """TIMING_WEEK with 40 requests (two per municipality), planned and published."""
    with live.api("centre") as api:
        places = api.get("/v1/map").json()
        codes = sorted(m["code"] for m in places["locations"] if m["code"] != places["office"])
        fields = ["design", "security", "data", "cocreation", "pr"]
        n = 0
        while n < 40:
            code = codes[n % len(codes)]
            r = api.post("/v1/requests", json={
                "municipality": code, "fields": [fields[n % 5]],
                "mode": "onsite" if n % 3 else "online", "duration_min": 60,
                "priority": 1 + n % 10, "earliest": TIMING_WEEK, "latest": "2027-03-26",
                "title": f"相談 {n + 1}", "submit": True})
            assert r.status_code == 201, r.text
            n += 1
        url = api.post("/v1/plan-jobs", json={"week": TIMING_WEEK, "time_limit": 10}).json()["url"]
        deadline = time.monotonic() + 120
        while (job := api.get(url).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert job["status"] == "done", job
        assert api.post(f"{url}/publish").status_code == 200
        return len(job["plan"]["visits"])


def test_login_to_a_filled_week_within_a_second(browser: Any, live: Live, filled: int) -> None:
    browser.set_window_size(1440, 900)
    seconds = []
    for _ in range(LOGINS):
        browser.get(f"{live.base}/#week={TIMING_WEEK}")
        browser.execute_script("localStorage.clear()")
        browser.refresh()
        _wait(browser, lambda d: _css(d, "#key").is_displayed())
        _css(browser, "#key").send_keys(live.keys["centre"])
        t0 = time.perf_counter()
        _css(browser, "#login-form button[type=submit]").click()
        _wait(browser, lambda d: d.execute_script(
            "const g = document.querySelector('#week-grid');"
            "return g.dataset.week === arguments[0] && Number(g.dataset.count) > 0"
            " && document.querySelectorAll('#kpis .kpi').length > 0", TIMING_WEEK),
            timeout=10)
        seconds.append(time.perf_counter() - t0)
    seconds.sort()
    p95 = seconds[max(0, int(round(0.95 * len(seconds))) - 1)]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "login-timing.json").write_text(json.dumps({
        "requests": 40, "visits": filled, "logins": len(seconds),
        "median_s": round(statistics.median(seconds), 3), "p95_s": round(p95, 3),
        "max_s": round(seconds[-1], 3), "target_p95_s": TARGET}, indent=1), encoding="utf-8")
    assert p95 <= TARGET, seconds
