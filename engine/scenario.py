"""Scenarios: a base problem plus overrides gives a ``PlanRequest`` (docs/SCENARIOS.md).

A base is the bundled Ehime data with synthetic demand (``EhimeBase``, drawn by
``engine.demand``) or any ``plan-request/1`` document (``DocumentBase``). Overrides say what
changes: experts added or removed, caps and hours, demand scaled, the online share shifted,
blackouts (camps) added, removed or moved, travel speed. Describing a scenario is part of
the problem; solving it lives in ``solvers.scenarios``.

Examples
--------
>>> s = Scenario("sixth expert", EhimeBase("2026-12-07"),
...              Overrides(add_experts=({"id": "data-2", "fields": ["data"]},)))
>>> [e.id for e in s.plan_request(seed=1).experts][-1]
'data-2'
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.demand import ehime_week_document
from engine.errors import InputError, Problem
from engine.format import parse_plan_request, read_json
from engine.model import Blackout, PlanRequest, fmt_time

__all__ = [
    "CAP_KEYS",
    "SCENARIOS_FORMAT",
    "DocumentBase",
    "EhimeBase",
    "Overrides",
    "RunSettings",
    "Scenario",
    "ScenarioFile",
    "load_scenario_file",
    "location_kind",
    "parse_scenario",
    "parse_scenario_file",
]

SCENARIOS_FORMAT = "scenarios/1"
#: Expert caps an override may change (``None`` removes the cap).
CAP_KEYS = ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day",
            "max_onsite_days")
_FROZEN_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _date(x: str | dt.date) -> dt.date:
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
        start = _date(self.start)
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
        start = self.start if isinstance(self.start, dt.date) else _date(self.start)
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
        problems = _check_overrides(self, "")
        if problems:
            raise InputError(problems)


def _check_overrides(o: Overrides, path: str) -> list[Problem]:
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


def location_kind(name: str) -> str:
    """``'town'`` for 町/村, ``'city'`` for 市, else ``'other'`` (``'久万高原町'`` → ``'town'``)."""
    if name.endswith(("町", "村")):
        return "town"
    if name.endswith("市"):
        return "city"
    return "other"


@dataclass(frozen=True)
class Scenario:
    """A named base plus overrides; ``plan_request(seed)`` gives the problem to solve.

    The seed draws the demand (Ehime base) or picks which requests are scaled or moved
    online (document base); the same seed always gives the same problem.
    """

    name: str
    base: Base
    overrides: Overrides = Overrides()
    description: str = ""

    @property
    def travel_speed_factor(self) -> float:
        return self.overrides.travel_speed_factor

    def document(self, seed: int = 0, path: str = "") -> dict[str, Any]:
        """The ``plan-request/1`` document of this scenario for ``seed``."""
        o = self.overrides
        if isinstance(self.base, EhimeBase):
            doc = self.base.document(seed=seed, demand_scale=o.demand_scale,
                                     online_share=o.online_share)
        else:
            doc = self.base.copy_document()
            rng = random.Random(seed)
            doc["requests"] = scale_demand(doc.get("requests", []), o.demand_scale, rng)
            if o.online_share is not None:
                doc["requests"] = shift_online(doc["requests"], o.online_share, rng)
        problems: list[Problem] = []
        pre = f"{path}." if path else ""
        apply_expert_changes(doc, o, pre, problems)
        apply_location_caps(doc, o, pre, problems)
        apply_blackout_changes(doc, o, pre, problems)
        if problems:
            raise InputError(problems)
        doc["name"] = f"{self.name}: {doc.get('name', '')}".rstrip(": ")
        return doc

    def plan_request(self, seed: int = 0, path: str = "") -> PlanRequest:
        """The validated problem of this scenario for ``seed``."""
        doc = self.document(seed, path)
        try:
            return parse_plan_request(doc)
        except InputError as err:
            pre = f"{path}." if path else ""
            raise InputError([Problem(f"{pre}plan_request.{p.path}", p.message, p.message_ja)
                              for p in err.problems]) from None


def scale_demand(requests: list[dict[str, Any]], scale: float,
                 rng: random.Random) -> list[dict[str, Any]]:
    """Keep ``round(n × scale)`` requests: a seeded sample when shrinking (fixed visits always
    stay), seeded copies (ids ``r1~2``, never fixed) when growing. ``scale=1`` changes nothing."""
    if scale == 1.0 or not requests:
        return requests
    target = round(len(requests) * scale)
    if target <= len(requests):
        fixed = [i for i, q in enumerate(requests) if q.get("fixed")]
        free = [i for i, q in enumerate(requests) if not q.get("fixed")]
        keep = set(fixed) | set(rng.sample(free, max(0, min(len(free), target - len(fixed)))))
        return [q for i, q in enumerate(requests) if i in keep]
    out = list(requests)
    ids = {q.get("id") for q in requests}
    for k in range(target - len(requests)):
        q = copy.deepcopy(rng.choice(requests))
        q.pop("fixed", None)
        n = 2 + k
        while f"{q.get('id')}~{n}" in ids:
            n += 1
        q["id"] = f"{q.get('id')}~{n}"
        ids.add(q["id"])
        out.append(q)
    return out


def shift_online(requests: list[dict[str, Any]], share: float,
                 rng: random.Random) -> list[dict[str, Any]]:
    """Move seeded requests between on-site and online until ``round(n × share)`` are online.

    Fixed visits never change mode; a request keeps its duration when it changes mode.
    """
    out = [dict(q) for q in requests]
    target = round(len(out) * share)
    online = [i for i, q in enumerate(out) if q.get("mode") == "online" and not q.get("fixed")]
    onsite = [i for i, q in enumerate(out) if q.get("mode") == "onsite" and not q.get("fixed")]
    now = sum(1 for q in out if q.get("mode") == "online")
    if target > now:
        for i in rng.sample(onsite, min(len(onsite), target - now)):
            out[i]["mode"] = "online"
    elif target < now:
        for i in rng.sample(online, min(len(online), now - target)):
            out[i]["mode"] = "onsite"
    return out


def _matching(keys: Mapping[str, Any], ids: list[str], path: str, what: str,
              problems: list[Problem], extra: tuple[str, ...] = ("*",)) -> None:
    for key in keys:
        if key not in ids and key not in extra:
            kind_ja = "専門家" if what == "expert" else "場所"
            problems.append(Problem(f"{path}.{key}", f"unknown {what} {key!r}",
                                    f"不明な{kind_ja} {key!r} です"))


def apply_expert_changes(doc: dict[str, Any], o: Overrides, pre: str,
                         problems: list[Problem]) -> None:
    """Remove, add, then re-cap and re-hour experts in ``doc`` (in place)."""
    experts: list[dict[str, Any]] = doc.setdefault("experts", [])
    ids = [e["id"] for e in experts]
    for i, eid in enumerate(o.remove_experts):
        if eid not in ids:
            problems.append(Problem(f"{pre}remove_experts[{i}]", f"unknown expert {eid!r}",
                                    f"不明な専門家 {eid!r} です"))
    removed = set(o.remove_experts)
    experts[:] = [e for e in experts if e["id"] not in removed]
    for q in doc.get("requests", []):
        fx = q.get("fixed")
        if fx and removed & set(fx.get("experts", [])):
            q.pop("fixed")          # a published visit of a removed expert is planned afresh
    blackouts = doc.get("horizon", {}).get("blackouts", [])
    for b in blackouts:
        b["experts"] = [x for x in b.get("experts", ["*"]) if x not in removed]
    blackouts[:] = [b for b in blackouts if b["experts"]]   # nobody left to black out
    for i, spec in enumerate(o.add_experts):
        if spec["id"] in {e["id"] for e in experts}:
            problems.append(Problem(f"{pre}add_experts[{i}].id",
                                    f"expert {spec['id']!r} already exists",
                                    f"専門家 {spec['id']!r} は既に存在します"))
            continue
        fields = list(spec["fields"])
        template = next((e for e in experts if e.get("fields", [None])[0] == fields[0]),
                        experts[0] if experts else {})
        new = {k: copy.deepcopy(v) for k, v in template.items() if k not in ("id", "name")}
        new.update({k: copy.deepcopy(list(v) if isinstance(v, tuple) else v)
                    for k, v in spec.items()})
        new["fields"] = fields
        experts.append(new)
    ids = [e["id"] for e in experts]
    _matching(o.expert_caps, ids, pre + "expert_caps", "expert", problems)
    _matching(o.expert_hours, ids, pre + "expert_hours", "expert", problems)
    for e in experts:
        for key in ("*", e["id"]):
            for cap, value in o.expert_caps.get(key, _FROZEN_EMPTY).items():
                if value is None:
                    e.pop(cap, None)
                else:
                    e[cap] = value
            if key in o.expert_hours:
                start, end = o.expert_hours[key]
                e["work_start"], e["work_end"] = fmt_time(start), fmt_time(end)


def apply_location_caps(doc: dict[str, Any], o: Overrides, pre: str,
                        problems: list[Problem]) -> None:
    """Set ``max_visits_per_day`` of locations by id, by kind (town/city) or all (``*``)."""
    locs: list[dict[str, Any]] = doc.get("locations", [])
    _matching(o.location_caps, [loc["id"] for loc in locs], pre + "location_caps", "location",
              problems, extra=("*", "town", "city"))
    for loc in locs:
        for key in ("*", location_kind(loc.get("name", "")), loc["id"]):
            if key in o.location_caps:
                value = o.location_caps[key]
                if value is None:
                    loc.pop("max_visits_per_day", None)
                else:
                    loc["max_visits_per_day"] = value


def apply_blackout_changes(doc: dict[str, Any], o: Overrides, pre: str,
                           problems: list[Problem]) -> None:
    """Remove, move, then add blackouts (a moved camp keeps its experts and reason)."""
    horizon = doc.setdefault("horizon", {})
    items: list[dict[str, Any]] = horizon.setdefault("blackouts", [])
    have = {_date(b["date"]) for b in items}
    for i, day in enumerate(o.remove_blackouts):
        if day not in have:
            problems.append(Problem(f"{pre}remove_blackouts[{i}]", f"no blackout on {day}",
                                    f"{day} に業務停止日はありません"))
    items[:] = [b for b in items if _date(b["date"]) not in set(o.remove_blackouts)]
    for i, (src, dst) in enumerate(o.move_blackouts):
        moved = [b for b in items if _date(b["date"]) == src]
        if not moved:
            problems.append(Problem(f"{pre}move_blackouts[{i}].from", f"no blackout on {src}",
                                    f"{src} に業務停止日はありません"))
        for item in moved:
            item["date"] = dst.isoformat()
    experts = {e["id"] for e in doc.get("experts", [])}
    for i, new in enumerate(o.add_blackouts):
        for j, eid in enumerate(new.experts):
            if eid != "*" and eid not in experts:
                problems.append(Problem(f"{pre}add_blackouts[{i}].experts[{j}]",
                                        f"unknown expert {eid!r}", f"不明な専門家 {eid!r} です"))
        items.append({"date": new.date.isoformat(), "experts": list(new.experts),
                      **({"reason": new.reason} if new.reason else {})})


# --------------------------------------------------------------------------- YAML / dict form

@dataclass(frozen=True)
class RunSettings:
    """How a scenario file is run: per-solve ``time_limit`` (s), ``draws`` per scenario (seeds
    ``seed``, ``seed+1``, ...), CP-SAT ``workers`` per solve."""

    time_limit: float = 3.0
    draws: int = 3
    seed: int = 0
    workers: int = 1


@dataclass(frozen=True)
class ScenarioFile:
    scenarios: tuple[Scenario, ...]
    run: RunSettings = RunSettings()
    name: str = ""


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def err(self, path: str, en: str, ja: str) -> None:
        self.problems.append(Problem(path, en, ja))

    def keys(self, d: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for k in d:
            if k not in allowed:
                self.err(f"{path}.{k}" if path else str(k),
                         f"unknown field (allowed: {', '.join(sorted(allowed))})", "不明な項目です")

    def mapping(self, v: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(v, Mapping):
            self.err(path, "must be a mapping", "マッピング（キー: 値）である必要があります")
            return None
        return v

    def seq(self, v: Any, path: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            self.err(path, "must be a list", "リストである必要があります")
            return []
        return v

    def number(self, v: Any, path: str, lo: float, hi: float) -> float | None:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.err(path, f"must be a number, got {v!r}", "数値である必要があります")
            return None
        if not lo <= v <= hi:
            self.err(path, f"must be between {lo:g} and {hi:g}",
                     f"{lo:g} から {hi:g} の範囲である必要があります")
            return None
        return float(v)

    def whole(self, v: Any, path: str, lo: int, hi: int) -> int | None:
        x = self.number(v, path, lo, hi)
        if x is None:
            return None
        if not x.is_integer():
            self.err(path, f"must be a whole number, got {v!r}", "整数である必要があります")
            return None
        return int(x)

    def date(self, v: Any, path: str) -> dt.date | None:
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
        try:
            if isinstance(v, str):
                return dt.date.fromisoformat(v)
        except ValueError:
            pass
        self.err(path, f"must be a date YYYY-MM-DD, got {v!r}",
                 "日付（YYYY-MM-DD）である必要があります")
        return None

    def time(self, v: Any, path: str) -> int | None:
        # YAML 1.1 reads an unquoted 17:15 as the base-60 number 1035 = minutes after midnight.
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 24 * 60:
            return v
        if isinstance(v, str) and len(v) == 5 and v[2] == ":" and v.replace(":", "").isdigit():
            h, m = int(v[:2]), int(v[3:])
            if h < 24 and m < 60:
                return h * 60 + m
        self.err(path, f"must be a time HH:MM, got {v!r}", "時刻（HH:MM）である必要があります")
        return None


_SCENARIO_KEYS = {"name", "description", "base", "add_experts", "remove_experts", "expert_caps",
                  "expert_hours", "location_caps", "demand_scale", "online_share",
                  "add_blackouts", "remove_blackouts", "move_blackouts", "travel_speed_factor"}
_EHIME_KEYS = {"start", "weeks", "requests_per_week", "joint_share", "online_share",
               "fixed_visit", "blackouts"}


def _parse_base(r: _Reader, raw: Any, path: str, root: Path | None) -> Base | None:
    d = r.mapping(raw, path)
    if d is None:
        return None
    if len(d) != 1 or next(iter(d)) not in ("ehime", "file", "document"):
        r.err(path, "must have exactly one of: ehime, file, document",
              "ehime・file・document のいずれか一つが必要です")
        return None
    kind, body = next(iter(d.items()))
    p = f"{path}.{kind}"
    try:
        if kind == "ehime":
            e = r.mapping(body or {}, p)
            if e is None:
                return None
            r.keys(e, _EHIME_KEYS, p)
            start = r.date(e.get("start"), p + ".start")
            kw: dict[str, Any] = {}
            if "weeks" in e:
                kw["weeks"] = r.whole(e["weeks"], p + ".weeks", 1, 60)
            if "requests_per_week" in e:
                kw["requests_per_week"] = r.whole(e["requests_per_week"],
                                                  p + ".requests_per_week", 0, 500)
            for key in ("joint_share", "online_share"):
                if key in e:
                    kw[key] = r.number(e[key], f"{p}.{key}", 0.0, 1.0)
            if "fixed_visit" in e:
                if not isinstance(e["fixed_visit"], bool):
                    r.err(p + ".fixed_visit", "must be true or false", "true か false です")
                kw["fixed_visit"] = bool(e["fixed_visit"])
            if "blackouts" in e:
                kw["blackouts"] = tuple(_parse_blackouts(r, e["blackouts"], p + ".blackouts"))
            if start is None or any(v is None for v in kw.values()):
                return None
            return EhimeBase(start, **kw)
        if kind == "file":
            if not isinstance(body, str) or not body:
                r.err(p, "must be a file name", "ファイル名である必要があります")
                return None
            fp = Path(body) if root is None or Path(body).is_absolute() else root / body
            return DocumentBase(read_json(fp), source=body)
        doc = r.mapping(body, p)
        return None if doc is None else DocumentBase(dict(doc))
    except InputError as err:
        for prob in err.problems:
            sub = prob.path.removeprefix("base.ehime").lstrip(".")
            r.err(f"{p}.{sub}" if sub else p, prob.message, prob.message_ja)
        return None


def _parse_blackouts(r: _Reader, raw: Any, path: str) -> list[Blackout]:
    out = []
    for i, b in enumerate(r.seq(raw, path)):
        p = f"{path}[{i}]"
        d = r.mapping(b, p)
        if d is None:
            continue
        r.keys(d, {"date", "experts", "reason"}, p)
        day = r.date(d.get("date"), p + ".date")
        experts = d.get("experts", ["*"])
        if not isinstance(experts, list) or not experts or not all(
                isinstance(x, str) and x for x in experts):
            r.err(p + ".experts", "must be a non-empty list of expert ids",
                  "専門家 id の空でないリストである必要があります")
            experts = ["*"]
        reason = d.get("reason", "")
        if day is not None:
            out.append(Blackout(day, tuple(experts), str(reason)))
    return out


def parse_scenario(raw: Any, path: str = "", *, default_base: Base | None = None,
                   root: Path | None = None) -> Scenario:
    """One scenario from its dict/YAML form (see docs/SCENARIOS.md); ``InputError`` with paths."""
    r = _Reader()
    s = _parse_scenario(r, raw, path, default_base, root)
    if r.problems or s is None:
        raise InputError(r.problems or [Problem(path, "invalid scenario", "不正なシナリオです")])
    return s


def _parse_scenario(r: _Reader, raw: Any, path: str, default_base: Base | None,
                    root: Path | None, default_missing_reported: bool = False
                    ) -> Scenario | None:
    d = r.mapping(raw, path or "scenario")
    if d is None:
        return None
    pre = f"{path}." if path else ""
    n0 = len(r.problems)
    r.keys(d, _SCENARIO_KEYS, path)
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        r.err(pre + "name", "is required", "必須項目です")
        name = ""
    base = (_parse_base(r, d["base"], pre + "base", root) if "base" in d else default_base)
    if base is None and "base" not in d and not default_missing_reported:
        r.err(pre + "base", "is required (here or at the top of the file)",
              "必須項目です（ここかファイル先頭で指定）")
    kw: dict[str, Any] = {}
    kw["add_experts"] = tuple(r.seq(d.get("add_experts"), pre + "add_experts"))
    rem = r.seq(d.get("remove_experts"), pre + "remove_experts")
    for i, x in enumerate(rem):
        if not isinstance(x, str):
            r.err(f"{pre}remove_experts[{i}]", "must be an expert id",
                  "専門家 id である必要があります")
    kw["remove_experts"] = tuple(str(x) for x in rem)
    caps = r.mapping(d.get("expert_caps") or {}, pre + "expert_caps") or {}
    kw["expert_caps"] = {str(k): (r.mapping(v, f"{pre}expert_caps.{k}") or {})
                         for k, v in caps.items()}
    hours = r.mapping(d.get("expert_hours") or {}, pre + "expert_hours") or {}
    hk: dict[str, tuple[int, int]] = {}
    for k, v in hours.items():
        p = f"{pre}expert_hours.{k}"
        if not isinstance(v, list) or len(v) != 2:
            r.err(p, "must be [start, end]", "[開始, 終了] である必要があります")
            continue
        a, b = r.time(v[0], p + "[0]"), r.time(v[1], p + "[1]")
        if a is not None and b is not None:
            hk[str(k)] = (a, b)
    kw["expert_hours"] = hk
    kw["location_caps"] = dict(r.mapping(d.get("location_caps") or {}, pre + "location_caps")
                               or {})
    if "demand_scale" in d:
        kw["demand_scale"] = r.number(d["demand_scale"], pre + "demand_scale", 0.0, 10.0)
    if "online_share" in d:
        kw["online_share"] = r.number(d["online_share"], pre + "online_share", 0.0, 1.0)
    if "travel_speed_factor" in d:
        kw["travel_speed_factor"] = r.number(d["travel_speed_factor"],
                                             pre + "travel_speed_factor", 0.1, 5.0)
    kw["add_blackouts"] = tuple(_parse_blackouts(r, d.get("add_blackouts"),
                                                 pre + "add_blackouts"))
    kw["remove_blackouts"] = tuple(
        x for i, v in enumerate(r.seq(d.get("remove_blackouts"), pre + "remove_blackouts"))
        if (x := r.date(v, f"{pre}remove_blackouts[{i}]")) is not None)
    moves = []
    for i, m in enumerate(r.seq(d.get("move_blackouts"), pre + "move_blackouts")):
        p = f"{pre}move_blackouts[{i}]"
        mm = r.mapping(m, p)
        if mm is None:
            continue
        r.keys(mm, {"from", "to"}, p)
        src, dst = r.date(mm.get("from"), p + ".from"), r.date(mm.get("to"), p + ".to")
        if src is not None and dst is not None:
            moves.append((src, dst))
    kw["move_blackouts"] = tuple(moves)
    try:
        overrides = Overrides(**{k: v for k, v in kw.items() if v is not None})
    except InputError as err:
        for prob in err.problems:
            r.err(pre + prob.path, prob.message, prob.message_ja)
        return None
    if len(r.problems) > n0 or base is None:
        return None
    desc = d.get("description", "")
    return Scenario(name.strip(), base, overrides, str(desc or ""))


def parse_scenario_file(doc: Any, root: Path | None = None) -> ScenarioFile:
    """A whole scenario file (``format: scenarios/1``): shared ``base``, ``run`` settings and
    the list of ``scenarios``. Every problem is reported with its path."""
    r = _Reader()
    d = r.mapping(doc, "")
    if d is None:
        raise InputError(r.problems)
    r.keys(d, {"format", "name", "base", "run", "scenarios"}, "")
    if d.get("format", SCENARIOS_FORMAT) != SCENARIOS_FORMAT:
        r.err("format", f"must be {SCENARIOS_FORMAT!r}",
              f"{SCENARIOS_FORMAT!r} である必要があります")
    base = _parse_base(r, d["base"], "base", root) if "base" in d else None
    bad_base = "base" in d and base is None
    run = RunSettings()
    if "run" in d:
        rd = r.mapping(d["run"], "run") or {}
        r.keys(rd, {"time_limit", "draws", "seed", "workers"}, "run")
        tl = r.number(rd.get("time_limit", 3.0), "run.time_limit", 0.1, 3600.0)
        draws = r.whole(rd.get("draws", 3), "run.draws", 1, 1000)
        seed = r.whole(rd.get("seed", 0), "run.seed", 0, 2**31 - 1)
        workers = r.whole(rd.get("workers", 1), "run.workers", 1, 64)
        if None not in (tl, draws, seed, workers):
            run = RunSettings(float(tl or 0), int(draws or 0), int(seed or 0), int(workers or 0))
    items = r.seq(d.get("scenarios"), "scenarios")
    if not items and "scenarios" not in d:
        r.err("scenarios", "is required", "必須項目です")
    elif not items:
        r.err("scenarios", "must not be empty", "空にできません")
    out: list[Scenario] = []
    names: dict[str, int] = {}
    for i, raw in enumerate(items):
        s = _parse_scenario(r, raw, f"scenarios[{i}]", base, root, bad_base)
        if s is None:
            continue
        if s.name in names:
            r.err(f"scenarios[{i}].name", f"duplicate name {s.name!r} (first at "
                  f"scenarios[{names[s.name]}])", f"名前 {s.name!r} が重複しています")
        names.setdefault(s.name, i)
        out.append(s)
    if r.problems:
        raise InputError(r.problems)
    return ScenarioFile(tuple(out), run, str(d.get("name", "")))


def load_scenario_file(path: str | Path) -> ScenarioFile:
    """Read a YAML (or JSON) scenario file; bad YAML is an ``InputError`` naming line and column."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem("", f"cannot read {p.name}: {exc.strerror}",
                                 f"{p.name} を読めません")) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(Problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                 "YAML として読めません")) from None
    return parse_scenario_file(doc, root=p.parent)
