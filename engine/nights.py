"""Nights away (``experts[].overnight``, docs/FORMAT.md): where and when an expert may end a
day away from the base, and what a plan's nights are.

A night is one expert's day ``d`` ending at a place ``p`` (one of ``overnight.places``, never
the base) when the expert's next working date is the next calendar date ``d + 1``; that day
then starts at ``p``. A trip (a run of nights on consecutive dates) starts and ends at the
base within the horizon and has at most ``max_nights`` nights; each night costs
``night_cost`` in the objective. (The dates a night may follow are ``engine.calendar``'s
``night_dates``.)

>>> Overnight(("383562",), 3000, 2).max_nights
2
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.model import Expert, PlanRequest, Route

__all__ = ["Nights", "Overnight", "day_ends", "night_places", "nights_of", "trips_within"]


#: The nights of a plan: (expert, date) → the place where that date's day ends (off the base).
Nights = Mapping[tuple[str, dt.date], str]


@dataclass(frozen=True, slots=True)
class Overnight:
    """Where an expert may stay the night (``places``: location ids; None: any location), what
    each night costs in the objective (``night_cost``) and how many nights one trip may have
    (``max_nights``)."""

    places: tuple[str, ...] | None
    night_cost: int = 0
    max_nights: int = 1


def night_places(p: PlanRequest, e: Expert) -> tuple[str, ...]:
    """The places ``e`` may end a day at other than the base (none without ``overnight``)."""
    o = e.overnight
    if o is None or o.max_nights < 1:
        return ()
    ids = o.places if o.places is not None else tuple(loc.id for loc in p.locations)
    return tuple(sorted({x for x in ids if x != e.base and x in p.location_by_id}))


def day_ends(e: Expert, d: dt.date, nights: Nights | None) -> tuple[str, str]:
    """Where the expert's day ``d`` starts and ends: the place of the night before and of
    its own night, the base where there is none."""
    if not nights:
        return e.base, e.base
    return nights.get((e.id, d - dt.timedelta(days=1)), e.base), nights.get((e.id, d), e.base)


def nights_of(p: PlanRequest, routes: Iterable[Route]) -> dict[tuple[str, dt.date], str]:
    """The nights of a plan: (expert, date) → the place where that date's route ends, for
    every route that ends away from its expert's base."""
    out = {}
    for r in routes:
        e = p.expert_by_id.get(r.expert)
        if e is not None and r.end_at is not None and r.end_at != e.base:
            out[r.expert, r.date] = r.end_at
    return out


def trips_within(dates: Iterable[dt.date], max_nights: int) -> bool:
    """Whether no run of consecutive calendar ``dates`` (the dates after which one expert
    stays away) is longer than ``max_nights``.

    >>> d = dt.date(2026, 12, 7)
    >>> trips_within([d, d + dt.timedelta(days=1)], 1), trips_within([d, d + dt.timedelta(days=2)], 1)
    (False, True)
    """
    run, last = 0, None
    for d in sorted(set(dates)):
        run = run + 1 if last is not None and (d - last).days == 1 else 1
        last = d
        if run > max_nights:
            return False
    return True
