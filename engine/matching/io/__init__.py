"""Read and write matching data: one JSON document, a directory of CSV files, or DataFrames.

Every reader validates the whole input and raises ``InputError`` listing each problem with
the path of the offending value: ``needs[3].effort_days: must be > 0`` for JSON,
``candidates.csv row 12, column 'fields': unknown field 'foo'`` for CSV (row numbers count
the header as row 1, as a spreadsheet shows them). The formats are described in
``docs/MATCHING.md``.

Modules: ``tables`` (the tables and their columns), ``values`` (one cell read as its kind),
``assemble`` (records made into validated data), ``read`` and ``write``.

>>> data = load_demo()
>>> len(data.municipalities), data.meta["synthetic"]
(21, True)
"""

from __future__ import annotations

from engine.matching.io.assemble import ehime_municipalities
from engine.matching.io.read import (
    from_frames,
    load,
    load_demo,
    parse_document,
    read_csv_dir,
    read_csv_table,
    read_json,
)
from engine.matching.io.tables import COLUMN_KINDS, CSV_FILES, FORMAT, JA_HEADERS
from engine.matching.io.write import to_document, to_frames, write_csv_dir, write_json

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

