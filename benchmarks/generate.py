"""Benchmark instances in ``plan-request/1``: Ehime weeks, long Ehime horizons, synthetic ones.

Three kinds, each a JSON document written once to ``benchmarks/instances/`` and committed, so
that every run reads exactly the same problems:

- *Ehime weeks* (``ehime-week-s<seed>``): ``engine.demand.ehime_week_document`` for the week
  of 2026-12-07 (21 locations, 5 experts, 40 requests with joint, online and fixed ones,
  location and expert caps, contracted visit days, a blackout).
- *Ehime 4 and 8 weeks* (``ehime-4w``, ``ehime-8w``): the same generator over 4 weeks (23
  requests a week, 92 in all) and 8 weeks (20 a week, 160), which cross the New Year and
  national holidays.
- *Synthetic* (``synthetic-<experts>e<locations>l<requests>r-s<seed>``): ``synthetic_document``
  below, a larger seeded problem on random places.

``routing_subset(problem)`` is the part of a problem a vehicle-routing solver can express: on-site,
single-field requests (fixed visits become ordinary requests), no location caps, and of the
expert caps only the per-day visit cap and the daily drive cap.

Examples
--------
>>> doc = synthetic_document(seed=1, experts=4, locations=8, requests=12)
>>> len(doc["experts"]), len(doc["locations"]), len(doc["requests"])
(4, 8, 12)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import random
from pathlib import Path
from typing import Any

from benchmarks.real_week import ehime_week_real_document
from engine.demand import draw_request, ehime_week_document
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import FIELDS, PlanRequest, Request

__all__ = [
    "EHIME_SEEDS",
    "INSTANCE_DIR",
    "instance_path",
    "routing_subset",
    "routing_subset_document",
    "synthetic_document",
    "write_instances",
]

#: Where the committed instances live.
INSTANCE_DIR = Path(__file__).resolve().parent / "instances"
#: Seeds of the Ehime weeks measured (instance seeds, not solver seeds).
EHIME_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)
#: First Monday of the Ehime weeks and of the 4-week instance.
WEEK_START = "2026-12-07"
#: First Monday of the 8-week instance (成人の日 2027-01-11 is a holiday; 2/11, 2/23 follow).
LONG_START = "2027-01-11"
#: Synthetic sizes: (experts, locations, requests), one instance per seed.
SYNTHETIC_SIZES: tuple[tuple[int, int, int], ...] = ((10, 60, 120),)
SYNTHETIC_SEEDS: tuple[int, ...] = (0, 1)

# A box around Ehime's populated coast (degrees), for synthetic places.
_LAT = (33.2, 34.1)
_LON = (132.4, 133.6)


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def synthetic_document(*, seed: int, experts: int = 10, locations: int = 60,
                       requests: int = 120, start: str = "2027-01-18", bases: int = 2,
                       joint_share: float = 0.15, online_share: float = 0.3) -> dict[str, Any]:
    """A seeded one-week ``plan-request/1`` document on random places (the same arguments
    always give the same document).

    - ``locations`` places at uniform random coordinates in a 100 km × 110 km box; the first
      ``bases`` are offices where experts start their days; halls open 08:30–17:15 (a quarter
      09:00–17:00); a place hosts at most 2 or 3 expert-visits a day;
    - ``experts`` experts, expert ``i`` having field ``FIELDS[i % 5]`` and, with probability
      1/3, a second field; caps per week: 3 on-site days, 8 visits, 3 a day, 300 min of
      driving a day; with probability 1/5 an expert works only 3 of the 5 days;
    - ``requests`` requests drawn like ``engine.demand``: 1 field (a second for
      ``joint_share``), online for ``online_share``, priority 1–10 triangular around 5, a run
      of days or the whole week, a morning or afternoon window for 20 %.

    Travel minutes are left to the project's estimate from coordinates.
    """
    rng = random.Random(seed)
    monday = dt.date.fromisoformat(start)
    if monday.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {monday}")
    week = [monday + dt.timedelta(days=i) for i in range(5)]
    locs: list[dict[str, Any]] = []
    for i in range(locations):
        is_base = i < bases
        open_, close = (9 * 60, 17 * 60) if rng.random() < 0.25 else (8 * 60 + 30, 17 * 60 + 15)
        loc: dict[str, Any] = {
            "id": f"L{i:03d}", "name": f"{'拠点' if is_base else '地点'}{i:03d}",
            "lat": round(rng.uniform(*_LAT), 5), "lon": round(rng.uniform(*_LON), 5),
            "open": _hm(open_), "close": _hm(close),
            "max_visits_per_day": rng.choice([2, 3]),
        }
        locs.append(loc)
    exps: list[dict[str, Any]] = []
    for i in range(experts):
        fields = [FIELDS[i % len(FIELDS)]]
        if rng.random() < 1 / 3:
            fields.append(rng.choice([f for f in FIELDS if f not in fields]))
        e: dict[str, Any] = {
            "id": f"x{i:02d}", "fields": fields, "base": f"L{rng.randrange(bases):03d}",
            "work_start": "08:30", "work_end": "17:15",
            "max_visits_per_day": 3, "max_visits_total": 8, "max_drive_minutes_per_day": 300,
            "max_onsite_days": 3,
        }
        if rng.random() < 0.2:
            e["days"] = [d.isoformat() for d in sorted(rng.sample(week, 3))]
        exps.append(e)
    reqs: list[dict[str, Any]] = []
    places = [loc["id"] for loc in locs[bases:]]
    for n in range(1, requests + 1):
        fields, mode, dur, prio, first, last = draw_request(rng, joint_share, online_share)
        q: dict[str, Any] = {
            "id": f"q{n:03d}", "location": rng.choice(places), "fields": fields, "mode": mode,
            "duration_min": dur, "priority": prio,
            "earliest": week[first].isoformat(), "latest": week[last].isoformat(),
        }
        if rng.random() < 0.2:
            q["window"] = rng.choice([["08:30", "12:00"], ["13:00", "17:15"]])
        reqs.append(q)
    return {
        "format": "plan-request/1",
        "name": (f"Synthetic week: {experts} experts, {locations} locations, {requests} requests "
                 f"(seed {seed})"),
        "generator": {"kind": "synthetic", "seed": seed, "experts": experts,
                      "locations": locations, "requests": requests, "bases": bases,
                      "joint_share": joint_share, "online_share": online_share},
        "horizon": {"start": week[0].isoformat(), "end": week[-1].isoformat(),
                    "skip_holidays": True, "blackouts": []},
        "locations": locs, "experts": exps, "requests": reqs,
        "objective": {"priority": 1000, "drive_minute": 1, "onsite_day": 0},
    }


def _routable(q: Request) -> bool:
    return q.onsite and len(q.fields) == 1


def routing_subset(problem: PlanRequest) -> PlanRequest:
    """The part of ``problem`` a vehicle-routing solver expresses (VROOM, OR-Tools routing).

    Keeps the on-site single-field requests (a fixed visit becomes an ordinary request: the
    routing solvers cannot force a job in), drops location caps and the experts' total-visit
    and on-site-day caps; keeps horizon, blackouts, available days, hours, windows, the
    per-day visit cap, the daily drive cap and the objective weights.
    """
    reqs = tuple(dataclasses.replace(q, fixed=None) for q in problem.requests if _routable(q))
    locs = tuple(dataclasses.replace(loc, max_visits_per_day=None) for loc in problem.locations)
    exps = tuple(dataclasses.replace(e, max_visits_total=None, max_onsite_days=None)
                 for e in problem.experts)
    extra = dict(problem.extra)
    name = str(extra.get("name", "instance"))
    extra["name"] = f"{name} — routing subset (on-site, single-field, no location/total caps)"
    return dataclasses.replace(problem, locations=locs, experts=exps, requests=reqs, extra=extra)


def routing_subset_document(problem: PlanRequest) -> dict[str, Any]:
    """``routing_subset`` as a ``plan-request/1`` document."""
    return plan_request_to_dict(routing_subset(problem))


def instance_path(name: str, directory: Path = INSTANCE_DIR) -> Path:
    return directory / f"{name}.json"


def _catalogue() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for s in EHIME_SEEDS:
        docs[f"ehime-week-s{s}"] = ehime_week_document(WEEK_START, seed=s)
    docs["ehime-4w"] = ehime_week_document(WEEK_START, weeks=4, requests_per_week=23, seed=11)
    docs["ehime-8w"] = ehime_week_document(LONG_START, weeks=8, requests_per_week=20, seed=12)
    docs["ehime-week-real"] = ehime_week_real_document()
    docs["ehime-week-real-day-trips"] = ehime_week_real_document(nights=False)
    for (ne, nl, nr) in SYNTHETIC_SIZES:
        for s in SYNTHETIC_SEEDS:
            docs[f"synthetic-{ne}e{nl}l{nr}r-s{s}"] = synthetic_document(
                seed=s, experts=ne, locations=nl, requests=nr)
    return docs


def write_instances(directory: Path = INSTANCE_DIR) -> dict[str, Path]:
    """Write every instance and its routing subset (``<name>.routing.json``); return the paths
    by name. Documents are validated by parsing before they are written."""
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name, doc in _catalogue().items():
        problem = parse_plan_request(doc)
        for key, body in ((name, doc), (f"{name}.routing", routing_subset_document(problem))):
            parse_plan_request(body)
            path = instance_path(key, directory)
            path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
            out[key] = path
    return out


def _summary(paths: dict[str, Path]) -> list[str]:
    lines = []
    for key, path in paths.items():
        p = parse_plan_request(json.loads(path.read_text(encoding="utf-8")))
        days = (p.horizon.end - p.horizon.start).days + 1
        lines.append(f"{key}: {len(p.locations)} locations, {len(p.experts)} experts, "
                     f"{len(p.requests)} requests, {math.ceil(days / 7)} week(s)")
    return lines


if __name__ == "__main__":
    for line in _summary(write_instances()):
        print(line)
