"""A plan as pandas tables (for notebooks and CSV), and the readable week the CLI prints."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from engine.model import FIELD_LABELS, Plan, PlanRequest, Visit, fmt_time

__all__ = ["expert_name", "plan_tables", "week_text", "write_csv"]


def expert_name(problem: PlanRequest, expert_id: str) -> str:
    """The expert's display name where the request gives one, else the id."""
    e = problem.expert_by_id.get(expert_id)
    return e.name if e is not None and e.name else expert_id


def plan_tables(problem: PlanRequest, plan: Plan) -> dict[str, pd.DataFrame]:
    """``visits`` (index ``request``), ``routes`` (index ``expert``, ``date``) and
    ``unscheduled`` (index ``request``) as DataFrames with readable place names."""
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
    routes = pd.DataFrame(
        [{"expert": r.expert, "expert_name": expert_name(problem, r.expert), "date": r.date,
          "leave": fmt_time(r.leave),
          "return": fmt_time(r.return_), "stops": " → ".join(locs[s].name for s in r.stops),
          "stop_codes": " ".join(r.stops), "drive_minutes": r.drive_minutes}
         for r in plan.routes],
        columns=["expert", "expert_name", "date", "leave", "return", "stops", "stop_codes",
                 "drive_minutes"],
    ).set_index(["expert", "date"])
    unscheduled = pd.DataFrame(
        [{"request": u.request, "municipality": locs[reqs[u.request].location].name,
          "title": reqs[u.request].title,
          "priority": reqs[u.request].priority, "code": u.codes[0] if u.codes else "",
          "reason": " / ".join(u.reasons), "reason_ja": " / ".join(u.reasons_ja)}
         for u in plan.unscheduled if u.request in reqs],
        columns=["request", "municipality", "title", "priority", "code", "reason", "reason_ja"],
    ).set_index("request")
    return {"visits": visits, "routes": routes, "unscheduled": unscheduled}


def write_csv(problem: PlanRequest, plan: Plan, directory: str) -> list[str]:
    """Write ``visits.csv``, ``routes.csv`` and ``unscheduled.csv`` (UTF-8 with BOM, so that
    Excel opens the Japanese names correctly); returns the paths written."""
    import os

    os.makedirs(directory, exist_ok=True)
    out = []
    for name, df in plan_tables(problem, plan).items():
        path = os.path.join(directory, f"{name}.csv")
        df.to_csv(path, encoding="utf-8-sig")
        out.append(path)
    return out


_WD_JA = "月火水木金土日"


def week_text(problem: PlanRequest, plan: Plan, lang: str = "ja") -> str:
    """The plan as text: per expert and date the visits with times, places and driving, then
    the unscheduled requests with reasons, then the KPIs."""
    ja = lang == "ja"
    locs = problem.location_by_id
    reqs = problem.request_by_id
    lines: list[str] = []
    status = {"optimal": "最適", "feasible": "実行可能（最適性未証明）", "infeasible": "実行不可能",
              "error": "エラー"}
    # the objective and its bound in the coordinator's words: the plan's score and the
    # ceiling proven for any plan of this week
    head = (f"状態: {status.get(plan.status, plan.status)}  計画の評価値: {plan.objective}  "
            f"証明済みの上限: {plan.bound}  計算時間: {plan.solve_seconds:.2f} 秒" if ja else
            f"status: {plan.status}  plan score: {plan.objective}  proven ceiling: {plan.bound}  "
            f"solve: {plan.solve_seconds:.2f} s")
    lines.append(head)
    for m in (plan.messages_ja if ja and plan.messages_ja else plan.messages):
        lines.append("! " + m)
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    for v in plan.visits:
        for e in v.experts:
            per[e, v.date].append(v)
    routes = {(r.expert, r.date): r for r in plan.routes}
    for expert in problem.experts:
        days = sorted(d for (eid, d) in per if eid == expert.id)
        if not days:
            continue
        lines.append("")
        lines.append(f"■ {expert.id}" + (f"（{expert.name}）" if expert.name else ""))
        for d in days:
            r = routes.get((expert.id, d))
            wd = _WD_JA[d.weekday()] if ja else d.strftime("%a")
            extra = ""
            if r is not None:
                extra = (f"  出発 {fmt_time(r.leave)} 帰着 {fmt_time(r.return_)} 運転 {r.drive_minutes} 分"
                         if ja else f"  leave {fmt_time(r.leave)} return {fmt_time(r.return_)} "
                         f"drive {r.drive_minutes} min")
            lines.append(f"  {d.isoformat()}（{wd}）{extra}" if ja else f"  {d.isoformat()} ({wd}){extra}")
            for v in sorted(per[expert.id, d], key=lambda v: v.start):
                q = reqs[v.request]
                loc = locs[v.location]
                place = loc.name if ja else loc.label
                mode = ("訪問" if v.mode == "onsite" else "オンライン") if ja else v.mode
                fields = " + ".join(FIELD_LABELS[f][1] if ja and f in FIELD_LABELS else f
                                    for f in q.fields)
                with_ = [expert_name(problem, x) for x in v.experts if x != expert.id]
                joint = ((" 同行: " if ja else " with ") + ", ".join(with_)) if with_ else ""
                lines.append(f"    {fmt_time(v.start)}–{fmt_time(v.end)}  {place}  [{mode}] {fields}"
                             f"  {v.request}" + (f" p{q.priority}") + joint
                             + (f"  {q.title}" if q.title else ""))
    if plan.unscheduled:
        lines.append("")
        lines.append("■ 未計画の依頼" if ja else "■ Unscheduled requests")
        for u in plan.unscheduled:
            uq = reqs.get(u.request)
            place = (locs[uq.location].name if ja else locs[uq.location].label) if uq else ""
            reasons = u.reasons_ja if ja and u.reasons_ja else u.reasons
            lines.append(f"  {u.request} {place}" + (f" p{uq.priority}" if uq else ""))
            for reason in reasons:
                lines.append(f"    - {reason}")
    lines.append("")
    names_ja = {"visits": "計画件数", "expert_visits": "専門家訪問数（延べ）", "served_priority": "優先度合計",
                "drive_minutes": "運転時間（分）", "onsite_visits": "訪問件数",
                "online_consultations": "オンライン相談", "onsite_expert_days": "訪問日数（延べ）",
                "unscheduled": "未計画", "requests": "依頼数", "municipalities_served": "対応自治体数",
                "moved": "変更された訪問", "small_town_priority": "小規模町村の優先度合計",
                "coverage_shortfall": "目標訪問数の不足", "locations_below_floor": "目標未達の自治体数"}
    lines.append("■ KPI")
    for k, val in plan.kpis.items():
        lines.append(f"  {names_ja.get(k, k) if ja else k}: {val}")
    return "\n".join(lines) + "\n"
