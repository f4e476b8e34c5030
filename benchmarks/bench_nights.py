"""Nights away on weeks of 南予 rounds: the same week planned with nights allowed and with day
trips only.

Each week is ``engine.demand.ehime_week_document`` (seed 0 … 9, 40 requests from Monday
2026-12-07) with half of its on-site requests moved to 南予 (宇和島市, 愛南町, 西予市, 鬼北町,
松野町, drawn with the same seed), and then planned twice: every expert with ``overnight``
(those five places, ``night_cost`` 100: a night worth 100 minutes of driving at the
weeks' ``drive_minute`` 1, ``max_nights`` 2) and without it (day trips only),
each with ``--time-limit`` seconds, solver seed 0; every plan goes through the validity
checker. Reported per week: priority served, drive minutes, nights, objective, status and the
seconds to the answer of both; over the ten weeks the medians and the change in driving.

Target (issue 21): nights allowed serve at least the priority of day trips only, with ≥ 15 %
less driving or more priority served.

Writes ``benchmarks/results/nights.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md).

    python -m benchmarks.bench_nights [--seeds 10] [--time-limit 30]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.runinfo import run_paragraph

__all__ = ["NANYO", "main", "measure", "nanyo_week"]

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "nights.md"
#: 宇和島市, 愛南町, 西予市, 鬼北町, 松野町
NANYO = ("382035", "385069", "382141", "384887", "384844")


def nanyo_week(seed: int, nights: bool) -> dict[str, Any]:
    """The week of ``seed`` with half its on-site requests in 南予; with ``nights`` every
    expert may stay there (100 a night, trips of at most two nights)."""
    from engine.demand import ehime_week_document

    doc = ehime_week_document("2026-12-07", seed=seed)
    rng = random.Random(seed)
    onsite = [q for q in doc["requests"] if q["mode"] == "onsite" and not q.get("fixed")]
    for q in rng.sample(onsite, len(onsite) // 2):
        q["location"] = rng.choice(NANYO)
    listed = {loc["id"] for loc in doc["locations"]}
    doc["locations"] += [{"id": x} for x in NANYO if x not in listed]
    if nights:
        for e in doc["experts"]:
            e["overnight"] = {"places": list(NANYO), "night_cost": 100, "max_nights": 2}
    return doc


def measure(seed: int, nights: bool, time_limit: float) -> dict[str, Any]:
    """One plan of the week of ``seed``."""
    from engine.checker import check_plan
    from engine.format import parse_plan_request
    from solvers.planner import SolveOptions, solve

    problem = parse_plan_request(nanyo_week(seed, nights))
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=0))
    seconds = time.perf_counter() - t0
    return {"seed": seed, "nights": nights, "status": plan.status, "objective": plan.objective,
            "served": plan.kpis["served_priority"], "drive": plan.kpis["drive_minutes"],
            "slept": plan.kpis.get("nights", 0), "seconds": seconds,
            "valid": not check_plan(problem, plan)}


def report(runs: list[dict[str, Any]], command: str, seconds: float,
           load: tuple[float, float]) -> str:
    lines = [run_paragraph(command, seconds, load), "",
             "| seed | priority, day trips | priority, nights | drive min, day trips | "
             "drive min, nights | nights | objective, day trips | objective, nights | "
             "status (day trips / nights) | s (day trips / nights) | plans |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    met, cuts = 0, []
    seeds = sorted({r["seed"] for r in runs})
    for s in seeds:
        a = next(r for r in runs if r["seed"] == s and not r["nights"])
        b = next(r for r in runs if r["seed"] == s and r["nights"])
        cut = 1 - b["drive"] / a["drive"] if a["drive"] else 0.0
        cuts.append(cut)
        ok = b["served"] > a["served"] or (b["served"] >= a["served"] and cut >= 0.15)
        met += ok
        lines.append(f"| {s} | {a['served']} | {b['served']} | {a['drive']} | {b['drive']} | "
                     f"{b['slept']} | {a['objective']} | {b['objective']} | {a['status']} / "
                     f"{b['status']} | {a['seconds']:.1f} / {b['seconds']:.1f} | "
                     f"{'valid' if a['valid'] and b['valid'] else 'INVALID'} |")
    day = [r for r in runs if not r["nights"]]
    away = [r for r in runs if r["nights"]]
    lines += ["", f"Medians over {len(seeds)} weeks: priority served {statistics.median(r['served'] for r in day)} "
              f"(day trips) vs {statistics.median(r['served'] for r in away)} (nights); drive "
              f"{statistics.median(r['drive'] for r in day)} vs "
              f"{statistics.median(r['drive'] for r in away)} min (median change "
              f"{-statistics.median(cuts):+.1%}); seconds to the answer "
              f"{statistics.median(r['seconds'] for r in day):.1f} vs "
              f"{statistics.median(r['seconds'] for r in away):.1f}; proven optimal "
              f"{sum(r['status'] == 'optimal' for r in day)} vs "
              f"{sum(r['status'] == 'optimal' for r in away)} of {len(seeds)}.", "",
              f"Target (nights serve at least the day trips' priority, with ≥ 15 % less driving "
              f"or more priority): met on {met} of {len(seeds)} weeks."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=30.0)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    runs = []
    for seed in range(args.seeds):
        for nights in (False, True):
            runs.append(measure(seed, nights, args.time_limit))
            r = runs[-1]
            print(f"seed {seed} nights {nights}: {r['status']} {r['objective']} served "
                  f"{r['served']} drive {r['drive']} nights {r['slept']} in "
                  f"{r['seconds']:.1f} s", flush=True)
    command = "python -m benchmarks.bench_nights" + (
        f" --seeds {args.seeds}" if args.seeds != 10 else "") + (
        f" --time-limit {args.time_limit:g}" if args.time_limit != 30.0 else "")
    text = report(runs, command, time.perf_counter() - t0, (load0, os.getloadavg()[0]))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
