"""Read and write matching data: one JSON document, a directory of CSV files, or DataFrames.

Every reader validates the whole input and raises ``InputError`` listing each problem with
the path of the offending value: ``needs[3].effort_days: must be > 0`` for JSON,
``candidates.csv row 12, column 'fields': unknown field 'foo'`` for CSV (row numbers count
the header as row 1, as a spreadsheet shows them). The formats are described in
``docs/MATCHING.md``.

>>> data = load_demo()
>>> len(data.municipalities), data.meta["synthetic"]
(21, True)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import InputError, Problem
from engine.matching.model import (
    Candidate,
    Conflict,
    Engagement,
    MatchData,
    Municipality,
    Need,
    reference_problems,
)
from engine.model import FIELD_LABELS, FIELDS
from engine.names import NameIndex, normalize, resolve_field
from engine.sheets import decode_table, read_csv_rows

__all__ = [
    "COLUMN_KINDS",
    "CSV_FILES",
    "FORMAT",
    "JA_HEADERS",
    "ehime_municipalities",
    "from_frames",
    "load",
    "load_demo",
    "parse_document",
    "read_csv_dir",
    "read_csv_table",
    "read_json",
    "to_document",
    "to_frames",
    "write_csv_dir",
    "write_json",
]

#: The ``format`` tag of a matching JSON document.
FORMAT = "match-data/1"

#: File name of each table in a CSV directory.
CSV_FILES: Mapping[str, str] = {
    "municipalities": "municipalities.csv",
    "needs": "needs.csv",
    "candidates": "candidates.csv",
    "engagements": "engagements.csv",
    "conflicts": "conflicts.csv",
}

_LIST_SEP = ";"

# Column specs: (column, kind, required). Kinds are parsed by ``_parse_value``.
_SPECS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "municipalities": (
        ("code", "str", True),
        ("name_ja", "str", True),
        ("name_en", "str", False),
        ("kind", "str", False),
        ("region", "str", False),
        ("lat", "float", True),
        ("lon", "float", True),
        ("population", "int", False),
        ("island", "bool", False),
    ),
    "needs": (
        ("id", "str", True),
        ("municipality", "muni", True),
        ("field", "field", True),
        ("topics", "tags", False),
        ("title", "str", False),
        ("description", "str", False),
        ("mode", "mode", False),
        ("start", "date", True),
        ("end", "date", True),
        ("confidential", "bool", False),
        ("effort_days", "float", True),
        ("priority", "int", False),
    ),
    "candidates": (
        ("id", "str", True),
        ("name", "str", True),
        ("kind", "kind", False),
        ("fields", "fields", True),
        ("skills", "skills", False),
        ("topics", "tags", False),
        ("base", "str", False),
        ("lat", "float", False),
        ("lon", "float", False),
        ("remote", "bool", False),
        ("capacity", "int", False),
        ("max_travel_min", "int", False),
        ("available_from", "date", False),
        ("available_until", "date", False),
    ),
    "engagements": (
        ("id", "str", True),
        ("candidate", "str", True),
        ("municipality", "muni", True),
        ("need", "str", False),
        ("field", "field", False),
        ("topics", "tags", False),
        ("start", "date", False),
        ("end", "date", False),
        ("status", "status", False),
        ("rating", "float", False),
        ("confidential", "bool", False),
    ),
    "conflicts": (
        ("candidate", "str", True),
        ("municipality", "muni", True),
        ("reason", "str", False),
    ),
}

#: The kind of each column of each table (``str``, ``int``, ``float``, ``bool``, ``date``,
#: ``tags``, ``skills`` …), for readers that hold typed sources such as JSON to their types.
COLUMN_KINDS: Mapping[str, Mapping[str, str]] = {
    table: {c: kind for c, kind, _ in spec} for table, spec in _SPECS.items()}

#: Japanese column headers accepted in CSV files (and DataFrames), mapped to the English ones.
JA_HEADERS: Mapping[str, str] = {
    "コード": "code",
    "団体コード": "code",
    "名称": "name_ja",
    "英語名": "name_en",
    "種別": "kind",
    "地域": "region",
    "緯度": "lat",
    "経度": "lon",
    "人口": "population",
    "島嶼": "island",
    "ID": "id",
    "自治体": "municipality",
    "分野": "field",
    "トピック": "topics",
    "件名": "title",
    "内容": "description",
    "形態": "mode",
    "開始日": "start",
    "終了日": "end",
    "機密": "confidential",
    "工数（人日）": "effort_days",
    "工数": "effort_days",
    "優先順位": "priority",
    "氏名・社名": "name",
    "区分": "kind",
    "対応分野": "fields",
    "スキル": "skills",
    "拠点": "base",
    "リモート可": "remote",
    "同時受託数": "capacity",
    "移動上限（分）": "max_travel_min",
    "稼働開始日": "available_from",
    "稼働終了日": "available_until",
    "候補者": "candidate",
    "ニーズ": "need",
    "状態": "status",
    "評価": "rating",
    "理由": "reason",
}

_TRUE = {"true", "yes", "1", "y", "はい", "有", "可", "○"}
_FALSE = {"false", "no", "0", "n", "いいえ", "無", "不可", "×", ""}
_MODES = {
    "onsite": "onsite",
    "on-site": "onsite",
    "現地": "onsite",
    "訪問": "onsite",
    "remote": "remote",
    "online": "remote",
    "オンライン": "remote",
    "リモート": "remote",
}
_KINDS = {
    "company": "company",
    "企業": "company",
    "法人": "company",
    "individual": "individual",
    "個人": "individual",
}
_STATUSES = {"active": "active", "実施中": "active", "completed": "completed", "完了": "completed"}
_FIELD_NAMES: dict[str, str] = {f: f for f in FIELDS}
for _key, (_en, _ja) in FIELD_LABELS.items():
    _FIELD_NAMES[_en.lower()] = _key
    _FIELD_NAMES[_ja] = _key

Where = Callable[[str, int, str], str]


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas
        return True
    return isinstance(value, str) and value.strip() == ""


def _split(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [p.strip() for p in str(value).split(_LIST_SEP) if p.strip()]


class _Bad(Exception):
    def __init__(self, message: str, message_ja: str):
        super().__init__(message)
        self.message = message
        self.message_ja = message_ja


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _Bad(
            f"not a date (YYYY-MM-DD): {value!r}", f"日付（YYYY-MM-DD）ではありません: {value!r}"
        ) from None


def _as_number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise _Bad(f"not a number: {value!r}", f"数値ではありません: {value!r}")
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise _Bad(f"not a number: {value!r}", f"数値ではありません: {value!r}") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise _Bad(f"not a finite number: {value!r}", f"有限の数値ではありません: {value!r}")
    if integer:
        if x != int(x):
            raise _Bad(f"not a whole number: {value!r}", f"整数ではありません: {value!r}")
        return int(x)
    return x


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad(f"not a yes/no value: {value!r}", f"はい/いいえ ではありません: {value!r}")


def _as_choice(value: Any, table: Mapping[str, str], what: str, what_ja: str) -> str:
    text = str(value).strip()
    key = table.get(text, table.get(text.lower()))
    if key is None:
        known = ", ".join(sorted(set(table.values())))
        raise _Bad(
            f"unknown {what} {text!r} (known: {known})", f"未知の{what_ja} {text!r}（{known}）"
        )
    return key


def _as_field(value: Any) -> str:
    """A field from its id, label or usual variant (``データ活用``), as everywhere."""

    hit = resolve_field(str(value))
    return hit if hit is not None else _as_choice(value, _FIELD_NAMES, "field", "分野")


def _as_skills(value: Any) -> tuple[tuple[str, int], ...]:
    items: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(v, Mapping) for v in value):
        for v in value:
            if "name" not in v or "level" not in v:
                raise _Bad("each skill needs name and level", "スキルには name と level が必要です")
            items.append((str(v["name"]), v["level"]))
    else:
        for part in _split(value):
            name, sep, level = part.rpartition(":")
            if not sep or not name.strip():
                raise _Bad(
                    f"skill {part!r} must look like name:level, e.g. ebpm:4",
                    f"スキル {part!r} は 名前:レベル（例 ebpm:4）の形が必要です",
                )
            items.append((name.strip(), level))
    out: list[tuple[str, int]] = []
    for name, level in items:
        try:
            lv = _as_number(level, integer=True)
        except _Bad:
            raise _Bad(
                f"skill {name!r}: level must be a whole number 1..5, not {level!r}",
                f"スキル {name!r}: レベルは 1〜5 の整数が必要です（{level!r}）",
            ) from None
        out.append((str(name), int(lv)))
    return tuple(out)


def _parse_value(kind: str, value: Any, munis: Any) -> Any:
    if kind == "str":
        return str(value).strip()
    if kind == "float":
        return float(_as_number(value, integer=False))
    if kind == "int":
        return int(_as_number(value, integer=True))
    if kind == "bool":
        return _as_bool(value)
    if kind == "date":
        return _as_date(value)
    if kind == "tags":
        return tuple(_split(value))
    if kind == "field":
        return _as_field(value)
    if kind == "fields":
        return tuple(_as_field(v) for v in _split(value))
    if kind == "mode":
        return _as_choice(value, _MODES, "mode", "形態")
    if kind == "kind":
        return _as_choice(value, _KINDS, "kind", "区分")
    if kind == "status":
        return _as_choice(value, _STATUSES, "status", "状態")
    if kind == "skills":
        return _as_skills(value)
    if kind == "muni":
        text = str(value).strip()
        return munis.get(text, munis.get(text.lower(), text))
    raise AssertionError(kind)


_BUILDERS: dict[str, Callable[..., Any]] = {
    "municipalities": Municipality,
    "needs": Need,
    "candidates": Candidate,
    "engagements": Engagement,
    "conflicts": Conflict,
}


class _Munis:
    """Municipality codes by code, Japanese or romaji name (``engine.names``, one resolver)."""

    def __init__(self, municipalities: Iterable[Municipality]):
        self._index = NameIndex(((m.code, (m.name_ja, m.name_en)) for m in municipalities),
                                place=True)

    def get(self, key: str, default: Any = None) -> Any:
        hit = self._index.resolve(key)
        return default if hit is None else hit

    def __iter__(self) -> Any:
        return iter(())


def _muni_lookup(municipalities: Iterable[Municipality]) -> _Munis:
    return _Munis(municipalities)


def _parse_table(
    table: str,
    records: list[Mapping[str, Any]],
    where: Where,
    problems: list[Problem],
    munis: Any,
    muni_coords: Mapping[str, tuple[float, float]],
) -> list[Any]:
    spec = _SPECS[table]
    known_cols = {c for c, _, _ in spec}
    out: list[Any] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            problems.append(
                Problem(where(table, i, ""), "must be an object", "オブジェクトが必要です")
            )
            continue
        kwargs: dict[str, Any] = {}
        ok = True
        for col in rec:
            if col not in known_cols and not str(col).startswith("_"):
                problems.append(
                    Problem(
                        where(table, i, str(col)),
                        f"unknown column (known: {', '.join(sorted(known_cols))})",
                        "未知の列です",
                    )
                )
                ok = False
        for col, kind, required in spec:
            value = rec.get(col)
            if _is_blank(value) and kind not in ("tags", "skills"):
                if required:
                    problems.append(Problem(where(table, i, col), "is required", "必須です"))
                    ok = False
                continue
            if _is_blank(value):
                continue
            try:
                kwargs[col] = _parse_value(kind, value, munis)
            except _Bad as bad:
                problems.append(Problem(where(table, i, col), bad.message, bad.message_ja))
                ok = False
        if table == "municipalities" and "population" not in kwargs:
            kwargs["population"] = 0
        if table == "candidates" and ok and ("lat" not in kwargs or "lon" not in kwargs):
            base = munis.get(kwargs.get("base", ""), kwargs.get("base", ""))
            if base in muni_coords:
                kwargs.setdefault("lat", muni_coords[base][0])
                kwargs.setdefault("lon", muni_coords[base][1])
            else:
                problems.append(
                    Problem(
                        where(table, i, "lat"),
                        "lat/lon are required unless base is a known municipality",
                        "base が既知の自治体でない場合は緯度・経度が必要です",
                    )
                )
                ok = False
        if not ok:
            continue
        try:
            out.append(_BUILDERS[table](**kwargs))
        except InputError as err:
            for p in err.problems:
                col = p.path.split("[", 1)[0].split(".", 1)[0]
                path = where(table, i, col)
                if p.path != col and "[" in p.path and where(table, 0, "x").endswith(".x"):
                    path = where(table, i, p.path)
                problems.append(Problem(path, p.message, p.message_ja))
    return out


def _assemble(
    tables: Mapping[str, list[Mapping[str, Any]] | None],
    where: Where,
    meta: Mapping[str, object],
) -> MatchData:
    problems: list[Problem] = []
    raw_munis = tables.get("municipalities")
    if raw_munis is None:
        municipalities = list(ehime_municipalities())
    else:
        municipalities = _parse_table("municipalities", raw_munis, where, problems, {}, {})
    munis = _muni_lookup(municipalities)
    coords = {m.code: (m.lat, m.lon) for m in municipalities}
    parsed: dict[str, list[Any]] = {}
    for table in ("needs", "candidates", "engagements", "conflicts"):
        parsed[table] = _parse_table(
            table, list(tables.get(table) or []), where, problems, munis, coords
        )
    # Rows that failed still exist for the references of others (no second, false problem).
    pending = {t: {str(rec.get(c, "")).strip() for rec in (tables.get(t) or [])
                   if isinstance(rec, Mapping)}
               for t, c in (("candidates", "id"), ("municipalities", "code"))}
    pending["municipalities"] |= {m.code for m in municipalities}
    args = (
        tuple(municipalities),
        tuple(parsed["needs"]),
        tuple(parsed["candidates"]),
        tuple(parsed["engagements"]),
        tuple(parsed["conflicts"]),
    )
    if problems:
        problems += reference_problems(*args, where=where, pending=pending)
        raise InputError(problems)
    problems = reference_problems(*args, where=where)
    if problems:
        raise InputError(problems)
    return MatchData(*args, meta=dict(meta))


def _json_where(table: str, index: int, column: str) -> str:
    return f"{table}[{index}].{column}" if column else f"{table}[{index}]"


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
        if key not in _SPECS and key not in ("format", "meta") and not str(key).startswith("_"):
            problems.append(Problem(str(key), "unknown key", "未知のキーです"))
    for table in _SPECS:
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
    return _assemble(tables, _json_where, meta)


def read_json(path: str | Path) -> MatchData:
    """Matching data from a JSON file; unreadable or malformed files raise ``InputError``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(
            Problem(p.name, f"cannot read: {err.strerror}", "読み込めません")
        ) from None
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
        problems.append(Problem(path.name, f"cannot read: {err.strerror}", "読み込めません"))
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
        known = {c for c, _, _ in _SPECS[table]}
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
            return _json_where(t, index, column)
        place = f"{name} row {numbers[index] if index < len(numbers) else index + 2}"
        return f"{place}, column '{column}'" if column else place

    return _assemble(tables, where, {"source": name})


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
        data = _assemble(tables, where, {"source": d.name})
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
        raise InputError(Problem(str(p.name), "no such file or directory", "ファイルがありません"))
    return read_json(p)


