"""Running scenarios: one solve, draws with intervals, comparisons, sweeps and a season.

A run solves ``scenario.plan_request(seed)`` with the weekly planner and keeps what planners
compare (``scenario_kpis``): visits, expert-visits, served priority, coverage per
municipality, the share going to municipalities under 50,000 people, drive minutes,
expert utilisation and unscheduled requests by reason. Sweeps go through
``solvers.executor`` (a local Dask cluster by default, an existing one by address, or
serial); results come back in input order, so a parallel sweep equals a serial one whenever
each solve is deterministic (it finishes before its time limit, see docs/SCENARIOS.md).

Examples
--------
>>> from engine.scenario import EhimeBase, Scenario
>>> base = Scenario("baseline", EhimeBase("2026-12-07", requests_per_week=8))
>>> df = compare([base], draws=2, time_limit=5, executor="serial")   # doctest: +SKIP
>>> summarise(df).loc[("baseline", "visits"), "mean"]                # doctest: +SKIP
8.0
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from engine.calendar import workable_dates
from engine.errors import InputError, Problem
from engine.format import parse_plan_request
from engine.kpis import plan_kpis
from engine.model import Plan, PlanRequest
from engine.scenario import DocumentBase, EhimeBase, Scenario
from engine.season import (
    DEFAULT_CAMPS,
    SEASON_COVERAGE,
    SEASON_SMALL_TOWNS,
    SEASON_START,
    Camp,
    season_document,
)
from solvers.executor import Executor, make_executor
from solvers.planner import SolveOptions, solve
from solvers.season import simulate_season

__all__ = [
    "DEFAULT_CAMPS",
    "PLANNED",
    "SHARE_KPIS",
    "SMALL_POPULATION",
    "Camp",
    "RunResult",
    "SeasonResult",
    "compare",
    "coverage_table",
    "run_many",
    "run_scenario",
    "scenario_kpis",
    "season",
    "season_request",
    "summarise",
    "t_quantile_975",
    "utilisation_table",
]

#: A municipality "under 50,000 people" (2020 census) counts as small.
SMALL_POPULATION = 50_000
#: KPIs that are shares in 0–1.
SHARE_KPIS = frozenset({"served_priority_share", "coverage", "small_share", "utilisation"})

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- one run

def expert_day_utilisation(problem: PlanRequest, plan: Plan) -> dict[tuple[str, dt.date], float]:
    """Busy share of each expert's workable dates: (consultation minutes + drive minutes) /
    working minutes. A day with a 90-min visit, 100 min driving and 08:30–17:15 hours:
    190 / 525 ≈ 0.36. Dates the expert cannot work are left out."""
    busy: Counter[tuple[str, dt.date]] = Counter()
    for v in plan.visits:
        for eid in v.experts:
            busy[eid, v.date] += v.end - v.start
    for r in plan.routes:
        busy[r.expert, r.date] += r.drive_minutes
    out: dict[tuple[str, dt.date], float] = {}
    for e in problem.experts:
        span = max(1, e.work_end - e.work_start)
        for d in workable_dates(problem, e):
            out[e.id, d] = busy[e.id, d] / span
    return out


def scenario_kpis(problem: PlanRequest, plan: Plan) -> dict[str, float]:
    """The figures a scenario is compared on (floats; shares in 0–1).

    ``plan_kpis`` plus ``served_priority_share`` (served / requested priority),
    ``coverage`` (share of municipalities with at least one visit; a municipality is a
    location some request names), ``small_share`` (share of visits at municipalities under
    ``SMALL_POPULATION`` people; locations without a population count as not small) and
    ``utilisation`` (Σ busy / Σ working minutes over all experts' workable dates).
    """
    k: dict[str, float] = {key: float(v) for key, v in plan_kpis(problem, plan).items()}
    total_prio = sum(q.priority for q in problem.requests)
    k["served_priority_share"] = k["served_priority"] / total_prio if total_prio else 0.0
    asked = {q.location for q in problem.requests}
    k["coverage"] = len({v.location for v in plan.visits} & asked) / len(asked) if asked else 0.0
    locs = problem.location_by_id
    small = sum(1 for v in plan.visits if (p := locs[v.location].population) is not None
                and p < SMALL_POPULATION)
    k["small_share"] = small / len(plan.visits) if plan.visits else 0.0
    util = expert_day_utilisation(problem, plan)
    busy = sum(util.values())
    k["utilisation"] = busy / len(util) if util else 0.0
    return k


@dataclass(frozen=True)
class RunResult:
    """One solved draw of one scenario (picklable; pandas views by method)."""

    scenario: str
    draw: int
    seed: int
    status: str
    solve_seconds: float
    time_limit: float
    kpis: Mapping[str, float]
    coverage: Mapping[str, int]                       # location id → visits (0 included)
    utilisation: Mapping[tuple[str, str], float]      # (expert, ISO date) → busy share
    unscheduled: Mapping[str, int]                    # first reason code → requests
    solver: Mapping[str, Any] = field(default_factory=dict)
    #: Expert id → the name people read (the experts the request names), for figures.
    expert_names: Mapping[str, str] = field(default_factory=dict)

    def kpi_series(self) -> pd.Series:
        return pd.Series(dict(self.kpis), name=self.scenario).rename_axis("kpi")

    def coverage_series(self) -> pd.Series:
        return pd.Series(dict(self.coverage), name=self.scenario, dtype=int).rename_axis(
            "location")

    def utilisation_frame(self) -> pd.DataFrame:
        """Experts × dates, busy share of the working day (NaN where not workable)."""
        s = pd.Series(dict(self.utilisation), dtype=float)
        if s.empty:
            return pd.DataFrame()
        s.index = pd.MultiIndex.from_tuples(list(s.index), names=["expert", "date"])
        return s.unstack("date")

    def unscheduled_series(self) -> pd.Series:
        return pd.Series(dict(self.unscheduled), name=self.scenario, dtype=int).rename_axis(
            "reason")


def _result(scenario: str, draw: int, seed: int, time_limit: float, problem: PlanRequest,
            plan: Plan) -> RunResult:
    asked = {q.location for q in problem.requests}
    places = [loc.id for loc in problem.locations
              if loc.id in asked or loc.population is not None and loc.id not in
              {e.base for e in problem.experts}]
    cov = Counter(v.location for v in plan.visits)
    util = expert_day_utilisation(problem, plan)
    reasons = Counter((u.codes[0] if u.codes else "unexplained") for u in plan.unscheduled)
    return RunResult(scenario, draw, seed, plan.status, round(plan.solve_seconds, 3), time_limit,
                     scenario_kpis(problem, plan), {p: cov.get(p, 0) for p in places},
                     {(e, d.isoformat()): round(x, 4) for (e, d), x in util.items()},
                     dict(reasons), dict(plan.solver),
                     {e.id: e.name for e in problem.experts if e.name})


PLANNED = ("optimal", "feasible")


def run_scenario(scenario: Scenario, *, seed: int = 0, draw: int = 0, time_limit: float = 3.0,
                 workers: int = 1, retry_factor: float = 3.0) -> RunResult:
    """Solve the scenario's problem for ``seed`` (``workers`` CP-SAT threads, seed recorded).

    A solve that finds no plan within ``time_limit`` s is tried once more with
    ``retry_factor`` × the limit (``solver["attempts"]`` says so); ``retry_factor <= 1``
    never retries.
    """
    problem = scenario.plan_request(seed)
    opts = SolveOptions(time_limit=time_limit, seed=seed, workers=workers,
                        travel_speed_factor=scenario.travel_speed_factor)
    plan = solve(problem, opts)
    attempts = 1
    if plan.status not in PLANNED and retry_factor > 1:
        plan = solve(problem, replace(opts, time_limit=time_limit * retry_factor))
        attempts = 2
    res = _result(scenario.name, draw, seed, time_limit, problem, plan)
    return replace(res, solver={**res.solver, "attempts": attempts})


def _run_task(task: tuple[Scenario, int, int, float, int, float]) -> RunResult:
    scenario, seed, draw, time_limit, workers, retry = task
    return run_scenario(scenario, seed=seed, draw=draw, time_limit=time_limit, workers=workers,
                        retry_factor=retry)


def _executor(executor: Executor | str, workers: int | None,
              address: str | None) -> tuple[Executor, bool]:
    if isinstance(executor, Executor):
        return executor, False
    return make_executor(executor, workers=workers, address=address), True


def run_many(scenarios: Sequence[Scenario], *, draws: int = 3, seed: int = 0,
             time_limit: float = 3.0, solver_workers: int = 1, retry_factor: float = 3.0,
             executor: Executor | str = "dask", workers: int | None = None,
             address: str | None = None, progress: Progress | None = None) -> list[RunResult]:
    """Every scenario × ``draws`` draws (draw ``i`` uses seed ``seed + i``, the same seeds for
    every scenario, so scenarios are compared on the same demand), in that order.

    ``executor``: an ``Executor`` or a kind for ``make_executor`` (``'dask'`` = a new local
    cluster of ``workers`` processes, or the cluster at ``address``; ``'processes'``;
    ``'serial'``). ``progress(done, total)`` is called as runs finish.
    """
    if draws < 1:
        raise InputError(Problem("draws", "must be >= 1", "1 以上である必要があります"))
    for i, s in enumerate(scenarios):        # fail fast, in this process, with paths
        s.plan_request(seed, path=f"scenarios[{i}]")
    tasks = [(s, seed + d, d, time_limit, solver_workers, retry_factor) for s in scenarios
             for d in range(draws)]
    ex, owned = _executor(executor, workers, address)
    try:
        return ex.map(_run_task, tasks, progress=progress)
    finally:
        if owned:
            ex.shutdown()


def compare(items: Sequence[Scenario] | Sequence[RunResult], **kwargs: Any) -> pd.DataFrame:
    """One tidy DataFrame: a row per scenario, draw and KPI (columns ``scenario, draw, seed,
    status, kpi, value``). ``items`` are scenarios (run with ``run_many(**kwargs)``) or results.
    """
    results: list[RunResult]
    if items and all(isinstance(x, Scenario) for x in items):
        results = run_many([x for x in items if isinstance(x, Scenario)], **kwargs)
    else:
        results = [x for x in items if isinstance(x, RunResult)]
    rows = [{"scenario": r.scenario, "draw": r.draw, "seed": r.seed, "status": r.status,
             "kpi": k, "value": float(v)}
            for r in results for k, v in r.kpis.items()]
    rows += [{"scenario": r.scenario, "draw": r.draw, "seed": r.seed, "status": r.status,
              "kpi": "solve_seconds", "value": r.solve_seconds} for r in results]
    df = pd.DataFrame(rows, columns=["scenario", "draw", "seed", "status", "kpi", "value"])
    df["scenario"] = pd.Categorical(df["scenario"],
                                    categories=list(dict.fromkeys(r.scenario for r in results)))
    return df


def t_quantile_975(dof: int) -> float:
    """Student's t 97.5 % quantile for two-sided 95 % intervals (``t_quantile_975(4)`` →
    2.776), from scipy.stats: exact for every number of degrees of freedom."""
    if dof < 1:
        return math.nan
    from scipy.stats import t

    return float(t.ppf(0.975, dof))


def summarise(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and 95 % t-interval of each KPI per scenario over its draws.

    Index ``(scenario, kpi)``; columns ``n, failed, mean, std, low, high``. Only draws with a
    plan (``optimal`` or ``feasible``) count; ``failed`` says how many had none (their KPIs
    would be zeros, not a property of the scenario). With one draw the interval is the point
    itself (no spread is known); with none, the figures are NaN. Every KPI is ≥ 0 and the
    shares (``SHARE_KPIS``) ≤ 1, so intervals are clipped to that range.
    """
    rows = []
    for (scen, kpi), g in tidy.groupby(["scenario", "kpi"], observed=True, sort=False):
        ok = g["status"].isin(PLANNED)
        vals = g.loc[ok, "value"].astype(float).tolist()
        n = len(vals)
        if n == 0:
            rows.append({"scenario": scen, "kpi": kpi, "n": 0, "failed": int((~ok).sum()),
                         "mean": math.nan, "std": math.nan, "low": math.nan, "high": math.nan})
            continue
        mean = statistics.fmean(vals)
        sd = statistics.stdev(vals) if n > 1 else 0.0
        half = t_quantile_975(n - 1) * sd / math.sqrt(n) if n > 1 else 0.0
        top = 1.0 if kpi in SHARE_KPIS else math.inf
        rows.append({"scenario": scen, "kpi": kpi, "n": n, "failed": int((~ok).sum()),
                     "mean": mean, "std": sd,
                     "low": max(0.0, mean - half), "high": min(top, mean + half)})
    return pd.DataFrame(rows).set_index(["scenario", "kpi"])


