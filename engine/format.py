"""Read and write the plan exchange format (``plan-request/1`` and ``plan/1``, docs/FORMAT.md).

Reading validates the whole document and reports every problem with its path
(``requests[3].duration_min: must be > 0``) as one ``InputError``; writing is the inverse.

Examples
--------
>>> req = parse_plan_request(json.loads(Path("week.json").read_text()))  # doctest: +SKIP
>>> doc = plan_to_dict(plan)                                               # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import InputError, Problem
from engine.model import (
    Blackout,
    Change,
    Closure,
    Coverage,
    Expert,
    Fixed,
    Goals,
    Horizon,
    Location,
    LocationCoverage,
    Objective,
    Plan,
    PlanRequest,
    Request,
    Route,
    SmallTowns,
    SolveInfo,
    Unscheduled,
    Visit,
    fmt_time,
)
from engine.names import NameIndex, resolve_field, resolve_municipality
from engine.readings import (
    MAX_DURATION_MIN,
    PRIORITY_DEFAULT,
    PRIORITY_MAX,
    PRIORITY_MIN,
    read_date,
    read_mode,
)
from engine.travel import MinutesMatrix

__all__ = [
    "PLAN_FORMAT",
    "REQUEST_FORMAT",
    "dump_plan",
    "load_plan",
    "load_plan_request",
    "parse_plan",
    "parse_plan_request",
    "plan_request_to_dict",
    "plan_to_dict",
    "read_json",
]

REQUEST_FORMAT = "plan-request/1"
PLAN_FORMAT = "plan/1"

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MISSING = object()

_REQUEST_KEYS = {"format", "horizon", "locations", "experts", "requests", "travel", "objective",
                 "timezone", "name", "description", "generator", "goals"}
_HORIZON_KEYS = {"start", "end", "skip_holidays", "blackouts", "published_until",
                 "history_until", "closures"}
_BLACKOUT_KEYS = {"date", "experts", "reason", "from", "until"}
_CLOSURE_KEYS = {"location", "date", "from", "until", "reason"}
_LOCATION_KEYS = {"id", "name", "lat", "lon", "open", "close", "max_visits_per_day", "name_en",
                  "island", "ferry_minutes", "population"}
_EXPERT_KEYS = {"id", "fields", "base", "work_start", "work_end", "days", "max_visits_per_day",
                "max_visits_total", "max_drive_minutes_per_day", "max_onsite_days", "name",
                "max_onsite_days_per_month"}
_REQ_KEYS = {"id", "location", "fields", "mode", "duration_min", "priority", "earliest", "latest",
             "window", "fixed", "title", "confidential"}
_FIXED_KEYS = {"experts", "date", "start"}
_OBJECTIVE_KEYS = {"priority", "drive_minute", "onsite_day"}
_GOALS_KEYS = {"coverage", "small_towns"}
_COVERAGE_KEYS = {"min_visits", "penalty", "modes", "locations"}
_SMALL_TOWNS_KEYS = {"population_below", "bonus"}
_TRAVEL_KEYS = {"minutes", "files"}


class _Reader:
    """Collects problems while walking a JSON document; every getter returns a usable value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def err(self, path: str, en: str, ja: str) -> None:
        self.problems.append(Problem(path, en, ja))

    def obj(self, value: Any, path: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.err(path, f"must be an object, got {_kind(value)}",
                     f"オブジェクトである必要があります（{_kind(value)} が指定されました）")
            return None
        return value

    def unknown(self, d: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in d:
            if key not in allowed:
                p = f"{path}.{key}" if path else key
                self.err(p, f"unknown field (allowed: {', '.join(sorted(allowed))})",
                         "不明な項目です")

    def section(self, d: Mapping[str, Any], key: str, allowed: set[str]
                ) -> dict[str, Any] | None:
        """An optional object at the top of the document: None when it is absent or not an
        object (reported), its unknown fields reported."""
        raw = self.get(d, key, "", required=False)
        if raw is _MISSING:
            return None
        o = self.obj(raw, key)
        if o is not None:
            self.unknown(o, allowed, key)
        return o

    def get(self, d: Mapping[str, Any], key: str, path: str, required: bool = True) -> Any:
        p = f"{path}.{key}" if path else key
        if key not in d or d[key] is None:
            if required:
                self.err(p, "is required", "必須項目です")
            return _MISSING
        return d[key]

    def string(self, d: Mapping[str, Any], key: str, path: str, required: bool = True,
               default: str = "") -> str:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return default
        if not isinstance(v, str):
            self.err(p, f"must be a string, got {_kind(v)}", "文字列である必要があります")
            return default
        if required and not v.strip():
            self.err(p, "must not be empty", "空にできません")
        return v

    def integer(self, d: Mapping[str, Any], key: str, path: str, *, required: bool = True,
                default: int | None = None, lo: int | None = None, hi: int | None = None,
                positive: bool = False) -> int | None:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, int | float) or (
                isinstance(v, float) and not v.is_integer()):
            self.err(p, f"must be a whole number, got {v!r}", f"整数である必要があります（{v!r}）")
            return default
        v = int(v)
        if positive and v <= 0:
            self.err(p, "must be > 0", "0 より大きい必要があります")
            return default
        if lo is not None and v < lo:
            self.err(p, f"must be >= {lo}", f"{lo} 以上である必要があります")
            return default
        if hi is not None and v > hi:
            self.err(p, f"must be <= {hi}", f"{hi} 以下である必要があります")
            return default
        return v

    def number(self, d: Mapping[str, Any], key: str, path: str, lo: float, hi: float) -> float | None:
        v = self.get(d, key, path, required=False)
        p = f"{path}.{key}"
        if v is _MISSING:
            return None
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.err(p, f"must be a number, got {v!r}", "数値である必要があります")
            return None
        if not lo <= v <= hi:
            self.err(p, f"must be between {lo} and {hi}", f"{lo} から {hi} の範囲である必要があります")
            return None
        return float(v)

    def boolean(self, d: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        v = self.get(d, key, path, required=False)
        if v is _MISSING:
            return default
        if not isinstance(v, bool):
            self.err(f"{path}.{key}" if path else key, f"must be true or false, got {v!r}",
                     "true か false である必要があります")
            return default
        return v

    def date(self, value: Any, path: str) -> dt.date | None:
        if not isinstance(value, str):
            self.err(path, f"must be a date YYYY-MM-DD, got {_kind(value)}",
                     "日付（YYYY-MM-DD）である必要があります")
            return None
        day = read_date(value)          # 2026-12-08, 2026/12/8, 2026年12月8日: as in the sheet
        if day is None:
            self.err(path, f"must be a date YYYY-MM-DD, got {value!r}",
                     f"日付（YYYY-MM-DD）である必要があります（{value!r}）")
        return day

    def datetime(self, value: Any, path: str) -> dt.datetime | None:
        """A local date-time ``YYYY-MM-DDTHH:MM`` (seconds allowed, no zone: local time)."""
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?",
                                                   value):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        self.err(path, f"must be a local date and time YYYY-MM-DDTHH:MM, got {value!r}",
                 f"日時（YYYY-MM-DDTHH:MM）である必要があります（{value!r}）")
        return None

    def time(self, value: Any, path: str) -> int | None:
        if isinstance(value, str) and (m := _TIME.match(value)):
            return int(m.group(1)) * 60 + int(m.group(2))
        self.err(path, f"must be a time HH:MM, got {value!r}",
                 f"時刻（HH:MM）である必要があります（{value!r}）")
        return None

    def opt_time(self, d: Mapping[str, Any], key: str, path: str, default: int) -> int:
        v = self.get(d, key, path, required=False)
        if v is _MISSING:
            return default
        t = self.time(v, f"{path}.{key}")
        return default if t is None else t

    def str_list(self, value: Any, path: str, *, nonempty: bool = True) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.err(path, f"must be a list, got {_kind(value)}", "リストである必要があります")
            return ()
        if nonempty and not value:
            self.err(path, "must not be empty", "空にできません")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.err(f"{path}[{i}]", "must be a non-empty string", "空でない文字列である必要があります")
            else:
                out.append(item)
        return tuple(out)

    def items(self, d: Mapping[str, Any], key: str, path: str, required: bool) -> list[Any]:
        v = self.get(d, key, path, required)
        p = f"{path}.{key}" if path else key
        if v is _MISSING:
            return []
        if not isinstance(v, list):
            self.err(p, f"must be a list, got {_kind(v)}", "リストである必要があります")
            return []
        if required and not v:
            self.err(p, "must not be empty", "空にできません")
        return v


    def each(self, d: Mapping[str, Any], key: str, allowed: set[str] | None,
             required: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(path, object)`` for every object in the list ``d[key]``; non-objects and
        unknown fields are reported on the way."""
        for i, raw in enumerate(self.items(d, key, "", required=required)):
            path = f"{key}[{i}]"
            x = self.obj(raw, path)
            if x is None:
                continue
            if allowed is not None:
                self.unknown(x, allowed, path)
            yield path, x

    def known(self, value: str, path: str, ids: set[str] | Mapping[str, Any],
              what: str = "location") -> None:
        """Report ``value`` when it is not one of ``ids``."""
        if value and value not in ids:
            ja = {"location": "場所", "expert": "専門家"}.get(what, what)
            self.err(path, f"unknown {what} {value!r}", f"不明な{ja} {value!r} です")


def _kind(v: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(v), type(v).__name__)


def _unique(r: _Reader, ids: list[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for path, ident in ids:
        if ident in seen:
            r.err(path, f"duplicate {what} id {ident!r} (first at {seen[ident]})",
                  f"{what} の id {ident!r} が重複しています（最初は {seen[ident]}）")
        else:
            seen[ident] = path


def parse_plan_request(doc: Any, *, base_dir: str | Path | None = None) -> PlanRequest:
    """Validate a ``plan-request/1`` document (already parsed from JSON) into a ``PlanRequest``.

    ``base_dir`` is the folder of the request file: ``travel.files`` paths are relative to it,
    and a document without one (a request sent as a body) may reference no files.
    Raises ``InputError`` listing every problem with its path.
    """
    r = _Reader()
    d = r.obj(doc, "")
    if d is None:
        raise InputError(r.problems or [Problem("", "document must be a JSON object")])
    fmt = d.get("format", REQUEST_FORMAT)
    if fmt != REQUEST_FORMAT:
        r.err("format", f"must be {REQUEST_FORMAT!r}, got {fmt!r}",
              f"{REQUEST_FORMAT!r} である必要があります（{fmt!r}）")
    r.unknown(d, _REQUEST_KEYS, "")
    tz = r.string(d, "timezone", "", required=False, default="Asia/Tokyo") or "Asia/Tokyo"

    horizon = _parse_horizon(r, d)
    locations = _parse_locations(r, d)
    places = _Places(locations)
    experts = _parse_experts(r, d, places, horizon)
    who = _expert_names(experts)
    if horizon is not None:
        blackouts = []
        for i, b in enumerate(horizon.blackouts):
            named = []
            for j, eid in enumerate(b.experts):
                hit = "*" if eid == "*" else who.resolve(eid)
                if hit is None:
                    r.known(eid, f"horizon.blackouts[{i}].experts[{j}]", set(), "expert")
                named.append(hit or eid)
            blackouts.append(replace(b, experts=tuple(named)))
        closures = tuple(replace(c, location=places.ref(r, c.location,
                                                        f"horizon.closures[{i}].location"))
                         for i, c in enumerate(horizon.closures))
        horizon = replace(horizon, blackouts=tuple(blackouts), closures=closures)
    requests = _parse_requests(r, d, places, {e.id: e for e in experts}, horizon)
    travel = _parse_travel(r, d, places, None if base_dir is None else Path(base_dir))
    goals = _parse_goals(r, d, places)
    locations += places.used_bundled()
    objective = _parse_objective(r, d)
    if r.problems or horizon is None:
        raise InputError(r.problems or [Problem("horizon", "is required", "必須項目です")])
    extra: dict[str, object] = {k: d[k] for k in ("name", "description", "generator") if k in d}
    return PlanRequest(horizon=horizon, locations=tuple(locations), experts=tuple(experts),
                       requests=tuple(requests), travel=travel, objective=objective,
                       timezone=tz, extra=extra, goals=goals)


def _expert_names(experts: list[Expert]) -> Any:
    """Experts by id or display name (``"広報担当"`` names ``pr-1`` in the demo)."""

    return NameIndex((e.id, (e.name,)) for e in experts)


def _fields(r: _Reader, x: Mapping[str, Any], p: str) -> tuple[str, ...]:
    """The ``fields`` list, each known field written as its id (``"データ活用"`` → ``data``);
    other names are kept as they are (FORMAT.md allows fields of one's own)."""

    if "fields" not in x:
        r.err(f"{p}.fields", "is required", "必須項目です")
        return ()
    return tuple(resolve_field(f) or f for f in r.str_list(x["fields"], f"{p}.fields"))


def _parse_horizon(r: _Reader, d: Mapping[str, Any]) -> Horizon | None:
    h = r.get(d, "horizon", "")
    if h is _MISSING:
        return None
    h = r.obj(h, "horizon")
    if h is None:
        return None
    r.unknown(h, _HORIZON_KEYS, "horizon")
    start = r.date(h.get("start"), "horizon.start") if "start" in h else None
    end = r.date(h.get("end"), "horizon.end") if "end" in h else None
    if "start" not in h:
        r.err("horizon.start", "is required", "必須項目です")
    if "end" not in h:
        r.err("horizon.end", "is required", "必須項目です")
    skip = r.boolean(h, "skip_holidays", "horizon", True)
    blackouts = []
    for i, b in enumerate(r.items(h, "blackouts", "horizon", required=False)):
        p = f"horizon.blackouts[{i}]"
        b = r.obj(b, p)
        if b is None:
            continue
        r.unknown(b, _BLACKOUT_KEYS, p)
        bd = r.date(b.get("date"), f"{p}.date")
        if bd and start and end and not start <= bd <= end:
            r.err(f"{p}.date", f"{bd} is outside the horizon {start} – {end}",
                  f"{bd} は計画期間 {start} – {end} の外です")
        who = r.str_list(b["experts"], f"{p}.experts") if "experts" in b else ("*",)
        reason = r.string(b, "reason", p, required=False)
        ok, part = _part_of_day(r, b, p, required=False)
        if bd and ok:
            blackouts.append(Blackout(bd, who, reason, *(part or (None, None))))
    if start is None or end is None:
        return None
    if end < start:
        r.err("horizon.end", f"must not be before horizon.start ({start})",
              f"開始日 {start} より前にはできません")
        return None
    if (end - start).days > 366:
        r.err("horizon.end", "the horizon may span at most 366 days", "計画期間は最長 366 日です")
        return None
    published = r.date(h.get("published_until"), "horizon.published_until") \
        if "published_until" in h else None
    history = r.datetime(h.get("history_until"), "horizon.history_until") \
        if h.get("history_until") is not None else None
    closures = []
    for i, c in enumerate(r.items(h, "closures", "horizon", required=False)):
        p = f"horizon.closures[{i}]"
        c = r.obj(c, p)
        if c is None:
            continue
        r.unknown(c, _CLOSURE_KEYS, p)
        loc = r.string(c, "location", p)
        cd = r.date(c.get("date"), f"{p}.date")
        if cd and not start <= cd <= end:
            r.err(f"{p}.date", f"{cd} is outside the horizon {start} – {end}",
                  f"{cd} は計画期間 {start} – {end} の外です")
        ok, part = _part_of_day(r, c, p, required=True)
        if loc and cd and ok and part:
            closures.append(Closure(loc, cd, part[0], part[1],
                                    r.string(c, "reason", p, required=False)))
    return Horizon(start, end, skip, tuple(blackouts), published, history, tuple(closures))


def _part_of_day(r: _Reader, x: Mapping[str, Any], p: str, *, required: bool
                 ) -> tuple[bool, tuple[int, int] | None]:
    """``from``/``until`` (HH:MM) of a part of a day: (read well, the pair or None when both
    are absent and not required); wrong ones are reported."""
    if not required and "from" not in x and "until" not in x:
        return True, None
    lo = r.time(x.get("from"), f"{p}.from")
    hi = r.time(x.get("until"), f"{p}.until")
    if lo is None or hi is None:
        return False, None
    if hi <= lo:
        r.err(f"{p}.until", f"must be after from ({fmt_time(lo)})",
              f"from（{fmt_time(lo)}）より後である必要があります")
        return False, None
    return True, (lo, hi)


def _parse_locations(r: _Reader, d: Mapping[str, Any]) -> list[Location]:
    out = []
    ids = []
    for p, x in r.each(d, "locations", _LOCATION_KEYS, required=True):
        ident = r.string(x, "id", p)
        name = r.string(x, "name", p, required=False) or ident
        lat = r.number(x, "lat", p, -90, 90)
        lon = r.number(x, "lon", p, -180, 180)
        if (lat is None) != (lon is None) and not any(q.path.startswith(p + ".l") for q in r.problems):
            r.err(f"{p}.{'lon' if lon is None else 'lat'}", "lat and lon go together",
                  "lat と lon は両方指定してください")
        open_ = r.opt_time(x, "open", p, 0)
        close = r.opt_time(x, "close", p, 24 * 60 - 1)
        if close <= open_:
            r.err(f"{p}.close", f"must be after open ({fmt_time(open_)})",
                  f"open（{fmt_time(open_)}）より後である必要があります")
        cap = r.integer(x, "max_visits_per_day", p, required=False, lo=0)
        ferry = r.integer(x, "ferry_minutes", p, required=False, lo=0, hi=600)
        pop = r.integer(x, "population", p, required=False, lo=0)
        island = r.boolean(x, "island", p, False)
        name_en = r.string(x, "name_en", p, required=False)
        if ident:
            ids.append((f"{p}.id", ident))
            loc = Location(ident, name, lat, lon, open_, close, cap, name_en, island, ferry, pop)
            out.append(_with_bundled_facts(loc, {**x, "name": x.get("name") or None}))
    _unique(r, ids, "location")
    return out


class _Places:
    """Location references as people write them: a listed id, a listed location's name or
    romaji name, or a bundled Ehime code or name (``"上島町"``, ``"Kamijima"``).

    ``resolve`` gives the location id or ``None``; bundled places referred to but not listed
    are collected in ``bundled`` (taken from the bundled data by the parser).
    """

    def __init__(self, listed: list[Location]):
        self._listed = NameIndex(((loc.id, (loc.name, loc.name_en)) for loc in listed),
                                 place=True)
        self._ids = {loc.id for loc in listed}
        self.bundled: dict[str, None] = {}

    def resolve(self, text: Any) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        if text in self._ids:
            return text
        hit = self._listed.resolve(text)
        if hit is not None:
            return hit

        code = resolve_municipality(text)
        if code is not None:
            self.bundled.setdefault(code)
        return code

    def ref(self, r: _Reader, value: str, path: str) -> str:
        """``value`` as a location id; an unknown one is reported at ``path``."""
        hit = self.resolve(value)
        if hit is None:
            r.known(value, path, set())
            return value
        return hit

    def used_bundled(self) -> list[Location]:
        """The bundled places referred to but not listed: open 08:30–17:15, no cap."""
        if not self.bundled:
            return []
        from engine.ehime import ehime_locations  # start fast

        return [replace(loc, max_visits_per_day=None) for loc in ehime_locations()
                if loc.id in self.bundled and loc.id not in self._ids]


#: Facts of a bundled place that a listed location takes when it omits them.
_BUNDLED_FACTS = ("name", "name_en", "lat", "lon", "island", "population")


@functools.cache
def _bundled_by_id() -> dict[str, Location]:
    """The bundled Ehime places by code, read once (a national request lists 1,741 places)."""
    from engine.ehime import ehime_locations  # start fast

    return {b.id: b for b in ehime_locations()}


def _with_bundled_facts(loc: Location, given: Mapping[str, Any]) -> Location:
    """A location listed under a bundled Ehime code takes the bundled facts it omits
    (``383562`` with only lat/lon is still an island with its ferry, population and romaji)."""
    bundled = _bundled_by_id().get(loc.id)
    if bundled is None:
        return loc
    missing = {k: getattr(bundled, k) for k in _BUNDLED_FACTS if given.get(k) is None}
    if "lat" in missing and "lon" not in missing or "lon" in missing and "lat" not in missing:
        missing.pop("lat", None)
        missing.pop("lon", None)
    return replace(loc, **missing)


def _parse_experts(r: _Reader, d: Mapping[str, Any], places: _Places,
                   horizon: Horizon | None) -> list[Expert]:
    out = []
    ids = []
    for p, x in r.each(d, "experts", _EXPERT_KEYS, required=True):
        ident = r.string(x, "id", p)
        if ident == "*":
            r.err(f"{p}.id", "'*' is reserved for 'every expert'", "'*' は予約されています")
        fields = _fields(r, x, p)
        if len(set(fields)) != len(fields):
            r.err(f"{p}.fields", "lists a field twice", "同じ分野が重複しています")
        base = r.string(x, "base", p)
        if base:
            base = places.ref(r, base, f"{p}.base")
        ws = r.opt_time(x, "work_start", p, 510)
        we = r.opt_time(x, "work_end", p, 1035)
        if we <= ws:
            r.err(f"{p}.work_end", f"must be after work_start ({fmt_time(ws)})",
                  f"work_start（{fmt_time(ws)}）より後である必要があります")
        days = None
        if "days" in x and x["days"] is not None:
            raw_days = x["days"]
            if not isinstance(raw_days, list):
                r.err(f"{p}.days", "must be a list of dates", "日付のリストである必要があります")
            else:
                parsed = []
                for j, s in enumerate(raw_days):
                    day = r.date(s, f"{p}.days[{j}]")
                    if day and horizon and not horizon.start <= day <= horizon.end:
                        r.err(f"{p}.days[{j}]", f"{day} is outside the horizon",
                              f"{day} は計画期間の外です")
                    elif day:
                        parsed.append(day)
                days = tuple(sorted(set(parsed)))
        by_month: dict[str, int] = {}
        if isinstance(x.get("max_onsite_days_per_month"), dict):
            # the contract's days month by month: {"2026-08": 10, ...}
            for month, n in x["max_onsite_days_per_month"].items():
                q = f"{p}.max_onsite_days_per_month.{month}"
                if not (isinstance(month, str) and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month)):
                    r.err(q, "must be a month YYYY-MM", "月（YYYY-MM）である必要があります")
                elif isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    r.err(q, f"must be a whole number >= 0, got {n!r}",
                          f"0 以上の整数である必要があります（{n!r}）")
                else:
                    by_month[month] = n
            x = {k: v for k, v in x.items() if k != "max_onsite_days_per_month"}
        caps = {k: r.integer(x, k, p, required=False, lo=0)
                for k in ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day",
                          "max_onsite_days", "max_onsite_days_per_month")}
        name = r.string(x, "name", p, required=False)
        if ident:
            ids.append((f"{p}.id", ident))
            out.append(Expert(ident, fields, base, ws, we, days, caps["max_visits_per_day"],
                              caps["max_visits_total"], caps["max_drive_minutes_per_day"],
                              caps["max_onsite_days"], name, caps["max_onsite_days_per_month"],
                              by_month))
    _unique(r, ids, "expert")
    return out


def _parse_requests(r: _Reader, d: Mapping[str, Any], places: _Places,
                    experts: Mapping[str, Expert], horizon: Horizon | None) -> list[Request]:
    out = []
    ids = []
    for p, x in r.each(d, "requests", _REQ_KEYS):
        ident = r.string(x, "id", p)
        loc = r.string(x, "location", p)
        if loc:
            loc = places.ref(r, loc, f"{p}.location")
        fields = _fields(r, x, p)
        mode = r.string(x, "mode", p)
        if mode:
            mode = read_mode(mode) or mode      # 訪問 / オンライン as in the sheet
        if mode and mode not in ("onsite", "online"):
            r.err(f"{p}.mode", f"must be 'onsite' or 'online' (訪問 / オンライン), got {mode!r}",
                  f"'onsite' か 'online'（訪問 / オンライン）である必要があります（{mode!r}）")
        dur = r.integer(x, "duration_min", p, positive=True, hi=MAX_DURATION_MIN)
        prio = r.integer(x, "priority", p, required=False, default=PRIORITY_DEFAULT,
                         lo=PRIORITY_MIN, hi=PRIORITY_MAX)
        earliest = horizon.start if horizon else None
        latest = horizon.end if horizon else None
        for key in ("earliest", "latest"):
            if key in x and x[key] is not None:
                day = r.date(x[key], f"{p}.{key}")
                if day and horizon and not horizon.start <= day <= horizon.end:
                    r.err(f"{p}.{key}", f"{day} is outside the horizon {horizon.start} – {horizon.end}",
                          f"{day} は計画期間 {horizon.start} – {horizon.end} の外です")
                elif day:
                    if key == "earliest":
                        earliest = day
                    else:
                        latest = day
        if earliest and latest and latest < earliest:
            r.err(f"{p}.latest", f"must not be before earliest ({earliest})",
                  f"earliest（{earliest}）より前にはできません")
        window = None
        if "window" in x and x["window"] is not None:
            w = x["window"]
            if not isinstance(w, list) or len(w) != 2:
                r.err(f"{p}.window", "must be [start, end] as two HH:MM times",
                      "[開始, 終了]（HH:MM 二つ）である必要があります")
            else:
                ws, we = r.time(w[0], f"{p}.window[0]"), r.time(w[1], f"{p}.window[1]")
                if ws is not None and we is not None:
                    if we <= ws:
                        r.err(f"{p}.window[1]", f"must be after window[0] ({fmt_time(ws)})",
                              f"window[0]（{fmt_time(ws)}）より後である必要があります")
                    elif dur and we - ws < dur:
                        r.err(f"{p}.window", f"is shorter than duration_min ({dur})",
                              f"所要時間（{dur} 分）より短いです")
                    else:
                        window = (ws, we)
        fixed = None
        if "fixed" in x and x["fixed"] is not None:
            fixed = _parse_fixed(r, x["fixed"], f"{p}.fixed", fields, experts, horizon)
        title = r.string(x, "title", p, required=False)
        conf = r.boolean(x, "confidential", p, False)
        if ident and loc and fields and mode in ("onsite", "online") and dur and prio \
                and earliest and latest:
            ids.append((f"{p}.id", ident))
            out.append(Request(ident, loc, fields, mode, dur, prio, earliest, latest,  # type: ignore[arg-type]
                               window, fixed, title, conf))
        elif ident:
            ids.append((f"{p}.id", ident))
    _unique(r, ids, "request")
    return out


def _parse_fixed(r: _Reader, raw: Any, p: str, fields: tuple[str, ...],
                 experts: Mapping[str, Expert], horizon: Horizon | None) -> Fixed | None:
    x = r.obj(raw, p)
    if x is None:
        return None
    r.unknown(x, _FIXED_KEYS, p)
    names = _expert_names(list(experts.values()))
    who = tuple(names.resolve(e) or e for e in r.str_list(x["experts"], f"{p}.experts")) \
        if "experts" in x else ()
    if "experts" not in x:
        r.err(f"{p}.experts", "is required", "必須項目です")
    # An expert the request does not list is no format error: the plan reports that the
    # published visit cannot be kept, and why (FORMAT.md's own example relies on this).
    if who and fields and len(who) != len(fields):
        r.err(f"{p}.experts", f"names {len(who)} experts for {len(fields)} fields",
              f"分野 {len(fields)} 件に対して専門家が {len(who)} 名です")
    if len(set(who)) != len(who):
        r.err(f"{p}.experts", "names an expert twice", "同じ専門家が重複しています")
    day = r.date(x.get("date"), f"{p}.date") if "date" in x else None
    if "date" not in x:
        r.err(f"{p}.date", "is required", "必須項目です")
    if day and horizon and not horizon.start <= day <= horizon.end:
        r.err(f"{p}.date", f"{day} is outside the horizon {horizon.start} – {horizon.end}",
              f"{day} は計画期間の外です")
    start = r.time(x.get("start"), f"{p}.start") if "start" in x else None
    if "start" not in x:
        r.err(f"{p}.start", "is required", "必須項目です")
    if who and day and start is not None:
        return Fixed(who, day, start)
    return None


#: The longest leg accepted, minutes (a year): legs longer than a working day are valid input
#: (a national matrix has them); they just fit no day.
MAX_LEG_MINUTES = 366 * 24 * 60
_TRAVEL_FILE_KEYS = {"path", "layout"}


def _parse_travel(r: _Reader, d: Mapping[str, Any], places: _Places,
                  base_dir: Path | None) -> Mapping[str, Mapping[str, int]]:
    t = r.section(d, "travel", _TRAVEL_KEYS)
    if t is None:
        return {}
    tables = _travel_files(r, t, places, base_dir) if "files" in t else []
    m = t.get("minutes", {})
    m = r.obj(m, "travel.minutes")
    if m is None:
        return {}
    out: dict[str, dict[str, int]] = {}
    for a_raw, row in m.items():
        pa = f"travel.minutes.{a_raw}"
        a = places.resolve(a_raw)
        if a is None:
            r.known(a_raw, pa, set())
            continue
        row = r.obj(row, pa)
        if row is None:
            continue
        for b_raw in row:
            b = places.resolve(b_raw)
            if b is None:
                r.known(b_raw, f"{pa}.{b_raw}", set())
                continue
            v = r.integer(row, b_raw, pa, lo=0, hi=MAX_LEG_MINUTES)
            if v is not None:
                if a == b and v != 0:
                    r.err(f"{pa}.{b_raw}", "a location to itself is 0 minutes", "同じ場所への移動は 0 分です")
                    continue
                out.setdefault(a, {})[b] = v
    if not tables:
        return out
    # Files first, in order, then the document's own minutes: the later wins.
    ids = list(dict.fromkeys(x for frm, to, _ in tables for x in (*frm, *to)))
    seen = set(ids)
    ids += [x for x in dict.fromkeys([*out, *(b for row in out.values() for b in row)])
            if x not in seen]
    index = {x: i for i, x in enumerate(ids)}
    arr = np.full((len(ids), len(ids)), -1, dtype=np.int32)
    for frm, to, minutes in tables:
        fi = np.array([index[x] for x in frm], dtype=np.intp)
        ti = np.array([index[x] for x in to], dtype=np.intp)
        arr[fi, ti] = minutes
    for a, row in out.items():
        for b, v in row.items():
            arr[index[a], index[b]] = v
    np.fill_diagonal(arr, -1)
    return MinutesMatrix(ids, arr)


def _travel_files(r: _Reader, t: Mapping[str, Any], places: _Places, base_dir: Path | None
                  ) -> list[tuple[list[str], list[str], np.ndarray]]:
    """Every ``travel.files`` entry read: (from ids, to ids, minutes) of its given pairs."""
    files = r.items(t, "files", "travel", required=False)
    if files and base_dir is None:
        r.err("travel.files", "matrix files can be referenced only from a request file "
              "(dxshare plan REQUEST.json), not in a request sent as a body",
              "行列ファイルは依頼ファイルからのみ参照できます（送信された依頼本文からは参照できません）")
        return []
    out = []
    for i, raw in enumerate(files):
        p = f"travel.files[{i}]"
        x = r.obj(raw, p)
        if x is None:
            continue
        r.unknown(x, _TRAVEL_FILE_KEYS, p)
        rel = r.string(x, "path", p)
        layout = r.string(x, "layout", p, required=False) or None
        if layout is not None and layout not in ("long", "wide"):
            r.err(f"{p}.layout", f"must be 'long' or 'wide', got {layout!r}",
                  f"'long' か 'wide' である必要があります（{layout!r}）")
            continue
        if not rel.strip():
            continue
        assert base_dir is not None
        table = _read_matrix_file(r, f"{p}.path", base_dir / rel, rel, layout, places)
        if table is not None:
            out.append(table)
    return out


def _parse_goals(r: _Reader, d: Mapping[str, Any], places: _Places) -> Goals:
    """``goals`` (dxshare extension): the season's coverage floors and small-town bonus."""
    g = r.section(d, "goals", _GOALS_KEYS)
    if g is None:
        return Goals()
    coverage = small = None
    if "coverage" in g:
        c = r.obj(g["coverage"], "goals.coverage")
        if c is not None:
            r.unknown(c, _COVERAGE_KEYS, "goals.coverage")
            base = Coverage()
            floor = r.integer(c, "min_visits", "goals.coverage", required=False,
                              default=base.min_visits, lo=0, hi=1000)
            penalty = r.integer(c, "penalty", "goals.coverage", required=False,
                                default=base.penalty, lo=0, hi=10_000_000)
            modes = base.modes
            if "modes" in c:
                modes = r.str_list(c["modes"], "goals.coverage.modes")
                for i, m in enumerate(modes):
                    if m not in ("onsite", "online"):
                        r.err(f"goals.coverage.modes[{i}]", f"must be 'onsite' or 'online', got "
                              f"{m!r}", "'onsite' か 'online' である必要があります")
            overrides: dict[str, int] = {}
            raw_locs = c.get("locations", {})
            if not isinstance(raw_locs, dict):
                r.err("goals.coverage.locations", "must be an object of location → visits",
                      "場所 → 件数 のオブジェクトである必要があります")
            else:
                for key, n in raw_locs.items():
                    path = f"goals.coverage.locations.{key}"
                    lid = places.ref(r, key, path)
                    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                        r.err(path, f"must be a whole number >= 0, got {n!r}",
                              f"0 以上の整数である必要があります（{n!r}）")
                    else:
                        overrides[lid] = n
            coverage = Coverage(floor if floor is not None else base.min_visits,
                                penalty if penalty is not None else base.penalty,
                                tuple(modes), overrides)
    if "small_towns" in g:
        t = r.obj(g["small_towns"], "goals.small_towns")
        if t is not None:
            r.unknown(t, _SMALL_TOWNS_KEYS, "goals.small_towns")
            base_t = SmallTowns()
            below = r.integer(t, "population_below", "goals.small_towns", required=False,
                              default=base_t.population_below, lo=1)
            bonus = r.integer(t, "bonus", "goals.small_towns", required=False,
                              default=base_t.bonus, lo=0, hi=1_000_000)
            small = SmallTowns(below if below is not None else base_t.population_below,
                               bonus if bonus is not None else base_t.bonus)
    return Goals(coverage, small)


def _read_matrix_file(r: _Reader, p: str, path: Path, rel: str, layout: str | None,
                      places: _Places) -> tuple[list[str], list[str], np.ndarray] | None:
    """One matrix file: ``long`` (columns ``from``, ``to``, ``minutes``, one pair a row) or
    ``wide`` (first column the place driven from, one column per place driven to); CSV
    (optionally gzip-compressed) or Parquet. Empty cells are pairs not given."""
    import pandas as pd

    df = _matrix_frame(r, p, path, rel)
    if df is None:
        return None
    cells = _matrix_cells(r, p, rel, df, layout)
    if cells is None:
        return None
    frm_raw, to_raw, values, lines, col_names = cells
    labels = {x: places.resolve(x) for x in {*pd.unique(frm_raw), *pd.unique(to_raw)}}
    unknown = sorted(x for x, v in labels.items() if v is None)
    for x in unknown[:10]:
        r.err(p, f"{rel}: unknown location {x!r}", f"{rel}: 不明な場所 {x!r} です")
    if unknown:
        return None
    if pd.api.types.is_numeric_dtype(values):
        nums = values.astype(float)
        blank = nums.isna()
        text = values.astype(str)
    else:
        text = values.astype(str).str.strip()
        blank = text.isin(["", "nan", "NaN", "None", "<NA>"])
        nums = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = (~blank) & (nums.isna() | (nums % 1 != 0) | (nums < 0) | (nums > MAX_LEG_MINUTES))
    for pos in np.flatnonzero(bad.to_numpy())[:10]:
        r.err(p, f"{rel} line {lines[pos]}, column {col_names[pos]!r}: must be whole minutes "
              f"from 0 to {MAX_LEG_MINUTES}, got {text.iloc[pos]!r}",
              f"{rel} {lines[pos]} 行目「{col_names[pos]}」: 0 から {MAX_LEG_MINUTES} の整数（分）"
              f"である必要があります（{text.iloc[pos]!r}）")
    if bad.any():
        return None
    keep = np.flatnonzero((~blank).to_numpy())
    frm = pd.Series(frm_raw[keep]).map(labels).to_numpy(dtype=object)
    to = pd.Series(to_raw[keep]).map(labels).to_numpy(dtype=object)
    minutes = nums.to_numpy()[keep].astype(np.int64)
    loops = np.flatnonzero((frm == to) & (minutes != 0))
    if len(loops):
        line = lines[keep[loops[0]]]
        r.err(p, f"{rel} line {line}: a location to itself is 0 minutes",
              f"{rel} {line} 行目: 同じ場所への移動は 0 分です")
        return None
    return list(frm), list(to), minutes


def _matrix_frame(r: _Reader, p: str, path: Path, rel: str) -> Any:
    """The matrix file as a DataFrame (None, with the error said, when it cannot be read)."""
    import pandas as pd  # start fast

    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            df = pd.read_parquet(path)
        elif name.endswith((".csv", ".csv.gz")):
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        else:
            r.err(p, f"{rel}: a matrix file is .csv, .csv.gz or .parquet",
                  f"{rel}: 行列ファイルは .csv、.csv.gz または .parquet です")
            return None
    except FileNotFoundError:
        r.err(p, f"{rel}: file not found (paths are relative to the request file)",
              f"{rel}: ファイルが見つかりません（パスは依頼ファイルからの相対パスです）")
        return None
    except ImportError:
        r.err(p, f"{rel}: reading Parquet needs pyarrow: pip install 'dxshare[parquet]'",
              f"{rel}: Parquet の読み込みには pyarrow が必要です: pip install 'dxshare[parquet]'")
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        r.err(p, f"{rel}: cannot read: {exc}", f"{rel}: 読み込めません: {exc}")
        return None
    return df


def _matrix_cells(r: _Reader, p: str, rel: str, df: Any, layout: str | None) -> tuple[
        np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray] | None:
    """The cells of a matrix in either layout, one a pair: place driven from, place driven to,
    minutes (as written), the file's line and column of each (None, with the error said, when
    the columns do not make a matrix)."""
    import pandas as pd  # start fast

    cols = [str(c) for c in df.columns]
    if layout is None:
        layout = "long" if cols == ["from", "to", "minutes"] else "wide"
    if layout == "long":
        if cols[:3] != ["from", "to", "minutes"] or len(cols) != 3:
            r.err(p, f"{rel}: a long matrix has the columns from, to, minutes (got "
                  f"{', '.join(cols[:5])})",
                  f"{rel}: long 形式の列は from, to, minutes です（{', '.join(cols[:5])}）")
            return None
        frm_raw = df["from"].astype(str).to_numpy(dtype=object)
        to_raw = df["to"].astype(str).to_numpy(dtype=object)
        values = df["minutes"]
        lines = np.arange(len(df)) + 2
        col_names = np.full(len(df), "minutes", dtype=object)
    else:
        if len(cols) < 2:
            r.err(p, f"{rel}: a wide matrix has the places driven from in its first column and "
                  "one column per place driven to",
                  f"{rel}: wide 形式は1列目が出発地、2列目以降が到着地です")
            return None
        heads = np.array(cols[1:], dtype=object)
        body = df.iloc[:, 1:]
        n, k = body.shape
        frm_raw = np.repeat(df.iloc[:, 0].astype(str).to_numpy(dtype=object), k)
        to_raw = np.tile(heads, n)
        values = pd.Series(body.to_numpy().reshape(-1))
        lines = np.repeat(np.arange(n) + 2, k)
        col_names = to_raw
    return frm_raw, to_raw, values, lines, col_names


def _parse_objective(r: _Reader, d: Mapping[str, Any]) -> Objective:
    o = r.section(d, "objective", _OBJECTIVE_KEYS)
    if o is None:
        return Objective()
    base = Objective()
    vals = {k: r.integer(o, k, "objective", required=False, default=getattr(base, k), lo=0,
                         hi=1_000_000) for k in _OBJECTIVE_KEYS}
    return Objective(**{k: int(v) for k, v in vals.items() if v is not None})


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a missing file or bad JSON raises ``InputError`` naming it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(str(p), "file not found", "ファイルが見つかりません")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(p), f"cannot read: {exc}", f"読み込めません: {exc}")) from None
    return loads_json(text, str(p))


