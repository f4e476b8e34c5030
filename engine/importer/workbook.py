"""A sheet read as Excel shows it: a CSV file or a workbook's requests sheet (cover and hidden
sheets passed over), merged cells filled, dates as Excel's day numbers in the workbook's
date system, each formula's value as last saved; then the table under its header row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import InputError, Problem
from engine.importer.columns import HEADER_SEARCH_ROWS, header_row, header_score
from engine.names import normalize
from engine.sheets import read_csv_rows, read_text_table

__all__ = ["EXCEL_EPOCH", "read_sheet", "read_sheet_rows", "read_table", "sheet_frame"]

#: Day 0 of Excel's dates (its 1900 date system, counting the leap day 1900 never had).
EXCEL_EPOCH = dt.date(1899, 12, 30)


#: Day 0 of the 1904 date system, in which Excel for Mac saved workbooks (``date1904``): the
#: same day is 1,462 less there.
_MAC_EPOCH = dt.date(1904, 1, 1)


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
    return read_sheet_rows(path, sheet)[0]


def read_sheet_rows(path: str | Path, sheet: str | None) -> tuple[list[tuple[int, list[str]]], dt.date]:
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
        epoch = EXCEL_EPOCH
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
    epoch = _MAC_EPOCH if values.epoch.date() == _MAC_EPOCH else EXCEL_EPOCH
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
               ws.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, values_only=True)]
        scores.append(max((header_score(r) for r in top), default=0))
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
    at = header_row(numbered)
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
    return sheet_frame(read_sheet(path, sheet))[0]


def sheet_frame(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, list[int]]:
    """The table under the header row and each of its rows' numbers in the sheet."""
    at = header_row(rows) or 0
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
