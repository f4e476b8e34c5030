"""Overrides applied to a base's ``plan-request/1`` document: demand scaled, the online share
shifted, experts added, removed or changed, places' caps, blackouts added, removed or moved."""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from typing import Any

from engine.errors import Problem
from engine.model import fmt_time
from engine.scenario.bases import as_date
from engine.scenario.overrides import FROZEN_EMPTY, Overrides
from engine.words import month_day

__all__ = [
    "apply_blackout_changes",
    "apply_expert_changes",
    "apply_location_caps",
    "location_kind",
    "scale_demand",
    "shift_online",
]


def location_kind(name: str) -> str:
    """``'town'`` for 町/村, ``'city'`` for 市, else ``'other'`` (``'久万高原町'`` → ``'town'``)."""
    if name.endswith(("町", "村")):
        return "town"
    if name.endswith("市"):
        return "city"
    return "other"


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
            for cap, value in o.expert_caps.get(key, FROZEN_EMPTY).items():
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
    have = {as_date(b["date"]) for b in items}
    for i, day in enumerate(o.remove_blackouts):
        if day not in have:
            problems.append(Problem(f"{pre}remove_blackouts[{i}]", f"no blackout on {month_day(day)}",
                                    f"{month_day(day)} に業務停止日はありません"))
    items[:] = [b for b in items if as_date(b["date"]) not in set(o.remove_blackouts)]
    for i, (src, dst) in enumerate(o.move_blackouts):
        moved = [b for b in items if as_date(b["date"]) == src]
        if not moved:
            problems.append(Problem(f"{pre}move_blackouts[{i}].from", f"no blackout on {month_day(src)}",
                                    f"{month_day(src)} に業務停止日はありません"))
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
