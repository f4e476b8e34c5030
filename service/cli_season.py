"""``dxshare season``: the programme's season (August to March) as one.

    dxshare season request --out season.json             # the Ehime season as a plan request
    dxshare season plan season.json --out season-plan.json --csv out/ --png out/
    dxshare season plan season.json --previous season-plan.json --publish-until 2026-10-30
    dxshare season simulate season.json                   # week by week, as the centre does
    dxshare season compare season.json                    # both, side by side

``plan`` plans the whole season request at once (the goals: every municipality reached, small
towns first, the experts' contract days); ``simulate`` reveals the same requests week by
week, each week planned when it comes and published; ``compare`` runs both. Each prints the
season's figures (visits with two experts counting two, visits per expert, coverage per
municipality against its floor, the share to small towns, on-site days per expert and month
against the contract) and writes them as CSV (``--csv``) and figures (``--png``). Japanese by
default; bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import IO, Any

import pandas as pd

from engine.errors import InputError, Problem
from service.cli import published_until, request_file, solve_progress
from service.console import ProgressBar, print_table
from service.glossary import figure_text, kpi_name, status_word
from service.i18n import N_, _, current_lang, ngettext, using_lang
from service.paths import add_force, check_outputs, new_plan_name, written

__all__ = ["register", "season_command"]

#: The two ways to plan a season, as a reader names them (translated where shown).
AS_ONE, WEEK_BY_WEEK = N_("as one"), N_("week by week")

def _problem(args: argparse.Namespace) -> Any:
    from engine.format import load_plan_request, parse_plan_request  # start fast
    from engine.season import season_document  # start fast

    if args.request and args.demo:
        raise InputError(Problem("REQUEST", "give a season request file or --demo (not both)",
                                 "シーズンの依頼ファイルか --demo のどちらか一方を指定してください"))
    if args.request:
        return load_plan_request(request_file(args.request))
    if not args.demo:
        raise InputError(Problem("REQUEST", "give a season request file or --demo",
                                 "シーズンの依頼ファイルか --demo を指定してください"))
    return parse_plan_request(season_document(weeks=args.weeks,
                                              requests_per_week=args.requests_per_week,
                                              seed=args.seed))


def _figures(name: str, problem: Any, plan: Any, out: Path | None, png: Path | None,
             stream: IO[str]) -> dict[str, Any]:
    from solvers.season import season_tables  # start fast

    t = season_tables(problem, plan)
    summary = t["summary"]
    shown = pd.Series({kpi_name(k): figure_text(k, v) for k, v in summary.items()}, name=_(name))
    print_table(shown.rename_axis(_("figure")).to_frame(),
                title=_("season: {name}").format(name=_(name)), stream=stream)
    experts = t["experts"].set_index("name").rename(columns=kpi_name).rename_axis(_("expert"))
    print_table(experts, title=_("visits per expert"), stream=stream)
    short = t["coverage"][t["coverage"]["shortfall"] > 0]
    print_table(short.set_index("name")[["visits", "min_visits", "shortfall"]]
                .rename(columns={"visits": _("consultations"), "min_visits": _("floor"),
                                 "shortfall": _("short by")})
                .rename_axis(_("municipality")),
                title=_("municipalities below their floor"),
                empty=_("every municipality reaches its floor"), stream=stream)
    names = t["experts"]["name"].to_dict()
    months = (t["months"]["onsite_days"].unstack("month").rename(index=names)
              .rename_axis(_("expert")))
    print_table(months, title=_("on-site days per expert and month"), stream=stream)
    slug = name.replace(" ", "-")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for key, frame in season_csv_tables(t).items():
            frame.to_csv(out / f"season-{slug}-{key}.csv", index=False, encoding="utf-8-sig")
    if png is not None:
        from service.plots import coverage_map, season_months  # start fast

        png.mkdir(parents=True, exist_ok=True)
        coverage_map(t["coverage"]["visits"].rename(_(name))).savefig(
            png / f"season-{slug}-coverage.png", dpi=120)
        season_months(t["months"], names=names).savefig(png / f"season-{slug}-months.png",
                                                        dpi=120)
    return t


def season_csv_tables(t: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The season's tables as CSV files for a reader: headers in the current language, names
    first, shares as percentages, ids and codes as the last columns."""
    summary = pd.DataFrame({_("figure"): [kpi_name(k) for k in t["summary"].index],
                            _("value"): [figure_text(k, v).replace(",", "")
                                         for k, v in t["summary"].items()],
                            _("key"): list(t["summary"].index)})
    experts = t["experts"].reset_index()
    experts = experts[["name", *[c for c in experts.columns if c not in ("name", "expert")],
                       "expert"]].rename(columns={"name": _("expert"), "expert": _("expert id"),
                                                  **{c: kpi_name(c) for c in experts.columns
                                                     if c not in ("name", "expert")}})
    coverage = t["coverage"].reset_index()
    coverage = pd.DataFrame({
        _("municipality"): coverage["name"], _("consultations"): coverage["visits"],
        _("floor"): coverage["min_visits"], _("short by"): coverage["shortfall"],
        _("population"): coverage["population"].astype("Int64"),
        _("small municipality (under 50,000 people)"): coverage["small_town"].map(
            {True: _("yes"), False: _("no")}),
        _("municipality code"): coverage["location"]})
    names = t["experts"]["name"].to_dict()
    months = t["months"].reset_index()
    months = pd.DataFrame({
        _("expert"): months["expert"].map(names), _("month"): months["month"],
        kpi_name("onsite_days"): months["onsite_days"],
        _("contracted on-site days"): months["cap"].astype("Int64"),
        _("expert id"): months["expert"]})
    return {"summary": summary, "experts": experts, "coverage": coverage, "months": months}


