"""Nights away (``experts[].overnight``): the format reads and writes them, the planner takes a
night where it pays and only then, in every formulation, as the brute force does; trips keep
their length; the checker names a broken trip."""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import replace
from typing import Any

import pytest
from ortools.sat.python import cp_model

from engine.checker import check_plan
from engine.format import parse_plan, parse_plan_request, plan_request_to_dict, plan_to_dict
from engine.tables import plan_tables
from engine.travel import TravelTimes
from tests.bruteforce import best_plan
from tests.helpers import (
    FORMULATIONS,
    assert_valid,
    codes_of,
    day_checks,
    refused_at,
    solve_checked,
)

MATSUYAMA, UWAJIMA, AINAN = "382019", "382035", "385069"


def nanyo_round(night_cost: int) -> dict[str, Any]:
    """A two-day round of 南予 from 松山: 宇和島 on Monday afternoon, 愛南 on Tuesday morning
    (88 min 松山 → 宇和島, 42 min 宇和島 → 愛南, 119 min 愛南 → 松山). Day trips drive
    176 + 238 = 414 min; a night in 宇和島 drives 88 + 42 + 119 = 249 min."""
    return {
        "format": "plan-request/1",
        "horizon": {"start": "2026-12-07", "end": "2026-12-08"},
        "locations": [{"id": x} for x in (MATSUYAMA, UWAJIMA, AINAN)],
        "experts": [{"id": "e1", "name": "中村", "fields": ["pr"], "base": "松山市",
                     "work_start": "08:30", "work_end": "17:15",
                     "overnight": {"places": ["宇和島市"], "night_cost": night_cost,
                                   "max_nights": 1}}],
        "requests": [
            {"id": "r1", "location": UWAJIMA, "fields": ["pr"], "mode": "onsite",
             "duration_min": 120, "priority": 5, "earliest": "2026-12-07",
             "latest": "2026-12-07", "window": ["13:30", "17:00"]},
            {"id": "r2", "location": AINAN, "fields": ["pr"], "mode": "onsite",
             "duration_min": 120, "priority": 5, "earliest": "2026-12-08",
             "latest": "2026-12-08", "window": ["10:30", "13:00"]}],
        "objective": {"priority": 1000, "drive_minute": 10},
    }


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_a_night_in_uwajima_beats_two_return_drives(formulation: str) -> None:
    problem = parse_plan_request(nanyo_round(1000))
    plan = solve_checked(problem, model=FORMULATIONS[formulation])
    assert plan.status == "optimal"
    monday, tuesday = sorted(plan.routes, key=lambda r: r.date)
    assert (monday.start_at, monday.end_at) == (None, UWAJIMA)
    assert (tuesday.start_at, tuesday.end_at) == (UWAJIMA, None)
    assert monday.drive_minutes + tuesday.drive_minutes == 249
    assert plan.kpis["nights"] == 1 and plan.kpis["night_cost"] == 1000
    assert plan.objective == 10 * 1000 - 10 * 249 - 1000 == best_plan(problem)


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_no_night_when_it_costs_more_than_it_saves(formulation: str) -> None:
    problem = parse_plan_request(nanyo_round(3000))       # saves 1650, costs 3000
    plan = solve_checked(problem, model=FORMULATIONS[formulation])
    assert plan.status == "optimal"
    assert all(r.start_at is None and r.end_at is None for r in plan.routes)
    assert sum(r.drive_minutes for r in plan.routes) == 414
    assert plan.kpis["nights"] == 0
    assert plan.objective == 10 * 1000 - 10 * 414 == best_plan(problem)


