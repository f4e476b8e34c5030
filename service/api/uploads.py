"""One uploaded matching table read within the server's limits: CSV text decoded (UTF-8 or
Shift_JIS), an Excel workbook's sheet streamed to CSV, rows counted and control characters
refused as soon as the limits are passed; and what an upload may not do by mistake (empty a
table that holds rows) or by type (JSON records held to their types)."""

import csv
import datetime as dt
import io
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from service.api.middleware import control_character
from service.config import Settings
from service.db import MATCH_TABLES
from service.matching_store import strict_problems
from service.problems import ApiProblem

__all__ = ["SHEET_NAMES", "XLSX", "UploadLimits", "csv_rows_within", "decode_text", "not_emptied",
           "strict_types", "too_slow", "xlsx_csv"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


#: Sheet names accepted for each table in an Excel upload (besides the first sheet).
SHEET_NAMES = {"needs": ("needs", "ニーズ"), "candidates": ("candidates", "候補者"),
               "engagements": ("engagements", "実績"), "conflicts": ("conflicts", "利益相反")}


def decode_text(raw: bytes, name: str) -> str:
    """An uploaded CSV file as text: UTF-8 (with or without BOM), else Shift_JIS (cp932)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(Problem(name, "not UTF-8 or Shift_JIS (cp932) text",
                             "UTF-8 または Shift_JIS（cp932）のテキストではありません"))


@dataclass(frozen=True)
class UploadLimits:
    """What one table upload may ask of the server: ``rows`` data rows, ``seconds`` of
    reading, ``unpacked`` bytes of an Excel workbook once unzipped."""

    rows: int
    seconds: float
    unpacked: int

    @classmethod
    def of(cls, settings: Settings) -> "UploadLimits":
        return cls(settings.max_table_rows, settings.max_upload_seconds,
                   settings.max_xlsx_unpacked_bytes)

    def too_many_rows(self, name: str) -> InputError:
        return InputError(Problem(
            name, f"more than {self.rows} rows (the limit, DXSHARE_MAX_TABLE_ROWS)",
            f"行数が上限 {self.rows} 行（DXSHARE_MAX_TABLE_ROWS）を超えています"))


#: Columns read from an Excel sheet (the widest table has 14).
XLSX_COLUMNS = 64


def xlsx_csv(raw: bytes, table: str, name: str, limits: UploadLimits) -> str:
    """The table's sheet of an Excel workbook (named as the table, or the first) as CSV,
    read as a stream (openpyxl ``read_only``) and refused as soon as it is larger, or takes
    longer, than ``limits`` allow."""
    import zipfile

    import openpyxl

    started = time.monotonic()
    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(raw)).infolist())
    except (zipfile.BadZipFile, ValueError):
        unpacked = 0  # openpyxl names what is wrong with it below
    if unpacked > limits.unpacked:
        raise ApiProblem(
            413, f"{name}: the workbook unpacks to {unpacked} bytes, more than "
            f"{limits.unpacked} (the limit, DXSHARE_MAX_XLSX_UNPACKED_BYTES)",
            f"{name}: 展開後のサイズ {unpacked} バイトが上限 {limits.unpacked} バイト"
            "（DXSHARE_MAX_XLSX_UNPACKED_BYTES）を超えています")
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is bad input
        raise InputError(Problem(name, f"not a readable Excel workbook ({type(exc).__name__})",
                                 "Excel ブックとして読み込めません")) from None
    try:
        sheet = next((book[n] for n in book.sheetnames if n.strip().lower()
                      in SHEET_NAMES[table]), book.worksheets[0])
        declared = getattr(sheet, "max_row", None)
        if isinstance(declared, int) and declared > limits.rows + 1:
            raise limits.too_many_rows(name)  # the sheet says so itself: refuse at once
        out = io.StringIO()
        writer = csv.writer(out)
        width = getattr(sheet, "max_column", None)
        width = min(width, XLSX_COLUMNS) if isinstance(width, int) else XLSX_COLUMNS
        for n, row in enumerate(sheet.iter_rows(values_only=True, max_col=width)):
            if n > limits.rows:
                raise limits.too_many_rows(name)
            if n % 500 == 0 and time.monotonic() - started > limits.seconds:
                raise too_slow(name, limits)
            cells = [_xlsx_cell(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()  # a sheet's blank right-hand columns are no columns
            writer.writerow(cells)
    finally:
        book.close()
    return out.getvalue()


def too_slow(name: str, limits: UploadLimits) -> InputError:
    return InputError(Problem(
        name, f"reading took longer than {limits.seconds:g} s (the limit, "
        "DXSHARE_MAX_UPLOAD_SECONDS); send fewer rows or CSV",
        f"読み込みが上限 {limits.seconds:g} 秒（DXSHARE_MAX_UPLOAD_SECONDS）を超えました。"
        "行を減らすか CSV で送ってください"))


def _xlsx_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def csv_rows_within(text: str, name: str, limits: UploadLimits) -> None:
    """Refuse a CSV text with more data rows than the limit (counted by the CSV reader,
    stopping one past the limit) or a control character in a cell (tab and line feed are
    text; CR only as part of a line end)."""
    for n, _ in enumerate(csv.reader(io.StringIO(text))):
        if n > limits.rows:
            raise limits.too_many_rows(name)
    hit = control_character(text.replace("\r\n", "\n"))
    if hit is not None:
        line = text.count("\n", 0, hit) + 1
        raise InputError(Problem(f"{name} line {line}", "must not contain control characters",
                                 "制御文字を含めることはできません"))


def not_emptied(s: Session, tables: dict[str, int], replace_with_empty: bool,
                 where: Callable[[str], str]) -> None:
    """Refuse to empty a table that holds rows, unless the caller asked for exactly that
    (``replace_with_empty``): an upload with a header only, or ``[]``, is far more often a
    mistake than a wish to delete every row."""
    if replace_with_empty:
        return
    problems = []
    for table, count in tables.items():
        if count:
            continue
        model = MATCH_TABLES[table]
        stored = s.scalar(select(func.count()).select_from(model)) or 0
        if stored:
            problems.append(Problem(
                where(table), f"has no rows and would delete all {stored} stored {table}; "
                "send ?replace_with_empty=true to empty the table",
                f"行がなく、保存済みの {stored} 件をすべて削除することになります。"
                "空にする場合は ?replace_with_empty=true を付けてください"))
    if problems:
        raise InputError(problems)


def strict_types(tables: Mapping[str, Any]) -> None:
    """JSON records are held to their types: numbers as JSON numbers, yes/no as JSON
    booleans, text as strings (``"priority": "1"`` is refused, as in every other body)."""
    problems = strict_problems(tables)
    if problems:
        raise InputError(problems)
