"""Slot proposals: the best ways to fit one new request into an existing plan, in milliseconds.

Between weekly plans a municipality phones the centre with a new request. ``propose_slots``
answers on the call: the k best (experts, date, start, mode) placements of that one request
into the current plan, each with what it costs the rest of the week (objective change, added
driving) and what would move, and each with the whole plan as it would be (checked valid by
``engine.checker``).

The neighbourhood searched, exactly: the new visit joins one expert-day per field (its
experts, its date); the visits of those days, and of the days joined to them by joint visits,
may be re-ordered and re-timed; every other visit keeps its experts, date and start, published
(fixed) visits never move, and nothing is dropped unless ``allow_drop`` says so (then only
unpublished visits of those days, each loss priced at its priority). For each candidate
(date, experts) a small CP-SAT model of those days (one circuit per expert-day with its legs'
travel minutes, its drives as blocks that no online consultation may overlap, the caps)
finds the best placement, proven optimal: the best objective first, then the fewest visits
moved, then a start on the quarter hour, then the earliest.

The k best are chosen for a coordinator, not for a machine: distinct dates first, then other
experts on the same dates, then other starts on the same expert-day at least an hour apart
(never k starts a minute apart). ``other_mode`` adds the other mode (online instead of on-site
or the reverse): ``"fallback"`` (the default) only when the requested mode has no slot,
``"also"`` always, after the requested mode's proposals, ``"no"`` never.

Where no slot exists, the reasons are the planner's own (``solvers.explain.Explainer``, same
words and codes as unscheduled requests).

Examples
--------
>>> from dataclasses import replace
>>> from engine.demand import ehime_week
>>> from solvers.planner import solve, SolveOptions
>>> week = ehime_week("2026-12-07", seed=7)          # r040 phones in after the plan was made
>>> plan = solve(replace(week, requests=week.requests[:-1]), SolveOptions(time_limit=30))
>>> answer = propose_slots(week, plan, "r040", k=3)                     # doctest: +SKIP
>>> [(str(p.date), fmt_time(p.start), p.objective_change, p.alternative)
...  for p in answer.proposals]                                         # doctest: +SKIP
[('2026-12-07', '14:00', 8000, False), ('2026-12-08', '09:30', 8000, False),
 ('2026-12-07', '15:30', 8000, True)]
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import pandas as pd

from engine.changes import plan_changes
from engine.checker import Violation, check_plan
from engine.errors import InputError, Problem
from engine.format import plan_to_dict
from engine.kpis import plan_kpis
from engine.model import (
    Change,
    Mode,
    Plan,
    PlanRequest,
    Request,
    SolveInfo,
    Unscheduled,
    Visit,
    fmt_time,
)
from engine.travel import TravelTimes
from solvers.cpsat.neighbourhood import (
    Neighbourhood,
    Placement,
    Solved,
    Week,
    placements,
)
from solvers.explain import Explainer, Option
from solvers.explain.words import Names
from solvers.greedy import keeps_series
from solvers.objective import objective_value, trivial_bound
from solvers.routes import build_routes, plan_breaks

__all__ = ["SLOTS_FORMAT", "OtherMode", "Proposal", "Slot", "SlotProposals", "propose_slots",
           "slots_to_dict"]

#: The format name of the proposals document (docs/FORMAT.md, "dxshare extensions").
SLOTS_FORMAT = "slot-proposals/1"

OtherMode = Literal["no", "fallback", "also"]

#: Other starts offered on the same expert-day are at least this many minutes apart.
ALTERNATIVE_GAP = 60



@dataclass(frozen=True, slots=True)
class Slot:
    """One placement to check rather than search: these experts (one per field, in the
    fields' order), this date, this start (minutes after midnight), this mode."""

    experts: tuple[str, ...]
    date: dt.date
    start: int
    mode: Mode


@dataclass(frozen=True)
class Proposal:
    """One way to fit the new request in: who, when, how, and what it costs the week.

    ``objective_change`` is FORMAT.md's objective of ``plan`` minus that of the plan it was
    proposed for (priority gained, driving and dropped visits lost); ``drive_minutes_added``
    the change in the routes' driving; ``moved`` the changes to other visits (``moved``: same
    experts and date, another start; ``dropped``: left out, only with ``allow_drop``), as in a
    plan's ``changes``. ``plan`` is the whole plan with the proposal applied, valid for
    ``problem`` (the week with the request; with its mode switched when ``mode`` is not the
    requested one). ``proven``: no better placement exists in the neighbourhood (false only
    when the time limit cut a search short). ``alternative``: another start on an expert-day
    already proposed.
    """

    request: str
    experts: tuple[str, ...]
    date: dt.date
    start: int
    end: int
    mode: Mode
    objective_change: int
    drive_minutes_added: int
    moved: tuple[Change, ...]
    plan: Plan
    problem: PlanRequest
    requested_mode: Mode
    proven: bool = True
    alternative: bool = False

    @property
    def mode_changed(self) -> bool:
        """The proposal switches the request to the other mode than the one asked for."""
        return self.mode != self.requested_mode

    @property
    def shifted(self) -> tuple[Change, ...]:
        """Other visits that keep their experts and date but start at another time."""
        return tuple(c for c in self.moved if c.kind == "moved")

    @property
    def dropped(self) -> tuple[Change, ...]:
        return tuple(c for c in self.moved if c.kind == "dropped")


@dataclass(frozen=True)
class SlotProposals:
    """The answer of ``propose_slots``: the proposals, best first, or why there is none.

    ``unscheduled`` carries the reasons (English, Japanese, codes) when no proposal in the
    requested mode exists; ``examined`` counts the candidate (date, experts) placements
    looked at; ``complete`` says every candidate was solved to a proof within the time limit
    (so the proposals are the best of the neighbourhood); ``withheld`` lists the checker's
    findings on any proposal held back as invalid (empty unless something is wrong).
    """

    request: Request
    problem: PlanRequest
    proposals: tuple[Proposal, ...]
    unscheduled: Unscheduled | None = None
    examined: int = 0
    complete: bool = True
    seconds: float = 0.0
    withheld: tuple[Violation, ...] = ()

    def frame(self) -> pd.DataFrame:
        """The proposals as a table indexed by ``rank`` (1 = best): experts, date, start and
        end (``HH:MM``), mode, objective change, added drive minutes, visits shifted and
        dropped, whether another time on an expert-day already proposed.

        >>> answer.frame().loc[1, ["date", "start", "objective_change"]]  # doctest: +SKIP
        """
        rows = [{"rank": rank, "experts": ", ".join(p.experts), "date": p.date,
                 "start": fmt_time(p.start), "end": fmt_time(p.end), "mode": p.mode,
                 "objective_change": p.objective_change,
                 "drive_minutes_added": p.drive_minutes_added,
                 "shifted": len(p.shifted), "dropped": len(p.dropped),
                 "alternative": p.alternative}
                for rank, p in enumerate(self.proposals, start=1)]
        columns = ["experts", "date", "start", "end", "mode", "objective_change",
                   "drive_minutes_added", "shifted", "dropped", "alternative"]
        return pd.DataFrame(rows, columns=["rank", *columns]).set_index("rank")


# ------------------------------------------------------------------------------ the entry point

def propose_slots(problem: PlanRequest, plan: Plan, request: str | Request, k: int = 3, *,
                  allow_drop: bool = False, other_mode: OtherMode = "fallback",
                  travel: TravelTimes | None = None, time_limit: float = 10.0,
                  check_input: bool = True, verify: bool = True,
                  only: Slot | None = None) -> SlotProposals:
    """The ``k`` best placements of ``request`` into ``plan`` (see the module docstring).

    ``request`` is a request id of ``problem`` or a ``Request`` (added to the problem when its
    id is not there yet). ``plan`` is the current plan without it (the request may be listed
    as unscheduled). ``check_input`` checks ``plan`` against the problem first (an invalid
    plan is an ``InputError``); ``verify`` checks every proposal's plan and withholds any that
    is not valid. ``time_limit`` bounds the whole call in seconds. ``only`` checks one given
    placement instead of searching (a slot chosen earlier, before it is fixed): one proposal
    with its best plan, or none when it no longer fits.

    Raises ``InputError`` (with the path of the offending field) for an unknown or already
    planned request, a plan without a usable result, a plan naming unknown requests, or
    ``k < 1``.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    problem, q = _with_request(problem, request)
    _check_arguments(problem, plan, q, k, other_mode)
    travel = travel or TravelTimes(problem)
    if check_input:
        _check_plan_input(problem, plan, q, travel)
    week = Week(problem, plan, travel)
    modes: list[Mode] = [q.mode]
    other: Mode = "online" if q.mode == "onsite" else "onsite"
    found: list[Proposal] = []
    withheld: list[Violation] = []
    examined = 0
    complete = True
    unscheduled: Unscheduled | None = None
    for mode in modes + [other]:
        if only is not None:
            if mode != only.mode:
                continue
        elif mode != q.mode and (other_mode == "no" or (other_mode == "fallback" and found)):
            break
        variant = problem if mode == q.mode else _switch_mode(problem, q, mode)
        qv = variant.request_by_id[q.id]
        options = Explainer(_only(variant, qv), travel).options[q.id]
        part = _best_for_mode(week, variant, qv, options, 1 if only else k, allow_drop,
                              deadline, verify, requested=q.mode, only=only)
        examined += part.examined
        complete = complete and part.proven and part.examined == part.candidates
        withheld.extend(part.withheld)
        if mode == q.mode and not part.proposals:
            unscheduled = _why_no_slot(week, variant, qv, travel)
        found.extend(part.proposals)
    return SlotProposals(q, problem, tuple(found), unscheduled, examined, complete,
                         time.perf_counter() - t0, tuple(withheld))


# ------------------------------------------------------------------------------ input checks

def _with_request(problem: PlanRequest, request: str | Request) -> tuple[PlanRequest, Request]:
    if isinstance(request, Request):
        have = problem.request_by_id.get(request.id)
        if have is None:
            problem = replace(problem, requests=(*problem.requests, request))
        elif have != request:
            raise InputError(Problem(
                "request", f"{request.id!r} differs from the week's request of that id",
                f"{request.id!r} は週の同じ ID の依頼と内容が異なります"))
        return problem, request
    q = problem.request_by_id.get(request)
    if q is None:
        raise InputError(Problem("request", f"unknown request {request!r}",
                                 f"依頼 {request!r} は見つかりません"))
    return problem, q


def _check_arguments(problem: PlanRequest, plan: Plan, q: Request, k: int,
                     other_mode: str) -> None:
    problems: list[Problem] = []
    if not isinstance(k, int) or k < 1:
        problems.append(Problem("k", f"must be a whole number ≥ 1, got {k!r}",
                                f"1 以上の整数である必要があります（{k!r}）"))
    if other_mode not in ("no", "fallback", "also"):
        problems.append(Problem("other_mode", f"must be 'no', 'fallback' or 'also', got "
                                f"{other_mode!r}", "'no'・'fallback'・'also' のいずれかです"))
    if plan.status not in ("optimal", "feasible"):
        problems.append(Problem("plan.status", f"the plan has status {plan.status!r}: there is "
                                "no usable plan to add a request to (plan the week first)",
                                f"計画の状態が {plan.status!r} のため、依頼を追加できる計画が"
                                "ありません（先に週を計画してください）"))
    for i, v in enumerate(plan.visits):
        if v.request == q.id:
            en, ja = _planned_visit(problem, v)
            problems.append(Problem(f"plan.visits[{i}]",
                                    f"the request is already planned: {en}",
                                    f"この依頼はすでに計画されています: {ja}"))
        elif v.request not in problem.request_by_id:
            problems.append(Problem(f"plan.visits[{i}].request", f"unknown request "
                                    f"{v.request!r}: the plan is not for this week",
                                    f"依頼 {v.request!r} は週にありません（別の週の計画です）"))
    if problems:
        raise InputError(problems)


def _planned_visit(problem: PlanRequest, v: Visit) -> tuple[str, str]:
    """A planned visit as the reasons name it (place, date, time, subject, priority), in
    English and Japanese; by date and time alone where its place is not the week's."""
    if v.location not in problem.location_by_id:
        when = f"{v.date.month}/{v.date.day} {fmt_time(v.start)}"
        return when, when
    names = Names(problem)
    return names.visit(v, "en"), names.visit(v, "ja")


def _check_plan_input(problem: PlanRequest, plan: Plan, q: Request,
                      travel: TravelTimes) -> None:
    """The plan must be valid for the week: with the new request when the plan lists it as
    unscheduled (it was planned with it and left it out), else without it."""
    if any(u.request == q.id for u in plan.unscheduled):
        found = check_plan(problem, plan, travel=travel)
    else:
        without = replace(problem, requests=tuple(r for r in problem.requests if r.id != q.id))
        found = check_plan(without, plan, travel=travel)
    if found:
        raise InputError([Problem("plan", f"the plan is not valid for the week: {v.text('en')}",
                                  f"計画が週に対して有効ではありません: {v.text('ja')}")
                          for v in found])


def _only(problem: PlanRequest, q: Request) -> PlanRequest:
    """The week with no request but ``q`` (for the analysis of ``q`` alone)."""
    return replace(problem, requests=(q,))


def _switch_mode(problem: PlanRequest, q: Request, mode: Mode) -> PlanRequest:
    new = replace(q, mode=mode)
    return replace(problem, requests=tuple(new if r.id == q.id else r for r in problem.requests))


# ------------------------------------------------------------------------------ choosing k

@dataclass
class _ModeResult:
    proposals: list[Proposal]
    candidates: int = 0
    examined: int = 0
    proven: bool = True
    withheld: list[Violation] = field(default_factory=list)


def _best_for_mode(week: Week, problem: PlanRequest, q: Request, options: list[Option],
                   k: int, allow_drop: bool, deadline: float, verify: bool, *,
                   requested: Mode, only: Slot | None = None) -> _ModeResult:
    """The k proposals of one mode: every candidate solved (each given an equal share of the
    time left), then chosen for a coordinator: distinct dates first, then other experts on
    those dates, then other starts on the expert-days already chosen, an hour apart or more."""
    placed = {v.request: v for v in week.plan.visits}
    # a follow-up only after the visit it follows, within its gap, by its experts if asked
    cands = [c for c in placements(q, options) if keeps_series(q, c.date, c.experts, placed)]
    if only is not None:
        cands = [Placement(c.date, c.experts, max(c.lo, only.start), min(c.hi, only.start))
                 for c in cands
                 if c.date == only.date and set(c.experts) == set(only.experts)]
    out = _ModeResult([], candidates=len(cands))
    solved: list[tuple[Placement, Neighbourhood, Solved]] = []
    for i, cand in enumerate(cands):
        left = deadline - time.perf_counter()
        if left <= 0:
            out.proven = False
            break
        out.examined += 1
        hood = Neighbourhood(week, problem, q, cand, allow_drop)
        if not hood.build():
            continue
        if any(_away(week, day) for day in hood.days):
            # a day after or before a night away: its routes are not re-planned here
            out.proven = False
            continue
        got = hood.solve(left / (len(cands) - i))
        if got is None:
            out.proven = out.proven and hood.proven_empty
            continue
        out.proven = out.proven and got.proven
        solved.append((cand, hood, got))
    solved.sort(key=lambda x: _rank(x[0], x[2], q.id))
    picked: list[tuple[Placement, Neighbourhood, Solved, bool]] = []
    dates: set[dt.date] = set()
    for cand, hood, got in solved:                   # distinct dates first
        if len(picked) < k and cand.date not in dates:
            dates.add(cand.date)
            picked.append((cand, hood, got, False))
    for cand, hood, got in solved:                   # then other experts on those dates
        if len(picked) < k and not any(p[0] is cand for p in picked):
            picked.append((cand, hood, got, False))
    days = [(cand, hood, [got.starts[q.id]]) for cand, hood, got, _ in picked
            if only is None]
    while len(picked) < k and days and time.perf_counter() < deadline:
        for entry in list(days):                    # then other starts, one day at a time
            cand, hood, starts = entry
            if len(picked) >= k:
                break
            hood.exclude_near(starts[-1], ALTERNATIVE_GAP)
            more = hood.solve(deadline - time.perf_counter())
            if more is None:
                days.remove(entry)
                continue
            starts.append(more.starts[q.id])
            picked.append((cand, hood, more, True))
    picked.sort(key=lambda x: (x[3], *_rank(x[0], x[2], q.id)))
    for cand, hood, got, alt in picked:
        prop = _proposal(week, problem, q, cand, hood, got, alt, requested)
        if verify:
            bad = check_plan(problem, prop.plan, travel=week.travel)
            if bad:
                out.withheld.extend(bad)
                continue
        out.proposals.append(prop)
    return out


def _away(week: Week, day: tuple[str, dt.date]) -> bool:
    """Whether the plan's route of ``day`` starts or ends away from the base (a night)."""
    r = week.routes.get(day)
    return r is not None and (r.start_at is not None or r.end_at is not None)


def _rank(cand: Placement, got: Solved, rid: str
          ) -> tuple[int, int, int, dt.date, int, tuple[str, ...]]:
    """Best first: objective change, fewest dropped, fewest moved, earliest date and start."""
    return (-got.value, len(got.dropped), got.moved, cand.date, got.starts[rid], cand.experts)


def _proposal(week: Week, problem: PlanRequest, q: Request, cand: Placement,
              hood: Neighbourhood, got: Solved, alternative: bool,
              requested: Mode) -> Proposal:
    start = got.starts[q.id]
    new = Visit(q.id, cand.experts, q.location, q.mode, cand.date, start,
                start + q.duration_min)
    visits: list[Visit] = []
    for v in week.plan.visits:
        if v.request in got.dropped:
            continue
        if v.request in hood.nodes and got.starts[v.request] != v.start:
            s = got.starts[v.request]
            v = replace(v, start=s, end=s + (v.end - v.start))
        visits.append(v)
    visits.append(new)
    touched = set(hood.days)
    changed = [v for v in visits if v.request in hood.nodes]
    routes = [r for r in week.plan.routes if (r.expert, r.date) not in touched]
    routes += [r for r in build_routes(problem, week.travel, changed)
               if (r.expert, r.date) in touched]    # each untouched day keeps its route
    routes.sort(key=lambda r: (r.expert, r.date))
    unscheduled = [u for u in week.plan.unscheduled if u.request != q.id]
    unscheduled += [_dropped_reason(problem, rid, new) for rid in sorted(got.dropped)]
    value = objective_value(problem, visits, routes)
    # the ceiling every plan of the week obeys (with the season goals' bonus and penalty)
    bound = max(value, trivial_bound(problem, {r.id for r in problem.requests}))
    plan = Plan(status="feasible", objective=value, bound=bound, solve_seconds=0.0,
                visits=tuple(visits), routes=tuple(routes), unscheduled=tuple(unscheduled),
                messages=week.plan.messages, messages_ja=week.plan.messages_ja,
                breaks=plan_breaks(problem, week.travel, visits),
                solver=SolveInfo(slot={"request": q.id, "experts": list(cand.experts),
                                 "date": cand.date.isoformat(), "start": fmt_time(start),
                                 "mode": q.mode, "proven": got.proven,
                                 "expert_days": [[e, d.isoformat()] for e, d in hood.days]}))
    plan = replace(plan, kpis=plan_kpis(problem, plan, previous=week.plan),
                   changes=plan_changes(week.plan, plan))
    moved = tuple(c for c in plan.changes if c.request != q.id)
    drive_added = (sum(r.drive_minutes for r in routes)
                   - sum(r.drive_minutes for r in week.plan.routes))
    return Proposal(q.id, cand.experts, cand.date, start, start + q.duration_min, q.mode,
                    value - week.objective, drive_added, moved, plan, problem, requested,
                    got.proven, alternative)


def _dropped_reason(problem: PlanRequest, rid: str, new: Visit) -> Unscheduled:
    """A visit dropped to make room: it gave way to the new request the centre placed."""
    q = problem.request_by_id[new.request]
    when = f"{new.date.month}/{new.date.day} {fmt_time(new.start)}–{fmt_time(new.end)}"
    return Unscheduled(
        rid,
        (f"gave way to the new request {new.request} ({when}, priority {q.priority}) that the "
         "centre fitted into the plan",),
        (f"センターが計画に加えた新しい依頼 {new.request}（{when}、優先度{q.priority}）に"
         "枠を譲りました",),
        ("gave_way",))


# ------------------------------------------------------------------------------ no slot

def _why_no_slot(week: Week, problem: PlanRequest, q: Request,
                 travel: TravelTimes) -> Unscheduled:
    """Why the request fits nowhere, in the planner's words: nothing could serve it, or each
    of its expert-days is full (which cap, or which visits take it)."""
    explainer = Explainer(problem, travel)
    served = {v.request for v in week.plan.visits}
    for u in explainer.explain_unscheduled(served, week.plan.visits, week.plan.routes):
        if u.request == q.id:
            return u
    raise AssertionError(f"{q.id} has no reason")  # pragma: no cover - every request has one


# ------------------------------------------------------------------------------ the document

def slots_to_dict(answer: SlotProposals) -> dict[str, object]:
    """The ``slot-proposals/1`` document (docs/FORMAT.md): the proposals best first, each with
    the whole ``plan/1`` it makes, and the reasons when the requested mode has none."""
    proposals = []
    for rank, p in enumerate(answer.proposals, start=1):
        plan = plan_to_dict(p.plan)
        proposals.append({
            "rank": rank, "experts": list(p.experts), "date": p.date.isoformat(),
            "start": fmt_time(p.start), "end": fmt_time(p.end), "mode": p.mode,
            "mode_changed": p.mode_changed, "objective_change": p.objective_change,
            "drive_minutes_added": p.drive_minutes_added,
            "moved": [c for c in plan.get("changes", []) if c["request"] != answer.request.id],
            "alternative": p.alternative, "proven": p.proven, "plan": plan})
    u = answer.unscheduled
    return {"format": SLOTS_FORMAT, "request": answer.request.id,
            "proposals": proposals,
            "unscheduled": None if u is None else {
                "reasons": list(u.reasons), "reasons_ja": list(u.reasons_ja),
                "codes": list(u.codes)},
            "examined": answer.examined, "complete": answer.complete,
            "seconds": round(answer.seconds, 3)}
