"""/docs and /redoc in headless Chromium: both pages draw the API from the vendored bundles,
and the browser sends no request to any host but the service (the bundles' own URL strings,
such as Swagger UI's validator badge and ReDoc's logo, stay unfetched)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.web.conftest import Live, shot
from tests.web.test_dashboard import _css, _wait

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _requests(driver: Any) -> dict[str, str | None]:
    """The http(s) URLs the browser asked for since the last call (from Chrome's network
    log), each with the reason the browser itself refused to send it (``"csp"``), if so."""
    urls: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif msg["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    return {u: blocked.get(rid) for rid, u in urls.items()
            if urlsplit(u).scheme in ("http", "https")}


@pytest.mark.parametrize(("page", "drawn"), [
    ("/docs", ".swagger-ui .info .title"),
    ("/redoc", "h1"),
])
def test_api_page_draws_from_the_service_only(network_browser: Any, live: Live, page: str,
                                             drawn: str) -> None:
    browser = network_browser
    _requests(browser)
    browser.get(live.base + page)
    title = _wait(browser, lambda d: _css(d, drawn) if _css(d, drawn).text.strip() else None,
                  timeout=30)
    assert "dxshare" in title.text
    if page == "/redoc":   # the operations are listed, not just the heading
        _wait(browser, lambda d: len(d.find_elements("css selector", "[data-section-id]")) > 5)
    asked = _requests(browser)
    own = urlsplit(live.base).netloc
    assert any(urlsplit(u).path.startswith("/static/vendor/") for u in asked), asked
    # what the bundles ask of other hosts, the page's policy keeps inside the browser
    elsewhere = {u: why for u, why in asked.items() if urlsplit(u).netloc != own}
    assert all(why == "csp" for why in elsewhere.values()), elsewhere
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"
              and "Content Security Policy" not in e["message"]]
    assert not errors, errors
    shot(browser, f"api-page-{page.strip('/')}")
