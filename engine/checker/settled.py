"""The checker's rules on what is already settled: the week's past (``horizon.history_until``)
and its published (fixed) visits."""

from __future__ import annotations

from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.model import fmt_time
from engine.words import month_day

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
            now_at = f"{month_day(past.date())} {past:%H:%M}"
            yield violation(c, "history", f"{c.req(v.request, 'en')} is newly planned at "
                            f"{span(v)}, before now ({now_at})", f"{c.req(v.request, 'ja')} が"
                            f"現在（{now_at}）より前の {span(v)} に新しく計画されています",
                            v.request, date=v.date)
            continue
        if v.mode != "onsite":
            continue
        for eid in v.experts:
            before = [w for w in c.onsite(eid, v.date) if w.start < v.start]
            here = before[-1].location if before else c.p.expert_by_id[eid].base
            need = c.t.minutes(here, v.location)
            if v.start < now + need:
                yield violation(c, "history", f"{c.req(v.request, 'en')} {span(v)} cannot be "
                                f"reached from {c.place(here, 'en')} by a {need}-min drive "
                                f"leaving after now ({fmt_time(now)})", f"現在（{fmt_time(now)}）"
                                f"以降に{c.place(here, 'ja')}を出ると、移動 {need} 分で "
                                f"{c.req(v.request, 'ja')} {span(v)} に間に合いません",
                                v.request, eid, v.date)


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
                yield violation(c, "fixed", f"the published visit {c.req(q.id, 'en')} was "
                                "released and left out without the code fixed_conflict",
                                f"公開済みの訪問 {c.req(q.id, 'ja')} が、コード fixed_conflict "
                                "なしで計画から外されています", q.id, date=f.date)
            continue
        was = (f"{c.whom(f.experts, 'en')} {fmt_time(f.start)}",
               f"{c.whom(f.experts, 'ja')} {fmt_time(f.start)}")
        if v is None:
            if infeasible and not released:
                continue            # nothing planned: every request unscheduled
            yield violation(c, "fixed", f"the published visit {c.req(q.id, 'en')} ({was[0]}) "
                            "was dropped", f"公開済みの訪問 {c.req(q.id, 'ja')}（{was[1]}）が"
                            "計画から外されています", q.id, date=f.date)
        elif v.date != f.date or v.start != f.start or set(v.experts) != set(f.experts):
            now = (f"{c.whom(v.experts, 'en')} {month_day(v.date)} {fmt_time(v.start)}",
                   f"{c.whom(v.experts, 'ja')} {month_day(v.date)} {fmt_time(v.start)}")
            published = month_day(f.date)
            yield violation(c, "fixed", f"{c.req(q.id, 'en')} was published as {was[0]} on "
                            f"{published} but is planned as {now[0]}", f"{c.req(q.id, 'ja')} は"
                            f"{published} {was[1]} として公開済みですが、{now[1]} で計画されて"
                            "います", q.id, date=v.date)
