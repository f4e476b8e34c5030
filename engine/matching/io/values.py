"""One cell read as its column's kind (a date, a number, yes/no, a mode, a field, tags,
skills, a municipality), in English or Japanese; a cell that cannot be read raises
``BadValue`` with the reason in both languages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.matching.io.tables import LIST_SEP
from engine.model import FIELD_LABELS, FIELDS
from engine.names import resolve_field

__all__ = ["BadValue", "is_blank", "parse_value"]

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


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas
        return True
    return isinstance(value, str) and value.strip() == ""


def _split(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    return [p.strip() for p in str(value).split(LIST_SEP) if p.strip()]


class BadValue(Exception):
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
        raise BadValue(
            f"not a date (YYYY-MM-DD): {value!r}", f"日付（YYYY-MM-DD）ではありません: {value!r}"
        ) from None


def _as_number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise BadValue(f"not a number: {value!r}", f"数値ではありません: {value!r}")
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise BadValue(f"not a number: {value!r}", f"数値ではありません: {value!r}") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise BadValue(f"not a finite number: {value!r}", f"有限の数値ではありません: {value!r}")
    if integer:
        if x != int(x):
            raise BadValue(f"not a whole number: {value!r}", f"整数ではありません: {value!r}")
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
    raise BadValue(f"not a yes/no value: {value!r}", f"はい/いいえ ではありません: {value!r}")


def _as_choice(value: Any, table: Mapping[str, str], what: str, what_ja: str) -> str:
    text = str(value).strip()
    key = table.get(text, table.get(text.lower()))
    if key is None:
        known = ", ".join(sorted(set(table.values())))
        raise BadValue(
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
                raise BadValue("each skill needs name and level", "スキルには name と level が必要です")
            items.append((str(v["name"]), v["level"]))
    else:
        for part in _split(value):
            name, sep, level = part.rpartition(":")
            if not sep or not name.strip():
                raise BadValue(
                    f"skill {part!r} must look like name:level, e.g. ebpm:4",
                    f"スキル {part!r} は 名前:レベル（例 ebpm:4）の形が必要です",
                )
            items.append((name.strip(), level))
    out: list[tuple[str, int]] = []
    for name, level in items:
        try:
            lv = _as_number(level, integer=True)
        except BadValue:
            raise BadValue(
                f"skill {name!r}: level must be a whole number 1..5, not {level!r}",
                f"スキル {name!r}: レベルは 1〜5 の整数が必要です（{level!r}）",
            ) from None
        out.append((str(name), int(lv)))
    return tuple(out)


def parse_value(kind: str, value: Any, munis: Any) -> Any:
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
