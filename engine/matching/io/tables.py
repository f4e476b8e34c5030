"""The tables of matching data and their columns: the JSON ``format`` tag, the CSV file of
each table, each column's kind and whether it is required, and the Japanese headers accepted
for them."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COLUMN_KINDS", "CSV_FILES", "FORMAT", "JA_HEADERS", "LIST_SEP", "SPECS"]

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

LIST_SEP = ";"

# Column specs: (column, kind, required). Kinds are parsed by ``parse_value``.
SPECS: dict[str, tuple[tuple[str, str, bool], ...]] = {
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
    table: {c: kind for c, kind, _ in spec} for table, spec in SPECS.items()}

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
