"""Browser fixtures: a real ``dxshare serve`` on a free loopback port with a temporary
database and the demo week, API keys per role, and headless Chromium driven by Selenium.

The browser tests skip (with the reason) when Chromium, its driver or Selenium is missing;
``.ci/browser.sh`` installs Debian's ``chromium`` and ``chromium-driver``. Screenshots go to
``test-artifacts/web/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import DXSHARE, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
DEMO_WEEK = "2026-12-07"
KAMIJIMA = "383562"  # 上島町, the island town reached by ferry
#: The server's clock (Japan time): mid-week of 2026-12-14, so that week's Monday and Tuesday
#: visits are over (their outcomes can be recorded) and later weeks are still to come.
NOW = "2026-12-16T12:00"



def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            return f"{exe} is not installed (run .ci/browser.sh)"
    return None


@dataclass
class Live:
    """A running server: its base URL and a key per role."""

    base: str
    keys: dict[str, str] = field(default_factory=dict)

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30,
                            headers={"Authorization": f"Bearer {self.keys[who]}",
                                     "Accept-Language": "en"})


def plan_and_publish(api: httpx.Client, week: str, *, time_limit: float = 10,
                     timeout: float = 90, publish: bool = True) -> dict[str, Any]:
    """Plan ``week`` as the centre does (a plan job), wait for it, publish it (unless not
    ``publish``); the done job."""
    r = api.post("/v1/plan-jobs", json={"week": week, "time_limit": time_limit})
    assert r.status_code == 202, r.text
    url = r.json()["url"]
    deadline = time.monotonic() + timeout
    while (job := api.get(url).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"the plan of {week} took over {timeout} s"
        time.sleep(0.3)
    assert job["status"] == "done", job
    if publish:
        assert api.post(f"{url}/publish").status_code == 200
    return job


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    why = _browser_missing()
    if why:
        pytest.skip(why)
    tmp = tmp_path_factory.mktemp("web-live")
    db = tmp / "dash.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["DXSHARE_JOB_TIME_LIMIT"] = "10"
    env["DXSHARE_NOW"] = NOW

    def key(*args: str) -> str:
        out = subprocess.run([*DXSHARE, "keys", "create", "--db", str(db),
                              *args], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    keys = {"centre": key("--role", "centre"),
            "kamijima": key("--role", "municipality", "--municipality", KAMIJIMA),
            "matsuyama": key("--role", "municipality", "--municipality", "382019"),
            "pr": key("--role", "expert", "--expert", "pr-1"),
            # the expert of the real week's module (lunch, nights, overtime), so that its own
            # time stays out of pr-1's calendar, which other modules count
            "cocreation": key("--role", "expert", "--expert", "cocreation-1")}
    port = free_port()
    proc = subprocess.Popen([*DXSHARE, "serve", "--port", str(port), "--db",
                             str(db), "--demo-week", DEMO_WEEK, "--log-level", "warning"],
                            cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "server exited during start-up"
            assert time.monotonic() < deadline, "server did not start within 60 s"
            time.sleep(0.2)
        yield Live(base, keys)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture()
def browser(live: Live) -> Iterator[Any]:
    """A fresh headless Chromium (own profile, so nothing is remembered between tests)."""
    yield from _chromium()


@pytest.fixture()
def network_browser(live: Live) -> Iterator[Any]:
    """Like ``browser``, with Chrome's network and console logs readable through
    ``driver.get_log("performance")`` and ``driver.get_log("browser")``."""
    yield from _chromium(logs=True)


def _chromium(logs: bool = False) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="dxshare-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                f"--user-data-dir={profile}", "--lang=ja"):
        opts.add_argument(arg)
    if logs:
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(shutil.which("chromedriver")), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver: Any, name: str) -> Path:
    """Save a screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