def coverage_table(results: Sequence[RunResult]) -> pd.DataFrame:
    """Mean visits per draw: municipalities (rows, by id) × scenarios (columns)."""
    frame = pd.DataFrame([{"scenario": r.scenario, "location": loc, "visits": n}
                          for r in results for loc, n in r.coverage.items()])
    if frame.empty:
        return pd.DataFrame()
    order = list(dict.fromkeys(r.scenario for r in results))
    return frame.pivot_table(index="location", columns="scenario", values="visits",
                             aggfunc="mean", observed=True)[order]


def utilisation_table(results: Sequence[RunResult], scenario: str | None = None) -> pd.DataFrame:
    """Experts × dates mean busy share over the draws of ``scenario`` (default: the first)."""
    name = scenario if scenario is not None else (results[0].scenario if results else "")
    frames = [r.utilisation_frame() for r in results if r.scenario == name]
    if not frames:
        return pd.DataFrame()
    return sum(frames[1:], frames[0]) / len(frames)


# --------------------------------------------------------------------------- season

@dataclass(frozen=True)
class SeasonResult:
    """A season of weekly plans: ``weeks`` (one row per week), ``visits`` (every visit),
    ``coverage`` (visits per municipality), season ``totals``, and the season request and
    the plan the weeks add up to (``problem``, ``plan``: ``solvers.season.season_tables``
    gives the rest of the season's figures)."""

    scenario: str
    seed: int
    weeks: pd.DataFrame
    visits: pd.DataFrame
    coverage: pd.Series
    totals: Mapping[str, float]
    problem: PlanRequest | None = None
    plan: Plan | None = None


