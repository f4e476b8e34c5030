"""The planner benchmark: one command, results into benchmarks/README.md.

    python -m benchmarks.run_planner            # full run (about 15 minutes on 2 cores)
    python -m benchmarks.run_planner --quick    # smoke run (about 2 minutes)

What it measures (instances from ``benchmarks/instances/``, written by ``benchmarks.generate``):

1. *Ehime weeks*: each seed × repeats, with ``workers=1`` and ``workers=2`` interleaved (the peer
   run in the same go, so the shared machine's noise hits both alike); each solve in a fresh
   process that reports its wall seconds and peak resident memory (``ru_maxrss``).
2. *Long horizons and synthetic*: objective, bound and gap after the time limit, one run each.
3. *Routing subsets*: dxshare, VROOM and OR-Tools routing on the same restricted problem:
   served priority, driving, objective, seconds, status and gap to dxshare's proven bound.

Raw records go to ``benchmarks/results/planner.json``; the tables replace the part of
``benchmarks/README.md`` between ``<!-- planner:begin -->`` and ``<!-- planner:end -->``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.generate import (
    EHIME_SEEDS,
    INSTANCE_DIR,
    SYNTHETIC_SEEDS,
    SYNTHETIC_SIZES,
    instance_path,
    write_instances,
)

__all__ = ["BenchConfig", "main", "measure_solve", "run"]

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results" / "planner.json"
BEGIN, END = "<!-- planner:begin -->", "<!-- planner:end -->"


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures; ``quick`` shrinks everything to a smoke test."""

    week_seeds: tuple[int, ...] = EHIME_SEEDS
    repeats: int = 3
    workers: tuple[int, ...] = (1, 2)
    week_time_limit: float = 60.0
    long_instances: tuple[str, ...] = ("ehime-4w", "ehime-8w")
    long_time_limit: float = 60.0
    synthetic_instances: tuple[str, ...] = tuple(
        f"synthetic-{e}e{lo}l{r}r-s{SYNTHETIC_SEEDS[0]}" for (e, lo, r) in SYNTHETIC_SIZES)
    compare_instances: tuple[str, ...] = (
        *(f"ehime-week-s{s}" for s in EHIME_SEEDS), "ehime-4w", "ehime-8w",
        *(f"synthetic-{e}e{lo}l{r}r-s{s}" for (e, lo, r) in SYNTHETIC_SIZES
          for s in SYNTHETIC_SEEDS))
    compare_time_limit: float = 20.0
    quick: bool = False

    @classmethod
    def smoke(cls) -> BenchConfig:
        return cls(week_seeds=EHIME_SEEDS[:2], repeats=1, week_time_limit=30.0,
                   long_instances=("ehime-4w",), long_time_limit=10.0, synthetic_instances=(),
                   compare_instances=("ehime-week-s0", "ehime-week-s1"),
                   compare_time_limit=10.0, quick=True)


# ---------------------------------------------------------------------------- one solve
def measure_solve(path: str, seed: int, workers: int, time_limit: float) -> dict[str, Any]:
    """Solve one instance with dxshare in this process and report the plan's figures, the
    solve's wall seconds and the process's peak resident memory. Run it in a fresh process
    (``_in_fresh_process``) so that the peak belongs to this solve alone."""
    import resource

    from engine.format import load_plan_request, plan_to_dict
    from solvers.planner import SolveOptions, solve

    problem = load_plan_request(path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=seed, workers=workers))
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "instance": Path(path).stem, "solver": "dxshare", "seed": seed, "workers": workers,
        "time_limit": time_limit, "status": plan.status, "objective": plan.objective,
        "bound": plan.bound, "seconds": round(wall, 3),
        "seconds_to_plan": plan.solver.get("wall_seconds_model"),
        "peak_rss_mb": round(rss / 1024, 1), "rss_after_imports_mb": round(rss_before / 1024, 1),
        "served_priority": plan.kpis.get("served_priority"),
        "drive_minutes": plan.kpis.get("drive_minutes"), "visits": plan.kpis.get("visits"),
        "requests": plan.kpis.get("requests"), "plan": plan_to_dict(plan),
    }


