"""A plan as pandas tables with ids and codes (for notebooks and programs); what a coordinator
reads (the terminal's week, the workbook, the handed-out CSV) is written by ``service``."""

from __future__ import annotations

import pandas as pd

from engine.kpis import day_ends
from engine.model import Plan, PlanRequest, fmt_time
from engine.nights import nights_of

__all__ = ["expert_name", "plan_tables"]


def expert_name(problem: PlanRequest, expert_id: str) -> str:
    """The expert's display name where the request gives one, else the id."""
    e = problem.expert_by_id.get(expert_id)
    return e.name if e is not None and e.name else expert_id


def plan_tables(problem: PlanRequest, plan: Plan) -> dict[str, pd.DataFrame]:
    """``visits`` (index ``request``), ``routes`` (index ``expert``, ``date``),
    ``unscheduled`` (index ``request``) and ``breaks`` (index ``expert``, ``date``: the lunch
    breaks, ``start``/``end``) as DataFrames with readable place names. Where the week has
    them, ``visits`` gives ``due`` and ``days_late`` and ``after`` (the request a follow-up
    follows), ``routes`` gives ``overtime_minutes``, ``start_at``/``end_at`` (the place of a
    night away) and ``night_cost``."""
    locs = problem.location_by_id
    reqs = problem.request_by_id
    visits = pd.DataFrame(
        [{"request": v.request, "date": v.date, "start": fmt_time(v.start), "end": fmt_time(v.end),
          "mode": v.mode, "experts": " ".join(v.experts),
          "expert_names": "・".join(expert_name(problem, e) for e in v.experts),
          "location": v.location,
          "municipality": locs[v.location].name, "municipality_en": locs[v.location].name_en,
          "fields": " ".join(reqs[v.request].fields), "priority": reqs[v.request].priority,
          "title": reqs[v.request].title}
         for v in plan.visits],
        columns=["request", "date", "start", "end", "mode", "experts", "expert_names", "location",
                 "municipality",
                 "municipality_en", "fields", "priority", "title"],
    ).set_index("request")
    if any(q.due is not None for q in problem.requests):     # due dates: when, how late
        visits["due"] = [reqs[r].due for r in visits.index]
        visits["days_late"] = [reqs[r].days_late(d)
                               for r, d in zip(visits.index, visits["date"], strict=True)]
    if any(q.after is not None for q in problem.requests):      # follow-ups: of which
        visits["after"] = [a.request if (a := reqs[r].after) is not None else ""
                           for r in visits.index]
    routes = pd.DataFrame(
        [{"expert": r.expert, "expert_name": expert_name(problem, r.expert), "date": r.date,
          "leave": fmt_time(r.leave),
          "return": fmt_time(r.return_), "stops": " → ".join(locs[s].name for s in r.stops),
          "stop_codes": " ".join(r.stops), "drive_minutes": r.drive_minutes}
         for r in plan.routes],
        columns=["expert", "expert_name", "date", "leave", "return", "stops", "stop_codes",
                 "drive_minutes"],
    ).set_index(["expert", "date"])
    if any(e.overtime is not None for e in problem.experts):    # how late each day ends
        ends = day_ends(plan.visits, plan.routes)
        routes["overtime_minutes"] = [max(0, ends[k] - problem.expert_by_id[k[0]].work_end)
                                      for k in routes.index]
    if any(e.overnight is not None for e in problem.experts):   # where a day away starts, ends
        by_day = {(r.expert, r.date): r for r in plan.routes}
        for col in ("start_at", "end_at"):
            routes[col] = [locs[x].name if (x := getattr(by_day[k], col)) in locs else ""
                           for k in routes.index]
        nights = nights_of(problem, plan.routes)
        routes["night_cost"] = [o.night_cost if k in nights and (
            o := problem.expert_by_id[k[0]].overnight) is not None else 0 for k in routes.index]
    unscheduled = pd.DataFrame(
        [{"request": u.request, "municipality": locs[reqs[u.request].location].name,
          "title": reqs[u.request].title,
          "priority": reqs[u.request].priority, "code": u.codes[0] if u.codes else "",
          "reason": " / ".join(u.reasons), "reason_ja": " / ".join(u.reasons_ja)}
         for u in plan.unscheduled if u.request in reqs],
        columns=["request", "municipality", "title", "priority", "code", "reason", "reason_ja"],
    ).set_index("request")
    breaks = pd.DataFrame(
        [{"expert": b.expert, "expert_name": expert_name(problem, b.expert), "date": b.date,
          "start": fmt_time(b.start), "end": fmt_time(b.end)} for b in plan.breaks],
        columns=["expert", "expert_name", "date", "start", "end"],
    ).set_index(["expert", "date"])
    return {"visits": visits, "routes": routes, "unscheduled": unscheduled, "breaks": breaks}
