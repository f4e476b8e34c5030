"""Is a plan valid? An independent check of every rule of docs/FORMAT.md ("A plan is valid when").

The checker knows nothing of how a plan was made: it reads the problem and the plan and lists
what is wrong, so it catches a solver's mistakes as well as a hand-edited plan's. Each rule is
one function named after it whose docstring states the rule the way a coordinator would.

The rules live in one module per group: ``requests`` (what was asked), ``timing`` (dates and
hours), ``days`` (an expert's day: one thing at a time, drives, routes), ``nights`` (nights
away), ``caps``, ``settled``
(the week's past and its published visits) and ``figures`` (KPIs, objective, bound,
coverage); ``context`` holds what they share. ``RULES`` lists them in the order they are
checked.

A violation names its rule and the request, expert and date it is about by id, for programs,
and says what is wrong for people in English and Japanese (``message``, ``message_ja``;
``text(lang)``): experts, places and requests by name, dates as ``12/7``.

Examples
--------
>>> violations = check_plan(problem, plan)            # doctest: +SKIP
>>> [v.rule for v in violations]                       # doctest: +SKIP
['travel_between_stops']
>>> violations[0].text("ja")                           # doctest: +SKIP
'広報担当、12/7: 上島町「広報相談」 の終了 10:00 から今治市「SNS講座」 の開始 10:05 まで 5 分しかなく、…'
>>> assert_valid(problem, plan)                        # doctest: +SKIP
"""

from __future__ import annotations

from engine.checker.breaks import lunch_break_taken, standing_appointments_kept
from engine.checker.caps import expert_caps, location_caps
from engine.checker.context import Context, Violation
from engine.checker.days import (
    day_starts_and_ends_at_base,
    legs_driven_between_stops,
    one_thing_at_a_time,
    routes_agree_with_visits,
    travel_between_stops,
)
from engine.checker.figures import coverage_reported, kpis_consistent, objective_matches_formula
from engine.checker.nights import nights_away_kept
from engine.checker.requests import (
    every_request_accounted_once,
    experts_cover_fields,
    unscheduled_have_reasons,
    visit_known_ids,
    visit_matches_request,
)
from engine.checker.series import follow_ups_keep_their_series
from engine.checker.settled import fixed_visits_kept, nothing_new_in_history
from engine.checker.timing import (
    date_workable_and_requested,
    not_in_closed_hours,
    not_in_places_closed_hours,
    starts_on_grid,
    within_hours,
)
from engine.model import Plan, PlanRequest
from engine.travel import TravelTimes

__all__ = ["RULES", "Violation", "assert_valid", "check_plan"]


#: The rules in the order they are checked (name → function).
RULES = {f.__name__: f for f in (
    every_request_accounted_once, unscheduled_have_reasons, visit_known_ids,
    visit_matches_request, experts_cover_fields, date_workable_and_requested, within_hours,
    starts_on_grid, not_in_closed_hours, not_in_places_closed_hours, nothing_new_in_history,
    one_thing_at_a_time, travel_between_stops, day_starts_and_ends_at_base,
    legs_driven_between_stops, routes_agree_with_visits, nights_away_kept, lunch_break_taken,
    standing_appointments_kept, expert_caps,
    location_caps, fixed_visits_kept, follow_ups_keep_their_series,
    kpis_consistent, objective_matches_formula, coverage_reported)}


def check_plan(problem: PlanRequest, plan: Plan, *,
               travel: TravelTimes | None = None) -> list[Violation]:
    """Every violation of FORMAT.md's validity rules by ``plan`` for ``problem`` (empty: valid).

    ``travel`` gives the driving minutes (default: the problem's own, estimate filling gaps);
    pass the planner's when it solved with another speed factor.
    """
    c = Context(problem, plan, travel or TravelTimes(problem))
    out: list[Violation] = []
    for rule in RULES.values():
        out.extend(rule(c))
    return out


def assert_valid(problem: PlanRequest, plan: Plan, *, travel: TravelTimes | None = None) -> None:
    """Raise ``AssertionError`` listing every violation when ``plan`` is not valid."""
    found = check_plan(problem, plan, travel=travel)
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        raise AssertionError(f"plan is not valid, {len(found)} violation(s):\n{lines}")
