"""HTTP service benchmark on loopback: recommendations throughput/latency and the demo
week's plan job from POST to finished plan.

Starts a real server process (``dxshare serve`` on a temporary SQLite file seeded with the
demo week), creates keys through the CLI, then in the same go and alternating by round:

- ``GET /v1/matching/needs/{id}/recommendations`` from a municipality key and the centre key,
  ``concurrency`` clients, ``requests`` per round; throughput and p50/p99 latency; the peer
  is ``GET /v1/health`` under the same load (HTTP + database round trip, no matching), and
  the ratio is reported;
- ``POST /v1/plan-jobs`` with the CLI demo week's plan-request/1 document, and with
  ``{"week": ...}`` (built from the database), then polling until done, ``jobs`` times each;
  the peer is ``solvers.planner.solve`` on the same document in this process.

Medians over rounds. Writes ``benchmarks/results/service.md``.

    python -m benchmarks.bench_service [--rounds 3] [--requests 1500] [--concurrency 4]
        [--jobs 3] [--time-limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

__all__ = ["main"]

DXSHARE = [sys.executable, "-m", "service.cli"]
ROOT = Path(__file__).resolve().parents[1]
WEEK = "2026-12-07"
DEMO_SEED = 8  # the CLI demo week's seed


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([*DXSHARE, *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout.strip()


async def _load(base: str, headers: dict[str, str], paths: list[str], n: int,
                concurrency: int) -> tuple[float, list[float], int]:
    """``n`` GETs cycling over ``paths`` from ``concurrency`` clients: (seconds, latencies,
    non-200 count)."""
    lat: list[float] = []
    bad = 0
    counter = iter(range(n))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal bad
        for i in counter:
            t = time.perf_counter()
            r = await client.get(paths[i % len(paths)], headers=headers)
            lat.append(time.perf_counter() - t)
            bad += r.status_code != 200

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        return time.perf_counter() - t0, lat, bad


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.array(xs), q)) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "service.md"))
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="dxshare-bench-"))
    db = tmp / "bench.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    env["PYTHONPATH"] = str(ROOT)
    centre = _cli(env, "keys", "create", "--db", str(db), "--role", "centre")
    muni_code = "384429"
    muni = _cli(env, "keys", "create", "--db", str(db), "--role", "municipality",
                "--municipality", muni_code)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*DXSHARE, "serve", "--port", str(port),
                             "--db", str(db), "--demo-week", WEEK, "--log-level", "warning"],
                            cwd=ROOT, env=env, start_new_session=True)
    hc = {"Authorization": f"Bearer {centre}"}
    hm = {"Authorization": f"Bearer {muni}"}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        needs_all = [n["id"] for n in httpx.get(f"{base}/v1/matching/needs", headers=hc,
                                                timeout=60).json()]
        needs_muni = [n["id"] for n in httpx.get(f"{base}/v1/matching/needs", headers=hm,
                                                 timeout=60).json()]
        rec_all = [f"/v1/matching/needs/{n}/recommendations?k=10" for n in needs_all]
        rec_muni = [f"/v1/matching/needs/{n}/recommendations?k=10" for n in needs_muni]
        # first pass over every need and viewer: the uncached latencies
        cold = asyncio.run(_load(base, hc, rec_all, len(rec_all), 1))[1]
        cold += asyncio.run(_load(base, hm, rec_muni, len(rec_muni), 1))[1]
        rows: dict[str, list[tuple[float, float, float, int]]] = {
            "recommendations (centre, 60 needs)": [],
            f"recommendations (municipality {muni_code}, own needs)": [],
            "health (peer)": []}
        for _ in range(args.rounds):
            for name, h, paths in (("recommendations (centre, 60 needs)", hc, rec_all),
                                   (f"recommendations (municipality {muni_code}, own needs)",
                                    hm, rec_muni),
                                   ("health (peer)", {}, ["/v1/health"])):
                secs, lat, bad = asyncio.run(_load(base, h, paths, args.requests,
                                                   args.concurrency))
                rows[name].append((args.requests / secs, _pct(lat, 50), _pct(lat, 99), bad))

        from engine.demand import ehime_week_document
        from engine.format import parse_plan_request
        from solvers.planner import SolveOptions, solve

        demo_doc = ehime_week_document(WEEK, seed=DEMO_SEED)
        jobs: dict[str, dict[str, list]] = {}
        for _ in range(args.jobs):
            for name, body, query in (
                    ("demo week (plan-request/1 body)", demo_doc,
                     f"?time_limit={args.time_limit}"),
                    ("demo week from the database ({\"week\": ...})",
                     {"week": WEEK, "time_limit": args.time_limit,
                      "blackouts": demo_doc["horizon"]["blackouts"]}, "")):
                row = jobs.setdefault(name, {"http": [], "status": [], "direct": [],
                                             "direct_status": []})
                t = time.perf_counter()
                r = httpx.post(f"{base}/v1/plan-jobs{query}", headers=hc, timeout=30,
                               json=body)
                url = r.json()["url"]
                while True:
                    j = httpx.get(f"{base}{url}", headers=hc, timeout=30).json()
                    if j["status"] not in ("queued", "running"):
                        break
                    time.sleep(0.1)
                row["http"].append(time.perf_counter() - t)
                row["status"].append(f"{j['status']}/{(j['plan'] or {}).get('status')}")
                doc = _job_doc(db, j["id"])
                t = time.perf_counter()
                plan = solve(parse_plan_request(doc), SolveOptions(time_limit=args.time_limit))
                row["direct"].append(time.perf_counter() - t)
                row["direct_status"].append(f"{plan.status} ({len(doc['requests'])} requests)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)

    med = statistics.median
    peer_rps = med(x[0] for x in rows["health (peer)"])
    lines = [
        "# Service benchmark", "",
        f"`python -m benchmarks.bench_service --rounds {args.rounds} --requests "
        f"{args.requests} --concurrency {args.concurrency} --jobs {args.jobs} --time-limit "
        f"{args.time_limit:g}`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; server and load generator share the machine "
        "(loopback, one uvicorn process, SQLite in WAL mode). Load average at the end: "
        f"{os.getloadavg()[0]:.1f}.", "",
        "## Recommendations (target ≥ 200 requests/s, p99 ≤ 100 ms)", "",
        "| route | requests/s (median) | p50 ms | p99 ms | non-200 | ratio to peer |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, rs in rows.items():
        rps = med(x[0] for x in rs)
        lines.append(f"| {name} | {rps:.0f} | {med(x[1] for x in rs):.1f} | "
                     f"{med(x[2] for x in rs):.1f} | {sum(x[3] for x in rs)} | "
                     f"{rps / peer_rps:.2f} |")
    lines += ["", f"First (uncached) request per need and viewer, one client: p50 "
              f"{_pct(cold, 50):.1f} ms, p99 {_pct(cold, 99):.1f} ms over {len(cold)} "
              "requests.", "",
              "## Plan job for the demo week (target ≤ 5 s from POST to finished plan)", "",
              "| job | POST → done over HTTP, s (median) | runs | status | peer: `solve()` "
              "in process, s (median) | runs | status | ratio |",
              "|---|---:|---|---|---:|---|---|---:|"]
    for name, row in jobs.items():
        lines.append(
            f"| {name} | {med(row['http']):.2f} | "
            f"{', '.join(f'{x:.2f}' for x in row['http'])} | {', '.join(row['status'])} | "
            f"{med(row['direct']):.2f} | {', '.join(f'{x:.2f}' for x in row['direct'])} | "
            f"{', '.join(row['direct_status'])} | "
            f"{med(row['http']) / med(row['direct']):.2f} |")
    lines += ["", "The database week gets the demo's blackout in the body but has no "
              "pre-published visit (publishing is done through the service), so it is a "
              "slightly different instance from the CLI demo document.", ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


def _job_doc(db: Path, job_id: str) -> dict:
    from service.db import PlanJob, make_engine, session_factory

    eng = make_engine(f"sqlite:///{db}")
    try:
        with session_factory(eng)() as s:
            return dict(s.get(PlanJob, job_id).request_doc)
    finally:
        eng.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
