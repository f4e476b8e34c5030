"""Turn the centre's spreadsheet of requests (one row per request) into a ``plan-request/1``
on the bundled Ehime data.

The sheet may look as coordinators make it: title or note rows above the header row (the
header is the first row that names at least two known columns), merged title cells, blank
spacer columns, units in brackets after a header (「所要時間（分）」, 「所要時間(時間)」 —
hours are turned into minutes), and note columns (備考, メモ, 担当者 …) that are skipped.
A workbook is read as Excel shows it: among several sheets the one holding the requests (a
cover sheet of instructions and hidden sheets are passed over; ``sheet`` names one), a header
of two rows (``希望日`` merged over ``開始日``/``終了日``), a municipality merged down over its
requests' rows, dates kept as Excel's day numbers (``46364`` is 2026-12-08) and each formula's
value as Excel last saved it (a formula that was never computed is reported, not read as
empty).

Columns (English or Japanese headers, any order; only the first four are required):

=================  ==========================  ==================================================
column             Japanese header             value
=================  ==========================  ==================================================
municipality       自治体 / 市町 / 市町名        code (382019), name (松山市, 松山) or romaji
fields             分野                         one or more of design, security, data, cocreation,
                                                pr or their Japanese labels (デザイン, セキュリティ,
                                                データ, 官民共創, 広報), separated by ・ , / or spaces
mode               形態 / 方法                   onsite / online, or 訪問 / オンライン
duration_min       所要時間 / 時間（分）          minutes: 90, 90分, 1時間30分, 1:30 (≤ 1440)
priority           優先度                        1–10 (default 5)
id                 ID / 番号                     request id (default r001, r002, … by row)
earliest           開始日 / 希望開始日            YYYY-MM-DD, YYYY/M/D, M/D or M月D日 (default Monday)
latest             終了日 / 希望終了日            same forms (default: Friday of the week)
window             希望時間帯                     HH:MM-HH:MM, e.g. 13:00-17:00 (also 13時-17時)
title              件名 / 内容 / 相談内容          free text
confidential       非公開 / 機密                  yes/no, true/false, 1/0, ○
=================  ==========================  ==================================================

Every bad cell is reported as ``row N, column 'X': …`` (``N 行目「X」: …`` in Japanese; row
numbers as the spreadsheet shows them), all at once, in the sheet's own column names as
written. CSV files may be UTF-8 (with or without BOM), Shift-JIS (cp932, what Excel writes in
Japan) or UTF-16. Codes, numbers, dates and times are NFKC-normalised (``１３：００－１７：００``
reads as ``13:00-17:00``); titles are kept as written (``①SNS…㈱`` stays). Dates, modes,
durations, priorities and fields are read by ``engine.readings``, as in a plan-request/1 file
and the HTTP service; municipalities and fields go through the one resolver of
``engine.names`` (``上島``, ``Kamijima``, ``データ活用``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.ehime import ehime_experts, ehime_locations
from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import Horizon, PlanRequest, fmt_time
from engine.names import NameIndex, normalize, resolve_field, resolve_municipality
from engine.readings import (
    MAX_DURATION_MIN,
    PRIORITY_DEFAULT,
    PRIORITY_MAX,
    PRIORITY_MIN,
    field_choices,
    read_date,
    read_duration,
    read_mode,
)
from engine.sheets import read_csv_rows, read_text_table

__all__ = ["COLUMNS", "import_requests", "read_sheet", "read_table"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ID", "番号", "依頼番号", "No", "受付番号", "管理番号"),
    "municipality": ("municipality", "自治体", "市町", "市町名", "自治体名", "市町村", "市町村名",
                     "団体名", "依頼元"),
    "fields": ("fields", "分野", "field", "専門分野", "相談分野", "分野名"),
    "mode": ("mode", "形態", "方法", "実施方法", "実施形態", "訪問/オンライン", "対応方法"),
    "duration_min": ("duration_min", "所要時間", "duration", "時間（分）", "時間(分)", "相談時間",
                     "面談時間", "想定時間", "所要"),
    "priority": ("priority", "優先度", "優先順位", "重要度"),
    "earliest": ("earliest", "希望開始日", "開始日", "開始希望日", "希望日（から）"),
    "latest": ("latest", "希望終了日", "終了日", "終了希望日", "希望期限", "期限"),
    "window": ("window", "希望時間帯", "時間帯", "希望時間"),
    "title": ("title", "件名", "内容", "相談内容", "テーマ", "相談テーマ", "タイトル", "概要"),
    "confidential": ("confidential", "非公開", "機密", "公開可否"),
}
#: Columns a coordinator keeps for herself: read past, never an error.
NOTE_COLUMNS = ("備考", "メモ", "担当者", "連絡先", "受付日", "状態", "ステータス", "note", "notes",
                "memo", "remarks", "comment", "コメント", "電話", "メール")
_COLUMN_INDEX = NameIndex(COLUMNS.items())
_NOTE_INDEX = NameIndex((n, ()) for n in NOTE_COLUMNS)
_REQUIRED = ("municipality", "fields", "mode", "duration_min")
#: Free text, kept as written (no NFKC: ``①SNS…㈱`` stays).
_FREE_TEXT = ("title",)
_TRUE = {"yes", "true", "1", "○", "〇", "◯", "はい", "y", "x", "✓", "有", "あり", "非公開"}
_FALSE = {"no", "false", "0", "", "いいえ", "n", "-", "nan", "無", "なし", "公開"}
_TIME = r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?)"
_WINDOW = re.compile(rf"{_TIME}\s*(?:[-~〜–—―ー]|から)\s*{_TIME}(?:まで)?")
#: A unit or a note in brackets after a header: 「所要時間（分）」, 「優先度 [1-10]」, 「分野※」.
_HEADER_TAIL = re.compile(r"\s*(?:[(\[【<〔][^)\]】>〕]*[)\]】>〕]|[※*].*)\s*$")
#: Day 0 of Excel's dates (its 1900 date system, counting the leap day 1900 never had).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Day 0 of the 1904 date system, in which Excel for Mac saved workbooks (``date1904``): the
#: same day is 1,462 less there.
_MAC_EPOCH = dt.date(1904, 1, 1)
#: How many rows from the top may hold titles and notes before the header row.
_HEADER_SEARCH_ROWS = 30


def _label(key: str) -> str:
    """A column's usual Japanese header (where a missing column is named)."""
    return COLUMNS[key][1]