def season_command(args: argparse.Namespace, stdout: IO[str] | None = None,
                   stderr: IO[str] | None = None) -> int:
    """The handler of every ``season`` subcommand; returns the exit code. Its ``--lang``
    lasts as long as the command."""
    with using_lang(getattr(args, "lang", None)):
        return _season_command(args, stdout, stderr)


def _season_command(args: argparse.Namespace, stdout: IO[str] | None = None,
                    stderr: IO[str] | None = None) -> int:
    from engine.format import dump_plan, load_plan  # start fast
    from solvers.planner import SolveOptions  # start fast
    from solvers.season import compare_seasons, plan_season, simulate_season  # start fast

    args.lang = current_lang()
    out_stream, err_stream = stdout or sys.stdout, stderr or sys.stderr
    where = getattr(args, "request", None) or "season"
    try:
        if getattr(args, "png", None) and importlib.util.find_spec("matplotlib") is None:
            raise InputError(Problem("--png", "needs matplotlib: pip install 'dxshare[plots]'",
                                     "matplotlib が必要です: pip install 'dxshare[plots]'"))
        for flag in ("time_limit", "week_time_limit"):
            if getattr(args, flag, 1) is not None and not getattr(args, flag, 1) > 0:
                raise InputError(Problem("--" + flag.replace("_", "-"), "must be > 0",
                                         "0 より大きい必要があります"))
        if args.season_command in ("plan", "simulate") and not args.out:
            args.out = str(new_plan_name(stem="season-plan" if args.season_command == "plan"
                                         else "season-weekly"))
        try:
            check_outputs(files=[("--out", getattr(args, "out", None))],
                          dirs=[("--csv", getattr(args, "csv", None)),
                                ("--png", getattr(args, "png", None))],
                          inputs=[getattr(args, "request", None),
                                  getattr(args, "previous", None)],
                          force=getattr(args, "force", False))
        except InputError as err:
            if any(p.path.startswith("--") for p in err.problems):
                raise
            # a file the system will not write: named as itself, not under the request
            err_stream.write(f"dxshare: {err.summary(args.lang)}\n")
            return 2
        if args.season_command == "request":
            import json

            from engine.season import season_document  # start fast

            doc = season_document(weeks=args.weeks, requests_per_week=args.requests_per_week,
                                  seed=args.seed)
            with written(args.out):
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
            n = len(doc["requests"])
            out_stream.write(ngettext("season request written to {path} ({n} request)",
                                      "season request written to {path} ({n} requests)",
                                      n).format(path=args.out, n=n) + "\n")
            return 0
        problem = _problem(args)
        previous = load_plan(args.previous) if getattr(args, "previous", None) else None
        if getattr(args, "publish_until", None):
            problem = published_until(problem, previous, args.publish_until)
    except InputError as err:
        err_stream.write(f"{Path(where).name}: {err.summary(args.lang)}\n")
        return 2
    csv_dir = Path(args.csv) if args.csv else None
    png_dir = Path(args.png) if args.png else None
    plans: dict[str, tuple[Any, Any]] = {}
    # each file that cannot be written is named at the end; the season's figures are
    # printed and the other files written all the same
    problems: list[Problem] = []

    def save(target: Any, write: Any, *what: Any) -> bool:
        try:
            with written(target):
                write(*what)
        except InputError as err:
            problems.extend(err.problems)
            return False
        return True

    def dump(plan: Any) -> None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        dump_plan(plan, args.out)

    saved = True
    if args.season_command in ("plan", "compare"):
        from engine.changes import with_changes  # start fast
        label = ngettext("planning the season ({n} request)", "planning the season ({n} requests)",
                         len(problem.requests)).format(n=len(problem.requests))
        with solve_progress(label, args.time_limit, args.quiet, err_stream) as progress:
            plan = with_changes(plan_season(problem, SolveOptions(
                time_limit=args.time_limit, seed=args.seed, previous=previous,
                progress=progress)), previous)
        plans[AS_ONE] = (problem, plan)
        if args.season_command == "plan":
            saved = save(args.out, lambda: dump(plan))
            if previous is not None:
                from service.report import changes_text  # start fast

                out_stream.write(changes_text(problem, plan))
            out_stream.write(_("status: {status}  plan score: {score}  ceiling: {ceiling}  "
                               "computing time: {seconds:.1f} s").format(
                status=status_word(plan.status), score=figure_text("objective", plan.objective),
                ceiling=figure_text("bound", plan.bound) or "—",
                seconds=plan.solve_seconds) + "\n")
    if args.season_command in ("simulate", "compare"):
        sim = simulate_season(problem, time_limit=args.week_time_limit, seed=args.seed,
                              progress=None if args.quiet else ProgressBar(_("weeks"),
                                                                           err_stream))
        plans[WEEK_BY_WEEK] = (problem, sim.plan)
        if args.season_command == "simulate":
            saved = save(args.out, lambda: dump(sim.plan))
    for name, (p, plan) in plans.items():
        save(csv_dir or png_dir or "", _figures, name, p, plan, csv_dir, png_dir, out_stream)
    if len(plans) > 1:
        raw = compare_seasons(plans)
        both = pd.DataFrame({_(c): [figure_text(k, v) for k, v in raw[c].items()]
                             for c in raw.columns}, index=[kpi_name(k) for k in raw.index])
        both = both.rename_axis(_("figure"))
        print_table(both, title=_("the season planned as one and week by week"),
                    stream=out_stream)
        if csv_dir is not None:
            save(csv_dir, lambda: both.to_csv(csv_dir / "comparison.csv",
                                              encoding="utf-8-sig"))
    if args.season_command != "compare" and saved:
        out_stream.write(_("plan written to {path}").format(path=args.out) + "\n")
    if problems:
        err_stream.write(f"dxshare: {InputError(problems).summary(args.lang)}\n")
        return 2
    return 0


