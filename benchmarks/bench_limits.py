"""The time limit as a promise: shapes a municipality can send, each solved at several limits.

Shapes (``engine.demand.busy_expert_document``; one expert, the design expert, based at the
prefectural office; online requests of 30 minutes, priority 1–10):

- ``40 calls`` / ``80 calls`` / ``200 calls``: in one five-day week, no window;
- ``200 calls, windows, dates, 10 visits``: half with a window, half on 1–3 dates, and 10
  on-site requests beside them;
- ``200 calls open all season``: 15 weeks, every request open for all of them;
- ``400 calls, 30 visits, season``: 15 weeks (solved by parts);
- ``1000 calls in a week``.

The peer, in the same go and at the same limits: the Ehime demo week
(``engine.demand.ehime_week_document("2026-12-07", seed=0)``, 5 experts, 40 requests), the
shape the limit was always kept on. Each (shape, limit) runs ``--repeats`` times, each in a
process of its own: the wall seconds of ``solve`` (median and max; the ratio max/limit is the
promise, at most 1.10), the peak memory of that process (imports included), the status and
the visits planned. Also the seconds to prove 40 calls optimal (limit 10, median).

Writes ``benchmarks/results/limits.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md).

    python -m benchmarks.bench_limits [--limits 1 2 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["SHAPES", "main", "solve_shape"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SHAPES: dict[str, dict[str, Any]] = {
    "40 calls": {"calls": 40},
    "80 calls": {"calls": 80},
    "200 calls": {"calls": 200},
    "200 calls, windows, dates, 10 visits": {"calls": 200, "windows": True, "dates": True,
                                             "visits": 10},
    "200 calls open all season": {"calls": 200, "weeks": 15},
    "400 calls, 30 visits, season": {"calls": 400, "visits": 30, "weeks": 15},
    "400 calls, 30 visits, season, nights": {"calls": 400, "visits": 30, "weeks": 15,
                                             "nights": True},
    "1000 calls in a week": {"calls": 1000},
    "1000 calls, every rule, nights": {"calls": 1000, "rules": True, "nights": True},
    "40 calls, 20 visits, every rule, nights": {"calls": 40, "visits": 20, "rules": True,
                                                "nights": True},
}
PEER = "Ehime demo week (peer)"

_RUN = """
import json, sys, time
from engine.checker import check_plan
from engine.demand import busy_expert_document, ehime_week_document
from engine.format import parse_plan_request
from solvers.planner import SolveOptions, solve


def peak_mb():
    # this process's own peak (VmHWM starts anew at exec; getrusage's maxrss keeps the
    # parent's when that was larger)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024

shape, limit = json.loads(sys.argv[1]), float(sys.argv[2])
doc = (ehime_week_document("2026-12-07", seed=0) if shape is None
       else busy_expert_document(**shape))
problem = parse_plan_request(doc)
t0 = time.perf_counter()
plan = solve(problem, SolveOptions(time_limit=limit))
wall = time.perf_counter() - t0
ids = [q.id for q in problem.requests]
print(json.dumps({
    "wall": wall, "status": plan.status, "visits": len(plan.visits), "peak_mb": peak_mb(),
    "accounted": sorted([v.request for v in plan.visits]
                        + [u.request for u in plan.unscheduled]) == sorted(ids),
    "reasons": all(u.reasons and u.reasons_ja and u.codes for u in plan.unscheduled),
    "codes": sorted({c for u in plan.unscheduled for c in u.codes}),
    "violations": [str(v) for v in check_plan(problem, plan)][:5]}))
"""


def solve_shape(shape: dict[str, Any] | None, limit: float) -> dict[str, Any]:
    """Solve one shape (``busy_expert_document`` arguments; None: the Ehime demo week) at
    ``limit`` seconds in a process of its own: the wall seconds of ``solve``, that process's
    peak memory (MB), the status, the visits planned, whether every request is accounted for
    (planned or left out) with a reason in both languages for each left out, the reason
    codes, and the first violations the checker finds (none for a valid plan)."""
    out = subprocess.run([sys.executable, "-c", _RUN, json.dumps(shape), str(limit)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(limits: list[float], repeats: int, loads: list[float]) -> list[dict[str, Any]]:
    rows = []
    for limit in limits:
        for name, shape in [(PEER, None), *SHAPES.items()]:
            runs = [solve_shape(shape, limit) for _ in range(repeats)]
            loads.append(os.getloadavg()[0])
            walls = [r["wall"] for r in runs]
            rows.append({"shape": name, "limit": limit,
                         "median": statistics.median(walls), "max": max(walls),
                         "peak_mb": max(r["peak_mb"] for r in runs),
                         "status": "/".join(sorted({r["status"] for r in runs})),
                         "visits": statistics.median(r["visits"] for r in runs)})
            print(f"{name:40s} limit {limit:4.1f}: median {rows[-1]['median']:.2f} s, "
                  f"max {rows[-1]['max']:.2f} s, {rows[-1]['peak_mb']:.0f} MB", flush=True)
    return rows


def report(rows: list[dict[str, Any]], proof: list[float], args: argparse.Namespace,
           loads: list[float]) -> str:
    lines = [
        "## Time limits at any shape",
        "",
        f"`python -m benchmarks.bench_limits --limits {' '.join(map(str, args.limits))} "
        f"--repeats {args.repeats}` on a shared {os.cpu_count()}-core {platform.machine()} "
        f"machine, {dt.date.today().isoformat()}, Python "
        f"{platform.python_version()}. Each run in a process of its own; wall = the seconds "
        "of `solve` (model building, search, reasons and KPIs included); peak = that "
        "process's peak memory, imports included. Load average (1 min) seen during the run: "
        f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores.",
        "",
        "| shape | limit (s) | median (s) | max (s) | max / limit | peer max / limit "
        "| peak MB | status | visits |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    peer = {r["limit"]: r for r in rows if r["shape"] == PEER}
    for r in rows:
        p = peer[r["limit"]]
        lines.append(f"| {r['shape']} | {r['limit']:g} | {r['median']:.2f} | {r['max']:.2f} "
                     f"| {r['max'] / r['limit']:.2f} | {p['max'] / p['limit']:.2f} "
                     f"| {r['peak_mb']:.0f} | {r['status']} | {r['visits']:g} |")
    worst = max(r["max"] / r["limit"] for r in rows)
    lines += [
        "",
        f"Worst max / limit over every shape and limit: **{worst:.2f}** (the promise: at most "
        "1.10). 40 calls proven optimal (limit 10): median "
        f"**{statistics.median(proof):.2f} s** over {len(proof)} runs (target ≤ 1 s).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limits", type=float, nargs="+", default=[1.0, 2.0, 5.0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    loads: list[float] = []
    rows = measure(args.limits, args.repeats, loads)
    proof = []
    for _ in range(5):
        r = solve_shape(SHAPES["40 calls"], 10.0)
        if r["status"] != "optimal":
            raise RuntimeError(f"40 calls not proven optimal: {r}")
        proof.append(r["wall"])
    out = HERE / "results" / "limits.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(report(rows, proof, args, loads), encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
