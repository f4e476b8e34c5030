"""Why a follow-up (``requests[].after``) is left out when its series is the reason: the visit it
follows is not in the plan (``after_not_served``), or leaves no date in the gap with its
experts (``after_no_date``), in words a coordinator reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from engine.model import PlanRequest, Request, Unscheduled, Visit, fmt_time
from engine.words import counted
from solvers.explain.words import Names, month_day

__all__ = ["series_reason"]


def _gap(q: Request, lang: str) -> str:
    a = q.after
    assert a is not None
    if lang == "en":
        if a.max_days == a.min_days:
            return counted(a.min_days, "day")
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
    if a.date is not None:              # made before this plan: named by its date
        label_en, label_ja = "its earlier session", "前回"
        when, made, experts = month_day(a.date), a.date, a.experts
    elif first is None:
        return None
    else:
        label_en, label_ja = _named(names, first, "en"), "前回の " + _named(names, first, "ja")
        v = placed.get(a.request)
        if v is None:
            return Unscheduled(q.id, (f"it follows {label_en}, which is not served in this plan",),
                               (f"{label_ja} が計画に入らないため、続きの回も入りません",),
                               ("after_not_served",))
        when, made, experts = f"{month_day(v.date)} {fmt_time(v.start)}", v.date, v.experts
    ok = [(d, e) for d, e in dates_experts if a.allows((d - made).days)
          and (not a.same_experts or e in experts)]
    if ok:
        return None
    who = "・".join(names.who(e) for e in experts)
    by_en = f" by {who}" if a.same_experts else ""
    by_ja = f"{who} が" if a.same_experts else ""
    return Unscheduled(q.id, (
        f"it follows {label_en} ({when}); no date {_gap(q, 'en')} after it"
        f"{by_en} fits its dates ({month_day(q.earliest)} – {month_day(q.latest)}) and hours",),
        (f"{label_ja}（{when}）の {_gap(q, 'ja')}に、{by_ja}希望日"
         f"（{month_day(q.earliest)} – {month_day(q.latest)}）と時間に合う日がありません",),
        ("after_no_date",))
