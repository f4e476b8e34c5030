"""What every rule of the checker shares: the ``Violation`` it reports and the ``Context``, the
problem and the plan with the views the rules read (visits by expert and date, the on-site days,
the legs of a day)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from engine.calendar import appointments_at
from engine.model import Plan, PlanRequest, Visit, fmt_time
from engine.travel import TravelTimes

__all__ = ["Context", "Violation", "span", "violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which rule, and where (request, expert, date where they apply)."""

    rule: str
    request: str | None
    expert: str | None
    date: dt.date | None
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (
            f"request {self.request}" if self.request else "",
            f"expert {self.expert}" if self.expert else "",
            f"date {self.date}" if self.date else "") if x)
        return f"[{self.rule}] {where + ': ' if where else ''}{self.message}"


class Context:
    """The problem, the plan and derived views every rule shares."""

    def __init__(self, problem: PlanRequest, plan: Plan, travel: TravelTimes):
        self.p = problem
        self.plan = plan
        self.t = travel
        # only visits whose request and experts exist are examined by the per-visit rules
        self.visits: list[Visit] = [
            v for v in plan.visits
            if v.request in problem.request_by_id and v.location in problem.location_by_id
            and all(e in problem.expert_by_id for e in v.experts)]
        self.by_expert_date: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
        for v in self.visits:
            for eid in dict.fromkeys(v.experts):
                self.by_expert_date[eid, v.date].append(v)
        for vs in self.by_expert_date.values():
            vs.sort(key=lambda v: (v.start, v.end))
        self.route_of = {(r.expert, r.date): r for r in plan.routes}

    def onsite(self, eid: str, day: dt.date) -> list[Visit]:
        return [v for v in self.by_expert_date[eid, day] if v.mode == "onsite"]

    def online(self, eid: str, day: dt.date) -> list[Visit]:
        return [v for v in self.by_expert_date[eid, day] if v.mode == "online"]

    def onsite_days(self) -> Iterator[tuple[str, dt.date, list[Visit]]]:
        for (eid, day), _ in sorted(self.by_expert_date.items()):
            stops = self.onsite(eid, day)
            if stops:
                yield eid, day, stops

    def appointments(self, eid: str, day: dt.date) -> list[Visit]:
        """The expert's standing appointments at a place (``busy[].at``) that day, as stops of
        their day (``request`` says which appointment: it is no visit)."""
        e = self.p.expert_by_id.get(eid)
        if e is None:
            return []
        return [Visit(f"appointment {fmt_time(b.start)}–{fmt_time(b.end)}", (eid,), b.at or "",
                      "onsite", day, b.start, b.end)
                for b in appointments_at(self.p, e, day)]

    def stops(self, eid: str, day: dt.date) -> list[Visit]:
        """The day's stops in time order: its on-site visits and its appointments at a place."""
        return sorted([*self.onsite(eid, day), *self.appointments(eid, day)],
                      key=lambda v: (v.start, v.end))

    def day_stops(self) -> Iterator[tuple[str, dt.date, list[Visit]]]:
        """Each expert-day that drives (with an on-site visit or an appointment at a place, or
        starting or ending away from the base: a day after or before a night away, its stops
        possibly none), with its stops in time order."""
        keys = set(self.by_expert_date)
        keys |= {(e.id, b.date) for e in self.p.experts for b in e.busy if b.at}
        keys |= {k for k in self.route_of if k[0] in self.p.expert_by_id and self.away(*k)}
        for eid, day in sorted(keys):
            stops = self.stops(eid, day)
            if stops or self.away(eid, day):
                yield eid, day, stops

    def ends(self, eid: str, day: dt.date) -> tuple[str, str]:
        """Where the expert's day starts and ends: its route's ``start_at``/``end_at``, the
        base where it gives none (or has no route)."""
        base = self.p.expert_by_id[eid].base
        r = self.route_of.get((eid, day))
        if r is None:
            return base, base
        return r.start_at or base, r.end_at or base

    def away(self, eid: str, day: dt.date) -> bool:
        """Whether the day starts or ends away from the base (after or before a night)."""
        base = self.p.expert_by_id[eid].base
        return self.ends(eid, day) != (base, base)

    def legs(self, eid: str, stops: list[Visit], day: dt.date | None = None) -> list[int]:
        """The minutes of each leg of the day: start place → stops → end place (the base,
        unless the route of ``day`` says otherwise)."""
        start, end = self.ends(eid, day) if day is not None else (self.p.expert_by_id[eid].base,) * 2
        path = [start, *(v.location for v in stops), end]
        return [self.t.minutes(a, b) for a, b in zip(path, path[1:], strict=False)]


def violation(rule: str, message: str, request: str | None = None, expert: str | None = None,
       date: dt.date | None = None) -> Violation:
    return Violation(rule, request, expert, date, message)


def span(v: Visit) -> str:
    return f"{fmt_time(v.start)}–{fmt_time(v.end)}"
