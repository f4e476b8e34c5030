"""The service's clock, in Japan time (the programme's visits are dated and timed there).

``Settings.now`` fixes it for demos and tests (a demo week's visits can then be "over");
otherwise it is the real clock.

Examples
--------
>>> import datetime as dt
>>> from service.config import Settings
>>> japan_now(Settings(now=dt.datetime(2026, 12, 16, 12, 0)))
datetime.datetime(2026, 12, 16, 12, 0)
>>> has_started(dt.date(2026, 12, 16), 13 * 60, dt.datetime(2026, 12, 16, 12, 0))
False
"""

from __future__ import annotations

import datetime as dt

from service.config import Settings

__all__ = ["JST", "has_started", "japan_now"]

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def japan_now(settings: Settings) -> dt.datetime:
    """Now as a naive Japan-time datetime: ``settings.now`` when set, else the real clock."""
    if settings.now is not None:
        return settings.now.astimezone(JST).replace(tzinfo=None) \
            if settings.now.tzinfo is not None else settings.now
    return dt.datetime.now(JST).replace(tzinfo=None, microsecond=0)


def has_started(day: dt.date, start_min: int, now: dt.datetime) -> bool:
    """Whether a visit on ``day`` starting ``start_min`` minutes after midnight has begun."""
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=start_min) <= now