def season_request(scenario: Scenario, *, start: dt.date | str = SEASON_START,
                   weeks: int = 33, seed: int = 0, camps: Sequence[Camp] = DEFAULT_CAMPS,
                   wait_weeks: int = 2, goals: bool = True) -> PlanRequest:
    """The scenario's season as one plan request: the Ehime season (``engine.season``) drawn
    with the scenario's demand, its camps (as the scenario moves them) and the scenario's
    other changes (experts, caps, hours, places, demand scale, online mix) applied."""
    if not isinstance(scenario.base, EhimeBase):
        raise InputError(Problem("base", "a season needs the Ehime base (weekly demand is drawn)",
                                 "シーズンには ehime ベースが必要です"))
    monday = start if isinstance(start, dt.date) else dt.date.fromisoformat(start)
    if monday.weekday() != 0:
        raise InputError(Problem("start", "must be a Monday", "月曜日である必要があります"))
    b = scenario.base
    doc = season_document(monday, weeks=weeks, requests_per_week=b.requests_per_week, seed=seed,
                          camps=camps, wait_weeks=wait_weeks, online_share=b.online_share,
                          joint_share=b.joint_share,
                          coverage=SEASON_COVERAGE if goals else None,
                          small_towns=SEASON_SMALL_TOWNS if goals else None)
    scn = replace(scenario, base=DocumentBase(doc, f"season from {monday}"))
    return parse_plan_request(scn.document(seed=seed))