def ehime_municipalities() -> tuple[Municipality, ...]:
    """The bundled 20 Ehime municipalities and the prefectural office, in code order."""
    text = resources.files("engine").joinpath("data/ehime_municipalities.csv").read_text("utf-8")
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        out.append(
            Municipality(
                code=r["code"],
                name_ja=r["name_ja"],
                name_en=r["name_en"],
                kind=r["kind"],
                region=r["region"],
                lat=float(r["lat"]),
                lon=float(r["lon"]),
                population=int(r["population_2020"]),
                island=r["island"].strip().lower() == "yes",
            )
        )
    return tuple(out)


def load_demo() -> MatchData:
    """The bundled demo: real Ehime municipalities, synthetic candidates, needs and history."""
    text = resources.files("engine.matching").joinpath("data/demo.json").read_text("utf-8")
    return parse_document(json.loads(text))


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _records(data: MatchData) -> dict[str, list[dict[str, Any]]]:
    munis = [
        {
            "code": m.code,
            "name_ja": m.name_ja,
            "name_en": m.name_en,
            "kind": m.kind,
            "region": m.region,
            "lat": m.lat,
            "lon": m.lon,
            "population": m.population,
            "island": m.island,
        }
        for m in data.municipalities
    ]
    needs = [
        {
            "id": n.id,
            "municipality": n.municipality,
            "field": n.field,
            "topics": list(n.topics),
            "title": n.title,
            "description": n.description,
            "mode": n.mode,
            "start": n.start.isoformat(),
            "end": n.end.isoformat(),
            "confidential": n.confidential,
            "effort_days": n.effort_days,
            "priority": n.priority,
        }
        for n in data.needs
    ]
    cands = [
        {
            "id": c.id,
            "name": c.name,
            "kind": c.kind,
            "fields": list(c.fields),
            "skills": {s: lv for s, lv in c.skills},
            "topics": list(c.topics),
            "base": c.base,
            "lat": c.lat,
            "lon": c.lon,
            "remote": c.remote,
            "capacity": c.capacity,
            "max_travel_min": c.max_travel_min,
            "available_from": _cell(c.available_from),
            "available_until": _cell(c.available_until),
        }
        for c in data.candidates
    ]
    engs = [
        {
            "id": e.id,
            "candidate": e.candidate,
            "municipality": e.municipality,
            "need": e.need,
            "field": e.field,
            "topics": list(e.topics),
            "start": _cell(e.start),
            "end": _cell(e.end),
            "status": e.status,
            "rating": e.rating,
            "confidential": e.confidential,
        }
        for e in data.engagements
    ]
    confs = [
        {"candidate": k.candidate, "municipality": k.municipality, "reason": k.reason}
        for k in data.conflicts
    ]
    return {
        "municipalities": munis,
        "needs": needs,
        "candidates": cands,
        "engagements": engs,
        "conflicts": confs,
    }


