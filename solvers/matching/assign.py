"""Global assignment of candidates to many needs at once, as an OR-Tools min-cost flow.

Model. Every eligible (need, candidate) pair ``p`` (see ``score_table``) has an integer
*value* ``v_p = round(weight_p × (1 + small_weight if the need's municipality has fewer than
small_population residents else 1))`` where ``weight`` is the score in hundredths of a point.
Choose pairs ``x_p ∈ {0, 1}`` maximising ``Σ v_p x_p`` such that each need gets at most one
candidate and each candidate at most its free capacity (capacity minus active engagements);
conflicts and the other hard filters are already out of the pair table.

With the *floor* on, each municipality's top need (lowest ``priority`` number, then id) gets a
bonus ``B = 1 + Σ_needs max_p v_p`` on all its pairs: serving one more top need is then worth
more than any amount of other score, so the optimum first serves as many top needs as
possible and, among those plans, maximises total value.

Network: need nodes supply 1; arcs need → candidate (capacity 1, cost ``-v_p``),
need → sink (capacity 1, cost 0: unserved), candidate → sink (capacity = free capacity);
the sink absorbs every unit. Integer costs make the optimum exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from engine.errors import InputError, Problem
from engine.matching.model import MatchData
from solvers.matching.graph import MatchGraph
from solvers.matching.score import Weights, eligibility, score_table

__all__ = [
    "AssignmentResult",
    "assign",
    "flow_network",
    "networkx_optimum",
    "pair_values",
]


@dataclass(frozen=True)
class AssignmentResult:
    """The optimal assignment and everything needed to check it.

    ``assigned``: index ``need``; ``municipality``, ``candidate``, ``name``, ``score``,
    ``value``, ``top_need``. ``unserved``: index ``need``; ``municipality``, ``reason_code``
    (``no_eligible_candidate`` or ``capacity_taken``), ``reason``, ``reason_ja``,
    ``blocked_by`` (need ids that hold the capacity). ``pairs``: every eligible pair with its
    ``value``, ``chosen``, and the breakdown (``score_table`` plus columns).
    ``capacity``: free capacity per candidate id. ``objective`` = ``Σ value`` of chosen pairs.
    """

    status: str
    objective: int
    assigned: pd.DataFrame
    unserved: pd.DataFrame
    pairs: pd.DataFrame
    capacity: pd.Series
    params: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_score(self) -> float:
        """Sum of the (unweighted) scores of the chosen pairs, in points."""
        return float(self.assigned["score"].sum())

    def view(self, as_municipality: str, data: MatchData) -> AssignmentResult:
        """What one municipality may see: its own needs only; other municipalities'
        confidential needs named in its reasons are replaced by a count; no pairs but its own.
        """
        if as_municipality not in data.municipality_by_code:
            raise InputError(
                Problem(
                    "as_municipality",
                    f"unknown municipality {as_municipality!r}",
                    f"未知の自治体 {as_municipality!r}",
                )
            )
        a = self.assigned[self.assigned["municipality"] == as_municipality]
        u = self.unserved[self.unserved["municipality"] == as_municipality].copy()
        if len(u):
            # By column, not itertuples: namedtuples rename "_blocking" (a leading
            # underscore is not a valid field name), so row._blocking does not exist.
            texts = [
                _unserved_text(data, str(nid), code, blocking, as_municipality)
                for nid, code, blocking in zip(
                    u.index, u["reason_code"], u["_blocking"], strict=True
                )
            ]
            u["reason"] = [t[0] for t in texts]
            u["reason_ja"] = [t[1] for t in texts]
            u["blocked_by"] = [t[2] for t in texts]
        p = self.pairs[self.pairs["municipality"] == as_municipality]
        return AssignmentResult(
            self.status,
            int(a["value"].sum()),
            a,
            u,
            p,
            self.capacity,
            {**self.params, "as_municipality": as_municipality},
            self.seconds,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: status, objective, assigned and unserved rows."""
        un = self.unserved.drop(columns=["_blocking"], errors="ignore")
        return {
            "status": self.status,
            "objective": self.objective,
            "total_score": round(self.total_score, 2),
            "params": self.params,
            "assigned": self.assigned.reset_index().to_dict(orient="records"),
            "unserved": [
                {**r, "blocked_by": list(r["blocked_by"])}
                for r in un.reset_index().to_dict(orient="records")
            ],
        }


