"""The bounds a plan by parts reports, alone, on the 33-week season: their seconds and values.

    python -m benchmarks.bench_bounds                 # about 15 minutes on 2 cores
    python -m benchmarks.bench_bounds --lp-limit 60   # shorter

Writes ``benchmarks/results/bounds.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md). Three shapes of ``engine.season.season_document`` (all rules and
goals): 40 requests a week, each willing to wait two weeks (today's benchmark); the same
willing to wait until the end of the season (open-ended); open-ended with 80 a week, more
than the experts' contracted days hold. For each: the trivial bound (every
request served, no driving), the capacity bound (``solvers.parts.capacity``), the Lagrangian
bound (``solvers.parts.lagrange``, ``--lagrange-limit`` seconds, alone and from the capacity
bound's prices) and the LP relaxation of the whole (``solvers.parts.bound``, HiGHS limited to
``--lp-limit`` seconds),
each timed from the problem to the number, building included; then the season planned by
parts with the issue's limit (120 s), and the bound and gap it reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

HERE = Path(__file__).resolve().parent
OUT = HERE / "results" / "bounds.md"

#: (date ranges, weeks a request waits, requests a week, share open to the season's end):
#: today's benchmark, the season benchmark's half open-ended shape, every range open-ended,
#: and that with twice the demand (more than the experts' contracted days hold)
SHAPES = (("two-week ranges", 2, 40, 0.0), ("half open-ended (open_share 0.5)", 2, 40, 0.5),
          ("open-ended ranges", 33, 40, 0.0), ("open-ended ranges", 33, 80, 0.0))


def _timed(make: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = make()
    return value, round(time.perf_counter() - t0, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=33)
    ap.add_argument("--lp-limit", type=float, default=180.0,
                    help="HiGHS seconds for the LP (0: no LP)")
    ap.add_argument("--lagrange-limit", type=float, default=20.0,
                    help="seconds for each Lagrangian bound")
    ap.add_argument("--plan-limit", type=float, default=120.0,
                    help="time limit of the plan by parts (0: no plan)")
    args = ap.parse_args(argv)
    from engine.format import parse_plan_request
    from engine.season import season_document
    from engine.travel import TravelTimes
    from solvers.objective import trivial_bound
    from solvers.parts.bound import relaxation_bound
    from solvers.parts.capacity import capacity_prices
    from solvers.parts.lagrange import lagrangian_bound
    from solvers.planner import SolveOptions
    from solvers.season import plan_season

    t_start = time.perf_counter()
    load0 = os.getloadavg()[0]
    rows = []
    for name, wait, per_week, share in SHAPES:
        problem = parse_plan_request(season_document(
            weeks=args.weeks, requests_per_week=per_week, seed=0, wait_weeks=wait,
            open_share=share))
        travel = TravelTimes(problem)
        trivial = trivial_bound(problem, {q.id for q in problem.requests})
        solved, cap_s = _timed(lambda p=problem, t=travel: capacity_prices(p, t))
        capacity, prices = solved if solved is not None else (None, None)
        # the Lagrangian bound alone (from every request's value), and started from the
        # capacity bound's prices as a plan does (its seconds then add to the capacity's)
        alone, alone_s = _timed(lambda p=problem, t=travel: lagrangian_bound(
            p, t, time.perf_counter() + args.lagrange_limit))
        started, started_s = _timed(lambda p=problem, t=travel, c=prices: lagrangian_bound(
            p, t, time.perf_counter() + args.lagrange_limit, prices=c))
        lp, lp_s = (None, 0.0) if args.lp_limit <= 0 else _timed(
            lambda p=problem, t=travel: relaxation_bound(p, t, args.lp_limit))
        rec: dict[str, Any] = {"shape": name, "per_week": per_week,
                               "requests": len(problem.requests),
                               "trivial": trivial, "capacity": capacity, "capacity_s": cap_s,
                               "lagrange": alone, "lagrange_s": alone_s,
                               "lagrange_started": started, "lagrange_started_s": started_s,
                               "lp": lp, "lp_s": lp_s}
        if args.plan_limit > 0:
            plan, plan_s = _timed(lambda p=problem: plan_season(
                p, SolveOptions(time_limit=args.plan_limit)))
            rec.update(objective=plan.objective, bound=plan.bound, plan_s=plan_s,
                       method=plan.solver.get("bound_method"), gap=plan.solver.get("gap"))
        print(rec, flush=True)
        rows.append(rec)

    def above(x: int | None, ref: int | None) -> str:
        return "–" if x is None or ref is None else f"{100 * (x - ref) / ref:+.2f} %"

    lines = [f"Run {dt.date.today()} with `python -m benchmarks.bench_bounds"
             f"{'' if args.lp_limit == 180 else f' --lp-limit {args.lp_limit:g}'}` on "
             f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
             f"{platform.python_version()}; 1-minute load {load0:.1f} at the start, "
             f"{os.getloadavg()[0]:.1f} at the end (the machine is shared); "
             f"{(time.perf_counter() - t_start) / 60:.0f} min in all. Season of {args.weeks} "
             "weeks (`engine.season.season_document`, seed 0, all rules and goals). Seconds run "
             "from the problem to the number, building included; the LP's HiGHS is limited to "
             f"{args.lp_limit:g} s (— : it did not finish).", "",
             "| date ranges | a week | requests | trivial bound | capacity bound | s | "
             "Lagrangian | s | Lagrangian from capacity prices | s | LP relaxation | s | "
             "capacity vs LP | capacity vs trivial | Lagrangian vs capacity |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        least = min((x for x in (r["lagrange"], r["lagrange_started"]) if x is not None),
                    default=None)
        lines.append(f"| {r['shape']} | {r['per_week']} | {r['requests']} | {r['trivial']} | "
                     f"{r['capacity']} | {r['capacity_s']} | {r['lagrange']} | "
                     f"{r['lagrange_s']} | {r['lagrange_started']} | {r['lagrange_started_s']} "
                     f"| {r['lp'] if r['lp'] is not None else '—'} | "
                     f"{r['lp_s']} | {above(r['capacity'], r['lp'])} | "
                     f"{above(r['capacity'], r['trivial'])} | {above(least, r['capacity'])} |")
    if args.plan_limit > 0:
        lines += ["", f"The season planned by parts (`--time-limit {args.plan_limit:g}`), "
                  "with the bound it reports:", "",
                  "| date ranges | a week | objective | bound | bound method | gap | seconds |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            gap = "–" if r["gap"] is None else f"{100 * r['gap']:.2f} %"
            lines.append(f"| {r['shape']} | {r['per_week']} | {r['objective']} | {r['bound']} | "
                         f"{r['method']} | "
                         f"{gap} | {r['plan_s']} |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("## Bounds on a long season\n\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
