"""What every body must be, and what a table upload may ask of the server: JSON nested no
deeper than the limit and without control characters in any text (checked once for all
routes), matching records held to their types, an upload that would empty a table or names
unknown columns refused, Excel and CSV uploads bounded in rows, unpacked bytes and time, and
need ids that are the server's to choose. One app of its own on SQLite, small limits."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings
from tests.service.test_matching_data import CANDIDATES, IMABARI, MATSUYAMA, NEEDS, Api

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[Api]:
    app = create_app(Settings(db_path=str(tmp_path / "bodies.sqlite"), executor="serial",
                              max_table_rows=50, rate_limit_per_key="",
                              rate_limit_per_address=""))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {"centre": create_key(s, "centre")[0],
                    "a": create_key(s, "municipality", municipality=MATSUYAMA)[0],
                    "b": create_key(s, "municipality", municipality=IMABARI)[0]}
        api = Api(client, keys)
        r = api.put("centre", "/v1/matching/data", json={
            "format": "match-data/1", "needs": NEEDS, "candidates": CANDIDATES,
            "engagements": [{"id": "E1", "candidate": "C1", "municipality": MATSUYAMA}]})
        assert r.status_code == 200, r.text
        yield api


def _needs(api: Api) -> list[str]:
    return [n["id"] for n in api.get("centre", "/v1/matching/needs").json()]


def _problem(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------ emptying a table

def test_a_header_only_csv_with_unknown_columns_is_refused_naming_them(api: Api) -> None:
    r = api.put("centre", "/v1/matching/tables/needs", content=b"foo,bar\n",
                headers={"Content-Type": "text/csv"})
    p = _problem(r)
    assert p["errors"][0]["path"] == "needs.csv header"
    assert "'foo', 'bar'" in p["errors"][0]["message"]
    assert _needs(api) == ["NA", "NB"]
    # one unknown column among known ones, with rows: named the same way
    r = api.put("centre", "/v1/matching/tables/needs", headers={"Content-Type": "text/csv"},
                content=b"id,municipality,field,start,end,effort_days,colour\n"
                        b"NZ,382019,data,2027-04-01,2027-05-01,1,red\n")
    assert "'colour'" in _problem(r)["errors"][0]["message"]


def test_an_upload_that_would_empty_a_table_needs_replace_with_empty(api: Api) -> None:
    header = b"id,municipality,field,start,end,effort_days\n"
    r = api.put("centre", "/v1/matching/tables/needs", content=header,
                headers={"Content-Type": "text/csv"})
    p = _problem(r)
    assert p["errors"][0]["path"] == "needs.csv"
    assert "would delete all 2 stored needs" in p["detail"]
    assert "replace_with_empty=true" in p["detail"]
    assert _needs(api) == ["NA", "NB"]
    ja = api.put("centre", "/v1/matching/tables/needs", content=header,
                 headers={"Content-Type": "text/csv", "Accept-Language": "ja"})
    assert "削除" in _problem(ja)["detail"]
    # JSON [] the same way
    assert _problem(api.put("centre", "/v1/matching/tables/engagements", json=[]))
    assert len(api.get("centre", "/v1/matching/engagements").json()) == 1
    # asked for explicitly: emptied
    ok = api.put("centre", "/v1/matching/tables/engagements", json=[],
                 params={"replace_with_empty": "true"})
    assert ok.status_code == 200 and ok.json()["rows"] == 0
    assert api.get("centre", "/v1/matching/engagements").json() == []
    # an empty table may stay empty without asking
    assert api.put("centre", "/v1/matching/tables/engagements", json=[]).status_code == 200
    # the whole document: a table left out counts as emptied
    whole = api.put("centre", "/v1/matching/data",
                    json={"format": "match-data/1", "candidates": CANDIDATES})
    assert _problem(whole)["errors"][0]["path"] == "needs"
    assert _needs(api) == ["NA", "NB"]


# ------------------------------------------------------------------ bounded uploads

def _workbook(rows: int) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "needs"
    sheet.append(["id", "municipality", "field", "start", "end", "effort_days"])
    for i in range(rows):
        sheet.append([f"X{i}", MATSUYAMA, "data", "2027-04-01", "2027-05-01", 1])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_excel_uploads_are_bounded_in_rows_and_refused_early(api: Api) -> None:
    ok = api.put("centre", "/v1/matching/tables/needs", content=_workbook(50),
                 headers={"Content-Type": XLSX})
    assert ok.status_code == 200 and ok.json()["rows"] == 50, ok.text
    big = api.put("centre", "/v1/matching/tables/needs", content=_workbook(51),
                  headers={"Content-Type": XLSX})
    p = _problem(big)
    assert p["errors"][0]["path"] == "needs.xlsx" and "more than 50 rows" in p["detail"]
    assert "DXSHARE_MAX_TABLE_ROWS" in p["detail"]
    assert len(_needs(api)) == 50
    csv_rows = b"id,municipality,field,start,end,effort_days\n" + b"".join(
        b"Y%d,382019,data,2027-04-01,2027-05-01,1\n" % i for i in range(51))
    assert "more than 50 rows" in _problem(api.put(
        "centre", "/v1/matching/tables/needs", content=csv_rows,
        headers={"Content-Type": "text/csv"}))["detail"]
    assert "more than 50 rows" in _problem(api.put(
        "centre", "/v1/matching/tables/needs",
        json=[{"id": f"J{i}"} for i in range(51)]))["detail"]


def test_excel_uploads_are_bounded_in_unpacked_bytes_and_time(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=str(tmp_path / "x.sqlite"), executor="serial",
                              max_xlsx_unpacked_bytes=4000))
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            h = {"Authorization": f"Bearer {create_key(s, 'centre')[0]}",
                 "Content-Type": XLSX, "Accept-Language": "en"}
        r = client.put("/v1/matching/tables/needs", content=_workbook(300), headers=h)
        p = _problem(r, 413)
        assert "DXSHARE_MAX_XLSX_UNPACKED_BYTES" in p["detail"]
        app.state.settings.max_xlsx_unpacked_bytes = 10_000_000
        app.state.settings.max_upload_seconds = 0.0  # every read takes longer than that
        slow = _problem(client.put("/v1/matching/tables/needs", content=_workbook(3),
                                   headers=h))
        assert "DXSHARE_MAX_UPLOAD_SECONDS" in slow["detail"]
        app.state.settings.max_upload_seconds = 10.0
        ok = client.put("/v1/matching/tables/needs", content=_workbook(3), headers=h)
        assert ok.status_code == 200, ok.text


# ------------------------------------------------------------------ every JSON body

@pytest.mark.parametrize("method,url", [
    ("put", "/v1/matching/tables/needs"), ("put", "/v1/matching/data"),
    ("post", "/v1/matching/needs"), ("patch", "/v1/matching/needs/NA"),
    ("post", "/v1/requests"), ("post", "/v1/plan-jobs"), ("post", "/v1/blackouts")])
def test_deeply_nested_json_is_a_named_422_on_every_route(api: Api, method: str,
                                                          url: str) -> None:
    r = getattr(api, method)("centre", url, content=DEEP,
                             headers={"Content-Type": "application/json"})
    p = _problem(r)
    assert p["errors"] == [{"path": "body",
                            "message": "JSON nested deeper than 32 levels (the limit)"}]
    # no content type at all is read as JSON too
    bare = getattr(api, method)("centre", url, content=DEEP)
    assert bare.status_code == 422 and bare.json()["errors"][0]["path"] == "body"
    ja = getattr(api, method)("centre", url, content=DEEP,
                              headers={"Content-Type": "application/json",
                                       "Accept-Language": "ja"})
    assert "32" in _problem(ja)["detail"] and "JSON" in ja.json()["detail"]


def test_nesting_within_the_limit_reaches_the_route(api: Api) -> None:
    ok = b"[" * 30 + b"]" * 30
    r = api.put("centre", "/v1/matching/tables/needs", content=ok,
                headers={"Content-Type": "application/json"})
    assert _problem(r)["errors"][0]["path"] != "body"  # the route's own check of the rows
    brackets_in_text = [{**NEEDS[0], "title": "[" * 100}, NEEDS[1]]
    assert api.put("centre", "/v1/matching/tables/needs",
                   json=brackets_in_text).status_code == 200


def test_control_characters_are_refused_in_every_body(api: Api) -> None:
    need = {"field": "data", "start": "2027-05-01", "end": "2027-08-31", "effort_days": 2}
    r = api.post("a", "/v1/matching/needs", json={**need, "title": "人口\x00推計"})
    assert _problem(r)["errors"] == [{"path": "title",
                                      "message": "must not contain control characters"}]
    r = api.post("a", "/v1/requests", json={
        "fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
        "earliest": "2026-12-07", "latest": "2026-12-11", "title": "a\x1bb"})
    assert _problem(r)["errors"][0]["path"] == "title"
    r = api.put("centre", "/v1/matching/tables/candidates",
                json=[{**CANDIDATES[0], "name": "x\x7f"}, CANDIDATES[1]])
    assert _problem(r)["errors"][0]["path"] == "[0].name"
    r = api.patch("centre", "/v1/matching/candidates/C1", json={"topics": ["ok", "b\rad"]})
    assert _problem(r)["errors"][0]["path"] == "topics[1]"
    ja = api.post("a", "/v1/matching/needs", json={**need, "title": "\x00"},
                  headers={"Accept-Language": "ja"})
    assert _problem(ja)["errors"][0]["message"] == "制御文字を含めることはできません"
    csv = b"id,name,fields,base\nC9,bad\x00name,data,382019\n"
    r = api.put("centre", "/v1/matching/tables/candidates", content=csv,
                headers={"Content-Type": "text/csv"})
    assert _problem(r)["errors"][0]["path"] == "candidates.csv line 2"
    # tabs and line feeds are text
    fine = api.post("a", "/v1/matching/needs", json={**need, "title": "人口\t推計\n第2期"})
    assert fine.status_code == 201, fine.text
    crlf = b"id,name,fields,base\r\nC1,x,data,382019\r\nC2,y,data,382027\r\n"
    assert api.put("centre", "/v1/matching/tables/candidates", content=crlf,
                   headers={"Content-Type": "text/csv"}).status_code == 200


# ------------------------------------------------------------------ strict records

def test_matching_records_are_held_to_their_types(api: Api) -> None:
    need = {"field": "data", "start": "2027-05-01", "end": "2027-08-31", "effort_days": 2}
    for bad, path in (({"priority": "1"}, "priority"), ({"effort_days": "2"}, "effort_days"),
                      ({"confidential": 1}, "confidential"), ({"priority": True}, "priority"),
                      ({"priority": 1.5}, "priority"), ({"title": 5}, "title"),
                      ({"topics": [1]}, "topics")):
        r = api.post("a", "/v1/matching/needs", json={**need, **bad})
        assert _problem(r)["errors"][0]["path"] == path, bad
    assert _problem(api.patch("a", "/v1/matching/needs/NA",
                              json={"priority": "2"}))["errors"][0]["path"] == "priority"
    assert _problem(api.patch("centre", "/v1/matching/candidates/C1",
                              json={"capacity": "3"}))["errors"][0]["path"] == "capacity"
    up = api.put("centre", "/v1/matching/tables/needs",
                 json=[NEEDS[0], {**NEEDS[1], "priority": "1"}])
    assert _problem(up)["errors"][0]["path"] == "needs[1].priority"
    whole = api.put("centre", "/v1/matching/data", json={
        "format": "match-data/1", "needs": NEEDS,
        "candidates": [{**CANDIDATES[0], "remote": "yes"}, CANDIDATES[1]],
        "engagements": [{"id": "E1", "candidate": "C1", "municipality": MATSUYAMA}]})
    assert _problem(whole)["errors"][0]["path"] == "candidates[0].remote"
    ok = api.post("a", "/v1/matching/needs", json={**need, "priority": 2, "effort_days": 1.5,
                                                    "confidential": True, "topics": ["ebpm"]})
    assert ok.status_code == 201, ok.text
    # CSV cells are text by nature and keep being read as before
    csv = b"id,name,fields,base,capacity,remote\nC1,x,data,382019,2,yes\nC2,y,data,382027,1,no\n"
    assert api.put("centre", "/v1/matching/tables/candidates", content=csv,
                   headers={"Content-Type": "text/csv"}).status_code == 200


# ------------------------------------------------------------------ ids

def test_need_ids_are_the_servers_to_choose(api: Api) -> None:
    """A municipality cannot probe for another's need ids: any id it sends is refused the
    same way, whether a need has it or not."""
    need = {"field": "data", "start": "2027-05-01", "end": "2027-08-31", "effort_days": 2}
    theirs = api.post("a", "/v1/matching/needs", json={**need, "id": "NB"})  # Imabari's
    nobody = api.post("a", "/v1/matching/needs", json={**need, "id": "NOPE"})
    assert theirs.status_code == nobody.status_code == 422
    assert theirs.json()["errors"] == nobody.json()["errors"] == [
        {"path": "id", "message": "is chosen by the server; leave it out"}]
    made = api.post("a", "/v1/matching/needs", json=need)
    assert made.status_code == 201 and made.json()["id"].startswith("N-")
    # the centre sees every need and may name the id of a new one
    centre = api.post("centre", "/v1/matching/needs",
                      json={**need, "id": "N-centre", "municipality": MATSUYAMA})
    assert centre.status_code == 201, centre.text
    assert api.post("centre", "/v1/matching/needs",
                    json={**need, "id": "NB", "municipality": MATSUYAMA}).status_code == 409
