"""Peer networks of municipalities: similarity, communities and peer suggestions with reasons.

Similarity (see ``solvers.matching.similarity``) uses public information only: topics of
non-confidential needs and engagements, population band, region and estimated car time.
Communities are Louvain communities of the ``similar`` network, computed with the graph's
fixed seed when the graph is built.
"""

from __future__ import annotations

import pandas as pd

from engine.errors import InputError, Problem
from engine.matching.model import topic_label
from solvers.matching.graph import MatchGraph
from solvers.matching.similarity import population_band, public_topics

__all__ = ["communities", "suggest_peers"]


def _resolve(g: MatchGraph, municipality: str) -> str:
    if municipality in g.muni_pos:
        return municipality
    for m in g.data.municipalities:
        if municipality in (m.name_ja, m.name_en) or municipality.lower() == m.name_en.lower():
            return m.code
    raise InputError(
        Problem(
            "municipality",
            f"unknown municipality {municipality!r}",
            f"未知の自治体 {municipality!r}",
        )
    )


def suggest_peers(g: MatchGraph, municipality: str, k: int = 5) -> pd.DataFrame:
    """The ``k`` most similar municipalities (prefectural office excluded), best first.

    ``municipality`` is a code or a name. Index ``peer`` (code); columns ``name``,
    ``name_en``, ``similarity`` (0..1), ``shared_topics`` (tuple of tags), ``band``,
    ``same_region``, ``travel_min``, ``same_community``, ``reason``, ``reason_ja``.
    Ties are broken by code.

    >>> from engine.matching import load_demo
    >>> from solvers.matching.graph import build_graph
    >>> peers = suggest_peers(build_graph(load_demo()), "上島町", k=3)
    >>> len(peers)
    3
    """
    if k < 1:
        raise InputError(Problem("k", "must be >= 1", "1 以上が必要です"))
    code = _resolve(g, municipality)
    i = g.muni_pos[code]
    munis = g.data.municipalities
    topics = public_topics(g.data)
    sim = g.sim[i]
    cand = [j for j, m in enumerate(munis) if j != i and not m.is_prefecture]
    cand.sort(key=lambda j: (-sim[j], munis[j].code))
    rows = []
    me = munis[i]
    my_band = population_band(me.population)
    for j in cand[:k]:
        m = munis[j]
        shared = tuple(sorted(topics[code] & topics[m.code]))
        band = population_band(m.population)
        minutes = int(round(float(g.components["travel_min"][i, j])))
        same_comm = g.community_of.get(code) is not None and g.community_of.get(
            code
        ) == g.community_of.get(m.code)
        same_region = m.region if m.region and m.region == me.region else None
        en, ja = _peer_reasons(shared, band == my_band, band, same_region, minutes, same_comm)
        rows.append(
            {
                "peer": m.code,
                "name": m.name_ja,
                "name_en": m.name_en,
                "similarity": round(float(sim[j]), 4),
                "shared_topics": shared,
                "band": band,
                "same_region": bool(m.region and m.region == me.region),
                "travel_min": minutes,
                "same_community": bool(same_comm),
                "reason": "; ".join(en),
                "reason_ja": "、".join(ja),
            }
        )
    cols = [
        "peer",
        "name",
        "name_en",
        "similarity",
        "shared_topics",
        "band",
        "same_region",
        "travel_min",
        "same_community",
        "reason",
        "reason_ja",
    ]
    df = pd.DataFrame(rows, columns=cols).set_index("peer")
    df.attrs["municipality"] = code
    return df


def _peer_reasons(
    shared: tuple[str, ...],
    same_band: bool,
    band: str,
    region: str | None,
    minutes: int,
    same_comm: bool,
) -> tuple[list[str], list[str]]:
    """Why a peer is similar, in English and Japanese: shared topics (three named), the same
    population band, the same region (``region``, None when not), the drive, the same
    community."""
    en: list[str] = []
    ja: list[str] = []
    if shared:
        more = len(shared) - 3
        en.append(
            "shared topics: "
            + ", ".join(topic_label(t, "en") for t in shared[:3])
            + (f" (+{more} more)" if more > 0 else "")
        )
        ja.append(
            "共通テーマ: "
            + "・".join(topic_label(t, "ja") for t in shared[:3])
            + (f"（ほか{more}件）" if more > 0 else "")
        )
    if same_band:
        en.append(f"same population band ({band})")
        ja.append(f"人口規模が同じ（{band}）")
    if region is not None:
        en.append(f"same region ({region})")
        ja.append(f"同じ地域（{region}）")
    en.append(f"about {minutes} min by car")
    ja.append(f"車で約{minutes}分")
    if same_comm:
        en.append("same community")
        ja.append("同じコミュニティ")
    return en, ja


def communities(g: MatchGraph) -> pd.DataFrame:
    """Community of every municipality (prefectural office excluded).

    Index ``municipality`` (code); columns ``community`` (0 = largest), ``name``,
    ``population``, ``size`` (members in the community).
    """
    rows = []
    by_code = g.data.municipality_by_code
    for cid, members in enumerate(g.communities):
        for code in sorted(members):
            m = by_code[code]
            rows.append((code, cid, m.name_ja, m.population, len(members)))
    df = pd.DataFrame(rows, columns=["municipality", "community", "name", "population", "size"])
    return df.set_index("municipality").sort_values(["community", "municipality"])
