"""The words a coordinator reads, one word for one thing (docs/GLOSSARY.md).

Every screen, sheet, CSV and figure names a plan's figures through this module, so that the
terminal, the workbook and the charts cannot drift apart (the KPI sheet once said
「優先度の充足率」 for the sum the terminal calls 「優先度合計」). The English words are the
``msgid``s of the gettext catalogue; their Japanese is the catalogue's, and
``tests/test_glossary.py`` checks that docs/GLOSSARY.md says the same and that no retired word
(目的関数, 実行可能, 求解 …) is left in the catalogue.

Examples
--------
>>> from service.i18n import set_lang
>>> set_lang("ja"); status_word("optimal"), kpi_name("served_priority")
('最適（証明済み）', '優先度合計')
>>> figure_text("small_town_share", 0.485), figure_text("visits", 396.0)
('48.5%', '396')
"""

from __future__ import annotations

import math
from typing import Any

from service.i18n import N_, NC_, _, current_lang, translator

__all__ = ["JOB_STATES", "KPI_NAMES", "PERCENT_FIGURES", "REQUEST_STATES", "RETIRED",
           "STATE_CONTEXTS", "STATUS_WORDS", "TERMS", "figure_text", "kpi_name", "state_word",
           "state_words", "status_word"]

#: The plan's status as a coordinator reads it.
STATUS_WORDS = {
    "optimal": N_("optimal (proven)"),
    "feasible": N_("best found in time"),
    "infeasible": N_("some published visits released"),
    "error": N_("error"),
}

#: A plan job's state (``plan_jobs.status``) as the dashboard's job list names it.
JOB_STATES = {
    "queued": NC_("job state", "queued"),
    "running": NC_("job state", "running"),
    "done": NC_("job state", "done"),
    "failed": NC_("job state", "failed"),
    "cancelled": NC_("job state", "cancelled"),
}

#: A request's state (``requests.status``) as the dashboard's request list names it.
REQUEST_STATES = {
    "draft": NC_("request state", "draft"),
    "submitted": NC_("request state", "submitted"),
    "scheduled": NC_("request state", "scheduled"),
    "done": NC_("request state", "done"),
    "cancelled": NC_("request state", "cancelled"),
}

#: The catalogue's context of each kind of state: a job stopped (中止) and a request
#: withdrawn (取消) are both ``cancelled`` in English, two words in Japanese.
STATE_CONTEXTS = {"job": "job state", "request": "request state"}

#: Every key figure of a plan or a season, by its key in plan/1 ``kpis`` (or the season
#: summary), as a coordinator names it.
KPI_NAMES = {
    "visits": N_("visits and consultations"),
    "onsite_visits": N_("on-site visits"),
    "online_consultations": N_("online consultations"),
    "expert_visits": N_("expert-visits (two experts together count two)"),
    "served_priority": N_("priority total"),
    "small_town_priority": N_("priority total in small municipalities"),
    "small_town_share": N_("share to small municipalities"),
    "drive_minutes": N_("drive minutes"),
    "onsite_expert_days": N_("on-site days"),
    "onsite_days": N_("on-site days"),
    "unscheduled": N_("requests left out"),
    "requests": N_("requests"),
    "municipalities_served": N_("municipalities reached"),
    "municipalities_reached": N_("municipalities reached"),
    "municipalities": N_("municipalities"),
    "moved": N_("visits changed from the previous plan"),
    "coverage_shortfall": N_("consultations short of the floors"),
    "locations_below_floor": N_("municipalities below their floor"),
    "nights": N_("nights away"),
    "night_cost": N_("night cost"),
    "late_days": N_("days late"),
    "late_visits": N_("visits after their due date"),
    "overtime_minutes": N_("overtime minutes"),
    "objective": N_("plan score"),
    "bound": N_("ceiling"),
    # scenario sweeps (solvers.scenarios): shares of a run
    "served_priority_share": N_("share of priority served"),
    "coverage": N_("share of municipalities reached"),
    "small_share": N_("share to small municipalities"),
    "utilisation": N_("expert utilisation"),
}

#: The other words of the glossary (one concept each), so that the catalogue holds them all.
TERMS = {
    "plan_score": N_("plan score"),
    "ceiling": N_("ceiling"),
    "solve_time": N_("computing time"),
    "municipality": N_("municipality"),
    "expert": N_("expert"),
    "request": N_("request"),
    "onsite": N_("on-site"),
    "online": N_("online"),
    "priority": N_("priority"),
    "published": N_("published"),
    "left_out": N_("requests left out"),
    "small_town": N_("small municipality (under 50,000 people)"),
    "floor": N_("floor"),
    "changes": N_("Changes"),
    "plan_notes": N_("Notes on this plan"),
    "lunch": N_("lunch break"),
    "busy": N_("appointments"),
    "appointment": N_("appointment"),
    "due": N_("due date"),
    "after": N_("follow-up of"),
    "followups": N_("followed by"),
    "night": N_("night in {place}"),
    "start_at": N_("starts at"),
    "end_at": N_("ends at"),
    "day_end": N_("day ends"),
    "days": N_("Days"),
}

#: Figures that are shares (0–1) and read as percentages.
PERCENT_FIGURES = frozenset({"small_town_share", "served_priority_share", "coverage",
                             "small_share", "utilisation"})

#: Words the catalogue no longer uses: each had a plainer or a single word in the glossary.
RETIRED = ("目的関数", "目的値", "実行可能", "実行不可能", "求解", "対応した優先度の合計", "証明済みの上限",
           "小規模町村", "計画の評価値", "（該当なし）", "市町の割合", "現地訪問",
           "予定なし")


def status_word(status: str) -> str:
    """The plan's status (``optimal``, ``feasible``…) in the current language."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def state_word(kind: str, status: str, lang: str | None = None) -> str:
    """The state ``status`` of a ``kind`` (``job`` or ``request``) in ``lang`` (the current
    language by default), as the dashboard names it; an unknown state as it is.

    >>> state_word("job", "done", "ja"), state_word("request", "cancelled", "ja")
    ('完了', '取消')
    """
    states = JOB_STATES if kind == "job" else REQUEST_STATES
    if status not in states:
        return status
    return translator(lang or current_lang()).pgettext(STATE_CONTEXTS[kind], states[status])


def state_words(kind: str, status: str) -> tuple[str, str]:
    """``state_word`` in English and in Japanese, for a message given in both."""
    return state_word(kind, status, "en"), state_word(kind, status, "ja")


def kpi_name(key: str) -> str:
    """A figure's name in the current language (an unknown key as it is)."""
    return _(KPI_NAMES[key]) if key in KPI_NAMES else key


def figure_text(key: str, value: Any) -> str:
    """A figure as a coordinator reads it: shares as percentages (``48.5%``), counts as
    whole numbers with thousands separators (``1,895``), nothing for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if key in PERCENT_FIGURES:
        return f"{float(value) * 100:.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)
