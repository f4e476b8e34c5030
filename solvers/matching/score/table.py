"""All eligible (need, candidate) pairs at once (``score_table``): needs scored in blocks of one
field and mode (``blocks``), then put in need id order, each need's pairs in ranking order;
and the need-by-need reference the blocks are checked against."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.errors import InputError, Problem
from engine.matching.model import Need
from engine.travel import (
    FERRY_MINUTES,
)
from solvers.matching.graph import MatchGraph
from solvers.matching.score.blocks import score_block
from solvers.matching.score.components import (
    COMPONENTS,
    NeedScores,
    Weights,
    outcome_component,
    points,
    travel_minutes,
)
from solvers.matching.score.need import check_viewer, score_need, visible_need

__all__ = ["collect_pairs_per_need", "pair_frame", "score_pairs_batched", "score_table"]


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
    check_viewer(g, as_municipality)
    if top_k_per_need is not None and top_k_per_need < 1:
        raise InputError(Problem("top_k_per_need", "must be >= 1", "1 以上が必要です"))
    if need_ids is None:
        needs = list(g.data.visible_needs(as_municipality))
    else:
        needs = [visible_need(g, nid, as_municipality) for nid in need_ids]
    return pair_frame(_collect_pairs_batched(g, needs, w, as_municipality, top_k_per_need))


def pair_frame(cols: dict[str, Any]) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays(
        [cols.pop("need"), cols.pop("candidate")], names=["need", "candidate"]
    )
    return pd.DataFrame(cols, index=index)


def collect_pairs_per_need(
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
        for c, v in points(s, w, sel).items():
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
    """``collect_pairs_per_need`` for many needs at once, with the same values and order."""
    p = score_pairs_batched(g, needs, w, as_municipality, top_k)
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


def score_pairs_batched(
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
    outcome_all = outcome_component(g.out_sum, g.out_cnt, w)
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
            res = score_block(
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
    return travel_minutes(
        phi[need_i],
        cos_phi[need_i],
        lam[need_i],
        ferry[need_i],
        g.cand_phi[pos],
        g.cand_cos_phi[pos],
        g.cand_lam[pos],
    )
