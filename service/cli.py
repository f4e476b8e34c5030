"""The ``dxshare`` command line.

``dxshare plan REQUEST.json --out PLAN.json`` plans a week; ``dxshare plan --demo`` plans the
bundled Ehime demo week; ``dxshare import`` turns the centre's spreadsheet into a request.
Messages are Japanese by default (``--lang en`` or ``DXSHARE_LANG=en`` for English), from the
gettext catalogue of ``service.i18n``. Bad input gives every problem on stderr, each naming its
field (``--errors FILE.csv`` also writes them), and exit code 2, never a traceback.

The plan path loads only what planning needs (no matcher, networkx, scipy, Dask, SQLAlchemy
or matplotlib): sub-commands import their modules when they run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, file_problem
from engine.model import PlanRequest, Visit, fmt_time
from service.i18n import _, current_lang, lang_from, ngettext, set_lang
from service.paths import add_force, check_dask_address, check_outputs, new_plan_name, written

__all__ = ["main", "report_input_error", "request_file"]

#: Sub-command modules; each exposes ``register(subparsers)``. Missing ones are skipped so
#: that a partial install still plans.
_PARTS = ("service.cli_match", "service.cli_serve", "service.cli_scenarios",
          "service.cli_season", "service.cli_slots", "service.cli_event")


def _lang(args: argparse.Namespace) -> str:
    return lang_from(getattr(args, "lang", None))


def _gone_visits(problem: PlanRequest, visits: list[Visit]) -> str:
    """The first five visits of a previous plan whose requests are gone, each as a person
    finds it (place, date, start), its request id last in brackets (the request is gone, so
    its title is not known)."""
    from service.report import place_name  # start fast

    ja = current_lang() == "ja"
    sep, gap = ("、", "") if ja else (", ", " ")
    shown = sep.join(f"{place_name(problem, v.location)} {v.date.month}/{v.date.day} "
                     f"{fmt_time(v.start)}{gap}" + _("(request {id})").format(id=v.request)
                     for v in visits[:5])
    return shown + (sep + "…" if len(visits) > 5 else "")


def report_input_error(err: InputError, lang: str, errors_csv: str | None = None,
                       prog: str = "dxshare") -> None:
    """Every problem of ``err`` on stderr (one line when there is one), and with
    ``errors_csv`` also as a CSV file (for long lists, to open beside the sheet) unless that
    file is one of the problems."""
    label = _("error")
    if len(err.problems) == 1:
        print(f"{prog}: {label}: {err.problems[0].text(lang)}", file=sys.stderr)
    else:
        print(f"{prog}: {label}: " + _("{n} problems").format(n=len(err.problems)),
              file=sys.stderr)
        for p in err.problems:
            print(f"  {p.text(lang)}", file=sys.stderr)
    if errors_csv and not any(p.path == "--errors" for p in err.problems):
        # (a refused --errors file is left as it is: it is the problem being reported)
        from engine.sheets import problems_to_csv  # start fast

        try:   # made with its folder, as every output of dxshare
            Path(errors_csv).parent.mkdir(parents=True, exist_ok=True)
            problems_to_csv(err.problems, errors_csv, lang, header=(_("where"), _("problem")))
        except OSError as exc:   # the problems are on stderr all the same
            print(f"{prog}: {label}: "
                  + file_problem(errors_csv, exc, writing=True).text(lang), file=sys.stderr)
            return
        print(_("problems written to {path}").format(path=errors_csv), file=sys.stderr)


def published_until(problem: Any, previous: Any, text: str) -> Any:
    """``--publish-until DATE`` with ``--previous PLAN``: the previous plan's visits up to the
    date kept as published (``engine.season.publish_until``); a clear error for a missing
    plan or a date that is not one."""
    if previous is None:
        raise InputError(Problem("--publish-until", "needs --previous (the plan to publish)",
                                 "--previous（公開する計画）が必要です"))
    from engine.readings import read_date  # start fast
    from engine.season import publish_until  # start fast

    until = read_date(text)
    if until is None:
        raise InputError(Problem("--publish-until", "must be a date YYYY-MM-DD",
                                 "日付（YYYY-MM-DD）である必要があります"))

    return publish_until(problem, previous, until)


#: What a spreadsheet's name ends with: it is imported, not planned.
SHEETS = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".ods")


def request_file(path: str, what: str = "REQUEST") -> str:
    """``path`` when it may be a plan-request/1 file; a spreadsheet is told to go through
    ``dxshare import`` first (it is not JSON), a folder is told it is one."""
    p = Path(path)
    if p.suffix.lower() in SHEETS:
        raise InputError(Problem(
            path, f"is a spreadsheet: turn it into a request first with "
            f"`dxshare import {path} --week YYYY-MM-DD --out week.json`, then plan week.json",
            f"表のファイルです。先に `dxshare import {path} --week YYYY-MM-DD --out week.json` で"
            "依頼ファイルにしてから week.json を計画してください"))
    if p.is_dir():
        raise InputError(Problem(path, "is a folder, not a request file",
                                 "フォルダです（依頼ファイルを指定してください）"))
    return path


def progress_line(p: Any) -> str:
    """One line of the planner's progress: the best plan so far and its ceiling, or in the
    re-plan's second phase the visits moved."""
    obj, bound = p.objective, p.bound
    if p.phase == "main":
        left = abs(bound - obj) / max(1.0, abs(bound)) * 100
        return _("best plan so far {best:,.0f} · proven ceiling {ceiling:,.0f} "
                 "(at most {left:.1f}% better possible)").format(best=obj, ceiling=bound,
                                                                 left=left)
    return _("visits moved from the previous plan: {moved:,.0f} "
             "(at least {fewest:,.0f} must move)").format(moved=obj, fewest=bound)