def far_week(max_nights: int, late: bool = False) -> dict[str, Any]:
    """Three dates, a visit a day at a place two hours from the base (``late``: one visit
    only, on Monday at 15:00, which no day trip can bring back by 17:00)."""
    req = [{"id": f"r{i}", "location": "F", "fields": ["pr"], "mode": "onsite",
            "duration_min": 120, "priority": 5, "earliest": d, "latest": d}
           for i, d in enumerate(("2026-12-07", "2026-12-08", "2026-12-09"))]
    if late:
        req = [{**req[0], "window": ["15:00", "17:00"]}]
    return {"format": "plan-request/1",
            "horizon": {"start": "2026-12-07", "end": "2026-12-09"},
            "locations": [{"id": "B", "name": "本部"}, {"id": "F", "name": "遠方町"}],
            "experts": [{"id": "e1", "fields": ["pr"], "base": "B", "work_start": "08:00",
                         "work_end": "17:00",
                         "overnight": {"places": "*", "night_cost": 10,
                                       "max_nights": max_nights}}],
            "requests": req, "travel": {"minutes": {"B": {"F": 120}, "F": {"B": 120}}},
            "objective": {"priority": 1000, "drive_minute": 1}}


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
@pytest.mark.parametrize("most, nights, drive", [(2, 2, 240), (1, 1, 480), (0, 0, 720)])
def test_a_trip_has_at_most_max_nights(formulation: str, most: int, nights: int,
                                       drive: int) -> None:
    problem = parse_plan_request(far_week(most))
    plan = solve_checked(problem, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and len(plan.visits) == 3
    assert plan.kpis["nights"] == nights and plan.kpis["drive_minutes"] == drive
    assert plan.objective == best_plan(problem)


@pytest.mark.parametrize("formulation", list(FORMULATIONS))
def test_the_day_after_a_night_drives_home_without_a_visit(formulation: str) -> None:
    problem = parse_plan_request(far_week(1, late=True))
    plan = solve_checked(problem, model=FORMULATIONS[formulation])
    assert plan.status == "optimal" and [v.request for v in plan.visits] == ["r0"]
    home = next(r for r in plan.routes if r.date == dt.date(2026, 12, 8))
    assert (home.start_at, home.stops, home.end_at, home.drive_minutes) == ("F", (), None, 120)
    assert plan.objective == best_plan(problem)
    table = plan_tables(problem, plan)["routes"]       # the routes table names the places
    assert list(table["end_at"]) == ["遠方町", ""] and list(table["start_at"]) == ["", "遠方町"]
    # without nights no day trip can make it: left out, with the reason the hours give
    alone = solve_checked(parse_plan_request(far_week(0, late=True)))
    assert not alone.visits and codes_of(alone, "r0") == ("no_time",)


def test_nights_are_written_and_read_back() -> None:
    doc = nanyo_round(1000)
    problem = parse_plan_request(doc)
    again = parse_plan_request(plan_request_to_dict(problem))
    assert again.experts[0].overnight == problem.experts[0].overnight
    assert problem.experts[0].overnight.places == (UWAJIMA,)       # type: ignore[union-attr]
    plan = solve_checked(problem)
    text = plan_to_dict(plan)
    assert [(r.get("start_at"), r.get("end_at")) for r in text["routes"]] == [
        (None, UWAJIMA), (UWAJIMA, None)]
    assert parse_plan(text).routes == plan.routes
    day_trips = solve_checked(parse_plan_request(nanyo_round(3000)))
    assert all("start_at" not in r and "end_at" not in r for r in plan_to_dict(day_trips)["routes"])


@pytest.mark.parametrize("change, path", [
    ({"places": ["宇和島市", "どこでもない町"]}, "experts[0].overnight.places[1]"),
    ({"places": "all"}, "experts[0].overnight.places"),
    ({"places": None}, "experts[0].overnight.places"),
    ({"max_nights": -1}, "experts[0].overnight.max_nights"),
    ({"night_cost": -5}, "experts[0].overnight.night_cost"),
    ({"nights": 2}, "experts[0].overnight.nights"),
])
def test_a_bad_overnight_is_refused_at_its_path(change: dict[str, Any], path: str) -> None:
    doc = nanyo_round(1000)
    night = doc["experts"][0]["overnight"]
    night.update(change)
    if change.get("places", 0) is None:
        del night["places"]
    refused_at(doc, path)


def test_the_checker_names_a_broken_trip() -> None:
    problem = parse_plan_request(nanyo_round(1000))
    plan = solve_checked(problem)
    monday, tuesday = sorted(plan.routes, key=lambda r: r.date)

    def rules(*routes: Any) -> set[str]:
        return {v.rule for v in check_plan(problem, replace(plan, routes=tuple(routes)))}

    # the day after the night starts at the base: not where the night was spent
    assert "nights" in rules(monday, replace(tuesday, start_at=None))
    # a night somewhere the expert may not stay
    assert "nights" in rules(replace(monday, end_at=AINAN), replace(tuesday, start_at=AINAN))
    # the last date of the horizon ends away
    assert "nights" in rules(monday, replace(tuesday, end_at=UWAJIMA))
    # a night not paid: the objective no longer matches the formula
    assert "objective" in {v.rule for v in check_plan(
        problem, replace(plan, objective=plan.objective + 1000, bound=plan.objective + 1000))}
    # trips longer than max_nights
    far = parse_plan_request(far_week(2))
    two = solve_checked(far)
    assert two.kpis["nights"] == 2
    one = replace(far, experts=(replace(far.experts[0], overnight=replace(
        far.experts[0].overnight, max_nights=1)),))      # type: ignore[arg-type]
    assert "nights" in {v.rule for v in check_plan(one, replace(two, kpis={}))}


def test_documents_without_overnight_plan_as_before() -> None:
    doc = copy.deepcopy(nanyo_round(1000))
    del doc["experts"][0]["overnight"]
    plan = solve_checked(parse_plan_request(doc))
    assert "nights" not in plan.kpis
    assert all(r.start_at is None and r.end_at is None for r in plan.routes)


def test_a_request_no_day_reaches_names_the_night_the_day_could_start_from() -> None:
    """奥町 on Tuesday, 09:00 at the latest: 150 min from the base, 90 min from 遠方町, where
    the expert may spend Monday night. Neither is early enough, and the reason says so from
    the nearest place the day can start — the night in 遠方町, not the base — in both
    languages; without nights it is the base's trip, as always."""
    doc = {"format": "plan-request/1",
           "horizon": {"start": "2026-12-07", "end": "2026-12-08"},
           "locations": [{"id": "B", "name": "本部"}, {"id": "F", "name": "遠方町"},
                         {"id": "G", "name": "奥町"}],
           "experts": [{"id": "e1", "fields": ["pr"], "base": "B", "work_start": "08:00",
                        "work_end": "17:00", "overnight": {"places": ["F"]}}],
           "requests": [{"id": "r0", "location": "G", "fields": ["pr"], "mode": "onsite",
                         "duration_min": 60, "priority": 5, "earliest": "2026-12-08",
                         "latest": "2026-12-08", "window": ["08:00", "10:00"]}],
           "travel": {"minutes": {"B": {"F": 120, "G": 150}, "F": {"B": 120, "G": 90},
                                  "G": {"B": 150, "F": 90}}}}
    plan = solve_checked(parse_plan_request(doc))
    [u] = plan.unscheduled
    assert u.codes == ("no_time",)
    assert "90 min there from a night in 遠方町" in u.reasons[0]
    assert "150 min on to the base leave no" in u.reasons[0] and "each way" not in u.reasons[0]
    assert "前夜の宿泊地（遠方町）から 90 分" in u.reasons_ja[0]
    assert "拠点まで 150 分" in u.reasons_ja[0] and "片道" not in u.reasons_ja[0]
    del doc["experts"][0]["overnight"]
    [u] = solve_checked(parse_plan_request(doc)).unscheduled
    assert u.codes == ("no_time",)
    assert "150 min each way from the base" in u.reasons[0]
    assert "拠点から片道 150 分" in u.reasons_ja[0]


@pytest.mark.parametrize("night_cost, drive_minute", [(6000, 1), (4000, 5)])
def test_the_overtime_reason_weighs_the_night_that_would_end_the_day_away(
        night_cost: int, drive_minute: int) -> None:
    """奥町 (2 h away) only at 16:00–17:00, worth 5000: home by 19:00 pays 120 min of overtime
    (12000). A night in 奥町 ends the day at 17:00: at 6000 it costs more than the visit earns
    too, and the reason says both; at 4000 it costs less, so overtime is no reason to leave the
    visit out (the drives are: 240 min at 5 a minute), and the reason does not claim it."""
    doc = {"format": "plan-request/1",
           "horizon": {"start": "2026-12-07", "end": "2026-12-08"},
           "locations": [{"id": "B", "name": "本部"}, {"id": "G", "name": "奥町"}],
           "experts": [{"id": "e1", "fields": ["pr"], "base": "B", "work_start": "08:00",
                        "work_end": "17:00",
                        "overtime": {"max_minutes": 180, "minute_cost": 100},
                        "overnight": {"places": ["G"], "night_cost": night_cost}}],
           "requests": [{"id": "r0", "location": "G", "fields": ["pr"], "mode": "onsite",
                         "duration_min": 60, "priority": 5, "earliest": "2026-12-07",
                         "latest": "2026-12-07", "window": ["16:00", "17:00"]}],
           "travel": {"minutes": {"B": {"G": 120}, "G": {"B": 120}}},
           "objective": {"priority": 1000, "drive_minute": drive_minute}}
    plan = solve_checked(parse_plan_request(doc))
    [u] = plan.unscheduled
    if night_cost > 5000:
        assert u.codes == ("overtime_cost",)
        assert "overtime (12000)" in u.reasons[0]
        assert "a night in 奥町 costs 6000, no less" in u.reasons[0]
        assert "奥町に宿泊しても費用は 6000" in u.reasons_ja[0]
    else:
        assert "overtime_cost" not in u.codes


def uwajima_late_and_ainan_early() -> dict[str, Any]:
    """Monday 15:00–17:00 in 宇和島 (88 min from 松山: no way home by 17:15) and Tuesday 09:15 in
    愛南 (119 min from 松山, 42 from 宇和島): both only with a night in 宇和島."""
    doc = nanyo_round(1000)
    doc["requests"][0]["window"] = ["15:00", "17:00"]
    doc["requests"][1].update(window=["09:15", "10:15"], duration_min=60)
    return doc


def test_the_day_check_times_a_day_from_where_it_starts_to_where_it_ends() -> None:
    """A day around a night is checked on its own from where it starts to where it ends (the
    choice is cut where it says no, so a day that ends away must not be checked as if it came
    home): with the night in 宇和島 both days fit, as tours and as circuits; coming home (a
    circuit's choice knows no times), neither does."""
    problem = parse_plan_request(uwajima_late_and_ainan_early())
    served = {"served_r1": 1, "served_r2": 1}
    night = f"night_e1_2026-12-07_{UWAJIMA}"
    both = {dt.date(2026, 12, 7), dt.date(2026, 12, 8)}
    for use_tours in (True, False):
        away = day_checks(problem, {**served, night: 1}, use_tours=use_tours)
        assert away == dict.fromkeys(both, True)
    home = day_checks(problem, {**served, night: 0}, use_tours=False)
    assert home == dict.fromkeys(both, False)
    plan = solve_checked(problem)
    assert plan.status == "optimal" and plan.objective == best_plan(problem)
    assert plan.kpis["visits"] == 2


def test_a_day_around_a_night_frees_its_drives_with_its_order() -> None:
    """The drive of each leg from or to a night's place follows from the day's order: a plan
    re-decided with the order free (the search's repairs, large-neighbourhood steps) frees
    those drives too, else the day is held to the order it had and no repair of it works."""
    from solvers.model import PlannerModel

    problem = parse_plan_request(nanyo_round(1000))
    model = PlannerModel(problem, TravelTimes(problem), use_tours=False)    # circuits
    model.build()
    around = [day for day in model.days.values() if day.ends is not None and day.drives]
    assert around
    for day in around:
        drives = {x.index for options in day.drives.values() for _, x in options
                  if isinstance(x, cp_model.IntVar)}
        assert drives and drives <= set(day.order_vars())


@pytest.mark.parametrize("night_cost", [1000, 1600, 3000, 10_000])
def test_a_night_is_taken_exactly_when_it_pays_with_or_without_the_bound(night_cost: int
                                                                        ) -> None:
    """On the 南予 round a night saves 1,650 of driving: below that cost it is taken; above,
    the day trips are the plan, and where even the relaxation cannot pay for the night
    (10,000 here) the week is its day trips proven without searching nights at all — in
    every case the brute force's optimum."""
    problem = parse_plan_request(nanyo_round(night_cost))
    plan = solve_checked(problem)
    assert plan.status == "optimal" and plan.objective == best_plan(problem)
    assert plan.kpis["nights"] == (1 if night_cost < 1650 else 0)
    assert (plan.solver.get("nights") == "cannot pay") == (night_cost == 10_000)


def test_a_week_where_no_night_can_pay_says_why_in_both_languages() -> None:
    """The relaxation bounds every plan at 9,580 before night costs (a stop at a night's
    place may need no drive into it): no plan gains more than 3,720 over the day trips'
    5,860, and a night costs 10,000. The plan's note says so with those numbers, none of
    them negative (a plan with a night would be worth at most −420: true, but no way to say
    it to a coordinator)."""
    from solvers.night_bound import nights_bound

    problem = parse_plan_request(nanyo_round(10_000))
    bound = nights_bound(problem)
    assert bound is not None and (bound.relaxation, bound.with_a_night) == (9580, -420)
    plan = solve_checked(problem)
    assert plan.solver["nights_bound"] == -420 and plan.solver["first_plan"] == "day trips"
    assert plan.messages[-1].startswith("No night away can pay this week")
    # a night costs 10,000; no plan gains more than 9,580 − 5,860 = 3,720 over the day trips
    assert "10,000" in plan.messages[-1] and "gain more than 3,720 over the day trips' 5,860" \
        in plan.messages[-1] and "-" not in plan.messages[-1].replace("day trips", "")
    assert plan.messages_ja[-1].startswith("今週は宿泊が割に合いません")
    assert all(x in plan.messages_ja[-1] for x in ("10,000", "5,860", "3,720", "9,580"))
    assert parse_plan(plan_to_dict(plan)).messages == plan.messages      # written and read


def test_without_a_bound_or_a_place_to_stay_no_night_is_ruled_out() -> None:
    """No expert who may stay away: no bound. Nights allowed for free: the bound rules out
    nothing the day trips do not reach."""
    from solvers.night_bound import nights_bound

    doc = nanyo_round(0)
    assert nights_bound(parse_plan_request(doc)) is not None
    assert not nights_bound(parse_plan_request(doc)).cannot_pay(5860)     # type: ignore[union-attr]
    del doc["experts"][0]["overnight"]
    assert nights_bound(parse_plan_request(doc)) is None


def test_day_trips_not_yet_proven_go_on_searching_when_no_night_can_pay() -> None:
    """Where the day trips ran out of their third of the time before their proof, and no
    night can pay, the rest of the time goes to the day trips, from their plan; the week's
    bound is theirs (no less than what a night could reach)."""
    from solvers.night_bound import NightsBound
    from solvers.planner import SolveOptions as Options
    from solvers.planner import _keep_to_day_trips, _without_nights

    problem = parse_plan_request(nanyo_round(10_000))
    trips = _without_nights(problem)
    days = solve_checked(trips)
    unproven = replace(days, status="feasible", bound=days.objective + 500)
    nights = NightsBound(days.objective, 10)        # a night could reach 5,850 at most
    plan = _keep_to_day_trips(problem, Options(time_limit=5), trips, unproven, nights, 0.0)
    assert plan.status == "feasible"          # t0 = 0: no time left to search again
    assert plan.bound == days.objective + 500 and plan.objective == days.objective
    plan = _keep_to_day_trips(problem, Options(time_limit=5), trips, unproven, nights,
                              time.perf_counter())
    assert plan.status == "optimal" and plan.objective == plan.bound == best_plan(problem)
    assert_valid(problem, plan)