def loads_json(text: str | bytes, where: str = "") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ja = f"JSON として読めません: {exc.lineno} 行 {exc.colno} 列（{exc.msg}）"
        raise InputError(Problem(where, msg, ja)) from None
    except UnicodeDecodeError:
        raise InputError(Problem(where, "not UTF-8 text", "UTF-8 のテキストではありません")) from None


def load_plan_request(path: str | Path) -> PlanRequest:
    """Read a request file; its ``travel.files`` are read relative to its folder."""
    return parse_plan_request(read_json(path), base_dir=Path(path).resolve().parent)


def _opt(d: dict[str, Any], key: str, value: Any, default: Any = None) -> None:
    if value is not None and value != default:
        d[key] = value


def plan_request_to_dict(req: PlanRequest) -> dict[str, Any]:
    """The inverse of ``parse_plan_request``: a JSON-ready ``plan-request/1`` document."""
    doc: dict[str, Any] = {"format": REQUEST_FORMAT}
    for k, v in req.extra.items():
        doc[k] = v
    if req.timezone != "Asia/Tokyo":
        doc["timezone"] = req.timezone
    doc["horizon"] = _horizon_dict(req.horizon)
    doc["locations"] = [_location_dict(loc) for loc in req.locations]
    doc["experts"] = [_expert_dict(e, req.horizon) for e in req.experts]
    doc["requests"] = [_request_dict(q) for q in req.requests]
    doc["travel"] = {"minutes": {a: dict(row) for a, row in req.travel.items()}}
    o = req.objective
    doc["objective"] = {"priority": o.priority, "drive_minute": o.drive_minute,
                        "onsite_day": o.onsite_day}
    goals: dict[str, Any] = {}
    if req.goals.coverage is not None:
        c = req.goals.coverage
        goals["coverage"] = {"min_visits": c.min_visits, "penalty": c.penalty,
                             "modes": list(c.modes)}
        if c.overrides:
            goals["coverage"]["locations"] = dict(c.overrides)
    if req.goals.small_towns is not None:
        t = req.goals.small_towns
        goals["small_towns"] = {"population_below": t.population_below, "bonus": t.bonus}
    if goals:
        doc["goals"] = goals
    return doc


