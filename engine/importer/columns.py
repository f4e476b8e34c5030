"""The sheet's columns: the known ones (English or Japanese headers) and the note columns
read past, a header cell read with its unit in brackets, the header row found below any
title rows, and the table's headers mapped onto the known columns."""

from __future__ import annotations

import re

import pandas as pd

from engine.errors import Problem
from engine.names import NameIndex, normalize

__all__ = ["COLUMNS", "COLUMN_INDEX", "FREE_TEXT", "HEADER_SEARCH_ROWS", "NOTE_COLUMNS", "REQUIRED", "header_row", "header_score", "label", "map_columns"]

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ID", "番号", "依頼番号", "No", "受付番号", "管理番号"),
    "municipality": ("municipality", "自治体", "市町", "市町名", "自治体名", "市町村", "市町村名",
                     "団体名", "依頼元"),
    "fields": ("fields", "分野", "field", "専門分野", "相談分野", "分野名"),
    "mode": ("mode", "形態", "方法", "実施方法", "実施形態", "訪問/オンライン", "対応方法"),
    "duration_min": ("duration_min", "所要時間", "duration", "時間（分）", "時間(分)", "相談時間",
                     "面談時間", "想定時間", "所要"),
    "priority": ("priority", "優先度", "優先順位", "重要度"),
    "earliest": ("earliest", "希望開始日", "開始日", "開始希望日", "希望日（から）"),
    "latest": ("latest", "希望終了日", "終了日", "終了希望日", "希望期限"),
    "window": ("window", "希望時間帯", "時間帯", "希望時間"),
    "title": ("title", "件名", "内容", "相談内容", "テーマ", "相談テーマ", "タイトル", "概要"),
    "confidential": ("confidential", "非公開", "機密", "公開可否"),
    "due": ("due", "期限", "対応期限", "期日", "締切", "締め切り", "due date"),
    "after": ("after", "前回の依頼", "前回", "前回の番号", "続きの元", "フォロー元", "follows",
              "follows request"),
    "after_min_days": ("min_days", "最短間隔", "間隔（最短）", "最短日数", "何日後から"),
    "after_max_days": ("max_days", "最長間隔", "間隔（最長）", "最長日数", "何日後まで"),
    "same_experts": ("same_experts", "同じ専門家", "同一専門家", "same experts"),
}


#: Columns a coordinator keeps for herself: read past, never an error.
NOTE_COLUMNS = ("備考", "メモ", "担当者", "連絡先", "受付日", "状態", "ステータス", "note", "notes",
                "memo", "remarks", "comment", "コメント", "電話", "メール")


COLUMN_INDEX = NameIndex(COLUMNS.items())


_NOTE_INDEX = NameIndex((n, ()) for n in NOTE_COLUMNS)


REQUIRED = ("municipality", "fields", "mode", "duration_min")


#: Free text, kept as written (no NFKC: ``①SNS…㈱`` stays).
FREE_TEXT = ("title",)


#: A unit or a note in brackets after a header: 「所要時間（分）」, 「優先度 [1-10]」, 「分野※」.
_HEADER_TAIL = re.compile(r"\s*(?:[(\[【<〔][^)\]】>〕]*[)\]】>〕]|[※*].*)\s*$")


#: How many rows from the top may hold titles and notes before the header row.
HEADER_SEARCH_ROWS = 30


def label(key: str) -> str:
    """A column's usual Japanese header (where a missing column is named)."""
    return COLUMNS[key][1]


def _header(text: str) -> tuple[str | None, str]:
    """``(column key or None, unit)`` of a header cell: ``'所要時間（分）'`` → duration_min, 分."""
    flat = normalize(text).replace("\n", "")
    key = COLUMN_INDEX.resolve(flat)
    unit = ""
    while key is None and (m := _HEADER_TAIL.search(flat)) and m.start() > 0:
        unit = m.group(0).strip(" ()[]【】<>〔〕※*") or unit
        flat = flat[:m.start()]
        key = COLUMN_INDEX.resolve(flat)
    return key, unit


def header_score(cells: list[str]) -> int:
    """How many known columns a row names (the header row names the most)."""
    return len({k for c in cells if c.strip() and (k := _header(c)[0]) is not None})


def header_row(rows: list[tuple[int, list[str]]]) -> int | None:
    """The index in ``rows`` of the header row: the first of the top rows naming the most
    known columns, at least two; ``None`` when no row does."""
    scores = [header_score(cells) for _, cells in rows[:HEADER_SEARCH_ROWS]]
    if not scores or max(scores) < 2:
        return None
    return scores.index(max(scores))


def map_columns(df: pd.DataFrame) -> tuple[dict[str, str], dict[str, str], list[Problem]]:
    """Key → header as written, key → unit in brackets, and the header's problems."""
    found: dict[str, str] = {}
    units: dict[str, str] = {}
    problems = []
    for col in df.columns:
        name = str(col).strip()
        if not name or name.startswith("Unnamed:"):
            continue            # an empty header cell: a spacer column, nothing to read
        key, unit = _header(name)
        if key is None:
            if _NOTE_INDEX.resolve(_HEADER_TAIL.sub("", normalize(name))) is not None:
                continue
            problems.append(Problem(
                f"column '{name}'", "unknown column (known: " + ", ".join(
                    names[0] for names in COLUMNS.values()) + ")",
                "不明な列です（使える列: " + "、".join(n[1] for n in COLUMNS.values()) + "）",
                f"列「{name}」"))
        elif key in found:
            problems.append(Problem(f"column '{name}'", f"duplicates column '{found[key]}'",
                                    f"列「{found[key]}」と重複しています", f"列「{name}」"))
        else:
            found[key] = str(col)
            units[key] = unit
    for key in REQUIRED:
        if key not in found:
            ja = " / ".join(COLUMNS[key][1:4])
            problems.append(Problem(f"column '{label(key)}'",
                                    f"required column missing ({ja} or {COLUMNS[key][0]})",
                                    f"必須の列がありません（{ja}）", f"列「{label(key)}」"))
    return found, units, problems
