"""Reading the tables people keep: CSV in whatever encoding Excel wrote, cells normalised.

Excel in Japan saves "CSV" as Shift-JIS (Windows code page 932), "CSV UTF-8" with a byte
order mark, and "Unicode text" as UTF-16; all three are read here. Every cell and header goes
through NFKC (``１３：００－１７：００`` → ``13:00-17:00``, ``５`` → ``5``), so that what
looks right in the sheet is read right.

Examples
--------
>>> decode_table(b"\\x8f\\xbc\\x8eR\\x8es")   # 松山市 in cp932
('松山市', 'cp932')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.errors import InputError, Problem, file_problem
from engine.names import normalize

__all__ = ["ENCODINGS", "decode_table", "problems_to_csv", "read_csv_rows", "read_text_table"]

#: Tried in this order when there is no byte order mark: UTF-8 first (ASCII and UTF-8 files
#: never decode as anything else by accident), then the Japanese Windows code page.
ENCODINGS = ("utf-8", "cp932")


def decode_table(data: bytes, where: str = "") -> tuple[str, str]:
    """``(text, encoding)`` of a table file's bytes; ``InputError`` naming ``where`` if none fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    for enc in ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(Problem(
        where, "cannot tell the text encoding (save the sheet as CSV UTF-8 or CSV (Shift-JIS))",
        "文字コードを判別できません（CSV UTF-8 または CSV（Shift-JIS）で保存してください）"))


def read_text_table(path: str | Path) -> str:
    """A CSV/TSV file's text, decoded as above; missing or unreadable files raise ``InputError``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません")) from None
    except OSError as exc:
        raise InputError(file_problem(str(p), exc)) from None
    return decode_table(data, str(p))[0]


def read_csv_rows(text: str, *, nfkc: bool = True) -> list[list[str]]:
    """Rows of a CSV text (comma, or tab when the first line has tabs and no commas), every
    cell trimmed and, with ``nfkc``, NFKC-normalised."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    clean = normalize if nfkc else (lambda c: c.strip())
    return [[clean(c) for c in row] for row in csv.reader(io.StringIO(text),
                                                            delimiter=delimiter)]


def problems_to_csv(problems: Iterable[Problem], path: str | Path, lang: str = "ja",
                    header: Sequence[str] = ("where", "problem")) -> None:
    """Write problems as a CSV (UTF-8 with BOM, so that Excel shows the Japanese)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    for p in problems:
        w.writerow([p.where(lang), p.message_ja if lang == "ja" and p.message_ja else p.message])
    Path(path).write_text(out.getvalue(), encoding="utf-8-sig")
