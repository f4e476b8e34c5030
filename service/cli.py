"""The ``dxshare`` command line.

``dxshare plan REQUEST.json --out PLAN.json`` plans a week; ``dxshare plan --demo`` plans the
bundled Ehime demo week; ``dxshare import`` turns the centre's spreadsheet into a request.
Messages are Japanese by default (``--lang en`` or ``DXSHARE_LANG=en`` for English). Bad
input gives one line on stderr naming the field and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.errors import InputError, Problem

__all__ = ["main"]

#: Sub-command modules; each exposes ``register(subparsers)``. Missing ones are skipped so
#: that a partial install still plans.
_PARTS = ("service.cli_match", "service.cli_serve", "service.cli_scenarios")


def _lang(args: argparse.Namespace) -> str:
    lang = getattr(args, "lang", None) or os.environ.get("DXSHARE_LANG", "ja")
    return "en" if lang.lower().startswith("en") else "ja"


def _say(lang: str, ja: str, en: str) -> str:
    return ja if lang == "ja" else en


def _progress_printer(lang: str) -> Callable[[object], None]:
    def show(p: object) -> None:
        obj, bound = p.objective, p.bound
        gap = abs(bound - obj) / max(1.0, abs(bound)) * 100
        phase = p.phase
        label = _say(lang, "目的関数", "objective") if phase == "main" else _say(
            lang, "変更数", "moved visits")
        print(f"[{p.elapsed:7.2f} s] {label} {obj:,.0f}  "
              f"{_say(lang, '上界', 'bound')} {bound:,.0f}  gap {gap:.2f}%",
              file=sys.stderr, flush=True)
    return show


def cmd_plan(args: argparse.Namespace) -> int:
    from engine.demand import ehime_week
    from engine.format import dump_plan, load_plan, load_plan_request
    from engine.ical import expert_calendar
    from engine.tables import week_text, write_csv
    from solvers.planner import SolveOptions, solve

    lang = _lang(args)
    if args.demo == bool(args.request):
        raise InputError(Problem("REQUEST", "give a request file or --demo (not both)",
                                 "依頼ファイルか --demo のどちらか一方を指定してください"))
    if args.time_limit <= 0:
        raise InputError(Problem("--time-limit", "must be > 0", "0 より大きい必要があります"))
    if args.workers < 1:
        raise InputError(Problem("--workers", "must be >= 1", "1 以上である必要があります"))
    problem = ehime_week(DEMO_WEEK, seed=DEMO_SEED) if args.demo else load_plan_request(args.request)
    previous = load_plan(args.previous) if args.previous else None
    if previous is not None:
        unknown = [v.request for v in previous.visits if v.request not in problem.request_by_id]
        if unknown:
            print(_say(lang, f"注意: 前回計画の {len(unknown)} 件は今回の依頼にありません（{', '.join(unknown[:5])}）",
                       f"note: {len(unknown)} visits of the previous plan are not in this request "
                       f"({', '.join(unknown[:5])})"), file=sys.stderr)
    out = Path(args.out or ("demo-plan.json" if args.demo else "plan.json"))
    opts = SolveOptions(time_limit=args.time_limit, seed=args.seed, workers=args.workers,
                        previous=previous,
                        progress=None if args.quiet else _progress_printer(lang))
    plan = solve(problem, opts)
    out.parent.mkdir(parents=True, exist_ok=True)
    dump_plan(plan, out)
    print(week_text(problem, plan, lang), end="")
    print(_say(lang, f"計画を書き出しました: {out}", f"plan written to {out}"))
    if args.csv:
        paths = write_csv(problem, plan, args.csv)
        print(_say(lang, "CSV: ", "CSV: ") + ", ".join(paths))
    if args.ics:
        d = Path(args.ics)
        d.mkdir(parents=True, exist_ok=True)
        for e in problem.experts:
            (d / f"{e.id}.ics").write_bytes(expert_calendar(problem, plan, e.id))
        print(_say(lang, f"iCalendar: {d}/（専門家ごと）", f"iCalendar: {d}/ (one per expert)"))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from engine.format import plan_request_to_dict
    from engine.importer import import_requests

    lang = _lang(args)
    problem = import_requests(args.table, args.week)
    doc = plan_request_to_dict(problem)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(_say(lang, f"{len(problem.requests)} 件の依頼を {args.out} に書き出しました",
                   f"{len(problem.requests)} requests written to {args.out}"))
    else:
        sys.stdout.write(text)
    return 0


def cmd_example(args: argparse.Namespace) -> int:
    from engine.demand import ehime_week_document

    doc = ehime_week_document(DEMO_WEEK, seed=DEMO_SEED)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


#: The bundled demo week: Monday 2026-12-07, synthetic requests drawn with this seed.
DEMO_WEEK = "2026-12-07"
DEMO_SEED = 8


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dxshare",
        description="Plan and match shared DX experts for local governments / "
                    "共有DX専門家の訪問計画とマッチング")
    parser.add_argument("--lang", choices=["ja", "en"], default=None,
                        help="messages in Japanese (default) or English")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("plan", help="plan a week from a plan-request/1 file / 週間計画を作る")
    p.add_argument("request", nargs="?", help="plan-request/1 JSON file")
    p.add_argument("--demo", action="store_true", help="plan the bundled Ehime demo week")
    p.add_argument("--out", help="where to write the plan/1 JSON (default plan.json)")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--seed", type=int, default=0, help="solver seed (default 0)")
    p.add_argument("--workers", type=int, default=1, help="solver threads (default 1)")
    p.add_argument("--previous", help="last plan/1: its visits stay unless they must move")
    p.add_argument("--csv", metavar="DIR", help="also write visits/routes/unscheduled CSV")
    p.add_argument("--ics", metavar="DIR", help="also write one iCalendar file per expert")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("import", help="spreadsheet of requests → plan-request/1 / 依頼表の取り込み")
    p.add_argument("table", help=".xlsx or .csv, one row per request")
    p.add_argument("--week", required=True, help="Monday of the week, YYYY-MM-DD")
    p.add_argument("--out", help="output JSON file (default: stdout)")
    p.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("example", help="write the demo week's plan-request/1 / デモ週の依頼")
    p.add_argument("--out", help="output JSON file (default: stdout)")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or getattr(args, "handler", None)
    if func is None:
        parser.print_help()
        return 2
    lang = args.lang = _lang(args)
    try:
        return int(func(args) or 0)
    except InputError as err:
        print(f"dxshare: {_say(lang, 'エラー', 'error')}: {err.summary(lang)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dxshare: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. ``| head``) left; the plan file is already written.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
