"""The planner benchmark: one command, results into benchmarks/README.md.

    python -m benchmarks.run_planner            # full run (about 40 minutes on 2 cores)
    python -m benchmarks.run_planner --quick    # smoke run (a few minutes)

What it measures (instances from ``benchmarks/instances/``, written by ``benchmarks.generate``,
and online-heavy weeks drawn by ``engine.demand`` with the parameters below):

1. *Ehime weeks*: time to a proof. Each seed × repeats, dxshare as it ships and dxshare with
   every day a circuit (``SolveOptions.model={"use_tours": False}``) interleaved (the peer run
   in the same go, so the shared machine's noise hits both alike), each solve in a fresh process
   that reports its wall seconds, its stages (``plan.solver["seconds"]``) and its peak resident
   memory (``ru_maxrss``); and once per week a plain CP-SAT model written apart from the planner
   (``benchmarks/plain_cpsat.py``) with the same limit.
2. *Online-heavy weeks*: 20 weeks of 50 requests, 40/50/60 % online, every request a two-hour
   window: dxshare's status and the plain model's best plan in the same limit; a plan the plain
   model finds that beats one dxshare called optimal would prove dxshare wrong.
3. *Long horizons and synthetic*: objective, bound and gap after the time limit, one run each.
4. *Routing subsets*: dxshare, VROOM and OR-Tools routing on the same restricted problem:
   served priority, driving, objective, seconds, status and gap to dxshare's proven bound.

Every plan of every record goes through the validity checker. Raw records go to
``benchmarks/results/planner.json``; the tables replace the part of ``benchmarks/README.md``
between ``<!-- planner:begin -->`` and ``<!-- planner:end -->``.
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

#: The formulations compared on the Ehime weeks (``SolveOptions.model``).
VARIANTS: dict[str, dict[str, Any]] = {"dxshare": {}, "dxshare, circuits": {"use_tours": False}}

#: How the online-heavy weeks are drawn (``engine.demand.ehime_week_document``).
ONLINE_HEAVY = {"start": "2026-12-07", "requests_per_week": 50, "window_share": 1.0,
                "window_minutes": 120}
ONLINE_SHARES = (0.4, 0.5, 0.6)


def online_heavy_doc(seed: int) -> dict[str, Any]:
    """The online-heavy week of ``seed`` (seeds 200–219; the share of online consultations
    cycles through 40, 50 and 60 %)."""
    from engine.demand import ehime_week_document

    kw = dict(ONLINE_HEAVY)
    return ehime_week_document(kw.pop("start"), seed=seed,
                               online_share=ONLINE_SHARES[seed % len(ONLINE_SHARES)], **kw)


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures; ``quick`` shrinks everything to a smoke test."""

    week_seeds: tuple[int, ...] = EHIME_SEEDS
    repeats: int = 3
    week_time_limit: float = 60.0
    plain_time_limit: float = 60.0
    heavy_seeds: tuple[int, ...] = tuple(range(200, 220))
    heavy_time_limit: float = 60.0
    heavy_plain_time_limit: float = 30.0
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
                   plain_time_limit=10.0, heavy_seeds=(200, 201), heavy_plain_time_limit=10.0,
                   long_instances=("ehime-4w",), long_time_limit=10.0, synthetic_instances=(),
                   compare_instances=("ehime-week-s0", "ehime-week-s1"),
                   compare_time_limit=10.0, quick=True)


# ---------------------------------------------------------------------------- one solve
def _load(source: str) -> Any:
    """A problem by instance path, or ``heavy:SEED`` for an online-heavy week."""
    from engine.format import load_plan_request, parse_plan_request

    if source.startswith("heavy:"):
        return parse_plan_request(online_heavy_doc(int(source.split(":", 1)[1])))
    return load_plan_request(source)


def _name(source: str) -> str:
    return f"online-heavy-s{source.split(':', 1)[1]}" if source.startswith("heavy:") \
        else Path(source).stem


def measure_solve(source: str, seed: int, workers: int, time_limit: float,
                  variant: str = "dxshare") -> dict[str, Any]:
    """Solve one instance with dxshare in this process and report the plan's figures, the
    solve's wall seconds, its stages and the process's peak resident memory. Run it in a fresh
    process (``_in_fresh_process``) so that the peak belongs to this solve alone."""
    import resource

    from engine.format import plan_to_dict
    from solvers.planner import SolveOptions, solve

    problem = _load(source)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=time_limit, seed=seed, workers=workers,
                                       model=VARIANTS[variant]))
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "instance": _name(source), "source": source, "solver": variant, "seed": seed,
        "workers": workers, "time_limit": time_limit, "status": plan.status,
        "objective": plan.objective, "bound": plan.bound, "seconds": round(wall, 3),
        "stages": plan.solver.get("seconds"),
        "peak_rss_mb": round(rss / 1024, 1), "rss_after_imports_mb": round(rss_before / 1024, 1),
        "served_priority": plan.kpis.get("served_priority"),
        "drive_minutes": plan.kpis.get("drive_minutes"), "visits": plan.kpis.get("visits"),
        "requests": plan.kpis.get("requests"), "plan": plan_to_dict(plan),
    }