def _progress_printer(stream: Any = None) -> Callable[[object], None]:
    def show(p: Any) -> None:
        print(f"[{p.elapsed:6.1f} s] {progress_line(p)}", file=stream or sys.stderr, flush=True)
    return show


def solve_progress(label: str, limit: float, quiet: bool, stream: Any = None) -> Any:
    """The wait on the planner as the reader sees it (``service.console.SolveProgress``), or
    nothing with ``--quiet``."""
    import contextlib

    from service.console import SolveProgress  # start fast

    if quiet:
        return contextlib.nullcontext(None)
    return SolveProgress(label, limit, progress_line, stream)


def cmd_plan(args: argparse.Namespace) -> int:
    from engine.changes import with_changes  # start fast
    from engine.demand import ehime_week  # start fast
    from engine.format import dump_plan, load_plan, load_plan_request  # start fast
    from service.report import week_text  # start fast
    from solvers.planner import SolveOptions, solve  # start fast

    lang = _lang(args)
    if args.demo == bool(args.request):
        raise InputError(Problem("REQUEST", "give a request file or --demo (not both)",
                                 "依頼ファイルか --demo のどちらか一方を指定してください"))
    if args.time_limit <= 0:
        raise InputError(Problem("--time-limit", "must be > 0", "0 より大きい必要があります"))
    if args.workers < 1:
        raise InputError(Problem("--workers", "must be >= 1", "1 以上である必要があります"))
    if (args.png or args.svg) and importlib.util.find_spec("matplotlib") is None:
        raise InputError(Problem("--png/--svg", "needs matplotlib: pip install 'dxshare[plots]'",
                                 "matplotlib が必要です: pip install 'dxshare[plots]'"))

    out = Path(args.out) if args.out else new_plan_name(stem="demo-plan" if args.demo
                                                        else "plan")
    check_outputs(files=[("--out", out), ("--xlsx", args.xlsx)],
                  dirs=[("--csv", args.csv), ("--ics", args.ics), ("--png", args.png),
                        ("--svg", args.svg)],
                  inputs=[args.request, args.previous], force=args.force)
    problem = (ehime_week(DEMO_WEEK, seed=DEMO_SEED, start_grid_min=DEMO_GRID) if args.demo
               else load_plan_request(request_file(args.request)))
    previous = load_plan(args.previous) if args.previous else None
    if args.publish_until:
        problem = published_until(problem, previous, args.publish_until)
    if previous is not None:
        unknown = [v for v in previous.visits if v.request not in problem.request_by_id]
        if unknown:
            print(ngettext("note: {n} visit of the previous plan is not in this request: "
                           "{visits}",
                           "note: {n} visits of the previous plan are not in this request: "
                           "{visits}", len(unknown)).format(
                               n=len(unknown), visits=_gone_visits(problem, unknown)),
                  file=sys.stderr)
    if args.executor_workers is not None and args.executor_workers < 1:
        raise InputError(Problem("--executor-workers", "must be >= 1",
                                 "1 以上である必要があります"))
    if args.dask_address and args.executor != "dask":
        raise InputError(Problem("--dask-address", "needs --executor dask",
                                 "--executor dask と一緒に指定してください"))
    if args.dask_address:
        check_dask_address(args.dask_address)
    label = ngettext("planning {n} request", "planning {n} requests",
                     len(problem.requests)).format(n=len(problem.requests))
    with solve_progress(label, args.time_limit, args.quiet) as progress:
        opts = SolveOptions(time_limit=args.time_limit, seed=args.seed, workers=args.workers,
                            previous=previous, progress=progress,
                            decompose=args.decompose, executor=args.executor,
                            executor_address=args.dask_address,
                            executor_workers=args.executor_workers)
        plan = with_changes(solve(problem, opts), previous)
    # a file that cannot be written is named last; the plan is not lost to it: printed in
    # full when its file is not saved, and the other files still written
    problems: list[Problem] = []
    try:
        with written(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            dump_plan(plan, out)
    except InputError as err:
        problems.extend(err.problems)
    from service.report import LONG_WEEK, week_summary  # start fast

    print(week_text(problem, plan) if args.full or len(plan.visits) <= LONG_WEEK or problems
          else week_summary(problem, plan, out), end="")
    if previous is not None:
        from service.report import changes_text  # start fast

        print(changes_text(problem, plan), end="")
    if not problems:
        print(_("plan written to {path}").format(path=out))
    try:
        _handouts(args, problem, plan, lang)
    except InputError as err:
        problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return 0


def _handouts(args: argparse.Namespace, problem: Any, plan: Any, lang: str) -> None:
    """The files to hand out: CSV, Excel, calendars, charts. One that cannot be written
    does not keep the others from being written; each such file is named after."""
    problems: list[Problem] = []
    for kind, target in (("csv", args.csv), ("xlsx", args.xlsx), ("ics", args.ics),
                         ("png", args.png), ("svg", args.svg)):
        if not target:
            continue
        try:
            with written(target):
                _handout(kind, target, args, problem, plan, lang)
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)


