"""Tiny named instances on the real Ehime municipalities."""

from __future__ import annotations

import datetime as dt

from engine.matching import Candidate, Conflict, Engagement, MatchData, Need, ehime_municipalities

MATSUYAMA, IMABARI, UWAJIMA, KAMIJIMA, AINAN, MATSUNO = (
    "382019",
    "382027",
    "382035",
    "383562",
    "385069",
    "384844",
)
D0, D1 = dt.date(2026, 4, 1), dt.date(2026, 9, 30)


def need(nid: str, muni: str = MATSUYAMA, field: str = "data", topics=("ebpm",), **kw) -> Need:
    kw.setdefault("mode", "remote")
    kw.setdefault("start", D0)
    kw.setdefault("end", D1)
    kw.setdefault("effort_days", 5.0)
    return Need(nid, muni, field, tuple(topics), **kw)


def cand(cid: str, fields=("data",), topics=("ebpm",), lat=33.84, lon=132.77, **kw) -> Candidate:
    kw.setdefault("skills", tuple((t, 3) for t in topics))
    return Candidate(
        cid, f"test {cid}", fields=tuple(fields), topics=tuple(topics), lat=lat, lon=lon, **kw
    )


def data(needs=(), cands=(), engagements=(), conflicts=()) -> MatchData:
    return MatchData(
        ehime_municipalities(), tuple(needs), tuple(cands), tuple(engagements), tuple(conflicts)
    )


__all__ = [
    "AINAN",
    "D0",
    "D1",
    "IMABARI",
    "KAMIJIMA",
    "MATSUNO",
    "MATSUYAMA",
    "UWAJIMA",
    "Conflict",
    "Engagement",
    "cand",
    "data",
    "need",
]
