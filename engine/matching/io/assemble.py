"""Tables of records (from JSON, CSV or DataFrames) made into one validated ``MatchData``:
each row built and checked, then the references between tables, every problem named by
the reader's own ``where`` (a JSON path or a CSV row and column)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any

from engine.errors import InputError, Problem
from engine.matching.io.tables import SPECS
from engine.matching.io.values import BadValue, is_blank, parse_value
from engine.matching.model import (
    Candidate,
    Conflict,
    Engagement,
    MatchData,
    Municipality,
    Need,
    reference_problems,
)
from engine.names import NameIndex

__all__ = ["Where", "assemble", "ehime_municipalities", "json_where"]

Where = Callable[[str, int, str], str]


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
    spec = SPECS[table]
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
            if is_blank(value) and kind not in ("tags", "skills"):
                if required:
                    problems.append(Problem(where(table, i, col), "is required", "必須です"))
                    ok = False
                continue
            if is_blank(value):
                continue
            try:
                kwargs[col] = parse_value(kind, value, munis)
            except BadValue as bad:
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


def assemble(
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


def json_where(table: str, index: int, column: str) -> str:
    return f"{table}[{index}].{column}" if column else f"{table}[{index}]"


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
