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

__all__ = ["plan_kpis"]


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
