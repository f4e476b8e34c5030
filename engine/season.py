"""A programme season (August to March) as one plan request, and publishing a plan's first
weeks.

The season is what the programme is judged on: over 100 visits (two experts together count
two), every municipality reached, the towns under 50,000 people served first, each expert
within the days the contract pays, the camps kept free. ``season_document`` draws the Ehime
season's demand (``engine.demand``), blacks out the camps, gives the experts their monthly
contract and the request the programme's goals (``goals.coverage``, ``goals.small_towns``).
``publish_until`` turns a plan's visits up to a date into published (fixed) visits, so that a
re-plan mid-season keeps them.

Examples
--------
>>> doc = season_document(weeks=2, requests_per_week=10, seed=1)
>>> doc["goals"]["coverage"]["min_visits"], len(doc["requests"])
(1, 20)
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.model import Blackout, Coverage, Fixed, Plan, PlanRequest, SmallTowns
from engine.words import counted

__all__ = ["DEFAULT_CAMPS", "SEASON_START", "Camp", "publish_until", "season_document"]

#: Monday of the 2026/27 season's first week.
SEASON_START = dt.date(2026, 8, 3)
#: The season's goals unless told otherwise (FORMAT.md's defaults).
SEASON_COVERAGE = Coverage()
SEASON_SMALL_TOWNS = SmallTowns()


@dataclass(frozen=True)
class Camp:
    """A camp (e.g. a DX camp): every listed expert is away from ``start`` to ``end``."""

    name: str
    start: dt.date
    end: dt.date
    place: str = ""
    experts: tuple[str, ...] = ("*",)

    def blackouts(self) -> list[Blackout]:
        n = (self.end - self.start).days + 1
        return [Blackout(self.start + dt.timedelta(days=i), self.experts, self.name)
                for i in range(n)]


#: The 2026/27 season's camps and the year-end closure (dates are illustrative).
DEFAULT_CAMPS: tuple[Camp, ...] = (
    Camp("summer DX camp / 夏のDXキャンプ", dt.date(2026, 8, 19), dt.date(2026, 8, 21),
         "382019"),
    Camp("Uwajima DX camp / 宇和島DXキャンプ", dt.date(2026, 11, 11), dt.date(2026, 11, 12),
         "382035"),
    Camp("year-end closure / 年末年始休業", dt.date(2026, 12, 29), dt.date(2027, 1, 1)),
    Camp("winter DX camp / 冬のDXキャンプ", dt.date(2027, 2, 17), dt.date(2027, 2, 18),
         "382019"),
)


def season_document(start: dt.date | str = SEASON_START, *, weeks: int = 33,
                    requests_per_week: int = 40, seed: int = 0,
                    camps: Sequence[Camp] = DEFAULT_CAMPS,
                    coverage: Coverage | None = SEASON_COVERAGE,
                    small_towns: SmallTowns | None = SEASON_SMALL_TOWNS,
                    onsite_days_per_month: int | None = 10, wait_weeks: int = 2,
                    online_share: float = 0.3, joint_share: float = 0.15,
                    open_share: float = 0.0, start_grid_min: int = 15) -> dict[str, Any]:
    """The Ehime season as one ``plan-request/1`` document: ``weeks`` weeks of demand drawn
    like ``engine.demand.ehime_week_document`` (no sample published visit), each request
    willing to wait ``wait_weeks`` more weeks after the dates it was drawn with (its latest
    date moved on, within the season: ``wait_weeks`` at least ``weeks`` makes every request
    open to the season's end), the camps inside the horizon blacked out, each expert's
    contract (the weekly caps over the season, and ``onsite_days_per_month`` on-site days a
    month), and the goals; consultations on an appointment grid of ``start_grid_min`` minutes
    (the quarter hour).

    ``open_share`` of the requests (drawn with ``seed``) are open-ended instead, a town's
    "whenever an expert can come": from their first date to the season's end, whatever
    ``wait_weeks`` says — a mix of short and open-ended date ranges.

    >>> doc = season_document(weeks=4, requests_per_week=10, open_share=0.5)
    >>> last = max(q["latest"] for q in doc["requests"])
    >>> 10 < sum(q["latest"] == last for q in doc["requests"]) < 40
    True
    """
    if not 0.0 <= open_share <= 1.0:
        raise ValueError(f"open_share must be between 0 and 1, got {open_share!r}")
    from engine.demand import ehime_week_document  # start fast

    monday = start if isinstance(start, dt.date) else dt.date.fromisoformat(start)
    end = monday + dt.timedelta(days=7 * weeks - 3)
    blackouts = tuple(b for c in camps for b in c.blackouts() if monday <= b.date <= end)
    doc = ehime_week_document(monday, weeks=weeks, requests_per_week=requests_per_week,
                              seed=seed, fixed_visit=False, blackouts=blackouts,
                              online_share=online_share, joint_share=joint_share,
                              start_grid_min=start_grid_min)
    if onsite_days_per_month is not None:
        for e in doc["experts"]:
            e["max_onsite_days_per_month"] = onsite_days_per_month
    if wait_weeks:
        for q in doc["requests"]:
            later = dt.date.fromisoformat(q["latest"]) + dt.timedelta(days=7 * wait_weeks)
            q["latest"] = min(later, end).isoformat()
    if open_share:
        draw = random.Random(f"open-ended {seed}")
        for q in doc["requests"]:
            if draw.random() < open_share:
                q["latest"] = end.isoformat()
    goals: dict[str, Any] = {}
    if coverage is not None:
        goals["coverage"] = {"min_visits": coverage.min_visits, "penalty": coverage.penalty,
                             "modes": list(coverage.modes)}
        if coverage.overrides:
            goals["coverage"]["locations"] = dict(coverage.overrides)
    if small_towns is not None:
        goals["small_towns"] = {"population_below": small_towns.population_below,
                                "bonus": small_towns.bonus}
    if goals:
        doc["goals"] = goals
    doc["name"] = (f"Ehime season from {monday}, {counted(weeks, 'week')} (synthetic requests, "
                   f"seed {seed})")
    doc["generator"] = {**doc["generator"], "season": True,
                        "camps": [c.name for c in camps], "wait_weeks": wait_weeks,
                        "open_share": open_share,
                        "onsite_days_per_month": onsite_days_per_month}
    return doc


def publish_until(problem: PlanRequest, plan: Plan, until: dt.date) -> PlanRequest:
    """``problem`` with ``plan`` published up to ``until``: each visit dated ``until`` or
    earlier becomes its request's ``fixed`` visit (those experts, that date, that start;
    requests already fixed stay as they are, visits of requests no longer asked are ignored),
    and ``horizon.published_until`` closes those days to new visits, so that a re-plan changes
    nothing there. Requests of the published days that the plan left out can then only be
    planned on later days their dates allow."""
    published = {v.request: v for v in plan.visits if v.date <= until}
    requests = []
    for q in problem.requests:
        v = published.get(q.id)
        if v is not None and q.fixed is None:
            q = replace(q, fixed=Fixed(tuple(v.experts), v.date, v.start),
                        earliest=min(q.earliest, v.date), latest=max(q.latest, v.date))
        requests.append(q)
    h = problem.horizon
    closed = until if h.published_until is None else max(until, h.published_until)
    return replace(problem, requests=tuple(requests),
                   horizon=replace(h, published_until=min(closed, h.end)))
