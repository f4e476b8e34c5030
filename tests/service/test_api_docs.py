"""/docs and /redoc work on a closed network: their scripts and styles come from the package."""

from __future__ import annotations

import re

import pytest

from tests.service.conftest import Service

OUTSIDE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_pages_name_no_outside_host(service: Service, page: str):
    r = service.client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert not OUTSIDE.search(html), html
    assert "cdn" not in html.lower() and "googleapis" not in html
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert assets and all(a.startswith("/static/vendor/") for a in assets)
    for a in assets:                                   # each one is served by the service
        got = service.client.get(a)
        assert got.status_code == 200 and len(got.content) > 500, a
    assert "/openapi.json" in html
