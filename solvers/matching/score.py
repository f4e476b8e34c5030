"""Scores of candidates for a need, with breakdown, explanation and hard filters.

``score = 100 × Σ wᵢ·cᵢ / Σ wᵢ`` over components ``cᵢ`` in 0..1 (default weights in
``Weights``):

- ``field``     1 if the candidate covers the need's field, else 0
- ``topic``     share of the need's topic tags the candidate offers (field fit if none)
- ``skill``     best skill level (1..5) among the need's topics and field, divided by 5
- ``distance``  1 for remote work by a remote-capable candidate, else ``1 - car_min / 240``
- ``capacity``  free share of the candidate's concurrent-engagement capacity
- ``outcome``   mean past rating, smoothed towards 3/5 by 2 pseudo-ratings, as ``(r-1)/4``
- ``proximity`` personalised PageRank of the candidate from the need's municipality (0..1)

The breakdown columns hold each component's *points* (``100 × wᵢ·cᵢ / Σ wᵢ``): they add up to
the score. Only candidates sharing the field or a topic with the need are considered.
Hard filters remove a candidate: a conflict of interest with the municipality, no capacity
left, an on-site need beyond the candidate's ``max_travel_min`` (a remote need counts as
on-site for a candidate who cannot work remotely), or fewer available days in the need's
time frame than its effort (capped at the frame's length). Ties are broken by candidate id.

Confidentiality: a viewer (``as_municipality``) only reaches needs it may see; past
outcomes of a municipality's confidential engagements count only when that municipality
(or the programme office, ``None``) is asking.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import InputError, Problem
from engine.matching.model import Municipality, Need, field_label, topic_label
from engine.travel import (
    EARTH_RADIUS_KM,
    FERRY_MINUTES,
    great_circle_km_radians,
    minutes_from_km,
)
from solvers.matching.graph import MatchGraph

__all__ = [
    "COMPONENTS",
    "FILTERS",
    "NeedScores",
    "Weights",
    "eligibility",
    "explain",
    "recommend",
    "score_need",
    "score_table",
]

#: Score components, in breakdown order.
COMPONENTS: tuple[str, ...] = (
    "field",
    "topic",
    "skill",
    "distance",
    "capacity",
    "outcome",
    "proximity",
)
#: Hard filters, in the order they are reported.
FILTERS: tuple[str, ...] = ("conflict", "no_capacity", "out_of_reach", "unavailable")

FILTER_LABELS: dict[str, tuple[str, str]] = {
    "conflict": ("conflict of interest", "利益相反"),
    "no_capacity": ("no capacity left", "受託枠なし"),
    "out_of_reach": ("on-site need out of reach", "現地対応の移動範囲外"),
    "unavailable": ("not available in the time frame", "期間中に稼働不可"),
}


@dataclass(frozen=True, slots=True)
class Weights:
    """Component weights (any non-negative numbers, not all zero) and scoring constants.

    ``distance_horizon_min``: car minutes at which the distance component reaches 0;
    ``outcome_prior``/``outcome_prior_weight``: the rating a newcomer is assumed to have and
    how many pseudo-ratings it counts for.
    """

    field: float = 0.25
    topic: float = 0.25
    skill: float = 0.15
    distance: float = 0.10
    capacity: float = 0.05
    outcome: float = 0.10
    proximity: float = 0.10
    distance_horizon_min: float = 240.0
    outcome_prior: float = 3.0
    outcome_prior_weight: float = 2.0

    def __post_init__(self) -> None:
        ws = [getattr(self, c) for c in COMPONENTS]
        problems = [
            Problem(f"weights.{c}", "must be >= 0", "0 以上が必要です")
            for c, w in zip(COMPONENTS, ws, strict=True)
            if not w >= 0
        ]
        if not problems and sum(ws) <= 0:
            problems.append(
                Problem("weights", "at least one weight must be > 0", "正の重みが必要です")
            )
        if self.distance_horizon_min <= 0:
            problems.append(
                Problem("weights.distance_horizon_min", "must be > 0", "0 より大きい値が必要です")
            )
        if problems:
            raise InputError(problems)

    def vector(self) -> npt.NDArray[np.float64]:
        """Weights in ``COMPONENTS`` order, scaled to sum to 1."""
        w = np.array([getattr(self, c) for c in COMPONENTS], dtype=np.float64)
        return w / w.sum()


@dataclass(frozen=True)
class NeedScores:
    """Every relevant candidate of one need: positions (id order), components, filters.

    ``weight`` is the score in integer hundredths of a point (``8123`` = 81.23); it is what
    ranking and the assignment use, so displayed ties are real ties.
    """

    need: Need
    positions: npt.NDArray[np.int64]
    components: dict[str, npt.NDArray[np.float64]]
    filters: dict[str, npt.NDArray[np.bool_]]
    minutes: npt.NDArray[np.float64]
    remote_ok: npt.NDArray[np.bool_]
    capacity_left: npt.NDArray[np.int64]
    rating_mean: npt.NDArray[np.float64]
    rating_count: npt.NDArray[np.float64]
    weight: npt.NDArray[np.int64]

    @property
    def eligible(self) -> npt.NDArray[np.bool_]:
        bad = np.zeros(len(self.positions), dtype=bool)
        for f in FILTERS:
            bad |= self.filters[f]
        return ~bad

    def order(self, mask: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.int64]:
        """Indices (into ``positions``) by score descending then candidate id."""
        sel = np.flatnonzero(self.eligible if mask is None else mask)
        return sel[np.lexsort((self.positions[sel], -self.weight[sel]))]


def _check_viewer(g: MatchGraph, as_municipality: str | None) -> None:
    if as_municipality is not None and as_municipality not in g.muni_pos:
        raise InputError(
            Problem(
                "as_municipality",
                f"unknown municipality {as_municipality!r}",
                f"未知の自治体 {as_municipality!r}",
            )
        )


def _visible_need(g: MatchGraph, need_id: str, as_municipality: str | None) -> Need:
    """The need, or the same 'unknown need' error whether it is missing or not visible."""
    _check_viewer(g, as_municipality)
    need = g.data.need_by_id.get(need_id)
    if need is None or (
        as_municipality is not None and need.confidential and need.municipality != as_municipality
    ):
        raise InputError(
            Problem("need_id", f"unknown need {need_id!r}", f"未知のニーズ {need_id!r}")
        )
    return need


def _minutes(
    phi: Any, cos_phi: Any, lam: Any, ferry: Any, c_phi: Any, c_cos_phi: Any, c_lam: Any
) -> npt.NDArray[np.float64]:
    """Estimated car minutes (``engine.travel``'s model, unrounded) from points (radians,
    cosine of latitude, ferry minutes) to candidates (their precomputed radians),
    elementwise with numpy broadcasting.

    Both scoring paths go through this one expression so that they agree to the last bit.
    """
    km = great_circle_km_radians(phi, lam, cos_phi, c_phi, c_lam, c_cos_phi)
    return np.asarray(minutes_from_km(km, ferry), dtype=np.float64)


def _car_minutes_to(
    g: MatchGraph, lat: float, lon: float, island: bool, idx: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """``_minutes`` from one point to candidates, reusing their precomputed radians."""
    phi, lam = math.radians(lat), math.radians(lon)
    return _minutes(
        phi,
        math.cos(phi),
        lam,
        FERRY_MINUTES if island else 0.0,
        g.cand_phi[idx],
        g.cand_cos_phi[idx],
        g.cand_lam[idx],
    )


def _distance_by_car(minutes: npt.NDArray[np.float64], w: Weights) -> npt.NDArray[np.float64]:
    return np.clip(1.0 - minutes / w.distance_horizon_min, 0.0, 1.0)


def _distance_component(
    minutes: npt.NDArray[np.float64], remote_ok: npt.NDArray[np.bool_], w: Weights
) -> npt.NDArray[np.float64]:
    return np.where(remote_ok, 1.0, _distance_by_car(minutes, w))


def _outcome_component(
    rsum: npt.NDArray[np.float64], rcnt: npt.NDArray[np.float64], w: Weights
) -> npt.NDArray[np.float64]:
    pw = w.outcome_prior_weight
    mean = (rsum + w.outcome_prior * pw) / np.maximum(rcnt + pw, 1e-12)
    return np.clip((mean - 1.0) / 4.0, 0.0, 1.0)


def score_need(
    g: MatchGraph,
    need: Need,
    weights: Weights | None = None,
    as_municipality: str | None = None,
) -> NeedScores:
    """Score every candidate relevant to ``need`` (vectorised; no visibility check here)."""
    w = weights or Weights()
    muni = g.data.municipality_by_code[need.municipality]
    idx, field_c, topic_c, skill_c = _need_fit(g, need)

    minutes = _car_minutes_to(g, muni.lat, muni.lon, muni.island, idx)
    remote_ok = (not need.onsite) & g.cand_remote[idx]
    distance_c = _distance_component(minutes, remote_ok, w)
    out_of_reach = ~remote_ok & (minutes > g.cand_max_travel[idx])
    cap = g.cand_capacity[idx]
    cap_left = cap - g.cand_load[idx]
    capacity_c = np.clip(cap_left / cap, 0.0, 1.0)
    no_capacity = cap_left <= 0
    overlap = (
        np.minimum(g.cand_until[idx], need.end.toordinal())
        - np.maximum(g.cand_from[idx], need.start.toordinal())
        + 1
    )
    required = min(math.ceil(need.effort_days), need.window_days)
    unavailable = overlap < required
    blocked = g.conflicts.get(need.municipality)
    if blocked:
        conflict = np.isin(idx, np.fromiter(blocked, dtype=np.int64, count=len(blocked)))
    else:
        conflict = np.zeros(len(idx), dtype=bool)

    rsum, rcnt = _ratings(g, need, idx, as_municipality)
    comps = {
        "field": field_c,
        "topic": topic_c,
        "skill": skill_c,
        "distance": distance_c,
        "capacity": capacity_c,
        "outcome": _outcome_component(rsum, rcnt, w),
        "proximity": g.proximity(need.municipality, idx),
    }
    wv = w.vector()
    total = np.zeros(len(idx))
    for wi, name in zip(wv, COMPONENTS, strict=True):
        total += wi * comps[name]
    weight = np.rint(total * 10_000.0).astype(np.int64)
    return NeedScores(
        need=need,
        positions=idx,
        components=comps,
        filters={
            "conflict": conflict,
            "no_capacity": no_capacity,
            "out_of_reach": out_of_reach,
            "unavailable": unavailable,
        },
        minutes=minutes,
        remote_ok=remote_ok,
        capacity_left=cap_left,
        rating_mean=np.where(rcnt > 0, rsum / np.maximum(rcnt, 1), np.nan),
        rating_count=rcnt,
        weight=weight,
    )


def _need_fit(g: MatchGraph, need: Need) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    """The candidates relevant to ``need`` (positions: its field or one of its topics) and
    their field, topic and skill fit."""
    n = len(g.candidates)
    mark = np.zeros(n, dtype=bool)
    fpos = g.field_cands.get(need.field, np.zeros(0, dtype=np.int64))
    mark[fpos] = True
    tcount = np.zeros(n)
    for t in set(need.topics):
        tp = g.topic_cands.get(t)
        if tp is not None:
            tcount[tp] += 1.0
    mark |= tcount > 0
    idx = np.flatnonzero(mark)
    field_fit = np.zeros(n)
    field_fit[fpos] = 1.0
    field_c = field_fit[idx]
    n_topics = len(set(need.topics))
    topic_c = tcount[idx] / n_topics if n_topics else field_c.copy()
    level = np.zeros(n)
    for s in set(need.topics) | {need.field}:
        sp = g.skill_cands.get(s)
        if sp is not None:
            level[sp[0]] = np.maximum(level[sp[0]], sp[1])
    return idx, field_c, topic_c, level[idx] / 5.0


def _ratings(
    g: MatchGraph, need: Need, idx: npt.NDArray[np.int64], as_municipality: str | None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Sum and count of the past ratings of the candidates ``idx``, with the need's own
    confidential ones where the viewer may see them."""
    rsum = g.out_sum[idx].copy()
    rcnt = g.out_cnt[idx].copy()
    if as_municipality is None or as_municipality == need.municipality:
        own = g.conf_out.get(need.municipality)
        if own:
            for p, (rs, rc) in own.items():
                j = int(np.searchsorted(idx, p))
                if j < len(idx) and idx[j] == p:
                    rsum[j] += rs
                    rcnt[j] += rc
    return rsum, rcnt


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
        parts.append(f"過去{cnt}件の評価平均{r:.1f}" if ja else f"rated {r:.1f}/5 over {cnt} jobs")
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
    parts.append(f"空き{left}/{cap}枠" if ja else f"{left} of {cap} slots free")
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


