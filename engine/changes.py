"""What moved between last week's plan and this one, so that the centre knows whom to call.

Examples
--------
>>> changes = plan_changes(previous, plan)                 # doctest: +SKIP
>>> [(c.request, c.kind) for c in changes]                 # doctest: +SKIP
[('r004', 'moved'), ('r011', 'dropped'), ('r031', 'added')]
"""

from __future__ import annotations

from dataclasses import replace

from engine.model import Change, Plan, Visit

__all__ = ["CHANGE_KINDS", "plan_changes", "with_changes"]

#: In the order a coordinator reads them: first what they must call about.
CHANGE_KINDS = ("moved", "dropped", "added", "withdrawn")


def _same(a: Visit, b: Visit) -> bool:
    return a.date == b.date and a.start == b.start and set(a.experts) == set(b.experts)


def plan_changes(previous: Plan, plan: Plan) -> tuple[Change, ...]:
    """Every request whose visit differs between ``previous`` and ``plan``.

    A visit that keeps its date, start and experts is no change (the planner's ``moved``
    count is exactly the ``moved`` plus ``dropped`` changes). Requests are in neither plan's
    visits only when unplanned twice: no change either. Sorted by kind, then date, then id.
    """
    before = {v.request: v for v in previous.visits}
    after = {v.request: v for v in plan.visits}
    asked = set(after) | {u.request for u in plan.unscheduled}
    out: list[Change] = []
    for rid, old in before.items():
        new = after.get(rid)
        if new is None:
            out.append(Change(rid, "dropped" if rid in asked else "withdrawn", old.location,
                              old, None))
        elif not _same(old, new):
            out.append(Change(rid, "moved", new.location, old, new))
    for rid, new in after.items():
        if rid not in before:
            out.append(Change(rid, "added", new.location, None, new))

    def key(c: Change) -> tuple[int, str, int, str]:
        v = c.before or c.after
        assert v is not None
        return CHANGE_KINDS.index(c.kind), v.date.isoformat(), v.start, c.request

    return tuple(sorted(out, key=key))


def with_changes(plan: Plan, previous: Plan | None) -> Plan:
    """``plan`` with its ``changes`` against ``previous`` (unchanged without one)."""
    if previous is None:
        return plan
    return replace(plan, changes=plan_changes(previous, plan))
