"""Why a request was not scheduled, in words a coordinator understands (English and Japanese).

Two kinds of answer:

- *nothing could serve it*: found before solving, from the request alone (no expert with the
  field, no workable day in its dates, no day where the drive and the consultation fit the
  hours, the round trip exceeds the drive cap, a cap of zero). The same analysis yields the
  ``Option`` windows the model is built on, so the two cannot disagree.
- *it gave way*: it could be served on its own, but in the plan every option is taken: a cap
  is full (which one, with what), or the expert's day is taken by which visits (with their
  priorities).

One module per kind of answer: ``windows`` (the options, before solving), ``unservable``
(nothing could serve it), ``gave_way`` (it gave way in the plan), ``fixed`` (published visits
not kept), ``coverage`` (places below their floor); ``words`` writes names and dates as a
person reads them. ``Explainer`` holds a problem's analysis and answers for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from engine.model import LocationCoverage, PlanRequest, Request, Route, Unscheduled, Visit
from engine.travel import TravelTimes
from solvers.explain.coverage import explain_coverage
from solvers.explain.fixed import (
    infeasible_fixed,
    released_fixed,
    released_messages,
    unreleased_messages,
)
from solvers.explain.gave_way import PlanState, left_out
from solvers.explain.series import series_reason
from solvers.explain.windows import Option, analyse
from solvers.explain.words import Names, bare_reason, not_analysed

__all__ = ["Explainer", "Option", "bare_reason", "not_analysed"]


class Explainer:
    """Pre-analysis of every request (its feasible options) and the reasons of those left out."""

    def __init__(self, problem: PlanRequest, travel: TravelTimes, *, lazy: bool = False):
        """Every request analysed at once; with ``lazy``, none until ``explain_unscheduled``
        needs it (an explainer made only for reasons, on the clock, then analyses no more
        requests than time allows)."""
        self.p = problem
        self.travel = travel
        self.options: dict[str, list[Option]] = {}
        self.static: dict[str, Unscheduled] = {}
        self.names = Names(problem)
        if not lazy:
            for q in problem.requests:
                self._ensure(q)

    def _ensure(self, q: Request) -> None:
        """Analyse ``q`` (its feasible options; the reason when it has none) if not yet."""
        if q.id not in self.options:
            opts, why = analyse(self.p, self.travel, self.names, q)
            self.options[q.id] = opts
            if not opts:
                self.static[q.id] = why

    def bare_unscheduled(self, served: set[str], *,
                         released: Mapping[str, tuple[str, ...] | None] | None = None
                         ) -> list[Unscheduled]:
        out = []
        for q in self.p.requests:
            if q.id in served:
                continue
            if released is not None and q.id in released:
                out.append(self.released_fixed(q.id, released[q.id]))
                continue
            out.append(self.static.get(q.id) or bare_reason(
                q.id, "gave way to other visits", "他の訪問を優先しました", "gave_way"))
        return out

    def released_fixed(self, rid: str, partners: tuple[str, ...] | None) -> Unscheduled:
        """A published visit the plan had to release: what it clashes with."""
        return released_fixed(self.p, self.names, self.static, self.options, rid, partners)

    def explain_unscheduled(self, served: set[str], visits: Iterable[Visit],
                            routes: Iterable[Route], *,
                            released: Mapping[str, tuple[str, ...] | None] | None = None,
                            until: float | None = None) -> list[Unscheduled]:
        """Why each request not in ``served`` is left out, in the problem's order. With
        ``until`` (a ``time.perf_counter()`` reading) the requests are analysed highest
        priority first until then, and any left say that their reason was not analysed
        (``not_analysed``); released published visits and requests nothing can serve always
        get their reason, which costs nothing more."""
        plan = PlanState.of(visits, routes)
        out: dict[str, Unscheduled] = {}
        order = [q for q in self.p.requests if q.id not in served]
        if until is not None:
            order.sort(key=lambda q: -q.priority)       # stable: the problem's order among equals
        for q in order:
            if released is not None and q.id in released:
                out[q.id] = self.released_fixed(q.id, released[q.id])
                continue
            if q.id in self.static:
                out[q.id] = self.static[q.id]
                continue
            if until is not None and time.perf_counter() > until:
                out[q.id] = not_analysed(q.id)
                continue
            self._ensure(q)
            if q.id in self.static:
                out[q.id] = self.static[q.id]
                continue
            out[q.id] = series_reason(self.p, self.names, q, plan.by_req, (
                (o.date, o.expert) for o in self.options[q.id])) or left_out(
                self.p, self.travel, self.names, self.options[q.id], q, plan)
        return [out[q.id] for q in self.p.requests if q.id in out]

    def explain_coverage(self, visits: Iterable[Visit],
                         unscheduled: Iterable[Unscheduled]) -> list[LocationCoverage]:
        """Each location with a coverage floor, and why one left below it is (``coverage``)."""
        return explain_coverage(self.p, self.names, self.static, visits, unscheduled)

    def infeasible_fixed(self, conflicting: list[str]) -> list[Unscheduled]:
        """Every request unscheduled: the conflicting fixed visits with what is wrong with
        each, the rest because no plan keeps all fixed visits."""
        return infeasible_fixed(self.p, self.names, self.static, self.options, conflicting)

    def released_messages(self, clashes: Mapping[str, tuple[str, ...] | None],
                          planned: Mapping[str, Visit]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plan's message (English, Japanese) on the published visits it released: each
        named by place, date, time, subject and experts, what it clashes with, where it went."""
        return released_messages(self.p, self.names, clashes, planned)

    def unreleased_messages(self, fixed: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The plan's message (English, Japanese) when no plan releasing some of the ``fixed``
        visits was found in time, each named as in the reasons."""
        return unreleased_messages(self.p, self.names, fixed)
