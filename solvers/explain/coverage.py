"""Why a place is below its coverage floor (``goals.coverage``): no request of the counted
modes came from it, its requests cannot be served at all, or they gave way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.kpis import coverage_of
from engine.model import LocationCoverage, PlanRequest, Unscheduled, Visit
from solvers.explain.words import Names

__all__ = ["explain_coverage"]


def explain_coverage(p: PlanRequest, names: Names, static: Mapping[str, Unscheduled],
                     visits: Iterable[Visit], unscheduled: Iterable[Unscheduled]
                     ) -> list[LocationCoverage]:
    """Each location with a coverage floor, and why one left below it is: no request of
    the counted modes came from it, or its requests could not be served at all, or they
    gave way (with their own first reason)."""
    c = p.goals.coverage
    if c is None:
        return []
    why = {u.request: u for u in unscheduled}
    out = []
    for line in coverage_of(p, visits):
        if not line.shortfall:
            out.append(line)
            continue
        place_en, place_ja = names.loc(line.location), names.loc(line.location, "ja")
        asked = [q for q in p.requests if q.location == line.location
                 and q.mode in c.modes]
        left = [why[q.id] for q in asked if q.id in why]
        head_en = (f"{place_en} has {line.visits} of its {line.min_visits} consultation(s) "
                   f"(short by {line.shortfall})")
        head_ja = (f"{place_ja} は目標 {line.min_visits} 件に対して {line.visits} 件です"
                   f"（{line.shortfall} 件不足）")
        if len(asked) <= line.visits:
            en = (f"{head_en}: no {'further ' if line.visits else ''}request came from it in "
                  "this period")
            ja = f"{head_ja}: この期間に{'これ以上の' if line.visits else ''}依頼がありません"
            code = "coverage_no_requests"
        elif all(u.request in static for u in left):
            en = f"{head_en}: its requests cannot be served — " + "; ".join(
                u.reasons[0] for u in left[:3])
            ja = f"{head_ja}: 依頼に対応できません — " + "、".join(
                (u.reasons_ja or u.reasons)[0] for u in left[:3])
            code = "coverage_unservable"
        else:
            en = f"{head_en}: its requests gave way — " + "; ".join(
                u.reasons[0] for u in left[:3])
            ja = f"{head_ja}: 依頼は他の訪問を優先しました — " + "、".join(
                (u.reasons_ja or u.reasons)[0] for u in left[:3])
            code = "coverage_gave_way"
        out.append(LocationCoverage(line.location, line.visits, line.min_visits,
                                    line.shortfall, (en,), (ja,), (code,)))
    return out
