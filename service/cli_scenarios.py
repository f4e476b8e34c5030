"""``dxshare scenarios run FILE.yaml``: run a scenario file, print the comparison, write CSV.

Runs go to a new local Dask cluster (``--workers N``), an existing one (``--address``) or this
process (``--serial``). Output files in ``--out`` (default ``scenario-results``):
``runs.csv`` (tidy: scenario, draw, seed, status, kpi, value), ``summary.csv`` (mean, std,
95 % interval per scenario and KPI), ``coverage.csv`` (mean visits per municipality) and
``unscheduled.csv`` (requests by first reason code). Bad input is one line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Any

import pandas as pd

from engine.errors import InputError, Problem
from service.console import ProgressBar, print_table
from service.glossary import kpi_name, status_word
from service.i18n import _, current_lang, using_lang
from service.paths import check_dask_address, check_outputs, written

__all__ = ["ProgressBar", "comparison_table", "register", "run_command"]

#: KPIs shown in the printed table (all are in the CSV files).
TABLE_KPIS = ("visits", "expert_visits", "served_priority_share", "coverage", "small_share",
              "drive_minutes", "utilisation", "unscheduled")


def comparison_table(summary: pd.DataFrame, kpis: tuple[str, ...] = TABLE_KPIS) -> pd.DataFrame:
    """Scenarios × KPIs, each cell ``mean [low, high]`` (shares as percentages)."""
    out: dict[str, dict[str, str]] = {}
    for (scen, kpi), row in summary.iterrows():
        if kpi not in kpis:
            continue
        pct = kpi in ("served_priority_share", "coverage", "small_share", "utilisation")
        f = (lambda x: f"{100 * x:.0f}%") if pct else (lambda x: f"{x:.1f}")
        if row["n"] == 0:
            out.setdefault(str(scen), {})[kpi] = _("no plan")
            continue
        cell = f(row["mean"]) if row["n"] < 2 else (
            f"{f(row['mean'])} [{f(row['low'])}, {f(row['high'])}]")
        out.setdefault(str(scen), {})[kpi] = cell
    table = pd.DataFrame.from_dict(out, orient="index")
    return table[[k for k in kpis if k in table.columns]].rename_axis("scenario")


def run_command(args: argparse.Namespace, stdout: IO[str] | None = None,
                stderr: IO[str] | None = None) -> int:
    """The handler of ``scenarios run``; returns the exit code. Its ``--lang`` lasts as long
    as the command (a notebook or a test calling it keeps its own language after)."""
    with using_lang(getattr(args, "lang", None)):
        return _run_command(args, stdout, stderr)


def _run_command(args: argparse.Namespace, stdout: IO[str] | None = None,
                 stderr: IO[str] | None = None) -> int:
    from engine.scenario import load_scenario_file  # start fast
    from solvers.scenarios import compare, coverage_table, run_many, summarise  # start fast

    args.lang = current_lang()
    out_stream = stdout or sys.stdout
    err_stream = stderr or sys.stderr
    try:
        # the CSV folder and the scheduler checked before the runs, which may take minutes
        check_outputs(dirs=[("--out", args.out)], inputs=[args.file])
        if args.address and not args.serial:
            check_dask_address(args.address, option="--address")
    except InputError as err:
        err_stream.write("dxshare: " + err.summary(args.lang) + "\n")
        return 2
    try:
        if args.workers is not None and args.workers < 1:
            raise InputError(Problem("--workers", "must be >= 1", "1 以上である必要があります"))
        if args.time_limit is not None and not args.time_limit > 0:
            raise InputError(Problem("--time-limit", "must be > 0", "0 より大きい必要があります"))
        spec = load_scenario_file(args.file)
        run = spec.run
        executor = "serial" if args.serial else "dask"
        results = run_many(
            spec.scenarios, draws=args.draws or run.draws,
            seed=run.seed if args.seed is None else args.seed,
            time_limit=args.time_limit or run.time_limit, solver_workers=run.workers,
            executor=executor, workers=args.workers, address=args.address,
            progress=None if args.quiet else ProgressBar(_("scenario runs"), err_stream))
    except InputError as err:
        err_stream.write(f"{Path(args.file).name}: {err.summary(args.lang)}\n")
        return 2
    except OSError as err:                      # e.g. a Dask address that does not answer
        err_stream.write(_("cannot run the scenarios: {err}").format(err=err) + "\n")
        return 1
    tidy = compare(results)
    summary = summarise(tidy)
    out = Path(args.out)
    statuses = pd.Series([r.status for r in results]).value_counts()
    table = comparison_table(summary)
    table = table.rename(columns=kpi_name)
    table.index = table.index.rename(_("scenario"))
    # the comparison is printed before the files are written: runs that took minutes are
    # not lost to a folder that cannot be written
    print_table(table, stream=out_stream)
    try:
        with written(out):
            _write_csv(out, tidy, summary, results, coverage_table)
    except InputError as err:
        err_stream.write("dxshare: " + err.summary(args.lang) + "\n")
        return 2
    out_stream.write(_("plans: {statuses}; CSV in {out}").format(
        statuses=", ".join(f"{status_word(str(k))} {v}" for k, v in statuses.items()),
        out=out) + "\n")
    return 0


def _write_csv(out: Path, tidy: pd.DataFrame, summary: pd.DataFrame, results: Any,
               coverage_table: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # with the BOM, as every CSV of dxshare: Excel on Japanese Windows reads it as UTF-8
    tidy.to_csv(out / "runs.csv", index=False, encoding="utf-8-sig")
    summary.to_csv(out / "summary.csv", encoding="utf-8-sig")
    coverage_table(results).to_csv(out / "coverage.csv", encoding="utf-8-sig")
    unscheduled = pd.DataFrame([{"scenario": r.scenario, "draw": r.draw, "reason": k,
                                 "requests": n}
                                for r in results for k, n in r.unscheduled.items()],
                               columns=["scenario", "draw", "reason", "requests"])
    unscheduled.to_csv(out / "unscheduled.csv", index=False, encoding="utf-8-sig")


def register(subparsers: Any) -> None:
    """Add ``scenarios run FILE.yaml [--out DIR] [--workers N] [--address ADDR] [--serial]``."""
    p = subparsers.add_parser("scenarios", help=_("compare planning scenarios"),
                              description=_("compare planning scenarios"))
    sub = p.add_subparsers(dest="scenarios_command", required=True)
    r = sub.add_parser("run", help=_("run a scenario file, print the comparison and write CSV"),
                       description=_("run a scenario file, print the comparison and write CSV"))
    r.add_argument("file", help=_("scenario file (YAML, format scenarios/1)"))
    r.add_argument("--out", default="scenario-results", help=_("directory for the CSV files"))
    r.add_argument("--workers", type=int, default=None,
                   help=_("local Dask worker processes (default: one per CPU)"))
    r.add_argument("--address", default=None, help=_("an existing Dask scheduler, host:port"))
    r.add_argument("--serial", action="store_true",
                   help=_("run in this process, one at a time"))
    r.add_argument("--draws", type=int, default=None, help=_("override run.draws"))
    r.add_argument("--seed", type=int, default=None, help=_("override run.seed"))
    r.add_argument("--time-limit", type=float, default=None,
                   help=_("override run.time_limit (s)"))
    r.add_argument("--lang", choices=("ja", "en"), default=argparse.SUPPRESS,
                   help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
    r.add_argument("--quiet", action="store_true", help=_("no progress bar"))
    r.set_defaults(handler=run_command)
