"""Country scale: dxshare by parts against VROOM, the national demo week, and Dask scaling.

    python -m benchmarks.bench_country [--quick]

Writes ``benchmarks/results/country.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md). Needs the ``bench`` extra (pyvroom, psutil, pyarrow, distributed).

1. Routing subsets of country-sized weeks (``country-400``: 400 places, 40 experts, 1,000
   on-site requests; ``japan-week.routing``: the national week's on-site single-field
   requests), one thread each: VROOM at exploration level 5 with one thread (stopped after
   ``--vroom-cap`` seconds), then dxshare by parts on one worker with 90 % of VROOM's wall
   time as its limit: served priority, objective, wall, validity.
2. The same with two: VROOM with two threads; dxshare's parts on a local Dask cluster of two
   worker processes (started beforehand, as an existing cluster is).
3. The national demo week with all its rules (``japan-week``): ``dxshare plan --time-limit 60
   --executor dask`` on two workers, as a user runs it (a subprocess; its wall time includes
   reading the request and writing the plan), with the peak memory of the whole process tree;
   then with local worker processes.
4. Throughput of the distributed engine: the parts of ``country-400``, each search with a
   fixed deterministic time limit (so the work is the same), solved on a Dask cluster of one
   worker and of two, alternating; parts per second and the ratio.

Every plan is run through the validity checker. The machine is shared: the 1-minute load
average is recorded before and after, and comparisons are made within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import INSTANCE_DIR

__all__ = ["main"]

OUT = Path(__file__).parent / "results" / "country.md"


class PeakMemory:
    """Peak resident memory of a process and all its children, sampled every 0.2 s."""

    def __init__(self, pid: int | None = None):
        import psutil

        self._proc = psutil.Process(pid or os.getpid())
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                procs = [self._proc, *self._proc.children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _load(name: str) -> Any:
    from engine.format import load_plan_request

    return load_plan_request(INSTANCE_DIR / f"{name}.json")


def _row(problem: Any, plan: Any, seconds: float, who: str, note: str = "") -> dict[str, Any]:
    from engine.checker import check_plan

    bad = check_plan(problem, plan)
    return {"solver": who, "served_priority": plan.kpis["served_priority"],
            "visits": plan.kpis["visits"], "objective": plan.objective, "bound": plan.bound,
            "seconds": round(seconds, 1), "valid": not bad, "violations": len(bad),
            "note": note}


def _vroom(problem: Any, threads: int, cap: float) -> tuple[Any, float]:
    from benchmarks.peers import solve_vroom

    t = time.perf_counter()
    plan = solve_vroom(problem, threads=threads, exploration_level=5, time_limit=cap)
    return plan, time.perf_counter() - t


def _dxshare(problem: Any, limit: float, executor: str, workers: int,
             address: str | None = None) -> tuple[Any, float]:
    from solvers.planner import SolveOptions, solve

    t = time.perf_counter()
    plan = solve(problem, SolveOptions(time_limit=limit, decompose="always", executor=executor,
                                       executor_workers=workers, executor_address=address))
    return plan, time.perf_counter() - t


def routing_rows(names: list[str], cap: float, cluster_address: str) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        problem = _load(name)
        for threads in (1, 2):
            vplan, vsec = _vroom(problem, threads, cap)
            rows.append({"instance": name, "threads": threads, "requests": len(problem.requests),
                         **_row(problem, vplan, vsec, "VROOM (exploration 5)",
                                f"stopped at {cap:.0f} s" if vsec >= cap - 1 else "")})
            limit = max(5.0, 0.9 * vsec)
            if threads == 1:
                plan, sec = _dxshare(problem, limit, "serial", 1)
                how = "dxshare by parts, one worker"
            else:
                plan, sec = _dxshare(problem, limit, "dask", 2, cluster_address)
                how = "dxshare by parts, 2 Dask workers"
            s = plan.solver
            rows.append({"instance": name, "threads": threads, "requests": len(problem.requests),
                         **_row(problem, plan, sec, how,
                                f"limit {limit:.0f} s, {s.get('parts')} parts, gap "
                                f"{100 * float(s.get('gap', 0)):.1f} %")})
            print(rows[-2], rows[-1], sep="\n", flush=True)
    return rows


def national(limit: float, executor: str, address: str | None) -> dict[str, Any]:
    """``dxshare plan`` on the national week as a subprocess: wall, memory, validity."""
    from engine.checker import check_plan
    from engine.format import load_plan

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plan.json"
        cmd = [sys.executable, "-m", "service.cli", "--lang", "en", "plan",
               str(INSTANCE_DIR / "japan-week.json"), "--out", str(out), "--quiet",
               "--time-limit", str(limit), "--executor", executor, "--executor-workers", "2"]
        if address:
            cmd += ["--dask-address", address]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        with PeakMemory(proc.pid) as mem:
            _out, err = proc.communicate()
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not out.exists():
            return {"executor": executor, "error": err[-500:], "wall": wall}
        plan = load_plan(out)
        doc = json.loads(out.read_text(encoding="utf-8"))
    problem = _load("japan-week")
    bad = check_plan(problem, plan)
    return {"executor": executor, "wall": round(wall, 1),
            "solve_seconds": round(plan.solve_seconds, 1), "status": plan.status,
            "served_priority": plan.kpis["served_priority"], "visits": plan.kpis["visits"],
            "objective": plan.objective, "bound": plan.bound,
            "gap": doc.get("solver", {}).get("gap"), "parts": doc.get("solver", {}).get("parts"),
            "valid": not bad, "violations": len(bad), "peak_mb": round(mem.peak / 2**20)}


def _timed_part(problem: Any, dtime: float) -> float:
    """One part with a deterministic limit; the CPU seconds its worker process spent."""
    from solvers.planner import solve_part as _solve_part

    cpu = time.process_time()
    _solve_part(problem, 60.0, 0, dtime, ())
    return time.process_time() - cpu


def _warm(problem: Any) -> bool:
    from solvers.planner import solve_part as _solve_part

    _solve_part(problem, 5.0, 0, 0.05, ())
    return True


def throughput(repeats: int, dtime: float) -> dict[str, Any]:
    """The parts of ``country-400`` (each search with a deterministic limit, so the work is
    the same on any worker) on a fresh local Dask cluster of 1 and then 2 workers."""
    from distributed import Client, LocalCluster

    from engine.travel import TravelTimes
    from solvers.parts import RegionSplit, sub_problem

    problem = _load("country-400")
    travel = TravelTimes(problem)
    parts = [sub_problem(problem, h, (), travel) for h in RegionSplit().parts(problem, travel)]
    times: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.wait_for_workers(n)
                # warm every worker with a solve of its own (imports, first model) before timing
                client.run(_warm, parts[0])
                t = time.perf_counter()
                futs = [client.submit(_timed_part, p, dtime, pure=False) for p in parts]
                cpu[n].append(sum(client.gather(futs)))
                times[n].append(time.perf_counter() - t)
            print("throughput", n, times[n][-1], flush=True)
    med = {n: statistics.median(v) for n, v in times.items()}
    return {"parts": len(parts), "dtime": dtime, "seconds": times, "cpu": cpu, "median": med,
            "per_second": {n: len(parts) / med[n] for n in med}, "ratio": med[1] / med[2],
            "load": os.getloadavg()[0]}


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> list[str]:
    out = ["| " + " | ".join(h for h, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(k, "")) for _, k in cols) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="country-400 only, short runs")
    ap.add_argument("--vroom-cap", type=float, default=150.0,
                    help="seconds after which VROOM is stopped (default 150)")
    ap.add_argument("--national-limit", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only-throughput", action="store_true",
                    help="measure the throughput again; the other tables from the stored "
                         "records (results/country.json)")
    args = ap.parse_args(argv)
    from distributed import LocalCluster

    t_all = time.perf_counter()
    load0 = os.getloadavg()[0]
    names = ["country-400"] if args.quick else ["country-400", "japan-week.routing"]
    stored = OUT.with_suffix(".json")
    if args.only_throughput:
        old = json.loads(stored.read_text(encoding="utf-8"))
        rows, nat = old["routing"], old["national"]
        load0 = old.get("load_start", load0)
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            rows = routing_rows(names, 30.0 if args.quick else args.vroom_cap,
                                cluster.scheduler_address)
            nat = [national(args.national_limit, "dask", cluster.scheduler_address)]
        print(nat[-1], flush=True)
        nat.append(national(args.national_limit, "processes", None))
        print(nat[-1], flush=True)
    thr = throughput(1 if args.quick else args.repeats, 0.25)
    load1 = os.getloadavg()[0]
    from importlib.metadata import version

    import ortools

    lines = [
        "# Country scale (`python -m benchmarks.bench_country`)",
        "",
        f"Run {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}, ortools {ortools.__version__}, pyvroom "
        f"{version('pyvroom')}; "
        + ("the throughput measured again in this run, the other tables from the stored records "
           "of the run before (same code). " if args.only_throughput else
           f"the whole run took {(time.perf_counter() - t_all) / 60:.0f} min. ")
        + "The machine is shared: its 1-minute "
        f"load average was {load0:.1f} at the start and {load1:.1f} at the end (2 cores), so "
        "every process got well under a core; compare within a table.",
        "",
        "## Routing subsets: served priority against VROOM at equal or less wall time",
        "",
        "VROOM: exploration level 5, stopped after "
        f"{30.0 if args.quick else args.vroom_cap:.0f} s if still running. dxshare: by parts "
        "(regions), its time limit 90 % of VROOM's wall time in the same row pair; one worker "
        "in this process for one thread, a local Dask cluster of two worker processes for two.",
        "",
        *_table(rows, [("instance", "instance"), ("threads", "threads"),
                       ("requests", "requests"), ("solver", "solver"),
                       ("served priority", "served_priority"), ("visits", "visits"),
                       ("objective", "objective"), ("seconds", "seconds"),
                       ("valid", "valid"), ("notes", "note")]),
        "",
    ]
    verdicts = []
    for i in range(0, len(rows), 2):
        v, d = rows[i], rows[i + 1]
        ok = d["served_priority"] >= v["served_priority"] and d["seconds"] <= v["seconds"] * 1.0
        verdicts.append(f"{v['instance']}, {v['threads']} thread(s): "
                        f"{'**met**' if ok else '**not met**'} ({d['served_priority']} vs "
                        f"{v['served_priority']}, {d['seconds']} s vs {v['seconds']} s)")
    lines += ["Target: served priority ≥ VROOM's at equal or less wall time — "
              + "; ".join(verdicts) + ".", ""]
    lines += ["## National demo week (all rules): `dxshare plan --time-limit "
              f"{args.national_limit:.0f}`", "",
              "1,741 municipalities, 250 experts, 2,500 requests (joint, online, windows, caps); "
              "wall is the whole command (reading the request and its matrix file, solving, "
              "writing the plan); memory is the peak of the process and all its workers.", ""]
    lines += _table(nat, [("executor", "executor"), ("wall s", "wall"),
                          ("solve s", "solve_seconds"), ("status", "status"),
                          ("served priority", "served_priority"), ("visits", "visits"),
                          ("objective", "objective"), ("bound", "bound"), ("gap", "gap"),
                          ("parts", "parts"), ("valid", "valid"), ("peak MB", "peak_mb")])
    lim = args.national_limit
    met_time = all(r.get("valid") and r.get("wall", 1e9) <= 1.1 * lim for r in nat)
    met_mem = all(r.get("peak_mb", 1e9) <= 4096 for r in nat)
    lines += ["", f"Targets: a valid plan within {lim:.0f} s (+10 %) — "
              f"{'**met**' if met_time else '**not met**'}; peak memory ≤ 4 GB — "
              f"{'**met**' if met_mem else '**not met**'}.", ""]
    lines += ["## Throughput from one to two Dask workers", "",
              f"The {thr['parts']} parts of `country-400`, each search with a deterministic limit "
              f"of {thr['dtime']} (the same work whichever worker runs it), on a fresh local "
              "cluster of one worker and of two, alternating "
              f"({len(thr['seconds'][1])} rounds).", "",
              "| workers | seconds (each round) | median s | parts per second | CPU seconds of "
              "the parts (each round) | cores the workers got (CPU s ÷ wall s) |",
              "|---|---|---|---|---|---|"]
    for n in (1, 2):
        cores = [c / s for c, s in zip(thr["cpu"][n], thr["seconds"][n], strict=True)]
        lines.append(f"| {n} | {', '.join(f'{x:.1f}' for x in thr['seconds'][n])} | "
                     f"{thr['median'][n]:.1f} | {thr['per_second'][n]:.2f} | "
                     f"{', '.join(f'{x:.1f}' for x in thr['cpu'][n])} | "
                     f"{', '.join(f'{x:.2f}' for x in cores)} |")
    lines += ["", f"Scaling: **{thr['ratio']:.2f}×** (target ≥ 1.7×: "
              f"{'**met**' if thr['ratio'] >= 1.7 else '**not met**'}); 1-minute load average "
              f"{thr['load']:.1f} at the end of this measurement.", ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stored.write_text(json.dumps(
        {"routing": rows, "national": nat, "throughput": thr, "load_start": load0}, indent=1,
        default=str) + "\n", encoding="utf-8")
    print(f"written {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
