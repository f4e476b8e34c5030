"""The checker's rules on what is already settled: the week's past (``horizon.history_until``)
and its published (fixed) visits."""

from __future__ import annotations

from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import fmt_time

__all__ = ["fixed_visits_kept", "nothing_new_in_history"]


def nothing_new_in_history(c: Context) -> Iterable[Violation]:
    """Before ``horizon.history_until`` the week has happened: only fixed visits stand there;
    an unfixed visit that day starts after it, reached by a drive that leaves no earlier."""
    past = c.p.horizon.history_until
    if past is None:
        return
    now = past.hour * 60 + past.minute
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if q.fixed is not None or v.date > past.date():
            continue
        if v.date < past.date() or v.start < now:
            yield violation("history", f"a new visit {span(v)} on {v.date}, before now "
                     f"({past:%Y-%m-%d %H:%M})", v.request, date=v.date)
            continue
        if v.mode != "onsite":
            continue
        for eid in v.experts:
            before = [w for w in c.onsite(eid, v.date) if w.start < v.start]
            here = before[-1].location if before else c.p.expert_by_id[eid].base
            need = c.t.minutes(here, v.location)
            if v.start < now + need:
                yield violation("history", f"{span(v)} cannot be reached from {here} by a "
                         f"{need}-min drive leaving after now ({fmt_time(now)})", v.request,
                         eid, v.date)


def fixed_visits_kept(c: Context) -> Iterable[Violation]:
    """A published (fixed) visit is kept exactly: same experts, same date, same start. Only a
    plan that says the fixed visits cannot all be kept (status infeasible) may release some,
    and it names each one it released (``solver.released_fixed``): a released visit is either
    unscheduled with the code ``fixed_conflict`` or planned at another time."""
    infeasible = c.plan.status == "infeasible"
    raw = c.plan.solver.get("released_fixed", ()) if infeasible else ()
    released = set(raw) if isinstance(raw, (list, tuple)) else set()
    codes = {u.request: u.codes for u in c.plan.unscheduled}
    by_req = {v.request: v for v in c.plan.visits}
    for q in c.p.requests:
        if q.fixed is None:
            continue
        f = q.fixed
        v = by_req.get(q.id)
        if q.id in released:
            if v is None and "fixed_conflict" not in codes.get(q.id, ()):
                yield violation("fixed", "released published visit left out without the code "
                         "fixed_conflict", q.id, date=f.date)
            continue
        if v is None:
            if infeasible and not released:
                continue            # nothing planned: every request unscheduled
            yield violation("fixed", f"the published visit ({f.date} {fmt_time(f.start)}) was dropped",
                     q.id, date=f.date)
        elif v.date != f.date or v.start != f.start or set(v.experts) != set(f.experts):
            yield violation("fixed", f"published as {list(f.experts)} {f.date} {fmt_time(f.start)}, "
                     f"planned as {list(v.experts)} {v.date} {fmt_time(v.start)}", q.id,
                     date=v.date)
