"""How long ``dxshare plan week.json`` takes as a whole process, against its floor.

The floor (the peer) is a bare ``python -c "import ortools.sat.python.cp_model"``: every plan
needs CP-SAT, and importing it already loads numpy and pandas. The target (issue 10) is the
whole plan process on a 20-request week at most 1.5 × the peer. Runs alternate peer and plan
in the same go (the machine is shared), and the table gives medians and the ratio of medians,
with the load average before and after.

    python -m benchmarks.bench_startup            # 9 rounds, writes results/startup.md
    python -m benchmarks.bench_startup --rounds 3
    python -m benchmarks.collect                  # folds it into benchmarks/README.md
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
import time
from pathlib import Path

__all__ = ["main", "measure"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER = [sys.executable, "-c", "import ortools.sat.python.cp_model"]
#: Modules the plan path must not load (they belong to other commands).
HEAVY = ("networkx", "scipy", "dask", "distributed", "sqlalchemy", "matplotlib",
         "solvers.matching", "fastapi", "uvicorn", "alembic", "yaml", "rich")


def _week(path: Path) -> None:
    from engine.demand import ehime_week_document

    doc = ehime_week_document("2026-12-07", requests_per_week=20, seed=3)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(rounds: int = 9) -> dict[str, object]:
    """Median wall seconds of the peer and of the plan process over ``rounds`` alternations."""
    env = {**os.environ, "DXSHARE_LANG": "ja", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        week, out = Path(tmp) / "week.json", Path(tmp) / "plan.json"
        _week(week)
        plan = [sys.executable, "-m", "service.cli", "plan", str(week), "--out", str(out),
                "--quiet", "--time-limit", "30"]
        _time(PEER, env)                 # warm the file cache for both
        _time(plan, env)
        load0 = os.getloadavg()[0]
        peer_s, plan_s = [], []
        for _ in range(rounds):
            peer_s.append(_time(PEER, env))
            plan_s.append(_time(plan, env))
        load1 = os.getloadavg()[0]
        doc = json.loads(out.read_text(encoding="utf-8"))
        probe = subprocess.run(
            [sys.executable, "-c",
             "import sys, runpy\n"
             f"sys.argv = ['dxshare', 'plan', {str(week)!r}, '--out', {str(out)!r}, '--quiet']\n"
             "from service.cli import main\nmain()\n"
             f"print('MODULES:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"],
            check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    loaded = next(x for x in probe.stdout.splitlines() if x.startswith("MODULES:"))[8:]
    return {"rounds": rounds, "peer": statistics.median(peer_s), "plan": statistics.median(plan_s),
            "peer_all": peer_s, "plan_all": plan_s, "load": (load0, load1),
            "solve_seconds": doc["solve_seconds"], "status": doc["status"],
            "requests": len(doc["visits"]) + len(doc["unscheduled"]),
            "heavy_loaded": loaded}


def report(r: dict[str, object]) -> str:
    peer, plan = float(r["peer"]), float(r["plan"])  # type: ignore[arg-type]
    load0, load1 = r["load"]  # type: ignore[misc]
    ratio = plan / peer
    lines = [
        "# Start-up benchmark (`dxshare plan` as a whole process)",
        "",
        f"`python -m benchmarks.bench_startup --rounds {r['rounds']}`, "
        f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}; "
        f"1-minute load average {load0:.1f} before and {load1:.1f} after, on {os.cpu_count()} "
        "cores (shared). Peer and plan alternate; medians of the rounds.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| peer: `python -c \"import ortools.sat.python.cp_model\"` | {peer:.2f} s | |",
        f"| `dxshare plan week.json` ({r['requests']} requests, status {r['status']}, "
        f"solve {float(r['solve_seconds']):.2f} s) | {plan:.2f} s | |",  # type: ignore[arg-type]
        f"| ratio plan / peer | {ratio:.2f} × | ≤ 1.5 × |",
        f"| plan process beyond the peer and the solve itself | "
        f"{plan - peer - float(r['solve_seconds']):.2f} s | |",  # type: ignore[arg-type]
        f"| heavy modules loaded on the plan path ({', '.join(HEAVY)}) | "
        f"{r['heavy_loaded'] or 'none'} | none |",
        "",
        "Every round (s): peer " + ", ".join(f"{x:.2f}" for x in r["peer_all"])  # type: ignore[attr-defined]
        + "; plan " + ", ".join(f"{x:.2f}" for x in r["plan_all"]) + ".",  # type: ignore[attr-defined]
        "",
        "The plan command imports its modules when it runs: the matcher (networkx, scipy), the "
        "service (FastAPI, SQLAlchemy), scenarios (Dask, YAML) and figures (matplotlib) are "
        "loaded only by the commands that use them; `tests/test_startup.py` fails when one of "
        "them appears on the plan path.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args(argv)
    r = measure(args.rounds)
    text = report(r)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "startup.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