def _header(text: str) -> tuple[str | None, str]:
    """``(column key or None, unit)`` of a header cell: ``'所要時間（分）'`` → duration_min, 分."""
    flat = normalize(text).replace("\n", "")
    key = _COLUMN_INDEX.resolve(flat)
    unit = ""
    while key is None and (m := _HEADER_TAIL.search(flat)) and m.start() > 0:
        unit = m.group(0).strip(" ()[]【】<>〔〕※*") or unit
        flat = flat[:m.start()]
        key = _COLUMN_INDEX.resolve(flat)
    return key, unit


def _cell_text(value: Any) -> str:
    """An Excel cell as text: dates as ISO dates, whole numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else \
            value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheet(path: str | Path, sheet: str | None = None) -> list[tuple[int, list[str]]]:
    """Every non-empty row of ``.xlsx``/``.xlsm`` or ``.csv``/``.tsv`` (UTF-8, Shift-JIS or
    UTF-16) as ``(row number as the sheet shows it, cells as text)``, cells trimmed but
    otherwise as written.

    A workbook is read as Excel shows it: the sheet that holds the requests (``sheet`` names
    it; without it, the one visible sheet whose header row names the most known columns),
    each formula's value as Excel last saved it (a formula never computed reads as its own
    text, ``=…``, and is reported), a header of two rows joined (a group title merged over
    several columns gives way to the headers under it), and a cell merged down over several
    requests' rows (a municipality written once for three rows) repeated in each of them.
    """
    return _read_sheet(path, sheet)[0]


def _read_sheet(path: str | Path, sheet: str | None) -> tuple[list[tuple[int, list[str]]], dt.date]:
    """``read_sheet``'s rows and the day 0 of the sheet's dates kept as numbers (Excel's
    1900 or 1904 date system; 1900 for a CSV file)."""
    p = Path(path)
    if not p.exists():
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません"))
    if p.is_dir():
        raise InputError(Problem(str(p), "is a folder, not a sheet",
                                 "フォルダです（表のファイルを指定してください）"))
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        if sheet is not None:
            raise InputError(Problem("--sheet", "a CSV file has no sheets",
                                     "CSV ファイルにはシートがありません"))
        rows = list(enumerate(read_csv_rows(read_text_table(p), nfkc=False), start=1))
        epoch = _EXCEL_EPOCH
    elif suffix in (".xlsx", ".xlsm"):
        rows, epoch = _workbook_rows(p, sheet)
    elif suffix in (".xls", ".ods"):
        raise InputError(Problem(str(p), "save the sheet as .xlsx (Excel workbook) or .csv first",
                                 "先に .xlsx（Excel ブック）か .csv で保存してください"))
    else:
        raise InputError(Problem(str(p), "must be a .xlsx or .csv file",
                                 ".xlsx か .csv ファイルを指定してください"))
    rows = [(i, r) for i, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(Problem(str(p), "the file is empty", "ファイルが空です"))
    return rows, epoch


def _header_score(cells: list[str]) -> int:
    """How many known columns a row names (the header row names the most)."""
    return len({k for c in cells if c.strip() and (k := _header(c)[0]) is not None})


def _header_row(rows: list[tuple[int, list[str]]]) -> int | None:
    """The index in ``rows`` of the header row: the first of the top rows naming the most
    known columns, at least two; ``None`` when no row does."""
    scores = [_header_score(cells) for _, cells in rows[:_HEADER_SEARCH_ROWS]]
    if not scores or max(scores) < 2:
        return None
    return scores.index(max(scores))


def _workbook_rows(p: Path, sheet: str | None) -> tuple[list[tuple[int, list[str]]], dt.date]:
    """The requests' sheet of a workbook, every row (empty ones included) as text, and the
    workbook's day 0 (1899-12-30, or 1904-01-01 for a workbook of the 1904 date system;
    openpyxl reads date cells by it already, a date kept as a number is read by it later)."""
    import openpyxl

    try:
        # two readings: the values Excel saved with the file, and the formulas behind them
        values = openpyxl.load_workbook(p, data_only=True)
        formulas = openpyxl.load_workbook(p, data_only=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputError(Problem(str(p), f"cannot read the table: {exc}",
                                 f"表を読み込めません: {exc}")) from None
    ws = _requests_sheet(p, values, sheet)
    wf = formulas[ws.title]
    grid: list[list[str]] = []
    for vrow, frow in zip(ws.iter_rows(min_row=1, max_row=ws.max_row, values_only=True),
                          wf.iter_rows(min_row=1, max_row=ws.max_row, values_only=True),
                          strict=True):
        grid.append([f if v is None and isinstance(f, str) and f.startswith("=")
                     else _cell_text(v) for v, f in zip(vrow, frow, strict=True)])
    merges = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
    _unmerge(grid, merges)
    epoch = _MAC_EPOCH if values.epoch.date() == _MAC_EPOCH else _EXCEL_EPOCH
    return [(i, cells) for i, cells in enumerate(grid, start=1) if cells is not _GONE], epoch


#: A header's second row, joined into the first (kept in the grid so that rows keep numbers).
_GONE: list[str] = []


def _requests_sheet(p: Path, wb: Any, name: str | None) -> Any:
    """The sheet named ``name``, or the one visible sheet whose header row names the most
    known columns (a cover sheet of instructions, a list of contacts and a hidden sheet of
    codes are passed over); two sheets that both look like the week's requests must be
    chosen between."""
    sheets = [ws for ws in wb.worksheets if ws.sheet_state == "visible"] or list(wb.worksheets)
    titles = "、".join(ws.title for ws in wb.worksheets)
    if name is not None:
        wanted = normalize(name)
        for ws in wb.worksheets:
            if normalize(ws.title) == wanted:
                return ws
        raise InputError(Problem("--sheet", f"{p.name} has no sheet {name!r} (sheets: "
                                 f"{', '.join(ws.title for ws in wb.worksheets)})",
                                 f"{p.name} にシート「{name}」はありません（シート: {titles}）"))
    if len(sheets) == 1:
        return sheets[0]
    scores = []
    for ws in sheets:
        top = [[_cell_text(v) for v in row] for row in
               ws.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True)]
        scores.append(max((_header_score(r) for r in top), default=0))
    best = max(scores)
    if best < 2:
        return sheets[0]
    tied = [ws.title for ws, s in zip(sheets, scores, strict=True) if s == best]
    if len(tied) > 1:
        raise InputError(Problem(str(p), f"several sheets hold requests ({', '.join(tied)}): "
                                 "choose one with --sheet",
                                 f"依頼の表が複数のシートにあります（{'、'.join(tied)}）。"
                                 "--sheet でシートを指定してください"))
    return sheets[scores.index(best)]


def _unmerge(grid: list[list[str]], merges: list[tuple[int, int, int, int]]) -> None:
    """Merged cells as the reader sees them, in place (``merges`` as 1-based
    ``(first row, first column, last row, last column)``).

    A header merged down over two rows makes one header: in each column the texts of its
    rows are joined (``所要時間`` over ``（分）``), a group title merged across several columns
    (``希望日`` over ``開始日`` and ``終了日``) giving way to the headers under it; the second
    row is then no request. Below the header, a cell merged down over several rows is
    repeated in each row that holds anything else (its first column only: a title merged
    across note columns stays one cell).
    """
    numbered = [(i, cells) for i, cells in enumerate(grid, start=1) if any(c.strip() for c in cells)]
    at = _header_row(numbered)
    if at is None:
        return
    head = numbered[at][0]
    end = max([m[2] for m in merges if m[0] <= head <= m[2]], default=head)
    groups = {(m[0], m[1]) for m in merges if m[3] > m[1]}
    if end > head:
        width = max(len(grid[r - 1]) for r in range(head, end + 1))
        joined = []
        for col in range(width):
            parts = [(r, grid[r - 1][col]) for r in range(head, end + 1)
                     if col < len(grid[r - 1]) and grid[r - 1][col].strip()]
            if len(parts) > 1:
                parts = [(r, t) for r, t in parts if (r, col + 1) not in groups]
            joined.append("".join(t for _, t in parts))
        grid[head - 1] = joined
        for r in range(head + 1, end + 1):
            grid[r - 1] = _GONE
    for first_row, col, last_row, _last_col in merges:
        if first_row <= end or col > len(grid[first_row - 1]):
            continue
        value = grid[first_row - 1][col - 1]
        for r in range(first_row + 1, min(last_row, len(grid)) + 1):
            cells = grid[r - 1]
            if cells is not _GONE and col <= len(cells) and any(c.strip() for c in cells):
                cells[col - 1] = value


def read_table(path: str | Path, sheet: str | None = None) -> pd.DataFrame:
    """The sheet's requests as a table of text: the header row found below any title rows,
    headers and cells as written."""
    return _frame(read_sheet(path, sheet))[0]


def _frame(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, list[int]]:
    """The table under the header row and each of its rows' numbers in the sheet."""
    at = _header_row(rows) or 0
    header = [c.replace("\n", "").strip() for c in rows[at][1]]      # as written
    body = rows[at + 1:]
    width = max([len(header)] + [len(r) for _, r in body])
    header += [""] * (width - len(header))
    # blank header cells (spacer columns, the tail of a merged cell) get names of their own so
    # that the frame's columns stay distinct; they are skipped when read
    header = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    frame = pd.DataFrame([r + [""] * (width - len(r)) for _, r in body], columns=header,
                         dtype=str)
    return frame, [n for n, _ in body]


