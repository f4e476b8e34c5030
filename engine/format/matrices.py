"""The ``travel`` section of a ``plan-request/1`` document: minutes written inline and matrix
files (CSV or xlsx, long or wide layout) read relative to the request file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from engine.format.places import (
    Places,
)
from engine.format.reader import Reader
from engine.travel import MinutesMatrix

_TRAVEL_KEYS = {"minutes", "files"}
MAX_LEG_MINUTES = 366 * 24 * 60
_TRAVEL_FILE_KEYS = {"path", "layout"}


def _parse_travel(r: Reader, d: Mapping[str, Any], places: Places,
                  base_dir: Path | None) -> Mapping[str, Mapping[str, int]]:
    t = r.section(d, "travel", _TRAVEL_KEYS)
    if t is None:
        return {}
    tables = _travel_files(r, t, places, base_dir) if "files" in t else []
    m = t.get("minutes", {})
    m = r.obj(m, "travel.minutes")
    if m is None:
        return {}
    out: dict[str, dict[str, int]] = {}
    for a_raw, row in m.items():
        pa = f"travel.minutes.{a_raw}"
        a = places.resolve(a_raw)
        if a is None:
            r.known(a_raw, pa, set())
            continue
        row = r.obj(row, pa)
        if row is None:
            continue
        for b_raw in row:
            b = places.resolve(b_raw)
            if b is None:
                r.known(b_raw, f"{pa}.{b_raw}", set())
                continue
            v = r.integer(row, b_raw, pa, lo=0, hi=MAX_LEG_MINUTES)
            if v is not None:
                if a == b and v != 0:
                    r.err(f"{pa}.{b_raw}", "a location to itself is 0 minutes", "同じ場所への移動は 0 分です")
                    continue
                out.setdefault(a, {})[b] = v
    if not tables:
        return out
    # Files first, in order, then the document's own minutes: the later wins.
    ids = list(dict.fromkeys(x for frm, to, _ in tables for x in (*frm, *to)))
    seen = set(ids)
    ids += [x for x in dict.fromkeys([*out, *(b for row in out.values() for b in row)])
            if x not in seen]
    index = {x: i for i, x in enumerate(ids)}
    arr = np.full((len(ids), len(ids)), -1, dtype=np.int32)
    for frm, to, minutes in tables:
        fi = np.array([index[x] for x in frm], dtype=np.intp)
        ti = np.array([index[x] for x in to], dtype=np.intp)
        arr[fi, ti] = minutes
    for a, row in out.items():
        for b, v in row.items():
            arr[index[a], index[b]] = v
    np.fill_diagonal(arr, -1)
    return MinutesMatrix(ids, arr)


def _travel_files(r: Reader, t: Mapping[str, Any], places: Places, base_dir: Path | None
                  ) -> list[tuple[list[str], list[str], np.ndarray]]:
    """Every ``travel.files`` entry read: (from ids, to ids, minutes) of its given pairs."""
    files = r.items(t, "files", "travel", required=False)
    if files and base_dir is None:
        r.err("travel.files", "matrix files can be referenced only from a request file "
              "(dxshare plan REQUEST.json), not in a request sent as a body",
              "行列ファイルは依頼ファイルからのみ参照できます（送信された依頼本文からは参照できません）")
        return []
    out = []
    for i, raw in enumerate(files):
        p = f"travel.files[{i}]"
        x = r.obj(raw, p)
        if x is None:
            continue
        r.unknown(x, _TRAVEL_FILE_KEYS, p)
        rel = r.string(x, "path", p)
        layout = r.string(x, "layout", p, required=False) or None
        if layout is not None and layout not in ("long", "wide"):
            r.err(f"{p}.layout", f"must be 'long' or 'wide', got {layout!r}",
                  f"'long' か 'wide' である必要があります（{layout!r}）")
            continue
        if not rel.strip():
            continue
        assert base_dir is not None
        table = _read_matrix_file(r, f"{p}.path", base_dir / rel, rel, layout, places)
        if table is not None:
            out.append(table)
    return out



def _read_matrix_file(r: Reader, p: str, path: Path, rel: str, layout: str | None,
                      places: Places) -> tuple[list[str], list[str], np.ndarray] | None:
    """One matrix file: ``long`` (columns ``from``, ``to``, ``minutes``, one pair a row) or
    ``wide`` (first column the place driven from, one column per place driven to); CSV
    (optionally gzip-compressed) or Parquet. Empty cells are pairs not given."""
    import pandas as pd

    df = _matrix_frame(r, p, path, rel)
    if df is None:
        return None
    cells = _matrix_cells(r, p, rel, df, layout)
    if cells is None:
        return None
    frm_raw, to_raw, values, lines, col_names = cells
    labels = {x: places.resolve(x) for x in {*pd.unique(frm_raw), *pd.unique(to_raw)}}
    unknown = sorted(x for x, v in labels.items() if v is None)
    for x in unknown[:10]:
        r.err(p, f"{rel}: unknown location {x!r}", f"{rel}: 不明な場所 {x!r} です")
    if unknown:
        return None
    if pd.api.types.is_numeric_dtype(values):
        nums = values.astype(float)
        blank = nums.isna()
        text = values.astype(str)
    else:
        text = values.astype(str).str.strip()
        blank = text.isin(["", "nan", "NaN", "None", "<NA>"])
        nums = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = (~blank) & (nums.isna() | (nums % 1 != 0) | (nums < 0) | (nums > MAX_LEG_MINUTES))
    for pos in np.flatnonzero(bad.to_numpy())[:10]:
        r.err(p, f"{rel} line {lines[pos]}, column {col_names[pos]!r}: must be whole minutes "
              f"from 0 to {MAX_LEG_MINUTES}, got {text.iloc[pos]!r}",
              f"{rel} {lines[pos]} 行目「{col_names[pos]}」: 0 から {MAX_LEG_MINUTES} の整数（分）"
              f"である必要があります（{text.iloc[pos]!r}）")
    if bad.any():
        return None
    keep = np.flatnonzero((~blank).to_numpy())
    frm = pd.Series(frm_raw[keep]).map(labels).to_numpy(dtype=object)
    to = pd.Series(to_raw[keep]).map(labels).to_numpy(dtype=object)
    minutes = nums.to_numpy()[keep].astype(np.int64)
    loops = np.flatnonzero((frm == to) & (minutes != 0))
    if len(loops):
        line = lines[keep[loops[0]]]
        r.err(p, f"{rel} line {line}: a location to itself is 0 minutes",
              f"{rel} {line} 行目: 同じ場所への移動は 0 分です")
        return None
    return list(frm), list(to), minutes


def _matrix_frame(r: Reader, p: str, path: Path, rel: str) -> Any:
    """The matrix file as a DataFrame (None, with the error said, when it cannot be read)."""
    import pandas as pd  # start fast

    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            df = pd.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        else:
            r.err(p, f"{rel}: a matrix file is .csv, .csv.gz or .parquet",
                  f"{rel}: 行列ファイルは .csv、.csv.gz または .parquet です")
            return None
    except FileNotFoundError:
        r.err(p, f"{rel}: file not found (paths are relative to the request file)",
              f"{rel}: ファイルが見つかりません（パスは依頼ファイルからの相対パスです）")
        return None
    except ImportError:
        r.err(p, f"{rel}: reading Parquet needs pyarrow: pip install 'dxshare[parquet]'",
              f"{rel}: Parquet の読み込みには pyarrow が必要です: pip install 'dxshare[parquet]'")
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        r.err(p, f"{rel}: cannot read: {exc}", f"{rel}: 読み込めません: {exc}")
        return None
    return df


def _matrix_cells(r: Reader, p: str, rel: str, df: Any, layout: str | None) -> tuple[
        np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray] | None:
    """The cells of a matrix in either layout, one a pair: place driven from, place driven to,
    minutes (as written), the file's line and column of each (None, with the error said, when
    the columns do not make a matrix)."""
    import pandas as pd  # start fast

    cols = [str(c) for c in df.columns]
    if layout is None:
        layout = "long" if cols == ["from", "to", "minutes"] else "wide"
    if layout == "long":
        if cols[:3] != ["from", "to", "minutes"] or len(cols) != 3:
            r.err(p, f"{rel}: a long matrix has the columns from, to, minutes (got "
                  f"{', '.join(cols[:5])})",
                  f"{rel}: long 形式の列は from, to, minutes です（{', '.join(cols[:5])}）")
            return None
        frm_raw = df["from"].astype(str).to_numpy(dtype=object)
        to_raw = df["to"].astype(str).to_numpy(dtype=object)
        values = df["minutes"]
        lines = np.arange(len(df)) + 2
        col_names = np.full(len(df), "minutes", dtype=object)
    else:
        if len(cols) < 2:
            r.err(p, f"{rel}: a wide matrix has the places driven from in its first column and "
                  "one column per place driven to",
                  f"{rel}: wide 形式は1列目が出発地、2列目以降が到着地です")
            return None
        heads = np.array(cols[1:], dtype=object)
        body = df.iloc[:, 1:]
        n, k = body.shape
        frm_raw = np.repeat(df.iloc[:, 0].astype(str).to_numpy(dtype=object), k)
        to_raw = np.tile(heads, n)
        values = pd.Series(body.to_numpy().reshape(-1))
        lines = np.repeat(np.arange(n) + 2, k)
        col_names = to_raw
    return frm_raw, to_raw, values, lines, col_names
