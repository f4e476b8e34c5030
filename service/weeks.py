"""The week's state in the database: the plan-request/1 document of a week (its open
requests, experts, blackouts, the visits already published and the slots municipalities
chose), and publishing a done week job's plan as the week's visits.

Plan jobs (``service.jobs``) plan a week from ``week_document`` and publish with
``publish_plan``; slot proposals (``service.slots``) read the same week.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from engine.format import parse_plan_request, plan_request_to_dict
from engine.model import FIELDS, Horizon, PlanRequest, fmt_time
from service.db import (
    BlackoutRow,
    ExpertRow,
    MunicipalityRow,
    PlanJob,
    RequestRow,
    SlotPick,
    VisitRow,
    utcnow,
)

__all__ = ["HOLDING", "event_additions", "pending_fixed", "publish_plan", "published_plan",
           "week_dates", "week_document"]

#: Statuses of a pick that holds its slot.
HOLDING = ("pending",)


def _parse_hhmm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def week_dates(monday: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Friday of the week starting ``monday`` (must be a Monday)."""
    if monday.weekday() != 0:
        raise InputError(Problem("week", f"must be a Monday, got {monday} ({monday:%A})",
                                 f"月曜日である必要があります（{monday}）"))
    return monday, monday + dt.timedelta(days=4)


def published_plan(session: Session, monday: dt.date) -> PlanJob | None:
    """The most recently published job of that week, if any."""
    return session.scalar(select(PlanJob).where(PlanJob.week == monday,
                                                PlanJob.published_at.is_not(None))
                          .order_by(PlanJob.published_at.desc(), PlanJob.created_at.desc())
                          .limit(1))


