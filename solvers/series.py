"""Follow-up series (``requests[].after``) as the solvers share them: why a follow-up is left
out (``after_not_served``, ``after_no_date``), in words a coordinator reads, and which requests
hang together in series (a plan by parts keeps them in one part)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from engine.model import PlanRequest, Request, Unscheduled, Visit, fmt_time

__all__ = ["series_groups", "series_reason"]


def _md(d: dt.date) -> str:
    return f"{d.month}/{d.day}"


def _gap(q: Request, lang: str) -> str:
    a = q.after
    assert a is not None
    if lang == "en":
        most = f"–{a.max_days}" if a.max_days is not None else " or more"
        return f"{a.min_days}{most} days"
    return f"{a.min_days}〜{a.max_days} 日後" if a.max_days is not None else \
        f"{a.min_days} 日以上後"


def _named(p: PlanRequest, q: Request, lang: str) -> str:
    """A request as people name it: place and subject (never a confidential subject)."""
    loc = p.location_by_id[q.location]
    subject = q.title if q.title and not q.confidential else ""
    if lang == "en":
        return f"{loc.label}" + (f" 「{subject}」" if subject else "")
    return loc.name + (f"「{subject}」" if subject else "")


def _who(p: PlanRequest, experts: Iterable[str]) -> str:
    return "・".join(p.expert_by_id[e].name or e if e in p.expert_by_id else e for e in experts)


def series_reason(p: PlanRequest, q: Request, placed: Mapping[str, Visit],
                  dates_experts: Iterable[tuple[dt.date, str]]) -> Unscheduled | None:
    """Why follow-up ``q`` is left out of a plan whose visits are ``placed`` (by request),
    when its series is the reason: the visit it follows is not in the plan
    (``after_not_served``), or none of ``q``'s own (date, expert) options keeps the gap after
    that visit with its experts (``after_no_date``); None when the series leaves it a way."""
    a = q.after
    if a is None:
        return None
    first = p.request_by_id.get(a.request)
    if first is None:
        return None
    v = placed.get(a.request)
    if v is None:
        return Unscheduled(q.id, (
            f"it follows {_named(p, first, 'en')}, which is not served in this plan",),
            (f"前回の {_named(p, first, 'ja')} が計画に入らないため、続きの回も入りません",),
            ("after_not_served",))
    ok = [(d, e) for d, e in dates_experts if a.allows((d - v.date).days)
          and (not a.same_experts or e in v.experts)]
    if ok:
        return None
    when = f"{_md(v.date)} {fmt_time(v.start)}"
    who = _who(p, v.experts)
    by_en = f" by {who}" if a.same_experts else ""
    by_ja = f"{who} が" if a.same_experts else ""
    return Unscheduled(q.id, (
        f"it follows {_named(p, first, 'en')} ({when}); no date {_gap(q, 'en')} after it"
        f"{by_en} fits its dates ({_md(q.earliest)} – {_md(q.latest)}) and hours",),
        (f"前回の {_named(p, first, 'ja')}（{when}）の {_gap(q, 'ja')}に、{by_ja}希望日"
         f"（{_md(q.earliest)} – {_md(q.latest)}）と時間に合う日がありません",),
        ("after_no_date",))


def series_groups(p: PlanRequest) -> list[set[str]]:
    """The requests joined by follow-up links, each series as a set of request ids (only
    series of two or more requests)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for q in p.requests:
        if q.after is not None and q.after.request in p.request_by_id:
            parent[find(q.id)] = find(q.after.request)
    groups: dict[str, set[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), set()).add(x)
    return [g for g in groups.values() if len(g) > 1]
