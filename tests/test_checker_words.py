"""The checker's messages as people read them: in English and Japanese, places by name (never a
six-digit code), experts by name, requests by place and subject (never an id), dates as 12/7
(never 2026-12-07). Each broken plan here breaks one kind of rule; every message it draws is
looked at, and the one of the rule broken is read whole.

The week: one PR expert, 広報担当 山田, at the prefectural office (愛媛県); 上島町 30 min away,
今治市 45 min, 20 min apart; on Monday 12/7 r-kami (60 min, 「広報誌の刷新」) in 上島町 and
r-ima (90 min, 「SNS運用の相談」) in 今治市.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from engine.checker import Violation, check_plan
from engine.model import Break, Plan, Route, Visit
from tests.helpers import build_plan, problem_of, t

MON = dt.date(2026, 12, 7)
IDS = ("r-kami", "r-ima", "pr-1")


def week(**expert: Any) -> dict[str, Any]:
    return {
        "format": "plan-request/1",
        "horizon": {"start": "2026-12-07", "end": "2026-12-08"},
        "locations": [{"id": code, "name": name, "open": "08:30", "close": "17:15"}
                      for code, name in (("380008", "愛媛県"), ("383562", "上島町"),
                                         ("382027", "今治市"))],
        "experts": [{"id": "pr-1", "name": "広報担当 山田", "fields": ["pr"], "base": "380008",
                     "work_start": "08:30", "work_end": "17:15", **expert}],
        "requests": [
            {"id": "r-kami", "location": "383562", "fields": ["pr"], "mode": "onsite",
             "duration_min": 60, "priority": 5, "title": "広報誌の刷新"},
            {"id": "r-ima", "location": "382027", "fields": ["pr"], "mode": "onsite",
             "duration_min": 90, "priority": 3, "title": "SNS運用の相談"}],
        "travel": {"minutes": {"380008": {"383562": 30, "382027": 45},
                               "383562": {"380008": 30, "382027": 20},
                               "382027": {"380008": 45, "383562": 20}}},
    }


def kami(start: str = "09:00", **kw: Any) -> Visit:
    s = t(start)
    return Visit(**{"request": "r-kami", "experts": ("pr-1",), "location": "383562",
                    "mode": "onsite", "date": MON, "start": s, "end": s + 60, **kw})


def ima(start: str = "10:20", **kw: Any) -> Visit:
    s = t(start)
    return Visit(**{"request": "r-ima", "experts": ("pr-1",), "location": "382027",
                    "mode": "onsite", "date": MON, "start": s, "end": s + 90, **kw})


def read_by_people(v: Violation) -> None:
    """Both messages are there and name nothing by id, code or ISO date."""
    assert v.message and v.message_ja and v.message != v.message_ja, v
    for text in (v.message, v.message_ja):
        assert not re.search(r"\d{6}", text), text
        assert not re.search(r"\d{4}-\d\d-\d\d", text), text
        assert not any(i in text for i in IDS), text
    if v.date is not None:
        assert v.message.startswith(("広報担当 山田, 12/7: ", "12/7: ")), v.message
        assert v.message_ja.startswith(("広報担当 山田、12/7: ", "12/7: ")), v.message_ja


def broken(plan: Plan, rule: str, **expert: Any) -> Violation:
    """The first violation of ``rule`` by ``plan``, every message it draws read first."""
    found = check_plan(problem_of(week(**expert)), plan)
    for v in found:
        read_by_people(v)
    return [v for v in found if v.rule == rule][0]


@pytest.fixture
def problem():
    return problem_of(week())


def test_the_reference_plan_is_valid(problem):
    assert check_plan(problem, build_plan(problem, [kami(), ima()])) == []


def test_two_consultations_at_once(problem):
    plan = build_plan(problem, [kami("09:00"), ima("09:30", location="382027",
                                                    mode="online")])
    v = broken(plan, "double_booking")
    assert v.message == ("広報担当 山田, 12/7: 上島町 (Kamijima) 「広報誌の刷新」 09:00–10:00 "
                         "overlaps 今治市 (Imabari) 「SNS運用の相談」 09:30–11:00")
    assert v.message_ja == ("広報担当 山田、12/7: 上島町「広報誌の刷新」 09:00–10:00 と "
                            "今治市「SNS運用の相談」 09:30–11:00 が重なっています")


def test_too_little_time_to_drive_between_stops(problem):
    v = broken(build_plan(problem, [kami(), ima("10:05")]), "travel_between_stops")
    assert v.message == ("広報担当 山田, 12/7: 上島町 (Kamijima) 「広報誌の刷新」 ends 10:00 and "
                         "今治市 (Imabari) 「SNS運用の相談」 starts 10:05: 5 min for the 20-min "
                         "drive from 上島町 (Kamijima) to 今治市 (Imabari)")
    assert "上島町から今治市への移動 20 分に足りません" in v.message_ja


def test_outside_the_working_hours(problem):
    plan = build_plan(problem, [kami("16:30"), ima("10:20")])
    v = broken(plan, "working_hours")          # (the drive home ends late too)
    assert v.message == ("広報担当 山田, 12/7: 上島町 (Kamijima) 「広報誌の刷新」 16:30–17:30 is "
                         "outside the working hours 08:30–17:15")
    assert v.message_ja == ("広報担当 山田、12/7: 上島町「広報誌の刷新」 16:30–17:30 が勤務時間 "
                            "08:30–17:15 の外です")
    v = broken(plan, "location_hours")
    assert v.message.endswith("is outside the opening hours 08:30–17:15 of 上島町 (Kamijima)")
    assert v.message_ja.endswith("が上島町の受付時間 08:30–17:15 の外です")


def test_over_a_cap(problem):
    plan = build_plan(problem, [kami(), ima()])
    v = broken(plan, "cap_expert_day", max_visits_per_day=1)
    assert (v.message, v.message_ja) == ("広報担当 山田, 12/7: 2 on-site visits, cap 1",
                                         "広報担当 山田、12/7: 現地訪問が 2 件です（上限 1 件）")
    v = broken(plan, "cap_drive", max_drive_minutes_per_day=60)
    assert v.message_ja == "広報担当 山田、12/7: 運転が 95 分です（上限 60 分）"


def test_a_lunch_break_in_a_consultation(problem):
    lunch = {"lunch": {"minutes": 45, "window": ["11:00", "14:00"]}}
    plan = build_plan(problem, [kami(), ima()])
    plan = dataclasses.replace(plan, breaks=(Break("pr-1", MON, t("11:00"), t("11:45")),))
    v = broken(plan, "lunch", **lunch)
    assert v.message == ("広報担当 山田, 12/7: lunch 11:00–11:45 overlaps 今治市 (Imabari) "
                         "「SNS運用の相談」 10:20–11:50")
    assert v.message_ja == ("広報担当 山田、12/7: 昼休憩 11:00–11:45 が 今治市「SNS運用の相談」 "
                            "10:20–11:50 と重なっています")


def test_a_night_where_the_expert_may_not_stay(problem):
    plan = build_plan(problem, [kami(), ima()])
    [r] = plan.routes
    away = dataclasses.replace(r, end_at="382027", return_=r.return_ - 45,
                               drive_minutes=r.drive_minutes - 45)
    tue = Route("pr-1", MON + dt.timedelta(days=1), t("08:30"), t("09:15"), (), 45,
                start_at="382027")
    v = [v for v in check_plan(problem, dataclasses.replace(plan, routes=(away, tue)))
         if v.rule == "nights"][0]
    read_by_people(v)
    assert v.message == ("広報担当 山田, 12/7: ends at 今治市 (Imabari), where the expert may not "
                         "stay the night")
    assert v.message_ja == "広報担当 山田、12/7: 今治市で一日を終えていますが、そこには宿泊できません"


def test_dates_and_fields_are_named_as_people_read_them(problem):
    doc = week()
    doc["requests"][0].update(earliest="2026-12-08", fields=["pr", "data"])
    p = problem_of(doc)
    found = check_plan(p, build_plan(p, [kami(), ima()]))
    for v in found:
        read_by_people(v)
    [dates] = [v for v in found if v.rule == "request_dates"]
    assert dates.message == ("12/7: 上島町 (Kamijima) 「広報誌の刷新」 is outside the requested "
                             "dates 12/8–12/8")
    [fields] = [v for v in found if v.rule == "fields"][:1]
    assert "'PR / marketing'" in fields.message and "「広報・マーケティング」" in fields.message_ja
