"""Scenario description: base + overrides → plan-request, and the YAML form with paths."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.model import Blackout
from engine.scenario import (
    DocumentBase,
    EhimeBase,
    Overrides,
    Scenario,
    load_scenario_file,
    location_kind,
    parse_scenario_file,
)
from engine.scenario.apply import scale_demand, shift_online

MONDAY = "2026-12-07"
SMALL = EhimeBase(MONDAY, requests_per_week=10)


def tiny_document() -> dict:
    """Two places, one expert, three requests (one fixed)."""
    return {
        "horizon": {"start": MONDAY, "end": "2026-12-11"},
        "locations": [{"id": "office", "name": "県庁", "lat": 33.84, "lon": 132.77},
                      {"id": "t1", "name": "砥部町", "lat": 33.75, "lon": 132.79}],
        "experts": [{"id": "pr-1", "fields": ["pr"], "base": "office", "max_visits_total": 3}],
        "requests": [
            {"id": f"r{i}", "location": "t1", "fields": ["pr"], "mode": "onsite",
             "duration_min": 60, "priority": 5} for i in range(3)],
    }


def test_same_seed_same_problem_other_seed_other_demand():
    s = Scenario("base", SMALL)
    assert s.document(seed=4) == s.document(seed=4)
    assert s.document(seed=4)["requests"] != s.document(seed=5)["requests"]


def test_added_expert_copies_the_contract_of_its_field():
    s = Scenario("sixth", SMALL, Overrides(add_experts=({"id": "data-2", "fields": ["data"]},)))
    p = s.plan_request()
    new, old = p.expert_by_id["data-2"], p.expert_by_id["data-1"]
    assert (new.base, new.max_visits_total, new.max_onsite_days) == (
        old.base, old.max_visits_total, old.max_onsite_days)
    assert len(p.experts) == 6


def test_adding_an_existing_expert_is_refused_with_its_path():
    s = Scenario("dup", SMALL, Overrides(add_experts=({"id": "pr-1", "fields": ["pr"]},)))
    with pytest.raises(InputError) as err:
        s.plan_request(path="scenarios[2]")
    assert err.value.problems[0].path == "scenarios[2].add_experts[0].id"


def test_removed_expert_is_gone_and_its_blackouts_follow():
    s = Scenario("less", SMALL, Overrides(remove_experts=("design-1",)))
    p = s.plan_request()
    assert "design-1" not in p.expert_by_id
    assert all("design-1" not in b.experts for b in p.horizon.blackouts)
    assert p.horizon.blackouts  # data-1's camp preparation day stays


def test_removing_an_unknown_expert_is_refused():
    with pytest.raises(InputError, match=r"remove_experts\[0\]: unknown expert 'nobody'"):
        Scenario("x", SMALL, Overrides(remove_experts=("nobody",))).plan_request()


def test_caps_apply_to_everyone_then_by_id_and_none_lifts_a_cap():
    o = Overrides(expert_caps={"*": {"max_visits_total": 5}, "pr-1": {"max_visits_total": None}})
    p = Scenario("caps", SMALL, o).plan_request()
    assert p.expert_by_id["data-1"].max_visits_total == 5
    assert p.expert_by_id["pr-1"].max_visits_total is None


def test_unknown_cap_and_negative_cap_are_refused():
    with pytest.raises(InputError) as err:
        Overrides(expert_caps={"*": {"max_visits": 5, "max_onsite_days": -1}})
    assert [p.path for p in err.value.problems] == ["expert_caps.*.max_visits",
                                                    "expert_caps.*.max_onsite_days"]


def test_hours_change_and_empty_hours_are_refused():
    p = Scenario("long", SMALL, Overrides(expert_hours={"*": (480, 1080)})).plan_request()
    assert {(e.work_start, e.work_end) for e in p.experts} == {(480, 1080)}
    with pytest.raises(InputError, match="expert_hours.pr-1"):
        Overrides(expert_hours={"pr-1": (600, 600)})


def test_location_caps_by_kind_and_id():
    o = Overrides(location_caps={"town": 1, "382019": 5})
    p = Scenario("loc", SMALL, o).plan_request()
    by = p.location_by_id
    assert by["383562"].max_visits_per_day == 1           # 上島町, a town
    assert by["382019"].max_visits_per_day == 5           # 松山市 by id
    assert by["382027"].max_visits_per_day == 3           # 今治市 unchanged
    with pytest.raises(InputError, match="location_caps.village"):
        Scenario("bad", SMALL, Overrides(location_caps={"village": 1})).plan_request()


def test_location_kind():
    assert location_kind("久万高原町") == "town"
    assert location_kind("松山市") == "city"
    assert location_kind("愛媛県") == "other"


def test_demand_scale_and_online_share_reach_the_generator():
    p = Scenario("more", SMALL, Overrides(demand_scale=2.0, online_share=1.0)).plan_request()
    assert len(p.requests) == 20
    assert all(q.mode == "online" or q.fixed for q in p.requests)


def test_out_of_range_overrides_are_refused():
    for kw, path in [({"demand_scale": -0.5}, "demand_scale"), ({"online_share": 1.5},
                     "online_share"), ({"travel_speed_factor": 0.0}, "travel_speed_factor")]:
        with pytest.raises(InputError) as err:
            Overrides(**kw)
        assert err.value.problems[0].path == path


def test_blackouts_move_add_and_remove():
    wed, fri, thu = dt.date(2026, 12, 9), dt.date(2026, 12, 11), dt.date(2026, 12, 10)
    p = Scenario("moved", SMALL, Overrides(move_blackouts=((wed, fri),))).plan_request()
    assert [b.date for b in p.horizon.blackouts] == [fri]
    assert p.horizon.blackouts[0].experts == ("design-1", "data-1")
    p = Scenario("gone", SMALL, Overrides(remove_blackouts=(wed,))).plan_request()
    assert p.horizon.blackouts == ()
    p = Scenario("camp", SMALL, Overrides(add_blackouts=(Blackout(thu, ("*",), "camp"),)))\
        .plan_request()
    assert thu in [b.date for b in p.horizon.blackouts]
    with pytest.raises(InputError, match=r"move_blackouts\[0\].from: no blackout on 12/10$") \
            as err:
        Scenario("x", SMALL, Overrides(move_blackouts=((thu, fri),))).plan_request()
    assert err.value.problems[0].text("ja").endswith("from: 12/10 に業務停止日はありません")


def test_document_base_scales_and_shifts_with_the_seed():
    doc = tiny_document()
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-08", "start": "10:00"}
    base = DocumentBase(doc)
    half = Scenario("half", base, Overrides(demand_scale=0.34)).plan_request(seed=1)
    assert [q.id for q in half.requests][0] == "r0" and len(half.requests) == 1
    online = Scenario("online", base, Overrides(online_share=1.0)).plan_request(seed=1)
    assert [q.mode for q in online.requests] == ["onsite", "online", "online"]  # fixed stays


def test_invalid_document_base_is_refused():
    doc = tiny_document()
    doc["requests"][1]["duration_min"] = 0
    with pytest.raises(InputError, match=r"requests\[1\].duration_min"):
        DocumentBase(doc)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 30), scale=st.floats(0.0, 3.0), seed=st.integers(0, 10**6))
def test_scaled_demand_has_the_target_size_unique_ids_and_keeps_fixed(n, scale, seed):
    reqs = [{"id": f"r{i}", "mode": "onsite", **({"fixed": {"x": 1}} if i == 0 else {})}
            for i in range(n)]
    out = scale_demand(reqs, scale, random.Random(seed))
    target = round(n * scale)
    assert len(out) == (max(target, 1) if n else 0)   # the fixed request always stays
    assert len({q["id"] for q in out}) == len(out)
    if n:
        assert out[0]["id"] == "r0"
    assert sum(1 for q in out if q.get("fixed")) == (1 if n else 0)


@settings(max_examples=40, deadline=None)
@given(modes=st.lists(st.sampled_from(["onsite", "online"]), max_size=30),
       share=st.floats(0.0, 1.0), seed=st.integers(0, 10**6))
def test_online_share_is_met_when_no_request_is_fixed(modes, share, seed):
    reqs = [{"id": str(i), "mode": m} for i, m in enumerate(modes)]
    out = shift_online(reqs, share, random.Random(seed))
    assert sum(q["mode"] == "online" for q in out) == round(len(modes) * share)
    assert [q["id"] for q in out] == [q["id"] for q in reqs]


# ----------------------------------------------------------------------------- files

def test_example_files_parse_and_build():
    from pathlib import Path

    # The repository's scenarios/ folder, wherever the tests are run from.
    paths = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
    assert len(paths) >= 2, paths           # ehime_week.yaml and what_ifs.yaml at least
    for path in paths:
        spec = load_scenario_file(path)
        for i, s in enumerate(spec.scenarios):
            s.plan_request(spec.run.seed, path=f"scenarios[{i}]")


def test_file_reports_every_problem_with_its_path():
    doc = {"base": {"ehime": {"start": "2026-12-08"}}, "run": {"draws": 0},
           "scenarios": [{"name": "a", "online_share": "lots"}, {"description": "no name"}]}
    with pytest.raises(InputError) as err:
        parse_scenario_file(doc)
    assert [p.path for p in err.value.problems] == [
        "base.ehime.start", "run.draws", "scenarios[0].online_share", "scenarios[1].name"]


def test_file_allows_yaml_dates_and_base_60_times(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("base: {ehime: {start: 2026-12-07, requests_per_week: 5}}\n"
                 "scenarios:\n  - name: long\n    expert_hours: {'*': [8:00, 18:30]}\n"
                 "  - name: again\n    expert_hours: {'*': ['08:00', '18:30']}\n",
                 encoding="utf-8")
    spec = load_scenario_file(f)
    assert [s.overrides.expert_hours["*"] for s in spec.scenarios] == [(480, 1110)] * 2


def test_bad_yaml_names_line_and_column(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("scenarios:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario_file(f)
    assert err.value.problems[0].path.startswith("line 3")


def test_duplicate_scenario_names_are_refused():
    doc = {"base": {"ehime": {"start": MONDAY}}, "scenarios": [{"name": "a"}, {"name": "a"}]}
    with pytest.raises(InputError, match=r"scenarios\[1\].name: duplicate name 'a'"):
        parse_scenario_file(doc)


def test_file_base_is_read_relative_to_the_yaml(tmp_path):
    import json
    (tmp_path / "week.json").write_text(json.dumps(tiny_document()), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text("base: {file: week.json}\nscenarios: [{name: a}]\n", encoding="utf-8")
    spec = load_scenario_file(f)
    assert len(spec.scenarios[0].plan_request().requests) == 3
    f.write_text("base: {file: missing.json}\nscenarios: [{name: a}]\n", encoding="utf-8")
    with pytest.raises(InputError):
        load_scenario_file(f)
