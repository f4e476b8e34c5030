"""Reading a scenario file's values with their paths: each problem is collected (English and
Japanese) and the reading goes on, so that a file's every problem is reported at once."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from engine.errors import Problem

__all__ = ["FieldReader"]

class FieldReader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def err(self, path: str, en: str, ja: str) -> None:
        self.problems.append(Problem(path, en, ja))

    def keys(self, d: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for k in d:
            if k not in allowed:
                self.err(f"{path}.{k}" if path else str(k),
                         f"unknown field (allowed: {', '.join(sorted(allowed))})", "不明な項目です")

    def mapping(self, v: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(v, Mapping):
            self.err(path, "must be a mapping", "マッピング（キー: 値）である必要があります")
            return None
        return v

    def seq(self, v: Any, path: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            self.err(path, "must be a list", "リストである必要があります")
            return []
        return v

    def number(self, v: Any, path: str, lo: float, hi: float) -> float | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.err(path, f"must be a number, got {v!r}", "数値である必要があります")
            return None
        if not lo <= v <= hi:
            self.err(path, f"must be between {lo:g} and {hi:g}",
                     f"{lo:g} から {hi:g} の範囲である必要があります")
            return None
        return float(v)

    def whole(self, v: Any, path: str, lo: int, hi: int) -> int | None:
        x = self.number(v, path, lo, hi)
        if x is None:
            return None
        if not x.is_integer():
            self.err(path, f"must be a whole number, got {v!r}", "整数である必要があります")
            return None
        return int(x)

    def date(self, v: Any, path: str) -> dt.date | None:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        try:
            if isinstance(v, str):
                return dt.date.fromisoformat(v)
        except ValueError:
            pass
        self.err(path, f"must be a date YYYY-MM-DD, got {v!r}",
                 "日付（YYYY-MM-DD）である必要があります")
        return None

    def time(self, v: Any, path: str) -> int | None:
        # YAML 1.1 reads an unquoted 17:15 as the base-60 number 1035 = minutes after midnight.
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 24 * 60:
            return v
        if isinstance(v, str) and len(v) == 5 and v[2] == ":" and v.replace(":", "").isdigit():
            h, m = int(v[:2]), int(v[3:])
            if h < 24 and m < 60:
                return h * 60 + m
        self.err(path, f"must be a time HH:MM, got {v!r}", "時刻（HH:MM）である必要があります")
        return None
