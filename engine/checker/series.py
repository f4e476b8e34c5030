"""The checker's rule on follow-up series (``requests[].after``): a follow-up is made only after
its predecessor's visit, within the gap, by the same experts when asked."""

from __future__ import annotations

from collections.abc import Iterable

from engine.checker.context import Context, Violation, violation
from engine.model import Visit

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
        if first is None:
            yield violation("follow_up", f"made although {a.request}, which it follows, is not",
                            v.request, date=v.date)
            continue
        gap = (v.date - first.date).days
        if not a.allows(gap):
            most = "" if a.max_days is None else f" and at most {a.max_days}"
            yield violation("follow_up", f"{gap} day(s) after {a.request} ({first.date}); the "
                            f"series asks at least {a.min_days}{most}", v.request, date=v.date)
        if a.same_experts and set(v.experts) != set(first.experts):
            yield violation("follow_up", f"made by {sorted(v.experts)} but {a.request} by "
                            f"{sorted(first.experts)}: the series asks the same experts",
                            v.request, date=v.date)