def measure_plain(source: str, time_limit: float) -> dict[str, Any]:
    """The plain CP-SAT peer (``benchmarks/plain_cpsat.py``) on one instance."""
    from benchmarks.plain_cpsat import solve_plain
    from engine.format import plan_to_dict

    problem = _load(source)
    t0 = time.perf_counter()
    plan = solve_plain(problem, time_limit=time_limit)
    return {
        "instance": _name(source), "source": source, "solver": "plain CP-SAT", "seed": 0,
        "workers": 1, "time_limit": time_limit, "status": plan.status,
        "objective": plan.objective, "bound": plan.bound,
        "seconds": round(time.perf_counter() - t0, 3),
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
        "instance": Path(path).stem, "source": path, "solver": plan.solver["name"], "seed": None,
        "workers": 1, "time_limit": time_limit if kind != "vroom" else None,
        "status": plan.status, "objective": plan.objective, "bound": plan.bound,
        "seconds": round(wall, 3), "served_priority": plan.kpis.get("served_priority"),
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
        write_instances()
    out: dict[str, Any] = {"weeks": [], "heavy": [], "long": [], "compare": []}
    for seed in cfg.week_seeds:
        path = str(instance_path(f"ehime-week-s{seed}"))
        for rep in range(cfg.repeats):
            for variant in VARIANTS:
                rec = _in_fresh_process(measure_solve, path, rep, 1, cfg.week_time_limit,
                                        variant)
                rec["repeat"] = rep
                _log(_short(rec))
                out["weeks"].append(rec)
        rec = _in_fresh_process(measure_plain, path, cfg.plain_time_limit)
        _log(_short(rec))
        out["weeks"].append(rec)
    for seed in cfg.heavy_seeds:
        for rec in (_in_fresh_process(measure_solve, f"heavy:{seed}", 0, 1,
                                      cfg.heavy_time_limit),
                    _in_fresh_process(measure_plain, f"heavy:{seed}",
                                      cfg.heavy_plain_time_limit)):
            _log(_short(rec))
            out["heavy"].append(rec)
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
    from engine.format import parse_plan

    problems: dict[str, Any] = {}
    for section in ("weeks", "heavy", "long", "compare"):
        for rec in results.get(section, []):
            if "plan" not in rec:
                continue
            source = rec.get("source") or str(instance_path(rec["instance"]))
            if source not in problems:
                problems[source] = _load(source)
            found = check_plan(problems[source], parse_plan(rec["plan"]))
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


def _beaten(dx: dict[str, Any] | None, peers: list[dict[str, Any]]) -> bool:
    """Whether a valid peer plan beats a plan dxshare called optimal."""
    return bool(dx and dx["status"] == "optimal" and any(
        p["objective"] is not None and not p.get("violations") and p["objective"] > dx["objective"]
        for p in peers))


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
    variants = list(VARIANTS)
    by_v: dict[str, list[float]] = {v: [] for v in variants}
    beaten: list[str] = []
    plain_optimal = 0
    for seed in cfg.week_seeds:
        name = f"ehime-week-s{seed}"
        recs = [r for r in weeks if r["instance"] == name]
        dx = [r for r in recs if r["solver"] == variants[0]]
        plain = next((r for r in recs if r["solver"] == "plain CP-SAT"), None)
        row: list[Any] = [name, dx[0]["requests"] if dx else None,
                          "/".join(sorted({r["status"] for r in dx})),
                          dx[0]["objective"] if dx else None, dx[0]["bound"] if dx else None]
        meds = []
        for v in variants:
            mine = [r for r in recs if r["solver"] == v]
            by_v[v] += [r["seconds"] for r in mine]
            nonopt = sum(1 for r in mine if r["status"] != "optimal")
            m = _median([r["seconds"] for r in mine])
            meds.append(m)
            row.append(_fmt(m) + (f" ({nonopt} not optimal)" if nonopt else ""))
        row.append(_fmt(meds[1] / meds[0]) if meds[0] and meds[1] else "–")
        builds = [r["stages"]["model"] for r in dx if r.get("stages", {}).get("model")]
        row.append(_fmt(_median(builds)))
        if plain is not None:
            plain_optimal += plain["status"] == "optimal"
            row.append(f"{plain['status']} {_fmt(plain['objective'])} in {_fmt(plain['seconds'])} s")
        else:
            row.append("–")
        if any(_beaten(r, [p for p in recs if p is not r]) for r in dx):
            beaten.append(name)
        row.append(_fmt(max((r.get("peak_rss_mb") or 0 for r in recs), default=None), 0))
        row.append(_validity(recs))
        rows.append(row)
    head = ["instance", "requests", "status", "objective", "bound",
            *(f"median s, {v}" for v in variants), "ratio", "model built at s",
            f"plain CP-SAT, {cfg.plain_time_limit:.0f} s", "peak MB", "plans"]
    med = _median(by_v[variants[0]])
    med_c = _median(by_v[variants[1]])
    n_runs = sum(1 for r in weeks if r["solver"] == variants[0])
    n_opt = sum(1 for r in weeks if r["solver"] == variants[0] and r["status"] == "optimal")
    all_peak = max((r.get("peak_rss_mb") or 0 for r in weeks), default=None)
    parts += ["### Ehime weeks: time to proven optimal", "",
              f"{len(cfg.week_seeds)} instance seeds × {cfg.repeats} repeats (solver seed = "
              f"repeat) × {len(variants)} formulations, interleaved: `dxshare` as it ships, "
              "`dxshare, circuits` with every day a circuit over its legs instead of a choice "
              "among its tours (same rules, same search); each solve in a fresh process; seconds "
              "are the wall time of `solve()` (first plan, model, search, proof, explanations); "
              f"time limit {cfg.week_time_limit:.0f} s. *Model built at* is when the model was "
              "ready (`plan.solver.seconds.model`). The plain CP-SAT model "
              "(`benchmarks/plain_cpsat.py`, written apart from the planner, no hint, nothing "
              "redundant) runs once per week with the same rules.", "",
              _table(head, rows), "",
              f"Over all runs: median {_fmt(med)} s as shipped, {_fmt(med_c)} s with circuits "
              f"(ratio {_fmt(med_c / med if med and med_c else None)}); {n_opt} of {n_runs} runs "
              f"proven optimal; the plain model proves {plain_optimal} of "
              f"{len(cfg.week_seeds)} weeks within {cfg.plain_time_limit:.0f} s; peak resident "
              f"memory {_fmt(all_peak, 0)} MB.", "",
              "Targets: median ≤ 0.5 s to a proof — "
              + ("**met**" if med is not None and med <= 0.5 else "**not met**")
              + f" (median {_fmt(med)} s; stretch 0.2 s "
              + ("met" if med is not None and med <= 0.2 else "not met") + "); no plan called "
              "optimal is beaten by a peer — "
              + ("**met**" if not beaten else f"**not met** on {', '.join(beaten)}") + ".", ""]
    # 2. online-heavy weeks
    heavy = results.get("heavy", [])
    if heavy:
        rows = []
        beaten_h: list[str] = []
        secs = []
        for seed in cfg.heavy_seeds:
            name = f"online-heavy-s{seed}"
            dx = next((r for r in heavy if r["instance"] == name and r["solver"] == "dxshare"),
                      None)
            pl = next((r for r in heavy if r["instance"] == name
                       and r["solver"] == "plain CP-SAT"), None)
            if dx is None:
                continue
            secs.append(dx["seconds"])
            if _beaten(dx, [pl] if pl else []):
                beaten_h.append(name)
            share = ONLINE_SHARES[seed % len(ONLINE_SHARES)]
            rows.append([name, f"{share:.0%}", dx["status"], dx["objective"], dx["bound"],
                         dx["seconds"], pl["status"] if pl else "–",
                         pl["objective"] if pl else "–", pl["seconds"] if pl else "–",
                         "**yes**" if name in beaten_h else "no", _validity([dx] + ([pl] if pl
                                                                                   else []))])
        n_opt_h = sum(1 for r in heavy if r["solver"] == "dxshare" and r["status"] == "optimal")
        parts += ["### Online-heavy weeks: is `optimal` ever beaten?", "",
                  f"{len(rows)} weeks drawn by `engine.demand.ehime_week_document` (seeds "
                  f"{cfg.heavy_seeds[0]}–{cfg.heavy_seeds[-1]}, {ONLINE_HEAVY['requests_per_week']} "
                  "requests, 40/50/60 % online consultations in turn, every request a "
                  f"{ONLINE_HEAVY['window_minutes']}-minute window); dxshare with a "
                  f"{cfg.heavy_time_limit:.0f} s limit, the plain CP-SAT model with "
                  f"{cfg.heavy_plain_time_limit:.0f} s. *Beaten*: the plain model found a valid "
                  "plan better than one dxshare called optimal.", "",
                  _table(["week", "online", "dxshare", "objective", "bound", "seconds",
                          "plain CP-SAT", "objective", "seconds", "beaten", "plans"], rows), "",
                  f"dxshare: {n_opt_h} of {len(rows)} proven optimal, median {_fmt(_median(secs))} "
                  f"s; plans called optimal and beaten: {len(beaten_h)} (target 0 — "
                  + ("**met**" if not beaten_h else "**not met**") + ").", ""]
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
