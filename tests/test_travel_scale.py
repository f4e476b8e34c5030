"""Travel at country scale: legs longer than a day, matrix files, fast shortest ways."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from engine.errors import InputError
from engine.format import load_plan_request, parse_plan_request
from engine.model import Location
from engine.travel import MinutesMatrix, TravelTimes, estimate_matrix, estimate_minutes


def _doc(**travel):
    return {
        "format": "plan-request/1",
        "horizon": {"start": "2026-12-07", "end": "2026-12-11"},
        "locations": [{"id": "a", "name": "A", "lat": 33.8, "lon": 132.8},
                      {"id": "b", "name": "B", "lat": 33.9, "lon": 132.9},
                      {"id": "c", "name": "C", "lat": 43.0, "lon": 141.3}],
        "experts": [{"id": "e", "fields": ["pr"], "base": "a"}],
        "requests": [{"id": "r1", "location": "b", "fields": ["pr"], "mode": "onsite",
                      "duration_min": 60, "priority": 5},
                     {"id": "r2", "location": "c", "fields": ["pr"], "mode": "onsite",
                      "duration_min": 60, "priority": 5}],
        "travel": travel,
    }


def _write(tmp_path, doc, **files):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "week.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_leg_longer_than_a_day_is_accepted_and_fits_no_day():
    from tests.helpers import solve_checked

    p = parse_plan_request(_doc(minutes={"a": {"c": 1900}, "c": {"a": 1900}}))
    assert TravelTimes(p).minutes("a", "c") == 1900
    plan = solve_checked(p)
    assert [v.request for v in plan.visits] == ["r1"]
    assert {u.request: u.codes[0] for u in plan.unscheduled} == {"r2": "no_time"}


def test_a_leg_beyond_a_year_is_refused_with_its_path():
    with pytest.raises(InputError, match=r"travel\.minutes\.a\.c"):
        parse_plan_request(_doc(minutes={"a": {"c": 10**9}}))


def test_long_csv_file_relative_to_the_request_with_estimate_for_missing_pairs(tmp_path):
    path = _write(tmp_path, _doc(files=[{"path": "m/legs.csv"}]))
    (tmp_path / "m").mkdir()
    (tmp_path / "m/legs.csv").write_text("from,to,minutes\na,b,33\nB,a,35\na,c,\n",
                                         encoding="utf-8")
    p = load_plan_request(path)
    tt = TravelTimes(p)
    assert tt.minutes("a", "b") == 33 and tt.source("a", "b") == "given"
    assert tt.minutes("b", "a") == 35                      # a place by its name
    assert tt.source("a", "c") == "estimate"               # empty cell: the estimate
    assert tt.minutes("a", "c") == estimate_minutes(p.location_by_id["a"], p.location_by_id["c"])


def test_wide_parquet_file_and_document_minutes_win(tmp_path):
    pytest.importorskip("pyarrow")
    wide = pd.DataFrame({"from": ["a", "b"], "a": [0, 41], "b": [40, 0]})
    wide.to_parquet(tmp_path / "m.parquet")
    path = _write(tmp_path, _doc(files=[{"path": "m.parquet"}], minutes={"a": {"b": 44}}))
    tt = TravelTimes(load_plan_request(path))
    assert tt.minutes("a", "b") == 44
    assert tt.minutes("b", "a") == 41


@pytest.mark.parametrize("body, match", [
    ("from,to,minutes\na,b,ten\n", r"legs\.csv line 2, column 'minutes'.*'ten'"),
    ("from,to,minutes\na,b,-3\n", r"legs\.csv line 2, column 'minutes': must be whole"),
    ("from,to,minutes\na,zz,30\n", r"legs\.csv: unknown location 'zz'"),
    ("from,to,minutes\na,a,5\n", r"legs\.csv line 2: a location to itself is 0 minutes"),
    ("from,a,b\na,0,x\n", r"legs\.csv line 2, column 'b'"),
])
def test_bad_matrix_file_names_file_line_and_column(tmp_path, body, match):
    path = _write(tmp_path, _doc(files=[{"path": "legs.csv"}]), **{"legs.csv": body})
    with pytest.raises(InputError, match=r"travel\.files\[0\]\.path: " + match):
        load_plan_request(path)


def test_missing_matrix_file_and_files_in_a_body_are_refused(tmp_path):
    path = _write(tmp_path, _doc(files=[{"path": "nowhere.csv"}]))
    with pytest.raises(InputError, match=r"nowhere\.csv: file not found"):
        load_plan_request(path)
    with pytest.raises(InputError, match=r"travel\.files: matrix files can be referenced only"):
        parse_plan_request(_doc(files=[{"path": "legs.csv"}]))


def test_minutes_matrix_reads_as_the_mapping_it_replaces():
    m = MinutesMatrix(["a", "b", "c"], np.array([[-1, 5, -1], [-1, -1, -1], [7, -1, -1]]))
    assert dict(m["a"]) == {"b": 5} and list(m) == ["a", "c"] and len(m) == 2
    assert m.get("b") is None and m.restrict(["c", "a"]).pair("c", "a") == 7
    import pickle
    assert pickle.loads(pickle.dumps(m)).pair("a", "b") == 5


def test_estimate_matrix_equals_the_estimate_pair_by_pair():
    rng = np.random.default_rng(3)
    locs = [Location(f"p{i}", f"P{i}", float(rng.uniform(31, 44)), float(rng.uniform(129, 145)),
                     island=bool(i % 7 == 0), ferry_minutes=25 if i == 14 else None)
            for i in range(40)]
    m = estimate_matrix(locs, locs)
    assert all(m[i, j] == estimate_minutes(a, b) for i, a in enumerate(locs)
               for j, b in enumerate(locs))


def _country(n: int, seed: int = 0, noise: bool = True):
    """``n`` places across Japan's extent, 20 bases; given minutes with road noise."""
    rng = np.random.default_rng(seed)
    locs = [{"id": f"p{i}", "name": f"P{i}", "lat": float(rng.uniform(31, 44)),
             "lon": float(rng.uniform(129, 145))} for i in range(n)]
    doc = _doc()
    doc["locations"] = locs
    doc["experts"] = [{"id": f"e{k}", "fields": ["pr"], "base": f"p{k}"} for k in range(20)]
    doc["requests"] = [{"id": f"r{i}", "location": f"p{i}", "fields": ["pr"], "mode": "onsite",
                        "duration_min": 60, "priority": 5} for i in range(20, n)]
    doc.pop("travel")
    p = parse_plan_request(doc)
    ids = [x["id"] for x in locs]
    base = TravelTimes(p).matrix(ids)
    if noise:
        base = (base * rng.uniform(0.6, 1.3, size=base.shape)).astype(np.int64)
        np.fill_diagonal(base, -1)
    return dataclasses.replace(p, travel=MinutesMatrix(ids, base)), ids