def _columns(df: pd.DataFrame) -> tuple[dict[str, str], dict[str, str], list[Problem]]:
    """Key → header as written, key → unit in brackets, and the header's problems."""
    found: dict[str, str] = {}
    units: dict[str, str] = {}
    problems = []
    for col in df.columns:
        name = str(col).strip()
        if not name or name.startswith("Unnamed:"):
            continue            # an empty header cell: a spacer column, nothing to read
        key, unit = _header(name)
        if key is None:
            if _NOTE_INDEX.resolve(_HEADER_TAIL.sub("", normalize(name))) is not None:
                continue
            problems.append(Problem(
                f"column '{name}'", "unknown column (known: " + ", ".join(
                    names[0] for names in COLUMNS.values()) + ")",
                "不明な列です（使える列: " + "、".join(n[1] for n in COLUMNS.values()) + "）",
                f"列「{name}」"))
        elif key in found:
            problems.append(Problem(f"column '{name}'", f"duplicates column '{found[key]}'",
                                    f"列「{found[key]}」と重複しています", f"列「{name}」"))
        else:
            found[key] = str(col)
            units[key] = unit
    for key in _REQUIRED:
        if key not in found:
            ja = " / ".join(COLUMNS[key][1:4])
            problems.append(Problem(f"column '{_label(key)}'",
                                    f"required column missing ({ja} or {COLUMNS[key][0]})",
                                    f"必須の列がありません（{ja}）", f"列「{_label(key)}」"))
    return found, units, problems


