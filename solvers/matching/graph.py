"""The matching graph: one networkx graph plus the arrays derived from it for fast scoring.

Nodes are keyed ``"m:<code>"`` (municipality), ``"n:<id>"`` (need), ``"c:<id>"`` (candidate),
``"t:<tag>"`` (topic or skill) and ``"f:<field>"`` (field), with a ``kind`` attribute.
Edges carry ``rel``:

- ``has-need``  municipality — need
- ``about``     need — field / topic
- ``offers``    candidate — field / topic (``level`` 1..5 when it is also a skill)
- ``engaged-with`` candidate — municipality (``count``, ``mean_rating``; public engagements)
- ``near``      municipality — municipality within 60 estimated car minutes (``minutes``)
- ``similar``   municipality — municipality, the 5 most similar peers (``weight``)

*Graph proximity* is personalised PageRank restarted at a municipality, run on the
relationship subgraph (municipalities and candidates; ``engaged-with``, ``near``, ``similar``
edges). Need and topic nodes are left out of it on purpose: topic fit is scored directly, and
a confidential need must not influence anyone else's proximity. The vectors of every
municipality are computed once at build time by batched sparse power iteration and kept as a
sparse municipality × candidate matrix (the top ``ppr_keep`` candidates each, scaled so the
best is 1), so a query reads one row.

>>> from engine.matching import load_demo
>>> g = build_graph(load_demo())
>>> g.G.nodes["m:382019"]["kind"]
'municipality'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy import sparse

from engine.matching.model import MatchData
from engine.model import FIELDS
from solvers.matching.similarity import PeerWeights, similarity_matrix

__all__ = [
    "GraphParams",
    "MatchGraph",
    "build_graph",
    "personalised_pagerank",
]

_FAR_PAST = dt.date(1, 1, 1).toordinal()
_FAR_FUTURE = dt.date(9999, 12, 31).toordinal()


@dataclass(frozen=True, slots=True)
class GraphParams:
    """How the graph is built.

    ``near_minutes``: municipalities this close (estimated car minutes) get a ``near`` edge
    (at most ``near_max`` per municipality); ``similar_k``: ``similar`` edges per
    municipality; ``alpha``: PageRank damping (restart probability ``1 - alpha``);
    ``ppr_keep``: candidates kept per municipality vector; ``seed``: Louvain seed.
    """

    near_minutes: float = 60.0
    near_max: int = 10
    similar_k: int = 5
    alpha: float = 0.7
    ppr_tol: float = 1e-5
    ppr_max_iter: int = 100
    ppr_keep: int = 300
    ppr_batch: int = 256
    seed: int = 0
    peer_weights: PeerWeights = field(default_factory=PeerWeights)


def personalised_pagerank(
    adjacency: sparse.csr_matrix,
    sources: npt.NDArray[np.int64],
    alpha: float = 0.7,
    tol: float = 1e-7,
    max_iter: int = 100,
    dtype: type = np.float64,
) -> npt.NDArray[np.float64]:
    """PageRank restarted at each source node, one column per source (``n × len(sources)``).

    ``adjacency`` is a symmetric weighted adjacency matrix. A walker follows an edge with
    probability ``alpha`` (proportional to its weight) and restarts at the source otherwise;
    a walker on a node without edges restarts. Iterates until the largest L1 change of a
    column is below ``tol`` (checked every 4 steps). Matches
    ``networkx.pagerank(G, alpha, personalization={s: 1})``.
    """
    n = adjacency.shape[0]
    k = len(sources)
    out_w = np.asarray(adjacency.sum(axis=0)).ravel()
    dangling = np.flatnonzero(out_w == 0)
    inv = np.divide(1.0, out_w, out=np.zeros(n), where=out_w != 0)
    transition = (adjacency @ sparse.diags(inv)).tocsr().astype(dtype)
    transition = transition * alpha
    restart = np.zeros((n, k), dtype=dtype)
    restart[sources, np.arange(k)] = 1.0
    x = restart.copy()
    for it in range(max_iter):
        teleport = (1.0 - alpha) + (alpha * x[dangling].sum(axis=0) if len(dangling) else 0.0)
        nxt = transition @ x
        nxt[sources, np.arange(k)] += teleport
        if it % 4 == 3 or it == max_iter - 1:
            delta = float(np.abs(nxt - x).sum(axis=0).max())
            x = nxt
            if delta < tol:
                break
        else:
            x = nxt
    return np.asarray(x, dtype=np.float64)


class MatchGraph:
    """The graph built from ``MatchData`` and the arrays the recommender reads.

    Built by ``build_graph``; ``G`` is the networkx graph (the one object describing the
    network); the other attributes are derived views of it for vectorised scoring.
    Candidates are held in id order, so positions double as the deterministic tie order.
    """

    def __init__(self, data: MatchData, params: GraphParams):
        self.data = data
        self.params = params
        self.G: nx.Graph = nx.Graph()
        cands = sorted(data.candidates, key=lambda c: c.id)
        self.candidates = tuple(cands)
        self.cand_pos = {c.id: i for i, c in enumerate(cands)}
        self.muni_codes = tuple(m.code for m in data.municipalities)
        self.muni_pos = {code: i for i, code in enumerate(self.muni_codes)}
        nc = len(cands)
        self.cand_lat = np.array([c.lat for c in cands], dtype=np.float64)
        self.cand_lon = np.array([c.lon for c in cands], dtype=np.float64)
        self.cand_phi = np.radians(self.cand_lat)
        self.cand_cos_phi = np.cos(self.cand_phi)
        self.cand_lam = np.radians(self.cand_lon)
        self.cand_remote = np.array([c.remote for c in cands], dtype=bool)
        self.cand_capacity = np.array([c.capacity for c in cands], dtype=np.int64)
        self.cand_max_travel = np.array([c.max_travel_min for c in cands], dtype=np.float64)
        self.cand_from = np.array(
            [c.available_from.toordinal() if c.available_from else _FAR_PAST for c in cands]
        )
        self.cand_until = np.array(
            [c.available_until.toordinal() if c.available_until else _FAR_FUTURE for c in cands]
        )
        self.field_cands: dict[str, npt.NDArray[np.int64]] = {}
        for f in FIELDS:
            self.field_cands[f] = np.array(
                [i for i, c in enumerate(cands) if f in c.fields], dtype=np.int64
            )
        topic_lists: dict[str, list[int]] = {}
        skill_lists: dict[str, tuple[list[int], list[int]]] = {}
        for i, c in enumerate(cands):
            for t in c.topics:
                topic_lists.setdefault(t, []).append(i)
            for s, lv in c.skills:
                pos, lvs = skill_lists.setdefault(s, ([], []))
                pos.append(i)
                lvs.append(lv)
        self.topic_cands = {t: np.array(v, dtype=np.int64) for t, v in topic_lists.items()}
        self.skill_cands = {
            s: (np.array(p, dtype=np.int64), np.array(lv, dtype=np.float64))
            for s, (p, lv) in skill_lists.items()
        }
        self.cand_load = np.zeros(nc, dtype=np.int64)
        self.out_sum = np.zeros(nc)
        self.out_cnt = np.zeros(nc)
        # confidential ratings per municipality: code -> {candidate position: (sum, count)}
        self.conf_out: dict[str, dict[int, tuple[float, int]]] = {}
        # public engagement counts per (candidate position, municipality code)
        self.worked_with: dict[tuple[int, str], int] = {}
        self.conflicts: dict[str, set[int]] = {}
        self.conflict_reason: dict[tuple[int, str], str] = {}
        for k in data.conflicts:
            p = self.cand_pos[k.candidate]
            self.conflicts.setdefault(k.municipality, set()).add(p)
            self.conflict_reason[(p, k.municipality)] = k.reason
        self.sim: npt.NDArray[np.float64] = np.zeros((0, 0))
        self.components: dict[str, npt.NDArray[np.float64]] = {}
        self.ppr: sparse.csr_matrix = sparse.csr_matrix((len(self.muni_codes), nc))
        self.communities: list[frozenset[str]] = []
        self.community_of: dict[str, int] = {}

    # -- building blocks ---------------------------------------------------------------

    def _add_engagement_stats(
        self, e_candidate: str, e_muni: str, status: str, rating: float | None, confidential: bool
    ) -> None:
        p = self.cand_pos[e_candidate]
        if status == "active":
            self.cand_load[p] += 1
        if rating is not None and status == "completed":
            if confidential:
                per = self.conf_out.setdefault(e_muni, {})
                s, n = per.get(p, (0.0, 0))
                per[p] = (s + rating, n + 1)
            else:
                self.out_sum[p] += rating
                self.out_cnt[p] += 1
        if not confidential:
            self.worked_with[(p, e_muni)] = self.worked_with.get((p, e_muni), 0) + 1
            self._add_engaged_edge(e_candidate, e_muni, status, rating)

    def _add_engaged_edge(self, cand: str, muni: str, status: str, rating: float | None) -> None:
        u, v = f"c:{cand}", f"m:{muni}"
        strength = 0.75 if rating is None else 0.5 + (rating - 1.0) / 8.0
        if self.G.has_edge(u, v):
            d = self.G.edges[u, v]
            d["count"] += 1
            d["ppr_weight"] += strength
            if rating is not None:
                d["rating_sum"] += rating
                d["rated"] += 1
                d["mean_rating"] = d["rating_sum"] / d["rated"]
        else:
            self.G.add_edge(
                u,
                v,
                rel="engaged-with",
                count=1,
                ppr_weight=strength,
                rating_sum=rating or 0.0,
                rated=0 if rating is None else 1,
                mean_rating=rating,
                status=status,
            )

    def refresh_proximity(self) -> None:
        """Recompute every municipality's personalised PageRank vector from ``G``."""
        sub = nx.Graph()
        sub.add_edges_from(
            (u, v, {"w": d["ppr_weight"]})
            for u, v, d in self.G.edges(data=True)
            if d["rel"] in ("engaged-with", "near", "similar")
        )
        # candidates without public engagements can never be reached: leave them out
        linked = [i for i, c in enumerate(self.candidates) if f"c:{c.id}" in sub]
        rel_nodes = [f"m:{c}" for c in self.muni_codes] + [
            f"c:{self.candidates[i].id}" for i in linked
        ]
        sub.add_nodes_from(rel_nodes)
        adj = nx.to_scipy_sparse_array(sub, nodelist=rel_nodes, weight="w", format="csr")
        adj = sparse.csr_matrix(adj)
        cand_of_row = np.array(linked, dtype=np.int64)
        nm, nc = len(self.muni_codes), len(self.candidates)
        keep = self.params.ppr_keep
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int64]] = []
        vals: list[npt.NDArray[np.float64]] = []
        for start in range(0, nm, self.params.ppr_batch):
            src = np.arange(start, min(nm, start + self.params.ppr_batch), dtype=np.int64)
            x = personalised_pagerank(
                adj,
                src,
                self.params.alpha,
                self.params.ppr_tol,
                self.params.ppr_max_iter,
                dtype=np.float32,
            )[nm:, :]
            for j, s in enumerate(src):
                col = x[:, j]
                nz = np.flatnonzero(col > 1e-12)
                if len(nz) > keep:
                    nz = nz[np.argpartition(-col[nz], keep - 1)[:keep]]
                if len(nz) == 0:
                    continue
                v = col[nz] / col[nz].max()
                rows.append(np.full(len(nz), s, dtype=np.int64))
                cols.append(cand_of_row[nz])
                vals.append(v)
        if rows:
            self.ppr = sparse.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                shape=(nm, nc),
            )
        else:
            self.ppr = sparse.csr_matrix((nm, nc))
        self.ppr.sort_indices()

    def proximity(
        self, municipality: str, positions: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.float64]:
        """Graph proximity (0..1) to a municipality of the candidates at ``positions``
        (sorted; default every candidate, in id order)."""
        r = self.muni_pos[municipality]
        lo, hi = self.ppr.indptr[r], self.ppr.indptr[r + 1]
        cols, vals = self.ppr.indices[lo:hi], self.ppr.data[lo:hi]
        if positions is None:
            out = np.zeros(len(self.candidates))
            out[cols] = vals
            return out
        out = np.zeros(len(positions))
        if len(cols):
            at = np.searchsorted(positions, cols)
            ok = at < len(positions)
            ok[ok] = positions[at[ok]] == cols[ok]
            out[at[ok]] = vals[ok]
        return out

    def refresh_communities(self) -> None:
        """Louvain communities of the ``similar`` network (fixed seed; prefecture excluded)."""
        peers = nx.Graph()
        peers.add_nodes_from(m.code for m in self.data.municipalities if not m.is_prefecture)
        peers.add_edges_from(
            (u[2:], v[2:], {"weight": d["weight"]})
            for u, v, d in self.G.edges(data=True)
            if "weight" in d
            and d["rel"] in ("similar", "near")
            and u[2:] in peers
            and v[2:] in peers
        )
        if peers.number_of_nodes() == 0:
            self.communities, self.community_of = [], {}
            return
        found = nx.community.louvain_communities(peers, weight="weight", seed=self.params.seed)
        ordered = sorted((frozenset(c) for c in found), key=lambda c: (-len(c), min(c)))
        self.communities = ordered
        self.community_of = {code: i for i, c in enumerate(ordered) for code in c}


