"""Counts in English words (``1 visit``, ``2 visits``, never ``1 visits``) and dates as a
person reads them in a message (``12/7``, never ``2026-12-07``).

Messages of the planner and the format are written in English and Japanese side by side
(Japanese has no plural form); the English half counts through ``counted``. The service's
catalogue messages count through ``service.i18n.ngettext`` instead.

Examples
--------
>>> counted(1, "visit"), counted(3, "visit"), counted(1, "day"), counted(0, "request")
('1 visit', '3 visits', '1 day', '0 requests')
>>> counted(2, "municipality", "municipalities"), counted(1_895, "minute")
('2 municipalities', '1,895 minutes')
>>> month_day(dt.date(2026, 12, 7))
'12/7'
"""

from __future__ import annotations

import datetime as dt

__all__ = ["counted", "month_day", "noun"]


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """``singular`` when ``n`` is 1, else ``plural`` (``singular`` + ``s`` by default)."""
    return singular if n == 1 else (plural if plural is not None else singular + "s")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` (thousands separated) and its noun: ``counted(1, "visit")`` → ``'1 visit'``."""
    return f"{n:,} {noun(n, singular, plural)}"


def month_day(d: dt.date) -> str:
    """A date as every message a person reads writes it, month/day: ``12/7``."""
    return f"{d.month}/{d.day}"
