import datetime as dt

from engine.calendar import date_status, is_holiday, workable_dates
from engine.model import Blackout, Expert, Horizon, PlanRequest

D = dt.date


def _problem(skip=True, blackouts=(), days=None):
    h = Horizon(D(2026, 11, 19), D(2026, 11, 27), skip, tuple(blackouts))
    e = Expert("e", ("pr",), "a", days=days)
    return PlanRequest(h, (), (e,), ()), e


def test_weekends_and_labour_thanksgiving_are_not_workable():
    p, e = _problem()
    got = workable_dates(p, e)
    assert D(2026, 11, 21) not in got and D(2026, 11, 22) not in got  # Sat, Sun
    assert is_holiday(D(2026, 11, 23))                                 # 勤労感謝の日
    assert D(2026, 11, 23) not in got
    # 11/23 2026 is a Monday, so no substitute holiday on the 24th
    assert D(2026, 11, 24) in got


def test_holidays_workable_when_not_skipped():
    p, e = _problem(skip=False)
    assert D(2026, 11, 23) in workable_dates(p, e)


def test_blackout_for_one_expert_and_for_everyone():
    p, e = _problem(blackouts=[Blackout(D(2026, 11, 25), ("e",), "camp"),
                               Blackout(D(2026, 11, 26), ("*",), "")])
    got = workable_dates(p, e)
    assert D(2026, 11, 25) not in got and D(2026, 11, 26) not in got
    s = date_status(p.horizon, e, D(2026, 11, 25))
    assert not s.workable and "camp" in s.reason
    other = Expert("x", ("pr",), "a")
    assert date_status(p.horizon, other, D(2026, 11, 25)).workable


def test_expert_days_restrict():
    p, e = _problem(days=(D(2026, 11, 19),))
    assert workable_dates(p, e) == [D(2026, 11, 19)]


def test_ics_carries_a_vtimezone_for_every_tzid_it_uses(tmp_path):
    """RFC 5545 §3.6.5: each TZID a calendar uses is defined by a VTIMEZONE in it."""
    import re

    from icalendar import Calendar

    from engine.ical import expert_calendar
    from tests.helpers import problem_of, solve_checked

    problem = problem_of("two_towns")
    plan = solve_checked(problem)
    expert = next(e for v in plan.visits for e in v.experts)
    data = expert_calendar(problem, plan, expert)
    text = data.decode()
    used = set(re.findall(r"TZID=([^:;]+)", text))
    assert used == {"Asia/Tokyo"}
    cal = Calendar.from_ical(data)
    zones = [c for c in cal.walk("VTIMEZONE")]
    assert {str(z["TZID"]) for z in zones} == used
    std = zones[0].walk("STANDARD")[0]
    assert std["TZOFFSETTO"].to_ical() in ("+0900", b"+0900")
