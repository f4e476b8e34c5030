import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from engine.errors import InputError
from engine.matching import load_demo
from engine.matching.synthetic import generate
from solvers.matching import assign, build_graph, networkx_optimum

from .helpers import (
    AINAN,
    IMABARI,
    KAMIJIMA,
    MATSUNO,
    MATSUYAMA,
    UWAJIMA,
    Conflict,
    cand,
    data,
    need,
)

MUNIS = [MATSUYAMA, IMABARI, UWAJIMA, KAMIJIMA, AINAN, MATSUNO]
TOPICS = ["ebpm", "gis", "open-data-guidelines"]


def lsa_optimum(result) -> int:
    """Independent optimum: expand capacities into slots, add a zero 'unserved' column per
    need, and solve the rectangular assignment with scipy."""
    pairs = result.pairs
    needs = sorted(set(pairs.index.get_level_values("need")))
    slots = [(c, s) for c, cap in result.capacity.items() for s in range(int(cap))]
    m = np.zeros((len(needs), len(slots) + len(needs)))
    col = {}
    for j, (c, _) in enumerate(slots):
        col.setdefault(c, []).append(j)
    npos = {n: i for i, n in enumerate(needs)}
    for (n, c), v in zip(pairs.index, pairs["value"], strict=True):
        for j in col.get(c, []):
            m[npos[n], j] = v
    if not needs:
        return 0
    r, k = linear_sum_assignment(m, maximize=True)
    return int(m[r, k].sum())


def brute_optimum(result) -> int:
    pairs = result.pairs
    needs = sorted(set(pairs.index.get_level_values("need")))
    options = {n: [None] + list(pairs.loc[n].index) for n in needs}
    val = {k: int(v) for k, v in zip(pairs.index, pairs["value"], strict=True)}
    best = 0
    for choice in itertools.product(*(options[n] for n in needs)):
        used = {}
        for c in choice:
            if c is not None:
                used[c] = used.get(c, 0) + 1
        if any(used[c] > result.capacity[c] for c in used):
            continue
        best = max(best, sum(val[(n, c)] for n, c in zip(needs, choice, strict=True) if c))
    return best


@st.composite
def instances(draw, max_needs=7, max_cands=5):
    nn = draw(st.integers(1, max_needs))
    nc = draw(st.integers(1, max_cands))
    needs = []
    for i in range(nn):
        needs.append(
            need(
                f"N{i}",
                muni=draw(st.sampled_from(MUNIS)),
                topics=draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True)),
                mode=draw(st.sampled_from(["onsite", "remote"])),
                priority=draw(st.integers(1, 3)),
            )
        )
    cands = []
    for j in range(nc):
        cands.append(
            cand(
                f"C{j}",
                topics=draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3, unique=True)),
                lat=draw(st.floats(32.9, 34.3)),
                lon=draw(st.floats(132.3, 133.6)),
                capacity=draw(st.integers(1, 3)),
                remote=draw(st.booleans()),
                max_travel_min=draw(st.sampled_from([30, 90, 240])),
            )
        )
    conflicts = {
        (f"C{draw(st.integers(0, nc - 1))}", draw(st.sampled_from(MUNIS)))
        for _ in range(draw(st.integers(0, 3)))
    }
    return data(needs, cands, conflicts=[Conflict(c, m) for c, m in sorted(conflicts)])


@settings(max_examples=40, deadline=None)
@given(instances(), st.booleans(), st.sampled_from([0.0, 0.5]))
def test_assignment_equals_independent_optimum(d, floor, small_weight):
    g = build_graph(d)
    res = assign(g, floor=floor, small_weight=small_weight)
    assert res.status == "optimal"
    assert res.objective == lsa_optimum(res) == networkx_optimum(res.pairs, res.capacity)


@settings(max_examples=15, deadline=None)
@given(instances(max_needs=5, max_cands=3))
def test_assignment_equals_brute_force(d):
    res = assign(build_graph(d))
    assert res.objective == brute_optimum(res)


@settings(max_examples=40, deadline=None)
@given(instances())
def test_hard_constraints_never_broken(d):
    g = build_graph(d)
    res = assign(g)
    conflicts = {(k.candidate, k.municipality) for k in d.conflicts}
    load = res.assigned["candidate"].value_counts()
    for c, used in load.items():
        assert used <= d.candidate_by_id[c].capacity
    for nid, row in res.assigned.iterrows():
        n = d.need_by_id[nid]
        c = d.candidate_by_id[row["candidate"]]
        assert (c.id, n.municipality) not in conflicts
        rec = g  # the recommender agrees the pair is eligible
        from solvers.matching import recommend

        assert c.id in recommend(rec, nid, k=10_000).index
    assert set(res.assigned.index).isdisjoint(res.unserved.index)
    assert len(res.assigned) + len(res.unserved) == len(d.needs)


def test_unserved_reasons_name_the_blocking_needs():
    d = data(
        [
            need("N1", topics=("ebpm",)),
            need("N2", topics=("ebpm", "gis")),
            need("N3", field="pr", topics=("furusato-nozei",)),
        ],
        [cand("A", topics=("ebpm", "gis"), capacity=1)],
    )
    res = assign(build_graph(d))
    assert list(res.assigned.index) == ["N2"]
    u = res.unserved
    assert u.loc["N1", "reason_code"] == "capacity_taken"
    assert u.loc["N1", "blocked_by"] == ("N2",) and "A by N2" in u.loc["N1", "reason"]
    assert u.loc["N3", "reason_code"] == "no_eligible_candidate"
    assert "条件を満たす候補者なし" in u.loc["N3", "reason_ja"]


def test_floor_serves_each_municipalitys_top_need_first():
    # Matsuyama's top need scores lower than its second one; only one slot exists
    d = data(
        [need("M1", topics=("gis",), priority=1), need("M2", topics=("ebpm",), priority=2)],
        [cand("A", topics=("ebpm",), capacity=1, skills=(("ebpm", 3), ("gis", 1)))],
    )
    g = build_graph(d)
    assert list(assign(g).assigned.index) == ["M2"]
    assert list(assign(g, floor=True).assigned.index) == ["M1"]


def test_small_municipality_weight_tips_the_balance():
    d = data(
        [
            need("BIG", muni=MATSUYAMA, topics=("ebpm", "gis")),
            need("SMALL", muni=MATSUNO, topics=("ebpm", "open-data-guidelines")),
        ],
        [cand("A", topics=("ebpm", "gis"), capacity=1)],
    )
    g = build_graph(d)
    assert list(assign(g).assigned.index) == ["BIG"]
    assert list(assign(g, small_weight=1.0).assigned.index) == ["SMALL"]


def test_assignment_is_deterministic_and_exports_scores():
    g = build_graph(load_demo())
    a, b = assign(g, floor=True, small_weight=0.2), assign(g, floor=True, small_weight=0.2)
    assert a.assigned.equals(b.assigned)
    assert {"score", "weight", "value", "chosen"} <= set(a.pairs.columns)
    assert int(a.pairs.loc[a.pairs["chosen"], "value"].sum()) == a.objective


def test_assignment_bad_input():
    g = build_graph(load_demo())
    with pytest.raises(InputError, match=r"need_ids: unknown need 'X'"):
        assign(g, ["X"])
    with pytest.raises(InputError, match=r"small_weight: must be >= 0"):
        assign(g, small_weight=-1)


def test_larger_generated_instance_matches_networkx():
    d = generate(n_candidates=60, n_needs=80, seed=3)
    res = assign(build_graph(d), floor=True)
    assert res.objective == networkx_optimum(res.pairs, res.capacity) == lsa_optimum(res)
