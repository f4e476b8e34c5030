"""The week's ``PlanRequest`` built from a sheet of requests on the bundled Ehime places and
experts; every problem, the document's too, told in the sheet's rows and column names."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pandas as pd

from engine.ehime import ehime_experts, ehime_locations
from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.importer.cells import Row, Week, read_row
from engine.importer.columns import COLUMNS, label, map_columns
from engine.importer.workbook import EXCEL_EPOCH, read_sheet_rows, sheet_frame
from engine.model import Horizon, PlanRequest
from engine.readings import (
    read_date,
)

__all__ = ["import_requests"]

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
        epoch = EXCEL_EPOCH
    else:
        sheet_rows, epoch = read_sheet_rows(table, sheet)
        df, numbers = sheet_frame(sheet_rows)
    monday = week if isinstance(week, dt.date) else _parse_week(week)
    cols, units, problems = map_columns(df)
    week_ = Week(monday, monday + dt.timedelta(days=4), epoch)
    reqs: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for rown, values in zip(numbers, df.to_dict("records"), strict=True):
        if not any(str(v).strip() for v in values.values()):
            continue
        row = Row(rown, values, cols, problems)
        reqs.append(read_row(row, len(reqs), seen_ids, units, week_))
    _follow_rows(reqs, cols, problems)
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


_ROW_REF = re.compile(r"(?:row\s*|#)?(\d+)\s*(?:行目?)?", re.IGNORECASE)


def _follow_rows(reqs: list[dict[str, Any]], cols: dict[str, str],
                 problems: list[Problem]) -> None:
    """Each follow-up's ``after.request`` as the id of the request it names: an id of the
    sheet, or a row as the sheet shows it (``5``, ``5行目``, ``row 5``); a name of neither is
    a problem at its cell."""
    ids = {q["id"] for q in reqs}
    by_row = {q["_row"]: q["id"] for q in reqs}
    for q in reqs:
        after = q.get("after")
        if after is None or after["request"] in ids:
            continue
        ref = after["request"]
        m = _ROW_REF.fullmatch(ref)
        if m is not None and int(m.group(1)) in by_row:
            after["request"] = by_row[int(m.group(1))]
            continue
        col, rown = cols["after"], q["_row"]
        problems.append(Problem(
            f"row {rown}, column '{col}'",
            f"no request {ref!r} in the sheet (give the ID or the row of the request it "
            "follows, e.g. r001 or 5行目)",
            f"依頼 {ref!r} は表にありません（前回の依頼の ID か 行を指定してください。例 r001、"
            "5行目）", f"{rown} 行目「{col}」"))


#: Words of the document's messages as the sheet says them (the word → its column).
_WORDS = {"duration_min": "duration_min", "earliest": "earliest", "latest": "latest",
          "window": "window", "min_days": "after_min_days", "max_days": "after_max_days"}
#: The fields of ``after`` by the column that holds them (the rest: the ``after`` column).
_AFTER_COLUMNS = {"min_days": "after_min_days", "max_days": "after_max_days",
                  "same_experts": "same_experts"}


def _as_cell(p: Problem, rows: list[int], cols: dict[str, str]) -> Problem:
    """A problem of the generated document, told in the sheet's rows and column names."""
    m = re.match(r"requests\[(\d+)\]\.(\w+)(?:\.(\w+))?", p.path)
    if m is None:
        return p
    rown = rows[int(m.group(1))]
    key = {"location": "municipality"}.get(m.group(2), m.group(2))
    if key == "after" and _AFTER_COLUMNS.get(m.group(3) or "") in cols:
        key = _AFTER_COLUMNS[m.group(3)]
    col = cols.get(key, label(key) if key in COLUMNS else key)
    en, ja = p.message, p.message_ja
    for word, key in _WORDS.items():
        name = cols.get(key, label(key))
        en = re.sub(rf"\b{word}(\[\d\])?", f"'{name}'", en)
        ja = re.sub(rf"{word}(\[\d\])?", f"「{name}」", ja)
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