def pair_values(
    pairs: pd.DataFrame,
    data: MatchData,
    *,
    floor: bool = False,
    small_weight: float = 0.0,
    small_population: int = 50_000,
) -> pd.DataFrame:
    """Add ``value`` (integer objective coefficient) and ``top_need`` columns to a pair table."""
    pairs = pairs.copy()
    need_ids = pairs.index.get_level_values("need")
    pop = pd.Series({m.code: m.population for m in data.municipalities}, dtype="int64")
    small = pairs["municipality"].map(pop).to_numpy() < small_population
    value = np.rint(pairs["weight"].to_numpy() * np.where(small, 1.0 + small_weight, 1.0))
    value = value.astype(np.int64)
    top: set[str] = set()
    if floor:
        best: dict[str, tuple[int, str]] = {}
        for nid in need_ids.unique():
            n = data.need_by_id[nid]
            key = (n.priority, n.id)
            if n.municipality not in best or key < best[n.municipality]:
                best[n.municipality] = key
        top = {k[1] for k in best.values()}
    is_top = np.asarray(need_ids.isin(top), dtype=bool)
    if floor and is_top.any():
        per_need_max = pd.Series(value, index=need_ids).groupby(level=0).max()
        bonus = int(per_need_max.sum()) + 1
        value = value + np.where(is_top, bonus, 0)
    pairs["value"] = value
    pairs["top_need"] = is_top
    return pairs


def _node_of(keys: list[str], values: pd.Index) -> np.ndarray:
    """Position of each value in ``keys`` (the last one when a key is repeated)."""
    index = pd.Index(keys)
    if index.is_unique:
        return index.get_indexer(values).astype(np.int64)
    pos = {x: i for i, x in enumerate(keys)}
    return np.array([pos[x] for x in values], dtype=np.int64)