def _points(s: NeedScores, w: Weights, sel: npt.NDArray[np.int64]) -> dict[str, Any]:
    wv = w.vector()
    return {
        c: np.round(100.0 * wi * s.components[c][sel], 2)
        for wi, c in zip(wv, COMPONENTS, strict=True)
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
    need = _visible_need(g, need_id, as_municipality)
    w = weights or Weights()
    s = score_need(g, need, w, as_municipality)
    sel = s.order()[:k]
    pts = _points(s, w, sel)
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
    need = _visible_need(g, need_id, as_municipality)
    s = score_need(g, need, None, as_municipality)
    data = {"relevant": len(s.positions)}
    data.update({f: int(s.filters[f].sum()) for f in FILTERS})
    data["eligible"] = int(s.eligible.sum())
    return pd.Series(data, name=need.id, dtype="int64")


def score_table(
    g: MatchGraph,
    need_ids: list[str] | None = None,
    *,
    as_municipality: str | None = None,
    weights: Weights | None = None,
    top_k_per_need: int | None = None,
) -> pd.DataFrame:
    """All eligible (need, candidate) pairs with score, integer ``weight`` and breakdown.

    Index ``(need, candidate)``, ordered by need id, then score descending, then candidate id.
    ``top_k_per_need`` keeps each need's best pairs only (``None``: all). ``need_ids`` defaults
    to every need the viewer may see.

    Needs are scored in blocks (one field and mode at a time) as need × candidate arrays;
    every value equals what ``score_need`` gives for the need alone.
    """
    w = weights or Weights()
    _check_viewer(g, as_municipality)
    if top_k_per_need is not None and top_k_per_need < 1:
        raise InputError(Problem("top_k_per_need", "must be >= 1", "1 以上が必要です"))
    if need_ids is None:
        needs = list(g.data.visible_needs(as_municipality))
    else:
        needs = [_visible_need(g, nid, as_municipality) for nid in need_ids]
    return _pair_frame(_collect_pairs_batched(g, needs, w, as_municipality, top_k_per_need))


def _pair_frame(cols: dict[str, Any]) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays(
        [cols.pop("need"), cols.pop("candidate")], names=["need", "candidate"]
    )
    return pd.DataFrame(cols, index=index)


def _collect_pairs_per_need(
    g: MatchGraph,
    needs: list[Need],
    w: Weights,
    as_municipality: str | None,
    top_k: int | None,
) -> dict[str, Any]:
    """Columns of the score table, scoring one need at a time with ``score_need``.

    The reference the batched path is checked against (same values, same order)."""
    order = sorted(range(len(needs)), key=lambda i: (needs[i].municipality, needs[i].id))
    chunks: dict[int, tuple[NeedScores, npt.NDArray[np.int64]]] = {}
    for i in order:
        s = score_need(g, needs[i], w, as_municipality)
        mask = s.eligible
        if top_k is not None and mask.sum() > top_k:
            el = np.flatnonzero(mask)
            kth = np.partition(s.weight[el], len(el) - top_k)[len(el) - top_k]
            mask = mask & (s.weight >= kth)  # keeps ties at the cut; order() breaks them
        sel = s.order(mask)
        if top_k is not None:
            sel = sel[:top_k]
        chunks[i] = (s, sel)
    parts: dict[str, list[Any]] = {
        "need": [],
        "candidate": [],
        "municipality": [],
        "score": [],
        "weight": [],
        **{c: [] for c in COMPONENTS},
        "travel_min": [],
        "remote": [],
    }
    ids = np.array([c.id for c in g.candidates], dtype=object)
    for i in sorted(range(len(needs)), key=lambda i: needs[i].id):
        s, sel = chunks[i]
        m = len(sel)
        parts["need"].append(np.full(m, needs[i].id, dtype=object))
        parts["candidate"].append(ids[s.positions[sel]])
        parts["municipality"].append(np.full(m, needs[i].municipality, dtype=object))
        parts["score"].append(s.weight[sel] / 100.0)
        parts["weight"].append(s.weight[sel])
        for c, v in _points(s, w, sel).items():
            parts[c].append(v)
        parts["travel_min"].append(np.rint(s.minutes[sel]).astype(np.int64))
        parts["remote"].append(s.remote_ok[sel])
    out: dict[str, Any] = {}
    for key, arrs in parts.items():
        out[key] = np.concatenate(arrs) if arrs else np.zeros(0)
    return out


#: Target size (need × candidate cells) of one block of the batched score table.
_BLOCK_CELLS = 1 << 17


@dataclass(frozen=True)
class _Pairs:
    """Kept pairs of many needs, grouped by need (in need id order), each need's pairs in
    ranking order: index into the needs list, candidate position, raw components."""

    need: npt.NDArray[np.int64]
    position: npt.NDArray[np.int64]
    weight: npt.NDArray[np.int64]
    components: dict[str, npt.NDArray[np.float64]]
    minutes: npt.NDArray[np.float64]
    remote_ok: npt.NDArray[np.bool_]


def _collect_pairs_batched(
    g: MatchGraph,
    needs: list[Need],
    w: Weights,
    as_municipality: str | None,
    top_k: int | None,
) -> dict[str, Any]:
    """``_collect_pairs_per_need`` for many needs at once, with the same values and order."""
    p = _score_pairs_batched(g, needs, w, as_municipality, top_k)
    ids = np.array([c.id for c in g.candidates], dtype=object)
    need_ids = np.array([x.id for x in needs], dtype=object)
    need_munis = np.array([x.municipality for x in needs], dtype=object)
    out: dict[str, Any] = {
        "need": need_ids[p.need],
        "candidate": ids[p.position],
        "municipality": need_munis[p.need],
        "score": p.weight / 100.0,
        "weight": p.weight,
    }
    for wi, c in zip(w.vector(), COMPONENTS, strict=True):
        out[c] = np.round(100.0 * wi * p.components[c], 2)
    out["travel_min"] = np.rint(p.minutes).astype(np.int64)
    out["remote"] = p.remote_ok
    return out


def _score_pairs_batched(
    g: MatchGraph,
    needs: list[Need],
    w: Weights,
    as_municipality: str | None,
    top_k: int | None,
) -> _Pairs:
    """The kept pairs of ``needs``, with the same values and order as ``score_need`` gives.

    Needs sharing a field and a mode are scored together as a block: a need × candidate array
    over the candidates relevant to any of them (sorted by position, so ties still go to the
    lower id). Every component is the same elementwise expression as in ``score_need``; cells
    of candidates not relevant to a row's need are computed but never selected, and candidates
    that cannot be eligible for any need of a block are left out of it. Travel minutes are
    computed only where they matter for the score or a filter (on-site needs, candidates
    who cannot work remotely) and, afterwards, for the pairs kept.
    """
    n = len(g.candidates)
    cap = g.cand_capacity
    cap_left_all = cap - g.cand_load
    capacity_all = np.clip(cap_left_all / cap, 0.0, 1.0)
    no_capacity_all = cap_left_all <= 0
    outcome_all = _outcome_component(g.out_sum, g.out_cnt, w)
    wv = w.vector()

    groups = _groups_by_field_and_mode(g, needs)

    out_need: list[npt.NDArray[np.int64]] = []
    out_pos: list[npt.NDArray[np.int64]] = []
    out_weight: list[npt.NDArray[np.int64]] = []
    out_comp: dict[str, list[npt.NDArray[np.float64]]] = {c: [] for c in COMPONENTS}
    out_remote: list[npt.NDArray[np.bool_]] = []
    for (fld, onsite), members in groups.items():
        fpos = g.field_cands.get(fld, np.zeros(0, dtype=np.int64))
        wide = np.zeros(n, dtype=bool)
        wide[fpos] = True
        for i in members:
            for t in needs[i].topics:
                tp = g.topic_cands.get(t)
                if tp is not None:
                    wide[tp] = True
        rows = max(1, _BLOCK_CELLS // max(1, int(wide.sum())))
        for start in range(0, len(members), rows):
            block = members[start : start + rows]
            res = _score_block(
                g,
                [needs[i] for i in block],
                fld,
                onsite,
                w,
                wv,
                as_municipality,
                top_k,
                capacity_all,
                no_capacity_all,
                outcome_all,
            )
            r, pos, weight, comps, remote = res
            out_need.append(np.asarray(block, dtype=np.int64)[r])
            out_pos.append(pos)
            out_weight.append(weight)
            for c in COMPONENTS:
                out_comp[c].append(comps[c])
            out_remote.append(remote)

    def cat(parts: list[Any], dtype: Any) -> Any:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    need_i = cat(out_need, np.int64)
    pos = cat(out_pos, np.int64)
    # need id order (stable for repeated ids), keeping each need's own ranking
    rank = np.empty(len(needs), dtype=np.int64)
    rank[sorted(range(len(needs)), key=lambda i: needs[i].id)] = np.arange(len(needs))
    perm = np.argsort(rank[need_i], kind="stable")
    need_i, pos = need_i[perm], pos[perm]
    weight = cat(out_weight, np.int64)[perm]
    comps = {c: cat(out_comp[c], np.float64)[perm] for c in COMPONENTS}
    remote = cat(out_remote, bool)[perm]

    return _Pairs(need_i, pos, weight, comps, _pair_minutes(g, needs, need_i, pos), remote)


def _groups_by_field_and_mode(
    g: MatchGraph, needs: list[Need]
) -> dict[tuple[str, bool], list[int]]:
    """The needs (indices) in blocks of one field and mode, each from south to north so that
    a block spans a narrow band of latitudes (candidates beyond reach of the whole band then
    drop out of it)."""
    lat_of = {m.code: m.lat for m in g.data.municipalities}
    groups: dict[tuple[str, bool], list[int]] = {}
    for i in sorted(
        range(len(needs)),
        key=lambda i: (lat_of[needs[i].municipality], needs[i].municipality, needs[i].id),
    ):
        groups.setdefault((needs[i].field, needs[i].onsite), []).append(i)
    return groups


def _pair_minutes(
    g: MatchGraph, needs: list[Need], need_i: npt.NDArray[np.int64], pos: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Travel minutes of the kept pairs (need index, candidate position), by the same
    expression as in ``score_need``."""
    lat = np.array([g.data.municipality_by_code[x.municipality].lat for x in needs])
    lon = np.array([g.data.municipality_by_code[x.municipality].lon for x in needs])
    isl = [g.data.municipality_by_code[x.municipality].island for x in needs]
    phi = np.array([math.radians(v) for v in lat])
    cos_phi = np.array([math.cos(v) for v in phi])
    lam = np.array([math.radians(v) for v in lon])
    ferry = np.array([FERRY_MINUTES if v else 0.0 for v in isl])
    return _minutes(
        phi[need_i],
        cos_phi[need_i],
        lam[need_i],
        ferry[need_i],
        g.cand_phi[pos],
        g.cand_cos_phi[pos],
        g.cand_lam[pos],
    )


@dataclass(frozen=True)
class _Block:
    """A block of needs with one field and mode, and the candidate columns it scores:
    ``cols`` (candidate positions), ``colmap`` (position → column, -1 when left out), the
    needs' municipalities and their latitudes in radians (``phi``)."""

    needs: list[Need]
    fld: str
    onsite: bool
    cols: npt.NDArray[np.int64]
    colmap: npt.NDArray[np.int64]
    munis: list[Municipality]
    phi: npt.NDArray[np.float64]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.needs), len(self.cols)


def _score_block(
    g: MatchGraph,
    needs: list[Need],
    fld: str,
    onsite: bool,
    w: Weights,
    wv: npt.NDArray[np.float64],
    as_municipality: str | None,
    top_k: int | None,
    capacity_all: npt.NDArray[np.float64],
    no_capacity_all: npt.NDArray[np.bool_],
    outcome_all: npt.NDArray[np.float64],
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    dict[str, npt.NDArray[np.float64]],
    npt.NDArray[np.bool_],
]:
    """Kept pairs of a block of needs with one field and mode: row in the block, candidate
    position, weight, components and remote flag, each need's pairs in ranking order."""
    blk = _block_columns(g, needs, fld, onsite, no_capacity_all)
    cols = blk.cols
    field_row, topic_c, skill_c, relevant = _fit_components(g, blk)
    distance_c, out_of_reach, remote_ok = _reach(g, blk, w)
    bad = _unavailable(g, blk)
    outcome_c, proximity_c = _per_need_components(g, blk, w, as_municipality, outcome_all, bad)
    comps: dict[str, npt.NDArray[np.float64]] = {
        "field": field_row,
        "topic": topic_c,
        "skill": skill_c,
        "distance": distance_c,
        "capacity": capacity_all[cols],
        "outcome": outcome_c,
        "proximity": proximity_c,
    }
    weight = _block_weight(comps, wv, blk.shape)
    bad |= out_of_reach
    bad |= no_capacity_all[cols]
    bad |= ~relevant
    r_idx, c_idx = _ranked_cells(weight, bad, top_k)
    sel = {name: (v[c_idx] if v.ndim == 1 else v[r_idx, c_idx]) for name, v in comps.items()}
    return r_idx, cols[c_idx], weight[r_idx, c_idx], sel, remote_ok[r_idx, c_idx]


def _block_columns(
    g: MatchGraph, needs: list[Need], fld: str, onsite: bool, no_capacity_all: npt.NDArray[np.bool_]
) -> _Block:
    """The candidates a block scores: those with its field or one of its topics, capacity
    left, and within reach of at least one of its needs."""
    n = len(g.candidates)
    tags = sorted({t for x in needs for t in x.topics})
    fpos = g.field_cands.get(fld, np.zeros(0, dtype=np.int64))
    wide = np.zeros(n, dtype=bool)
    wide[fpos] = True
    for t in tags:
        tp = g.topic_cands.get(t)
        if tp is not None:
            wide[tp] = True
    munis = [g.data.municipality_by_code[x.municipality] for x in needs]
    phi = np.array([math.radians(mu.lat) for mu in munis])
    # Columns that can never be eligible in this block are left out of it: no capacity left,
    # or out of reach of every need of the block. The great-circle distance is at least the
    # difference in latitude (R·|Δφ|), and the minutes grow with it, so a candidate whose
    # latitude is farther from the block's band than its travel limit allows is out of reach
    # for all of them.
    wide &= ~no_capacity_all
    by_car = ~g.cand_remote if not onsite else np.ones(n, dtype=bool)
    gap = np.maximum(np.maximum(phi.min() - g.cand_phi, g.cand_phi - phi.max()), 0.0)
    least = minutes_from_km(gap * EARTH_RADIUS_KM) * (1.0 - 1e-9)
    wide &= ~(by_car & (least > g.cand_max_travel))
    cols = np.flatnonzero(wide)
    colmap = np.full(n, -1, dtype=np.int64)
    colmap[cols] = np.arange(len(cols))
    return _Block(needs, fld, onsite, cols, colmap, munis, phi)


def _fit_components(g: MatchGraph, blk: _Block) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
]:
    """Field, topic and skill fit, and which cells are relevant at all: one row per tag of the
    block (plus an empty row), gathered into the block by "slot" (a need's first, second, ...
    distinct topic)."""
    b, m = blk.shape
    colmap = blk.colmap
    topic_lists = [sorted(set(x.topics)) for x in blk.needs]
    tags = sorted({t for ts in topic_lists for t in ts})
    fpos = g.field_cands.get(blk.fld, np.zeros(0, dtype=np.int64))
    field_row = np.zeros(m)
    j = colmap[fpos]
    field_row[j[j >= 0]] = 1.0
    k = len(tags)
    small = np.uint8 if k < 255 else np.int32
    has_tag = np.zeros((k + 1, m), dtype=small)
    tag_level = np.zeros((k + 1, m), dtype=np.uint8)
    for i, t in enumerate(tags):
        tp = g.topic_cands.get(t)
        if tp is not None:
            j = colmap[tp]
            has_tag[i, j[j >= 0]] = 1
        sp = g.skill_cands.get(t)
        if sp is not None:
            j = colmap[sp[0]]
            tag_level[i, j[j >= 0]] = sp[1][j >= 0]
    field_level = np.zeros(m, dtype=np.uint8)
    sp = g.skill_cands.get(blk.fld)
    if sp is not None:
        j = colmap[sp[0]]
        field_level[j[j >= 0]] = sp[1][j >= 0]
    slots = max((len(ts) for ts in topic_lists), default=0)
    tag_at = {t: i for i, t in enumerate(tags)}
    slot = np.full((b, slots), k, dtype=np.int64)
    for r, ts in enumerate(topic_lists):
        slot[r, : len(ts)] = [tag_at[t] for t in ts]
    tcount = np.zeros((b, m), dtype=small)
    level = np.broadcast_to(field_level, (b, m)).copy()
    for sl in range(slots):
        tcount += has_tag[slot[:, sl]]
        np.maximum(level, tag_level[slot[:, sl]], out=level)
    n_topics = np.array([len(ts) for ts in topic_lists], dtype=np.float64)
    topic_c = tcount / np.maximum(n_topics, 1.0)[:, None]
    if not n_topics.all():
        topic_c[n_topics == 0] = field_row
    relevant = tcount > 0
    relevant |= field_row > 0
    skill_c = level / 5.0
    return field_row, topic_c, skill_c, relevant


def _reach(g: MatchGraph, blk: _Block, w: Weights) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]
]:
    """Distance component, out of reach, remote: computed only on the columns where the car
    matters (all of them for an on-site need, the candidates who cannot work remotely for a
    remote one)."""
    b, m = blk.shape
    onsite, cols, munis, phi = blk.onsite, blk.cols, blk.munis, blk.phi
    remote_col = g.cand_remote[cols]
    far = np.arange(m) if onsite else np.flatnonzero(~remote_col)
    far_pos = cols[far]
    cos_phi = np.array([math.cos(v) for v in phi])
    lam = np.array([math.radians(mu.lon) for mu in munis])
    ferry = np.array([FERRY_MINUTES if mu.island else 0.0 for mu in munis])
    minutes = _minutes(
        phi[:, None],
        cos_phi[:, None],
        lam[:, None],
        ferry[:, None],
        g.cand_phi[far_pos],
        g.cand_cos_phi[far_pos],
        g.cand_lam[far_pos],
    )
    if onsite:
        distance_c = _distance_by_car(minutes, w)
        out_of_reach = minutes > g.cand_max_travel[far_pos]
    else:
        distance_c = np.ones((b, m))
        distance_c[:, far] = _distance_by_car(minutes, w)
        out_of_reach = np.zeros((b, m), dtype=bool)
        out_of_reach[:, far] = minutes > g.cand_max_travel[far_pos]
    remote_ok = np.broadcast_to((not onsite) & remote_col, (b, m))
    return distance_c, out_of_reach, remote_ok


