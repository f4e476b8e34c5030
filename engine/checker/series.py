"""The checker's rule on follow-up series (``requests[].after``): a follow-up is made only after
its predecessor's visit, within the gap, by the same experts when asked."""

from __future__ import annotations

from collections.abc import Iterable

from engine.checker.context import Context, Violation, violation
from engine.model import Visit
from engine.words import counted, month_day

__all__ = ["follow_ups_keep_their_series"]


def follow_ups_keep_their_series(c: Context) -> Iterable[Violation]:
    """A follow-up is made only when the visit it follows is in the plan, on a date at least
    ``min_days`` and at most ``max_days`` calendar days after that visit's date, and (when the
    same experts must come) by exactly that visit's experts."""
    made = {v.request: v for v in c.plan.visits}
    for v in c.visits:
        a = c.p.request_by_id[v.request].after
        if a is None:
            continue
        first = made.get(a.request) if a.date is None else Visit(
            a.request, a.experts, v.location, v.mode, a.date, 0, 0)
        en, ja = c.req(v.request, "en"), c.req(v.request, "ja")
        before = c.req(a.request, "en"), c.req(a.request, "ja")
        if first is None:
            yield violation(c, "follow_up", f"{en} is planned although {before[0]}, which it "
                            "follows, is not", f"{ja} が計画されていますが、その前の "
                            f"{before[1]} が計画されていません", v.request, date=v.date)
            continue
        gap = (v.date - first.date).days
        if not a.allows(gap):
            most = ("", "") if a.max_days is None else (f" and at most {a.max_days}",
                                                        f"{a.max_days} 日以内")
            yield violation(c, "follow_up", f"{en} is {counted(gap, 'day')} after {before[0]} "
                            f"({month_day(first.date)}); the series asks at least "
                            f"{a.min_days}{most[0]}", f"{ja} が {before[1]}"
                            f"（{month_day(first.date)}）の {gap} 日後です（{a.min_days} 日以上"
                            f"{most[1]}の間隔が必要です）", v.request, date=v.date)
        if a.same_experts and set(v.experts) != set(first.experts):
            yield violation(c, "follow_up", f"{en} is made by {c.whom(sorted(v.experts), 'en')} "
                            f"but {before[0]} by {c.whom(sorted(first.experts), 'en')}: the "
                            "series asks the same experts", f"{ja} の担当は"
                            f"{c.whom(sorted(v.experts), 'ja')}ですが、{before[1]} は"
                            f"{c.whom(sorted(first.experts), 'ja')}です（同じ専門家が必要です）",
                            v.request, date=v.date)
