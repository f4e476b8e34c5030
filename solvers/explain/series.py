"""Why a follow-up (``requests[].after``) is left out when its series is the reason: the visit it
follows is not in the plan (``after_not_served``), or leaves no date in the gap with its
experts (``after_no_date``), in words a coordinator reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from engine.model import PlanRequest, Request, Unscheduled, Visit, fmt_time
from solvers.explain.words import Names, month_day

__all__ = ["series_reason"]


def _gap(q: Request, lang: str) -> str:
    a = q.after
    assert a is not None
    if lang == "en":
        most = f"–{a.max_days}" if a.max_days is not None else " or more"
        return f"{a.min_days}{most} days"
    return f"{a.min_days}〜{a.max_days} 日後" if a.max_days is not None else \
        f"{a.min_days} 日以上後"


def _named(names: Names, q: Request, lang: str) -> str:
    """A request as people name it: place and subject (never a confidential subject)."""
    subject = f"「{q.title}」" if q.title and not q.confidential else ""
    return names.loc(q.location, lang) + (" " if lang == "en" and subject else "") + subject


def series_reason(p: PlanRequest, names: Names, q: Request, placed: Mapping[str, Visit],
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
            f"it follows {_named(names, first, 'en')}, which is not served in this plan",),
            (f"前回の {_named(names, first, 'ja')} が計画に入らないため、続きの回も入りません",),
            ("after_not_served",))
    ok = [(d, e) for d, e in dates_experts if a.allows((d - v.date).days)
          and (not a.same_experts or e in v.experts)]
    if ok:
        return None
    when = f"{month_day(v.date)} {fmt_time(v.start)}"
    who = "・".join(names.who(e) for e in v.experts)
    by_en = f" by {who}" if a.same_experts else ""
    by_ja = f"{who} が" if a.same_experts else ""
    return Unscheduled(q.id, (
        f"it follows {_named(names, first, 'en')} ({when}); no date {_gap(q, 'en')} after it"
        f"{by_en} fits its dates ({month_day(q.earliest)} – {month_day(q.latest)}) and hours",),
        (f"前回の {_named(names, first, 'ja')}（{when}）の {_gap(q, 'ja')}に、{by_ja}希望日"
         f"（{month_day(q.earliest)} – {month_day(q.latest)}）と時間に合う日がありません",),
        ("after_no_date",))
