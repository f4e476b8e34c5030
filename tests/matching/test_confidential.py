"""Confidential needs never reach another municipality: results, reasons or peers."""

import pytest

from engine.errors import InputError
from engine.matching import load_demo
from solvers.matching import assign, build_graph, recommend, score_table, suggest_peers

from .helpers import IMABARI, KAMIJIMA, MATSUYAMA, Engagement, cand, data, need

SECRET = "zero-trust"


def scenario():
    needs = [
        need("PUB", muni=MATSUYAMA, field="security", topics=("cloud-migration",)),
        need(
            "SECRET",
            muni=IMABARI,
            field="security",
            topics=(SECRET,),
            confidential=True,
            description="極秘: 不正アクセス事案の対応",
        ),
        need("KAMI", muni=KAMIJIMA, field="security", topics=("cloud-migration",)),
    ]
    cands = [
        cand("A", fields=("security",), topics=("cloud-migration", SECRET), capacity=1),
        cand("B", fields=("security",), topics=("cloud-migration",), capacity=1),
    ]
    engs = [Engagement("E1", "A", IMABARI, rating=1.0, confidential=True, topics=(SECRET,))]
    return data(needs, cands, engagements=engs)


def test_other_municipality_cannot_see_a_confidential_need():
    g = build_graph(scenario())
    with pytest.raises(InputError, match="need_id: unknown need 'SECRET'"):
        recommend(g, "SECRET", as_municipality=MATSUYAMA)
    assert len(recommend(g, "SECRET", as_municipality=IMABARI)) == 2
    t = score_table(g, as_municipality=MATSUYAMA)
    assert "SECRET" not in set(t.index.get_level_values("need"))


def test_confidential_history_does_not_move_other_municipalities_scores():
    with_secret = build_graph(scenario())
    d = scenario()
    without = build_graph(type(d)(d.municipalities, d.needs, d.candidates, (), d.conflicts))
    a = recommend(with_secret, "PUB", as_municipality=MATSUYAMA)
    b = recommend(without, "PUB", as_municipality=MATSUYAMA)
    assert a[["score", "explanation", "explanation_ja"]].equals(
        b[["score", "explanation", "explanation_ja"]]
    )
    # but Imabari itself sees its own bad rating of A
    own = recommend(with_secret, "SECRET", as_municipality=IMABARI)
    assert "rated 1.0/5" in own.loc["A", "explanation"]


def test_assignment_view_hides_other_municipalities_confidential_needs():
    d = scenario()
    res = assign(build_graph(d))
    view = res.view(KAMIJIMA, d)
    text = " ".join(view.unserved["reason"]) + " ".join(view.unserved["reason_ja"])
    assert "SECRET" not in text and "SECRET" not in set(view.assigned.index)
    assert set(view.pairs["municipality"]) <= {KAMIJIMA}
    for blocked in view.unserved["blocked_by"]:
        assert "SECRET" not in blocked


def test_peer_reasons_never_mention_confidential_topics():
    g = build_graph(scenario())
    for code in (MATSUYAMA, KAMIJIMA, IMABARI):
        peers = suggest_peers(g, code, k=20)
        assert all(SECRET not in t for t in peers["shared_topics"])
        assert not peers["reason"].str.contains("zero-trust network").any()


def test_demo_views_never_show_foreign_confidential_needs():
    d = load_demo()
    g = build_graph(d)
    secret = {n.id for n in d.needs if n.confidential}
    res = assign(g)
    for m in d.municipalities:
        own_secret = {n.id for n in d.needs if n.confidential and n.municipality == m.code}
        v = res.view(m.code, d)
        shown = set(v.assigned.index) | set(v.unserved.index)
        shown |= {b for bs in v.unserved["blocked_by"] for b in bs}
        assert not (shown & (secret - own_secret))
        seen = set(score_table(g, as_municipality=m.code).index.get_level_values("need"))
        assert not (seen & (secret - own_secret))


def losing_scenario():
    """上島町 and 今治市 (confidential) want the only candidate; 今治市's need is worth more,
    so 上島町's need goes unserved, blocked by a need it may not know about."""
    needs = [
        need("KAMI", muni=KAMIJIMA, field="security", topics=("cloud-migration",)),
        need("SECRET", muni=IMABARI, field="security", topics=("cloud-migration", SECRET),
             confidential=True),
    ]
    cands = [cand("A", fields=("security",), topics=("cloud-migration", SECRET), capacity=1)]
    return data(needs, cands)


def test_view_of_a_municipality_with_an_unserved_need():
    d = losing_scenario()
    res = assign(build_graph(d))
    assert list(res.unserved.index) == ["KAMI"]
    view = res.view(KAMIJIMA, d)
    assert list(view.unserved.index) == ["KAMI"] and view.assigned.empty
    row = view.unserved.loc["KAMI"]
    assert row["reason_code"] == "capacity_taken"
    assert "SECRET" not in row["reason"] + row["reason_ja"]
    assert "SECRET" not in row["blocked_by"]
    assert "1" in row["reason"]  # the confidential need holding the capacity is counted
    # the winner sees its own need assigned and nothing of 上島町's
    own = res.view(IMABARI, d)
    assert list(own.assigned.index) == ["SECRET"] and own.unserved.empty


def test_cli_assign_as_a_municipality_with_an_unserved_need(tmp_path, capsys):
    from engine.matching import write_json
    from service.cli import main

    path = tmp_path / "losing.json"
    write_json(losing_scenario(), path)
    assert main(["match", "assign", "--data", str(path), "--as", KAMIJIMA, "--lang", "en"]) == 0
    out = capsys.readouterr()
    assert "KAMI" in out.out and "SECRET" not in out.out and "Traceback" not in out.err