def _minutes(h: str, m1: str | None, m2: str | None) -> int | None:
    hour, minute = int(h), int(m1 or m2 or 0)
    return hour * 60 + minute if hour <= 24 and minute < 60 and hour * 60 + minute <= 1440 \
        else None


def _date(raw: str, monday: dt.date, epoch: dt.date = _EXCEL_EPOCH) -> dt.date | None:
    """A date cell (``engine.readings.read_date``); month/day alone is in the week's year (the
    next one for a week that runs into January); a whole number of five digits is a date as
    Excel counts them (days since ``epoch``, 1899-12-30 or in a workbook of the 1904 date
    system 1904-01-01: a date cell formatted as a number, or pasted as one), ``46364`` being
    2026-12-08 (``44902`` in the 1904 system)."""
    if m := re.fullmatch(r"(\d{5})(?:\.0+)?", raw):
        return epoch + dt.timedelta(days=int(m.group(1)))
    day = read_date(raw, monday.year)
    friday = monday + dt.timedelta(days=4)
    if day is not None and friday.year != monday.year and day < monday:
        day = read_date(raw, friday.year)
    return day


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


def import_requests(table: pd.DataFrame | str | Path, week: str | dt.date,
                    sheet: str | None = None) -> PlanRequest:
    """Build the week's ``PlanRequest`` (bundled municipalities and experts) from a sheet.

    ``sheet`` names a workbook's sheet (by default the one that holds the requests, see
    ``read_sheet``). Raises ``InputError`` listing every bad cell as ``row N, column 'X'``
    (row numbers as the sheet shows them, columns as written). A DataFrame's header is row 1.
    """
    if isinstance(table, pd.DataFrame):
        df = table.fillna("").astype(str)
        df.columns = [str(c).strip() for c in df.columns]
        numbers = list(range(2, len(df) + 2))
        epoch = _EXCEL_EPOCH
    else:
        sheet_rows, epoch = _read_sheet(table, sheet)
        df, numbers = _frame(sheet_rows)
    monday = week if isinstance(week, dt.date) else _parse_week(week)
    cols, units, problems = _columns(df)
    week_ = _Week(monday, monday + dt.timedelta(days=4), epoch)
    reqs: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for rown, values in zip(numbers, df.to_dict("records"), strict=True):
        if not any(str(v).strip() for v in values.values()):
            continue
        row = _Row(rown, values, cols, problems)
        reqs.append(_read_row(row, len(reqs), seen_ids, units, week_))
    if not reqs and not problems:
        problems.append(Problem("rows", "the table has no requests", "依頼の行がありません", "行"))
    if problems:
        raise InputError(problems)
    base = PlanRequest(horizon=Horizon(monday, week_.friday), locations=ehime_locations(),
                       experts=ehime_experts(), requests=())
    doc = plan_request_to_dict(base)
    rows = [q.pop("_row") for q in reqs]
    doc["requests"] = reqs
    doc["name"] = f"Requests for the week of {monday} (imported)"
    try:
        return parse_plan_request(doc)
    except InputError as err:
        raise InputError([_as_cell(p, rows, cols) for p in err.problems]) from None


