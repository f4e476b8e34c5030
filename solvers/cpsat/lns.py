"""Large-neighbourhood search over expert-days, inside one model.

From a plan of the full model (every rule, times included), each step frees the decisions of
a few expert-days — a few experts' days, a region's days, a range of dates, or the days that
could take a request left out — keeps every other decision as the plan has it, and re-solves
that with CP-SAT, hinted at the plan. The plan is a solution of every step, so a step never
makes it worse; a step's better plan becomes the plan.

Which kind of neighbourhood comes next is drawn by the kinds' recent gains (objective points
per second, decayed step by step, never below a floor so that every kind keeps being tried);
the number of expert-days freed grows when a step proves its neighbourhood holds nothing
better (too small to help) and shrinks when a step runs out of time (too large to search).

The search proves nothing about the whole plan: the caller keeps the bound it had.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solvers.cpsat.hints import set_hint
from solvers.cpsat.solver import Clock
from solvers.model import PlannerModel

__all__ = ["KINDS", "Neighbourhoods", "Step", "improve"]

Day = tuple[str, dt.date]

#: The kinds of neighbourhood, each a way to choose the expert-days a step frees.
KINDS = ("experts", "region", "dates", "left out")


@dataclass
class Step:
    """One step of the search: the kind of neighbourhood, how many expert-days it freed, the
    objective before and after, CP-SAT's status name and the seconds it took (deterministic
    seconds under a deterministic budget)."""

    kind: str
    days: int
    before: int
    after: int
    status: str
    seconds: float


class Neighbourhoods:
    """The expert-days of a model and, for each, the indices of the decisions it holds: what a
    step frees when it frees that day."""

    def __init__(self, model: PlannerModel, rng: random.Random):
        self.model = model
        self.rng = rng
        self.days: list[Day] = sorted(model.days)
        self.dates = sorted({d for _e, d in self.days})
        self.experts = sorted({e for e, _d in self.days})
        self._own: dict[Day, list[int]] = defaultdict(list)      # the day's own literals
        self._requests: dict[Day, set[str]] = defaultdict(set)   # requests it could serve
        self._candidates: dict[str, list[Day]] = defaultdict(list)
        for (rid, eid, d), x in model.present.items():
            self._own[eid, d].append(x.index)
            self._requests[eid, d].add(rid)
            self._candidates[rid].append((eid, d))
        for (_rid, _k, eid, d), x in model.slot.items():
            self._own[eid, d].append(x.index)
        for key, day in model.days.items():
            self._own[key].extend(day.order_vars())
            if day.on_day is not None:
                self._own[key].append(day.on_day.index)
        self._on_date: dict[tuple[str, dt.date], int] = {
            key: x.index for key, x in model.on_date.items()}
        self._location = {q.id: q.location for q in model.p.requests}
        self._places = sorted({self._location[r] for r in self._candidates})

    def free(self, days: set[Day]) -> set[int]:
        """The decisions a step re-makes on ``days``: each day's tour, legs and on-site
        indicator, and every choice of date, expert and presence of the requests it could
        serve on them (their choices on other days stay as they are)."""
        out: set[int] = set()
        for day in days:
            out.update(self._own[day])
            for rid in self._requests[day]:
                if (x := self.model.served.get(rid)) is not None:
                    out.add(x.index)
                if (i := self._on_date.get((rid, day[1]))) is not None:
                    out.add(i)
        return out

    def choose(self, kind: str, size: int, served: Callable[[str], bool]) -> set[Day]:
        """About ``size`` expert-days, chosen the ``kind`` way."""
        pick = {"experts": self._by_experts, "region": self._by_region,
                "dates": self._by_dates, "left out": self._by_left_out}[kind]
        return pick(size, served)

    def _by_experts(self, size: int, served: Callable[[str], bool]) -> set[Day]:
        """Two or three experts' days over a run of dates (the whole horizon when it fits)."""
        k = min(len(self.experts), self.rng.choice((2, 3)))
        who = set(self.rng.sample(self.experts, k))
        return self._run_of_dates(lambda day: day[0] in who, size)

    def _by_dates(self, size: int, served: Callable[[str], bool]) -> set[Day]:
        """Every expert's days over a run of dates."""
        return self._run_of_dates(lambda day: True, size)

    def _run_of_dates(self, keep: Callable[[Day], bool], size: int) -> set[Day]:
        days = [day for day in self.days if keep(day)]
        if len(days) <= size:
            return set(days)
        first = self.rng.randrange(len(days) - size + 1)
        by_date = sorted(days, key=lambda day: (day[1], day[0]))
        return set(by_date[first:first + size])

    def _by_region(self, size: int, served: Callable[[str], bool]) -> set[Day]:
        """The days that could serve the places nearest a place drawn at random, nearest
        place first."""
        centre = self.rng.choice(self._places)
        minutes = self.model.travel.minutes
        near = sorted(self._places, key=lambda p: (minutes(centre, p), p))
        at: dict[str, list[Day]] = defaultdict(list)
        for rid, days in self._candidates.items():
            at[self._location[rid]].extend(days)
        return self._fill(([*at[p]] for p in near), size)

    def _by_left_out(self, size: int, served: Callable[[str], bool]) -> set[Day]:
        """The days that could serve requests the plan leaves out, highest priority drawn
        first (and, where none is left out, the days of requests drawn at random)."""
        q_by_id = self.model.p.request_by_id
        out = [r for r in self._candidates if not served(r)]
        pool = out or list(self._candidates)
        order = sorted(pool, key=lambda r: -q_by_id[r].priority * self.rng.random())
        return self._fill((list(self._candidates[r]) for r in order), size)

    def _fill(self, groups: object, size: int) -> set[Day]:
        chosen: set[Day] = set()
        for days in groups:  # type: ignore[attr-defined]
            self.rng.shuffle(days)
            for day in days:
                if len(chosen) >= size:
                    return chosen
                chosen.add(day)
        return chosen