def register(subparsers: Any) -> None:
    """Add ``season request|plan|simulate|compare``."""
    p = subparsers.add_parser("season", help=_("plan or simulate the whole season"),
                              description=_("plan or simulate the whole season"))
    sub = p.add_subparsers(dest="season_command", required=True)

    def common(s: argparse.ArgumentParser, *, out: str | None) -> None:
        s.add_argument("request", nargs="?", help=_("season plan-request/1 JSON file"))
        s.add_argument("--demo", action="store_true",
                       help=_("the bundled Ehime season (synthetic requests)"))
        demand(s)
        if out is not None:
            s.add_argument("--out", default=None, help=_(out))
            add_force(s)
        s.add_argument("--csv", metavar="DIR", help=_("also write the season's figures as CSV"))
        s.add_argument("--png", metavar="DIR", help=_("also draw the season's figures as PNG"))
        s.add_argument("--lang", choices=("ja", "en"), default=argparse.SUPPRESS,
                       help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
        s.add_argument("--quiet", action="store_true", help=_("no progress bar"))
        s.set_defaults(handler=season_command)

    def demand(s: argparse.ArgumentParser) -> None:
        s.add_argument("--weeks", type=int, default=33, help=_("weeks of the demo season"))
        s.add_argument("--requests-per-week", type=int, default=12,
                       help=_("requests a week in the demo season"))
        s.add_argument("--seed", type=int, default=0, help=_("seed (demand and solver)"))

    r = sub.add_parser("request", help=_("write the Ehime season as a plan request"),
                       description=_("write the Ehime season as a plan request"))
    demand(r)
    r.add_argument("--out", default="season.json", help=_("output JSON file"))
    add_force(r)
    r.add_argument("--lang", choices=("ja", "en"), default=argparse.SUPPRESS,
                   help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
    r.set_defaults(handler=season_command)
    pl = sub.add_parser("plan", help=_("plan the season as one"),
                        description=_("plan the season as one"))
    common(pl, out=N_("where to write the plan/1 JSON (default: a new file "
                      "season-plan-YYYYMMDD-HHMM.json, never over an earlier plan)"))
    pl.add_argument("--time-limit", type=float, default=120.0, help=_("seconds (default 120)"))
    pl.add_argument("--previous", help=_("an earlier season plan: its visits stay unless they "
                                         "must move"))
    pl.add_argument("--publish-until", metavar="DATE",
                    help=_("with --previous: its visits up to DATE are published (kept as they "
                           "are) and no new visit is added on those days"))
    si = sub.add_parser("simulate", help=_("plan the season week by week"),
                        description=_("plan the season week by week"))
    common(si, out=N_("where to write the plan/1 JSON (default: a new file "
                      "season-weekly-YYYYMMDD-HHMM.json, never over an earlier plan)"))
    si.add_argument("--week-time-limit", type=float, default=2.0,
                    help=_("seconds per week (default 2)"))
    co = sub.add_parser("compare", help=_("plan the season as one and week by week, compare"),
                        description=_("plan the season as one and week by week, compare"))
    common(co, out=None)
    co.add_argument("--time-limit", type=float, default=120.0, help=_("seconds (default 120)"))
    co.add_argument("--week-time-limit", type=float, default=2.0,
                    help=_("seconds per week (default 2)"))