@dataclass(frozen=True)
class _Week:
    """The week a sheet is for (Monday to Friday) and its workbook's date epoch."""

    monday: dt.date
    friday: dt.date
    epoch: dt.date


@dataclass
class _Row:
    """One row of the sheet: its cells by key (normalised, but free text as written) and its
    problems, one per cell (an uncomputed formula says it all)."""

    number: int
    values: dict[str, Any]
    cols: dict[str, str]
    problems: list[Problem]
    told: set[str] = field(default_factory=set)

    def cell(self, key: str) -> str:
        if key not in self.cols:
            return ""
        text = str(self.values.get(self.cols[key], "")).strip()
        return text if key in _FREE_TEXT else normalize(text)

    def bad(self, key: str, en: str, ja: str) -> None:
        if key in self.told:
            return
        self.told.add(key)
        col = self.cols.get(key, _label(key))
        rown = self.number
        self.problems.append(Problem(f"row {rown}, column '{col}'", en, ja, f"{rown} 行目「{col}」"))


def _read_row(row: _Row, before: int, seen_ids: dict[str, int], units: dict[str, str],
              week: _Week) -> dict[str, Any]:
    """One request of the plan-request/1 document from a row (``before``: the requests read
    before it), its problems added to the row's."""
    cell, bad, cols, rown = row.cell, row.bad, row.cols, row.number
    for key in cols:
        if (text := cell(key)).startswith("="):
            bad(key, f"the formula {text!r} has no value saved with the file (open the "
                "sheet in Excel and save it, or type the value)",
                f"数式 {text!r} の計算結果が保存されていません（Excel で開いて保存するか、"
                "値を入力してください）")
    q: dict[str, Any] = {"id": cell("id") or f"r{before + 1:03d}"}
    if q["id"] in seen_ids:
        bad("id", f"duplicate id {q['id']!r} (row {seen_ids[q['id']]})",
            f"ID {q['id']!r} が重複しています（{seen_ids[q['id']]} 行目）")
    seen_ids[q["id"]] = rown
    code = resolve_municipality(cell("municipality"))
    if code is None and "municipality" in cols:
        if cell("municipality"):
            bad("municipality", f"unknown municipality {cell('municipality')!r}",
                f"不明な自治体 {cell('municipality')!r} です")
        else:
            bad("municipality", "is required", "必須項目です")
    q["location"] = code
    fields, unknown = _fields(cell("fields"))
    for tok in unknown:
        bad("fields", f"unknown field {tok!r} (valid: {field_choices('en')})",
            f"不明な分野 {tok!r} です（使える分野: {field_choices('ja')}）")
    if not fields and not unknown and "fields" in cols:
        bad("fields", "is required", "必須項目です")
    q["fields"] = fields
    mode = read_mode(cell("mode"))
    if mode is None and "mode" in cols:
        bad("mode", f"must be onsite/online (訪問/オンライン), got {cell('mode')!r}",
            f"訪問 か オンライン を指定してください（{cell('mode')!r}）")
    q["mode"] = mode
    _read_duration(q, cell("duration_min"), units.get("duration_min", ""), bad,
                   "duration_min" in cols)
    _read_priority(q, row)
    _read_dates(q, row, week)
    _read_window(q, row)
    if cell("title"):
        q["title"] = cell("title")
    conf = cell("confidential").lower()
    if conf in _TRUE:
        q["confidential"] = True
    elif conf not in _FALSE:
        bad("confidential", f"must be yes or no, got {cell('confidential')!r}",
            f"はい か いいえ（○ か 空欄）を指定してください（{cell('confidential')!r}）")
    q["_row"] = rown
    return q