def _handout(kind: str, target: str, args: argparse.Namespace, problem: Any, plan: Any,
             lang: str) -> None:
    if kind == "csv":
        from service.workbook import write_csv  # start fast

        print("CSV: " + ", ".join(str(p) for p in write_csv(problem, plan, target, lang)))
    elif kind == "xlsx":
        from service.workbook import write_xlsx  # start fast

        Path(target).parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(problem, plan, target, lang)
        print(_("Excel workbook: {path}").format(path=target))
    elif kind == "ics":
        from service.calendars import update_calendars, write_calendars  # start fast

        if getattr(args, "previous", None):
            # a re-plan: the experts have last plan's calendars, updated as an event's
            # repair updates them (SEQUENCE raised, withdrawn visits cancelled)
            for path in update_calendars(target, problem, plan):
                print(_("cancellations: {path}").format(path=path))
        else:
            write_calendars(target, problem, plan)
        print(_("iCalendar: {dir}/ (one per expert)").format(dir=Path(target)))
    else:
        from service.plots import route_map, week_chart  # start fast

        d = Path(target)
        d.mkdir(parents=True, exist_ok=True)
        for name, draw in (("week", week_chart), ("routes", route_map)):
            fig = draw(problem, plan, lang=lang)
            fig.savefig(d / f"{name}.{kind}", dpi=150 if kind == "png" else None)
        print(_("charts: {dir}/week.{fmt}, {dir}/routes.{fmt}").format(dir=d, fmt=kind))


