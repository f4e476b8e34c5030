"""Running scenarios: KPIs, intervals, sweeps equal to serial runs, the season."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from engine.demand import ehime_week
from engine.scenario import EhimeBase, Overrides, Scenario
from solvers.planner import SolveOptions, solve
from solvers.scenarios import (
    Camp,
    RunResult,
    compare,
    coverage_table,
    run_many,
    run_scenario,
    scenario_kpis,
    season,
    summarise,
    t_quantile_975,
    utilisation_table,
)

TINY = EhimeBase("2026-12-07", requests_per_week=6)


def test_kpis_of_a_solved_week_are_consistent():
    problem = ehime_week("2026-12-07", seed=2, requests_per_week=6)
    plan = solve(problem, SolveOptions(time_limit=10))
    k = scenario_kpis(problem, plan)
    assert plan.status == "optimal"
    assert k["visits"] == len(plan.visits)
    assert 0 <= k["small_share"] <= 1 and 0 <= k["coverage"] <= 1 and 0 < k["utilisation"] < 1
    small = sum(problem.location_by_id[v.location].population < 50_000 for v in plan.visits)
    assert k["small_share"] == pytest.approx(small / len(plan.visits))
    assert k["served_priority_share"] == pytest.approx(
        k["served_priority"] / sum(q.priority for q in problem.requests))


def test_run_keeps_seed_status_and_all_municipalities():
    r = run_scenario(Scenario("tiny", TINY), seed=3, time_limit=10)
    assert (r.seed, r.status) == (3, "optimal")
    assert len(r.coverage) == 20 and sum(r.coverage.values()) == r.kpis["visits"]
    util = r.utilisation_frame()
    assert set(util.index) == {"design-1", "security-1", "data-1", "cocreation-1", "pr-1"}
    assert util.loc["design-1", "2026-12-09"] != util.loc["design-1", "2026-12-09"]  # NaN: camp


def test_no_expert_can_travel_so_every_onsite_request_is_unscheduled_with_a_reason():
    s = Scenario("grounded", TINY, Overrides(expert_caps={"*": {"max_onsite_days": 0}},
                                             online_share=0.0))
    r = run_scenario(s, seed=1, time_limit=10)
    assert r.kpis["visits"] == 0 and r.kpis["unscheduled"] == 6
    assert sum(r.unscheduled.values()) == 6 and "unexplained" not in r.unscheduled


def test_t_quantiles():
    assert round(t_quantile_975(1), 3) == 12.706 and round(t_quantile_975(4), 3) == 2.776
    assert round(t_quantile_975(30), 3) == 2.042 and round(t_quantile_975(200), 3) == 1.972
    assert math.isnan(t_quantile_975(0))


def _result(name: str, draw: int, visits: float, status: str = "optimal") -> RunResult:
    return RunResult(name, draw, draw, status, 0.1, 1.0, {"visits": visits}, {}, {}, {})


def test_summary_interval_is_the_t_interval_and_skips_runs_without_a_plan():
    results = [_result("a", 0, 10), _result("a", 1, 12), _result("a", 2, 14),
               _result("a", 3, 0, status="error")]
    row = summarise(compare(results)).loc[("a", "visits")]
    assert (row["n"], row["failed"], row["mean"]) == (3, 1, 12.0)
    assert row["high"] - row["mean"] == pytest.approx(4.303 * 2.0 / math.sqrt(3), abs=1e-3)
    one = summarise(compare([_result("b", 0, 7)])).loc[("b", "visits")]
    assert one["low"] == one["high"] == 7.0


def test_intervals_stay_within_what_a_kpi_can_be():
    results = [RunResult("a", d, d, "optimal", 0.1, 1.0, {"visits": v, "coverage": c}, {}, {},
                         {}) for d, (v, c) in enumerate([(0, 0.2), (9, 1.0)])]
    s = summarise(compare(results))
    assert s.loc[("a", "visits"), "low"] == 0.0 and s.loc[("a", "coverage"), "high"] == 1.0
    assert s.loc[("a", "visits"), "high"] > 9


def test_compare_is_tidy_and_keeps_scenario_order():
    df = compare([_result("z", 0, 1), _result("a", 0, 2)])
    assert list(df.columns) == ["scenario", "draw", "seed", "status", "kpi", "value"]
    assert list(df["scenario"].cat.categories) == ["z", "a"]


def test_sixth_expert_serves_at_least_as_much_priority_on_the_same_draws():
    base = EhimeBase("2026-12-07", requests_per_week=12)
    scenarios = [Scenario("base", base),
                 Scenario("sixth", base, Overrides(add_experts=({"id": "data-2",
                                                                  "fields": ["data"]},)))]
    results = run_many(scenarios, draws=2, time_limit=20, executor="serial")
    by = {(r.scenario, r.draw): r for r in results}
    for d in range(2):
        assert by["base", d].status == by["sixth", d].status == "optimal"
        assert by["sixth", d].kpis["served_priority"] >= by["base", d].kpis["served_priority"]
    cov = coverage_table(results)
    assert list(cov.columns) == ["base", "sixth"] and len(cov) == 20
    assert utilisation_table(results, "sixth").shape[0] == 6


def test_dask_sweep_equals_serial_run():
    """Small weeks prove optimal, so each solve is deterministic: same results, same order."""
    base = EhimeBase("2026-12-07", requests_per_week=8)
    scenarios = [Scenario("base", base), Scenario("online", base, Overrides(online_share=0.6))]
    seen: list[tuple[int, int]] = []
    serial = run_many(scenarios, draws=2, time_limit=20, executor="serial")
    parallel = run_many(scenarios, draws=2, time_limit=20, executor="dask", workers=2,
                        progress=lambda d, t: seen.append((d, t)))
    assert all(r.status == "optimal" for r in serial + parallel)
    assert [(r.scenario, r.seed, dict(r.kpis), dict(r.coverage)) for r in serial] == \
        [(r.scenario, r.seed, dict(r.kpis), dict(r.coverage)) for r in parallel]
    assert seen[-1] == (4, 4)


def test_season_rolls_unserved_requests_over_and_expires_them():
    grounded = Scenario("grounded", EhimeBase("2026-08-03", requests_per_week=3),
                        Overrides(expert_caps={"*": {"max_onsite_days": 0}}, online_share=0.0))
    res = season(grounded, weeks=4, time_limit=5, max_carry=2, camps=())
    assert res.totals["visits"] == 0 and res.problem is not None
    reqs, end = res.problem.requests, res.problem.horizon.end

    def monday(d: dt.date) -> dt.date:
        return d - dt.timedelta(days=d.weekday())

    # a request is asked in the week of its first date and waits two weeks more (within the
    # season); once its last date has passed it expires, on the season's last day it stays open
    assert all((q.latest - q.earliest).days >= 14 or q.latest == end for q in reqs)
    for wk, row in res.weeks.iterrows():
        earlier = [q for q in reqs if monday(q.earliest) < wk <= q.latest]
        new = [q for q in reqs if monday(q.earliest) == wk]
        assert (row["requests"], row["carried_in"]) == (len(new) + len(earlier), len(earlier))
        assert row["expired"] == sum(1 for q in reqs if q.latest < end
                                     and wk <= q.latest <= wk + dt.timedelta(days=6))
    assert res.totals["still_open"] == sum(1 for q in reqs if q.latest == end)
    assert res.totals["expired"] + res.totals["still_open"] == len(reqs) == 12


def test_season_blacks_out_camps_and_a_moved_camp_moves():
    camp = Camp("camp", dt.date(2026, 8, 4), dt.date(2026, 8, 6))
    s = Scenario("s", EhimeBase("2026-08-03", requests_per_week=5))
    res = season(s, weeks=2, time_limit=5, camps=(camp,))
    assert list(res.weeks["blackout_days"]) == [3, 0]
    assert not any(dt.date(2026, 8, 4) <= d <= dt.date(2026, 8, 6) for d in res.visits["date"])
    assert res.totals["visits"] == len(res.visits) > 0
    assert res.coverage.sum() == len(res.visits) and len(res.coverage) == 20
    moved = Scenario("moved", s.base, Overrides(move_blackouts=(
        (dt.date(2026, 8, 4), dt.date(2026, 8, 11)),)))
    res2 = season(moved, weeks=2, time_limit=5, camps=(camp,))
    assert list(res2.weeks["blackout_days"]) == [2, 1]
    assert isinstance(res2.weeks.index, pd.Index) and res2.weeks.index[0] == dt.date(2026, 8, 3)


def test_season_needs_the_ehime_base():
    from engine.errors import InputError
    from engine.scenario import DocumentBase
    doc = ehime_week("2026-12-07", requests_per_week=2)
    from engine.format import plan_request_to_dict
    with pytest.raises(InputError, match="base"):
        season(Scenario("doc", DocumentBase(plan_request_to_dict(doc))), weeks=1)