def _horizon_dict(h: Horizon) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": h.start.isoformat(), "end": h.end.isoformat(),
        "skip_holidays": h.skip_holidays,
        "blackouts": [{"date": b.date.isoformat(), "experts": list(b.experts),
                       **({"reason": b.reason} if b.reason else {}),
                       **({"from": fmt_time(b.start), "until": fmt_time(b.end)}
                          if b.start is not None and b.end is not None else {})}
                      for b in h.blackouts]}
    if h.published_until is not None:
        out["published_until"] = h.published_until.isoformat()
    if h.history_until is not None:
        out["history_until"] = h.history_until.isoformat(timespec="minutes")
    if h.closures:
        out["closures"] = [
            {"location": c.location, "date": c.date.isoformat(), "from": fmt_time(c.start),
             "until": fmt_time(c.end), **({"reason": c.reason} if c.reason else {})}
            for c in h.closures]
    return out


def _location_dict(loc: Location) -> dict[str, Any]:
    x: dict[str, Any] = {"id": loc.id, "name": loc.name}
    _opt(x, "name_en", loc.name_en, "")
    _opt(x, "lat", loc.lat)
    _opt(x, "lon", loc.lon)
    x["open"], x["close"] = fmt_time(loc.open), fmt_time(loc.close)
    _opt(x, "max_visits_per_day", loc.max_visits_per_day)
    _opt(x, "island", loc.island, False)
    _opt(x, "ferry_minutes", loc.ferry_minutes)
    _opt(x, "population", loc.population)
    return x


