"""Matching on the programme's own stored data: the centre uploads tables (CSV, Excel, JSON;
the same reader and messages as ``dxshare match``) and edits rows, a municipality files and
edits its own needs, ratings feed the outcome score, and recommendations, the assignment,
peers and communities follow what is stored. One app of its own (the shared one keeps the
demo data for the other tests)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.errors import InputError
from service.app import create_app
from service.auth import create_key
from service.config import Settings
from tests.service.conftest import fresh_database

MATSUYAMA, IMABARI, KAMIJIMA = "382019", "382027", "383562"

NEEDS = [
    {"id": "NA", "municipality": MATSUYAMA, "field": "data", "topics": ["ebpm"],
     "title": "EBPM研修", "mode": "remote", "start": "2027-04-01", "end": "2027-09-30",
     "effort_days": 3, "priority": 1},
    {"id": "NB", "municipality": IMABARI, "field": "data", "topics": ["ebpm"],
     "title": "統計分析", "mode": "remote", "start": "2027-04-01", "end": "2027-09-30",
     "effort_days": 3, "priority": 1, "confidential": True},
]
CANDIDATES = [
    {"id": "C1", "name": "株式会社いよデータ", "fields": ["data"], "skills": {"ebpm": 4},
     "topics": ["ebpm"], "base": MATSUYAMA, "capacity": 1},
    {"id": "C2", "name": "今治アナリティクス", "fields": ["data"], "skills": {"ebpm": 3},
     "topics": ["ebpm"], "base": IMABARI, "capacity": 1},
]


class Api:
    def __init__(self, client: TestClient, keys: dict[str, str]):
        self.client, self.keys = client, keys

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", "Accept-Language": "en"}

    def __getattr__(self, method: str) -> Any:
        def call(who: str, url: str, **kw: Any) -> Any:
            return getattr(self.client, method)(url, headers={**self.h(who),
                                                              **kw.pop("headers", {})}, **kw)
        return call

    def recs(self, who: str, need: str) -> dict[str, dict[str, Any]]:
        r = self.get(who, f"/v1/matching/needs/{need}/recommendations")
        assert r.status_code == 200, r.text
        return {c["candidate"]: c for c in r.json()["candidates"]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def match_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    """A database of this module's own on each backend (the tests replace the matching
    data, which the shared service's other tests rely on)."""
    with fresh_database(request.param, tmp_path_factory, "match") as url:
        yield url


@pytest.fixture()
def api(match_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=match_url, executor="serial", demo_matching=True))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "a": create_key(s, "municipality", municipality=MATSUYAMA)[0],
                    "b": create_key(s, "municipality", municipality=IMABARI)[0],
                    "k": create_key(s, "municipality", municipality=KAMIJIMA)[0],
                    "pr": create_key(s, "expert", expert="pr-1")[0]}
        api = Api(client, keys)
        r = api.put("centre", "/v1/matching/data", json={
            "format": "match-data/1", "needs": NEEDS, "candidates": CANDIDATES},
            params={"replace_with_empty": "true"})  # no engagements, no conflicts
        assert r.status_code == 200, r.text
        yield api


def test_demo_is_stored_on_first_start_and_replaced_by_the_centre(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=str(tmp_path / "demo.sqlite"), executor="serial",
                              demo_matching=True))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            key = create_key(s, "centre")[0]
        needs = client.get("/v1/matching/needs", headers={"Authorization": f"Bearer {key}"})
        assert len(needs.json()) == 60


def test_recommendations_run_on_the_stored_data(api: Api) -> None:
    assert set(api.recs("a", "NA")) == {"C1", "C2"}
    assert [n["id"] for n in api.get("centre", "/v1/matching/needs").json()] == ["NA", "NB"]


def _csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8")


def test_csv_upload_replaces_a_table_with_japanese_headers(api: Api) -> None:
    body = _csv([["ID", "氏名・社名", "対応分野", "スキル", "トピック", "拠点", "同時受託数"],
                 ["C7", "松山データラボ", "data", "ebpm:5", "ebpm", "松山市", "2"]])
    r = api.put("centre", "/v1/matching/tables/candidates", content=body,
                headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"table": "candidates", "rows": 1}
    assert set(api.recs("a", "NA")) == {"C7"}
    stored = api.get("centre", "/v1/matching/tables/candidates").json()
    assert stored[0]["fields"] == ["data"] and stored[0]["capacity"] == 2


