"""One resolver for names and codes, and the bundled facts a known place brings along."""

import pytest

from engine.errors import InputError
from engine.format import parse_plan_request, plan_request_to_dict
from engine.names import NameIndex, resolve_field, resolve_municipality
from engine.travel import TravelTimes


@pytest.mark.parametrize("text", ["383562", "上島町", "上島", "Kamijima", "kamijima-cho",
                                  "KAMIJIMA TOWN", "３８３５６２", " 上島町　"])
def test_every_way_of_writing_kamijima_resolves_to_its_code(text):
    assert resolve_municipality(text) == "383562"


@pytest.mark.parametrize("text", ["", "松", "上島村x", "Tokyo", None, 383562])
def test_unknown_or_partial_names_resolve_to_nothing(text):
    assert resolve_municipality(text) is None


@pytest.mark.parametrize(("text", "field"), [
    ("データ活用", "data"), ("データ利活用", "data"), ("data use", "data"), ("ｄａｔａ", "data"),
    ("広報・マーケティング", "pr"), ("PR", "pr"), ("UI/UX", "design"), ("官民共創", "cocreation"),
    ("システム・セキュリティ", "security")])
def test_field_labels_and_variants(text, field):
    assert resolve_field(text) == field


def test_a_key_two_ids_share_is_ambiguous_not_a_guess():
    idx = NameIndex([("a", ("松山",)), ("b", ("松山町",))], place=True)
    assert idx.resolve("a") == "a"
    assert idx.resolve("松山町") == "b"
    assert idx.resolve("松山") is None     # a's name, and b's without 町: no guess


def _doc(**over):
    doc = {"horizon": {"start": "2026-12-07", "end": "2026-12-11"},
           "locations": [{"id": "383562", "lat": 34.2575, "lon": 133.2044}],
           "experts": [{"id": "pr-1", "name": "広報担当", "fields": ["pr"], "base": "380008"}],
           "requests": [{"id": "r1", "location": "383562", "fields": ["pr"], "mode": "onsite",
                         "duration_min": 60, "priority": 5}]}
    doc.update(over)
    return doc


def test_a_listed_bundled_code_takes_the_facts_it_omits():
    problem = parse_plan_request(_doc())
    kami = problem.location_by_id["383562"]
    assert (kami.name, kami.name_en, kami.island, kami.population) == (
        "上島町", "Kamijima", True, 6509)
    assert (kami.lat, kami.lon) == (34.2575, 133.2044)          # what is given stays
    # the ferry leg is now in the estimate from Matsuyama (the hall's 78 min were a mainland guess)
    assert TravelTimes(problem).minutes("380008", "383562") >= 78 + 40


def test_facts_given_in_the_document_win():
    doc = _doc(locations=[{"id": "383562", "name": "上島（弓削）", "lat": 34.2575,
                           "lon": 133.2044, "island": False, "population": 100}])
    kami = parse_plan_request(doc).location_by_id["383562"]
    assert (kami.name, kami.island, kami.population, kami.name_en) == (
        "上島（弓削）", False, 100, "Kamijima")


def test_names_accepted_where_a_code_is_expected():
    doc = _doc(locations=[{"id": "hq", "name": "本部", "lat": 33.84, "lon": 132.77}],
               experts=[{"id": "pr-1", "name": "広報担当", "fields": ["広報"], "base": "愛媛県"}],
               requests=[{"id": "r1", "location": "上島町", "fields": ["データ活用"],
                          "mode": "onsite", "duration_min": 60, "priority": 5},
                         {"id": "r2", "location": "Matsuyama", "fields": ["pr"], "mode": "onsite",
                          "duration_min": 60, "priority": 5,
                          "fixed": {"experts": ["広報担当"], "date": "2026-12-08",
                                    "start": "10:00"}}],
               travel={"minutes": {"愛媛県": {"松山市": 12}}})
    doc["horizon"]["blackouts"] = [{"date": "2026-12-09", "experts": ["広報担当"]}]
    problem = parse_plan_request(doc)
    r1, r2 = problem.requests
    assert (r1.location, r1.fields, r2.location) == ("383562", ("data",), "382019")
    assert problem.experts[0].base == "380008" and problem.experts[0].fields == ("pr",)
    assert r2.fixed.experts == ("pr-1",)
    assert problem.horizon.blackouts[0].experts == ("pr-1",)
    assert problem.travel == {"380008": {"382019": 12}}
    assert {loc.id for loc in problem.locations} == {"hq", "380008", "383562", "382019"}
    # written back with codes: the file round-trips
    again = parse_plan_request(plan_request_to_dict(problem))
    assert again.requests == problem.requests


def test_a_listed_location_is_found_by_its_own_name_first():
    doc = _doc(locations=[{"id": "hq", "name": "上島町", "lat": 34.0, "lon": 133.0}],
               requests=[{"id": "r1", "location": "上島町", "fields": ["pr"], "mode": "onsite",
                          "duration_min": 60, "priority": 5}])
    problem = parse_plan_request(doc)
    assert problem.requests[0].location == "hq"
    assert "383562" not in problem.location_by_id


def test_an_unknown_name_is_still_an_error_with_its_path():
    doc = _doc(requests=[{"id": "r1", "location": "東京都", "fields": ["pr"], "mode": "onsite",
                          "duration_min": 60, "priority": 5}])
    with pytest.raises(InputError, match=r"requests\[0\]\.location: unknown location '東京都'"):
        parse_plan_request(doc)
