"""What the command line prints besides the week: the changes against the previous plan.

Grouped by municipality, because the centre calls each town hall once about all of its
visits; names, not ids, except the request id a coordinator looks up in the sheet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from engine.model import Change, Plan, PlanRequest, Visit, fmt_time
from service.i18n import _, current_lang

__all__ = ["changes_text", "expert_names", "place_name"]

_WD_JA = "月火水木金土日"


def place_name(problem: PlanRequest, loc_id: str) -> str:
    loc = problem.location_by_id.get(loc_id)
    if loc is None:
        return loc_id
    return loc.name if current_lang() == "ja" else loc.label


def expert_names(problem: PlanRequest, ids: tuple[str, ...] | list[str]) -> str:
    by_id = problem.expert_by_id
    return "・".join((by_id[e].name or e) if e in by_id else e for e in ids)


def _day(d: dt.date) -> str:
    if current_lang() == "ja":
        return f"{d.month}/{d.day}（{_WD_JA[d.weekday()]}）"
    return f"{d:%a} {d.month}/{d.day}"


def _visit(problem: PlanRequest, v: Visit) -> str:
    mode = _("on-site") if v.mode == "onsite" else _("online")
    return (f"{_day(v.date)} {fmt_time(v.start)}–{fmt_time(v.end)} {mode} "
            f"{expert_names(problem, v.experts)}")


def _line(problem: PlanRequest, plan: Plan, c: Change) -> str:
    if c.kind == "moved":
        assert c.before is not None and c.after is not None
        body = _("moved: {before} → {after}").format(before=_visit(problem, c.before),
                                                      after=_visit(problem, c.after))
    elif c.kind == "added":
        assert c.after is not None
        body = _("newly planned: {after}").format(after=_visit(problem, c.after))
    elif c.kind == "dropped":
        assert c.before is not None
        body = _("dropped: {before}").format(before=_visit(problem, c.before))
        u = next((u for u in plan.unscheduled if u.request == c.request), None)
        if u is not None:
            reasons = u.reasons_ja if current_lang() == "ja" and u.reasons_ja else u.reasons
            if reasons:
                body += " — " + reasons[0]
    else:
        assert c.before is not None
        body = _("no longer requested: {before}").format(before=_visit(problem, c.before))
    q = problem.request_by_id.get(c.request)
    title = f" {q.title}" if q is not None and q.title else ""
    return f"    {c.request}{title}  {body}"


def changes_text(problem: PlanRequest, plan: Plan) -> str:
    """The plan's ``changes``, one block per municipality, or one line saying there are none."""
    if not plan.changes:
        return "\n" + _("■ Changes from the previous plan: none") + "\n"
    per: dict[str, list[Change]] = defaultdict(list)
    for c in plan.changes:
        per[c.location].append(c)
    counts = {k: sum(c.kind == k for c in plan.changes)
              for k in ("moved", "dropped", "added", "withdrawn")}
    lines = ["", _("■ Changes from the previous plan: {n} (moved {moved}, dropped {dropped}, "
                   "newly planned {added}, no longer requested {withdrawn}); "
                   "by municipality to call").format(n=len(plan.changes), **counts)]
    for loc_id, changes in per.items():
        lines.append(f"  {place_name(problem, loc_id)}")
        lines.extend(_line(problem, plan, c) for c in changes)
    return "\n".join(lines) + "\n"