def test_cp932_csv_is_read(api: Api) -> None:
    body = "ID,氏名・社名,対応分野,拠点\nC8,宇和島データ,data,宇和島市\n".encode("cp932")
    r = api.put("centre", "/v1/matching/tables/candidates", content=body,
                headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert api.get("centre", "/v1/matching/tables/candidates").json()[0]["name"] == \
        "宇和島データ"


def test_bad_upload_names_rows_as_the_command_line_does_and_changes_nothing(
        api: Api, tmp_path: Path) -> None:
    rows = [["id", "name", "fields", "base"], ["C1", "ok", "data", "松山市"],
            ["C9", "bad", "cooking", "松山市"], ["C10", "nowhere", "pr", "Atlantis"]]
    r = api.put("centre", "/v1/matching/tables/candidates", content=_csv(rows),
                headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    got = [e["message"] for e in r.json()["errors"]]
    paths = [e["path"] for e in r.json()["errors"]]
    assert "candidates.csv row 3, column 'fields'" in paths
    # the command line's reader on the same file says exactly the same
    from engine.matching import read_csv_dir

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "candidates.csv").write_bytes(_csv(rows))
    (tmp_path / "d" / "needs.csv").write_text("id,municipality,field,start,end,effort_days\n",
                                               encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_csv_dir(tmp_path / "d")
    assert [(p.path, p.message) for p in err.value.problems] == list(zip(paths, got,
                                                                         strict=True))
    assert {c["id"] for c in api.get("centre", "/v1/matching/tables/candidates").json()} \
        == {"C1", "C2"}


def test_excel_upload_reads_the_named_sheet(api: Api) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "表紙"
    book.active.append(["このシートは読みません"])
    sheet = book.create_sheet("ニーズ")
    sheet.append(["ID", "自治体", "分野", "トピック", "件名", "形態", "開始日", "終了日",
                  "工数（人日）"])
    import datetime as dt

    sheet.append(["NX", "上島町", "data", "ebpm", "島のデータ", "remote",
                  dt.datetime(2027, 4, 1), dt.datetime(2027, 6, 30), 2])
    buf = io.BytesIO()
    book.save(buf)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = api.put("centre", "/v1/matching/tables/needs", content=buf.getvalue(),
                headers={"Content-Type": xlsx})
    assert r.status_code == 200, r.text
    needs = api.get("centre", "/v1/matching/needs").json()
    assert [(n["id"], n["municipality"], n["start"]) for n in needs] == \
        [("NX", KAMIJIMA, "2027-04-01")]
    bad = api.put("centre", "/v1/matching/tables/needs", content=b"not a workbook",
                  headers={"Content-Type": xlsx})
    assert bad.status_code == 422
    assert api.put("centre", "/v1/matching/tables/needs", content=b"x",
                   headers={"Content-Type": "image/png"}).status_code == 415


def test_a_municipality_files_and_edits_its_own_needs_only(api: Api) -> None:
    new = {"field": "data", "topics": ["ebpm"], "title": "人口推計", "mode": "remote",
           "start": "2027-05-01", "end": "2027-08-31", "effort_days": 2}
    r = api.post("k", "/v1/matching/needs", json=new)
    assert r.status_code == 201, r.text
    nid = r.json()["id"]
    assert r.headers["location"] == f"/v1/matching/needs/{nid}"
    assert r.json()["municipality"] == KAMIJIMA
    assert nid in {n["id"] for n in api.get("k", "/v1/matching/needs").json()}
    assert nid not in {n["id"] for n in api.get("a", "/v1/matching/needs").json()}
    assert set(api.recs("k", nid)) == {"C1", "C2"}
    # another municipality: the same 404 as for a need that does not exist
    for method, suffix, kw in (("get", "", {}), ("patch", "", {"json": {"priority": 2}}),
                               ("delete", "", {}), ("get", "/recommendations", {})):
        real = getattr(api, method)("a", f"/v1/matching/needs/{nid}{suffix}", **kw)
        fake = getattr(api, method)("a", f"/v1/matching/needs/NOPE{suffix}", **kw)
        assert real.status_code == fake.status_code == 404, (method, suffix, real.text)
        assert real.json()["title"] == fake.json()["title"]
    # for itself only, and it cannot hand the need to another
    assert api.post("k", "/v1/matching/needs",
                    json={**new, "municipality": MATSUYAMA}).status_code == 403
    assert api.patch("k", f"/v1/matching/needs/{nid}",
                     json={"municipality": MATSUYAMA}).status_code == 403
    bad = api.patch("k", f"/v1/matching/needs/{nid}", json={"field": "cooking"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "field"
    ok = api.patch("k", f"/v1/matching/needs/{nid}", json={"title": "人口推計（改）"})
    assert ok.status_code == 200 and ok.json()["title"] == "人口推計（改）"
    assert api.delete("k", f"/v1/matching/needs/{nid}").status_code == 204
    assert api.get("k", f"/v1/matching/needs/{nid}").status_code == 404


def test_row_edits_change_the_answers_at_once(api: Api) -> None:
    before = api.recs("a", "NA")["C1"]["capacity_left"]
    r = api.patch("centre", "/v1/matching/candidates/C1", json={"capacity": 3})
    assert r.status_code == 200, r.text
    assert api.recs("a", "NA")["C1"]["capacity_left"] == before + 2
    # a conflict of interest takes C1 out of Matsuyama's recommendations
    c = api.post("centre", "/v1/matching/conflicts",
                 json={"candidate": "C1", "municipality": "松山市", "reason": "保守委託先"})
    assert c.status_code == 201, c.text
    assert c.json()["municipality"] == MATSUYAMA
    assert "C1" not in api.recs("a", "NA")
    assert api.delete("centre", f"/v1/matching/conflicts/{c.json()['id']}").status_code == 204
    assert "C1" in api.recs("a", "NA")
    # a row that breaks a reference is refused, naming it
    bad = api.post("centre", "/v1/matching/engagements",
                   json={"id": "E1", "candidate": "C404", "municipality": MATSUYAMA})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "candidate"
    assert api.patch("a", "/v1/matching/candidates/C1", json={"capacity": 9}).status_code \
        == 403


def test_ratings_feed_the_outcome_score(api: Api) -> None:
    base = api.recs("a", "NA")["C2"]["outcome"]
    e = api.post("centre", "/v1/matching/engagements",
                 json={"id": "E1", "candidate": "C2", "municipality": MATSUYAMA,
                       "status": "active"})
    assert e.status_code == 201, e.text
    assert api.get("a", "/v1/matching/engagements").json()[0]["id"] == "E1"
    assert api.get("b", "/v1/matching/engagements").json() == []
    assert api.put("b", "/v1/matching/engagements/E1/rating",
                   json={"rating": 5}).status_code == 404
    assert api.put("a", "/v1/matching/engagements/E1/rating",
                   json={"rating": True}).status_code == 422
    low = api.put("a", "/v1/matching/engagements/E1/rating", json={"rating": 1})
    assert low.status_code == 200 and low.json()["status"] == "completed"
    after_low = api.recs("a", "NA")["C2"]["outcome"]
    assert api.put("a", "/v1/matching/engagements/E1/rating",
                   json={"rating": 5}).status_code == 200
    after_high = api.recs("a", "NA")["C2"]["outcome"]
    assert after_low < base < after_high
    audit = api.get("centre", "/v1/audit", params={"action": "engagement.rating"}).json()
    assert len(audit) == 2 and audit[0]["municipality"] == MATSUYAMA


def test_assignment_peers_and_communities_on_stored_data(api: Api) -> None:
    full = api.get("centre", "/v1/matching/assignment").json()
    assert {x["need"] for x in full["assigned"]} == {"NA", "NB"}
    view = api.get("a", "/v1/matching/assignment").json()
    assert [x["need"] for x in view["assigned"]] == ["NA"] and "NB" not in str(view)
    assert api.patch("centre", "/v1/matching/candidates/C2",
                     json={"fields": ["pr"], "topics": ["sns-consolidation"],
                           "skills": None}).status_code == 200
    after = api.get("centre", "/v1/matching/assignment").json()
    assert after["version"] > full["version"] and len(after["assigned"]) == 1
    mine = api.get("k", "/v1/matching/communities").json()["communities"]
    assert len(mine) == 1 and KAMIJIMA in {m["code"] for m in mine[0]["members"]}
    every = api.get("centre", "/v1/matching/communities").json()["communities"]
    assert sum(len(c["members"]) for c in every) == 20
    assert api.get("k", "/v1/matching/peers").json()["municipality"] == KAMIJIMA


def test_tables_are_the_centres(api: Api) -> None:
    for url in ("/v1/matching/data", "/v1/matching/tables/needs", "/v1/matching/candidates",
                "/v1/matching/conflicts"):
        assert api.get("a", url).status_code == 403, url
    assert api.put("a", "/v1/matching/tables/needs", content=b"id\n",
                   headers={"Content-Type": "text/csv"}).status_code == 403
    for url in ("/v1/matching/needs", "/v1/matching/engagements",
                "/v1/matching/communities"):
        assert api.get("pr", url).status_code == 403, url
    assert api.get("centre", "/v1/matching/tables/nonsense").status_code == 422


@pytest.mark.parametrize("ident", [5, "", "x" * 65])
def test_bad_ids_are_named(api: Api, ident: Any) -> None:
    need = {"id": ident, "municipality": MATSUYAMA, "field": "data", "start": "2027-04-01",
            "end": "2027-05-01", "effort_days": 1}
    r = api.post("centre", "/v1/matching/needs", json=need)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "id"
    c = api.post("centre", "/v1/matching/candidates",
                 json={"id": ident, "name": "x", "fields": ["pr"], "base": MATSUYAMA})
    assert c.status_code == 422 and c.json()["errors"][0]["path"] == "id"


def test_uploaded_ids_longer_than_the_columns_are_refused(api: Api) -> None:
    body = _csv([["id", "name", "fields", "base"], ["C" * 65, "長いID", "data", "松山市"]])
    r = api.put("centre", "/v1/matching/tables/candidates", content=body,
                headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "candidates[0].id"