def to_document(data: MatchData) -> dict[str, Any]:
    """The JSON document of ``data`` (``parse_document`` reads it back unchanged)."""
    doc: dict[str, Any] = {"format": FORMAT, "meta": dict(data.meta)}
    for table, recs in _records(data).items():
        doc[table] = [{k: v for k, v in r.items() if v is not None and v != ""} for r in recs]
    return doc


def write_json(data: MatchData, path: str | Path) -> None:
    """Write ``data`` as one JSON document (UTF-8, Japanese kept readable)."""
    Path(path).write_text(
        json.dumps(to_document(data), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return _LIST_SEP.join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return _LIST_SEP.join(str(v) for v in value)
    return str(value)


def write_csv_dir(data: MatchData, directory: str | Path) -> None:
    """Write ``data`` as the CSV files of ``CSV_FILES`` (English headers, UTF-8)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for table, recs in _records(data).items():
        cols = [c for c, _, _ in _SPECS[table]]
        with (d / CSV_FILES[table]).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            for r in recs:
                w.writerow([_csv_text(r.get(c)) for c in cols])


_INDEX = {"municipalities": "code", "needs": "id", "candidates": "id", "engagements": "id"}


def to_frames(data: MatchData) -> dict[str, pd.DataFrame]:
    """One DataFrame per table, indexed by id (``code`` for municipalities); conflicts get a
    ``(candidate, municipality)`` index. List cells hold tuples, skills a ``{name: level}``."""
    out: dict[str, pd.DataFrame] = {}
    for table, recs in _records(data).items():
        cols = [c for c, _, _ in _SPECS[table]]
        df = pd.DataFrame(recs, columns=cols)
        for c in ("topics", "fields"):
            if c in df:
                df[c] = df[c].map(tuple)
        if table in _INDEX:
            df = df.set_index(_INDEX[table])
        else:
            df = df.set_index(["candidate", "municipality"])
        out[table] = df
    return out


def from_frames(
    frames: Mapping[str, pd.DataFrame], meta: Mapping[str, object] | None = None
) -> MatchData:
    """Matching data from DataFrames shaped like ``to_frames`` output (or CSV-like columns).

    Paths in errors read ``needs[3].effort_days`` where 3 is the row position.
    """
    tables: dict[str, Any] = {}
    for table in _SPECS:
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
    return _assemble(tables, _json_where, meta or {})