def _in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def _peer(kind: str, path: str, time_limit: float) -> dict[str, Any]:
    from benchmarks.peers import solve_ortools_routing, solve_vroom
    from engine.format import load_plan_request, plan_to_dict

    problem = load_plan_request(path)
    t0 = time.perf_counter()
    if kind == "vroom":
        plan = solve_vroom(problem, threads=1)
    else:
        plan = solve_ortools_routing(problem, time_limit=time_limit)
    wall = time.perf_counter() - t0
    return {
        "instance": Path(path).stem, "solver": plan.solver["name"], "seed": None, "workers": 1,
        "time_limit": time_limit if kind != "vroom" else None, "status": plan.status,
        "objective": plan.objective, "bound": plan.bound, "seconds": round(wall, 3),
        "served_priority": plan.kpis.get("served_priority"),
        "drive_minutes": plan.kpis.get("drive_minutes"), "visits": plan.kpis.get("visits"),
        "requests": plan.kpis.get("requests"), "plan": plan_to_dict(plan),
    }


# ---------------------------------------------------------------------------- the run
def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _short(rec: dict[str, Any]) -> str:
    return (f"{rec['instance']} {rec['solver']} w={rec['workers']} seed={rec['seed']}: "
            f"{rec['status']} obj={rec['objective']} bound={rec['bound']} {rec['seconds']}s")


def run(cfg: BenchConfig) -> dict[str, Any]:
    """Run every measurement of ``cfg``; the raw records by section."""
    paths = {p.stem: p for p in INSTANCE_DIR.glob("*.json")}
    if not paths:
        paths = {k: v for k, v in write_instances().items()}
    out: dict[str, Any] = {"weeks": [], "long": [], "compare": []}
    for seed in cfg.week_seeds:
        for rep in range(cfg.repeats):
            for w in cfg.workers:
                rec = _in_fresh_process(measure_solve, str(instance_path(f"ehime-week-s{seed}")),
                                        rep, w, cfg.week_time_limit)
                rec["repeat"] = rep
                _log(_short(rec))
                out["weeks"].append(rec)
    for name in (*cfg.long_instances, *cfg.synthetic_instances):
        rec = _in_fresh_process(measure_solve, str(instance_path(name)), 0, 1,
                                cfg.long_time_limit)
        _log(_short(rec))
        out["long"].append(rec)
    for name in cfg.compare_instances:
        path = str(instance_path(f"{name}.routing"))
        rec = _in_fresh_process(measure_solve, path, 0, 1, cfg.compare_time_limit)
        _log(_short(rec))
        out["compare"].append(rec)
        for kind in ("vroom", "ortools"):
            rec = _in_fresh_process(_peer, kind, path, cfg.compare_time_limit)
            _log(_short(rec))
            out["compare"].append(rec)
    return out


# ---------------------------------------------------------------------------- validity
def check_records(results: dict[str, Any]) -> None:
    """Run the validity checker (``engine.checker.check_plan``) on every stored plan against
    its instance; store the broken rules in the record as ``violations`` (empty: valid)."""
    from engine.checker import check_plan
    from engine.format import load_plan_request, parse_plan

    problems: dict[str, Any] = {}
    for section in ("weeks", "long", "compare"):
        for rec in results.get(section, []):
            if "plan" not in rec:
                continue
            name = rec["instance"]
            if name not in problems:
                problems[name] = load_plan_request(instance_path(name))
            found = check_plan(problems[name], parse_plan(rec["plan"]))
            rec["violations"] = [str(v) for v in found]


def _validity(recs: list[dict[str, Any]]) -> str:
    if any("violations" not in r for r in recs):
        return "not checked"
    bad = [r for r in recs if r["violations"]]
    return "valid" if not bad else f"{sum(len(r['violations']) for r in bad)} violations"


