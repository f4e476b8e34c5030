"""One reading of each input, wherever it is typed: the centre's sheet, a plan-request/1 file,
the command line (``--week``) and the HTTP service all read dates, modes, durations, fields
and priorities here, with the same limits, so that one value never gets three verdicts.

- dates: ``2026-12-08``, ``2026/12/8``, ``2026.12.8``, ``2026年12月8日``, an Excel date-time
  cell (``2026-12-08 00:00:00``); ``12/8`` and ``12月8日`` too where a year is known (the
  sheet's week);
- modes: ``onsite``/``online`` and the words people use (訪問, 現地, 対面, オンライン, Web,
  リモート);
- durations in minutes, from 1 to ``MAX_DURATION_MIN`` everywhere; a sheet's text may say
  ``90``, ``90分``, ``90 min``, ``1時間30分``, ``1時間``, ``1.5時間`` or ``1:30`` (JSON and the
  HTTP service take a whole number: their values are typed);
- priorities: whole numbers 1–10, ``PRIORITY_DEFAULT`` when not given;
- fields: ids, labels and usual variants (``engine.names``); an unknown one is reported with
  the list of valid ones (``field_choices``).

Examples
--------
>>> read_date("2026/12/8"), read_date("12月8日", year=2026)
(datetime.date(2026, 12, 8), datetime.date(2026, 12, 8))
>>> read_mode("訪問"), read_duration("1時間30分"), read_duration("90分")
('onsite', 90, 90)
"""

from __future__ import annotations

import datetime as dt
import re

from engine.model import FIELD_LABELS, FIELDS
from engine.names import NameIndex, normalize

__all__ = ["MAX_DURATION_MIN", "MODES", "PRIORITY_DEFAULT", "PRIORITY_MAX", "PRIORITY_MIN",
           "field_choices", "read_date", "read_duration", "read_mode"]

#: The longest consultation, in minutes: a whole day (a longer one fits no day).
MAX_DURATION_MIN = 24 * 60
#: Priorities are whole numbers in this range; a request that gives none has the default.
PRIORITY_MIN, PRIORITY_MAX, PRIORITY_DEFAULT = 1, 10, 5

MODES = NameIndex([("onsite", ("onsite", "on-site", "訪問", "現地", "対面", "来訪")),
                   ("online", ("online", "オンライン", "web", "ウェブ", "リモート", "remote"))])

_DATE = re.compile(r"(?:(\d{4})\s*[-/年.]\s*)?(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?"
                   r"(?:\s*[(（].[)）])?(?:[ T]00:00(?::00)?)?")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)\s*(?:時間|h|hours?|hrs?))?\s*"
                       r"(?:(\d+)\s*(?:分|m|min|mins|minutes?)?)?")


def read_date(text: object, year: int | None = None) -> dt.date | None:
    """The date ``text`` names, or ``None``. Without a year in the text, ``year`` is used
    (and without ``year`` such a text is no date)."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    m = _DATE.fullmatch(normalize(text))
    if m is None or (m.group(1) is None and year is None):
        return None
    try:
        return dt.date(int(m.group(1) or year), int(m.group(2)), int(m.group(3)))  # type: ignore[arg-type]
    except ValueError:
        return None


def read_mode(text: object) -> str | None:
    """``'onsite'`` or ``'online'`` for any usual word, else ``None``."""
    return MODES.resolve(text) if isinstance(text, str) else None


def read_duration(text: object) -> int | None:
    """Minutes: a whole number, or a text such as ``90分``, ``1時間30分``, ``1.5時間``,
    ``1:30``; ``None`` when it is none of these or not whole minutes (no limit checked)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        return int(text) if text.is_integer() else None
    raw = normalize(text).replace(",", "").lower()
    if not raw:
        return None
    if m := re.fullmatch(r"(\d+):([0-5]\d)", raw):
        return int(m.group(1)) * 60 + int(m.group(2))
    if re.fullmatch(r"-?\d+(?:\.0+)?", raw):
        return int(float(raw))
    m = _DURATION.fullmatch(raw)
    if m is None or not (m.group(1) or m.group(2)):
        return None
    minutes = float(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    return int(minutes) if minutes.is_integer() else None


def field_choices(lang: str = "en") -> str:
    """The valid fields as a reader writes them: ``design, security, …`` or
    ``デザイン思考・UI/UX、システム・セキュリティ、…``."""
    if lang == "ja":
        return "、".join(FIELD_LABELS[f][1] for f in FIELDS)
    return ", ".join(FIELDS)
