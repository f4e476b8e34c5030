"""The reasons given for published (fixed) visits that cannot be kept name experts by name,
places by name and dates as people read them (12/7), in English and Japanese: never an
expert's or a request's id, never an ISO date."""

from __future__ import annotations

import re
from typing import Any

from engine.travel import TravelTimes
from solvers.explain import Explainer
from tests.helpers import problem_of

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