# ---------------------------------------------------------------------------- report
def _gap(obj: int | None, bound: int | None) -> float | None:
    if obj is None or bound is None:
        return None
    return (bound - obj) / max(1, abs(bound))


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.2f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    v = {}
    for pkg in ("ortools", "pyvroom", "pandas"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            v[pkg] = "not installed"
    return v


def _machine() -> str:
    try:
        import psutil
        ram = f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        ram = "RAM unknown"
    v = _versions()
    return (f"{os.cpu_count()} cores, {ram}, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, ortools {v['ortools']}, "
            f"pyvroom {v['pyvroom']}")


def report(results: dict[str, Any], cfg: BenchConfig, command: str,
           meta: dict[str, Any]) -> str:
    """The Markdown section (between the markers) for these results."""
    weeks = results["weeks"]
    parts = [BEGIN, "## Planner", "",
             f"Run {meta['date']} with `{command}` on {meta['machine']}; the whole run took "
             f"{meta['total_seconds'] / 60:.0f} min. The machine is shared: its 1-minute load "
             f"average was {meta['load_average_1min'][0]} at the start and "
             f"{meta['load_average_1min'][1]} at the end (2 cores), so absolute seconds "
             "are inflated by other work; ratios of runs interleaved in the same go are the "
             "robust figures.", ""]
    # 1. Ehime weeks
    rows = []
    by_w: dict[int, list[float]] = {w: [] for w in cfg.workers}
    for seed in cfg.week_seeds:
        row: list[Any] = [f"ehime-week-s{seed}"]
        recs = [r for r in weeks if r["instance"] == f"ehime-week-s{seed}"]
        r1 = [r for r in recs if r["workers"] == cfg.workers[0]]
        row += [r1[0]["requests"] if r1 else None,
                "/".join(sorted({r["status"] for r in r1})),
                r1[0]["objective"] if r1 else None, r1[0]["bound"] if r1 else None]
        meds = []
        for w in cfg.workers:
            secs = [r["seconds"] for r in recs if r["workers"] == w and r["status"] == "optimal"]
            nonopt = sum(1 for r in recs if r["workers"] == w and r["status"] != "optimal")
            by_w[w] += [r["seconds"] for r in recs if r["workers"] == w]
            m = _median([r["seconds"] for r in recs if r["workers"] == w])
            meds.append(m)
            row.append(_fmt(m) + (f" ({nonopt} not optimal)" if nonopt else "")
                       if secs or nonopt else "–")
        row.append(_fmt(max((r["peak_rss_mb"] for r in recs), default=None), 0))
        row.append(_fmt(meds[1] / meds[0]) if len(meds) > 1 and meds[0] and meds[1] else "–")
        row.append(_validity(recs))
        rows.append(row)
    head = ["instance", "requests", "status", "objective", "bound",
            *(f"median s, workers={w}" for w in cfg.workers), "peak MB", "ratio w2/w1",
            "plans"]
    all_meds = [_median(by_w[w]) for w in cfg.workers]
    ratio_all = (all_meds[1] / all_meds[0]) if len(all_meds) > 1 and all_meds[0] else None
    all_peak = max((r["peak_rss_mb"] for r in weeks), default=None)
    n_opt = sum(1 for r in weeks if r["status"] == "optimal")
    parts += ["### Ehime weeks: time to proven optimal", "",
              f"{len(cfg.week_seeds)} instance seeds × {cfg.repeats} repeats (solver seed = "
              f"repeat) × workers {', '.join(map(str, cfg.workers))}, interleaved; each solve in "
              f"a fresh process; seconds are the wall time of `solve()` (model build, search, "
              f"proof, explanations); time limit {cfg.week_time_limit:.0f} s.", "",
              _table(head, rows), "",
              f"Over all runs: median {_fmt(all_meds[0])} s with workers={cfg.workers[0]}"
              + (f", {_fmt(all_meds[1])} s with workers={cfg.workers[1]} (ratio "
                 f"{_fmt(ratio_all)})" if len(all_meds) > 1 else "")
              + f"; {n_opt} of {len(weeks)} runs proven optimal; peak resident memory "
              f"{_fmt(all_peak, 0)} MB.", "",
              "Targets: median ≤ 1 s to proven optimal — "
              + ("**met**" if all_meds[0] is not None and all_meds[0] <= 1.0 else "**not met**")
              + f" (median {_fmt(all_meds[0])} s); peak memory ≤ 1 GB — "
              + ("**met**" if all_peak is not None and all_peak <= 1024 else "**not met**")
              + f" ({_fmt(all_peak, 0)} MB).", ""]
    # 2. long horizons, synthetic
    rows = [[r["instance"], r["requests"], r["status"], r["objective"], r["bound"],
             _pct(_gap(r["objective"], r["bound"])), r["seconds"], r["served_priority"],
             r["drive_minutes"], _fmt(r["peak_rss_mb"], 0), _validity([r])]
            for r in results["long"]]
    if rows:
        parts += ["### Long horizons and synthetic instances", "",
                  f"One run each (workers=1, seed 0), time limit {cfg.long_time_limit:.0f} s; "
                  "gap = (bound − objective) / bound.", "",
                  _table(["instance", "requests", "status", "objective", "bound", "gap",
                          "seconds", "served priority", "drive min", "peak MB", "plan"], rows), ""]
    # 3. comparison
    rows = []
    worse: list[str] = []
    for name in cfg.compare_instances:
        recs = [r for r in results["compare"] if r["instance"] == f"{name}.routing"]
        dx = next((r for r in recs if r["solver"] == "dxshare"), None)
        bound = dx["bound"] if dx else None
        for r in recs:
            rows.append([name, r["requests"], r["solver"], r["status"], r["served_priority"],
                         r["drive_minutes"], r["objective"], _pct(_gap(r["objective"], bound)),
                         r["seconds"], _validity([r])])
        vr = next((r for r in recs if r["solver"] == "VROOM"), None)
        if dx and vr and (dx["served_priority"] or 0) < (vr["served_priority"] or 0):
            worse.append(name)
    if rows:
        parts += ["### Same problem, three solvers (routing subsets)", "",
                  "Each instance's routing subset (`<name>.routing.json`: on-site single-field "
                  "requests, fixed visits as ordinary requests, no location caps, no total or "
                  "on-site-day caps; per-day visit and drive caps kept). Gap is measured against "
                  "dxshare's proven bound on the same problem, so it applies to all three. "
                  f"dxshare and OR-Tools routing: {cfg.compare_time_limit:.0f} s limit, one "
                  "thread; VROOM: exploration level 5, one thread, runs to its own end.", "",
                  _table(["instance", "requests", "solver", "status", "served priority",
                          "drive min", "objective", "gap to bound", "seconds", "plan"], rows), "",
                  "Target: dxshare's served priority never below VROOM's — "
                  + ("**met** on every instance." if not worse
                     else f"**not met** on {', '.join(worse)}."), ""]
    parts += ["The *plan(s)* columns: every plan of the row run through the validity checker "
              "(`engine.checker.check_plan`, FORMAT.md's rules) against its instance.", "",
              "Raw records (every run, with its plan and its violations, if any): "
              "`benchmarks/results/planner.json`.", END]
    return "\n".join(parts)


def write_section(path: Path, section: str) -> None:
    """Replace the text between the planner markers of ``path`` (append if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_planner",
                                 description="Benchmark the weekly planner against VROOM and "
                                             "OR-Tools routing; write benchmarks/README.md.")
    ap.add_argument("--quick", action="store_true", help="a short smoke run (~2 minutes)")
    ap.add_argument("--regenerate", action="store_true",
                    help="rewrite benchmarks/instances/ from the generators first")
    ap.add_argument("--no-readme", action="store_true",
                    help="print the tables instead of writing benchmarks/README.md")
    ap.add_argument("--results", type=Path, default=None,
                    help="where to write the raw records (default benchmarks/results/"
                         "planner.json, or planner-quick.json with --quick)")
    ap.add_argument("--report-only", action="store_true",
                    help="solve nothing: rebuild the tables from the stored raw records")
    args = ap.parse_args(argv)
    cfg = BenchConfig.smoke() if args.quick else BenchConfig()
    res_path = args.results or (RESULTS.with_name("planner-quick.json") if args.quick
                                else RESULTS)
    command = "python -m benchmarks.run_planner" + (" --quick" if args.quick else "")
    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    if args.report_only:
        results = json.loads(res_path.read_text(encoding="utf-8"))
    else:
        if args.regenerate:
            write_instances()
        results = run(cfg)
        results["meta"] = {"date": dt.date.today().isoformat(), "command": command,
                           "machine": _machine(), "versions": _versions(),
                           "total_seconds": round(time.perf_counter() - t0, 1),
                           "load_average_1min": [round(load_before, 1),
                                                 round(os.getloadavg()[0], 1)],
                           "config": {k: v for k, v in cfg.__dict__.items()}}
        res_path.parent.mkdir(parents=True, exist_ok=True)
        res_path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    check_records(results)
    res_path.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
    section = report(results, cfg, results["meta"]["command"], results["meta"])
    if args.no_readme:
        print(section)
    else:
        write_section(README, section)
    _log(f"done in {time.perf_counter() - t0:.0f} s; raw records in {res_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
