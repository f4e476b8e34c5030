"""What a scenario changes in its base (``Overrides``), each value checked with its path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.errors import InputError, Problem
from engine.model import Blackout

__all__ = ["CAP_KEYS", "FROZEN_EMPTY", "Overrides", "check_overrides"]

#: Expert caps an override may change (``None`` removes the cap).
CAP_KEYS = ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day",
            "max_onsite_days")
FROZEN_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Overrides:
    """What a scenario changes in its base. Every field's default means "no change".

    - ``add_experts``: ``plan-request/1`` expert objects; missing keys are copied from the
      base's first expert of the same first field (else its first expert);
    - ``remove_experts``: expert ids;
    - ``expert_caps``: ``{expert id or "*": {cap: value or None}}`` for the keys in ``CAP_KEYS``;
    - ``expert_hours``: ``{expert id or "*": (work_start, work_end)}`` in minutes after midnight;
    - ``location_caps``: ``{location id, "town", "city" or "*": expert-visits a day or None}``
      (a town is a location whose name ends in 町 or 村, a city 市);
    - ``demand_scale``: requests per week × this (0.5 halves demand);
    - ``online_share``: the share of requests held online (0–1);
    - ``add_blackouts`` / ``remove_blackouts`` (dates) / ``move_blackouts`` (``(from, to)``);
    - ``travel_speed_factor``: driving speed × this (1.2 = 20 % faster roads); a solve option.
    """

    add_experts: tuple[Mapping[str, Any], ...] = ()
    remove_experts: tuple[str, ...] = ()
    expert_caps: Mapping[str, Mapping[str, int | None]] = field(default_factory=dict)
    expert_hours: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    location_caps: Mapping[str, int | None] = field(default_factory=dict)
    demand_scale: float = 1.0
    online_share: float | None = None
    add_blackouts: tuple[Blackout, ...] = ()
    remove_blackouts: tuple[dt.date, ...] = ()
    move_blackouts: tuple[tuple[dt.date, dt.date], ...] = ()
    travel_speed_factor: float = 1.0

    def __post_init__(self) -> None:
        problems = check_overrides(self, "")
        if problems:
            raise InputError(problems)


def check_overrides(o: Overrides, path: str) -> list[Problem]:
    pre = f"{path}." if path else ""
    out: list[Problem] = []
    if not 0.0 <= o.demand_scale <= 10.0:
        out.append(Problem(pre + "demand_scale", "must be between 0 and 10",
                           "0 から 10 の範囲である必要があります"))
    if o.online_share is not None and not 0.0 <= o.online_share <= 1.0:
        out.append(Problem(pre + "online_share", "must be between 0 and 1",
                           "0 から 1 の範囲である必要があります"))
    if not 0.1 <= o.travel_speed_factor <= 5.0:
        out.append(Problem(pre + "travel_speed_factor", "must be between 0.1 and 5",
                           "0.1 から 5 の範囲である必要があります"))
    for key, caps in o.expert_caps.items():
        for cap, value in caps.items():
            p = f"{pre}expert_caps.{key}.{cap}"
            if cap not in CAP_KEYS:
                out.append(Problem(p, f"unknown cap (allowed: {', '.join(CAP_KEYS)})",
                                   "不明な上限です"))
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                        or value < 0):
                out.append(Problem(p, "must be a whole number >= 0 or null",
                                   "0 以上の整数または null である必要があります"))
    for key, hours in o.expert_hours.items():
        if len(hours) != 2 or not 0 <= hours[0] < hours[1] <= 24 * 60:
            out.append(Problem(f"{pre}expert_hours.{key}", "must be [start, end] with start < end",
                               "[開始, 終了]（開始 < 終了）である必要があります"))
    for key, value in o.location_caps.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            out.append(Problem(f"{pre}location_caps.{key}", "must be a whole number >= 0 or null",
                               "0 以上の整数または null である必要があります"))
    for i, spec in enumerate(o.add_experts):
        p = f"{pre}add_experts[{i}]"
        if not isinstance(spec, Mapping):
            out.append(Problem(p, "must be an object", "オブジェクトである必要があります"))
            continue
        if not isinstance(spec.get("id"), str) or not spec["id"].strip():
            out.append(Problem(p + ".id", "is required", "必須項目です"))
        fields = spec.get("fields")
        if not isinstance(fields, list | tuple) or not fields or not all(
                isinstance(f, str) and f for f in fields):
            out.append(Problem(p + ".fields", "must be a non-empty list of field names",
                               "分野名の空でないリストである必要があります"))
    return out
