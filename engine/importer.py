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
earliest           開始日 / 希望開始日            YYYY-MM-DD, YYYY/M/D, M/D or M月D日 (default Monday)
latest             終了日 / 希望終了日            same forms (default: Friday of the week)
window             希望時間帯                     HH:MM-HH:MM, e.g. 13:00-17:00 (also 13時-17時)
title              件名 / 内容 / 相談内容          free text
confidential       非公開 / 機密                  yes/no, true/false, 1/0, ○
=================  ==========================  ==================================================

Every bad cell is reported as ``row N, column 'X': …`` (``N 行目「X」: …`` in Japanese; row
numbers as the spreadsheet shows them, the header being row 1), all at once, in the sheet's own
column names. CSV files may be UTF-8 (with or without BOM), Shift-JIS (cp932, what Excel
writes in Japan) or UTF-16; every cell is NFKC-normalised first, so full-width digits, times and
letters (``１３：００－１７：００``) read as their ASCII forms. Municipalities and fields go
through the one resolver of ``engine.names`` (``上島``, ``Kamijima``, ``データ活用``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from engine.ehime import ehime_experts, ehime_locations
from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import Horizon, PlanRequest, fmt_time
from engine.names import NameIndex, normalize, resolve_field, resolve_municipality
from engine.sheets import read_csv_rows, read_text_table

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
_COLUMN_INDEX = NameIndex(COLUMNS.items())
_REQUIRED = ("municipality", "fields", "mode", "duration_min")
_MODES = NameIndex([("onsite", ("訪問", "現地", "on-site", "対面", "来訪")),
                    ("online", ("オンライン", "web", "リモート", "remote", "ウェブ"))])
_TRUE = {"yes", "true", "1", "○", "〇", "◯", "はい", "y", "x", "✓", "有", "あり", "非公開"}
_FALSE = {"no", "false", "0", "", "いいえ", "n", "-", "nan", "無", "なし", "公開"}
_TIME = r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?)"
_WINDOW = re.compile(rf"{_TIME}\s*(?:[-~〜–—―ー]|から)\s*{_TIME}(?:まで)?")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read ``.xlsx``/``.xlsm`` (first sheet) or ``.csv``/``.tsv`` (UTF-8, Shift-JIS or
    UTF-16) as text, every header and cell NFKC-normalised and trimmed."""
    p = Path(path)
    if not p.exists():
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません"))
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        rows = read_csv_rows(read_text_table(p))
        if not rows:
            raise InputError(Problem(str(p), "the file is empty", "ファイルが空です"))
        width = max(len(r) for r in rows)
        header = rows[0] + [""] * (width - len(rows[0]))
        body = [r + [""] * (width - len(r)) for r in rows[1:]]
        return pd.DataFrame(body, columns=header, dtype=str)
    if suffix not in (".xlsx", ".xlsm", ".xls"):
        raise InputError(Problem(str(p), "must be a .xlsx or .csv file",
                                 ".xlsx か .csv ファイルを指定してください"))
    try:
        df = pd.read_excel(p, dtype=str).fillna("")
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputError(Problem(str(p), f"cannot read the table: {exc}",
                                 f"表を読み込めません: {exc}")) from None
    df.columns = [normalize(c) for c in df.columns]
    return df.map(normalize)


def _columns(df: pd.DataFrame) -> tuple[dict[str, str], list[Problem]]:
    found: dict[str, str] = {}
    problems = []
    for col in df.columns:
        name = str(col).strip()
        if not name or name.startswith("Unnamed:"):
            continue            # an empty header cell: a spacer column, nothing to read
        key = _COLUMN_INDEX.resolve(name)
        if key is None:
            problems.append(Problem(
                f"column '{name}'", "unknown column (known: " + ", ".join(
                    names[-1] if len(names) > 1 else names[0] for names in COLUMNS.values()) + ")",
                "不明な列です（使える列: " + "、".join(n[2] if len(n) > 2 else n[-1]
                                             for n in COLUMNS.values()) + "）",
                f"列「{name}」"))
        elif key in found:
            problems.append(Problem(f"column '{name}'", f"duplicates column '{found[key]}'",
                                    f"列「{found[key]}」と重複しています", f"列「{name}」"))
        else:
            found[key] = str(col)
    for key in _REQUIRED:
        if key not in found:
            ja = " / ".join(COLUMNS[key][1:])
            problems.append(Problem(f"column '{key}'", f"required column missing (Japanese: {ja})",
                                    f"必須の列がありません（{ja}）", f"列「{COLUMNS[key][2]}」"))
    return found, problems


def _minutes(h: str, m1: str | None, m2: str | None) -> int | None:
    hour, minute = int(h), int(m1 or m2 or 0)
    return hour * 60 + minute if hour <= 24 and minute < 60 and hour * 60 + minute <= 1440 \
        else None


def _date(raw: str, monday: dt.date) -> dt.date | None:
    """``2026-12-08``, ``2026/12/8``, ``12/8``, ``12月8日``, ``2026年12月8日`` or an Excel
    date-time cell (``2026-12-08 00:00:00``); month/day alone is in the week's year."""
    m = re.fullmatch(r"(?:(\d{4})\s*[-/年.]\s*)?(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?"
                     r"(?:\s*\(.\))?(?:[ T]00:00(?::00)?)?", raw)
    if m is None:
        return None
    try:
        return dt.date(int(m.group(1) or monday.year), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _fields(text: str) -> tuple[list[str], list[str]]:
    """Field ids in a cell and the parts that name none: ``'セキュリティ・データ'`` → both;
    a label with a separator of its own (``広報・マーケティング``, ``UI/UX``) stays whole."""
    whole = resolve_field(text)
    if whole is not None:
        return [whole], []
    found: list[str] = []
    unknown: list[str] = []
    for part in (t for t in re.split(r"[,、;；\s]+", text) if t):
        hit = resolve_field(part)
        if hit is not None:
            found.append(hit)
            continue
        for sub in (t for t in re.split(r"[・/+＋]", part) if t):
            hit = resolve_field(sub)
            if hit is None:
                unknown.append(sub)
            elif hit not in found:
                found.append(hit)
    return found, unknown


def import_requests(table: pd.DataFrame | str | Path, week: str | dt.date) -> PlanRequest:
    """Build the week's ``PlanRequest`` (bundled municipalities and experts) from a table.

    Raises ``InputError`` listing every bad cell as ``row N, column 'X'`` (header = row 1).
    """
    if isinstance(table, pd.DataFrame):
        df = table.fillna("").astype(str).map(normalize)
        df.columns = [normalize(c) for c in df.columns]
    else:
        df = read_table(table)
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
            col = cols.get(key, key)
            problems.append(Problem(f"row {rown}, column '{col}'", en, ja, f"{rown} 行目「{col}」"))

        if not any(str(v).strip() for v in row.values()):
            continue
        q: dict[str, Any] = {"id": cell("id") or f"r{len(reqs) + 1:03d}"}
        if q["id"] in seen_ids:
            bad("id", f"duplicate id {q['id']!r} (row {seen_ids[q['id']]})",
                f"ID {q['id']!r} が重複しています（{seen_ids[q['id']]} 行目）")
        seen_ids[q["id"]] = rown
        code = resolve_municipality(cell("municipality"))
        if code is None:
            if cell("municipality"):
                bad("municipality", f"unknown municipality {cell('municipality')!r}",
                    f"不明な自治体 {cell('municipality')!r} です")
            else:
                bad("municipality", "is required", "必須項目です")
        q["location"] = code
        fields, unknown = _fields(cell("fields"))
        for tok in unknown:
            bad("fields", f"unknown field {tok!r}", f"不明な分野 {tok!r} です")
        if not fields and not unknown:
            bad("fields", "is required", "必須項目です")
        q["fields"] = fields
        mode = _MODES.resolve(cell("mode"))
        if mode is None:
            bad("mode", f"must be onsite/online (訪問/オンライン), got {cell('mode')!r}",
                f"訪問 か オンライン を指定してください（{cell('mode')!r}）")
        q["mode"] = mode
        num_defaults: tuple[tuple[str, int | None], ...] = (("duration_min", None), ("priority", 5))
        for key, default in num_defaults:
            raw = cell(key).removesuffix("分").strip()
            if raw == "" and default is not None:
                q[key] = default
                continue
            if raw == "":
                bad(key, "is required", "必須項目です")
                continue
            try:
                num = float(raw.replace(",", ""))
                if not num.is_integer():
                    raise ValueError
            except ValueError:
                bad(key, f"must be a whole number, got {cell(key)!r}",
                    f"整数を指定してください（{cell(key)!r}）")
                continue
            q[key] = int(num)
            if key == "duration_min" and not 0 < q[key] <= 1440:
                bad(key, "must be > 0" if q[key] <= 0 else "must be at most 1440 minutes",
                    "0 より大きい必要があります" if q[key] <= 0 else "1440 分以下にしてください")
            if key == "priority" and not 1 <= q[key] <= 10:
                bad(key, "must be between 1 and 10", "1 から 10 の範囲で指定してください")
        for key, day in (("earliest", monday), ("latest", friday)):
            raw = cell(key)
            if raw == "":
                q[key] = day
                continue
            parsed = _date(raw, monday)
            if parsed is None:
                bad(key, f"must be a date such as {monday:%Y-%m-%d} or {monday.month}/{monday.day},"
                    f" got {raw!r}", f"日付（例 {monday:%Y-%m-%d}、{monday.month}/{monday.day}）を"
                    f"指定してください（{raw!r}）")
            elif not monday <= parsed <= friday:
                bad(key, f"{parsed} is outside the week {monday} – {friday}",
                    f"{parsed} は対象週（{monday} – {friday}）の外です")
            else:
                q[key] = parsed
        if isinstance(q.get("earliest"), dt.date) and isinstance(q.get("latest"), dt.date) \
                and q["latest"] < q["earliest"]:
            bad("latest", f"must not be before the start date ({q['earliest']}, column "
                f"'{cols.get('earliest', 'earliest')}')",
                f"「{cols.get('earliest', '開始日')}」（{q['earliest']}）より前にはできません")
        for key in ("earliest", "latest"):
            if isinstance(q.get(key), dt.date):
                q[key] = q[key].isoformat()
        if cell("window"):
            m = _WINDOW.fullmatch(cell("window"))
            ws = _minutes(*m.group(1, 2, 3)) if m else None
            we = _minutes(*m.group(4, 5, 6)) if m else None
            dur = q.get("duration_min")
            if ws is None or we is None:
                bad("window", f"must be a time range such as 13:00-17:00, got {cell('window')!r}",
                    f"13:00-17:00 のような時間帯を指定してください（{cell('window')!r}）")
            elif we <= ws:
                bad("window", f"the end {fmt_time(we)} must be after the start {fmt_time(ws)}",
                    f"終了 {fmt_time(we)} は開始 {fmt_time(ws)} より後にしてください")
            elif isinstance(dur, int) and we - ws < dur:
                col = cols.get("duration_min", "duration_min")
                bad("window", f"{fmt_time(ws)}-{fmt_time(we)} is shorter than the duration "
                    f"({dur} min, column '{col}')",
                    f"{fmt_time(ws)}-{fmt_time(we)} は「{col}」（{dur} 分）より短いです")
            else:
                q["window"] = [fmt_time(ws), fmt_time(min(we, 1439))]
        if cell("title"):
            q["title"] = cell("title")
        conf = cell("confidential").lower()
        if conf in _TRUE:
            q["confidential"] = True
        elif conf not in _FALSE:
            bad("confidential", f"must be yes or no, got {cell('confidential')!r}",
                f"はい か いいえ（○ か 空欄）を指定してください（{cell('confidential')!r}）")
        q["_row"] = rown
        reqs.append(q)
    if not reqs and not problems:
        problems.append(Problem("rows", "the table has no requests", "依頼の行がありません", "行"))
    if problems:
        raise InputError(problems)
    base = PlanRequest(horizon=Horizon(monday, friday), locations=ehime_locations(),
                       experts=ehime_experts(), requests=())
    doc = plan_request_to_dict(base)
    rows = [q.pop("_row") for q in reqs]
    doc["requests"] = reqs
    doc["name"] = f"Requests for the week of {monday} (imported)"
    try:
        return parse_plan_request(doc)
    except InputError as err:
        raise InputError([_as_cell(p, rows, cols) for p in err.problems]) from None


#: Words of the document's messages as the sheet says them.
_WORDS = ("duration_min", "earliest", "latest", "window")


def _as_cell(p: Problem, rows: list[int], cols: dict[str, str]) -> Problem:
    """A problem of the generated document, told in the sheet's rows and column names."""
    m = re.match(r"requests\[(\d+)\]\.(\w+)", p.path)
    if m is None:
        return p
    rown = rows[int(m.group(1))]
    col = cols.get(m.group(2), m.group(2))
    en, ja = p.message, p.message_ja
    for key in _WORDS:
        name = cols.get(key, key)
        en = re.sub(rf"{key}(\[\d\])?", f"'{name}'", en)
        ja = re.sub(rf"{key}(\[\d\])?", f"「{name}」", ja)
    return Problem(f"row {rown}, column '{col}'", en, ja, f"{rown} 行目「{col}」")


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
