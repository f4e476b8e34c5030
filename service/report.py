"""What the command line prints besides the week: the changes against the previous plan.

Grouped by municipality, because the centre calls each town hall once about all of its
visits; names, not ids, except the request id a coordinator looks up in the sheet.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from engine.kpis import day_ends
from engine.model import FIELD_LABELS, Change, Plan, PlanRequest, Visit, fmt_time
from engine.words import month_day
from service.glossary import figure_text, kpi_name, status_word
from service.i18n import _, current_lang, ngettext

__all__ = ["LONG_WEEK", "changes_text", "expert_names", "place_name", "week_summary",
           "week_text"]

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
    """A day as the week's lines and the changes write it: ``12/7（月）``, ``Mon 12/7``."""
    if current_lang() == "ja":
        return f"{month_day(d)}（{_WD_JA[d.weekday()]}）"
    return f"{d:%a} {month_day(d)}"


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
    title = f"「{q.title}」 " if q is not None and q.title else ""
    return f"    {title}{body}  " + _("(request {id})").format(id=c.request)


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


def _fields(fields: tuple[str, ...]) -> str:
    ja = current_lang() == "ja"
    return " + ".join(FIELD_LABELS[f][1 if ja else 0] if f in FIELD_LABELS else f
                      for f in fields)


def _day_notes(problem: PlanRequest, plan: Plan, expert_id: str, d: dt.date) -> str:
    """What an expert's day has besides its drives: where it starts after a night away, the
    lunch break, the overtime, the night away it ends with."""
    e = problem.expert_by_id[expert_id]
    r = next((x for x in plan.routes if x.expert == expert_id and x.date == d), None)
    notes = []
    if r is not None and r.start_at and r.start_at != e.base:
        notes.append(_("starts at {place}").format(place=place_name(problem, r.start_at)))
    b = next((x for x in plan.breaks if x.expert == expert_id and x.date == d), None)
    if b is not None:
        notes.append(_("lunch break {start}–{end}").format(start=fmt_time(b.start),
                                                            end=fmt_time(b.end)))
    if e.overtime is not None:
        late = day_ends(plan.visits, plan.routes).get((expert_id, d), 0) - e.work_end
        if late > 0:
            notes.append(_("overtime {minutes} min").format(minutes=late))
    if r is not None and r.end_at and r.end_at != e.base:
        notes.append(_("night in {place}").format(place=place_name(problem, r.end_at)))
    return "".join("  " + n for n in notes)


def _visit_line(problem: PlanRequest, plan: Plan, expert_id: str, v: Visit) -> str:
    """One consultation of an expert's day: time, place, mode, fields, subject, priority, who
    else comes, the due date when it is late, the consultation it follows, the request id."""
    q = problem.request_by_id[v.request]
    mode = _("on-site") if v.mode == "onsite" else _("online")
    others = [x for x in v.experts if x != expert_id]
    joint = ("  " + _("with {names}").format(names=expert_names(problem, others))
             if others else "")
    title = f"  「{q.title}」" if q.title else ""
    late = q.days_late(v.date)
    due = ("  " + _("due {date}, days late: {days}").format(date=month_day(q.due), days=late)
           if q.due is not None and late else "")
    follows = ""
    if q.after is not None:
        first = problem.request_by_id.get(q.after.request)
        what = (place_name(problem, first.location) + (f"「{first.title}」" if first.title else "")
                if first is not None else q.after.request)
        follows = "  " + _("follow-up of {what}").format(what=what)
    return (f"    {fmt_time(v.start)}–{fmt_time(v.end)}  "
            f"{place_name(problem, v.location)}  [{mode}] {_fields(q.fields)}"
            + title + "  " + _("priority {p}").format(p=q.priority) + joint + due + follows
            + "  " + _("(request {id})").format(id=v.request))


