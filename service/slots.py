"""Slot proposals in the service: a request's best slots in its weeks' current plans, and the
slot a municipality or the centre chooses, held (pending) or fixed into the published week.

The current plan of a week is its published plan (the latest published job: a week job, or
the slot job that fixed the last chosen slot) with the slots still pending: every visit in it
is published or promised, so it is kept exactly (``fixed``) and proposals fit around it. The
week's problem is the published plan's requests, the pending ones, and the new request, with
the week's experts, blackouts and travel as a week job sees them (``service.jobs``).

Choosing (``accept``): a municipality's choice is ``pending`` — it holds the slot (week jobs
keep it fixed, other requests' proposals fit around it) until the centre confirms or
overrides it; the centre's choice (or confirmation) is checked once more against the week
as it is now and fixed into the published plan by a slot job, which publishes the week's
plan with the new visit. Who chose and who decided is kept on the pick and in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.changes import with_changes
from engine.errors import Conflict, InputError, Problem
from engine.format import parse_plan, parse_plan_request, plan_to_dict
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest, Unscheduled, Visit, fmt_time
from engine.travel import TravelTimes
from service.auth import Principal
from service.db import ExpertRow, PlanJob, RequestRow, SlotPick, utcnow
from service.glossary import state_words
from service.reasons import municipality_reasons
from service.weeks import HOLDING, pending_fixed, publish_plan, week_dates, week_document

if TYPE_CHECKING:
    from solvers.slots import Proposal

__all__ = ["MAX_WEEKS", "Week", "accept", "current_week", "pending_fixed", "pick_view",
           "propose", "request_weeks"]

#: The weeks searched for one request: those its dates meet, at most this many from its first.
MAX_WEEKS = 4


def request_weeks(q: RequestRow) -> list[dt.date]:
    """The Mondays of the weeks the request's dates meet (weekdays only), at most
    ``MAX_WEEKS``."""
    monday = q.earliest - dt.timedelta(days=q.earliest.weekday())
    out: list[dt.date] = []
    while monday <= q.latest and len(out) < MAX_WEEKS:
        if monday + dt.timedelta(days=4) >= q.earliest:
            out.append(monday)
        monday += dt.timedelta(days=7)
    return out


@dataclass
class Week:
    """One week as proposals see it: the problem (with the new request), the current plan
    (without it), and the published job it builds on (``None`` when nothing is published)."""

    monday: dt.date
    doc: dict[str, Any]
    problem: PlanRequest
    plan: Plan
    published: PlanJob | None
    pending: set[str]


def current_week(session: Session, monday: dt.date, q: RequestRow) -> Week:
    """The week's problem and current plan for proposals of ``q`` (its own pending pick set
    aside: it chooses again)."""
    start, end = week_dates(monday)
    doc, published = week_document(session, monday, keep_published="fixed")
    pending = {rid: f for rid, f in pending_fixed(session, monday).items() if rid != q.id}
    pub_job = None
    if published is not None:
        pub_job = session.scalar(select(PlanJob).where(
            PlanJob.week == monday, PlanJob.published_at.is_not(None))
            .order_by(PlanJob.published_at.desc(), PlanJob.created_at.desc()).limit(1))
    in_plan = ({v["request"] for v in published["visits"]}
               | {u["request"] for u in published["unscheduled"]}) if published else set()
    keep = (in_plan | set(pending)) - {q.id}
    requests = []
    for x in doc["requests"]:
        if x["id"] in keep:
            if x["id"] in pending:
                x = {**x, "fixed": pending[x["id"]]}
            requests.append(x)
    pending = {rid: f for rid, f in pending.items() if rid in {x["id"] for x in requests}}
    new = {"id": q.id, "location": q.municipality, **q.doc,
           "earliest": max(q.earliest, start).isoformat(),
           "latest": min(q.latest, end).isoformat()}
    new.pop("fixed", None)
    doc = {**doc, "requests": [*requests, new]}
    problem = parse_plan_request(doc)
    base = parse_plan(published) if published is not None else Plan(
        status="feasible", objective=0, bound=0, solve_seconds=0.0)
    visits = [v for v in base.visits if v.request in keep]
    for rid, f in pending.items():
        r = problem.request_by_id[rid]
        begin = int(f["start"][:2]) * 60 + int(f["start"][3:])
        visits.append(Visit(rid, tuple(f["experts"]), r.location, r.mode,
                            dt.date.fromisoformat(f["date"]), begin, begin + r.duration_min))
    planned = {v.request for v in visits}
    unscheduled = [u for u in base.unscheduled if u.request in keep and u.request not in planned]
    without = replace(problem, requests=tuple(r for r in problem.requests if r.id != q.id))
    plan = _as_plan(problem, visits, unscheduled, counted=without)
    return Week(monday, doc, problem, plan, pub_job, set(pending))


def _as_plan(problem: PlanRequest, visits: list[Visit], unscheduled: list[Unscheduled], *,
             counted: PlanRequest) -> Plan:
    """A plan of these visits as the planner writes one: routes built from the visits (the
    published days come out as published), FORMAT.md's objective, the ceiling of serving
    every request without driving as its bound, KPIs counted on ``counted``."""
    from solvers.planner import build_routes, objective_value  # start fast
    from solvers.routes import plan_breaks  # start fast

    travel = TravelTimes(problem)
    routes = build_routes(problem, travel, visits)
    value = objective_value(problem, visits, routes)
    ceiling = problem.objective.priority * sum(r.priority for r in problem.requests)
    plan = Plan(status="feasible", objective=value, bound=max(value, ceiling),
                solve_seconds=0.0, visits=tuple(visits), routes=tuple(routes),
                unscheduled=tuple(unscheduled), breaks=plan_breaks(problem, travel, visits))
    return replace(plan, kpis=plan_kpis(counted, plan))


def _weeks(session: Session, q: RequestRow, week: dt.date | None) -> list[Week]:
    mondays = request_weeks(q)
    if week is not None:
        if week not in mondays:
            raise InputError(Problem("week", f"the request's dates {q.earliest} – {q.latest} "
                                     f"do not meet the week of {week}",
                                     f"依頼の希望期間 {q.earliest} – {q.latest} は {week} の週に"
                                     "かかりません"))
        mondays = [week]
    out = []
    for monday in mondays:
        try:
            out.append(current_week(session, monday, q))
        except InputError as err:
            raise Conflict(f"the plan of the week of {monday} no longer fits the "
                           f"programme's data ({err}); re-plan the week first",
                           f"{monday} の週の計画が現在のデータと合いません（{err}）。先に週を"
                           "計画し直してください") from None
    return out


def _expert_names(session: Session, ids: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for eid in ids:
        row = session.get(ExpertRow, eid)
        out.append(str(row.doc.get("name") or eid) if row is not None else eid)
    return out


def propose(session: Session, q: RequestRow, who: Principal, *, top: int = 3,
            other_mode: str = "fallback", week: dt.date | None = None) -> dict[str, Any]:
    """The request's best slots over its weeks (best first; distinct dates first; the other
    mode as ``other_mode`` says), or why there is none. A municipality sees the slots and
    the general reasons; the centre also what each costs the week and the whole plan."""
    from solvers.slots import propose_slots  # start fast

    weeks = _weeks(session, q, week)
    found: list[tuple[Week, Proposal]] = []
    reasons: dict[str, tuple[str, str]] = {}
    complete = True
    for w in weeks:
        answer = propose_slots(w.problem, w.plan, q.id, top,
                               other_mode="also" if other_mode != "no" else "no",
                               time_limit=5.0)
        complete = complete and answer.complete
        found.extend((w, p) for p in answer.proposals)
        if answer.unscheduled is not None:
            u = answer.unscheduled
            for i, code in enumerate(u.codes):
                reasons.setdefault(u.reasons[i], (u.reasons_ja[i] if i < len(u.reasons_ja)
                                                  else u.reasons[i], code))
    asked = [x for x in found if not x[1].mode_changed]
    other = [x for x in found if x[1].mode_changed]
    chosen = _best(asked, top)
    if other_mode == "also" or (other_mode == "fallback" and not asked):
        chosen += _best(other, top)
    out: dict[str, Any] = {
        "request": q.id, "weeks": [w.monday.isoformat() for w in weeks],
        "complete": complete, "accept_url": f"/v1/requests/{q.id}/accept-slot",
        "proposals": [_proposal_view(session, w, p, rank, who)
                      for rank, (w, p) in enumerate(chosen, start=1)],
        "unscheduled": None}
    if not asked:
        codes = [c for _, c in reasons.values()]
        if who.is_centre:
            out["unscheduled"] = {"reasons": list(reasons),
                                  "reasons_ja": [ja for ja, _ in reasons.values()],
                                  "codes": codes}
        else:
            out["unscheduled"] = {"reasons": municipality_reasons(codes), "codes":
                                  list(dict.fromkeys(codes))}
    return out


def _best(found: list[tuple[Week, Proposal]], k: int) -> list[tuple[Week, Proposal]]:
    """The k best over several weeks, as one week chooses them: the first choices (distinct
    dates) best first, then other starts on the same days."""
    def key(x: tuple[Week, Proposal]) -> tuple[Any, ...]:
        p = x[1]
        return (-p.objective_change, len(p.moved), p.date, p.start, p.experts)

    first = sorted((x for x in found if not x[1].alternative), key=key)
    more = sorted((x for x in found if x[1].alternative), key=key)
    return (first + more)[:k]


def _proposal_view(session: Session, w: Week, p: Proposal, rank: int,
                   who: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rank": rank, "week": w.monday.isoformat(), "experts": list(p.experts),
        "expert_names": _expert_names(session, p.experts), "date": p.date.isoformat(),
        "start": fmt_time(p.start), "end": fmt_time(p.end), "mode": p.mode,
        "mode_changed": p.mode_changed, "alternative": p.alternative,
        "choose": {"experts": list(p.experts), "date": p.date.isoformat(),
                   "start": fmt_time(p.start), "mode": p.mode}}
    if who.is_centre:
        doc = plan_to_dict(p.plan)
        out.update(objective_change=p.objective_change,
                   visits_added=len(p.plan.visits) - len(w.plan.visits),
                   drive_minutes_added=p.drive_minutes_added,
                   moved=[c for c in doc.get("changes", []) if c["request"] != p.request],
                   plan=doc)
    return out


# ------------------------------------------------------------------------------ choosing

def pick_view(session: Session, pick: SlotPick, who: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pick.id, "request": pick.request_id, "municipality": pick.municipality,
        "week": pick.week.isoformat(), "experts": list(pick.experts),
        "expert_names": _expert_names(session, pick.experts), "mode": pick.mode,
        "date": pick.date.isoformat(), "start": fmt_time(pick.start), "end": fmt_time(pick.end),
        "status": pick.status, "chosen_by": pick.chosen_role,
        "chosen_at": pick.chosen_at.isoformat(),
        "decided_by": pick.decided_role,
        "decided_at": pick.decided_at.isoformat() if pick.decided_at else None,
        "url": f"/v1/requests/{pick.request_id}/slot-pick"}
    if who.is_centre:
        out["objective_change"] = pick.objective_change
        out["drive_minutes_added"] = pick.drive_minutes_added
        out["job"] = pick.job_id
        q = session.get(RequestRow, pick.request_id)
        if q is not None:
            out["title"] = q.doc.get("title", "")
    return out


def holding_pick(session: Session, rid: str) -> SlotPick | None:
    return session.scalar(select(SlotPick).where(SlotPick.request_id == rid,
                                                 SlotPick.status.in_(HOLDING))
                          .order_by(SlotPick.id.desc()).limit(1))


def accept(session: Session, q: RequestRow, who: Principal, *, experts: list[str],
           date: dt.date, start: int, mode: str) -> tuple[SlotPick, dict[str, Any] | None]:
    """Choose a slot for ``q``: checked against the week as it is now (409 when it no
    longer fits); a municipality's choice is held as ``pending``, the centre's is fixed into
    the published week (returns the pick and, for the centre, the publish counts)."""
    from solvers.slots import Slot, propose_slots  # start fast

    if q.status not in ("draft", "submitted"):
        en, ja = state_words("request", q.status)
        raise Conflict(f"a {en} request has no slot to choose", f"{ja}の依頼には日時を選べません")
    if not q.earliest <= date <= q.latest:
        raise InputError(Problem("date", f"must lie within the request's dates {q.earliest} – "
                                 f"{q.latest}", f"依頼の希望期間 {q.earliest} – {q.latest} の中"
                                 "である必要があります"))
    monday = date - dt.timedelta(days=date.weekday())
    w = current_week(session, monday, q)
    answer = propose_slots(w.problem, w.plan, q.id, 1, only=Slot(
        tuple(experts), date, start, mode), time_limit=5.0)  # type: ignore[arg-type]
    if not answer.proposals:
        raise Conflict(f"the slot {date} {fmt_time(start)} ({mode}, {', '.join(experts)}) "
                       "does not fit the week as it is now; ask for proposals again",
                       f"{date} {fmt_time(start)}（{mode}、{', '.join(experts)}）は現在の計画に"
                       "入りません。候補を取り直してください")
    p = answer.proposals[0]
    now = utcnow()
    before = holding_pick(session, q.id)
    if before is not None:
        same = (list(before.experts) == list(p.experts) and before.date == p.date
                and before.start == p.start and before.mode == p.mode)
        before.status = ("withdrawn" if who.role == "municipality"
                         else "confirmed" if same else "overridden")
        before.decided_role, before.decided_key, before.decided_at = who.role, who.key_id, now
    pick = before if before is not None and before.status == "confirmed" else SlotPick(
        request_id=q.id, municipality=q.municipality, week=monday, experts=list(p.experts),
        mode=p.mode, date=p.date, start=p.start, end=p.end, status="pending",
        objective_change=p.objective_change, drive_minutes_added=p.drive_minutes_added,
        chosen_role=who.role, chosen_key=who.key_id, chosen_at=now)
    if pick is not before:
        session.add(pick)
    if p.mode != q.doc.get("mode"):
        q.doc = {**q.doc, "mode": p.mode}          # the municipality agreed to the other mode
    if q.status == "draft":
        q.status = "submitted"
    q.updated_at = now
    counts = None
    if who.is_centre:
        pick.status = "confirmed"
        pick.decided_role, pick.decided_key, pick.decided_at = who.role, who.key_id, now
        counts = _fix_into_week(session, w, p, pick, who)
    session.flush()
    return pick, counts


def _fix_into_week(session: Session, w: Week, p: Proposal, pick: SlotPick,
                   who: Principal) -> dict[str, int]:
    """Publish the week's plan with the chosen slot as a slot job: the published visits as
    they were, the new visit; slots other municipalities hold (pending) are left out of it
    (they stay pending)."""

    problem, plan = p.problem, p.plan
    if w.pending:
        problem = replace(problem, requests=tuple(r for r in problem.requests
                                                  if r.id not in w.pending))
        plan = _as_plan(problem, [v for v in plan.visits if v.request not in w.pending],
                        list(plan.unscheduled), counted=problem)
    previous = parse_plan(w.published.plan) if w.published is not None and \
        w.published.plan is not None else None
    doc = plan_to_dict(with_changes(plan, previous))
    request_doc = {**w.doc, "requests": [x for x in w.doc["requests"]
                                         if x["id"] in problem.request_by_id]}
    for x in request_doc["requests"]:
        if x["id"] == p.request:
            x["mode"] = p.mode
    now = utcnow()
    job = PlanJob(id=str(uuid.uuid4()), status="done", week=w.monday, request_doc=request_doc,
                  previous_doc=None, plan=doc, attempt=0, started_at=now, finished_at=now,
                  options={"slot": {"request": p.request, "experts": list(p.experts),
                                    "date": p.date.isoformat(), "start": fmt_time(p.start),
                                    "mode": p.mode, "pick": pick.id,
                                    "chosen_by": pick.chosen_role, "fixed_by": who.role},
                           "requests": len(request_doc["requests"])},
                  history=[{"at": now.isoformat(),
                            "event": f"slot of {p.request} fixed by the {who.role}"}])
    session.add(job)
    session.flush()
    counts = publish_plan(session, job)
    pick.job_id = job.id
    return counts