def _expert_dict(e: Expert, horizon: Horizon) -> dict[str, Any]:
    x: dict[str, Any] = {"id": e.id}
    _opt(x, "name", e.name, "")
    x.update({"fields": list(e.fields), "base": e.base, "work_start": fmt_time(e.work_start),
              "work_end": fmt_time(e.work_end)})
    if e.days is not None:
        x["days"] = [day.isoformat() for day in e.days]
    for k in ("max_visits_per_day", "max_visits_total", "max_drive_minutes_per_day",
              "max_onsite_days", "max_onsite_days_per_month"):
        _opt(x, k, getattr(e, k))
    if e.onsite_days_by_month:
        months = dict(e.onsite_days_by_month)
        if e.max_onsite_days_per_month is not None:
            # one field holds either form: spell the general cap out for every month
            for day in horizon.dates:
                months.setdefault(f"{day:%Y-%m}", e.max_onsite_days_per_month)
        x["max_onsite_days_per_month"] = dict(sorted(months.items()))
    return x


def _request_dict(q: Request) -> dict[str, Any]:
    x: dict[str, Any] = {
        "id": q.id, "location": q.location, "fields": list(q.fields), "mode": q.mode,
        "duration_min": q.duration_min, "priority": q.priority,
        "earliest": q.earliest.isoformat(), "latest": q.latest.isoformat()}
    if q.window:
        x["window"] = [fmt_time(q.window[0]), fmt_time(q.window[1])]
    if q.fixed:
        x["fixed"] = {"experts": list(q.fixed.experts), "date": q.fixed.date.isoformat(),
                      "start": fmt_time(q.fixed.start)}
    _opt(x, "title", q.title, "")
    _opt(x, "confidential", q.confidential, False)
    return x


