"""Every benchmark in one go, then their tables into benchmarks/README.md.

    python -m benchmarks.run_all            # about an hour and a half on 2 cores
    python -m benchmarks.run_all --only planner,scenarios

Each benchmark runs in its own process (so its peak memory is its own); a failing one is
reported and the others still run. Needs the ``bench`` and ``test`` extras.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks.collect import collect

__all__ = ["BENCHMARKS", "main"]

BENCHMARKS = {
    "planner": ["benchmarks.run_planner"],
    "matcher": ["benchmarks.bench_matcher"],
    "service": ["benchmarks.bench_service"],
    "scenarios": ["benchmarks.bench_scenarios"],
    "startup": ["benchmarks.bench_startup"],
    "season": ["benchmarks.bench_season"],
    "slots": ["benchmarks.bench_slots"],
    "country": ["benchmarks.bench_country"],
    "repair": ["benchmarks.bench_repair"],
    "limits": ["benchmarks.bench_limits"],
    "bounds": ["benchmarks.bench_bounds"],
    "grid": ["benchmarks.bench_grid"],
    "busy_at": ["benchmarks.bench_busy_at"],
    "nights": ["benchmarks.bench_nights"],
    "real_week": ["benchmarks.bench_real_week"],
    "search": ["benchmarks.bench_search"],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated subset of " + ", ".join(BENCHMARKS))
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"--only: unknown benchmark {unknown[0]!r}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", *BENCHMARKS[name]])
        print(f"{name}: exit {rc} after {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if rc:
            failed.append(name)
    print("sections written:", ", ".join(collect()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
