"""The dashboard's routes without a browser: the page and its files are served from the
package, ``/v1/me`` tells the page who the key is, ``/v1/map`` gives the map's locations."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings
from service.web import STATIC_DIR, monday_of

KAMIJIMA = "383562"  # 上島町, the island town
MATSUYAMA = "382019"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    db = tmp_path_factory.mktemp("web") / "web.sqlite"
    app = create_app(Settings(db_path=str(db), executor="serial", demo_week="2026-12-07"))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "muni": create_key(s, "municipality", municipality=MATSUYAMA)[0],
                    "expert": create_key(s, "expert", expert="pr-1")[0]}
        yield client, keys


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_page_is_served_without_a_key_and_its_assets_resolve(web: Any) -> None:
    client, _ = web
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert {"/static/app.js", "/static/style.css"} <= set(assets)
    for path in assets:
        r = client.get(path)
        assert r.status_code == 200 and len(r.content) > 100, path


VENDOR = STATIC_DIR / "vendor"


def test_page_loads_nothing_from_other_hosts() -> None:
    """Offline use: no URL in the dashboard's own files points anywhere but the service."""
    own = [f for f in STATIC_DIR.rglob("*")
           if f.suffix in (".html", ".js", ".css") and VENDOR not in f.parents]
    assert {f.name for f in own} >= {"index.html", "app.js", "style.css"}
    for f in own:
        text = f.read_text(encoding="utf-8")
        urls = re.findall(r"https?://[^\s\"')]+|//[a-z0-9.-]+\.[a-z]{2,}/", text)
        # only the SVG namespace, an identifier the browser never fetches
        assert all(u.startswith("http://www.w3.org/") for u in urls), (f.name, urls)


# a stylesheet that pulls a font, image or another stylesheet from elsewhere
CSS_FETCH = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])(?:https?:)?//""", re.I)


def test_vendored_api_pages_load_nothing_from_other_hosts(web: Any) -> None:
    """The Swagger UI and ReDoc bundles (served for /docs and /redoc) are third-party code
    full of URL strings (JSON-schema ids, licence links, examples); what matters is what the
    pages load: their scripts, styles and icons come from the package, the vendored
    stylesheets fetch nothing, and the browser is told to load from the service only."""
    client, _ = web
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200, page
        csp = {d.split()[0]: d.split()[1:] for d in
               r.headers["content-security-policy"].split(";") if d.strip()}
        # every kind of fetch falls back to, or names, the service itself and nothing else
        for directive, sources in csp.items():
            if directive == "frame-ancestors":
                continue
            assert "'self'" in sources, (page, directive)
            assert not [x for x in sources if "." in x or x in ("*", "http:", "https:")], \
                (page, directive, sources)
        assert "default-src" in csp
        loaded = re.findall(r"""<(?:script|link|img)\b[^>]*?(?:src|href)\s*=\s*["']([^"']+)""",
                            r.text, re.I)
        assert loaded, page
        for ref in loaded:
            assert ref.startswith("/static/vendor/"), (page, ref)
            assert (VENDOR / ref.removeprefix("/static/vendor/")).is_file(), ref
        assert not re.search(r"(?:https?:)?//", re.sub(r"<!--.*?-->", "", r.text)), page
    assert '"validatorUrl": null' in client.get("/docs").text   # no badge from swagger.io
    sheets = list(VENDOR.rglob("*.css"))
    assert sheets
    for f in sheets:
        assert not CSS_FETCH.search(f.read_text(encoding="utf-8")), f.name


def test_static_files_do_not_escape_the_folder(web: Any) -> None:
    client, _ = web
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/%2e%2e/app.py").status_code == 404


def test_me_names_the_role_binding_and_the_demo_week(web: Any) -> None:
    client, keys = web
    centre = client.get("/v1/me", headers=_h(keys["centre"])).json()
    assert centre["role"] == "centre" and centre["municipality"] is None
    assert centre["week"] == "2026-12-07"
    muni = client.get("/v1/me", headers=_h(keys["muni"])).json()
    assert (muni["role"], muni["municipality"]) == ("municipality", MATSUYAMA)
    expert = client.get("/v1/me", headers=_h(keys["expert"])).json()
    assert (expert["role"], expert["expert"]) == ("expert", "pr-1")


def test_me_and_map_need_a_key(web: Any) -> None:
    client, _ = web
    for path in ("/v1/me", "/v1/map"):
        r = client.get(path)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert client.get(path, headers=_h("dxs_not-a-key")).status_code == 401


def test_map_marks_only_the_island_town_with_its_ferry_leg(web: Any) -> None:
    client, keys = web
    for who in ("centre", "muni", "expert"):
        r = client.get("/v1/map", headers=_h(keys[who]))
        assert r.status_code == 200
    body = r.json()
    assert body["office"] == "380008"
    locs = {m["code"]: m for m in body["locations"]}
    assert len(locs) == 21
    assert [c for c, m in locs.items() if m["island"]] == [KAMIJIMA]
    assert locs[KAMIJIMA]["ferry_minutes"] == 40
    assert locs[MATSUYAMA]["ferry_minutes"] is None
    assert all(32.5 < m["lat"] < 34.5 and 132 < m["lon"] < 134 for m in locs.values())


def test_monday_of() -> None:
    assert monday_of(dt.date(2026, 12, 7)) == dt.date(2026, 12, 7)
    assert monday_of(dt.date(2026, 12, 13)) == dt.date(2026, 12, 7)
    assert monday_of(dt.date(2026, 12, 14)) == dt.date(2026, 12, 14)


def test_static_folder_ships_in_the_package() -> None:
    assert (STATIC_DIR / "index.html").is_file()
    assert Path(STATIC_DIR).parent.name == "service"


def test_me_gives_the_catalogues_field_labels(web: Any) -> None:
    """The page names fields with the catalogue's words (one label per field everywhere)."""
    from engine.model import FIELD_LABELS, FIELDS

    client, keys = web
    for who in ("centre", "muni", "expert"):
        fields = client.get("/v1/me", headers=_h(keys[who])).json()["fields"]
        assert fields == [{"id": f, "en": FIELD_LABELS[f][0], "ja": FIELD_LABELS[f][1]}
                          for f in FIELDS]
    app_js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert '"セキュリティ"' not in app_js and "f_security" not in app_js
