"""The coordinator's week, end to end, as the centre lives it (issue 13).

A Shift-JIS sheet with mistakes → every problem at once, in the sheet's own words → a corrected
sheet → a plan with an Excel workbook, calendars and charts → a re-plan that says what moved,
town by town. All in Japanese, with no traceback and no JSON path in sight.
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from openpyxl import load_workbook

from engine.checker import assert_valid
from engine.format import load_plan, load_plan_request
from service.cli import main

HEADER = "自治体,分野,形態,所要時間,優先度,希望時間帯,件名,希望開始日,非公開\n"
ROWS_WITH_MISTAKES = [
    "松山市,広報,訪問,９０,７,１３：００－１７：００,SNS統合,,\n",          # full-width: fine
    "上島,データ活用,訪問,120,9,,防災データ,12/8,○\n",                        # labels: fine
    "Kamijima-cho,デザイン,オンライン,60,5,10時～12時,窓口UX,,\n",             # romaji, 時: fine
    "東京都,広報,訪問,60,5,,,,\n",                                             # row 5: unknown town
    "伊方町,料理,訪問,60,5,,,,\n",                                             # row 6: unknown field
    "八幡浜市,セキュリティ,徒歩,60,5,,,,\n",                                   # row 7: mode
    "大洲市,広報,訪問,六十,5,,,,\n",                                          # row 8: duration
    "内子町,広報,訪問,90,5,13:00-14:00,,,\n",                                 # row 9: window < 90 min
    "西予市,広報,訪問,60,5,17:00-13:00,,,\n",                                 # row 10: window reversed
    "愛南町,広報,訪問,60,5,,,12/21,\n",                                       # row 11: not this week
]
# the corrected rows, by sheet row (the header is row 1)
FIXED = {5: "今治市,広報,訪問,60,5,,,,\n", 6: "伊方町,官民共創,訪問,60,5,,,,\n",
         7: "八幡浜市,セキュリティ,オンライン,60,5,,,,\n", 8: "大洲市,広報,訪問,60,5,,,,\n",
         9: "内子町,広報,訪問,90,5,13:00-15:00,,,\n", 10: "西予市,広報,訪問,60,5,13:00-17:00,,,\n",
         11: "愛南町,広報,訪問,60,5,,,12/10,\n"}


def _sheet(path, rows):
    path.write_bytes((HEADER + "".join(rows)).encode("cp932"))


@pytest.fixture(autouse=True)
def _japanese(monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)


def test_a_cp932_sheet_with_mistakes_lists_every_problem_in_the_sheets_words(tmp_path, capsys):
    sheet, errors = tmp_path / "依頼.csv", tmp_path / "errors.csv"
    _sheet(sheet, ROWS_WITH_MISTAKES)
    rc = main(["import", str(sheet), "--week", "2026-12-07", "--out", str(tmp_path / "w.json"),
               "--errors", str(errors)])
    err = capsys.readouterr().err
    assert rc == 2 and not (tmp_path / "w.json").exists()
    assert "Traceback" not in err and "codec" not in err
    assert not re.search(r"requests\[|window\[|duration_min|earliest", err)
    assert "7 件の問題があります" in err
    for expected in ("5 行目「自治体」: 不明な自治体 '東京都' です",
                     "6 行目「分野」: 不明な分野 '料理' です",
                     "7 行目「形態」: 訪問 か オンライン を指定してください",
                     "8 行目「所要時間」: 90、90分、1時間30分 のように分で指定してください",
                     "9 行目「希望時間帯」: 13:00-14:00 は「所要時間」（90 分）より短いです",
                     "10 行目「希望時間帯」: 終了 13:00 は開始 17:00 より後にしてください",
                     "11 行目「希望開始日」: 12/21 は対象週（12/7 – 12/11）の外です"):
        assert expected in err, expected
    with errors.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["場所", "問題"] and len(rows) == 8
    assert rows[1][0] == "5 行目「自治体」"


def test_the_corrected_sheet_reads_full_width_and_labels(tmp_path):
    sheet = tmp_path / "依頼.csv"
    _sheet(sheet, [FIXED.get(i + 2, row) for i, row in enumerate(ROWS_WITH_MISTAKES)])
    assert main(["import", str(sheet), "--week", "2026-12-07", "--out",
                 str(tmp_path / "w.json")]) == 0
    week = load_plan_request(tmp_path / "w.json")
    r1, r2, r3 = week.requests[:3]
    assert (r1.location, r1.duration_min, r1.priority, r1.window) == ("382019", 90, 7, (780, 1020))
    assert (r2.location, r2.fields, str(r2.earliest), r2.confidential) == (
        "383562", ("data",), "2026-12-08", True)
    assert (r3.location, r3.mode, r3.window) == ("383562", "online", (600, 720))


def test_from_the_sheet_to_a_replan_that_says_what_moved(tmp_path, capsys):
    sheet = tmp_path / "依頼.csv"
    rows = [FIXED.get(i + 2, row) for i, row in enumerate(ROWS_WITH_MISTAKES)]
    _sheet(sheet, rows)
    week, plan1 = tmp_path / "week.json", tmp_path / "plan.json"
    assert main(["import", str(sheet), "--week", "2026-12-07", "--out", str(week)]) == 0
    assert main(["plan", str(week), "--out", str(plan1), "--xlsx", str(tmp_path / "plan.xlsx"),
                 "--ics", str(tmp_path / "ics"), "--quiet", "--time-limit", "20"]) == 0
    out = capsys.readouterr().out
    assert "計画を書き出しました" in out and "Excel ブック" in out
    problem = load_plan_request(week)
    first = load_plan(plan1)
    assert_valid(problem, first)
    assert "changes" not in json.loads(plan1.read_text(encoding="utf-8"))

    # Next week's sheet: 松山市 can only do Thursday now, 伊方町 withdrew, 鬼北町 asks.
    doc = json.loads(week.read_text(encoding="utf-8"))
    moved = next(v for v in first.visits if v.request == "r001")
    thursday = "2026-12-10" if str(moved.date) != "2026-12-10" else "2026-12-11"
    doc["requests"][0]["earliest"] = doc["requests"][0]["latest"] = thursday
    doc["requests"] = [q for q in doc["requests"] if q["location"] != "384429"]
    doc["requests"].append({"id": "r100", "location": "鬼北町", "fields": ["広報"],
                            "mode": "onsite", "duration_min": 60, "priority": 8})
    week2, plan2 = tmp_path / "week2.json", tmp_path / "plan2.json"
    week2.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert main(["plan", str(week2), "--previous", str(plan1), "--out", str(plan2), "--quiet",
                 "--time-limit", "20"]) == 0
    out = capsys.readouterr().out
    second = load_plan(plan2)
    assert_valid(load_plan_request(week2), second)
    kinds = {c.request: c.kind for c in second.changes}
    assert kinds["r001"] == "moved"
    assert kinds.get("r100") == "added" or "r100" in {u.request for u in second.unscheduled}
    withdrawn = [c for c in second.changes if c.kind == "withdrawn"]
    assert [c.location for c in withdrawn] == ["384429"] * len(withdrawn)
    block = out[out.index("■ 前回計画からの変更"):]
    assert "  松山市\n" in block and "r001" in block and "日時変更:" in block
    assert "広報担当" in block and "pr-1" not in block
    assert f"{int(thursday[5:7])}/{int(thursday[8:])}（" in block
    if withdrawn:
        assert "  伊方町\n" in block and "依頼取り下げ" in block


def test_excel_workbook_speaks_japanese_with_names(tmp_path):
    assert main(["plan", "--demo", "--out", str(tmp_path / "p.json"), "--xlsx",
                 str(tmp_path / "p.xlsx"), "--quiet", "--time-limit", "20"]) == 0
    wb = load_workbook(tmp_path / "p.xlsx")
    assert wb.sheetnames == ["訪問・相談", "移動ルート", "未計画", "KPI"]
    visits = [[c.value for c in row] for row in wb["訪問・相談"].iter_rows()]
    assert visits[0][:6] == ["日付", "開始", "終了", "自治体", "形態", "専門家"]
    people = {row[5] for row in visits[1:]}
    assert "広報担当" in people and not any("pr-1" in p for p in people)
    places = {row[3] for row in visits[1:]}
    assert "松山市" in places and not any(p.isdigit() for p in places)
    routes = [[c.value for c in row] for row in wb["移動ルート"].iter_rows()]
    assert routes[0] == ["専門家", "日付", "出発", "帰着", "訪問先", "運転時間（分）"]
    assert " → " in routes[1][4] or len(routes) > 1
    left = [[c.value for c in row] for row in wb["未計画"].iter_rows()]
    assert left[0][0] == "自治体" and left[0][-2:] == ["理由", "依頼"]
    assert all(row[-2] for row in left[1:])
    kpis = {row[0].value: row[1].value for row in wb["KPI"].iter_rows(min_row=2)}
    assert kpis["訪問・相談件数"] == len(visits) - 1


def test_english_on_request(tmp_path, capsys):
    assert main(["--lang", "en", "plan", "--demo", "--out", str(tmp_path / "p.json"), "--xlsx",
                 str(tmp_path / "p.xlsx"), "--quiet", "--time-limit", "20"]) == 0
    assert "plan written to" in capsys.readouterr().out
    assert load_workbook(tmp_path / "p.xlsx").sheetnames == ["Visits", "Routes", "Unscheduled",
                                                             "KPIs"]
