"""The document reader of the exchange format: a walker over parsed JSON that collects every
problem with its path, and reading JSON files or text into documents."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, read_utf8
from engine.readings import (
    read_date,
)
from engine.words import month_day

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MISSING = object()


class Reader:
    """Collects problems while walking a JSON document; every getter returns a usable value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def err(self, path: str, en: str, ja: str) -> None:
        self.problems.append(Problem(path, en, ja))

    def obj(self, value: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.err(path, f"must be an object, got {_kind(value)}",
                     f"オブジェクトである必要があります（{_kind(value)} が指定されました）")
            return None
        return value

    def unknown(self, d: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in d:
            if key not in allowed:
                p = f"{path}.{key}" if path else key
                self.err(p, f"unknown field (allowed: {', '.join(sorted(allowed))})",
                         "不明な項目です")

    def section(self, d: Mapping[str, Any], key: str, allowed: set[str]
                ) -> dict[str, Any] | None:
        """An optional object at the top of the document: None when it is absent or not an
        object (reported), its unknown fields reported."""
        raw = self.get(d, key, "", required=False)
        if raw is _MISSING:
            return None
        o = self.obj(raw, key)
        if o is not None:
            self.unknown(o, allowed, key)
        return o

    def get(self, d: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
        p = f"{path}.{key}" if path else key
        if key not in d or d[key] is None:
            if required:
                self.err(p, "is required", "必須項目です")
            return _MISSING
        return d[key]

    def string(self, d: Mapping[str, Any], key: str, path: str, required: bool = True,
               default: str = "") -> str:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return default
        if not isinstance(v, str):
            self.err(p, f"must be a string, got {_kind(v)}", "文字列である必要があります")
            return default
        if required and not v.strip():
            self.err(p, "must not be empty", "空にできません")
        return v

    def integer(self, d: Mapping[str, Any], key: str, path: str, *, required: bool = True,
                default: int | None = None, lo: int | None = None, hi: int | None = None,
                positive: bool = False) -> int | None:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, int | float) or (
                isinstance(v, float) and not v.is_integer()):
            self.err(p, f"must be a whole number, got {v!r}", f"整数である必要があります（{v!r}）")
            return default
        v = int(v)
        if positive and v <= 0:
            self.err(p, "must be > 0", "0 より大きい必要があります")
            return default
        if lo is not None and v < lo:
            self.err(p, f"must be >= {lo}", f"{lo} 以上である必要があります")
            return default
        if hi is not None and v > hi:
            self.err(p, f"must be <= {hi}", f"{hi} 以下である必要があります")
            return default
        return v

    def number(self, d: Mapping[str, Any], key: str, path: str, lo: float, hi: float) -> float | None:
        v = self.get(d, key, path, required=False)
        p = f"{path}.{key}"
        if v is _MISSING:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.err(p, f"must be a number, got {v!r}", "数値である必要があります")
            return None
        if not lo <= v <= hi:
            self.err(p, f"must be between {lo} and {hi}", f"{lo} から {hi} の範囲である必要があります")
            return None
        return float(v)

    def boolean(self, d: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        v = self.get(d, key, path, required=False)
        if v is _MISSING:
            return default
        if not isinstance(v, bool):
            self.err(f"{path}.{key}" if path else key, f"must be true or false, got {v!r}",
                     "true か false である必要があります")
            return default
        return v

    def date(self, value: Any, path: str) -> dt.date | None:
        if not isinstance(value, str):
            self.err(path, f"must be a date YYYY-MM-DD, got {_kind(value)}",
                     "日付（YYYY-MM-DD）である必要があります")
            return None
        day = read_date(value)          # 2026-12-08, 2026/12/8, 2026年12月8日: as in the sheet
        if day is None:
            self.err(path, f"must be a date YYYY-MM-DD, got {value!r}",
                     f"日付（YYYY-MM-DD）である必要があります（{value!r}）")
        return day

    def outside(self, day: dt.date | None, path: str, start: dt.date | None,
                end: dt.date | None) -> bool:
        """Report ``day`` at ``path`` when it falls outside ``start``…``end`` (the horizon);
        whether it did (an unknown day or horizon is not reported)."""
        if day is None or start is None or end is None or start <= day <= end:
            return False
        self.err(path, f"{month_day(day)} is outside the horizon {month_day(start)} – "
                 f"{month_day(end)}",
                 f"{month_day(day)} は計画期間 {month_day(start)} – {month_day(end)} の外です")
        return True

    def datetime(self, value: Any, path: str) -> dt.datetime | None:
        """A local date-time ``YYYY-MM-DDTHH:MM`` (seconds allowed, no zone: local time)."""
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?",
                                                   value):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        self.err(path, f"must be a local date and time YYYY-MM-DDTHH:MM, got {value!r}",
                 f"日時（YYYY-MM-DDTHH:MM）である必要があります（{value!r}）")
        return None

    def time(self, value: Any, path: str) -> int | None:
        if isinstance(value, str) and (m := _TIME.match(value)):
            return int(m.group(1)) * 60 + int(m.group(2))
        self.err(path, f"must be a time HH:MM, got {value!r}",
                 f"時刻（HH:MM）である必要があります（{value!r}）")
        return None

    def opt_time(self, d: Mapping[str, Any], key: str, path: str, default: int) -> int:
        v = self.get(d, key, path, required=False)
        if v is _MISSING:
            return default
        t = self.time(v, f"{path}.{key}")
        return default if t is None else t

    def str_list(self, value: Any, path: str, *, nonempty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.err(path, f"must be a list, got {_kind(value)}", "リストである必要があります")
            return ()
        if nonempty and not value:
            self.err(path, "must not be empty", "空にできません")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.err(f"{path}[{i}]", "must be a non-empty string", "空でない文字列である必要があります")
            else:
                out.append(item)
        return tuple(out)

    def items(self, d: Mapping[str, Any], key: str, path: str, required: bool) -> list[Any]:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return []
        if not isinstance(v, list):
            self.err(p, f"must be a list, got {_kind(v)}", "リストである必要があります")
            return []
        if required and not v:
            self.err(p, "must not be empty", "空にできません")
        return v


    def each(self, d: Mapping[str, Any], key: str, allowed: set[str] | None,
             required: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path, object)`` for every object in the list ``d[key]``; non-objects and
        unknown fields are reported on the way."""
        for i, raw in enumerate(self.items(d, key, "", required=required)):
            path = f"{key}[{i}]"
            x = self.obj(raw, path)
            if x is None:
                continue
            if allowed is not None:
                self.unknown(x, allowed, path)
            yield path, x

    def known(self, value: str, path: str, ids: set[str] | Mapping[str, Any],
              what: str = "location") -> None:
        """Report ``value`` when it is not one of ``ids``."""
        if value and value not in ids:
            ja = {"location": "場所", "expert": "専門家"}.get(what, what)
            self.err(path, f"unknown {what} {value!r}", f"不明な{ja} {value!r} です")


def _kind(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(v), type(v).__name__)


def _unique(r: Reader, ids: list[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for path, ident in ids:
        if ident in seen:
            r.err(path, f"duplicate {what} id {ident!r} (first at {seen[ident]})",
                  f"{what} の id {ident!r} が重複しています（最初は {seen[ident]}）")
        else:
            seen[ident] = path



def read_json(path: str | Path) -> Any:
    """Read a JSON file; a missing file or bad JSON raises ``InputError`` naming it."""
    return loads_json(read_utf8(path), str(Path(path)))


def loads_json(text: str | bytes, where: str = "") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ja = f"JSON として読めません: {exc.lineno} 行 {exc.colno} 列（{exc.msg}）"
        raise InputError(Problem(where, msg, ja)) from None
    except UnicodeDecodeError:
        raise InputError(Problem(where, "not UTF-8 text", "UTF-8 のテキストではありません")) from None