def _solve(
    need_ids: list[str], cand_ids: list[str], caps: dict[str, int], pairs: pd.DataFrame
) -> tuple[str, np.ndarray]:
    n, m = len(need_ids), len(cand_ids)
    sink = n + m
    tails = _node_of(need_ids, pairs.index.get_level_values("need"))
    heads = n + _node_of(cand_ids, pairs.index.get_level_values("candidate"))
    k = len(pairs)
    start = np.concatenate([tails, np.arange(n), n + np.arange(m)])
    end = np.concatenate([heads, np.full(n, sink), np.full(m, sink)])
    cap = np.concatenate([np.ones(k), np.ones(n), [caps[c] for c in cand_ids]]).astype(np.int64)
    cost = np.concatenate([-pairs["value"].to_numpy(), np.zeros(n + m)]).astype(np.int64)
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(start, end, cap, cost)
    supplies = np.concatenate([np.ones(n), np.zeros(m), [-n]]).astype(np.int64)
    smcf.set_nodes_supplies(np.arange(n + m + 1), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        return str(status).rsplit(".", 1)[-1].lower(), np.zeros(k, dtype=bool)
    flows = smcf.flows(arcs[:k])
    return "optimal", np.asarray(flows) > 0


def _unserved_text(
    data: MatchData,
    need_id: str,
    code: str,
    blocking: tuple[tuple[str, str, tuple[tuple[str, float], ...]], ...] | dict[str, int],
    viewer: str | None,
) -> tuple[str, str, tuple[str, ...]]:
    if code == "no_eligible_candidate":
        counts = blocking if isinstance(blocking, dict) else {}
        detail = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        detail_ja = "、".join(f"{_FILTER_JA.get(k, k)}{v}" for k, v in counts.items() if v)
        return (
            f"no eligible candidate ({detail or 'none relevant'})",
            f"条件を満たす候補者なし（{detail_ja or '関連する候補者なし'}）",
            (),
        )
    assert not isinstance(blocking, dict)
    en, ja, shown = [], [], []
    hidden = 0
    for cand_id, _cname, holders in blocking:
        names = []
        for nid, sc in holders:
            n = data.need_by_id[nid]
            if viewer is not None and n.confidential and n.municipality != viewer:
                hidden += 1
                continue
            mname = data.municipality_by_code[n.municipality].name_ja
            names.append((nid, mname, sc))
            shown.append(nid)
        en.append(
            f"{cand_id} by "
            + (", ".join(f"{a} ({b}, {c:.1f})" for a, b, c in names) or "confidential needs")
        )
        ja.append(
            f"{cand_id}は"
            + ("、".join(f"{a}（{b}、{c:.1f}点）" for a, b, c in names) or "他自治体の非公開ニーズ")
            + "が使用"
        )
    note_en = f"; {hidden} confidential need(s) of other municipalities not named" if hidden else ""
    note_ja = f"（他自治体の非公開ニーズ{hidden}件を含む）" if hidden else ""
    return (
        "capacity of its best candidates taken: " + "; ".join(en) + note_en,
        "上位候補者の受託枠が埋まっています: " + "／".join(ja) + note_ja,
        tuple(dict.fromkeys(shown)),
    )


_FILTER_JA = {
    "relevant": "関連",
    "conflict": "利益相反",
    "no_capacity": "枠なし",
    "out_of_reach": "移動範囲外",
    "unavailable": "期間外",
}


def assign(
    g: MatchGraph,
    need_ids: list[str] | None = None,
    *,
    floor: bool = False,
    small_weight: float = 0.0,
    small_population: int = 50_000,
    weights: Weights | None = None,
    top_k_per_need: int | None = None,
    explain_top: int = 3,
) -> AssignmentResult:
    """Assign candidates to needs maximising total value (see module docstring).

    Runs as the programme office (all needs); call ``result.view(code, data)`` for what one
    municipality may see. ``top_k_per_need`` restricts each need to its best pairs (for very
    large instances; ``None`` keeps every eligible pair, which makes the optimum exact over
    the whole problem). Unserved needs carry a reason naming, for up to ``explain_top`` of
    its best candidates, the needs that hold their capacity.
    """
    if small_weight < 0:
        raise InputError(Problem("small_weight", "must be >= 0", "0 以上が必要です"))
    t0 = time.perf_counter()
    ids = sorted(need_ids if need_ids is not None else g.data.need_by_id)
    for nid in ids:
        if nid not in g.data.need_by_id:
            raise InputError(Problem("need_ids", f"unknown need {nid!r}", f"未知のニーズ {nid!r}"))
    table = score_table(g, ids, weights=weights, top_k_per_need=top_k_per_need)
    pairs = pair_values(
        table, g.data, floor=floor, small_weight=small_weight, small_population=small_population
    )
    t1 = time.perf_counter()
    cand_ids = sorted(set(pairs.index.get_level_values("candidate")))
    caps = {c: int(g.cand_capacity[g.cand_pos[c]] - g.cand_load[g.cand_pos[c]]) for c in cand_ids}
    status, chosen = _solve(ids, cand_ids, caps, pairs)
    t2 = time.perf_counter()
    pairs["chosen"] = chosen
    sel = pairs[chosen]
    names = {c.id: c.name for c in g.candidates}
    assigned = _assigned_frame(sel, names)
    unserved = _unserved_frame(g, ids, pairs, sel, set(assigned.index), names, explain_top)
    capacity = pd.Series(caps, name="capacity_left", dtype="int64")
    capacity.index.name = "candidate"
    params = {
        "floor": floor,
        "small_weight": small_weight,
        "small_population": small_population,
        "top_k_per_need": top_k_per_need,
        "needs": len(ids),
    }
    return AssignmentResult(
        status=status,
        objective=int(sel["value"].sum()),
        assigned=assigned,
        unserved=unserved,
        pairs=pairs,
        capacity=capacity,
        params=params,
        seconds={"score_table": t1 - t0, "solve": t2 - t1},
    )


def _assigned_frame(sel: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The chosen pairs as the ``assigned`` table, indexed by need."""
    return pd.DataFrame(
        {
            "municipality": sel["municipality"].to_numpy(),
            "candidate": sel.index.get_level_values("candidate"),
            "name": [names[c] for c in sel.index.get_level_values("candidate")],
            "score": sel["score"].to_numpy(),
            "value": sel["value"].to_numpy(),
            "top_need": sel["top_need"].to_numpy(),
        },
        index=pd.Index(sel.index.get_level_values("need"), name="need"),
    )


def _unserved_frame(
    g: MatchGraph,
    ids: list[str],
    pairs: pd.DataFrame,
    sel: pd.DataFrame,
    served: set[str],
    names: dict[str, str],
    explain_top: int,
) -> pd.DataFrame:
    """The needs left unserved, each with its reason: no eligible candidate (the counts of
    each filter), or its best candidates' capacity taken (by which needs)."""
    holders: dict[str, list[tuple[str, float]]] = {}
    for (nid, cid), sc in zip(sel.index, sel["score"], strict=True):
        holders.setdefault(cid, []).append((nid, float(sc)))
    rows_of = pairs.groupby(level="need", sort=False).indices  # only unserved needs use it
    rows = []
    for nid in ids:
        if nid in served:
            continue
        need = g.data.need_by_id[nid]
        at = rows_of.get(nid)
        grp = None if at is None else pairs.iloc[at]
        if grp is None or len(grp) == 0:
            code = "no_eligible_candidate"
            counts = eligibility(g, nid).to_dict()
            counts.pop("eligible", None)
            blocking: Any = counts
        else:
            code = "capacity_taken"
            blocking = tuple(
                (cid, names[cid], tuple(holders.get(cid, ())))
                for cid in grp.index.get_level_values("candidate")[:explain_top]
            )
        en, ja, blocked_by = _unserved_text(g.data, nid, code, blocking, None)
        rows.append((nid, need.municipality, code, en, ja, blocked_by, blocking))
    return pd.DataFrame(
        rows,
        columns=[
            "need",
            "municipality",
            "reason_code",
            "reason",
            "reason_ja",
            "blocked_by",
            "_blocking",
        ],
    ).set_index("need")


def flow_network(pairs: pd.DataFrame, capacity: pd.Series) -> nx.DiGraph:
    """The same flow network as a networkx digraph (``demand``, ``capacity``, ``weight``), for
    checking the optimum with networkx's own solver."""
    G = nx.DiGraph()
    needs = sorted(set(pairs.index.get_level_values("need")))
    G.add_node("sink", demand=len(needs))
    for nid in needs:
        G.add_node(("n", nid), demand=-1)
        G.add_edge(("n", nid), "sink", capacity=1, weight=0)
    for cid, cap in capacity.items():
        G.add_edge(("c", cid), "sink", capacity=int(cap), weight=0)
    for (nid, cid), v in zip(pairs.index, pairs["value"].to_numpy(), strict=True):
        G.add_edge(("n", nid), ("c", cid), capacity=1, weight=-int(v))
    return G


def networkx_optimum(pairs: pd.DataFrame, capacity: pd.Series) -> int:
    """Optimal total value of the same problem solved by ``networkx.network_simplex``."""
    cost, _flow = nx.network_simplex(flow_network(pairs, capacity))
    return -int(cost)
