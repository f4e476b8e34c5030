"""A documented, seeded generator of Ehime planning weeks (synthetic requests on real places).

The same arguments always give the same document. Per week, ``requests_per_week`` requests:

- municipality: drawn with weight ∝ √population, so small towns ask too (the office never asks);
- fields: one of the five uniformly; with probability ``joint_share`` a second, different field
  (a joint visit of two experts);
- mode: ``online`` with probability ``online_share``, else ``onsite``;
- duration: on-site 60/90/120 min (weights 3/4/2), online 30/60 min (1/1);
- priority: 1–10, triangular around 5;
- dates: the whole week for 60 %, else a random run of 2–4 workdays inside it;
- window: for ``window_share`` of them (20 %), morning (08:30–12:00) or afternoon
  (13:00–17:15); with ``window_minutes``, a window of that many minutes starting on a
  half hour between 08:30 and the latest start that keeps it before 17:15.

One request of the first week (a 90-minute PR visit to 松前町 on Tuesday at 13:30) is
``fixed``, as a published visit; ``fixed_visit=False`` leaves it out.

Examples
--------
>>> doc = ehime_week_document("2026-12-07", seed=7)
>>> len(doc["requests"])
40
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from engine.ehime import OFFICE, ehime_experts, ehime_locations
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import FIELDS, Blackout, Horizon, PlanRequest, fmt_time
from engine.words import counted

__all__ = ["busy_expert_document", "draw_request", "ehime_week", "ehime_week_document"]

_TOPICS = {
    "design": ["住民目線のサービスデザイン", "窓口DX・書かない窓口", "Webサイト改善"],
    "security": ["クラウド移行とセキュリティ", "標準化・ガバメントクラウド", "情報セキュリティ研修"],
    "data": ["EBPMとデータ活用", "オープンデータ推進", "ダッシュボード整備"],
    "cocreation": ["官民共創の進め方", "地域企業との連携", "実証実験の設計"],
    "pr": ["SNSアカウント統合", "広報戦略", "マイナンバーカード普及の周知"],
}


def _date(x: str | dt.date) -> dt.date:
    return x if isinstance(x, dt.date) else dt.date.fromisoformat(x)


def draw_request(rng: random.Random, joint_share: float, online_share: float
                 ) -> tuple[list[str], str, int, int, int, int]:
    """One request's fields, mode, duration, priority and first/last workday (0–4) of its
    week, drawn as the module docstring says (the draws' order is part of the seed's
    meaning: changing it changes every generated instance)."""
    fields = [rng.choice(FIELDS)]
    if rng.random() < joint_share:
        fields.append(rng.choice([f for f in FIELDS if f != fields[0]]))
    mode = "online" if rng.random() < online_share else "onsite"
    dur = rng.choices([60, 90, 120], [3, 4, 2])[0] if mode == "onsite" else rng.choice([30, 60])
    prio = max(1, min(10, round(rng.triangular(1, 10, 5))))
    if rng.random() < 0.6:
        first, last = 0, 4
    else:
        span = rng.randint(2, 4)
        first = rng.randint(0, 5 - span)
        last = first + span - 1
    return fields, mode, dur, prio, first, last


def ehime_week_document(start: str | dt.date, *, weeks: int = 1, requests_per_week: int = 40,
                        seed: int = 0, joint_share: float = 0.15, online_share: float = 0.3,
                        fixed_visit: bool = True,
                        blackouts: tuple[Blackout, ...] | None = None,
                        window_share: float = 0.2,
                        window_minutes: int | None = None,
                        start_grid_min: int = 1) -> dict[str, Any]:
    """A ``plan-request/1`` document for ``weeks`` weeks from Monday ``start``, its
    consultations on an appointment grid of ``start_grid_min`` minutes (1: any minute)."""
    monday = _date(start)
    if monday.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {monday} ({monday:%A})")
    rng = random.Random(seed)
    locations = ehime_locations()
    places = [loc for loc in locations if loc.id != OFFICE]
    weights = [math.sqrt(loc.population or 1) for loc in places]
    end = monday + dt.timedelta(days=7 * weeks - 3)
    if blackouts is None:
        blackouts = (Blackout(monday + dt.timedelta(days=2), ("design-1", "data-1"),
                              "DX camp preparation / DXキャンプ準備"),)
    horizon = Horizon(monday, end, True, blackouts, start_grid_min=start_grid_min)
    reqs: list[dict[str, Any]] = []
    n = 0
    for w in range(weeks):
        wk = monday + dt.timedelta(days=7 * w)
        for _ in range(requests_per_week):
            n += 1
            loc = rng.choices(places, weights)[0]
            fields, mode, dur, prio, first, last = draw_request(rng, joint_share, online_share)
            q: dict[str, Any] = {
                "id": f"r{n:03d}", "location": loc.id, "fields": fields, "mode": mode,
                "duration_min": dur, "priority": prio,
                "earliest": (wk + dt.timedelta(days=first)).isoformat(),
                "latest": (wk + dt.timedelta(days=last)).isoformat(),
                "title": rng.choice(_TOPICS[fields[0]]),
            }
            if rng.random() < window_share:
                if window_minutes is None:
                    q["window"] = rng.choice([["08:30", "12:00"], ["13:00", "17:15"]])
                else:
                    first_start = rng.randrange(510, 1035 - window_minutes + 1, 30)
                    q["window"] = [fmt_time(first_start), fmt_time(first_start + window_minutes)]
            reqs.append(q)
    if fixed_visit and reqs:
        reqs[0].update({"location": "384011", "fields": ["pr"], "mode": "onsite",
                        "duration_min": 90, "priority": 8,
                        "earliest": monday.isoformat(),
                        "latest": (monday + dt.timedelta(days=4)).isoformat(),
                        "title": "SNSアカウント統合（公開済みの訪問）",
                        "fixed": {"experts": ["pr-1"],
                                  "date": (monday + dt.timedelta(days=1)).isoformat(),
                                  "start": "13:30"}})
        reqs[0].pop("window", None)
    problem = PlanRequest(horizon=horizon, locations=locations,
                          experts=ehime_experts(weeks=weeks), requests=())
    doc = plan_request_to_dict(problem)
    doc["name"] = f"Ehime {weeks}-week instance from {monday} (synthetic requests, seed {seed})"
    doc["generator"] = {"weeks": weeks, "requests_per_week": requests_per_week, "seed": seed,
                        "joint_share": joint_share, "online_share": online_share}
    if window_share != 0.2 or window_minutes is not None:
        doc["generator"].update(window_share=window_share, window_minutes=window_minutes)
    doc["requests"] = reqs
    return doc


def ehime_week(start: str | dt.date, **kwargs: Any) -> PlanRequest:
    """``ehime_week_document`` parsed into a validated ``PlanRequest``."""
    return parse_plan_request(ehime_week_document(start, **kwargs))


def busy_expert_document(calls: int, *, start: str | dt.date = "2026-12-07", weeks: int = 1,
                         visits: int = 0, windows: bool = False, dates: bool = False,
                         nights: bool = False, rules: bool = False,
                         seed: int = 0) -> dict[str, Any]:
    """One expert's busy stretch, the shape that tests the planner's time limit: the design
    expert alone, ``weeks`` weeks from Monday ``start``, ``calls`` online 30-minute requests
    (priority 1–10) open for the whole horizon unless ``dates`` (then half of them a run of
    1–3 workdays), no window unless ``windows`` (then half of them a morning, an afternoon or
    a random two-hour window), and ``visits`` on-site requests of 60 or 90 minutes; with
    ``nights`` the expert may stay the night anywhere (two nights a trip, 3,000 a night);
    with ``rules`` every other rule of an expert's real week too (``_every_rule``).

    >>> doc = busy_expert_document(40)
    >>> len(doc["requests"]), {q["mode"] for q in doc["requests"]}
    (40, {'online'})
    """
    monday = _date(start)
    if monday.weekday() != 0:
        raise ValueError(f"start must be a Monday, got {monday} ({monday:%A})")
    rng = random.Random(seed)
    locations = ehime_locations()
    places = [loc.id for loc in locations if loc.id != OFFICE]
    end = monday + dt.timedelta(days=7 * weeks - 3)
    days = (end - monday).days + 1
    expert = next(e for e in ehime_experts(weeks=weeks) if e.fields == ("design",))
    problem = PlanRequest(horizon=Horizon(monday, end, True, ()), locations=locations,
                          experts=(expert,), requests=())
    doc = plan_request_to_dict(problem)
    if nights:
        doc["experts"][0]["overnight"] = {"places": "*", "night_cost": 3000, "max_nights": 2}
    doc["name"] = (f"One expert, {counted(weeks, 'week')} from {monday}: "
                   f"{counted(calls, 'online call')}, {counted(visits, 'visit')} (seed {seed})")
    reqs: list[dict[str, Any]] = []
    for n in range(calls + visits):
        online = n < calls
        q: dict[str, Any] = {
            "id": f"r{n + 1:04d}", "location": places[n % len(places)], "fields": ["design"],
            "mode": "online" if online else "onsite",
            "duration_min": 30 if online else rng.choice([60, 90]),
            "priority": rng.randint(1, 10), "title": rng.choice(_TOPICS["design"])}
        if dates and rng.random() < 0.5:
            first = monday + dt.timedelta(days=rng.randrange(days))
            q["earliest"] = first.isoformat()
            q["latest"] = min(end, first + dt.timedelta(days=rng.randint(0, 2))).isoformat()
        if windows and rng.random() < 0.5:
            lo = rng.randrange(510, 915, 30)
            q["window"] = rng.choice([["08:30", "12:00"], ["13:00", "17:15"],
                                      [fmt_time(lo), fmt_time(lo + 120)]])
        reqs.append(q)
    doc["requests"] = reqs
    return _every_rule(doc, monday) if rules else doc


def _every_rule(doc: dict[str, Any], monday: dt.date) -> dict[str, Any]:
    """The rules of an expert's real week on a one-expert document: starts on the quarter
    hour, 45 minutes of lunch in 11:30–13:30, a standing appointment on Monday and one at a
    place on Tuesday, an hour of overtime, eight town halls closed 12:00–13:00, nine
    follow-ups a day or more after the request before them, and every third request due on
    Tuesday (50 a day late)."""
    expert = doc["experts"][0]
    doc["horizon"]["start_grid_min"] = 15
    expert["lunch"] = {"minutes": 45, "window": ["11:30", "13:30"]}
    expert["busy"] = [{"date": str(monday), "start": "14:00", "end": "15:00"},
                      {"date": str(monday + dt.timedelta(days=1)), "start": "10:00",
                       "end": "11:00", "at": doc["locations"][3]["id"]}]
    expert["overtime"] = {"max_minutes": 60, "minute_cost": 20}
    for loc in doc["locations"][:8]:
        loc["closed"] = [["12:00", "13:00"]]
    reqs = doc["requests"]
    for i in range(0, min(len(reqs), 20) - 1, 2):
        reqs[i + 1]["after"] = {"request": reqs[i]["id"], "min_days": 1}
    for q in reqs[::3]:
        q["due"] = str(monday + dt.timedelta(days=1))
    doc.setdefault("objective", {})["late_day"] = 50
    return doc