def _read_priority(q: dict[str, Any], row: _Row) -> None:
    """The priority cell: a whole number in range (empty: the default)."""
    raw = row.cell("priority")
    whole = re.fullmatch(r"(\d+)(?:\.0+)?", raw.removesuffix("点").strip())
    prio = PRIORITY_DEFAULT if raw == "" else int(whole.group(1)) if whole else None
    if prio is None:
        row.bad("priority", f"must be a whole number, got {raw!r}",
                f"整数を指定してください（{raw!r}）")
    elif not PRIORITY_MIN <= prio <= PRIORITY_MAX:
        row.bad("priority", f"must be between {PRIORITY_MIN} and {PRIORITY_MAX}",
                f"{PRIORITY_MIN} から {PRIORITY_MAX} の範囲で指定してください")
    else:
        q["priority"] = prio


def _read_dates(q: dict[str, Any], row: _Row, week: _Week) -> None:
    """The earliest and latest dates: within the week (empty: Monday, Friday), the latest not
    before the earliest; written as ISO dates."""
    monday, friday, cols, bad = week.monday, week.friday, row.cols, row.bad
    for key, day in (("earliest", monday), ("latest", friday)):
        raw = row.cell(key)
        if raw == "":
            q[key] = day
            continue
        parsed = _date(raw, monday, week.epoch)
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
            f"'{cols.get('earliest', _label('earliest'))}')",
            f"「{cols.get('earliest', _label('earliest'))}」（{q['earliest']}）より前には"
            "できません")
    for key in ("earliest", "latest"):
        if isinstance(q.get(key), dt.date):
            q[key] = q[key].isoformat()


