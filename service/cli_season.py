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

from engine.errors import InputError, Problem
from service.console import ProgressBar, print_table
from service.i18n import N_, _

__all__ = ["SUMMARY_NAMES", "register", "season_command"]

#: The two ways to plan a season, as a reader names them (translated where shown).
AS_ONE, WEEK_BY_WEEK = N_("as one"), N_("week by week")

#: The season summary's figures as a reader names them.
SUMMARY_NAMES: dict[str, str] = {
    "requests": N_("requests"), "visits": N_("consultations planned"),
    "onsite_visits": N_("on-site visits"),
    "expert_visits": N_("expert-visits (two experts together count two)"),
    "served_priority": N_("priority points served"),
    "municipalities_reached": N_("municipalities reached"),
    "municipalities": N_("municipalities"),
    "coverage_shortfall": N_("consultations short of the coverage floors"),
    "small_town_share": N_("share to towns < 50,000"),
    "drive_minutes": N_("drive minutes"), "objective": N_("objective"),
}


def _problem(args: argparse.Namespace) -> Any:
    from engine.format import load_plan_request, parse_plan_request
    from engine.season import season_document

    if args.request and args.demo:
        raise InputError(Problem("REQUEST", "give a season request file or --demo (not both)",
                                 "シーズンの依頼ファイルか --demo のどちらか一方を指定してください"))
    if args.request:
        return load_plan_request(args.request)
    if not args.demo:
        raise InputError(Problem("REQUEST", "give a season request file or --demo",
                                 "シーズンの依頼ファイルか --demo を指定してください"))
    return parse_plan_request(season_document(weeks=args.weeks,
                                              requests_per_week=args.requests_per_week,
                                              seed=args.seed))


def _figures(name: str, problem: Any, plan: Any, out: Path | None, png: Path | None,
             stream: IO[str]) -> dict[str, Any]:
    from solvers.season import season_tables

    t = season_tables(problem, plan)
    summary = t["summary"].rename(lambda k: _(SUMMARY_NAMES.get(str(k), str(k))))
    print_table(summary.rename_axis(_("figure")).to_frame(_(name)),
                title=_("season: {name}").format(name=_(name)), stream=stream)
    experts = t["experts"].rename(columns={
        "name": _("name"), "onsite_visits": _("on-site visits"),
        "online_consultations": _("online consultations"), "onsite_days": _("on-site days"),
        "served_priority": _("priority points served")}).rename_axis(_("expert"))
    print_table(experts, title=_("visits per expert"), stream=stream)
    short = t["coverage"][t["coverage"]["shortfall"] > 0]
    print_table(short.rename(columns={"name": _("name"), "visits": _("consultations"),
                                      "min_visits": _("floor"), "shortfall": _("short by")})
                [[_("name"), _("consultations"), _("floor"), _("short by")]]
                .rename_axis(_("municipality")),
                title=_("municipalities below their floor"), empty=_("(none)"), stream=stream)
    months = t["months"]["onsite_days"].unstack("month").rename_axis(_("expert"))
    print_table(months, title=_("on-site days per expert and month"), stream=stream)
    slug = name.replace(" ", "-")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for key, frame in t.items():
            frame.to_csv(out / f"season-{slug}-{key}.csv")
    if png is not None:
        from service.plots import coverage_map, season_months

        png.mkdir(parents=True, exist_ok=True)
        coverage_map(t["coverage"]["visits"].rename(_(name))).savefig(
            png / f"season-{slug}-coverage.png", dpi=120)
        season_months(t["months"]).savefig(png / f"season-{slug}-months.png", dpi=120)
    return t


