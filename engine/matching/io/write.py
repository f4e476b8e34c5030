"""Matching data written out: as one JSON document, as a directory of CSV files (English
headers), or as one DataFrame per table."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from engine.matching.io.tables import CSV_FILES, FORMAT, LIST_SEP, SPECS
from engine.matching.model import (
    MatchData,
)

__all__ = ["to_document", "to_frames", "write_csv_dir", "write_json"]

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
        return LIST_SEP.join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return LIST_SEP.join(str(v) for v in value)
    return str(value)


def write_csv_dir(data: MatchData, directory: str | Path) -> None:
    """Write ``data`` as the CSV files of ``CSV_FILES`` (English headers, UTF-8)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for table, recs in _records(data).items():
        cols = [c for c, _, _ in SPECS[table]]
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
        cols = [c for c, _, _ in SPECS[table]]
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