def _read_window(q: dict[str, Any], row: _Row) -> None:
    """The time window cell: a range such as 13:00-17:00, at least the duration long."""
    text, cols, bad = row.cell("window"), row.cols, row.bad
    if not text:
        return
    m = _WINDOW.fullmatch(text)
    ws = _minutes(*m.group(1, 2, 3)) if m else None
    we = _minutes(*m.group(4, 5, 6)) if m else None
    dur = q.get("duration_min")
    if ws is None or we is None:
        bad("window", f"must be a time range such as 13:00-17:00, got {text!r}",
            f"13:00-17:00 のような時間帯を指定してください（{text!r}）")
    elif we <= ws:
        bad("window", f"the end {fmt_time(we)} must be after the start {fmt_time(ws)}",
            f"終了 {fmt_time(we)} は開始 {fmt_time(ws)} より後にしてください")
    elif isinstance(dur, int) and we - ws < dur:
        col = cols.get("duration_min", _label("duration_min"))
        bad("window", f"{fmt_time(ws)}-{fmt_time(we)} is shorter than the duration "
            f"({dur} min, column '{col}')",
            f"{fmt_time(ws)}-{fmt_time(we)} は「{col}」（{dur} 分）より短いです")
    else:
        q["window"] = [fmt_time(ws), fmt_time(min(we, 1439))]


def _read_duration(q: dict[str, Any], raw: str, unit: str, bad: Any, present: bool) -> None:
    """The duration cell in minutes (a bare number in a column headed in hours, such as
    「所要時間（時間）」, is hours)."""
    if not present:
        return
    if raw == "":
        bad("duration_min", "is required", "必須項目です")
        return
    minutes = read_duration(raw)
    hours = normalize(unit).lower() in ("時間", "h", "hours", "hour", "hrs")
    if hours and re.fullmatch(r"\d+(?:\.\d+)?", raw):
        value = float(raw) * 60
        minutes = int(value) if value.is_integer() else None
    if minutes is None:
        bad("duration_min", f"must be minutes such as 90, 90分 or 1時間30分, got {raw!r}",
            f"90、90分、1時間30分 のように分で指定してください（{raw!r}）")
    elif minutes <= 0:
        bad("duration_min", "must be > 0", "0 より大きい必要があります")
    elif minutes > MAX_DURATION_MIN:
        bad("duration_min", f"must be at most {MAX_DURATION_MIN} minutes",
            f"{MAX_DURATION_MIN} 分以下にしてください")
    else:
        q["duration_min"] = minutes


#: Words of the document's messages as the sheet says them.
_WORDS = ("duration_min", "earliest", "latest", "window")


def _as_cell(p: Problem, rows: list[int], cols: dict[str, str]) -> Problem:
    """A problem of the generated document, told in the sheet's rows and column names."""
    m = re.match(r"requests\[(\d+)\]\.(\w+)", p.path)
    if m is None:
        return p
    rown = rows[int(m.group(1))]
    key = {"location": "municipality"}.get(m.group(2), m.group(2))
    col = cols.get(key, _label(key) if key in COLUMNS else key)
    en, ja = p.message, p.message_ja
    for key in _WORDS:
        name = cols.get(key, _label(key))
        en = re.sub(rf"{key}(\[\d\])?", f"'{name}'", en)
        ja = re.sub(rf"{key}(\[\d\])?", f"「{name}」", ja)
    return Problem(f"row {rown}, column '{col}'", en, ja, f"{rown} 行目「{col}」")


def _parse_week(text: str) -> dt.date:
    """``--week``: the Monday of the week, in any date form of ``engine.readings``."""
    day = read_date(text)
    if day is None:
        raise InputError(Problem("--week", f"must be a date such as 2026-12-07, got {text!r}",
                                 f"日付（例 2026-12-07）を指定してください（{text!r}）"))
    if day.weekday() != 0:
        raise InputError(Problem("--week", f"must be a Monday, {day} is a {day:%A}",
                                 f"月曜日を指定してください（{day} は月曜日ではありません）"))
    return day
