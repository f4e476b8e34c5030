"""The checker's rules on what was asked: every request accounted for once, each visit where,
how and as long as its request asked, by experts who cover its fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, span, violation
from engine.words import counted

__all__ = ["every_request_accounted_once", "experts_cover_fields", "unscheduled_have_reasons", "visit_known_ids", "visit_matches_request"]


def every_request_accounted_once(c: Context) -> Iterable[Violation]:
    """Every request of the week appears exactly once: as a visit or as unscheduled, never
    both, never twice, never missing; and the plan mentions no request that was not asked."""
    seen: dict[str, int] = defaultdict(int)
    for v in c.plan.visits:
        seen[v.request] += 1
    for u in c.plan.unscheduled:
        seen[u.request] += 1
    for q in c.p.requests:
        if seen[q.id] == 0:
            yield violation("accounted_once", "neither scheduled nor reported unscheduled", q.id)
        elif seen[q.id] > 1:
            yield violation("accounted_once", f"appears {seen[q.id]} times in visits and unscheduled",
                     q.id)
    for rid in seen:
        if rid not in c.p.request_by_id:
            yield violation("accounted_once", "the plan names a request that is not in the problem", rid)


def unscheduled_have_reasons(c: Context) -> Iterable[Violation]:
    """Every request left out carries at least one reason a coordinator can read."""
    for u in c.plan.unscheduled:
        if not any(isinstance(r, str) and r.strip() for r in u.reasons):
            yield violation("unscheduled_reason", "left out without a reason", u.request)


def visit_known_ids(c: Context) -> Iterable[Violation]:
    """A visit is made by experts of the programme at a place of the problem (known ids); a
    visit naming an unknown one is not examined further."""
    for v in c.plan.visits:
        if v.location not in c.p.location_by_id:
            yield violation("unknown_location", f"unknown location {v.location!r}", v.request,
                     date=v.date)
        for eid in v.experts:
            if eid not in c.p.expert_by_id:
                yield violation("unknown_expert", f"unknown expert {eid!r}", v.request, eid, v.date)


def visit_matches_request(c: Context) -> Iterable[Violation]:
    """A visit happens where and how the municipality asked: same location, same mode
    (on-site or online), and lasts exactly the requested minutes (end − start = duration)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if v.location != q.location:
            yield violation("visit_matches_request", f"location {v.location!r} but the request is for "
                     f"{q.location!r}", v.request, date=v.date)
        if v.mode != q.mode:
            yield violation("visit_matches_request", f"mode {v.mode!r} but the request asks {q.mode!r}",
                     v.request, date=v.date)
        if v.end - v.start != q.duration_min:
            yield violation("duration", f"{span(v)} lasts {v.end - v.start} min, the request asks "
                     f"{q.duration_min} min", v.request, date=v.date)


def experts_cover_fields(c: Context) -> Iterable[Violation]:
    """One expert per requested field: as many distinct experts as fields, and the experts can
    be paired with the fields so that each has the field they cover (a joint visit of 'pr' and
    'data' needs a PR expert and a data expert, not two PR experts)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        if len(set(v.experts)) != len(v.experts):
            yield violation("fields", f"names an expert twice: {list(v.experts)}", v.request,
                     date=v.date)
            continue
        if len(v.experts) != len(q.fields):
            yield violation("fields", f"{counted(len(v.experts), 'expert')} for {counted(len(q.fields), 'field')} "
                     f"{list(q.fields)}", v.request, date=v.date)
            continue
        for eid in v.experts:
            if not set(c.p.expert_by_id[eid].fields) & set(q.fields):
                yield violation("expert_field", f"{eid} has none of the fields {list(q.fields)}",
                         v.request, eid, v.date)
        if not _perfect_matching(list(q.fields),
                                 [set(c.p.expert_by_id[e].fields) for e in v.experts]):
            yield violation("fields", f"experts {list(v.experts)} cannot cover fields "
                     f"{list(q.fields)} one each", v.request, date=v.date)


def _perfect_matching(fields: list[str], has: list[set[str]]) -> bool:
    """Can each field get its own expert who has it? (tiny bipartite matching)"""
    match: dict[int, int] = {}

    def augment(k: int, seen: set[int]) -> bool:
        for i, fs in enumerate(has):
            if fields[k] in fs and i not in seen:
                seen.add(i)
                if i not in match or augment(match[i], seen):
                    match[i] = k
                    return True
        return False

    return all(augment(k, set()) for k in range(len(fields)))
