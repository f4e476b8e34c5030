"""What a coordinator reads for one need: its top candidates with the points of each component
(``recommend``), one line on each (``explain``), and how many candidates each hard filter
removes (``eligibility``)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from engine.errors import InputError, Problem
from engine.matching.model import field_label, topic_label
from engine.words import counted
from solvers.matching.graph import MatchGraph
from solvers.matching.score.components import FILTERS, NeedScores, Weights, points
from solvers.matching.score.need import score_need, visible_need

__all__ = ["eligibility", "explain", "recommend"]


def explain(g: MatchGraph, s: NeedScores, k: int, lang: str = "en") -> str:
    """One line a civil servant can read for row ``k`` of ``s`` (English or Japanese).

    Mentions only the need itself, the candidate's public profile and public history.
    """
    need = s.need
    p = int(s.positions[k])
    cand = g.candidates[p]
    ja = lang == "ja"
    parts: list[str] = []
    fl = field_label(need.field, lang)
    if s.components["field"][k] > 0:
        parts.append(f"{fl}に対応" if ja else f"covers {fl}")
    else:
        parts.append(f"{fl}は専門外" if ja else f"outside {fl}")
    matched = [t for t in dict.fromkeys(need.topics) if t in cand.topics]
    if need.topics:
        labels = ("、" if ja else ", ").join(topic_label(t, lang) for t in matched)
        total = len(set(need.topics))
        if matched:
            parts.append(
                f"テーマ{len(matched)}/{total}件一致（{labels}）"
                if ja
                else f"{len(matched)}/{total} topics ({labels})"
            )
        else:
            parts.append("テーマ一致なし" if ja else "no topic in common")
    lv = int(round(s.components["skill"][k] * 5))
    if lv:
        parts.append(f"スキル{lv}/5" if ja else f"skill level {lv}/5")
    if s.remote_ok[k]:
        parts.append("リモート対応" if ja else "works remotely")
    else:
        m = int(round(float(s.minutes[k])))
        parts.append(f"車で約{m}分" if ja else f"about {m} min by car")
    cnt = int(s.rating_count[k])
    if cnt:
        r = float(s.rating_mean[k])
        parts.append(f"過去{cnt}件の評価平均{r:.1f}" if ja else f"rated {r:.1f}/5 over {counted(cnt, 'job')}")
    else:
        parts.append("評価実績なし" if ja else "no ratings yet")
    muni = g.data.municipality_by_code[need.municipality]
    if g.worked_with.get((p, need.municipality)):
        parts.append(
            f"{muni.label('ja')}での実績あり" if ja else f"has worked with {muni.label('en')}"
        )
    elif s.components["proximity"][k] >= 0.3:
        parts.append(
            "近隣・類似自治体での実績あり" if ja else "worked with nearby or similar towns"
        )
    left, cap = int(s.capacity_left[k]), cand.capacity
    parts.append(f"空き{left}/{cap}枠" if ja else f"{left} of {counted(cap, 'slot')} free")
    return ("、" if ja else "; ").join(parts)


_COLUMNS_JA = {
    "rank": "順位",
    "name": "名称",
    "kind": "区分",
    "score": "スコア",
    "field": "分野",
    "topic": "テーマ",
    "skill": "スキル",
    "distance": "距離",
    "capacity": "空き",
    "outcome": "実績",
    "proximity": "つながり",
    "travel_min": "移動(分)",
    "capacity_left": "空き枠",
    "explanation": "説明",
}


def recommend(
    g: MatchGraph,
    need_id: str,
    k: int = 10,
    *,
    as_municipality: str | None = None,
    weights: Weights | None = None,
) -> pd.DataFrame:
    """Top-``k`` eligible candidates for a need, best first (ties by candidate id).

    Index ``candidate``; columns ``rank``, ``name``, ``kind``, ``score`` (0..100), the
    breakdown in points (``field`` … ``proximity``, summing to ``score``), ``travel_min``,
    ``capacity_left``, ``explanation`` and ``explanation_ja``. ``as_municipality`` asks as
    that municipality: another municipality's confidential need is reported as unknown.

    >>> from engine.matching import load_demo
    >>> from solvers.matching.graph import build_graph
    >>> g = build_graph(load_demo())
    >>> list(recommend(g, "N001", k=3).columns[:4])
    ['rank', 'name', 'kind', 'score']
    """
    if k < 1:
        raise InputError(Problem("k", "must be >= 1", "1 以上が必要です"))
    need = visible_need(g, need_id, as_municipality)
    w = weights or Weights()
    s = score_need(g, need, w, as_municipality)
    sel = s.order()[:k]
    pts = points(s, w, sel)
    df = pd.DataFrame(
        {
            "rank": np.arange(1, len(sel) + 1),
            "name": [g.candidates[int(p)].name for p in s.positions[sel]],
            "kind": [g.candidates[int(p)].kind for p in s.positions[sel]],
            "score": s.weight[sel] / 100.0,
            **pts,
            "travel_min": np.rint(s.minutes[sel]).astype(int),
            "capacity_left": s.capacity_left[sel],
            "explanation": [explain(g, s, int(i), "en") for i in sel],
            "explanation_ja": [explain(g, s, int(i), "ja") for i in sel],
        },
        index=pd.Index([g.candidates[int(p)].id for p in s.positions[sel]], name="candidate"),
    )
    df.attrs["need"] = need.id
    df.attrs["weights"] = asdict(w)
    return df


def eligibility(g: MatchGraph, need_id: str, *, as_municipality: str | None = None) -> pd.Series:
    """How many candidates are relevant to a need, removed by each hard filter, and eligible
    (a candidate failing several filters is counted under each)."""
    need = visible_need(g, need_id, as_municipality)
    s = score_need(g, need, None, as_municipality)
    data = {"relevant": len(s.positions)}
    data.update({f: int(s.filters[f].sum()) for f in FILTERS})
    data["eligible"] = int(s.eligible.sum())
    return pd.Series(data, name=need.id, dtype="int64")
