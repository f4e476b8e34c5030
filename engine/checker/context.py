"""What every rule of the checker shares: the ``Violation`` it reports and the ``Context``, the
problem and the plan with the views the rules read (visits by expert and date, the on-site days,
the legs of a day) and the names a person reads (places, experts, requests, dates as ``12/7``).

A violation's ``rule``, ``request``, ``expert`` and ``date`` are for programs; its ``message``
and ``message_ja`` are for people, in English and Japanese: who and when first (the expert by
name, the date as month/day), then what is wrong, every place, expert and request by name.

Examples
--------
>>> v = Violation("cap_drive", None, "pr-1", dt.date(2026, 12, 7),
...               "広報担当, 12/7: 100 min of driving, cap 90",
...               "広報担当、12/7: 運転 100 分（上限 90 分）")
>>> str(v)
'[cap_drive] 広報担当, 12/7: 100 min of driving, cap 90'
>>> v.text("ja")
'広報担当、12/7: 運転 100 分（上限 90 分）'
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from engine.calendar import appointments_at
from engine.format.places import Places, week_expert, week_request
from engine.model import FIELD_LABELS, Plan, PlanRequest, Visit, fmt_time
from engine.travel import TravelTimes
from engine.words import month_day

__all__ = ["Context", "Violation", "fields", "span", "violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which rule, and where (request, expert, date where they apply: ids and
    a date, for programs); what is wrong as a person reads it, in English (``message``) and
    Japanese (``message_ja``, empty where none was written: ``text`` falls back to English)."""

    rule: str
    request: str | None
    expert: str | None
    date: dt.date | None
    message: str
    message_ja: str = ""

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"en"`` or ``"ja"``)."""
        return self.message_ja if lang == "ja" and self.message_ja else self.message


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

    @cached_property
    def _places(self) -> Places:
        return Places(list(self.p.locations))

    def place(self, lid: str, lang: str) -> str:
        """A place by name (``上島町``; ``上島町 (Kamijima)`` in English), listed or bundled."""
        return self._places.name(lid, lang)

    def places(self, lids: Iterable[str], lang: str) -> str:
        """Places by name in order: ``A → B`` (empty: none)."""
        return " → ".join(self.place(lid, lang) for lid in lids) or (
            "none" if lang == "en" else "なし")

    def who(self, eid: str) -> str:
        """An expert by display name (the id where none is given)."""
        return week_expert(self.p, eid)

    def whom(self, eids: Iterable[str], lang: str) -> str:
        """Experts by display name: ``A, B`` (``A・B`` in Japanese)."""
        return (", " if lang == "en" else "・").join(self.who(e) for e in eids)

    def req(self, rid: str, lang: str) -> str:
        """A request by its place and subject (``上島町「広報相談」``)."""
        return week_request(self.p, rid, lang)

    def stop(self, v: Visit, lang: str) -> str:
        """A stop of a day as a person names it: its request, or the standing appointment at
        its place (``appointments``)."""
        if v.request in self.p.request_by_id:
            return self.req(v.request, lang)
        place = self.place(v.location, lang)
        return f"the standing appointment at {place}" if lang == "en" else f"{place}での予定"

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


def violation(c: Context, rule: str, en: str, ja: str, request: str | None = None,
              expert: str | None = None, date: dt.date | None = None) -> Violation:
    """A violation of ``rule``; its messages say who and when first (``広報担当, 12/7: …``)
    and then ``en`` / ``ja``, which name the requests, places and times themselves."""
    who = [c.who(expert)] if expert else []
    when = [month_day(date)] if date else []
    head_en, head_ja = ", ".join([*who, *when]), "、".join([*who, *when])
    return Violation(rule, request, expert, date, f"{head_en}: {en}" if head_en else en,
                     f"{head_ja}: {ja}" if head_ja else ja)


def fields(fs: Iterable[str], lang: str) -> str:
    """Fields by their labels: ``'PR / marketing', 'data use'`` (``「広報」・「データ」``)."""
    i = 0 if lang == "en" else 1
    names = [FIELD_LABELS[f][i] if f in FIELD_LABELS else f for f in fs]
    return ", ".join(f"'{n}'" for n in names) if lang == "en" else "・".join(
        f"「{n}」" for n in names)


def span(v: Visit) -> str:
    return f"{fmt_time(v.start)}–{fmt_time(v.end)}"
