"""Turn the centre's spreadsheet of requests (one row per request) into a ``plan-request/1``
on the bundled Ehime data.

Columns (English or Japanese headers, any order; only the first four are required):

=================  ==========================  ==================================================
column             Japanese header             value
=================  ==========================  ==================================================
municipality       自治体 / 市町 / 市町名        code (382019), name (松山市, 松山) or romaji
fields             分野                         one or more of design, security, data, cocreation,
                                                pr or their Japanese labels (デザイン, セキュリティ,
                                                データ, 官民共創, 広報), separated by ・ , / or spaces
mode               形態 / 方法                   onsite / online, or 訪問 / オンライン
duration_min       所要時間 / 時間（分）          minutes, > 0
priority           優先度                        1–10 (default 5)
id                 ID / 番号                     request id (default r001, r002, … by row)
earliest           開始日 / 希望開始日            YYYY-MM-DD (default: Monday of the week)
latest             終了日 / 希望終了日            YYYY-MM-DD (default: Friday of the week)
window             希望時間帯                     HH:MM-HH:MM, e.g. 13:00-17:00
title              件名 / 内容 / 相談内容          free text
confidential       非公開 / 機密                  yes/no, true/false, 1/0, ○
=================  ==========================  ==================================================

Every bad cell is reported as ``row N, column 'X': …`` (row numbers as the spreadsheet shows
them, the header being row 1), all at once.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from engine.ehime import ehime_experts, ehime_locations, resolve_municipality
from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import FIELD_LABELS, FIELDS, Horizon, PlanRequest

__all__ = ["COLUMNS", "import_requests", "read_table"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ID", "番号", "依頼番号"),
    "municipality": ("municipality", "自治体", "市町", "市町名", "自治体名"),
    "fields": ("fields", "field", "分野"),
    "mode": ("mode", "形態", "方法", "実施方法"),
    "duration_min": ("duration_min", "duration", "所要時間", "時間（分）", "時間(分)"),
    "priority": ("priority", "優先度"),
    "earliest": ("earliest", "開始日", "希望開始日"),
    "latest": ("latest", "終了日", "希望終了日"),
    "window": ("window", "希望時間帯", "時間帯"),
    "title": ("title", "件名", "内容", "相談内容"),
    "confidential": ("confidential", "非公開", "機密"),
}
_REQUIRED = ("municipality", "fields", "mode", "duration_min")
_FIELD_ALIASES = {f: f for f in FIELDS} | {
    "デザイン": "design", "デザイン思考": "design", "ui/ux": "design", "ux": "design",
    "セキュリティ": "security", "システム": "security", "データ": "data", "データ利活用": "data",
    "官民共創": "cocreation", "共創": "cocreation", "広報": "pr", "マーケティング": "pr",
} | {ja: f for f, (_, ja) in FIELD_LABELS.items()}
_MODES = {"onsite": "onsite", "訪問": "onsite", "現地": "onsite", "on-site": "onsite",
          "online": "online", "オンライン": "online", "web": "online"}
_TRUE = {"yes", "true", "1", "○", "はい", "y", "x"}
_FALSE = {"no", "false", "0", "", "いいえ", "n", "-", "nan"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read ``.xlsx``/``.xls`` (first sheet) or ``.csv`` (UTF-8, with or without BOM) as text."""
    p = Path(path)
    if not p.exists():
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません"))
    try:
        if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(p, dtype=str).fillna("")
        if p.suffix.lower() == ".csv":
            return pd.read_csv(p, dtype=str, encoding="utf-8-sig").fillna("")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputError(Problem(str(p), f"cannot read the table: {exc}",
                                 f"表を読み込めません: {exc}")) from None
    raise InputError(Problem(str(p), "must be a .xlsx or .csv file",
                             ".xlsx か .csv ファイルを指定してください"))


def _columns(df: pd.DataFrame) -> tuple[dict[str, str], list[Problem]]:
    found: dict[str, str] = {}
    problems = []
    for col in df.columns:
        name = str(col).strip()
        key = next((k for k, names in COLUMNS.items()
                    if name in names or name.lower() in names), None)
        if key is None:
            problems.append(Problem(f"column '{name}'", "unknown column (known: "
                                    + ", ".join(COLUMNS) + ")", "不明な列です"))
        elif key in found:
            problems.append(Problem(f"column '{name}'", f"duplicates column '{found[key]}'",
                                    f"列 '{found[key]}' と重複しています"))
        else:
            found[key] = str(col)
    for key in _REQUIRED:
        if key not in found:
            problems.append(Problem(f"column '{key}'", "required column missing (Japanese: "
                                    + " / ".join(COLUMNS[key][1:]) + ")", "必須の列がありません"))
    return found, problems