def week_document(session: Session, monday: dt.date, *, keep_published: str = "fixed",
                  blackouts: list[dict[str, Any]] | None = None,
                  start_grid_min: int | None = None,
                  ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The plan-request/1 document of a week from the database, and the published plan/1 of
    that week (``previous``) if there is one.

    Requests taken: submitted or scheduled ones whose dates meet the week (dates clipped to
    it), and done ones with a published visit that week (held: ``fixed`` where they were). With ``keep_published='fixed'`` each published visit whose request is still open is
    ``fixed``; with ``'prefer'`` it is only passed as ``previous`` (moves are minimised).
    A slot a municipality chose that awaits the centre (``service.slots``) is ``fixed`` too.
    ``blackouts`` (plan-request/1 form) are dates experts cannot work that week, besides the
    stored ones (``/v1/blackouts``) of the week, which every week job takes. A stored
    request the format would refuse (possible only for rows written before the check at
    creation existed) is left out and named in the document's ``skipped`` list.

    What the week's events added (``event_additions``, stored with each event's job) is
    part of the week from then on: their closures and blackouts (part-day ones too), the
    history up to the latest event's ``now``, and the visits they found under way, fixed
    with the length the event gave them even when published visits are only preferred.
    """
    start, end = week_dates(monday)
    locations = [m.location for m in session.scalars(
        select(MunicipalityRow).order_by(MunicipalityRow.code))]
    experts = []
    # the programme's order of fields (as the CLI's week lists them), then id
    expert_rows = sorted(session.scalars(select(ExpertRow)), key=lambda e: (
        FIELDS.index(e.doc["fields"][0]) if e.doc.get("fields") and e.doc["fields"][0] in FIELDS
        else len(FIELDS), e.id))
    for e in expert_rows:
        doc = dict(e.doc)
        if doc.get("days") is not None:
            doc["days"] = [d for d in doc["days"]
                           if start <= dt.date.fromisoformat(d) <= end]
        if doc.get("busy"):         # the standing appointments of this week only
            doc["busy"] = [b for b in doc["busy"]
                           if start <= dt.date.fromisoformat(b["date"]) <= end]
            if not doc["busy"]:
                del doc["busy"]
        experts.append(doc)
    pub = published_plan(session, monday)
    published: dict[str, dict[str, Any]] = {}
    if pub is not None:
        for v in session.scalars(select(VisitRow).where(VisitRow.week == monday,
                                                        VisitRow.active.is_(True))):
            published[v.request_id] = {"experts": list(v.experts), "date": v.date.isoformat(),
                                       "start": fmt_time(v.start)}
    fixed = dict(published) if keep_published == "fixed" else {}
    rules = _event_rules(session, monday)
    # what happened stays as it happened, even when published visits are only preferred:
    # a visit an event found under way keeps its place and the length the event gave it
    held: dict[str, dict[str, Any]] = {}
    for rid, x in rules["pinned"].items():
        if published.get(rid) == x["fixed"]:
            fixed[rid] = x["fixed"]
            held[rid] = x
    for rid, slot in pending_fixed(session, monday).items():   # chosen, awaiting the centre
        fixed.setdefault(rid, slot)
    requests = []
    # a visit already held (its request done) is what happened: every plan of the week keeps
    # it where it was, taking its experts' time, so a re-plan neither drops it from the
    # week's figures nor gives its hours to another visit
    rows = session.scalars(select(RequestRow).where(
        or_(RequestRow.status.in_(("submitted", "scheduled")),
            and_(RequestRow.status == "done", RequestRow.id.in_(list(published)))),
        RequestRow.earliest <= end, RequestRow.latest >= start).order_by(RequestRow.id))
    for q in rows:
        x = {"id": q.id, "location": q.municipality, **q.doc}
        x["earliest"] = max(q.earliest, start).isoformat()
        x["latest"] = min(q.latest, end).isoformat()
        if q.status == "done":
            x["fixed"] = published[q.id]
        elif q.id in fixed:
            x["fixed"] = fixed[q.id]
        if q.id in held:
            x["duration_min"] = held[q.id]["duration_min"]
            if "window" in held[q.id]:
                x["window"] = held[q.id]["window"]
        requests.append(x)
    requests, waiting = _link_series(session, requests, start)
    # the appointment grid asked for, else the one the week was published on (its published
    # starts are on it), else any minute
    grid = start_grid_min or (pub.request_doc.get("horizon", {}).get("start_grid_min", 1)
                              if pub is not None else 1)
    base = plan_request_to_dict(PlanRequest(Horizon(start, end, start_grid_min=grid), (), (), ()))
    stored = [{"date": b.date.isoformat(), "experts": list(b.experts), "reason": b.reason}
              for b in session.scalars(select(BlackoutRow).where(
                  BlackoutRow.date >= start, BlackoutRow.date <= end)
                  .order_by(BlackoutRow.date, BlackoutRow.id))]
    # the body's own first, so that problems keep their paths (blackouts[i] of the body)
    base["horizon"]["blackouts"] = list(blackouts or []) + stored + [
        b for b in rules["blackouts"] if b not in stored]
    if rules["closures"]:
        base["horizon"]["closures"] = rules["closures"]
    if rules["history_until"]:
        base["horizon"]["history_until"] = rules["history_until"]
    doc = {**base, "name": f"week of {start}", "locations": locations, "experts": experts,
           "requests": requests}
    if waiting:
        doc["description"] = "follow-ups waiting for their first session: " + ", ".join(waiting)
    try:
        parse_plan_request(doc)
    except InputError as err:
        bad = {int(p.path.split("]")[0].removeprefix("requests[")) for p in err.problems
               if p.path.startswith("requests[")}
        if not bad:
            raise
        doc["requests"] = [q for i, q in enumerate(requests) if i not in bad]
        doc["description"] = "skipped invalid stored requests: " + ", ".join(
            requests[i]["id"] for i in sorted(bad))
    previous = None
    if pub is not None and pub.plan is not None:
        ids = {q["id"] for q in requests}
        previous = dict(pub.plan)
        previous["visits"] = [v for v in previous["visits"] if v["request"] in ids]
        previous["unscheduled"] = [u for u in previous["unscheduled"] if u["request"] in ids]
    return doc, previous


def _link_series(session: Session, requests: list[dict[str, Any]], start: dt.date
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Follow-ups whose first session is not a request of the week: one published in an
    earlier week is given as ``after.visit`` (its date and experts); one whose first session
    is not yet made before the week waits (left out of the week, named in the second list)."""
    ids = {x["id"] for x in requests}
    out, waiting = [], []
    for x in requests:
        a = x.get("after")
        if not a or a["request"] in ids:
            out.append(x)
            continue
        v = session.scalars(select(VisitRow).where(
            VisitRow.request_id == a["request"], VisitRow.active.is_(True),
            VisitRow.date < start).order_by(VisitRow.date.desc())).first()
        if v is None:
            waiting.append(x["id"])
            continue
        out.append({**x, "after": {**a, "visit": {"date": v.date.isoformat(),
                                                  "experts": list(v.experts)}}})
    return out, waiting


