"""The checker's rules on what was asked: every request accounted for once, each visit where,
how and as long as its request asked, by experts who cover its fields."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from engine.checker.context import Context, Violation, fields, span, violation
from engine.words import counted

__all__ = ["every_request_accounted_once", "experts_cover_fields", "unscheduled_have_reasons", "visit_known_ids", "visit_matches_request"]

#: A mode as the messages write it (English, Japanese).
_MODES = {"onsite": ("on site", "現地"), "online": ("online", "オンライン")}


def every_request_accounted_once(c: Context) -> Iterable[Violation]:
    """Every request of the week appears exactly once: as a visit or as unscheduled, never
    both, never twice, never missing; and the plan mentions no request that was not asked."""
    seen: dict[str, int] = defaultdict(int)
    for v in c.plan.visits:
        seen[v.request] += 1
    for u in c.plan.unscheduled:
        seen[u.request] += 1
    for q in c.p.requests:
        en, ja = c.req(q.id, "en"), c.req(q.id, "ja")
        if seen[q.id] == 0:
            yield violation(c, "accounted_once", f"{en} is neither planned nor left out with a "
                            "reason", f"{ja} が計画にも計画外の一覧にもありません", q.id)
        elif seen[q.id] > 1:
            yield violation(c, "accounted_once", f"{en} appears {seen[q.id]} times among the "
                            "visits and the requests left out", f"{ja} が訪問と計画外の一覧に"
                            f"合わせて {seen[q.id]} 回あります", q.id)
    for rid in seen:
        if rid not in c.p.request_by_id:
            yield violation(c, "accounted_once", f"the plan names request {rid!r}, which the week "
                            "does not have", f"計画にある依頼 {rid!r} は週にありません", rid)


def unscheduled_have_reasons(c: Context) -> Iterable[Violation]:
    """Every request left out carries at least one reason a coordinator can read."""
    for u in c.plan.unscheduled:
        if not any(isinstance(r, str) and r.strip() for r in u.reasons):
            yield violation(c, "unscheduled_reason", f"{c.req(u.request, 'en')} is left out "
                            "without a reason", f"{c.req(u.request, 'ja')} が理由なしで計画外に"
                            "なっています", u.request)


def visit_known_ids(c: Context) -> Iterable[Violation]:
    """A visit is made by experts of the programme at a place of the problem (known ids); a
    visit naming an unknown one is not examined further."""
    for v in c.plan.visits:
        what = c.req(v.request, "en"), c.req(v.request, "ja")
        if v.location not in c.p.location_by_id:
            yield violation(c, "unknown_location", f"{what[0]} is planned at "
                            f"{c.place(v.location, 'en')}, which is not a place of the week",
                            f"{what[1]} の訪問先{c.place(v.location, 'ja')}は週の場所にありません",
                            v.request, date=v.date)
        for eid in v.experts:
            if eid not in c.p.expert_by_id:
                yield violation(c, "unknown_expert", f"{what[0]} is planned with {eid!r}, who is "
                                "not an expert of the week", f"{what[1]} の担当 {eid!r} は週の"
                                "専門家にいません", v.request, eid, v.date)


def visit_matches_request(c: Context) -> Iterable[Violation]:
    """A visit happens where and how the municipality asked: same location, same mode
    (on-site or online), and lasts exactly the requested minutes (end − start = duration)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        en, ja = c.req(v.request, "en"), c.req(v.request, "ja")
        if v.location != q.location:
            yield violation(c, "visit_matches_request", f"{en} is planned at "
                            f"{c.place(v.location, 'en')}", f"{ja} が"
                            f"{c.place(v.location, 'ja')}で計画されています", v.request,
                            date=v.date)
        if v.mode != q.mode:
            asks, got = (_MODES.get(m, (m, m)) for m in (q.mode, v.mode))
            yield violation(c, "visit_matches_request", f"{en} asks for a visit {asks[0]} but is "
                            f"planned {got[0]}", f"{ja} は{asks[1]}の依頼ですが{got[1]}で計画"
                            "されています", v.request, date=v.date)
        if v.end - v.start != q.duration_min:
            yield violation(c, "duration", f"{en} {span(v)} lasts {v.end - v.start} min, the "
                            f"request asks {q.duration_min} min", f"{ja} {span(v)} は "
                            f"{v.end - v.start} 分ですが、依頼は {q.duration_min} 分です",
                            v.request, date=v.date)


def experts_cover_fields(c: Context) -> Iterable[Violation]:
    """One expert per requested field: as many distinct experts as fields, and the experts can
    be paired with the fields so that each has the field they cover (a joint visit of 'pr' and
    'data' needs a PR expert and a data expert, not two PR experts)."""
    for v in c.visits:
        q = c.p.request_by_id[v.request]
        en, ja = c.req(v.request, "en"), c.req(v.request, "ja")
        asked = fields(q.fields, "en"), fields(q.fields, "ja")
        if len(set(v.experts)) != len(v.experts):
            yield violation(c, "fields", f"{en} names an expert twice: {c.whom(v.experts, 'en')}",
                            f"{ja} に同じ専門家が 2 回あります: {c.whom(v.experts, 'ja')}",
                            v.request, date=v.date)
            continue
        if len(v.experts) != len(q.fields):
            yield violation(c, "fields", f"{en}: {counted(len(v.experts), 'expert')} for "
                            f"{counted(len(q.fields), 'field')} {asked[0]}", f"{ja}: 分野 "
                            f"{asked[1]}（{len(q.fields)} 分野）に専門家が {len(v.experts)} 人です",
                            v.request, date=v.date)
            continue
        for eid in v.experts:
            if not set(c.p.expert_by_id[eid].fields) & set(q.fields):
                yield violation(c, "expert_field", f"{en}: the expert has none of the fields "
                                f"{asked[0]}", f"{ja}: この専門家は分野 {asked[1]} のどれも"
                                "担当していません", v.request, eid, v.date)
        if not _perfect_matching(list(q.fields),
                                 [set(c.p.expert_by_id[e].fields) for e in v.experts]):
            yield violation(c, "fields", f"{en}: {c.whom(v.experts, 'en')} cannot cover the "
                            f"fields {asked[0]} one each", f"{ja}: {c.whom(v.experts, 'ja')} "
                            f"では分野 {asked[1]} を 1 人 1 分野で担当できません", v.request,
                            date=v.date)


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
