"""Key figures of a plan, the same everywhere (CLI, plan/1 ``kpis``, scenarios, dashboard).

- ``visits``: scheduled requests (on-site and online);
- ``onsite_visits`` / ``online_consultations``: by mode;
- ``expert_visits``: on-site expert-visits, the programme's own count (one expert at one
  municipality is one visit; two experts together count as two);
- ``served_priority``: Σ priority of scheduled requests; ``drive_minutes``: Σ of routes;
- ``onsite_expert_days``: expert-dates with an on-site visit;
- ``unscheduled``, ``requests``, ``municipalities_served`` (distinct locations with a visit);
- ``moved`` (with a previous plan): last plan's visits not kept exactly.
"""

from __future__ import annotations

from engine.model import Plan, PlanRequest

__all__ = ["SATISFACTION_TARGET", "SATISFIED", "plan_kpis", "satisfaction_kpis"]


def plan_kpis(problem: PlanRequest, plan: Plan, previous: Plan | None = None) -> dict[str, int]:
    """The KPI mapping of ``plan`` (integers)."""
    prio = {q.id: q.priority for q in problem.requests}
    onsite = [v for v in plan.visits if v.mode == "onsite"]
    k = {
        "visits": len(plan.visits),
        "expert_visits": sum(len(v.experts) for v in onsite),
        "served_priority": sum(prio.get(v.request, 0) for v in plan.visits),
        "drive_minutes": sum(r.drive_minutes for r in plan.routes),
        "onsite_visits": len(onsite),
        "online_consultations": len(plan.visits) - len(onsite),
        "onsite_expert_days": len({(r.expert, r.date) for r in plan.routes}),
        "unscheduled": len(plan.unscheduled),
        "requests": len(problem.requests),
        "municipalities_served": len({v.location for v in plan.visits}),
    }
    if previous is not None:
        now = {v.request: v for v in plan.visits}
        k["moved"] = sum(
            1 for v in previous.visits if v.request in prio and (
                (w := now.get(v.request)) is None or w.date != v.date or w.start != v.start
                or set(w.experts) != set(v.experts)))
    return k


#: A satisfaction of at least this (on 1–5) counts as satisfied.
SATISFIED = 4
#: The programme's yardstick: this share of rated visits satisfied.
SATISFACTION_TARGET = 0.8


def satisfaction_kpis(ratings: list[int | None], held: list[bool | None]) -> dict[str, object]:
    """Outcome figures of a set of visits: ``visits``, ``recorded`` (an outcome was entered),
    ``held``, ``rated`` (a satisfaction 1–5 given), ``satisfied`` (rated ≥ ``SATISFIED``),
    ``satisfaction_share`` (satisfied ÷ rated, ``None`` when nothing is rated),
    ``mean_satisfaction``, ``target`` (``SATISFACTION_TARGET``) and ``meets_target``.

    >>> satisfaction_kpis([5, 4, 2, None], [True, True, True, None])["satisfaction_share"]
    0.6667
    """
    rated = [r for r in ratings if r is not None]
    satisfied = sum(1 for r in rated if r >= SATISFIED)
    share = round(satisfied / len(rated), 4) if rated else None
    return {
        "visits": len(ratings),
        "recorded": sum(1 for h in held if h is not None),
        "held": sum(1 for h in held if h),
        "rated": len(rated),
        "satisfied": satisfied,
        "satisfaction_share": share,
        "mean_satisfaction": round(sum(rated) / len(rated), 2) if rated else None,
        "target": SATISFACTION_TARGET,
        "meets_target": None if share is None else share >= SATISFACTION_TARGET,
    }