def event_additions(before: dict[str, Any], after: dict[str, Any],
                    pinned: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """What an event added to the week, to be kept by every later plan of it: the rules in
    ``after`` (plan-request/1 of the week after the event) that ``before`` (the week it was
    applied to, same writer) did not have — blackouts, part-day ones included, and closures
    —, the history (``history_until``), and each ``pinned`` request's visit (its ``fixed``
    place, ``duration_min`` after an overrun or a no-show, and the ``window`` widened to
    hold it). Stored with the event's job (``options.adds``); ``week_document`` reads it."""
    bh, ah = before["horizon"], after["horizon"]
    by_id = {q["id"]: q for q in after["requests"]}
    return {
        "blackouts": [b for b in ah.get("blackouts", []) if b not in bh.get("blackouts", [])],
        "closures": [c for c in ah.get("closures", []) if c not in bh.get("closures", [])],
        "history_until": ah.get("history_until"),
        "pinned": {rid: {k: by_id[rid][k] for k in ("fixed", "duration_min", "window")
                         if k in by_id[rid]}
                   for rid in pinned if rid in by_id and "fixed" in by_id[rid]},
    }


def _event_rules(session: Session, monday: dt.date) -> dict[str, Any]:
    """Everything the events of the week added (``event_additions``), in the order they
    happened: the rules together, the latest history, each request's latest pinned visit."""
    out: dict[str, Any] = {"blackouts": [], "closures": [], "history_until": None,
                           "pinned": {}}
    for options in session.scalars(select(PlanJob.options).where(
            PlanJob.week == monday, PlanJob.status == "done")
            .order_by(PlanJob.created_at, PlanJob.id)):
        adds = (options or {}).get("adds")
        if not isinstance(adds, dict):
            continue
        for key in ("blackouts", "closures"):
            out[key] += [x for x in adds.get(key, []) if x not in out[key]]
        if adds.get("history_until") and (out["history_until"] is None
                                          or adds["history_until"] > out["history_until"]):
            out["history_until"] = adds["history_until"]
        out["pinned"].update(adds.get("pinned", {}))
    return out


def pending_fixed(session: Session, monday: dt.date) -> dict[str, dict[str, Any]]:
    """The pending picks of a week as plan-request/1 ``fixed`` entries, by request id: the
    slots municipalities chose that the centre has not decided yet."""
    return {p.request_id: {"experts": list(p.experts), "date": p.date.isoformat(),
                           "start": fmt_time(p.start)}
            for p in session.scalars(select(SlotPick).join(
                RequestRow, RequestRow.id == SlotPick.request_id).where(
                SlotPick.week == monday, SlotPick.status.in_(HOLDING),
                RequestRow.status.in_(("draft", "submitted"))).order_by(SlotPick.id))}


def publish_plan(session: Session, job: PlanJob) -> dict[str, int]:
    """Make a done week job's visits the week's published visits.

    A visit identical to the published one (same request, experts, date, start) keeps its
    row and outcome; others replace it; a held visit (its request done) is never moved or
    withdrawn. Planned requests become ``scheduled``; requests
    scheduled before but left out now go back to ``submitted``. Visits of requests the job did
    not plan (done or cancelled since) are left as they are. Returns counts.
    """
    assert job.week is not None and job.plan is not None
    planned_ids = {q["id"] for q in job.request_doc.get("requests", [])}
    current = {v.request_id: v for v in session.scalars(
        select(VisitRow).where(VisitRow.week == job.week, VisitRow.active.is_(True)))
        if v.request_id in planned_ids}
    planned = {v["request"]: v for v in job.plan["visits"]}
    kept = added = dropped = 0
    for rid, v in planned.items():
        q = session.get(RequestRow, rid)
        if q is None:
            continue
        if q.status == "done" and rid in current:   # held: stays as it happened
            current.pop(rid)
            kept += 1
            continue
        date = dt.date.fromisoformat(v["date"])
        start, end = _parse_hhmm(v["start"]), _parse_hhmm(v["end"])
        old = current.pop(rid, None)
        if (old is not None and old.date == date and old.start == start
                and list(old.experts) == list(v["experts"])):
            old.job_id = job.id
            kept += 1
        else:
            if old is not None:
                old.active = False
            session.add(VisitRow(job_id=job.id, week=job.week, request_id=rid,
                                 municipality=q.municipality, experts=list(v["experts"]),
                                 mode=v["mode"], date=date, start=start, end=end, active=True))
            added += 1
        if q.status == "submitted":
            q.status = "scheduled"
            q.updated_at = utcnow()
    for rid, old in current.items():
        q = session.get(RequestRow, rid)
        if q is not None and q.status == "done":
            continue
        old.active = False
        dropped += 1
        if q is not None and q.status == "scheduled":
            q.status = "submitted"
            q.updated_at = utcnow()
    # strictly after the week's last publication: times are whole seconds, and two events a
    # second apart must not tie, or the next one could repair the older plan
    at = utcnow()
    last = session.scalar(select(func.max(PlanJob.published_at)).where(
        PlanJob.week == job.week, PlanJob.id != job.id))
    if last is not None:
        last = last if last.tzinfo is not None else last.replace(tzinfo=dt.UTC)
        at = max(at, last + dt.timedelta(seconds=1))
    job.published_at = at
    session.flush()
    return {"kept": kept, "added": added, "withdrawn": dropped}
