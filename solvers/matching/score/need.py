"""One need scored: every candidate relevant to it (its field or one of its topics) with each
component and hard filter, and the viewer's access to it (another municipality's
confidential need is unknown)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from engine.errors import InputError, Problem
from engine.matching.model import Need
from engine.travel import (
    FERRY_MINUTES,
)
from solvers.matching.graph import MatchGraph
from solvers.matching.score.components import (
    COMPONENTS,
    NeedScores,
    Weights,
    distance_component,
    outcome_component,
    travel_minutes,
)

__all__ = ["check_viewer", "score_need", "visible_need"]


def check_viewer(g: MatchGraph, as_municipality: str | None) -> None:
    if as_municipality is not None and as_municipality not in g.muni_pos:
        raise InputError(
            Problem(
                "as_municipality",
                f"unknown municipality {as_municipality!r}",
                f"未知の自治体 {as_municipality!r}",
            )
        )


def visible_need(g: MatchGraph, need_id: str, as_municipality: str | None) -> Need:
    """The need, or the same 'unknown need' error whether it is missing or not visible."""
    check_viewer(g, as_municipality)
    need = g.data.need_by_id.get(need_id)
    if need is None or (
        as_municipality is not None and need.confidential and need.municipality != as_municipality
    ):
        raise InputError(
            Problem("need_id", f"unknown need {need_id!r}", f"未知のニーズ {need_id!r}")
        )
    return need


def _car_minutes_to(
    g: MatchGraph, lat: float, lon: float, island: bool, idx: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """``travel_minutes`` from one point to candidates, reusing their precomputed radians."""
    phi, lam = math.radians(lat), math.radians(lon)
    return travel_minutes(
        phi,
        math.cos(phi),
        lam,
        FERRY_MINUTES if island else 0.0,
        g.cand_phi[idx],
        g.cand_cos_phi[idx],
        g.cand_lam[idx],
    )


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
    distance_c = distance_component(minutes, remote_ok, w)
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
        "outcome": outcome_component(rsum, rcnt, w),
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
