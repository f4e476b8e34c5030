"""How long the centre waits from 'log in' to a filled week, in headless Chromium against a
real ``dxshare serve`` (issue 24's targets at the 95th percentile: ≤ 1 s for a week of 40
requests; ≤ 1.5 s in a season month of 400, marked slow). The times are written to
``test-artifacts/web/login-timing.json``.

The weeks used here (TIMING_WEEK, MONTH) are their own, planned and published here."""

from __future__ import annotations

import datetime as dt
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


MONTH = ("2027-04-05", "2027-04-12", "2027-04-19", "2027-04-26")


@pytest.fixture(scope="module")
def season_month(live: Live) -> int:
    """400 requests over the four weeks of MONTH (five per municipality and week); its first
    week planned and published."""
    with live.api("centre") as api:
        places = api.get("/v1/map").json()
        codes = sorted(m["code"] for m in places["locations"] if m["code"] != places["office"])
        fields = ["design", "security", "data", "cocreation", "pr"]
        n = 0
        for monday in MONTH:
            friday = (dt.date.fromisoformat(monday) + dt.timedelta(days=4)).isoformat()
            for i in range(100):
                r = api.post("/v1/requests", json={
                    "municipality": codes[i % len(codes)], "fields": [fields[i % 5]],
                    "mode": "onsite" if i % 3 else "online", "duration_min": 60,
                    "priority": 1 + i % 10, "earliest": monday, "latest": friday,
                    "title": f"相談 {n + 1}", "submit": True})
                assert r.status_code == 201, r.text
                n += 1
        url = api.post("/v1/plan-jobs", json={"week": MONTH[0], "time_limit": 10}).json()["url"]
        deadline = time.monotonic() + 180
        while (job := api.get(url).json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert job["status"] == "done", job
        assert api.post(f"{url}/publish").status_code == 200
        return len(job["plan"]["visits"])


def _logins(browser: Any, live: Live, week: str) -> list[float]:
    """Seconds from 'log in' to the week drawn with its KPIs, LOGINS times, sorted."""
    browser.set_window_size(1440, 900)
    seconds = []
    for _ in range(LOGINS):
        browser.get(f"{live.base}/#week={week}")
        browser.execute_script("localStorage.clear()")
        browser.refresh()
        _wait(browser, lambda d: _css(d, "#key").is_displayed())
        _css(browser, "#key").send_keys(live.keys["centre"])
        t0 = time.perf_counter()
        _css(browser, "#login-form button[type=submit]").click()
        _wait(browser, lambda d: d.execute_script(
            "const g = document.querySelector('#week-grid');"
            "return g.dataset.week === arguments[0] && Number(g.dataset.count) > 0"
            " && document.querySelectorAll('#kpis .kpi').length > 0", week),
            timeout=10)
        seconds.append(time.perf_counter() - t0)
    return sorted(seconds)


def _record(name: str, figures: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "login-timing.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    known[name] = figures
    path.write_text(json.dumps(known, indent=1, ensure_ascii=False), encoding="utf-8")


def _p95(seconds: list[float]) -> float:
    return seconds[max(0, int(round(0.95 * len(seconds))) - 1)]


@pytest.mark.slow
def test_login_to_a_week_of_a_season_month_within_a_second_and_a_half(
        browser: Any, live: Live, season_month: int) -> None:
    seconds = _logins(browser, live, MONTH[0])
    _record("season month, 400 requests", {
        "visits": season_month, "logins": len(seconds),
        "median_s": round(statistics.median(seconds), 3), "p95_s": round(_p95(seconds), 3),
        "target_p95_s": 1.5})
    assert _p95(seconds) <= 1.5, seconds


def test_login_to_a_filled_week_within_a_second(browser: Any, live: Live, filled: int) -> None:
    seconds = _logins(browser, live, TIMING_WEEK)
    _record("week, 40 requests", {
        "visits": filled, "logins": len(seconds),
        "median_s": round(statistics.median(seconds), 3), "p95_s": round(_p95(seconds), 3),
        "target_p95_s": TARGET})
    assert _p95(seconds) <= TARGET, seconds