def _unavailable(g: MatchGraph, blk: _Block) -> npt.NDArray[np.bool_]:
    """Cells whose candidate's dates leave too few days of the need's time frame: computed only
    for candidates whose dates do not cover every time frame of the block."""
    needs, cols = blk.needs, blk.cols
    end = np.array([x.end.toordinal() for x in needs])
    begin = np.array([x.start.toordinal() for x in needs])
    required = np.array([min(math.ceil(x.effort_days), x.window_days) for x in needs])
    c_from, c_until = g.cand_from[cols], g.cand_until[cols]
    short = np.flatnonzero((c_from > begin.min()) | (c_until < end.max()))
    bad = np.zeros(blk.shape, dtype=bool)
    overlap = (
        np.minimum(c_until[short], end[:, None]) - np.maximum(c_from[short], begin[:, None]) + 1
    )
    bad[:, short] = overlap < required[:, None]  # unavailable
    return bad


def _per_need_components(
    g: MatchGraph,
    blk: _Block,
    w: Weights,
    as_municipality: str | None,
    outcome_all: npt.NDArray[np.float64],
    bad: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Past outcomes (with the need's own confidential ones where the viewer may see them) and
    proximity, need by need; conflicts are marked in ``bad``."""
    b, m = blk.shape
    colmap = blk.colmap
    outcome_c = np.repeat(outcome_all[blk.cols][None, :], b, axis=0)
    proximity_c = np.zeros((b, m))
    ppr = g.ppr
    for r, x in enumerate(blk.needs):
        blocked = g.conflicts.get(x.municipality)
        if blocked:
            j = colmap[np.fromiter(blocked, dtype=np.int64, count=len(blocked))]
            bad[r, j[j >= 0]] = True  # conflict
        if as_municipality is None or as_municipality == x.municipality:
            own = g.conf_out.get(x.municipality)
            if own:
                ps = np.fromiter(own, dtype=np.int64, count=len(own))
                rs = np.array([own[p][0] for p in ps], dtype=np.float64)
                rc = np.array([own[p][1] for p in ps], dtype=np.float64)
                j = colmap[ps]
                ok = j >= 0
                outcome_c[r, j[ok]] = _outcome_component(
                    g.out_sum[ps[ok]] + rs[ok], g.out_cnt[ps[ok]] + rc[ok], w
                )
        mr = g.muni_pos[x.municipality]
        lo, hi = ppr.indptr[mr], ppr.indptr[mr + 1]
        j = colmap[ppr.indices[lo:hi]]
        ok = j >= 0
        proximity_c[r, j[ok]] = ppr.data[lo:hi][ok]
    return outcome_c, proximity_c


def _block_weight(
    comps: dict[str, npt.NDArray[np.float64]], wv: npt.NDArray[np.float64], shape: tuple[int, int]
) -> npt.NDArray[np.int64]:
    """The integer weight of each cell: 10,000 × Σ weight × component, rounded."""
    total = np.zeros(shape)
    term = np.empty(shape)
    for wi, name in zip(wv, COMPONENTS, strict=True):
        c = comps[name]
        if c.ndim == 1:
            total += wi * c
        else:
            np.multiply(wi, c, out=term)
            total += term
    total *= 10_000.0
    return np.rint(total).astype(np.int64)


def _ranked_cells(
    weight: npt.NDArray[np.int64], bad: npt.NDArray[np.bool_], top_k: int | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The eligible cells (row, column), each row's best ``top_k`` (all when None) in ranking
    order: score descending, then position, as one integer key per cell (lower is better;
    cells that are not eligible get the largest key)."""
    b, m = weight.shape
    shift = max(1, int(m).bit_length())
    key = (int(weight.max(initial=0)) + 1 - weight) << shift
    key |= np.arange(m)
    np.putmask(key, bad, np.iinfo(np.int64).max)
    if top_k is not None and top_k < m:
        part = np.argpartition(key, top_k - 1, axis=1)[:, :top_k]
    else:
        part = np.broadcast_to(np.arange(m), (b, m))
    best = np.take_along_axis(key, part, axis=1)
    order = np.argsort(best, axis=1)
    picked = np.take_along_axis(part, order, axis=1)
    keep = np.take_along_axis(best, order, axis=1) != np.iinfo(np.int64).max
    r_idx = np.broadcast_to(np.arange(b)[:, None], picked.shape)[keep]
    return r_idx, picked[keep]
