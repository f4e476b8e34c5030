"""The appointment grid's price: the five Ehime benchmark weeks planned on any minute and on
the quarter hour.

Each week (``instances/ehime-week-s0`` … ``s4``) is solved as committed (``start_grid_min`` 1)
and with ``horizon.start_grid_min`` 15, ``--repeats`` times each (solver seed = repeat), the
two grids interleaved so that the shared machine's noise hits both alike; seconds are the wall
time of ``solve()``; every plan goes through the validity checker. Reported per week: the
proven objectives and their gap (how much the grid costs), the median seconds to the proof on
each grid and their ratio; over all runs the median ratio and the machine's load.

Targets (issue 21): objective within 0.5 % of grid 1's, median time to proof ≤ 1.5 × grid 1.

Writes ``benchmarks/results/grid.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md).

    python -m benchmarks.bench_grid [--repeats 5] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import instance_path
from benchmarks.runinfo import run_paragraph

__all__ = ["main", "measure"]

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "grid.md"
WEEKS = [f"ehime-week-s{i}" for i in range(5)]
GRIDS = (1, 15)


def measure(name: str, grid: int, seed: int, time_limit: float) -> dict[str, Any]:
    """One solve of week ``name`` on an appointment grid of ``grid`` minutes."""
    from engine.checker import check_plan
    from engine.format import load_plan_request
    from solvers.planner import SolveOptions, solve

    problem = load_plan_request(instance_path(name))
    problem = dataclasses.replace(
        problem, horizon=dataclasses.replace(problem.horizon, start_grid_min=grid))
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=seed))
    seconds = time.perf_counter() - t0
    return {"week": name, "grid": grid, "seed": seed, "status": plan.status,
            "objective": plan.objective, "bound": plan.bound, "seconds": seconds,
            "valid": not check_plan(problem, plan),
            "on_grid": all(v.start % grid == 0 for v in plan.visits)}


def report(runs: list[dict[str, Any]], command: str, seconds: float,
           load: tuple[float, float]) -> str:
    lines = [run_paragraph(command, seconds, load), "",
             "| week | objective, grid 1 | objective, grid 15 | cost of the grid | median s, "
             "grid 1 | median s, grid 15 | ratio | proven | plans |",
             "|---|---|---|---|---|---|---|---|---|"]
    gaps, ratios, all_s = [], [], {g: [] for g in GRIDS}
    for week in WEEKS:
        mine = {g: [r for r in runs if r["week"] == week and r["grid"] == g] for g in GRIDS}
        obj = {g: max(r["objective"] for r in mine[g]) for g in GRIDS}
        med = {g: statistics.median(r["seconds"] for r in mine[g]) for g in GRIDS}
        for g in GRIDS:
            all_s[g] += [r["seconds"] for r in mine[g]]
        gap = (obj[1] - obj[15]) / obj[1]
        gaps.append(gap)
        ratios.append(med[15] / med[1])
        proven = sum(r["status"] == "optimal" for g in GRIDS for r in mine[g])
        ok = all(r["valid"] and r["on_grid"] for g in GRIDS for r in mine[g])
        lines.append(f"| {week} | {obj[1]} | {obj[15]} | {gap:.3%} | {med[1]:.2f} | "
                     f"{med[15]:.2f} | {med[15] / med[1]:.2f} | {proven} of "
                     f"{len(mine[1]) + len(mine[15])} | {'valid' if ok else 'INVALID'} |")
    m1, m15 = statistics.median(all_s[1]), statistics.median(all_s[15])
    lines += ["", f"Over all runs: median {m1:.2f} s on grid 1, {m15:.2f} s on grid 15 (ratio "
              f"{m15 / m1:.2f}); the largest cost of the grid {max(gaps):.3%}.", "",
              f"Targets: objective within 0.5 % of grid 1 — **{'met' if max(gaps) <= 0.005 else 'not met'}** "
              f"(worst {max(gaps):.3%}); median time to proof ≤ 1.5 × grid 1 — "
              f"**{'met' if m15 <= 1.5 * m1 else 'not met'}** (ratio {m15 / m1:.2f})."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    runs = []
    for week in WEEKS:
        for seed in range(args.repeats):
            for grid in GRIDS:
                runs.append(measure(week, grid, seed, args.time_limit))
                r = runs[-1]
                print(f"{week} grid {grid:2d} seed {seed}: {r['status']} {r['objective']} "
                      f"in {r['seconds']:.2f} s", flush=True)
    command = "python -m benchmarks.bench_grid" + (
        f" --repeats {args.repeats}" if args.repeats != 5 else "")
    text = report(runs, command, time.perf_counter() - t0, (load0, os.getloadavg()[0]))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