def build_graph(data: MatchData, params: GraphParams | None = None) -> MatchGraph:
    """Build the matching graph and precompute proximity vectors and communities.

    Cost grows with the data: about ``O(edges × iterations)`` for the proximity vectors and
    ``O(municipalities²)`` for similarity (1,741 municipalities: a few seconds).
    """
    params = params or GraphParams()
    g = MatchGraph(data, params)
    G = g.G
    for f in FIELDS:
        G.add_node(f"f:{f}", kind="field")
    for m in data.municipalities:
        G.add_node(f"m:{m.code}", kind="municipality", name=m.name_ja, population=m.population)
    for c in g.candidates:
        G.add_node(f"c:{c.id}", kind="candidate", name=c.name)
        levels = dict(c.skills)
        for f in c.fields:
            G.add_edge(f"c:{c.id}", f"f:{f}", rel="offers", level=levels.get(f))
        for t in sorted(set(c.topics) | {s for s, _ in c.skills} - set(FIELDS)):
            G.add_node(f"t:{t}", kind="topic")
            G.add_edge(f"c:{c.id}", f"t:{t}", rel="offers", level=levels.get(t))
    for need in data.needs:
        G.add_node(f"n:{need.id}", kind="need", confidential=need.confidential)
        G.add_edge(f"m:{need.municipality}", f"n:{need.id}", rel="has-need")
        G.add_edge(f"n:{need.id}", f"f:{need.field}", rel="about")
        for t in need.topics:
            G.add_node(f"t:{t}", kind="topic")
            G.add_edge(f"n:{need.id}", f"t:{t}", rel="about")
    for e in data.engagements:
        g._add_engagement_stats(e.candidate, e.municipality, e.status, e.rating, e.confidential)

    comps = similarity_matrix(data, params.peer_weights)
    g.sim = comps["similarity"]
    g.components = comps
    minutes = comps["travel_min"]
    codes = g.muni_codes
    n = len(codes)
    for i in range(n):
        order = np.argsort(minutes[i], kind="stable")
        added = 0
        for j in order:
            if j == i:
                continue
            if minutes[i, j] > params.near_minutes or added >= params.near_max:
                break
            added += 1
            u, v = f"m:{codes[i]}", f"m:{codes[j]}"
            if not G.has_edge(u, v):
                w = 0.5 * (1.0 - float(minutes[i, j]) / params.near_minutes) + 0.05
                G.add_edge(u, v, rel="near", minutes=float(minutes[i, j]), ppr_weight=w)
    for i in range(n):
        row = g.sim[i]
        k = min(params.similar_k, n - 1)
        if k <= 0:
            continue
        top = np.lexsort((np.arange(n), -row))[:k]
        for j in top:
            if row[j] <= 0 or j == i:
                continue
            u, v = f"m:{codes[i]}", f"m:{codes[j]}"
            if (
                G.has_edge(u, v)
                and G.edges[u, v]["rel"] == "near"
                and "similar" not in G.edges[u, v]
            ):
                G.edges[u, v]["similar"] = float(row[j])
                G.edges[u, v]["weight"] = float(row[j])
                G.edges[u, v]["ppr_weight"] += float(row[j])
                continue
            if not G.has_edge(u, v):
                G.add_edge(u, v, rel="similar", weight=float(row[j]), ppr_weight=float(row[j]))
    g.refresh_proximity()
    g.refresh_communities()
    return g