def cmd_import(args: argparse.Namespace) -> int:
    from engine.format import plan_request_to_dict  # start fast
    from engine.importer import import_requests  # start fast

    check_outputs(files=[("--out", args.out), ("--errors", args.errors)],
                  inputs=[args.table], force=args.force)
    problem = import_requests(args.table, args.week, sheet=args.sheet)
    doc = plan_request_to_dict(problem)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        _write_text(args.out, text)
        n = len(problem.requests)
        print(ngettext("{n} request written to {path}", "{n} requests written to {path}",
                       n).format(n=n, path=args.out))
    else:
        sys.stdout.write(text)
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    from engine.demand import ehime_week_document  # start fast

    check_outputs(files=[("--out", args.out)], force=args.force)
    doc = ehime_week_document(DEMO_WEEK, seed=DEMO_SEED, start_grid_min=DEMO_GRID)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        _write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def _write_text(path: str, text: str) -> None:
    """``text`` to the file ``path`` (UTF-8), its folder made as ``plan --out`` makes it."""
    with written(path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")


#: The bundled demo week: Monday 2026-12-07, synthetic requests drawn with this seed. The
#: service's ``--demo-week`` draws with the same seed (``service.config.Settings.demo_seed``).
DEMO_WEEK = "2026-12-07"
DEMO_SEED = 8
#: The demo week's appointment grid (``horizon.start_grid_min``): consultations on the quarter
#: hour, as people book them.
DEMO_GRID = 15


#: Which optional dependency group (pyproject extras) brings a module a command needs.
_EXTRAS = {"uvicorn": "service", "sqlalchemy": "service", "alembic": "service",
           "pydantic_settings": "service", "yaml": "scenarios", "distributed": "scenarios",
           "dask": "scenarios", "matplotlib": "plots"}


def add_lang(p: argparse.ArgumentParser) -> None:
    """``--lang ja|en`` on a sub-command too (``dxshare plan --lang en …``)."""
    p.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS,
                   help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dxshare", description=_("Plan and match shared DX experts for local governments"))
    parser.add_argument("--lang", choices=["ja", "en"], default=None,
                        help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plan", help=_("plan a week from a plan-request/1 file"),
                       description=_("plan a week from a plan-request/1 file"))
    p.add_argument("request", nargs="?", help=_("plan-request/1 JSON file"))
    p.add_argument("--demo", action="store_true", help=_("plan the bundled Ehime demo week"))
    p.add_argument("--out", help=_("where to write the plan/1 JSON (default: a new file "
                          "plan-YYYYMMDD-HHMM.json, never over an earlier plan)"))
    add_force(p)
    p.add_argument("--time-limit", type=float, default=30.0, help=_("seconds (default 30)"))
    p.add_argument("--seed", type=int, default=0, help=_("solver seed (default 0)"))
    p.add_argument("--workers", type=int, default=1, help=_("solver threads (default 1)"))
    p.add_argument("--previous", help=_("last plan/1: its visits stay unless they must move; "
                                        "what moved is listed"))
    p.add_argument("--publish-until", metavar="DATE",
                   help=_("with --previous: its visits up to DATE are published (kept as they "
                          "are) and no new visit is added on those days"))
    p.add_argument("--csv", metavar="DIR", help=_("also write visits/routes/unscheduled CSV"))
    p.add_argument("--xlsx", metavar="FILE", help=_("also write the plan as an Excel workbook"))
    p.add_argument("--ics", metavar="DIR", help=_("also write one iCalendar file per expert"))
    p.add_argument("--png", metavar="DIR", help=_("also draw the week chart and the route map "
                                                  "(PNG)"))
    p.add_argument("--svg", metavar="DIR", help=_("also draw the week chart and the route map "
                                                  "(SVG)"))
    p.add_argument("--quiet", action="store_true", help=_("no progress lines on stderr"))
    p.add_argument("--full", action="store_true",
                   help=_("print the whole plan even when it is long (by default a plan of "
                          "over 150 visits is summarised; the files hold all of it)"))
    p.add_argument("--decompose", choices=["auto", "always", "never"], default="auto",
                   help=_("solve by parts (regions or time windows) in parallel: auto "
                          "(when the problem is too large for one model), always or never"))
    p.add_argument("--executor", choices=["processes", "dask", "serial"], default="processes",
                   help=_("where the parts run: local processes (default), a Dask cluster, "
                          "or in this process"))
    p.add_argument("--dask-address", metavar="ADDRESS",
                   help=_("the existing Dask cluster to run the parts on (with --executor dask; "
                          "without it a local cluster is started)"))
    p.add_argument("--executor-workers", type=int, metavar="N",
                   help=_("parts solved at once (default: the machine's cores)"))
    add_lang(p)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("import", help=_("spreadsheet of requests to plan-request/1"),
                       description=_("spreadsheet of requests to plan-request/1"))
    p.add_argument("table", help=_(".xlsx or .csv (UTF-8 or Shift-JIS), one row per request"))
    p.add_argument("--week", required=True, help=_("Monday of the week, YYYY-MM-DD"))
    p.add_argument("--sheet", help=_("the workbook's sheet of requests (default: the sheet "
                                     "whose header row names the most columns)"))
    p.add_argument("--out", help=_("output JSON file (default: stdout)"))
    add_force(p)
    p.add_argument("--errors", metavar="FILE.csv",
                   help=_("also write every problem found to this CSV file"))
    add_lang(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("example", help=_("write the demo week's plan-request/1"),
                       description=_("write the demo week's plan-request/1"))
    p.add_argument("--out", help=_("output JSON file (default: stdout)"))
    add_force(p)
    add_lang(p)
    p.set_defaults(func=cmd_example)

    for name in _PARTS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        mod.register(sub)
    return parser


def _lang_of_argv(argv: Sequence[str]) -> str:
    """The language asked for, read before the parser is built (its help is translated)."""
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return lang_from(argv[i + 1])
        if a.startswith("--lang="):
            return lang_from(a.split("=", 1)[1])
    return lang_from(None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; the language it asked for lasts as long as the command, so a
    caller in the same process (a notebook, a test) keeps its own afterwards."""
    before = current_lang()
    try:
        return _main(argv)
    finally:
        set_lang(before)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_lang(_lang_of_argv(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or getattr(args, "handler", None)
    if func is None:
        parser.print_help()
        return 2
    lang = args.lang = _lang(args)
    set_lang(lang)
    try:
        return int(func(args) or 0)
    except InputError as err:
        report_input_error(err, lang, getattr(args, "errors", None))
        return 2
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print("dxshare: " + _("this command needs the {extra} extra: pip install "
                              "'dxshare[{extra}]'").format(extra=extra), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dxshare: " + _("interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. ``| head``) left; the plan file is already written.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
