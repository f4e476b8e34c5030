"""Reading a ``plan-request/1`` document into a ``PlanRequest`` (docs/FORMAT.md): the horizon,
locations, experts, requests, goals and objective, each validated with its path."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem
from engine.format.appointments import unreachable_appointments
from engine.format.hours import read_busy, read_closed, read_lunch, read_overtime
from engine.format.matrices import _parse_travel
from engine.format.overnight import read_overnight
from engine.format.places import (
    Places,
    _with_bundled_facts,
    expert_names,
)
from engine.format.reader import _MISSING, Reader, _unique, read_json
from engine.format.series import check_series, parse_after
from engine.model import (
    START_GRIDS,
    Blackout,
    Closure,
    Coverage,
    Expert,
    Fixed,
    Goals,
    Horizon,
    Location,
    Objective,
    PlanRequest,
    Request,
    SmallTowns,
    fmt_time,
)
from engine.names import resolve_field
from engine.readings import (
    MAX_DURATION_MIN,
    PRIORITY_DEFAULT,
    PRIORITY_MAX,
    PRIORITY_MIN,
    read_mode,
)
from engine.words import counted, month_day

REQUEST_FORMAT = "plan-request/1"

_REQUEST_KEYS = {"format", "horizon", "locations", "experts", "requests", "travel", "objective",
                 "timezone", "name", "description", "generator", "goals"}
_HORIZON_KEYS = {"start", "end", "skip_holidays", "blackouts", "published_until",
                 "history_until", "closures", "start_grid_min"}
_BLACKOUT_KEYS = {"date", "experts", "reason", "from", "until"}
_CLOSURE_KEYS = {"location", "date", "from", "until", "reason"}
_LOCATION_KEYS = {"id", "name", "lat", "lon", "open", "close", "max_visits_per_day", "name_en",
                  "island", "ferry_minutes", "population", "closed"}
_EXPERT_KEYS = {"id", "fields", "base", "work_start", "work_end", "days", "max_visits_per_day",
                "max_visits_total", "max_drive_minutes_per_day", "max_onsite_days", "name",
                "max_onsite_days_per_month", "lunch", "busy",
                "overtime", "overnight"}
_REQ_KEYS = {"id", "location", "fields", "mode", "duration_min", "priority", "earliest", "latest",
             "window", "fixed", "title", "confidential", "after", "due"}
_FIXED_KEYS = {"experts", "date", "start"}
_OBJECTIVE_KEYS = {"priority", "drive_minute", "onsite_day", "late_day"}
_GOALS_KEYS = {"coverage", "small_towns"}
_COVERAGE_KEYS = {"min_visits", "penalty", "modes", "locations"}
_SMALL_TOWNS_KEYS = {"population_below", "bonus"}


def parse_plan_request(doc: Any, *, base_dir: str | Path | None = None) -> PlanRequest:
    """Validate a ``plan-request/1`` document (already parsed from JSON) into a ``PlanRequest``.

    ``base_dir`` is the folder of the request file: ``travel.files`` paths are relative to it,
    and a document without one (a request sent as a body) may reference no files.
    Raises ``InputError`` listing every problem with its path.
    """
    r = Reader()
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
    places = Places(locations)
    experts = _parse_experts(r, d, places, horizon)
    who = expert_names(experts)
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
    problem = PlanRequest(horizon=horizon, locations=tuple(locations), experts=tuple(experts),
                          requests=tuple(requests), travel=travel, objective=objective,
                          timezone=tz, extra=extra, goals=goals)
    if any(b.at for e in experts for b in e.busy):
        unreachable = unreachable_appointments(problem, d.get("experts") or [])
        if unreachable:
            raise InputError(unreachable)
    return problem


def _fields(r: Reader, x: Mapping[str, Any], p: str) -> tuple[str, ...]:
    """The ``fields`` list, each known field written as its id (``"データ活用"`` → ``data``);
    other names are kept as they are (FORMAT.md allows fields of one's own)."""

    if "fields" not in x:
        r.err(f"{p}.fields", "is required", "必須項目です")
        return ()
    return tuple(resolve_field(f) or f for f in r.str_list(x["fields"], f"{p}.fields"))


def _parse_horizon(r: Reader, d: Mapping[str, Any]) -> Horizon | None:
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
        r.outside(bd, f"{p}.date", start, end)
        who = r.str_list(b["experts"], f"{p}.experts") if "experts" in b else ("*",)
        reason = r.string(b, "reason", p, required=False)
        ok, part = _part_of_day(r, b, p, required=False)
        if bd and ok:
            blackouts.append(Blackout(bd, who, reason, *(part or (None, None))))
    if start is None or end is None:
        return None
    if end < start:
        r.err("horizon.end", f"must not be before horizon.start ({month_day(start)})",
              f"開始日 {month_day(start)} より前にはできません")
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
        r.outside(cd, f"{p}.date", start, end)
        ok, part = _part_of_day(r, c, p, required=True)
        if loc and cd and ok and part:
            closures.append(Closure(loc, cd, part[0], part[1],
                                    r.string(c, "reason", p, required=False)))
    return Horizon(start, end, skip, tuple(blackouts), published, history, tuple(closures),
                   _start_grid(r, h))


def _start_grid(r: Reader, h: Mapping[str, Any]) -> int:
    """``horizon.start_grid_min``: one of ``START_GRIDS`` (default 1, any minute)."""
    g = r.integer(h, "start_grid_min", "horizon", required=False, default=1)
    if g is None or g in START_GRIDS:
        return g or 1
    allowed = ", ".join(str(x) for x in START_GRIDS)
    r.err("horizon.start_grid_min", f"must be one of {allowed}, got {g}",
          f"{allowed} のいずれかである必要があります（{g}）")
    return 1


def _part_of_day(r: Reader, x: Mapping[str, Any], p: str, *, required: bool
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


def _parse_locations(r: Reader, d: Mapping[str, Any]) -> list[Location]:
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
            loc = Location(ident, name, lat, lon, open_, close, cap, name_en, island, ferry, pop,
                           read_closed(r, x, p))
            out.append(_with_bundled_facts(loc, {**x, "name": x.get("name") or None}))
    _unique(r, ids, "location")
    return out



def _parse_experts(r: Reader, d: Mapping[str, Any], places: Places,
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
                    if horizon and r.outside(day, f"{p}.days[{j}]", horizon.start, horizon.end):
                        continue
                    if day:
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
                              by_month, lunch=read_lunch(r, x, p, (ws, we)),
                              busy=read_busy(r, x, p, (ws, we), None if horizon is None
                                             else (horizon.start, horizon.end),
                                             places.ref),
                              overtime=read_overtime(r, x, p, we),
                              overnight=read_overnight(r, x, p, places)))
    _unique(r, ids, "expert")
    return out


def _parse_requests(r: Reader, d: Mapping[str, Any], places: Places,
                    experts: Mapping[str, Expert], horizon: Horizon | None) -> list[Request]:
    out = []
    ids = []
    paths: dict[str, str] = {}
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
                if horizon and r.outside(day, f"{p}.{key}", horizon.start, horizon.end):
                    continue
                if day:
                    if key == "earliest":
                        earliest = day
                    else:
                        latest = day
        if earliest and latest and latest < earliest:
            r.err(f"{p}.latest", f"must not be before earliest ({month_day(earliest)})",
                  f"earliest（{month_day(earliest)}）より前にはできません")
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
        after = parse_after(r, x["after"], f"{p}.after") if x.get("after") is not None else None
        if ident and loc and fields and mode in ("onsite", "online") and dur and prio \
                and earliest and latest:
            ids.append((f"{p}.id", ident))
            out.append(Request(ident, loc, fields, mode, dur, prio, earliest, latest,  # type: ignore[arg-type]
                               window, fixed, title, conf, after,
                               due=_due(r, x, p)))
            paths.setdefault(ident, p)
        elif ident:
            ids.append((f"{p}.id", ident))
    _unique(r, ids, "request")
    check_series(r, out, paths, experts, horizon.start if horizon else None, places.request)
    return out


def _due(r: Reader, x: Mapping[str, Any], p: str) -> dt.date | None:
    """``requests[i].due``: the date the request is due (any date; none when absent)."""
    return r.date(x["due"], f"{p}.due") if x.get("due") is not None else None


def _parse_fixed(r: Reader, raw: Any, p: str, fields: tuple[str, ...],
                 experts: Mapping[str, Expert], horizon: Horizon | None) -> Fixed | None:
    x = r.obj(raw, p)
    if x is None:
        return None
    r.unknown(x, _FIXED_KEYS, p)
    names = expert_names(list(experts.values()))
    who = tuple(names.resolve(e) or e for e in r.str_list(x["experts"], f"{p}.experts")) \
        if "experts" in x else ()
    if "experts" not in x:
        r.err(f"{p}.experts", "is required", "必須項目です")
    # An expert the request does not list is no format error: the plan reports that the
    # published visit cannot be kept, and why (FORMAT.md's own example relies on this).
    if who and fields and len(who) != len(fields):
        r.err(f"{p}.experts", f"names {counted(len(who), 'expert')} for {counted(len(fields), 'field')}",
              f"分野 {len(fields)} 件に対して専門家が {len(who)} 名です")
    if len(set(who)) != len(who):
        r.err(f"{p}.experts", "names an expert twice", "同じ専門家が重複しています")
    day = r.date(x.get("date"), f"{p}.date") if "date" in x else None
    if "date" not in x:
        r.err(f"{p}.date", "is required", "必須項目です")
    if horizon:
        r.outside(day, f"{p}.date", horizon.start, horizon.end)
    start = r.time(x.get("start"), f"{p}.start") if "start" in x else None
    if "start" not in x:
        r.err(f"{p}.start", "is required", "必須項目です")
    grid = horizon.start_grid_min if horizon else 1
    if start is not None and start % grid:
        r.err(f"{p}.start", f"{fmt_time(start)} is off the {grid}-minute appointment grid "
              "(horizon.start_grid_min)",
              f"{fmt_time(start)} は {grid} 分刻みの予約枠（horizon.start_grid_min）から外れています")
    if who and day and start is not None:
        return Fixed(who, day, start)
    return None


#: The longest leg accepted, minutes (a year): legs longer than a working day are valid input
#: (a national matrix has them); they just fit no day.

def _parse_goals(r: Reader, d: Mapping[str, Any], places: Places) -> Goals:
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



def _parse_objective(r: Reader, d: Mapping[str, Any]) -> Objective:
    o = r.section(d, "objective", _OBJECTIVE_KEYS)
    if o is None:
        return Objective()
    base = Objective()
    vals = {k: r.integer(o, k, "objective", required=False, default=getattr(base, k), lo=0,
                         hi=1_000_000) for k in _OBJECTIVE_KEYS}
    return Objective(**{k: int(v) for k, v in vals.items() if v is not None})




def load_plan_request(path: str | Path) -> PlanRequest:
    """Read a request file; its ``travel.files`` are read relative to its folder."""
    return parse_plan_request(read_json(path), base_dir=Path(path).resolve().parent)
