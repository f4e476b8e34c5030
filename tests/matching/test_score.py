import datetime as dt

import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from engine.errors import InputError
from solvers.matching import (
    COMPONENTS,
    Weights,
    build_graph,
    eligibility,
    personalised_pagerank,
    recommend,
    record_outcome,
)

from .helpers import (
    AINAN,
    IMABARI,
    KAMIJIMA,
    MATSUYAMA,
    Conflict,
    Engagement,
    cand,
    data,
    need,
)


def ids(df):
    return list(df.index)


def test_components_field_topic_skill():
    d = data(
        [need("N1", topics=("ebpm", "gis"))],
        [
            cand("A", topics=("ebpm", "gis"), skills=(("ebpm", 5),)),
            cand("B", topics=("ebpm",), skills=(("ebpm", 2),)),
            cand("C", fields=("pr",), topics=("gis",), skills=()),
        ],
    )
    r = recommend(build_graph(d), "N1")
    w = Weights().vector()
    wf, wt, ws = (100 * w[COMPONENTS.index(c)] for c in ("field", "topic", "skill"))
    assert r.loc["A", "field"] == pytest.approx(wf) and r.loc["C", "field"] == 0
    assert r.loc["A", "topic"] == pytest.approx(wt, abs=0.01)
    assert r.loc["B", "topic"] == pytest.approx(wt / 2, abs=0.01)
    assert r.loc["A", "skill"] == pytest.approx(ws, abs=0.01)
    assert r.loc["B", "skill"] == pytest.approx(ws * 2 / 5, abs=0.01)
    assert ids(r) == ["A", "B", "C"]
    # the breakdown adds up to the score
    assert np.allclose(r[list(COMPONENTS)].sum(axis=1), r["score"], atol=0.02)


def test_unrelated_candidate_is_not_considered():
    d = data([need("N1")], [cand("A"), cand("Z", fields=("pr",), topics=("furusato-nozei",))])
    assert ids(recommend(build_graph(d), "N1")) == ["A"]


def test_distance_remote_beats_far_onsite():
    d = data(
        [need("N1", mode="onsite")],
        [cand("NEAR", max_travel_min=600), cand("FAR", lat=33.0, lon=132.6, max_travel_min=600)],
    )
    r = recommend(build_graph(d), "N1")
    assert ids(r) == ["NEAR", "FAR"] and r.loc["FAR", "travel_min"] > r.loc["NEAR", "travel_min"]


def test_ties_are_broken_by_candidate_id():
    d = data([need("N1")], [cand("C3"), cand("C1"), cand("C2")])
    r = recommend(build_graph(d), "N1")
    assert ids(r) == ["C1", "C2", "C3"] and r["score"].nunique() == 1


# -- hard filters: for each, one case it forbids and one it allows --------------------------


def test_conflict_forbids_only_that_municipality():
    d = data(
        [need("N1"), need("N2", muni=IMABARI)],
        [cand("A")],
        conflicts=[Conflict("A", MATSUYAMA, "current vendor")],
    )
    g = build_graph(d)
    assert ids(recommend(g, "N1")) == [] and eligibility(g, "N1")["conflict"] == 1
    assert ids(recommend(g, "N2")) == ["A"]


def test_no_capacity_left_forbids():
    active = Engagement("E1", "A", IMABARI, status="active")
    d = data([need("N1")], [cand("A", capacity=1), cand("B", capacity=2)], engagements=[active])
    d2 = data([need("N1")], [cand("A", capacity=2)], engagements=[active])
    assert ids(recommend(build_graph(d), "N1")) == ["B"]
    r = recommend(build_graph(d2), "N1")
    assert ids(r) == ["A"] and r.loc["A", "capacity_left"] == 1


def test_onsite_out_of_reach_forbids_but_remote_allows():
    far = dict(lat=35.68, lon=139.77, max_travel_min=120)  # Tokyo
    d = data(
        [need("ON", muni=AINAN, mode="onsite"), need("RE", muni=AINAN, mode="remote")],
        [cand("T", remote=True, **far), cand("L", remote=False, **far)],
    )
    g = build_graph(d)
    assert ids(recommend(g, "ON")) == []
    assert ids(recommend(g, "RE")) == ["T"]  # L cannot work remotely, so it would travel
    assert eligibility(g, "ON")["out_of_reach"] == 2


