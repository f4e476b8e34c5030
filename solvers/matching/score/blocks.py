"""A block of needs with one field and mode scored as a need × candidate array: the candidate
columns it can use, each component by the same elementwise expression as for one need, the
hard filters, and each need's best cells in ranking order."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.matching.model import Municipality, Need
from engine.travel import (
    EARTH_RADIUS_KM,
    FERRY_MINUTES,
    minutes_from_km,
)
from solvers.matching.graph import MatchGraph
from solvers.matching.score.components import (
    COMPONENTS,
    Weights,
    distance_by_car,
    outcome_component,
    travel_minutes,
)

__all__ = ["score_block"]


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


def score_block(
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
    minutes = travel_minutes(
        phi[:, None],
        cos_phi[:, None],
        lam[:, None],
        ferry[:, None],
        g.cand_phi[far_pos],
        g.cand_cos_phi[far_pos],
        g.cand_lam[far_pos],
    )
    if onsite:
        distance_c = distance_by_car(minutes, w)
        out_of_reach = minutes > g.cand_max_travel[far_pos]
    else:
        distance_c = np.ones((b, m))
        distance_c[:, far] = distance_by_car(minutes, w)
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
                outcome_c[r, j[ok]] = outcome_component(
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
