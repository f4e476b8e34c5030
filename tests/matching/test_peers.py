from engine.matching import load_demo
from solvers.matching import GraphParams, build_graph, communities, suggest_peers

from .helpers import KAMIJIMA, MATSUNO


def test_communities_are_deterministic_and_follow_regions():
    d = load_demo()
    a, b = communities(build_graph(d)), communities(build_graph(d))
    assert a.equals(b)
    assert "380008" not in a.index and len(a) == 20
    region = {m.code: m.region for m in d.municipalities}
    for _, members in a.groupby("community"):
        regions = {region[c] for c in members.index}
        assert len(regions) <= 2


def test_suggest_peers_with_reasons():
    g = build_graph(load_demo())
    p = suggest_peers(g, "松野町", k=4)
    assert len(p) == 4 and MATSUNO not in p.index and "380008" not in p.index
    assert p["similarity"].is_monotonic_decreasing
    assert p["reason"].str.contains("min by car").all()
    assert p["reason_ja"].str.contains("車で約").all()
    assert suggest_peers(g, KAMIJIMA, k=2).equals(suggest_peers(g, "Kamijima", k=2))


def test_seed_is_a_parameter():
    d = load_demo()
    g = build_graph(d, GraphParams(seed=5))
    assert sum(len(c) for c in g.communities) == 20
