"""Scenario files (``format: scenarios/1``, YAML or JSON): a shared base, run settings and the
list of scenarios, every problem reported with its path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem
from engine.format import read_json
from engine.model import Blackout
from engine.scenario.bases import Base, DocumentBase, EhimeBase
from engine.scenario.model import Scenario
from engine.scenario.overrides import Overrides
from engine.scenario.reader import FieldReader

__all__ = ["RunSettings", "SCENARIOS_FORMAT", "ScenarioFile", "load_scenario_file", "parse_scenario", "parse_scenario_file"]

SCENARIOS_FORMAT = "scenarios/1"


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


_SCENARIO_KEYS = {"name", "description", "base", "add_experts", "remove_experts", "expert_caps",
                  "expert_hours", "location_caps", "demand_scale", "online_share",
                  "add_blackouts", "remove_blackouts", "move_blackouts", "travel_speed_factor"}
_EHIME_KEYS = {"start", "weeks", "requests_per_week", "joint_share", "online_share",
               "fixed_visit", "blackouts"}


def _parse_base(r: FieldReader, raw: Any, path: str, root: Path | None) -> Base | None:
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


def _parse_blackouts(r: FieldReader, raw: Any, path: str) -> list[Blackout]:
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
    r = FieldReader()
    s = _parse_scenario(r, raw, path, default_base, root)
    if r.problems or s is None:
        raise InputError(r.problems or [Problem(path, "invalid scenario", "不正なシナリオです")])
    return s


def _parse_scenario(r: FieldReader, raw: Any, path: str, default_base: Base | None,
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
    r = FieldReader()
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