@dataclass
class _Kinds:
    """The kinds' recent gains (objective points per second, decayed), drawn in proportion."""

    rng: random.Random
    gain: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 1.0))

    def draw(self) -> str:
        floor = 0.05 * max(self.gain.values())
        weights = [max(floor, self.gain[k]) for k in KINDS]
        return self.rng.choices(KINDS, weights=weights)[0]

    def record(self, kind: str, gained: int, seconds: float) -> None:
        self.gain[kind] = 0.7 * self.gain[kind] + 0.3 * gained / max(seconds, 0.01)


def improve(model: PlannerModel, objective: cp_model.LinearExprT, clock: Clock,
            values: list[int], value: int, *, until: float, bound: int | None = None,
            on_better: Callable[[list[int], int], None] | None = None,
            ) -> tuple[list[int], int, list[Step]]:
    """The plan ``values`` (objective ``value``) improved step by step until the clock has
    used ``until`` of its budget (or the plan meets ``bound``): the best plan, its objective
    and the steps taken. ``on_better`` hears of each better plan."""
    rng = random.Random(clock.options.seed)
    hoods = Neighbourhoods(model, rng)
    kinds = _Kinds(rng)
    booleans = sorted(model.booleans)
    size = max(2, len(hoods.days) // 10)
    cap = _STEP_SECONDS          # a step's seconds: longer while steps find nothing at all
    steps: list[Step] = []
    if not hoods.days:
        return values, value, steps
    # One copy of the model for every step, changed in place: the decisions kept (one
    # conjunction), the objective's floor and the hint. A copy per step costs its memory
    # again each time (CP-SAT's models are freed late).
    sub = model.m.clone()
    sub.clear_hints()
    kept = sub.proto.constraints.add().bool_and.literals
    floor = sub.add(objective >= value).proto.linear
    lowest, start = floor.domain[0], value      # the floor's domain, offset folded in
    while not clock.past(until) and (bound is None or value < bound):
        wall = clock.t0 + until * (clock.deadline - clock.t0) - time.perf_counter()
        kind = kinds.draw()
        served = {r for r, x in model.served.items() if values[x.index]}
        days = hoods.choose(kind, size, served.__contains__)
        free = hoods.free(days)
        kept.clear()
        kept.extend(i if values[i] else -i - 1 for i in booleans if i not in free)
        floor.domain[0] = lowest + value - start
        set_hint(sub, dict(enumerate(values)))
        # every day freed is the whole model: the step may take all the time left
        whole = len(days) == len(hoods.days)
        solver = clock.solver(share=1.0, cap=max(0.05, wall if whole else min(cap, wall)))
        code = clock.run(solver, sub)
        # gains per deterministic second when the budget is deterministic: the same seed
        # then draws the same kinds on any machine
        seconds = solver.wall_time if clock.options.deterministic_time is None \
            else solver.response_proto.deterministic_time
        after = value
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            after = int(round(solver.objective_value))
            if after >= value:
                values = list(solver.response_proto.solution)
        kinds.record(kind, after - value, seconds)
        steps.append(Step(kind, len(days), value, after, solver.status_name(code),
                          round(seconds, 3)))
        if after > value and on_better is not None:
            on_better(values, after)
        value = max(value, after)
        if code == cp_model.OPTIMAL and after == steps[-1].before:
            size = min(len(hoods.days), int(size * 1.25) + 1)   # nothing better here: wider
        elif code not in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            size = max(2, int(size * 0.8))                      # out of time: narrower
        if code == cp_model.UNKNOWN:
            # not even the plan itself read back: the model is large or the machine busy
            cap = min(1.5 * cap, max(_STEP_SECONDS, 0.2 * (clock.deadline - clock.t0)))
    return values, value, steps


#: Seconds a step may take at most (most steps of a good size end well before).
_STEP_SECONDS = 3.0
