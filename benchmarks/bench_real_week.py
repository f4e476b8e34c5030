"""The expert's real week: ``ehime-week-real`` (every rule of an expert's week on) proven against
its peer without them.

Three committed instances (``benchmarks/instances/``) are solved ``--repeats`` times each
(solver seed = repeat), interleaved so that the shared machine's noise hits all alike:
``ehime-week-s0`` (the peer: the same 40 requests, none of the rules),
``ehime-week-real-day-trips`` (grid 15, lunch, closed town halls, two standing appointments
of which one at a place, three follow-ups, due dates, overtime) and ``ehime-week-real`` (the
same with nights away allowed in 宇和島市, 八幡浜市 and 四国中央市) — see
``benchmarks/real_week.py``. Seconds are the wall time of ``solve()``; every plan goes through
the validity checker. Reported: status, objective, driving, nights and overtime of each, the
median seconds to the answer and their ratio to the peer.

Writes ``benchmarks/results/real_week.md``.

    python -m benchmarks.bench_real_week [--repeats 3] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import instance_path
from benchmarks.runinfo import report

__all__ = ["WEEKS", "main", "measure"]

OUT = Path(__file__).resolve().parent / "results" / "real_week.md"
#: The peer first, then the week with every rule but nights, then the real week.
WEEKS = ("ehime-week-s0", "ehime-week-real-day-trips", "ehime-week-real")


def measure(name: str, seed: int, time_limit: float) -> dict[str, Any]:
    """One solve of the committed instance ``name``: status, objective, seconds, driving,
    nights and overtime, after the checker found nothing wrong."""
    from engine.checker import check_plan
    from engine.format import parse_plan_request
    from solvers.planner import SolveOptions, solve

    problem = parse_plan_request(json.loads(instance_path(name).read_text(encoding="utf-8")))
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=seed))
    seconds = time.perf_counter() - t0
    bad = check_plan(problem, plan)
    assert not bad, bad[:3]
    return {"status": plan.status, "objective": plan.objective, "bound": plan.bound,
            "seconds": seconds, "drive": sum(r.drive_minutes for r in plan.routes),
            "nights": plan.kpis.get("nights", 0),
            "overtime": plan.kpis.get("overtime_minutes", 0)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args(argv)
    t_start, load0 = time.perf_counter(), os.getloadavg()[0]
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in WEEKS}
    for seed in range(args.repeats):
        for name in WEEKS:                  # interleaved
            runs[name].append(measure(name, seed, args.time_limit))
    med = {w: statistics.median(r["seconds"] for r in runs[w]) for w in WEEKS}
    lines = ["# The expert's real week", "", __doc__.split("\n\n")[1].replace("\n", " "), "",
             "| week | status | objective | bound | drive min | nights | overtime min "
             "| median s | × peer | runs (s) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name in WEEKS:
        r = runs[name]
        best = max(r, key=lambda x: x["objective"])
        lines.append(f"| {name} | {', '.join(sorted({x['status'] for x in r}))} | "
                     f"{best['objective']} | {min(x['bound'] for x in r)} | {best['drive']} | "
                     f"{best['nights']} | {best['overtime']} | {med[name]:.2f} | "
                     f"{med[name] / med[WEEKS[0]]:.1f} | "
                     + ", ".join(f"{x['seconds']:.2f}" for x in r) + " |")
    return report(OUT, lines, f"python -m benchmarks.bench_real_week --repeats {args.repeats}",
                  t_start, load0)


if __name__ == "__main__":
    raise SystemExit(main())