@pytest.mark.parametrize("n", [60, 400])     # a dense search below 300 places, sparse above
def test_shortest_is_the_exact_shortest_way_up_to_a_working_day(n):
    p, ids = _country(n)
    tt = TravelTimes(p)
    d = tt.matrix(ids)
    for k in range(len(ids)):                      # the reference: Floyd–Warshall
        d = np.minimum(d, d[:, k, None] + d[None, k, :])
    day = 17 * 60 + 15 - (8 * 60 + 30)             # a way longer than any working day ...
    shorter = 0
    for i in range(20):
        for j in range(0, n, 7):
            want = min(d[i, j], day + 1), min(d[j, i], day + 1)   # ... is reported as day + 1
            assert (tt.shortest(ids[i], ids[j]), tt.shortest(ids[j], ids[i])) == want
            shorter += d[i, j] < tt.minutes(ids[i], ids[j]) and d[i, j] <= day
    assert shorter                                  # some chains beat the direct leg
    block = tt.shortest_matrix(ids[:20], ids[::7])
    assert block.tolist() == [[tt.shortest(a, b) for b in ids[::7]] for a in ids[:20]]


def test_shortest_at_1741_places_searches_one_to_all_not_all_pairs(monkeypatch):
    p, ids = _country(1741)
    tt = TravelTimes(p)
    starts: list[int] = []
    search = TravelTimes._search

    def counted(self, begin, *, reverse):
        starts.extend(begin)
        return search(self, begin, reverse=reverse)

    monkeypatch.setattr(TravelTimes, "_search", counted)
    for k in range(20):
        tt.shortest(ids[k], ids[-1])
        tt.shortest(ids[-1], ids[k])
    # One search from and one into every base, plus one from each other place asked from:
    # a few dozen one-to-all searches, where the all-pairs pass it replaces (minutes at this
    # size) would search from all 1,741 places.
    bases = {e.base for e in p.experts}
    assert 0 < len(starts) <= 2 * len(bases) + 20 < len(ids)