def import_requests(table: pd.DataFrame | str | Path, week: str | dt.date) -> PlanRequest:
    """Build the week's ``PlanRequest`` (bundled municipalities and experts) from a table."""
    df = read_table(table) if not isinstance(table, pd.DataFrame) else table.fillna("").astype(str)
    monday = week if isinstance(week, dt.date) else _parse_week(week)
    cols, problems = _columns(df)
    friday = monday + dt.timedelta(days=4)
    reqs: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for i, row in enumerate(df.to_dict("records")):
        rown = i + 2

        def cell(key: str, row: dict[str, Any] = row) -> str:
            return str(row.get(cols[key], "")).strip() if key in cols else ""

        def bad(key: str, en: str, ja: str, rown: int = rown) -> None:
            problems.append(Problem(f"row {rown}, column '{cols.get(key, key)}'", en, ja))

        if not any(str(v).strip() for v in row.values()):
            continue
        q: dict[str, Any] = {"id": cell("id") or f"r{len(reqs) + 1:03d}"}
        if q["id"] in seen_ids:
            bad("id", f"duplicate id {q['id']!r} (row {seen_ids[q['id']]})", "ID が重複しています")
        seen_ids[q["id"]] = rown
        code = resolve_municipality(cell("municipality")) if cell("municipality") else None
        if code is None:
            bad("municipality", f"unknown municipality {cell('municipality')!r}",
                f"不明な自治体 {cell('municipality')!r} です")
        q["location"] = code
        fields = []
        for tok in [t for t in re.split(r"[・,、/\s]+", cell("fields")) if t]:
            f = _FIELD_ALIASES.get(tok) or _FIELD_ALIASES.get(tok.lower())
            if f is None:
                bad("fields", f"unknown field {tok!r}", f"不明な分野 {tok!r} です")
            else:
                fields.append(f)
        if not fields and cell("fields") == "":
            bad("fields", "is required", "必須項目です")
        q["fields"] = fields
        mode = _MODES.get(cell("mode").lower()) or _MODES.get(cell("mode"))
        if mode is None:
            bad("mode", f"must be onsite/online (訪問/オンライン), got {cell('mode')!r}",
                f"訪問 か オンライン を指定してください（{cell('mode')!r}）")
        q["mode"] = mode
        num_defaults: tuple[tuple[str, int | None], ...] = (("duration_min", None), ("priority", 5))
        for key, default in num_defaults:
            raw = cell(key)
            if raw == "" and default is not None:
                q[key] = default
                continue
            try:
                num = float(raw)
                if not num.is_integer():
                    raise ValueError
                q[key] = int(num)
                if key == "duration_min" and q[key] <= 0:
                    bad(key, "must be > 0", "0 より大きい必要があります")
                if key == "priority" and not 1 <= q[key] <= 10:
                    bad(key, "must be between 1 and 10", "1 から 10 の範囲で指定してください")
            except ValueError:
                bad(key, f"must be a whole number, got {raw!r}", f"整数を指定してください（{raw!r}）")
        for key, day in (("earliest", monday), ("latest", friday)):
            raw = cell(key)
            if raw == "":
                q[key] = day.isoformat()
                continue
            try:
                q[key] = pd.Timestamp(raw).date().isoformat()
            except (ValueError, TypeError):
                bad(key, f"must be a date YYYY-MM-DD, got {raw!r}", f"日付を指定してください（{raw!r}）")
        if cell("window"):
            m = re.fullmatch(r"(\d{1,2}:\d{2})\s*[-–~〜]\s*(\d{1,2}:\d{2})", cell("window"))
            if m is None:
                bad("window", f"must be HH:MM-HH:MM, got {cell('window')!r}",
                    f"HH:MM-HH:MM の形で指定してください（{cell('window')!r}）")
            else:
                q["window"] = [m.group(1).zfill(5), m.group(2).zfill(5)]
        if cell("title"):
            q["title"] = cell("title")
        conf = cell("confidential").lower()
        if conf in _TRUE:
            q["confidential"] = True
        elif conf not in _FALSE:
            bad("confidential", f"must be yes or no, got {conf!r}", "はい か いいえ を指定してください")
        q["_row"] = rown
        reqs.append(q)
    if not reqs and not problems:
        problems.append(Problem("rows", "the table has no requests", "依頼の行がありません"))
    if problems:
        raise InputError(problems)
    base = PlanRequest(horizon=Horizon(monday, friday), locations=ehime_locations(),
                       experts=ehime_experts(), requests=())
    doc = plan_request_to_dict(base)
    rows = {q["id"]: q.pop("_row") for q in reqs}
    doc["requests"] = reqs
    doc["name"] = f"Requests for the week of {monday} (imported)"
    try:
        return parse_plan_request(doc)
    except InputError as err:
        # Map document paths back to spreadsheet rows for the reader.
        mapped = []
        for p in err.problems:
            m = re.match(r"requests\[(\d+)\]\.(\w+)(.*)", p.path)
            if m:
                rid = reqs[int(m.group(1))]["id"]
                col = cols.get(m.group(2), m.group(2))
                mapped.append(Problem(f"row {rows[rid]}, column '{col}'", p.message, p.message_ja))
            else:
                mapped.append(p)
        raise InputError(mapped) from None


def _parse_week(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(Problem("--week", f"must be a date YYYY-MM-DD, got {text!r}",
                                 f"日付（YYYY-MM-DD）を指定してください（{text!r}）")) from None
    if day.weekday() != 0:
        raise InputError(Problem("--week", f"must be a Monday, {day} is a {day:%A}",
                                 f"月曜日を指定してください（{day} は月曜日ではありません）"))
    return day