def week_text(problem: PlanRequest, plan: Plan) -> str:
    """The plan as the terminal shows it, in the current language: the status line, then per
    expert (by name) and date the visits with times, places, fields and priority (and the
    day's lunch break, standing appointments, overtime and night away, a visit's days late
    and the consultation a follow-up follows), then the
    requests left out with their reasons, then the key figures. Request ids come last on a
    line, in brackets: they are what the centre's sheet uses, not what a reader reads."""
    ja = current_lang() == "ja"
    reqs = problem.request_by_id
    lines = [_("status: {status}  plan score: {score}  ceiling: {ceiling}  computing time: "
               "{seconds:.1f} s").format(status=status_word(plan.status),
                                         score=figure_text("objective", plan.objective),
                                         ceiling=figure_text("bound", plan.bound) or "—",
                                         seconds=plan.solve_seconds)]
    lines += ["! " + m for m in (plan.messages_ja if ja and plan.messages_ja else plan.messages)]
    per: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    for v in plan.visits:
        for e in v.experts:
            per[e, v.date].append(v)
    routes = {(r.expert, r.date): r for r in plan.routes}
    for expert in problem.experts:
        days = sorted(d for (eid, d) in per if eid == expert.id)
        if not days:
            continue
        lines += ["", f"■ {expert.name or expert.id}"]
        for d in days:
            r = routes.get((expert.id, d))
            extra = "" if r is None else "  " + _(
                "leave {leave} return {ret} drive {minutes} min").format(
                    leave=fmt_time(r.leave), ret=fmt_time(r.return_), minutes=r.drive_minutes)
            lines.append(f"  {_day(d)}{extra}{_day_notes(problem, plan, expert.id, d)}")
            entries = [(v.start, _visit_line(problem, plan, expert.id, v))
                       for v in per[expert.id, d]]
            entries += [(b.start, f"    {fmt_time(b.start)}–{fmt_time(b.end)}  "
                         + _("appointment") + (f"  {place_name(problem, b.at)}" if b.at else ""))
                        for b in expert.busy if b.date == d]
            lines += [text for _start, text in sorted(entries, key=lambda x: x[0])]
    if plan.unscheduled:
        lines += ["", "■ " + _("requests left out")]
        for u in plan.unscheduled:
            uq = reqs.get(u.request)
            head = "  "
            if uq is not None:
                head += place_name(problem, uq.location)
                head += f"  「{uq.title}」" if uq.title else ""
                head += "  " + _("priority {p}").format(p=uq.priority) + "  "
            lines.append(head + _("(request {id})").format(id=u.request))
            lines += [f"    - {reason}"
                      for reason in (u.reasons_ja if ja and u.reasons_ja else u.reasons)]
    lines += ["", "■ " + _("KPIs")]
    lines += [f"  {kpi_name(k)}: {figure_text(k, val)}" for k, val in plan.kpis.items()]
    return "\n".join(lines) + "\n"


#: Over this many visits the terminal gets a summary, not the whole plan (the files have it).
LONG_WEEK = 150


def week_summary(problem: PlanRequest, plan: Plan, path: object) -> str:
    """A plan too long to read on a terminal: the status line, the key figures, and where the
    whole plan is."""
    full = week_text(problem, plan)
    head = full.splitlines()[0]
    kpis = full[full.rindex("■ "):]
    experts = len({e for v in plan.visits for e in v.experts})
    days = len({v.date for v in plan.visits})
    left = len(plan.unscheduled)
    note = _("{visits} of {experts} on {days}, {left}: too long for the screen. The whole "
             "plan is in {path} (--xlsx or --csv to hand it out, --full to print it "
             "here).").format(
        visits=ngettext("{n:,} visit or consultation", "{n:,} visits and consultations",
                        len(plan.visits)).format(n=len(plan.visits)),
        experts=ngettext("{n:,} expert", "{n:,} experts", experts).format(n=experts),
        days=ngettext("{n} day", "{n} days", days).format(n=days),
        left=ngettext("{n:,} request left out", "{n:,} requests left out", left).format(n=left),
        path=path)
    return f"{head}\n\n{note}\n\n{kpis}"
