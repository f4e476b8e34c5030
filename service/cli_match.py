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
from typing import Any

import pandas as pd

from engine.errors import InputError, Problem
from engine.matching import MatchData, load, load_demo
from solvers.matching import assign, build_graph, communities, recommend, suggest_peers

__all__ = ["register"]

_HEADERS_JA = {
    "candidate": "候補者",
    "need": "ニーズ",
    "rank": "順位",
    "name": "名称",
    "kind": "区分",
    "score": "スコア",
    "explanation": "説明",
    "municipality": "自治体",
    "reason": "理由",
    "reason_code": "理由コード",
    "peer": "自治体",
    "similarity": "類似度",
    "community": "コミュニティ",
    "population": "人口",
    "size": "人数",
    "travel_min": "移動(分)",
    "value": "目的値",
    "top_need": "最優先",
    "blocked_by": "枠を使用中",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="JSON file or directory of CSV files (default: demo data)")
    p.add_argument("--lang", choices=["ja", "en"], default=argparse.SUPPRESS)
    p.add_argument("--json", dest="json_out", metavar="FILE", help="also write JSON here")
    p.add_argument("--csv", dest="csv_out", metavar="DIR", help="also write CSV files here")


def register(subparsers: Any) -> None:
    """Add the ``match`` command (with ``recommend``, ``assign``, ``peers``) to ``subparsers``."""
    match = subparsers.add_parser("match", help="match municipalities with outside talent")
    sub = match.add_subparsers(dest="match_command", required=True)
    r = sub.add_parser("recommend", help="top candidates for one need")
    r.add_argument("--need", required=True)
    r.add_argument("-k", type=int, default=10)
    r.add_argument("--as", dest="as_municipality", help="ask as this municipality (code)")
    _common(r)
    r.set_defaults(handler=_recommend)
    a = sub.add_parser("assign", help="assign candidates to all needs at once")
    a.add_argument("--floor", action="store_true", help="serve each municipality's top need first")
    a.add_argument("--small-weight", type=float, default=0.0)
    a.add_argument("--small-population", type=int, default=50_000)
    a.add_argument("--as", dest="as_municipality", help="show only what this municipality sees")
    _common(a)
    a.set_defaults(handler=_assign)
    p = sub.add_parser("peers", help="peer municipalities and communities")
    p.add_argument("--municipality", help="code or name")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--communities", action="store_true", help="list all communities")
    _common(p)
    p.set_defaults(handler=_peers)
    match.set_defaults(handler=_run_guard(match))


def _run_guard(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def _load(args: argparse.Namespace) -> MatchData:
    return load(args.data) if args.data else load_demo()


def _show(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    if lang != "ja":
        return df
    out = df.rename(columns=_HEADERS_JA)
    out.index = out.index.set_names([_HEADERS_JA.get(str(n), n) for n in out.index.names])
    return out


def _print(df: pd.DataFrame, lang: str) -> None:
    with pd.option_context(
        "display.width",
        200,
        "display.max_colwidth",
        120,
        "display.max_rows",
        500,
        "display.unicode.east_asian_width",
        True,
    ):
        print(
            _show(df, lang).to_string()
            if len(df)
            else ("（該当なし）" if lang == "ja" else "(none)")
        )


def _write(args: argparse.Namespace, tables: dict[str, pd.DataFrame], doc: Any) -> None:
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8"
        )
    if args.csv_out:
        d = Path(args.csv_out)
        d.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            df.to_csv(d / f"{name}.csv", encoding="utf-8")


def _guard(fn: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return int(fn(args))
        except InputError as err:
            print(err.summary(args.lang), file=sys.stderr)
            return 2
        except OSError as err:
            print(
                Problem(str(err.filename or ""), err.strerror or str(err)).text(), file=sys.stderr
            )
            return 2

    run.__doc__ = fn.__doc__
    return run


@_guard
def _recommend(args: argparse.Namespace) -> int:
    """Print the top-k candidates for one need."""
    g = build_graph(_load(args))
    df = recommend(g, args.need, k=args.k, as_municipality=args.as_municipality)
    expl = "explanation_ja" if args.lang == "ja" else "explanation"
    view = df[["rank", "name", "score", expl]].rename(columns={expl: "explanation"})
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
    data = _load(args)
    res = assign(
        build_graph(data),
        floor=args.floor,
        small_weight=args.small_weight,
        small_population=args.small_population,
    )
    if args.as_municipality:
        res = res.view(args.as_municipality, data)
    _print(res.assigned[["municipality", "candidate", "name", "score"]], args.lang)
    if len(res.unserved):
        print()
        col = "reason_ja" if args.lang == "ja" else "reason"
        _print(res.unserved[[col]].rename(columns={col: "reason"}), args.lang)
    total = f"{res.total_score:.2f}"
    print(
        f"\n割当 {len(res.assigned)} 件・未割当 {len(res.unserved)} 件・スコア合計 {total}"
        if args.lang == "ja"
        else f"\n{len(res.assigned)} assigned, {len(res.unserved)} unserved, total score {total}"
    )
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
    g = build_graph(_load(args))
    tables: dict[str, pd.DataFrame] = {}
    if args.communities or not args.municipality:
        c = communities(g)
        _print(c, args.lang)
        tables["communities"] = c
    if args.municipality:
        p = suggest_peers(g, args.municipality, k=args.k)
        col = "reason_ja" if args.lang == "ja" else "reason"
        name = "name" if args.lang == "ja" else "name_en"
        _print(
            p[[name, "similarity", col]].rename(columns={col: "reason", name: "name"}), args.lang
        )
        tables["peers"] = p
    _write(args, tables, {k: v.reset_index().to_dict(orient="records") for k, v in tables.items()})
    return 0