def season_command(args: argparse.Namespace, stdout: IO[str] | None = None,
                   stderr: IO[str] | None = None) -> int:
    """The handler of every ``season`` subcommand; returns the exit code."""
    from engine.format import dump_plan, load_plan
    from service.i18n import lang_from, set_lang
    from solvers.planner import SolveOptions
    from solvers.season import compare_seasons, plan_season, simulate_season

    args.lang = lang_from(getattr(args, "lang", None))
    set_lang(args.lang)
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
        if args.season_command == "request":
            import json

            from engine.season import season_document

            doc = season_document(weeks=args.weeks, requests_per_week=args.requests_per_week,
                                  seed=args.seed)
            Path(args.out).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
            out_stream.write(_("season request written to {path} ({n} requests)").format(
                path=args.out, n=len(doc["requests"])) + "\n")
            return 0
        problem = _problem(args)
        previous = load_plan(args.previous) if getattr(args, "previous", None) else None
        if getattr(args, "publish_until", None):
            from service.cli import published_until

            problem = published_until(problem, previous, args.publish_until)
    except InputError as err:
        err_stream.write(f"{Path(where).name}: {err.summary(args.lang)}\n")
        return 2
    csv_dir = Path(args.csv) if args.csv else None
    png_dir = Path(args.png) if args.png else None
    plans: dict[str, tuple[Any, Any]] = {}
    if args.season_command in ("plan", "compare"):
        plan = plan_season(problem, SolveOptions(time_limit=args.time_limit, seed=args.seed,
                                                 previous=previous))
        plans[AS_ONE] = (problem, plan)
        if args.season_command == "plan":
            dump_plan(plan, args.out)
            out_stream.write(_("status: {status}, objective {objective}, proven ceiling "
                               "{bound}").format(status=_(plan.status),
                                                 objective=plan.objective,
                                                 bound=plan.bound) + "\n")
    if args.season_command in ("simulate", "compare"):
        sim = simulate_season(problem, time_limit=args.week_time_limit, seed=args.seed,
                              progress=None if args.quiet else ProgressBar(_("weeks"),
                                                                           err_stream))
        plans[WEEK_BY_WEEK] = (problem, sim.plan)
        if args.season_command == "simulate":
            dump_plan(sim.plan, args.out)
    for name, (p, plan) in plans.items():
        _figures(name, p, plan, csv_dir, png_dir, out_stream)
    if len(plans) > 1:
        both = compare_seasons(plans).rename(lambda k: _(SUMMARY_NAMES.get(str(k), str(k))))
        both.columns = [_(c) for c in both.columns]
        both = both.rename_axis(_("figure"))
        print_table(both, title=_("the season planned as one and week by week"),
                    stream=out_stream)
        if csv_dir is not None:
            both.to_csv(csv_dir / "comparison.csv")
    if args.season_command != "compare":
        out_stream.write(_("plan written to {path}").format(path=args.out) + "\n")
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
            s.add_argument("--out", default=out, help=_("where to write the plan/1 JSON"))
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
    r.add_argument("--lang", choices=("ja", "en"), default=argparse.SUPPRESS,
                   help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
    r.set_defaults(handler=season_command)
    pl = sub.add_parser("plan", help=_("plan the season as one"),
                        description=_("plan the season as one"))
    common(pl, out="season-plan.json")
    pl.add_argument("--time-limit", type=float, default=120.0, help=_("seconds (default 120)"))
    pl.add_argument("--previous", help=_("an earlier season plan: its visits stay unless they "
                                         "must move"))
    pl.add_argument("--publish-until", metavar="DATE",
                    help=_("with --previous: its visits up to DATE are published (kept as they "
                           "are) and no new visit is added on those days"))
    si = sub.add_parser("simulate", help=_("plan the season week by week"),
                        description=_("plan the season week by week"))
    common(si, out="season-weekly.json")
    si.add_argument("--week-time-limit", type=float, default=2.0,
                    help=_("seconds per week (default 2)"))
    co = sub.add_parser("compare", help=_("plan the season as one and week by week, compare"),
                        description=_("plan the season as one and week by week, compare"))
    common(co, out=None)
    co.add_argument("--time-limit", type=float, default=120.0, help=_("seconds (default 120)"))
    co.add_argument("--week-time-limit", type=float, default=2.0,
                    help=_("seconds per week (default 2)"))

