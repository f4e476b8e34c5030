"""``/v1/visits``: published visits and their outcomes; ``/v1/outcomes``: the season's
outcome figures (satisfaction share against the programme's 80 % yardstick)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import fmt_time
from engine.errors import Conflict, InputError, Problem
from engine.kpis import satisfaction_kpis
from service.api.deps import CurrentKey, IntId, SessionDep, SettingsDep, WriterKey, audit, not_found
from service.api.views import visit_view
from service.auth import Principal
from service.clock import has_started, japan_now
from service.db import MunicipalityRow, RequestRow, VisitRow, utcnow
from service.schemas import Outcome
from service.weeks import week_dates

router = APIRouter(prefix="/v1", tags=["visits"])


def own_visit(s: Session, who: Principal, visit_id: int) -> VisitRow:
    """The visit if the caller may see it (404 otherwise, as for an unknown id)."""
    v = s.get(VisitRow, visit_id)
    if v is None or (who.role == "municipality" and v.municipality != who.municipality) or (
            who.role == "expert" and who.expert not in v.experts):
        raise not_found("visit", visit_id)
    return v


@router.get("/visits")
def list_visits(who: CurrentKey, s: SessionDep, settings: SettingsDep,
                week: Annotated[dt.date | None, Query()] = None) -> list[dict[str, Any]]:
    """Published visits: all (centre), the municipality's own, or the expert's own."""
    if week is not None:
        week_dates(week)
    stmt = select(VisitRow).where(VisitRow.active.is_(True)).order_by(VisitRow.date,
                                                                      VisitRow.start)
    if who.role == "municipality":
        stmt = stmt.where(VisitRow.municipality == who.municipality)
    if week:
        stmt = stmt.where(VisitRow.week == week)
    rows = [v for v in s.scalars(stmt)
            if not (who.role == "expert" and who.expert not in v.experts)]
    changed = replaced_versions(s, rows)
    now = japan_now(settings)
    return [visit_view(v, who, s.get(RequestRow, v.request_id), now=now,
                       changed=v.id in changed) for v in rows]


def replaced_versions(s: Session, rows: list[VisitRow]) -> set[int]:
    """The ids of ``rows`` that replaced an earlier published version of the same request in
    the same week (a changed visit)."""
    if not rows:
        return set()
    earlier = s.execute(select(VisitRow.request_id, VisitRow.week, VisitRow.id).where(
        VisitRow.active.is_(False),
        VisitRow.request_id.in_({v.request_id for v in rows}))).all()
    first: dict[tuple[str, dt.date | None], int] = {}
    for rid, week, vid in earlier:
        key = (rid, week)
        first[key] = min(vid, first.get(key, vid))
    return {v.id for v in rows if (v.request_id, v.week) in first
            and first[v.request_id, v.week] < v.id}


@router.get("/visits/{visit_id}")
def get_visit(visit_id: IntId, who: CurrentKey, s: SessionDep,
              settings: SettingsDep) -> dict[str, Any]:
    v = own_visit(s, who, visit_id)
    return visit_view(v, who, s.get(RequestRow, v.request_id), now=japan_now(settings),
                      changed=v.id in replaced_versions(s, [v]))


@router.put("/visits/{visit_id}/outcome")
def put_outcome(visit_id: IntId, who: WriterKey, s: SessionDep, settings: SettingsDep,
                body: Outcome) -> dict[str, Any]:
    """Record whether the visit was held, notes and satisfaction (centre or the visited
    municipality), once the visit has started (409 before: a visit on 12/7 cannot be held on
    12/6). Held visits complete their request."""
    v = own_visit(s, who, visit_id)
    now = japan_now(settings)
    if not has_started(v.date, v.start, now):
        when = f"{v.date.isoformat()} {fmt_time(v.start)}"
        raise Conflict(f"the visit starts at {when}: its outcome can be recorded once it has "
                       "started", f"この訪問は {when} 開始です。成果は訪問の開始後に記録できます")
    v.held, v.notes, v.satisfaction = body.held, body.notes, body.satisfaction
    v.outcome_at = utcnow()
    q = s.get(RequestRow, v.request_id)
    if body.held and q is not None and q.status == "scheduled":
        q.status, q.updated_at = "done", utcnow()
    audit(s, who, "visit.outcome", f"visit:{v.id}", held=body.held,
          satisfaction=body.satisfaction)
    s.commit()
    return visit_view(v, who, q, now=now)


def fiscal_year(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Japanese fiscal year (April–March) that contains ``day``."""
    first = dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)
    return first, dt.date(first.year + 1, 3, 31)


@router.get("/outcomes")
def outcomes(who: WriterKey, s: SessionDep, settings: SettingsDep,
             start: Annotated[dt.date | None, Query(alias="from")] = None,
             end: Annotated[dt.date | None, Query(alias="to")] = None) -> dict[str, Any]:
    """The season's outcome figures over published visits from ``from`` to ``to`` (default:
    the fiscal year, April–March, of today): visits, outcomes recorded, held, rated,
    satisfied (4 or 5 of 5) and the satisfaction share against the programme's 80 %
    yardstick, for the whole season and per municipality (a municipality: its own)."""
    first, last = fiscal_year(japan_now(settings).date())
    start, end = start or first, end or last
    if end < start:
        raise InputError(Problem("to", f"must not be before from ({start})",
                                 f"from（{start}）より前にはできません"))
    stmt = select(VisitRow).where(VisitRow.active.is_(True), VisitRow.date >= start,
                                  VisitRow.date <= end)
    if who.role == "municipality":
        stmt = stmt.where(VisitRow.municipality == who.municipality)
    rows = list(s.scalars(stmt))
    by_muni: dict[str, list[VisitRow]] = {}
    for v in rows:
        by_muni.setdefault(v.municipality, []).append(v)
    names = {m.code: m.name_ja for m in s.scalars(select(MunicipalityRow))}
    return {
        "from": start.isoformat(), "to": end.isoformat(),
        "season": satisfaction_kpis([v.satisfaction for v in rows], [v.held for v in rows]),
        "by_municipality": [
            {"municipality": code, "name": names.get(code, code),
             **satisfaction_kpis([v.satisfaction for v in vs], [v.held for v in vs])}
            for code, vs in sorted(by_muni.items())]}
