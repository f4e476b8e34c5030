"""Why a request is not in the published plan, told to its municipality without naming any
other municipality's request, place or time.

The planner's reasons (``Unscheduled.reasons``) cite the visits a request gave way to, with
their places and times; the centre sees them in full. A municipality sees one sentence per
reason code instead, in Japanese and English.

Examples
--------
>>> municipality_reasons(["gave_way"])[0]["code"]
'gave_way'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CODE_TEXT", "municipality_reasons"]

#: Reason code → (English, Japanese), general enough to name nobody else.
CODE_TEXT: dict[str, tuple[str, str]] = {
    "no_workable_day": ("no expert with the needed field works on the requested dates",
                        "希望期間に必要な分野の専門家が稼働できる日がありません"),
    "drive_cap": ("the round trip is longer than the expert's daily driving cap",
                  "往復の運転時間が専門家の1日の上限を超えます"),
    "cap_zero": ("on-site visits are not possible here or for this expert (cap 0)",
                 "訪問の上限が 0 のため訪問できません"),
    "no_time": ("no slot fits the travel, working hours, opening hours and the window",
                "移動・勤務時間・開庁時間・希望時間帯の中に枠が取れません"),
    "joint_no_common_time": ("the experts of this joint visit have no common free time",
                             "合同訪問の専門家に共通の空き時間がありません"),
    "gave_way": ("other visits of equal or higher priority took the experts' time",
                 "優先度が同じか高い他の訪問が専門家の時間を使っています"),
    "gave_way_combination": ("serving it would mean dropping other visits worth more in total",
                             "対応すると合計でより価値のある他の訪問を外すことになります"),
    "expert_days_full": ("the expert's contracted visit days are all planned",
                         "専門家の契約訪問日はすべて計画済みです"),
    "expert_total_full": ("the expert's on-site visits for the period are all planned",
                          "専門家の期間中の訪問上限に達しています"),
    "expert_day_full": ("the expert already makes the most visits allowed that day",
                        "専門家はその日の訪問上限に達しています"),
    "location_day_full": ("your office already hosts the most visits allowed that day",
                          "その日の受け入れ上限に達しています"),
    "drive_cap_full": ("adding it would exceed the expert's daily driving cap",
                       "追加すると専門家の1日の運転上限を超えます"),
    "expert_day_taken": ("the expert's day is already full", "専門家のその日の予定が埋まっています"),
    "after_not_served": ("it follows an earlier session of its series, which is not in the plan",
                         "続きの回のため、前回が計画に入らない間は計画に入りません"),
    "after_no_date": ("no date in the agreed gap after the earlier session of its series fits",
                      "前回から決められた日数の範囲に、合う日がありません"),
    "late_cost": ("every date still open is so long after the due date that it would cost more "
                  "than it is worth", "残っている日はすべて期限から大きく遅れ、遅延の費用が対応の価値を上回ります"),
    "overtime_cost": ("it fits only so late in the day that the expert's overtime would cost more "
                      "than it is worth", "遅い時間にしか入らず、専門家の残業の費用が対応の価値を上回ります"),
}

_OTHER = ("it did not fit in this week's plan", "今週の計画に入りませんでした")


def municipality_reasons(codes: Iterable[str]) -> list[dict[str, str]]:
    """One ``{"code", "reason", "reason_ja"}`` per distinct code, in order."""
    out, seen = [], set()
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        en, ja = CODE_TEXT.get(code, _OTHER)
        out.append({"code": code, "reason": en, "reason_ja": ja})
    return out or [{"code": "other", "reason": _OTHER[0], "reason_ja": _OTHER[1]}]
