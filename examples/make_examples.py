"""Write the files the README's examples use, next to this script:

- ``requests.xlsx`` — the centre's sheet of requests for the week of 2026-12-07 as
  coordinators make it: a sheet of instructions before the sheet of requests, a merged title
  row and a note above the header, a header of two rows (希望日 over 開始日 and 終了日), units
  in brackets, a municipality merged down over its two requests, dates as date cells and as
  text, a duration computed by a formula (saved with its value, as Excel saves it), a note
  column, titles with circled digits and ㈱;
- ``week-r041.json`` — the demo week (``dxshare example``) and one request more, ``r041``,
  that a municipality phoned in after the week was planned (``dxshare slots``);
- ``next-week.json`` — the demo week as it stands a day later: ``r041`` added, ``r012``
  withdrawn, ``r007`` now only early in the week (``dxshare plan --previous``);
- ``series-week.json`` — the demo week with three second sessions (``requests[].after``):
  an online review two to three days after the published SNS visit by the same expert, the
  second security training one to two days after the first by the same two experts, and an
  online data follow-up at least two days after the first by any data expert;
- ``event.json`` — Tuesday morning, the PR expert (named as the centre names them) is ill
  until Wednesday evening (``dxshare event``).

Run ``python examples/make_examples.py`` after a change to the demo week;
``tests/test_examples.py`` checks that the files are what this script writes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: The request a municipality phones in after the week is planned.
R041: dict[str, Any] = {
    "id": "r041", "location": "383562", "fields": ["data"], "mode": "onsite",
    "duration_min": 90, "priority": 7, "earliest": "2026-12-08", "latest": "2026-12-11",
    "title": "オープンデータ公開の相談（電話受付）",
}


def demo_week() -> dict[str, Any]:
    """The week ``dxshare example`` writes."""
    from engine.demand import ehime_week_document
    from service.cli import DEMO_SEED, DEMO_WEEK

    return ehime_week_document(DEMO_WEEK, seed=DEMO_SEED)


def week_r041() -> dict[str, Any]:
    doc = demo_week()
    doc["name"] = "Ehime demo week of 2026-12-07 with r041 phoned in / r041 を追加した愛媛デモ週"
    doc["requests"].append(copy.deepcopy(R041))
    return doc


def next_week() -> dict[str, Any]:
    doc = demo_week()
    doc["name"] = ("Ehime demo week of 2026-12-07 a day later: r041 added, r012 withdrawn, "
                   "r007 early in the week / 翌日の愛媛デモ週")
    requests = [q for q in doc["requests"] if q["id"] != "r012"]
    for q in requests:
        if q["id"] == "r007":
            q["latest"] = "2026-12-08"
    requests.append(copy.deepcopy(R041))
    doc["requests"] = requests
    return doc


#: Second sessions of three of the demo week's consultations (``requests[].after``).
SERIES: list[dict[str, Any]] = [
    {"id": "s001", "location": "384011", "fields": ["pr"], "mode": "online", "duration_min": 60,
     "priority": 6, "title": "SNSアカウント統合 第2回（振り返り）",
     "after": {"request": "r001", "min_days": 2, "max_days": 3, "same_experts": True}},
    {"id": "s021", "location": "382019", "fields": ["security", "cocreation"],
     "mode": "onsite", "duration_min": 90, "priority": 6, "title": "情報セキュリティ研修 第2回",
     "after": {"request": "r021", "min_days": 1, "max_days": 2, "same_experts": True}},
    {"id": "s032", "location": "384011", "fields": ["data"], "mode": "online",
     "duration_min": 60, "priority": 5, "title": "EBPMとデータ活用 第2回",
     "after": {"request": "r032", "min_days": 2, "same_experts": False}},
]


def series_week() -> dict[str, Any]:
    doc = demo_week()
    doc["name"] = ("Ehime demo week of 2026-12-07 with three second sessions / "
                   "第2回の相談を3件含む愛媛デモ週")
    doc["requests"] += copy.deepcopy(SERIES)
    return doc


#: What happened on Tuesday morning of the demo week.
EVENT: dict[str, Any] = {
    "format": "event/1", "kind": "expert_unavailable", "now": "2026-12-08T08:00",
    "expert": "広報担当", "from": "2026-12-08T08:00", "until": "2026-12-09T17:15",
    "reason": "発熱",
}


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


#: The sheet's requests: (No, 自治体, 分野, 形態, 所要時間(分), 優先度, 開始日, 終了日, 希望時間帯,
#: 件名, 備考). ``None`` under 自治体 is the cell merged down from the row above.
SHEET_ROWS: list[tuple[Any, ...]] = [
    ("R8-101", "松山市", "広報", "訪問", 90, 8, dt.date(2026, 12, 8), dt.date(2026, 12, 10),
     "13:00-17:00", "①SNS運用研修（㈱協力）", "電話で受付"),
    ("R8-102", "上島町", "データ活用", "訪問", "1時間30分", 7, dt.date(2026, 12, 7),
     dt.date(2026, 12, 11), "", "オープンデータ公開の準備", "フェリー利用"),
    ("R8-103", None, "セキュリティ", "オンライン", 60, "", "12/9", "12/11", "", "情報セキュリティ研修",
     ""),
    ("R8-104", "宇和島市", "デザイン・広報", "訪問", "=2*60", 6, dt.date(2026, 12, 10),
     dt.date(2026, 12, 11), "", "観光サイトの改善", "数式で計算"),
    ("R8-105", "八幡浜", "官民共創", "対面", 120, 5, "", "", "", "民間企業との連携", ""),
    ("R8-106", "久万高原町", "データ", "オンライン", 45, 4, "", "", "１０：００－１２：００",
     "ＧＩＳの使い方", "全角で入力"),
]


def requests_xlsx(path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = "記入方法"
    for line in ("DX専門人材 派遣依頼一覧の記入方法",
                 "・依頼は「依頼一覧」シートに1行1件で記入してください。",
                 "・同じ自治体の依頼が続くときは、自治体のセルを結合してもかまいません。",
                 "・優先度は 1〜10（空欄は 5）。"):
        guide.append([line])
    ws = wb.create_sheet("依頼一覧")
    ws["A1"] = "令和8年度 愛媛県 DX専門人材シェアリング 派遣依頼一覧（12月7日の週）"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells("A1:K1")
    ws["A2"] = "受付: 愛媛県 DX推進センター　更新: 2026/12/03"
    ws.append([])
    ws.append(["No", "自治体", "分野", "形態", "所要時間\n（分）", "優先度", "希望日", None,
               "希望時間帯", "件名", "備考"])
    ws.append([None] * 6 + ["開始日", "終了日"] + [None] * 3)
    for col in "ABCDEFIJK":
        ws.merge_cells(f"{col}4:{col}5")
    ws.merge_cells("G4:H4")
    for row in ws["A4:K5"]:
        for cell in row:
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    first = ws.max_row + 1
    for i, row in enumerate(SHEET_ROWS):
        ws.append(list(row))
        if row[1] is None:
            ws.merge_cells(f"B{first + i - 1}:B{first + i}")
    for r in range(first, ws.max_row + 1):
        for col in "GH":
            if isinstance(ws[f"{col}{r}"].value, dt.date):
                ws[f"{col}{r}"].number_format = "yyyy/m/d"
    for col, width in zip("ABCDEFGHIJK", (8, 12, 16, 10, 10, 8, 11, 11, 14, 30, 14), strict=True):
        ws.column_dimensions[col].width = width
    wb.active = 1
    # fixed file times, so that the file is the same each time it is written
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 12, 3, 9, 0)
    wb.save(path)
    _save_formula_values(path, {"2*60": "120"})


def _save_formula_values(path: Path, values: dict[str, str]) -> None:
    """Each formula followed by its value, as Excel saves a workbook (openpyxl writes the
    formula alone, leaving its value to be computed when the file is opened)."""
    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info.filename)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename.startswith("xl/worksheets/"):
                text = data.decode("utf-8")
                for formula, value in values.items():
                    text = text.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
                data = text.encode("utf-8")
            info.date_time = (2026, 12, 3, 9, 0, 0)
            z.writestr(info, data)


def main() -> None:
    (HERE / "week-r041.json").write_text(_json(week_r041()), encoding="utf-8")
    (HERE / "next-week.json").write_text(_json(next_week()), encoding="utf-8")
    (HERE / "event.json").write_text(_json(EVENT), encoding="utf-8")
    (HERE / "series-week.json").write_text(_json(series_week()), encoding="utf-8")
    requests_xlsx(HERE / "requests.xlsx")


if __name__ == "__main__":
    main()
