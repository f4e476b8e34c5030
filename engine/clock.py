"""Times of day as the plan holds them: whole minutes after midnight (``510`` is 08:30).

One place for what every module does with them: write one as a person reads it, and put one
on the appointment grid (``horizon.start_grid_min``, docs/FORMAT.md), rounding up for the
first start allowed and down for the last.

>>> fmt_time(510), grid_up(556, 15), grid_down(556, 15), grid_up(570, 15), grid_up(556, 1)
('08:30', 570, 555, 570, 556)
"""

from __future__ import annotations

__all__ = ["fmt_time", "grid_down", "grid_up"]


def fmt_time(minutes: int) -> str:
    """``510`` → ``'08:30'``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def grid_up(minute: int, grid: int) -> int:
    """The first minute on a ``grid`` of minutes at or after ``minute``."""
    return -(-minute // grid) * grid


def grid_down(minute: int, grid: int) -> int:
    """The last minute on a ``grid`` of minutes at or before ``minute``."""
    return minute // grid * grid
