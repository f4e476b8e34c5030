"""Scenario sweeps and seasons: parallel/serial ratio and season time.

    python -m benchmarks.bench_scenarios [--repeats 3] [--time-limit 3] [--workers 2]

Writes ``benchmarks/results/scenarios.md``. Sweeps: 40 Ehime-week runs (4 scenarios ×
10 seeded draws), serial in this process versus a new local Dask cluster of ``--workers``
processes, timed with and without the cluster start, alternating so both see the same
machine load; the ratio is of the medians. Two sweeps: 15-request weeks that prove optimal
(CPU bound; their results must be identical, which is checked) and full 40-request weeks
cut by the per-solve time limit (wall-clock bound). Seasons: 33 weekly re-plans from
2026-08-03.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

from engine.scenario import EhimeBase, Overrides, Scenario
from solvers.executor import make_executor
from solvers.scenarios import run_many, season

__all__ = ["main", "sweep_scenarios", "timed_sweep"]

OUT = Path(__file__).parent / "results" / "scenarios.md"


def sweep_scenarios(requests_per_week: int) -> list[Scenario]:
    base = EhimeBase("2026-12-07", requests_per_week=requests_per_week)
    return [
        Scenario("baseline", base),
        Scenario("sixth expert", base, Overrides(add_experts=({"id": "data-2",
                                                               "fields": ["data"]},))),
        Scenario("online push", base, Overrides(online_share=0.5)),
        Scenario("visits capped", base, Overrides(expert_caps={"*": {"max_visits_total": 5}})),
    ]


def _warm(_: int) -> bool:
    import solvers.scenarios  # noqa: F401 - loads the solver in the worker
    return True


def timed_sweep(scenarios: list[Scenario], kind: str, workers: int,
                time_limit: float) -> tuple[float, float, list]:
    """(seconds including executor start, seconds of the runs alone, results)."""
    t = time.perf_counter()
    ex = make_executor(kind, workers=workers)
    try:
        ex.map(_warm, range(workers))
        t_run = time.perf_counter()
        res = run_many(scenarios, draws=10, time_limit=time_limit, retry_factor=1.0,
                       executor=ex)
        end = time.perf_counter()
    finally:
        ex.shutdown()
    return end - t, end - t_run, res


def key(results) -> list:
    return [(r.scenario, r.seed, r.status, sorted(r.kpis.items())) for r in results]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=3.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--season-time-limit", type=float, default=2.0)
    ap.add_argument("--skip-full", action="store_true", help="skip the time-limited sweep")
    a = ap.parse_args()
    load_before = os.getloadavg()[0]
    lines = ["# Scenario sweeps and seasons", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}; shared and noisy, so serial and parallel runs "
             "alternate and medians are compared.", "",
             "Command: `python -m benchmarks.bench_scenarios "
             f"--repeats {a.repeats} --time-limit {a.time_limit} --workers {a.workers} "
             f"--season-time-limit {a.season_time_limit}`", ""]
    sweeps = [("15-request weeks (prove optimal, CPU bound)", 15, 30.0)]
    if not a.skip_full:
        sweeps.append((f"40-request weeks, {a.time_limit:g} s per solve (time-limit bound)", 40,
                       a.time_limit))
    lines += ["## Sweeps: 40 runs (4 scenarios × 10 draws)", "",
              f"| sweep | serial s | Dask ×{a.workers} s, with cluster start | ratio | "
              f"Dask ×{a.workers} s, runs only | ratio | statuses | identical |",
              "|---|---|---|---|---|---|---|---|"]
    for label, rpw, tl in sweeps:
        scen = sweep_scenarios(rpw)
        ser, par, par_runs = [], [], []
        same = True
        statuses: Counter[str] = Counter()
        for _ in range(a.repeats):
            ts, _, rs = timed_sweep(scen, "serial", a.workers, tl)
            tp, tr, rp = timed_sweep(scen, "dask", a.workers, tl)
            ser.append(ts)
            par.append(tp)
            par_runs.append(tr)
            same = same and key(rs) == key(rp)
            statuses.update(r.status for r in rs + rp)
            print(f"{label}: serial {ts:.1f}s dask {tp:.1f}s (runs {tr:.1f}s)", flush=True)
        ms, mp, mr = statistics.median(ser), statistics.median(par), statistics.median(par_runs)

        def fmt(xs: list[float], m: float) -> str:
            return f"{m:.1f} ({', '.join(f'{x:.1f}' for x in xs)})"

        st = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        lines.append(f"| {label} | {fmt(ser, ms)} | {fmt(par, mp)} | **{ms / mp:.2f}×** | "
                     f"{fmt(par_runs, mr)} | **{ms / mr:.2f}×** | {st} | "
                     f"{'yes' if same else 'no'} |")
    lines += ["", "## Seasons: 33 weekly re-plans from 2026-08-03, camps blacked out", "",
              "| demand | per-solve limit | seconds | visits | expert-visits | "
              "municipalities | weeks without plan | requests that expired unserved |",
              "|---|---|---|---|---|---|---|---|"]
    for rpw in (12, 40):
        s = Scenario("baseline", EhimeBase("2026-08-03", requests_per_week=rpw))
        t = time.perf_counter()
        res = season(s, weeks=33, time_limit=a.season_time_limit, seed=0)
        secs = time.perf_counter() - t
        tot = res.totals
        expired = int(res.weeks["expired"].sum())
        lines.append(f"| {rpw} requests/week | {a.season_time_limit:g} s | **{secs:.1f}** | "
                     f"{tot['visits']} | {tot['expert_visits']} | "
                     f"{tot['municipalities_served']}/20 | {tot['weeks_without_plan']} | "
                     f"{expired} |")
        print(f"season {rpw}/week: {secs:.1f}s", flush=True)
    lines += ["", f"1-minute load average: {load_before:.1f} at the start, "
              f"{os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} CPUs).", "",
              "Targets: 40 runs on two local workers ≥ 1.7× faster than serial; a 33-week "
              "season ≤ 60 s.", ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