def season(scenario: Scenario, *, start: dt.date | str = "2026-08-03", weeks: int = 33,
           seed: int = 0, time_limit: float = 2.0, workers: int = 1,
           camps: Sequence[Camp] = DEFAULT_CAMPS, max_carry: int = 2, goals: bool = True,
           progress: Progress | None = None) -> SeasonResult:
    """Simulate a season as weekly re-plans (``solvers.season.simulate_season`` on
    ``season_request``): each week's requests become known that week and may wait
    ``max_carry`` more weeks; each week is planned when it comes with the budgets, the
    month's contract days and (with ``goals``) the coverage floors the earlier weeks left, and
    published. Camps are blacked out (the scenario's blackout overrides apply to them)."""

    problem = season_request(scenario, start=start, weeks=weeks, seed=seed, camps=camps,
                             wait_weeks=max_carry, goals=goals)
    t0 = time.perf_counter()
    sim = simulate_season(problem, time_limit=time_limit, seed=seed, goals=goals,
                          progress=progress, workers=workers,
                          travel_speed_factor=scenario.travel_speed_factor)
    plan = sim.plan
    weeks_df = sim.weeks
    weeks_df["blackout_days"] = [len({b.date for b in problem.horizon.blackouts
                                      if wk <= b.date <= wk + dt.timedelta(days=6)})
                                 for wk in weeks_df.index]
    rows = []
    for v in plan.visits:
        rows.append({"week": v.date - dt.timedelta(days=v.date.weekday()),
                     "request": v.request, "location": v.location, "mode": v.mode,
                     "date": v.date, "start": v.start, "experts": ",".join(v.experts),
                     "n_experts": len(v.experts)})
    visits_df = pd.DataFrame(rows, columns=["week", "request", "location", "mode", "date",
                                            "start", "experts", "n_experts"])
    bases = {e.base for e in problem.experts}
    places = [loc.id for loc in problem.locations if loc.id not in bases]
    seen = Counter(v.location for v in plan.visits)
    coverage = pd.Series({p: int(seen[p]) for p in places}, name="visits",
                         dtype=int).rename_axis("location")
    locs = problem.location_by_id
    small = sum(1 for v in plan.visits if (p := locs[v.location].population) is not None
                and p < SMALL_POPULATION)
    onsite = [v for v in plan.visits if v.mode == "onsite"]
    totals = {
        "weeks": weeks, "visits": len(plan.visits), "onsite_visits": len(onsite),
        "expert_visits": sum(len(v.experts) for v in onsite),
        "municipalities_served": int((coverage > 0).sum()),
        "small_share": small / len(plan.visits) if plan.visits else 0.0,
        "expired": len(sim.expired), "still_open": len(sim.still_open),
        "weeks_without_plan": int((~weeks_df["status"].isin((*PLANNED, "nothing asked"))).sum()),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return SeasonResult(scenario.name, seed, weeks_df, visits_df, coverage, totals, problem,
                        plan)
