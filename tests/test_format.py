"""plan-request/1 and plan/1: malformed input is rejected naming the offending path; documents
survive a round trip parse → to_dict → parse unchanged, the FORMAT.md examples included."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from engine.demand import ehime_week
from engine.errors import InputError
from engine.format import (
    loads_json,
    parse_plan,
    parse_plan_request,
    plan_request_to_dict,
    plan_to_dict,
    read_json,
)
from solvers.planner import solve
from tests.helpers import DATA, load_doc, problem_of, req, solve_checked


def rejects(mutate: Callable[[dict[str, Any]], Any], path: str, message: str) -> InputError:
    """Apply ``mutate`` to a fresh two_towns document and expect an InputError whose problems
    include ``path: message`` (``message`` a regular expression)."""
    doc = load_doc("two_towns")
    mutate(doc)
    with pytest.raises(InputError) as err:
        parse_plan_request(doc)
    texts = [p.text() for p in err.value.problems]
    pattern = re.escape(path) + ": " + message
    assert any(re.match(pattern, x) for x in texts), texts
    assert all(p.message_ja for p in err.value.problems)
    return err.value


def test_the_base_document_is_valid():
    assert parse_plan_request(load_doc("two_towns")).request_by_id["a1"].duration_min == 60


# ------------------------------------------------------------------ not JSON, not an object


def test_not_json_names_the_place():
    with pytest.raises(InputError, match=r"week\.json: not valid JSON: .* at line 1, column"):
        loads_json('{"format": ', "week.json")


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nowhere\.json: file not found"):
        read_json(tmp_path / "nowhere.json")


@pytest.mark.parametrize("doc", [[], "plan", 3, None])
def test_not_an_object(doc):
    with pytest.raises(InputError, match="must be an object"):
        parse_plan_request(doc)


def test_wrong_format_name():
    rejects(lambda d: d.update(format="plan-request/2"), "format", "must be 'plan-request/1'")


# ------------------------------------------------------------------ missing and unknown fields


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d.pop("horizon"), "horizon"),
    (lambda d: d.pop("locations"), "locations"),
    (lambda d: d.pop("experts"), "experts"),
    (lambda d: d["horizon"].pop("start"), "horizon.start"),
    (lambda d: d["locations"][1].pop("id"), "locations[1].id"),
    (lambda d: d["experts"][0].pop("base"), "experts[0].base"),
    (lambda d: d["experts"][0].pop("fields"), "experts[0].fields"),
    (lambda d: d["requests"][1].pop("duration_min"), "requests[1].duration_min"),
    (lambda d: d["requests"][0].pop("mode"), "requests[0].mode"),
    (lambda d: d["requests"][0].update(fixed={"experts": ["pr-1"], "date": "2026-12-07"}),
     "requests[0].fixed.start"),
])
def test_missing_field(mutate, path):
    rejects(mutate, path, "is required")


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d.update(colour="blue"), "colour"),
    (lambda d: d["horizon"].update(weeks=2), "horizon.weeks"),
    (lambda d: d["locations"][0].update(floor=3), "locations[0].floor"),
    (lambda d: d["experts"][0].update(salary=1), "experts[0].salary"),
    (lambda d: d["requests"][1].update(room="A"), "requests[1].room"),
    (lambda d: d["travel"].update(km={}), "travel.km"),
    (lambda d: d.update(objective={"fun": 1}), "objective.fun"),
])
def test_unknown_field(mutate, path):
    rejects(mutate, path, r"unknown field \(allowed: ")


# ------------------------------------------------------------------ unknown ids


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["requests"][0].update(location="town_z"), "requests[0].location",
     "unknown location 'town_z'"),
    (lambda d: d["experts"][0].update(base="home"), "experts[0].base", "unknown location 'home'"),
    (lambda d: d["horizon"].update(blackouts=[{"date": "2026-12-07", "experts": ["pr-9"]}]),
     "horizon.blackouts[0].experts[0]", "unknown expert 'pr-9'"),
    (lambda d: d["travel"]["minutes"].update(port={"office": 5}), "travel.minutes.port",
     "unknown location 'port'"),
    (lambda d: d["travel"]["minutes"]["office"].update(port=5), "travel.minutes.office.port",
     "unknown location 'port'"),
])
def test_unknown_id(mutate, path, message):
    rejects(mutate, path, message)


# ------------------------------------------------------------------ numbers out of range


@pytest.mark.parametrize("value", [0, -30])
def test_duration_must_be_positive(value):
    rejects(lambda d: d["requests"][1].update(duration_min=value), "requests[1].duration_min",
            r"must be > 0")


@pytest.mark.parametrize("value, message", [(0, "must be >= 1"), (11, "must be <= 10")])
def test_priority_between_1_and_10(value, message):
    rejects(lambda d: d["requests"][0].update(priority=value), "requests[0].priority", message)


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["travel"]["minutes"]["office"].update(town_a=-1), "travel.minutes.office.town_a",
     "must be >= 0"),
    (lambda d: d["travel"]["minutes"]["office"].update(office=3), "travel.minutes.office.office",
     "a location to itself is 0 minutes"),
    (lambda d: d["experts"][0].update(max_visits_per_day=-1), "experts[0].max_visits_per_day",
     "must be >= 0"),
    (lambda d: d["locations"][0].update(lat=91, lon=0), "locations[0].lat",
     "must be between -90 and 90"),
    (lambda d: d.update(objective={"priority": -1}), "objective.priority", "must be >= 0"),
])
def test_number_out_of_range(mutate, path, message):
    rejects(mutate, path, message)


# ------------------------------------------------------------------ end before start


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["horizon"].update(start="2026-12-08", end="2026-12-07"), "horizon.end",
     r"must not be before horizon.start \(12/8\)"),
    (lambda d: d["requests"][0].update(window=["12:00", "11:00"]), "requests[0].window[1]",
     r"must be after window\[0\] \(12:00\)"),
    (lambda d: d["requests"][0].update(window=["11:00", "11:30"]), "requests[0].window",
     r"is shorter than duration_min \(60\)"),
    (lambda d: d["experts"][0].update(work_start="17:00", work_end="09:00"),
     "experts[0].work_end", r"must be after work_start \(17:00\)"),
    (lambda d: d["locations"][2].update(open="13:00", close="13:00"), "locations[2].close",
     r"must be after open \(13:00\)"),
    (lambda d: d["requests"][0].update(earliest="2026-12-07", latest="2026-12-06"),
     "requests[0].latest", "12/6 is outside the horizon 12/7 – 12/7"),
])
def test_end_before_start(mutate, path, message):
    rejects(mutate, path, message)


def test_latest_before_earliest_inside_the_horizon():
    def mutate(d):
        d["horizon"]["end"] = "2026-12-09"
        d["requests"][0].update(earliest="2026-12-09", latest="2026-12-08")
    rejects(mutate, "requests[0].latest", r"must not be before earliest \(12/9\)")


# ------------------------------------------------------------------ empty lists


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d.update(locations=[]), "locations"),
    (lambda d: d.update(experts=[]), "experts"),
    (lambda d: d["requests"][0].update(fields=[]), "requests[0].fields"),
    (lambda d: d["experts"][0].update(fields=[]), "experts[0].fields"),
    (lambda d: d["requests"][0].update(
        fixed={"experts": [], "date": "2026-12-07", "start": "09:00"}),
     "requests[0].fixed.experts"),
    (lambda d: d["horizon"].update(blackouts=[{"date": "2026-12-07", "experts": []}]),
     "horizon.blackouts[0].experts"),
])
def test_empty_list(mutate, path):
    rejects(mutate, path, "must not be empty")


def test_empty_request_list_is_a_valid_week():
    doc = load_doc("two_towns")
    doc["requests"] = []
    assert parse_plan_request(doc).requests == ()


# ------------------------------------------------------------------ dates outside the horizon


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d["requests"][0].update(earliest="2026-12-01"), "requests[0].earliest"),
    (lambda d: d["requests"][1].update(latest="2026-12-31"), "requests[1].latest"),
    (lambda d: d["requests"][0].update(
        fixed={"experts": ["pr-1"], "date": "2026-12-08", "start": "09:00"}),
     "requests[0].fixed.date"),
    (lambda d: d["horizon"].update(blackouts=[{"date": "2026-12-08"}]),
     "horizon.blackouts[0].date"),
    (lambda d: d["experts"][0].update(days=["2026-12-07", "2026-12-14"]), "experts[0].days[1]"),
])
def test_date_outside_the_horizon(mutate, path):
    rejects(mutate, path, r"12/\d\d? is outside the horizon 12/7 – 12/7$")


# ------------------------------------------------------------------ duplicate ids


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["locations"].append({"id": "town_a", "name": "again"}), "locations[3].id",
     r"duplicate location id 'town_a' \(first at locations\[1\]\.id\)"),
    (lambda d: d["experts"].append({"id": "pr-1", "fields": ["data"], "base": "office"}),
     "experts[1].id", r"duplicate expert id 'pr-1' \(first at experts\[0\]\.id\)"),
    (lambda d: d["requests"].append(req("a1", "town_b")), "requests[2].id",
     r"duplicate request id 'a1' \(first at requests\[0\]\.id\)"),
    (lambda d: d["experts"][0].update(fields=["pr", "pr"]), "experts[0].fields",
     "lists a field twice"),
])
def test_duplicate_id(mutate, path, message):
    rejects(mutate, path, message)


# ------------------------------------------------------------------ wrong types


@pytest.mark.parametrize("mutate, path, message", [
    (lambda d: d["requests"][0].update(duration_min="60"), "requests[0].duration_min",
     "must be a whole number, got '60'"),
    (lambda d: d["requests"][0].update(duration_min=60.5), "requests[0].duration_min",
     "must be a whole number"),
    (lambda d: d["requests"][0].update(priority=True), "requests[0].priority",
     "must be a whole number, got True"),
    (lambda d: d["requests"][0].update(mode="visit"), "requests[0].mode",
     r"must be 'onsite' or 'online' \(訪問 / オンライン\), got 'visit'"),
    (lambda d: d["requests"][0].update(fields="pr"), "requests[0].fields",
     "must be a list, got string"),
    (lambda d: d["requests"][0].update(window="09:00-12:00"), "requests[0].window",
     r"must be \[start, end\]"),
    (lambda d: d["requests"][0].update(window=["9:00", "12:00"]), "requests[0].window[0]",
     "must be a time HH:MM, got '9:00'"),
    (lambda d: d["experts"][0].update(work_start="25:00"), "experts[0].work_start",
     "must be a time HH:MM"),
    (lambda d: d["horizon"].update(start="2026-13-01"), "horizon.start",
     "must be a date YYYY-MM-DD, got '2026-13-01'"),
    (lambda d: d["horizon"].update(end=20261207), "horizon.end",
     "must be a date YYYY-MM-DD, got number"),
    (lambda d: d["horizon"].update(skip_holidays="yes"), "horizon.skip_holidays",
     "must be true or false"),
    (lambda d: d["locations"][0].update(lat="33.8", lon=132.7), "locations[0].lat",
     "must be a number"),
    (lambda d: d["requests"].__setitem__(1, 5), "requests[1]", "must be an object, got number"),
    (lambda d: d.update(horizon=[]), "horizon", "must be an object, got list"),
    (lambda d: d["experts"][0].update(days="2026-12-07"), "experts[0].days",
     "must be a list of dates"),
    (lambda d: d["requests"][0].update(confidential="no"), "requests[0].confidential",
     "must be true or false"),
])
def test_wrong_type(mutate, path, message):
    rejects(mutate, path, message)


def test_every_problem_is_reported_in_document_order():
    def mutate(d):
        d["requests"][0]["duration_min"] = 0
        d["requests"][1]["priority"] = 42
        d["requests"][1]["location"] = "nowhere"
    err = rejects(mutate, "requests[0].duration_min", "must be > 0")
    paths = [p.path for p in err.problems]
    assert paths == ["requests[0].duration_min", "requests[1].location", "requests[1].priority"]
    assert str(err) == "requests[0].duration_min: must be > 0 (and 2 more)"


def test_fixed_visit_must_name_one_expert_per_field():
    rejects(lambda d: d["requests"][0].update(
        fixed={"experts": ["pr-1", "pr-1"], "date": "2026-12-07", "start": "09:00"}),
        "requests[0].fixed.experts", "names 2 experts for 1 field$")


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", ["two_towns", "joint_visit", "island",
                                  "format_example_request_complete"])
def test_request_round_trip(name):
    first = problem_of(name)
    doc = plan_request_to_dict(first)
    again = parse_plan_request(json.loads(json.dumps(doc)))
    assert again == first
    assert plan_request_to_dict(again) == doc


def test_generated_ehime_week_round_trip():
    week = ehime_week("2026-12-07", seed=3, requests_per_week=12)
    assert parse_plan_request(plan_request_to_dict(week)) == week


def test_format_md_request_example_is_accepted_unchanged():
    """The spec's own example names the office and 八幡浜市 without listing them (bundled Ehime
    codes fill them in) and fixes r1 to an expert it does not list: accepted, and the plan
    says why the published visit cannot be kept."""
    p = parse_plan_request(json.loads((DATA / "format_example_request.json").read_text("utf-8")))
    assert {loc.id for loc in p.locations} == {"382019", "380008", "382043"}
    assert p.location_by_id["382043"].name == "八幡浜市"
    plan = solve(p)
    assert plan.status == "infeasible"
    assert [u.request for u in plan.unscheduled] == ["r1"]
    assert plan.unscheduled[0].codes == ("fixed_conflict",)


def test_fixed_visit_with_an_unlisted_expert_is_explained_not_rejected():
    doc = load_doc("two_towns")
    doc["requests"][0]["fixed"] = {"experts": ["pr-9"], "date": "2026-12-07", "start": "10:00"}
    plan = solve(parse_plan_request(doc))
    assert plan.status == "infeasible"
    u = next(u for u in plan.unscheduled if u.request == doc["requests"][0]["id"])
    assert "'pr-9', who is not among the request's experts" in u.reasons[0]


def test_unlisted_location_that_is_not_a_bundled_code_is_still_an_error():
    doc = load_doc("two_towns")
    doc["requests"][0]["location"] = "999999"
    with pytest.raises(InputError, match=r"requests\[0\]\.location: unknown location '999999'"):
        parse_plan_request(doc)


def test_format_md_request_example_fields():
    p = problem_of("format_example_request_complete")
    q = p.request_by_id["r1"]
    assert (q.window, q.fixed.start, q.priority) == ((13 * 60, 17 * 60), 13 * 60 + 30, 7)
    assert p.horizon.blackouts[0].applies_to("security-1")
    assert p.experts[0].max_onsite_days == 3 and len(p.experts[0].days) == 3
    assert p.travel["380008"]["382043"] == 95


def test_format_md_plan_example_round_trip():
    doc = json.loads((DATA / "format_example_plan.json").read_text("utf-8"))
    plan = parse_plan(doc)
    assert plan.status == "optimal" and plan.objective == plan.bound == 6810
    assert plan.routes[0].leave == 11 * 60 + 55 and plan.routes[0].return_ == 16 * 60 + 35
    assert plan.unscheduled[0].request == "r9"
    again = parse_plan(json.loads(json.dumps(plan_to_dict(plan))))
    assert again == plan


def test_solved_plan_round_trip(two_towns):
    plan = solve_checked(two_towns)
    again = parse_plan(json.loads(json.dumps(plan_to_dict(plan), ensure_ascii=False)))
    assert again.visits == plan.visits and again.routes == plan.routes
    assert again.unscheduled == plan.unscheduled and dict(again.kpis) == dict(plan.kpis)
    assert (again.status, again.objective, again.bound) == (plan.status, plan.objective,
                                                             plan.bound)


@pytest.mark.parametrize(("key", "value", "read"), [
    ("mode", "訪問", "onsite"), ("mode", "オンライン", "online"),
    ("earliest", "2026/12/7", dt.date(2026, 12, 7)),
    ("latest", "2026年12月7日", dt.date(2026, 12, 7)),
])
def test_a_request_reads_dates_and_modes_as_the_sheet_does(key, value, read):
    doc = load_doc("two_towns")
    doc["requests"][0][key] = value
    assert getattr(parse_plan_request(doc).requests[0], key) == read


def test_priority_defaults_to_5_as_in_the_sheet():
    doc = load_doc("two_towns")
    doc["requests"][0].pop("priority")
    assert parse_plan_request(doc).requests[0].priority == 5


def test_a_day_long_consultation_is_the_limit_everywhere():
    from engine.readings import MAX_DURATION_MIN

    rejects(lambda d: d["requests"][0].update(duration_min=MAX_DURATION_MIN + 1),
            "requests[0].duration_min", f"must be <= {MAX_DURATION_MIN}")


def test_the_solver_block_is_typed_and_written_as_given() -> None:
    """plan/1's ``solver`` is read into a ``SolveInfo``: the keys the format names as typed
    fields, any other key (and a named one given as null) kept as it came, so the block
    written is the block read."""
    from engine.model import SolveInfo

    doc = plan_to_dict(solve(problem_of(load_doc("two_towns"))))
    block = {**doc["solver"], "gap": 0.25, "parts": 3, "name": "a peer", "moved": None}
    plan = parse_plan({**doc, "solver": block})
    assert isinstance(plan.solver, SolveInfo)
    assert plan.solver.gap == 0.25 and plan.solver.parts == 3 and plan.solver.seed == 0
    assert plan.solver.extra == {"name": "a peer", "moved": None}
    assert plan_to_dict(plan)["solver"] == block


@pytest.mark.parametrize("mutate, path, en, ja", [
    (lambda d: d["requests"][0].update(earliest="2026-12-01"), "requests[0].earliest",
     "12/1 is outside the horizon 12/7 – 12/7", "12/1 は計画期間 12/7 – 12/7 の外です"),
    (lambda d: d["horizon"].update(start="2026-12-08", end="2026-12-07"), "horizon.end",
     "must not be before horizon.start (12/8)", "開始日 12/8 より前にはできません"),
    (lambda d: (d["horizon"].update(end="2026-12-09"),
                d["requests"][0].update(earliest="2026-12-09", latest="2026-12-08")),
     "requests[0].latest", "must not be before earliest (12/9)",
     "earliest（12/9）より前にはできません"),
])
def test_dates_in_messages_read_as_month_and_day_in_both_languages(mutate, path, en, ja):
    """A date a person reads is written 12/7, as the planner's reasons write it; the path
    still names the field."""
    err = rejects(mutate, path, re.escape(en))
    [p] = [p for p in err.problems if p.path == path]
    assert (p.text(), p.text("ja")) == (f"{path}: {en}", f"{path}: {ja}")
