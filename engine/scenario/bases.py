"""What a scenario starts from: the bundled Ehime data with synthetic demand (``EhimeBase``)
or any ``plan-request/1`` document (``DocumentBase``)."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.demand import ehime_week_document
from engine.errors import InputError, Problem
from engine.format import parse_plan_request
from engine.model import Blackout

__all__ = ["Base", "DocumentBase", "EhimeBase", "as_date"]

def as_date(x: str | dt.date) -> dt.date:
    """A date, or its ISO text read as one."""
    return x if isinstance(x, dt.date) else dt.date.fromisoformat(x)


@dataclass(frozen=True)
class EhimeBase:
    """The bundled Ehime places and five experts with demand from ``engine.demand``.

    ``start`` is a Monday; ``blackouts=None`` keeps the generator's default (a Wednesday
    camp-preparation blackout for two experts), ``()`` means none.
    """

    start: dt.date | str
    weeks: int = 1
    requests_per_week: int = 40
    joint_share: float = 0.15
    online_share: float = 0.3
    fixed_visit: bool = True
    blackouts: tuple[Blackout, ...] | None = None

    def __post_init__(self) -> None:
        start = as_date(self.start)
        object.__setattr__(self, "start", start)
        problems = []
        if start.weekday() != 0:
            problems.append(Problem("base.ehime.start", f"must be a Monday, got {start:%A}",
                                    "月曜日である必要があります"))
        if not 1 <= self.weeks <= 60:
            problems.append(Problem("base.ehime.weeks", "must be between 1 and 60",
                                    "1 から 60 の範囲である必要があります"))
        if not 0 <= self.requests_per_week <= 500:
            problems.append(Problem("base.ehime.requests_per_week", "must be between 0 and 500",
                                    "0 から 500 の範囲である必要があります"))
        for key in ("joint_share", "online_share"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                problems.append(Problem(f"base.ehime.{key}", "must be between 0 and 1",
                                        "0 から 1 の範囲である必要があります"))
        if problems:
            raise InputError(problems)

    def document(self, *, seed: int, demand_scale: float = 1.0,
                 online_share: float | None = None) -> dict[str, Any]:
        """The generated ``plan-request/1`` document for this seed (demand scaled, share set)."""
        start = self.start if isinstance(self.start, dt.date) else as_date(self.start)
        return ehime_week_document(
            start, weeks=self.weeks, requests_per_week=round(self.requests_per_week * demand_scale),
            seed=seed, joint_share=self.joint_share,
            online_share=self.online_share if online_share is None else online_share,
            fixed_visit=self.fixed_visit, blackouts=self.blackouts)


@dataclass(frozen=True)
class DocumentBase:
    """Any ``plan-request/1`` document (validated when the base is made)."""

    document: Mapping[str, Any]
    source: str = ""

    def __post_init__(self) -> None:
        parse_plan_request(copy.deepcopy(dict(self.document)))

    def copy_document(self) -> dict[str, Any]:
        return copy.deepcopy(dict(self.document))


Base = EhimeBase | DocumentBase