def test_island_reach_includes_ferry():
    near_imabari = dict(lat=34.07, lon=133.0)
    d = data(
        [need("N1", muni=KAMIJIMA, mode="onsite")],
        [
            cand("SHORT", max_travel_min=40, **near_imabari),
            cand("LONG", max_travel_min=120, **near_imabari),
        ],
    )
    assert ids(recommend(build_graph(d), "N1")) == ["LONG"]


def test_availability_forbids_too_short_overlap():
    n = need("N1", start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30), effort_days=10)
    short = cand("S", available_from=dt.date(2026, 4, 25))
    ok = cand("O", available_from=dt.date(2026, 4, 10), available_until=dt.date(2026, 12, 1))
    g = build_graph(data([n], [short, ok]))
    assert ids(recommend(g, "N1")) == ["O"] and eligibility(g, "N1")["unavailable"] == 1


def test_bad_requests_raise_path_named_errors():
    g = build_graph(data([need("N1")], [cand("A")]))
    with pytest.raises(InputError, match=r"need_id: unknown need 'NOPE'"):
        recommend(g, "NOPE")
    with pytest.raises(InputError, match=r"k: must be >= 1"):
        recommend(g, "N1", k=0)
    with pytest.raises(InputError, match=r"as_municipality: unknown municipality"):
        recommend(g, "N1", as_municipality="000000")
    with pytest.raises(InputError, match=r"weights.topic: must be >= 0"):
        Weights(topic=-1)


def test_explanations_in_both_languages():
    g = build_graph(
        data([need("N1", muni=IMABARI, mode="onsite")], [cand("A", max_travel_min=300)])
    )
    r = recommend(g, "N1")
    assert (
        "covers data use" in r.loc["A", "explanation"] and "min by car" in r.loc["A", "explanation"]
    )
    assert "データ利活用に対応" in r.loc["A", "explanation_ja"]


def test_recording_an_outcome_changes_later_scores():
    d = data([need("N1"), need("N2", muni=IMABARI)], [cand("A"), cand("B")])
    g = build_graph(d)
    before = recommend(g, "N1")
    assert ids(before) == ["A", "B"]
    record_outcome(g, "B", IMABARI, 5.0)
    record_outcome(g, "A", IMABARI, 1.0)
    after = recommend(g, "N1")
    assert ids(after) == ["B", "A"]
    assert after.loc["B", "score"] > before.loc["B", "score"]
    assert after.loc["A", "outcome"] < before.loc["A", "outcome"]
    assert "rated 5.0/5 over 1 job" in after.loc["B", "explanation"]


def test_proximity_favours_candidates_who_worked_nearby():
    engs = [Engagement("E1", "B", IMABARI, rating=4.0), Engagement("E2", "A", AINAN, rating=4.0)]
    g = build_graph(data([need("N1", muni=IMABARI)], [cand("A"), cand("B")], engagements=engs))
    r = recommend(g, "N1")
    assert r.loc["B", "proximity"] > r.loc["A", "proximity"]
    assert "has worked with Imabari" in r.loc["B", "explanation"]


def test_personalised_pagerank_matches_networkx():
    G = nx.karate_club_graph()
    for u, v in G.edges:
        G.edges[u, v]["weight"] = 1 + (u * v) % 3
    G.add_node(99)  # isolated node: a dangling walker restarts
    nodes = sorted(G.nodes)
    A = sparse.csr_matrix(nx.to_scipy_sparse_array(G, nodelist=nodes, weight="weight"))
    x = personalised_pagerank(A, np.array([0, 33]), alpha=0.85, tol=1e-12, max_iter=1000)
    for col, src in enumerate([0, 33]):
        ref = nx.pagerank(G, alpha=0.85, personalization={src: 1}, weight="weight", tol=1e-12)
        assert np.allclose(x[:, col], [ref[n] for n in nodes], atol=1e-8)
