"""The price of standing appointments at a place: the demo week planned as it is and with two
experts each due at a town hall for an hour (``experts[].busy[].at``).

The demo week (``dxshare example``: 2026-12-07, seed 8, appointment grid 15) is solved as is
and with two appointments at a place — the PR expert at 宇和島市 on Wednesday 13:30–14:30, the
data expert at 四国中央市 on Thursday 10:30–11:30 — ``--repeats`` times each (solver seed =
repeat), the two interleaved so that the shared machine's noise hits both alike; seconds are
the wall time of ``solve()``; every plan goes through the validity checker. Reported: the
status and objective of each, the median seconds to the proof and their ratio.

Writes ``benchmarks/results/busy_at.md``.

    python -m benchmarks.bench_busy_at [--repeats 3] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.runinfo import report

__all__ = ["APPOINTMENTS", "main", "measure"]

OUT = Path(__file__).resolve().parent / "results" / "busy_at.md"
#: (expert, date, start, end, place) of the two appointments at a place.
APPOINTMENTS = (("pr-1", "2026-12-09", "13:30", "14:30", "宇和島市"),
                ("data-1", "2026-12-10", "10:30", "11:30", "四国中央市"))


def week(with_appointments: bool) -> dict[str, Any]:
    """The demo week's document, with or without the two appointments at a place."""
    from engine.demand import ehime_week_document
    from service.cli import DEMO_GRID, DEMO_SEED, DEMO_WEEK

    doc = copy.deepcopy(ehime_week_document(DEMO_WEEK, seed=DEMO_SEED,
                                            start_grid_min=DEMO_GRID))
    if with_appointments:
        experts = {e["id"]: e for e in doc["experts"]}
        for eid, date, start, end, place in APPOINTMENTS:
            experts[eid].setdefault("busy", []).append(
                {"date": date, "start": start, "end": end, "at": place})
    return doc


def measure(with_appointments: bool, seed: int, time_limit: float) -> dict[str, Any]:
    """One solve of the week: status, objective, seconds, and the checker's verdict."""
    from engine.checker import check_plan
    from engine.format import parse_plan_request
    from solvers.planner import SolveOptions, solve

    problem = parse_plan_request(week(with_appointments))
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=seed))
    seconds = time.perf_counter() - t0
    bad = check_plan(problem, plan)
    assert not bad, bad[:3]
    assert plan.status != "infeasible", plan.messages      # the week's published visit stays
    return {"status": plan.status, "objective": plan.objective, "seconds": seconds,
            "drive": sum(r.drive_minutes for r in plan.routes)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args(argv)
    t_start, load0 = time.perf_counter(), os.getloadavg()[0]
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for seed in range(args.repeats):
        for flag in (False, True):          # interleaved
            runs[flag].append(measure(flag, seed, args.time_limit))
    med = {f: statistics.median(r["seconds"] for r in runs[f]) for f in runs}
    lines = ["# Standing appointments at a place: the demo week", "",
             __doc__.split("\n\n")[1].replace("\n", " "), "",
             "| week | status | objective | drive min | median s to proof | runs (s) |",
             "|---|---|---|---|---|---|"]
    for flag, label in ((False, "as is"), (True, "two appointments at a place")):
        r = runs[flag]
        lines.append(f"| {label} | {', '.join(sorted({x['status'] for x in r}))} | "
                     f"{r[0]['objective']} | {r[0]['drive']} | {med[flag]:.2f} | "
                     + ", ".join(f"{x['seconds']:.2f}" for x in r) + " |")
    lines += ["", f"Ratio of the medians (with / without): {med[True] / med[False]:.2f}."]
    return report(OUT, lines, f"python -m benchmarks.bench_busy_at --repeats {args.repeats}",
                  t_start, load0)


if __name__ == "__main__":
    raise SystemExit(main())
