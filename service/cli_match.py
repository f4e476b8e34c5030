"""``dxshare match``: recommend, assign and peers on the demo data or given files.

    dxshare match recommend --need N001 [-k 10] [--as 382019]
    dxshare match assign [--floor] [--small-weight 0.2] [--as 382019]
    dxshare match peers --municipality 上島町 [-k 5] [--communities]

Common options: ``--data PATH`` (JSON file or CSV directory; default the bundled synthetic
demo), ``--lang ja|en`` (default ja), ``--json FILE``, ``--csv DIR``. Exit codes: 0 ok,
2 bad input (one path-named line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from engine.errors import InputError, Problem, file_problem
from service.cli import report_input_error
from service.i18n import N_, _
from service.paths import add_force, check_outputs

if TYPE_CHECKING:
    from engine.matching import MatchData

__all__ = ["register"]

#: Column headers as a reader names them (translated from the catalogue when printed).
_HEADERS = {
    "candidate": N_("candidate"),
    "need": N_("need"),
    "rank": N_("rank"),
    "name": N_("name"),
    "kind": N_("kind"),
    "score": N_("score"),
    "explanation": N_("explanation"),
    "municipality": N_("municipality"),
    "reason": N_("reason"),
    "reason_code": N_("reason code"),
    "peer": N_("peer municipality"),
    "similarity": N_("similarity"),
    "community": N_("community"),
    "population": N_("population"),
    "size": N_("members"),
    "travel_min": N_("travel (min)"),
    "value": N_("objective value"),
    "top_need": N_("top need"),
    "blocked_by": N_("capacity taken by"),
    "members": N_("members"),
    "need_id": N_("need id"),
    "candidate_id": N_("candidate id"),
    "code": N_("municipality code"),
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help=_("JSON file or directory of CSV files (default: demo data)"))
    p.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS,
                   help=_("messages in Japanese (default) or English; also DXSHARE_LANG"))
    p.add_argument("--json", dest="json_out", metavar="FILE", help=_("also write JSON here"))
    p.add_argument("--csv", dest="csv_out", metavar="DIR", help=_("also write CSV files here"))
    p.add_argument("--errors", metavar="FILE.csv",
                   help=_("also write every problem found to this CSV file"))
    add_force(p)


def register(subparsers: Any) -> None:
    """Add the ``match`` command (with ``recommend``, ``assign``, ``peers``) to ``subparsers``.

    Nothing of the matcher is imported here: ``dxshare plan`` must not pay for it."""
    match = subparsers.add_parser("match", help=_("match municipalities with outside talent"),
                                  description=_("match municipalities with outside talent"))
    sub = match.add_subparsers(dest="match_command", required=True)
    r = sub.add_parser("recommend", help=_("top candidates for one need"),
                       description=_("top candidates for one need"))
    r.add_argument("--need", required=True, help=_("need id, e.g. N001"))
    r.add_argument("-k", type=int, default=10, help=_("how many candidates (default 10)"))
    r.add_argument("--as", dest="as_municipality",
                   help=_("ask as this municipality (code or name, e.g. 上島町)"))
    _common(r)
    r.set_defaults(handler=_recommend)
    a = sub.add_parser("assign", help=_("assign candidates to all needs at once"),
                       description=_("assign candidates to all needs at once"))
    a.add_argument("--floor", action="store_true",
                   help=_("serve each municipality's top need first"))
    a.add_argument("--small-weight", type=float, default=0.0,
                   help=_("extra weight for small municipalities (default 0)"))
    a.add_argument("--small-population", type=int, default=50_000,
                   help=_("below this population a municipality is small (default 50000)"))
    a.add_argument("--as", dest="as_municipality",
                   help=_("show only what this municipality sees (code or name)"))
    _common(a)
    a.set_defaults(handler=_assign)
    p = sub.add_parser("peers", help=_("peer municipalities and communities"),
                       description=_("peer municipalities and communities"))
    p.add_argument("--municipality", help=_("code or name"))
    p.add_argument("-k", type=int, default=5, help=_("how many peers (default 5)"))
    p.add_argument("--communities", action="store_true", help=_("list all communities"))
    _common(p)
    p.set_defaults(handler=_peers)
    match.set_defaults(handler=_run_guard(match))


def _run_guard(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def _load(args: argparse.Namespace) -> MatchData:
    from engine.matching import load, load_demo  # start fast

    return load(args.data) if args.data else load_demo()


def _viewer(args: argparse.Namespace, data: MatchData) -> str | None:
    """``--as`` as a municipality code: a code, Japanese or romaji name (one resolver)."""
    text = getattr(args, "as_municipality", None)
    if not text:
        return None
    from engine.names import NameIndex  # start fast

    code = NameIndex(((m.code, (m.name_ja, m.name_en)) for m in data.municipalities),
                     place=True).resolve(text)
    if code is None:
        raise InputError(Problem("--as", f"unknown municipality {text!r}",
                                 f"不明な自治体 {text!r} です"))
    return code


def _show(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns=lambda c: _(_HEADERS[c]) if c in _HEADERS else c)
    out.index = out.index.set_names([_(_HEADERS[str(n)]) if str(n) in _HEADERS else n
                                     for n in out.index.names])
    return out


def _print(df: pd.DataFrame, lang: str) -> None:
    from service.console import print_table  # start fast

    print_table(_show(df), empty=_("nothing to show"))


def _write(args: argparse.Namespace, tables: dict[str, pd.DataFrame], doc: Any) -> None:
    if args.json_out:   # made with its folder, as every output of dxshare
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(
            json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
        )
    if args.csv_out:
        d = Path(args.csv_out)
        d.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            # with the BOM, as every CSV of dxshare: Excel on Japanese Windows reads it as UTF-8
            df.to_csv(d / f"{name}.csv", encoding="utf-8-sig")


def _guard(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            check_outputs(files=[("--json", args.json_out), ("--errors", args.errors)],
                          dirs=[("--csv", args.csv_out)], inputs=[args.data],
                          force=args.force)
            return int(fn(args))
        except InputError as err:
            try:
                report_input_error(err, args.lang, getattr(args, "errors", None),
                                   "dxshare match")
            except OSError as exc:  # the --errors file itself could not be written
                _unwritten(args, exc, args.errors)
            return 2
        except OSError as err:      # an output that could not be written (inputs are read
            _unwritten(args, err, args.json_out or args.csv_out)   # into InputError)
            return 2

    run.__doc__ = fn.__doc__
    return run


def _unwritten(args: argparse.Namespace, err: OSError, given: str | None) -> None:
    """One line on stderr for an output file the system would not write, in the reader's
    language, naming the file."""
    problem = file_problem(str(err.filename or given or ""), err, writing=True)
    report_input_error(InputError(problem), args.lang, None, "dxshare match")


@_guard
def _recommend(args: argparse.Namespace) -> int:
    """Print the top-k candidates for one need."""
    from solvers.matching import build_graph, recommend  # start fast

    data = _load(args)
    g = build_graph(data)
    df = recommend(g, args.need, k=args.k, as_municipality=_viewer(args, data))
    expl = "explanation_ja" if args.lang == "ja" else "explanation"
    # names first; the candidate's id, which a program needs, last
    view = df.reset_index()[["rank", "name", "score", expl, "candidate"]].rename(
        columns={expl: "explanation", "name": "candidate", "candidate": "candidate_id"})
    _print(view, args.lang)
    _write(
        args,
        {"recommendations": df},
        {"need": args.need, "recommendations": df.reset_index().to_dict(orient="records")},
    )
    return 0


@_guard
def _assign(args: argparse.Namespace) -> int:
    """Print the global assignment and the unserved needs with their reasons."""
    from solvers.matching import assign, build_graph  # start fast

    data = _load(args)
    viewer = _viewer(args, data)
    res = assign(
        build_graph(data),
        floor=args.floor,
        small_weight=args.small_weight,
        small_population=args.small_population,
    )
    if viewer:
        res = res.view(viewer, data)
    places = {m.code: m.name_ja if args.lang == "ja" else m.name_en or m.name_ja
              for m in data.municipalities}
    subjects = {n.id: n.title or n.id for n in data.needs}
    # names first (the municipality, the need's subject, the candidate); the ids last
    assigned = res.assigned.reset_index()
    _print(pd.DataFrame({
        "municipality": assigned["municipality"].map(lambda c: places.get(c, c)),
        "need": assigned["need"].map(lambda n: subjects.get(n, n)),
        "candidate": assigned["name"], "score": assigned["score"],
        "need_id": assigned["need"], "candidate_id": assigned["candidate"]}), args.lang)
    if len(res.unserved):
        print()
        col = "reason_ja" if args.lang == "ja" else "reason"
        unserved = res.unserved.reset_index()
        _print(pd.DataFrame({
            "municipality": unserved["municipality"].map(lambda c: places.get(c, c)),
            "need": unserved["need"].map(lambda n: subjects.get(n, n)),
            "reason": unserved[col], "need_id": unserved["need"]}), args.lang)
    print("\n" + _("{assigned} assigned, {unserved} unserved, total score {total:.2f}").format(
        assigned=len(res.assigned), unserved=len(res.unserved), total=res.total_score))
    _write(
        args,
        {
            "assigned": res.assigned,
            "unserved": res.unserved.drop(columns=["_blocking"], errors="ignore"),
            "pairs": res.pairs,
        },
        res.to_dict(),
    )
    return 0


@_guard
def _peers(args: argparse.Namespace) -> int:
    """Print peers of one municipality, or all communities."""
    from solvers.matching import build_graph, communities, suggest_peers  # start fast

    g = build_graph(_load(args))
    tables: dict[str, pd.DataFrame] = {}
    if args.communities or not args.municipality:
        c = communities(g)
        shown = c.reset_index()
        _print(shown[["name", *(k for k in shown.columns if k not in ("name", shown.columns[0])),
                      shown.columns[0]]].rename(columns={"name": "municipality",
                                                         shown.columns[0]: "code"}), args.lang)
        tables["communities"] = c
    if args.municipality:
        p = suggest_peers(g, args.municipality, k=args.k)
        col = "reason_ja" if args.lang == "ja" else "reason"
        name = "name" if args.lang == "ja" else "name_en"
        shown = p.reset_index()
        _print(shown[[name, "similarity", col, shown.columns[0]]].rename(
            columns={col: "reason", name: "peer", shown.columns[0]: "code"}), args.lang)
        tables["peers"] = p
    _write(args, tables, {k: v.reset_index().to_dict(orient="records") for k, v in tables.items()})
    return 0
