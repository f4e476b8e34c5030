"""The reasons given for published (fixed) visits that cannot be kept name experts by name,
places by name and dates as people read them (12/7), in English and Japanese: never an
expert's or a request's id, never an ISO date; so do the plan's messages on the published
visits it released."""

from __future__ import annotations

import re
from typing import Any

from engine.model import fmt_time
from engine.travel import TravelTimes
from solvers.explain import Explainer
from solvers.planner import _NO_PLAN, _error_plan
from tests.helpers import problem_of, solve_checked

MACHINE = re.compile(r"pr-1|\b[ab]1\b|\bc1\b|2026-12-07")


def _explainer(doc: dict[str, Any], fixed: dict[str, str]) -> Explainer:
    doc["experts"][0]["name"] = "広報担当"
    for q in doc["requests"]:
        if q["id"] in fixed:
            q["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": fixed[q["id"]]}
    p = problem_of(doc)
    return Explainer(p, TravelTimes(p))


def _no_ids(*texts: str) -> None:
    for text in texts:
        assert not MACHINE.search(text), text


def test_a_fixed_start_the_expert_cannot_reach_names_the_expert_and_the_date(two_towns_doc):
    ex = _explainer(two_towns_doc, {"a1": "08:40"})    # the drive of 30 min from 08:30
    why = ex.released_fixed("a1", ())
    assert why.reasons[0].endswith(
        ": the fixed start 08:40 is outside 広報担当's feasible start times 09:00–15:45 on 12/7 "
        "(hours, window or the drive there and back)"), why.reasons[0]
    assert why.reasons_ja[0].endswith(
        ": 確定済みの開始 08:40 は 12/7 の 広報担当 が始められる時刻 09:00–15:45 の外です"
        "（勤務時間・希望時間帯・往復の移動）"), why.reasons_ja[0]
    _no_ids(*why.reasons, *why.reasons_ja)
    [first, *_] = ex.infeasible_fixed(["a1"])
    assert first.reasons_ja[0].startswith("確定済みの開始 08:40 は 12/7 の 広報担当")
    _no_ids(*first.reasons, *first.reasons_ja)


def test_fixed_visits_that_cannot_all_be_kept_are_named_as_visits(two_towns_doc):
    two_towns_doc["requests"].append({"id": "c1", "location": "town_a", "fields": ["pr"],
                                      "mode": "online", "duration_min": 30, "priority": 9})
    ex = _explainer(two_towns_doc, {"a1": "10:00", "b1": "10:30"})
    reasons = {u.request: u for u in ex.infeasible_fixed(["a1", "b1"])}
    a1, c1 = reasons["a1"], reasons["c1"]
    assert a1.reasons == ("the fixed visit on 12/7 at 10:00 (A町) conflicts with other fixed "
                          "visits or with a cap",)
    assert a1.reasons_ja == ("12/7 10:00 の確定済みの訪問（A町）は他の確定済みの訪問または上限と"
                             "衝突します",)
    assert "A町 12/7 10:00–11:00 (priority 5) [広報担当], B町 12/7 10:30–12:00 (priority 3) " \
           "[広報担当] cannot all be kept" in c1.reasons[0]
    assert "A町 12/7 10:00–11:00（優先度5） [広報担当]、B町 12/7 10:30–12:00（優先度3） [広報担当]" \
           in c1.reasons_ja[0]
    for u in reasons.values():
        _no_ids(*u.reasons, *u.reasons_ja)


def _titled(doc: dict[str, Any]) -> dict[str, Any]:
    doc["experts"][0]["name"] = "広報担当"
    doc["locations"][1]["name_en"] = "Town A"
    titles = {"a1": "広報誌の刷新", "b1": "SNS運用の相談"}
    for q in doc["requests"]:
        q["title"] = titles[q["id"]]
    return doc


def test_the_plan_message_on_released_visits_names_subject_place_and_expert(two_towns_doc):
    # Each can only be made at its published time, and they overlap: b1 (priority 3) goes.
    doc = _titled(two_towns_doc)
    for q, start, window in ((doc["requests"][0], "10:00", ["10:00", "11:00"]),
                             (doc["requests"][1], "10:30", ["10:30", "12:00"])):
        q["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": start}
        q["window"] = window
    plan = solve_checked(doc)
    assert plan.solver["released_fixed"] == ["b1"]
    assert plan.messages == (
        "the published visits cannot all be kept; released 1: B町 12/7 10:30–12:00「SNS運用の相談」"
        " (priority 3) [広報担当] clashes with A町 (Town A) 12/7 10:00–11:00「広報誌の刷新」"
        " (priority 5) [広報担当]: left out",)
    assert plan.messages_ja == (
        "公開済みの訪問をすべて守ることはできません。1 件を外しました: B町 12/7 10:30–12:00"
        "「SNS運用の相談」（優先度3） [広報担当] は A町 12/7 10:00–11:00「広報誌の刷新」（優先度5）"
        " [広報担当] と衝突するため外しました",)
    _no_ids(*plan.messages, *plan.messages_ja)


def test_the_plan_message_on_a_released_visit_planned_elsewhere_says_where(two_towns_doc):
    doc = _titled(two_towns_doc)
    doc["requests"][0]["fixed"] = {"experts": ["pr-1"], "date": "2026-12-07", "start": "08:40"}
    plan = solve_checked(doc)
    now = next(v for v in plan.visits if v.request == "a1")
    assert plan.messages[0].startswith(
        "the published visits cannot all be kept; released 1: A町 (Town A) 12/7 08:40–09:40"
        f"「広報誌の刷新」 (priority 5) [広報担当] cannot be kept: planned at 12/7 "
        f"{fmt_time(now.start)} instead"), plan.messages[0]
    assert f"「広報誌の刷新」（優先度5） [広報担当] はそのままでは守れないため 12/7 {fmt_time(now.start)} に変更しました" \
        in plan.messages_ja[0], plan.messages_ja[0]
    _no_ids(*plan.messages, *plan.messages_ja)


def test_the_message_when_no_release_is_found_names_the_fixed_visits(two_towns_doc):
    doc = _titled(two_towns_doc)
    ex = _explainer(doc, {"a1": "10:00", "b1": "10:30"})
    en, ja = ex.unreleased_messages(["a1", "b1"])
    assert en == ("the fixed visits A町 (Town A) 12/7 10:00–11:00「広報誌の刷新」 (priority 5) "
                  "[広報担当], B町 12/7 10:30–12:00「SNS運用の相談」 (priority 3) [広報担当] "
                  "cannot all be kept and no plan releasing some of them was found within the "
                  "time limit",)
    assert ja[0].startswith("確定済みの訪問 A町 12/7 10:00–11:00「広報誌の刷新」（優先度5） [広報担当]、"
                            "B町 12/7 10:30–12:00「SNS運用の相談」（優先度3） [広報担当] をすべて")
    _no_ids(*en, *ja)


def test_a_plan_not_found_in_time_says_so_in_both_languages(two_towns):
    plan = _error_plan(two_towns, _NO_PLAN, 1.0, {})
    assert plan.messages == ("no plan found within the time limit",)
    assert plan.messages_ja == ("制限時間内に計画が見つかりませんでした",)
    assert plan.unscheduled[0].reasons_ja == ("未計画: 制限時間内に計画が見つかりませんでした",)
