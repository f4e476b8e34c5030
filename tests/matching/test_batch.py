"""The batched score table gives exactly what scoring one need at a time gives.

``score_table`` scores needs in blocks (need × candidate arrays); ``recommend`` and
``eligibility`` still score one need at a time with ``score_need``. Both must agree on every
component, the integer weight, the set of eligible pairs and their order, for any viewer.
"""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from engine.errors import InputError
from engine.matching import Engagement, load_demo
from engine.matching.synthetic import generate, synthetic_municipalities
from solvers.matching import COMPONENTS, Weights, build_graph, recommend, score_need, score_table
from solvers.matching.score.table import (
    collect_pairs_per_need,
    pair_frame,
    score_pairs_batched,
)

from .helpers import cand, data, need


@pytest.fixture(scope="module")
def demo():
    return build_graph(load_demo())


def _edge_cases(d):
    """A generated set plus what the generator never makes: candidates with no capacity
    left, needs without topics or with a topic nobody offers, one-day time frames."""
    cands = sorted(d.candidates, key=lambda c: c.id)
    munis = d.municipalities
    full = [
        Engagement(f"X{i}-{j}", c.id, munis[i % len(munis)].code, status="active")
        for i, c in enumerate(cands[::9])
        for j in range(c.capacity)
    ]
    needs = list(d.needs)
    for i in range(0, len(needs), 7):
        needs[i] = dataclasses.replace(needs[i], topics=())
    for i in range(3, len(needs), 11):
        needs[i] = dataclasses.replace(needs[i], topics=(*needs[i].topics, "no-such-topic"))
    for i in range(5, len(needs), 13):
        day = needs[i].start + dt.timedelta(days=40)
        needs[i] = dataclasses.replace(needs[i], start=day, end=day, effort_days=0.5)
    return dataclasses.replace(d, needs=tuple(needs), engagements=d.engagements + tuple(full))


@pytest.fixture(scope="module")
def spread():
    """Random synthetic data on municipalities spread over Japan (so candidates fall in and
    out of reach), with the edge cases above."""
    munis = synthetic_municipalities(40, seed=11)
    return build_graph(_edge_cases(generate(munis, n_candidates=400, n_needs=150, seed=11)))


def _viewers(g):
    confidential = sorted({n.municipality for n in g.data.needs if n.confidential})
    return [None, *confidential[:2], g.data.municipalities[-1].code]


def _check_same(g, viewer, top_k, w=None):
    w = w or Weights()
    needs = list(g.data.visible_needs(viewer))
    ref = pair_frame(collect_pairs_per_need(g, needs, w, viewer, top_k))
    new = score_table(g, as_municipality=viewer, weights=w, top_k_per_need=top_k)
    # same eligible pairs in the same order, every column equal to the last bit
    assert list(new.index) == list(ref.index)
    pd.testing.assert_frame_equal(new, ref, check_exact=True)
    # the raw components (before rounding to points) too
    pairs = score_pairs_batched(g, needs, w, viewer, top_k)
    for i, x in enumerate(needs):
        at = pairs.need == i
        s = score_need(g, x, w, viewer)
        order = s.order()[: top_k or None]
        assert np.array_equal(pairs.position[at], s.positions[order])
        assert np.array_equal(pairs.weight[at], s.weight[order])
        for c in COMPONENTS:
            np.testing.assert_allclose(
                pairs.components[c][at], s.components[c][order], rtol=0, atol=1e-9
            )
            assert np.array_equal(pairs.components[c][at], s.components[c][order])
        assert np.array_equal(pairs.minutes[at], s.minutes[order])
        assert np.array_equal(pairs.remote_ok[at], s.remote_ok[order])


@pytest.mark.parametrize("top_k", [None, 1, 5])
def test_demo_batched_equals_per_need(demo, top_k):
    for viewer in _viewers(demo):
        _check_same(demo, viewer, top_k)


@pytest.mark.parametrize("top_k", [None, 3, 50])
def test_random_set_batched_equals_per_need(spread, top_k):
    assert any(not n.topics for n in spread.data.needs)
    assert (spread.cand_capacity <= spread.cand_load).any()
    for viewer in _viewers(spread):
        _check_same(spread, viewer, top_k)


def test_other_weights_batched_equals_per_need(spread):
    w = Weights(
        field=0.0,
        topic=1.0,
        skill=0.3,
        distance=2.0,
        capacity=0.0,
        outcome=0.7,
        proximity=0.4,
        distance_horizon_min=90.0,
        outcome_prior=2.0,
        outcome_prior_weight=5.0,
    )
    _check_same(spread, None, 10, w)


def test_recommend_is_the_head_of_the_table(demo):
    table = score_table(demo, top_k_per_need=10)
    for nid in sorted(demo.data.need_by_id):
        r = recommend(demo, nid, k=10)
        head = table.loc[nid] if nid in table.index.get_level_values("need") else table.iloc[:0]
        assert list(r.index) == list(head.index)
        assert np.array_equal(r["score"].to_numpy(), head["score"].to_numpy())
        for c in COMPONENTS:
            assert np.array_equal(r[c].to_numpy(), head[c].to_numpy())
        assert np.array_equal(r["travel_min"].to_numpy(), head["travel_min"].to_numpy())


def test_repeated_and_unsorted_need_ids(demo):
    ids = sorted(demo.data.need_by_id)
    some = [ids[5], ids[1], ids[5], ids[0]]
    w = Weights()
    needs = [demo.data.need_by_id[i] for i in some]
    ref = pair_frame(collect_pairs_per_need(demo, needs, w, None, 4))
    new = score_table(demo, some, top_k_per_need=4)
    pd.testing.assert_frame_equal(new, ref, check_exact=True)


def test_need_with_no_relevant_candidate():
    d = data(
        [need("N1", field="pr", topics=("no-such-topic",)), need("N2")],
        [cand("A"), cand("B", capacity=1)],
    )
    t = score_table(build_graph(d))
    assert list(t.index) == [("N2", "A"), ("N2", "B")]


def test_top_k_must_be_positive(demo):
    with pytest.raises(InputError, match="top_k_per_need"):
        score_table(demo, top_k_per_need=0)


def test_no_candidates_at_all():
    t = score_table(build_graph(data([need("N1")], [])))
    assert len(t) == 0 and list(t.index.names) == ["need", "candidate"]
