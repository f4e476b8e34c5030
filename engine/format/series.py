"""Reading ``requests[].after`` (follow-up series, docs/FORMAT.md): each link on its own, then
the links together (a known predecessor other than itself, no cycle, as many experts as the
predecessor when the same experts must come)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from engine.format.reader import Reader
from engine.model import After, Request
from engine.words import counted, month_day

__all__ = ["check_series", "parse_after"]

_AFTER_KEYS = {"request", "min_days", "max_days", "same_experts", "visit"}
#: The longest gap a follow-up may name, calendar days (a horizon's longest span).
MAX_GAP_DAYS = 366


def parse_after(r: Reader, raw: Any, p: str) -> After | None:
    """One ``after`` object (``p`` its path): ``request`` (required), ``min_days`` (≥ 1,
    default 1), ``max_days`` (≥ ``min_days``, optional), ``same_experts`` (default true)."""
    x = r.obj(raw, p)
    if x is None:
        return None
    r.unknown(x, _AFTER_KEYS, p)
    rid = r.string(x, "request", p)
    lo = r.integer(x, "min_days", p, required=False, default=1, lo=1, hi=MAX_GAP_DAYS)
    hi = r.integer(x, "max_days", p, required=False, lo=1, hi=MAX_GAP_DAYS)
    if lo is not None and hi is not None and hi < lo:
        r.err(f"{p}.max_days", f"must not be less than min_days ({lo})",
              f"min_days（{lo}）より小さくはできません")
        return None
    same = r.boolean(x, "same_experts", p, True)
    made: dt.date | None = None
    who: tuple[str, ...] = ()
    if x.get("visit") is not None:
        v = r.obj(x["visit"], f"{p}.visit")
        if v is not None:
            r.unknown(v, {"date", "experts"}, f"{p}.visit")
            made = r.date(v.get("date"), f"{p}.visit.date")
            who = r.str_list(v.get("experts"), f"{p}.visit.experts")
            if made is None or not who:
                return None
    if not rid or lo is None:
        return None
    return After(rid, lo, hi, same, made, who)


def check_series(r: Reader, requests: Sequence[Request], paths: Mapping[str, str],
                 experts: Collection[str] = (), start: dt.date | None = None,
                 named: Callable[[Request, str], str] | None = None) -> None:
    """The links together: each names another request of the document, none closes a cycle
    (the cycle's path is reported, ``r1 → r2 → r1``), and a follow-up by the same experts
    needs as many experts as its predecessor; a visit made before the document
    (``after.visit``) is of a request not in it, before the horizon's ``start``, by known
    ``experts``. ``paths``: request id → its path; ``named``: a request as a person names it
    in English or Japanese (``Places.request``; the id without it): the path carries the id."""
    by_id = {q.id: q for q in requests}
    name = named or (lambda q, lang: q.id)
    for q in requests:
        a = q.after
        if a is None:
            continue
        p = f"{paths[q.id]}.after.request"
        if a.date is not None:
            _check_earlier_visit(r, q, a, f"{paths[q.id]}.after", by_id, experts, start, name)
        elif a.request == q.id:
            r.err(p, "a request cannot follow itself", "自分自身の後には置けません")
        elif a.request not in by_id:
            r.err(p, f"unknown request {a.request!r}", f"不明な依頼 {a.request!r} です")
        elif a.same_experts and len(by_id[a.request].fields) != len(q.fields):
            first = by_id[a.request]
            r.err(f"{paths[q.id]}.after.same_experts",
                  f"{name(q, 'en')} needs {counted(len(q.fields), 'expert')} and "
                  f"{name(first, 'en')}, which it follows, {len(first.fields)}: the same "
                  "experts cannot make both",
                  f"{name(q, 'ja')} は専門家 {len(q.fields)} 名、前回の {name(first, 'ja')} は "
                  f"{len(first.fields)} 名のため、同じ専門家では担当できません")
    reported: set[str] = set()
    for q in requests:
        chain = [q.id]
        cur = q
        while cur.after is not None and cur.after.request in by_id \
                and cur.after.request != cur.id:
            nxt = cur.after.request
            if nxt in chain:
                cycle = chain[chain.index(nxt):] + [nxt]
                if not reported & set(cycle):
                    reported |= set(cycle)
                    en, ja = (" → ".join(name(by_id[c], lang) for c in reversed(cycle))
                              for lang in ("en", "ja"))
                    r.err(f"{paths[cycle[0]]}.after.request", f"a cycle of follow-ups: {en}",
                          f"後続依頼が循環しています: {ja}")
                break
            chain.append(nxt)
            cur = by_id[nxt]


def _check_earlier_visit(r: Reader, q: Request, a: After, p: str, by_id: Mapping[str, Request],
                         experts: Collection[str], start: dt.date | None,
                         name: Callable[[Request, str], str]) -> None:
    """``after.visit``: the visit of a request of an earlier plan, made before this one."""
    if a.request in by_id:
        first = by_id[a.request]
        r.err(f"{p}.visit", f"{name(first, 'en')} is a request of this document: its visit is "
              "planned here, give no visit",
              f"{name(first, 'ja')} はこの文書の依頼です（visit は不要です）")
    if a.date is not None and start is not None and a.date >= start:
        r.err(f"{p}.visit.date", f"must be before the horizon ({month_day(start)})",
              f"計画期間（{month_day(start)}）より前である必要があります")
    for j, eid in enumerate(a.experts):
        r.known(eid, f"{p}.visit.experts[{j}]", set(experts), "expert")
    if a.same_experts and len(a.experts) != len(q.fields):
        r.err(f"{p}.same_experts", f"{name(q, 'en')} needs {counted(len(q.fields), 'expert')} "
              f"and the visit it follows had {len(a.experts)}: the same experts cannot make both",
              f"{name(q, 'ja')} は専門家 {len(q.fields)} 名、前回の訪問は {len(a.experts)} 名の"
              "ため、同じ専門家では担当できません")
