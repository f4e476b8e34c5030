"""Matching data read from one JSON document or file, a directory of CSV files, one CSV table
beside stored records, or DataFrames; and the bundled demo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import InputError, Problem, file_problem, read_utf8
from engine.matching.io.assemble import assemble, json_where
from engine.matching.io.tables import CSV_FILES, FORMAT, JA_HEADERS, SPECS
from engine.matching.model import (
    MatchData,
)
from engine.names import normalize
from engine.sheets import decode_table, read_csv_rows

__all__ = ["from_frames", "load", "load_demo", "parse_document", "read_csv_dir", "read_csv_table", "read_json"]

def parse_document(doc: Any) -> MatchData:
    """Matching data from a parsed JSON document (see ``docs/MATCHING.md``).

    Without ``municipalities`` the bundled Ehime municipalities are used.

    >>> d = parse_document({"format": "match-data/1", "needs": [], "candidates": []})
    >>> len(d.municipalities)
    21
    """
    if not isinstance(doc, Mapping):
        raise InputError(
            Problem("", "the document must be a JSON object", "JSON オブジェクトが必要です")
        )
    problems: list[Problem] = []
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        problems.append(
            Problem("format", f"expected {FORMAT!r}, not {fmt!r}", f"{FORMAT!r} が必要です")
        )
    tables: dict[str, Any] = {}
    for key in doc:
        if key not in SPECS and key not in ("format", "meta") and not str(key).startswith("_"):
            problems.append(Problem(str(key), "unknown key", "未知のキーです"))
    for table in SPECS:
        value = doc.get(table)
        if value is not None and not isinstance(value, list):
            problems.append(Problem(table, "must be a list", "リストが必要です"))
            continue
        tables[table] = value
    meta = doc.get("meta", {})
    if not isinstance(meta, Mapping):
        problems.append(Problem("meta", "must be an object", "オブジェクトが必要です"))
        meta = {}
    if problems:
        raise InputError(problems)
    return assemble(tables, json_where, meta)


def read_json(path: str | Path) -> MatchData:
    """Matching data from a JSON file; unreadable or malformed files raise ``InputError``."""
    p = Path(path)
    text = read_utf8(p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            Problem(
                f"{p.name} line {err.lineno}", f"invalid JSON: {err.msg}", "JSON の形式が不正です"
            )
        ) from None
    return parse_document(doc)


def _read_csv_rows(path: Path, problems: list[Problem]) -> list[dict[str, str]]:
    """Rows of one CSV file (UTF-8, Shift-JIS or UTF-16, cells NFKC-normalised)."""

    try:
        text = decode_table(path.read_bytes(), path.name)[0]
    except OSError as err:
        problems.append(file_problem(path.name, err))
        return []
    except InputError as err:
        problems.extend(err.problems)
        return []
    return _csv_text_rows(text, path.name, problems)


def _csv_text_rows(text: str, name: str, problems: list[Problem],
                   table: str | None = None) -> list[dict[str, str]]:
    """The rows of one CSV table (header first) as records, each with its ``_row`` number;
    cells NFKC-normalised (``engine.sheets.read_csv_rows``). With ``table``, a header column
    the table does not have is a problem even when no row follows."""

    rows = read_csv_rows(text)
    if not rows:
        return []

    headers = {normalize(k): v for k, v in JA_HEADERS.items()}
    header = [headers.get(h, h) for h in rows[0]]
    if table is not None:
        known = {c for c, _, _ in SPECS[table]}
        unknown = [h for h in header if h and h not in known and not h.startswith("_")]
        if unknown:
            names = ", ".join(repr(h) for h in unknown)
            problems.append(Problem(
                f"{name} header", f"unknown columns {names} (known: {', '.join(sorted(known))})",
                f"未知の列です: {names}"))
            return []
    out: list[dict[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append(
                Problem(f"{name} row {line}", "more cells than header columns", "列が多すぎます")
            )
            continue
        rec = {h: v for h, v in zip(header, row, strict=False)}
        rec["_row"] = str(line)
        out.append(rec)
    return out


def read_csv_table(
    table: str,
    text: str,
    name: str,
    others: Mapping[str, list[Mapping[str, Any]] | None],
) -> MatchData:
    """Matching data with ``table`` read from CSV ``text`` (header first, as in a CSV
    directory) and the other tables given as match-data/1 records (e.g. the stored ones).

    Problems in the CSV are named as ``read_csv_dir`` names them, with ``name`` as the file
    (``needs.xlsx row 4, column 'field'``); problems in the other tables by their JSON path.
    A header column the table does not have is a problem (``needs.csv header``) even when
    no row follows.
    """
    if table not in CSV_FILES:
        raise InputError(Problem("table", f"unknown table {table!r}", f"未知の表 {table!r}"))
    problems: list[Problem] = []
    rows = _csv_text_rows(text, name, problems, table)
    if problems:
        raise InputError(problems)
    numbers = [r.pop("_row") for r in rows]
    tables: dict[str, Any] = {t: others.get(t) for t in CSV_FILES}
    tables[table] = rows

    def where(t: str, index: int, column: str) -> str:
        if t != table:
            return json_where(t, index, column)
        place = f"{name} row {numbers[index] if index < len(numbers) else index + 2}"
        return f"{place}, column '{column}'" if column else place

    return assemble(tables, where, {"source": name})


def read_csv_dir(directory: str | Path) -> MatchData:
    """Matching data from a directory of CSV files named as in ``CSV_FILES``.

    ``needs.csv`` and ``candidates.csv`` are required; the others are optional
    (``municipalities.csv`` defaults to the bundled Ehime list). Headers may be English or
    Japanese (``JA_HEADERS``); lists are separated by ``;``; skills read ``ebpm:4;gis:3``.
    """
    d = Path(directory)
    problems: list[Problem] = []
    tables: dict[str, Any] = {}
    rows_of: dict[str, list[str]] = {}
    for table, name in CSV_FILES.items():
        path = d / name
        if not path.exists():
            if table in ("needs", "candidates"):
                problems.append(Problem(name, "file is missing", "ファイルがありません"))
            tables[table] = None if table == "municipalities" else []
            continue
        rows = _read_csv_rows(path, problems)
        rows_of[table] = [r.pop("_row") for r in rows]
        tables[table] = rows
    # File-level problems do not stop the reading: every bad cell of the other files is
    # reported with them, all at once.
    early = list(problems)

    def where(table: str, index: int, column: str) -> str:
        rows = rows_of.get(table, [])
        row = rows[index] if index < len(rows) else str(index + 2)
        place = f"{CSV_FILES[table]} row {row}"
        return f"{place}, column '{column}'" if column else place

    try:
        data = assemble(tables, where, {"source": d.name})
    except InputError as err:
        raise InputError(early + err.problems) from None
    if early:
        raise InputError(early)
    return data


def load(path: str | Path) -> MatchData:
    """Matching data from a JSON file or a directory of CSV files."""
    p = Path(path)
    if p.is_dir():
        return read_csv_dir(p)
    if not p.exists():
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません"))
    return read_json(p)


def load_demo() -> MatchData:
    """The bundled demo: real Ehime municipalities, synthetic candidates, needs and history."""
    text = resources.files("engine.matching").joinpath("data/demo.json").read_text("utf-8")
    return parse_document(json.loads(text))


def from_frames(
    frames: Mapping[str, pd.DataFrame], meta: Mapping[str, object] | None = None
) -> MatchData:
    """Matching data from DataFrames shaped like ``to_frames`` output (or CSV-like columns).

    Paths in errors read ``needs[3].effort_days`` where 3 is the row position.
    """
    tables: dict[str, Any] = {}
    for table in SPECS:
        df = frames.get(table)
        if df is None:
            tables[table] = None if table == "municipalities" else []
            continue
        df = df.rename(columns=lambda c: JA_HEADERS.get(str(c), str(c)))
        if not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index()
        recs = []
        for rec in df.to_dict(orient="records"):
            recs.append({str(k): v for k, v in rec.items() if str(k) != "index"})
        tables[table] = recs
    return assemble(tables, json_where, meta or {})