def _visit_dict(v: Visit) -> dict[str, Any]:
    return {"request": v.request, "experts": list(v.experts), "location": v.location,
            "mode": v.mode, "date": v.date.isoformat(), "start": fmt_time(v.start),
            "end": fmt_time(v.end)}


def _change_dict(c: Change) -> dict[str, Any]:
    def side(v: Visit | None) -> dict[str, Any] | None:
        if v is None:
            return None
        return {k: x for k, x in _visit_dict(v).items() if k not in ("request", "location")}

    return {"request": c.request, "kind": c.kind, "location": c.location,
            "before": side(c.before), "after": side(c.after)}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready ``plan/1`` document."""
    doc: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "status": plan.status,
        "objective": plan.objective,
        "bound": plan.bound,
        "solve_seconds": round(plan.solve_seconds, 3),
        "visits": [_visit_dict(v) for v in plan.visits],
        "routes": [_route_to_dict(rt) for rt in plan.routes],
        "unscheduled": [{"request": u.request, "reasons": list(u.reasons),
                         **({"reasons_ja": list(u.reasons_ja)} if u.reasons_ja else {}),
                         **({"codes": list(u.codes)} if u.codes else {})}
                        for u in plan.unscheduled],
        "kpis": dict(plan.kpis),
    }
    if plan.messages:
        doc["messages"] = list(plan.messages)
    if plan.messages_ja:
        doc["messages_ja"] = list(plan.messages_ja)
    if plan.solver:
        doc["solver"] = dict(plan.solver)
    if plan.changes or "moved" in plan.kpis:
        doc["changes"] = [_change_dict(c) for c in plan.changes]
    if plan.event is not None:
        doc["event"] = dict(plan.event)
    if plan.coverage:
        doc["coverage"] = [{"location": c.location, "visits": c.visits,
                            "min_visits": c.min_visits, "shortfall": c.shortfall,
                            **({"reasons": list(c.reasons)} if c.reasons else {}),
                            **({"reasons_ja": list(c.reasons_ja)} if c.reasons_ja else {}),
                            **({"codes": list(c.codes)} if c.codes else {})}
                           for c in plan.coverage]
    return doc


def _route_to_dict(rt: Route) -> dict[str, Any]:
    out: dict[str, Any] = {"expert": rt.expert, "date": rt.date.isoformat(),
                           "leave": fmt_time(rt.leave), "return": fmt_time(rt.return_),
                           "stops": list(rt.stops), "drive_minutes": rt.drive_minutes}
    if rt.departures:
        # dxshare extension: when each leg is driven (it ends at departure + minutes).
        out["legs"] = [{"depart": fmt_time(d)} for d in rt.departures]
    return out


def dump_plan(plan: Plan, path: str | Path) -> None:
    Path(path).write_text(json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2) + "\n",
                          encoding="utf-8")


def parse_plan(doc: Any) -> Plan:
    """Read a ``plan/1`` document (e.g. last week's plan given with ``--previous``)."""
    r = _Reader()
    d = r.obj(doc, "")
    if d is None:
        raise InputError(r.problems)
    if d.get("format", PLAN_FORMAT) != PLAN_FORMAT:
        r.err("format", f"must be {PLAN_FORMAT!r}, got {d.get('format')!r}",
              f"{PLAN_FORMAT!r} である必要があります")
    status = d.get("status", "feasible")
    if status not in ("optimal", "feasible", "infeasible", "error"):
        r.err("status", f"unknown status {status!r}", f"不明な状態 {status!r} です")
    visits = []
    for p, x in r.each(d, "visits", None):
        v = _read_visit(r, x, p, r.string(x, "request", p), r.string(x, "location", p))
        if v is not None:
            visits.append(v)
    routes = [rt for p, x in r.each(d, "routes", None)
              if (rt := _read_route(r, x, p)) is not None]
    unscheduled = []
    for p, x in r.each(d, "unscheduled", None):
        rid = r.string(x, "request", p)
        reasons = r.str_list(x.get("reasons", []), f"{p}.reasons", nonempty=False)
        unscheduled.append(Unscheduled(rid, reasons,
                                       tuple(x.get("reasons_ja", []) or []),
                                       tuple(x.get("codes", []) or [])))
    changes = [c for p, x in r.each(d, "changes", None)
               if (c := _read_change(r, x, p)) is not None]
    coverage = [cv for p, x in r.each(d, "coverage", None)
                if (cv := _read_coverage(r, x, p)) is not None]
    messages = {k: r.str_list(d.get(k, []), k, nonempty=False)
                for k in ("messages", "messages_ja")}
    solver = d.get("solver", {})
    if not isinstance(solver, dict):
        r.err("solver", "must be an object", "オブジェクトである必要があります")
        solver = {}
    event = d.get("event")
    if event is not None and not isinstance(event, dict):
        r.err("event", "must be an object", "オブジェクトである必要があります")
        event = None
    if r.problems:
        raise InputError(r.problems)
    kpis = d.get("kpis") if isinstance(d.get("kpis"), dict) else {}
    return Plan(status=status, objective=d.get("objective"), bound=d.get("bound"),
                solve_seconds=float(d.get("solve_seconds") or 0.0), visits=tuple(visits),
                routes=tuple(routes), unscheduled=tuple(unscheduled), kpis=kpis or {},
                messages=messages["messages"], messages_ja=messages["messages_ja"],
                solver=SolveInfo.of(solver), changes=tuple(changes), coverage=tuple(coverage), event=event)


def _read_route(r: _Reader, x: Mapping[str, Any], p: str) -> Route | None:
    """One route of a plan (None when a field it needs is missing or bad)."""
    day = r.date(x.get("date"), f"{p}.date")
    leave = r.time(x.get("leave"), f"{p}.leave")
    ret = r.time(x.get("return"), f"{p}.return")
    stops = r.str_list(x.get("stops"), f"{p}.stops")
    drive = r.integer(x, "drive_minutes", p, lo=0)
    eid = r.string(x, "expert", p)
    departures: list[int] = []
    legs = r.items(x, "legs", p, required=False)
    for i, raw in enumerate(legs):
        leg = r.obj(raw, f"{p}.legs[{i}]")
        dep = r.time(leg.get("depart"), f"{p}.legs[{i}].depart") if leg is not None else None
        if dep is not None:
            departures.append(dep)
    if legs and len(legs) != len(stops) + 1:
        r.err(f"{p}.legs", f"needs one entry per leg ({len(stops) + 1}), got {len(legs)}",
              f"区間は {len(stops) + 1} 件必要です（{len(legs)} 件あります）")
    if day and leave is not None and ret is not None and drive is not None:
        return Route(eid, day, leave, ret, stops, drive, tuple(departures))
    return None


def _read_change(r: _Reader, x: Mapping[str, Any], p: str) -> Change | None:
    """One change of a plan against the last one, with the visit before and after."""
    rid = r.string(x, "request", p)
    loc = r.string(x, "location", p)
    kind = r.string(x, "kind", p)
    if kind and kind not in ("moved", "added", "dropped", "withdrawn"):
        r.err(f"{p}.kind", f"unknown change {kind!r}", f"不明な変更の種類 {kind!r} です")
    sides = []
    for side in ("before", "after"):
        raw = x.get(side)
        sx = None if raw is None else r.obj(raw, f"{p}.{side}")
        sides.append(None if sx is None else _read_visit(r, sx, f"{p}.{side}", rid, loc))
    if rid and kind in ("moved", "added", "dropped", "withdrawn"):
        return Change(rid, kind, loc, sides[0], sides[1])  # type: ignore[arg-type]
    return None


def _read_coverage(r: _Reader, x: Mapping[str, Any], p: str) -> LocationCoverage | None:
    """One place's coverage of a plan (the season goal)."""
    lid = r.string(x, "location", p)
    n = {k: r.integer(x, k, p, lo=0) for k in ("visits", "min_visits", "shortfall")}
    if lid and n["visits"] is not None and n["min_visits"] is not None \
            and n["shortfall"] is not None:
        return LocationCoverage(
            lid, n["visits"], n["min_visits"], n["shortfall"],
            r.str_list(x.get("reasons", []), f"{p}.reasons", nonempty=False),
            tuple(x.get("reasons_ja", []) or []), tuple(x.get("codes", []) or []))
    return None


def _read_visit(r: _Reader, x: Mapping[str, Any], p: str, rid: str, loc: str) -> Visit | None:
    who = r.str_list(x.get("experts"), f"{p}.experts")
    mode = r.string(x, "mode", p)
    if mode and mode not in ("onsite", "online"):
        r.err(f"{p}.mode", f"must be 'onsite' or 'online', got {mode!r}", "不正な形態です")
    day = r.date(x.get("date"), f"{p}.date")
    start = r.time(x.get("start"), f"{p}.start")
    end = r.time(x.get("end"), f"{p}.end")
    if start is not None and end is not None and end <= start:
        r.err(f"{p}.end", "must be after start", "開始より後である必要があります")
    if rid and who and day and start is not None and end is not None and mode in (
            "onsite", "online"):
        return Visit(rid, who, loc, mode, day, start, end)  # type: ignore[arg-type]
    return None


def load_plan(path: str | Path) -> Plan:
    return parse_plan(read_json(path))


