"""When no night away can pay: a bound on every plan of a week that has a night in it.

A plan of a week where experts may stay away either has no night — it is then a plan of the
week's day trips — or pays for at least one night. The linear relaxation of
``solvers.parts.bound`` bounds every plan's objective before its night costs (it counts the
drive into each stop from the nearest place, a night's place included, and knows no night
cost), so every plan with a night is worth at most that bound less the cheapest night. When
that is no more than what the day trips reach, no night can pay: the day trips' best plan is
the week's, and where the day trips are proven optimal, so is it for the week.

On the Ehime week with every rule of the expert's week (``benchmarks.real_week``) the
relaxation bounds every plan at 238,568 before night costs; a night costs 3,000, so a plan
with one is worth at most 235,568, below the day trips' 237,021.

Examples
--------
>>> b = NightsBound(relaxation=238_568, night_cost=3_000)
>>> b.with_a_night
235568
>>> b.cannot_pay(237_021), b.cannot_pay(235_000)
(True, False)
>>> print(b.messages(237_021)[0])  # doctest: +NORMALIZE_WHITESPACE
No night away can pay this week: a night costs at least 3,000, and no plan can gain more
than 1,547 over the day trips' 237,021 (no plan is worth more than 238,568 before night
costs). The plan keeps to day trips.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.model import PlanRequest
from engine.nights import night_places
from engine.travel import TravelTimes

__all__ = ["NightsBound", "nights_bound"]


@dataclass(frozen=True)
class NightsBound:
    """The relaxation's bound on every plan before night costs, and the cheapest night."""

    relaxation: int
    night_cost: int

    @property
    def with_a_night(self) -> int:
        """The most a plan with at least one night can be worth."""
        return self.relaxation - self.night_cost

    def cannot_pay(self, day_trips: int) -> bool:
        """Whether no plan with a night can be worth more than ``day_trips``."""
        return self.with_a_night <= day_trips

    def messages(self, day_trips: int) -> tuple[str, str]:
        """The plan's note (English, Japanese) that no night can pay against ``day_trips``:
        what a night costs, and the most any plan can gain over the day trips before night
        costs (the relaxation's bound less ``day_trips``)."""
        gain = max(0, self.relaxation - day_trips)
        return (f"No night away can pay this week: a night costs at least {self.night_cost:,}, "
                f"and no plan can gain more than {gain:,} over the day trips' {day_trips:,} "
                f"(no plan is worth more than {self.relaxation:,} before night costs). "
                "The plan keeps to day trips.",
                f"今週は宿泊が割に合いません: 宿泊の費用は1泊あたり少なくとも "
                f"{self.night_cost:,} で、日帰りの {day_trips:,} より良くなる余地は最大でも "
                f"{gain:,}（宿泊の費用を除いた計画の価値の上限 {self.relaxation:,}）しか"
                "ありません。日帰りで計画しました。")


def nights_bound(problem: PlanRequest, speed_factor: float = 1.0,
                 time_limit: float | None = None) -> NightsBound | None:
    """The bound on every plan of ``problem`` with a night away (``NightsBound``), or None
    where no expert may stay away or the relaxation was not solved within ``time_limit``
    seconds. Driving at ``speed_factor``, as the plan is."""
    costs = [e.overnight.night_cost for e in problem.experts
             if e.overnight is not None and night_places(problem, e)]
    if not costs:
        return None
    # loaded only here: a week planned as one model starts without the relaxation's modules
    from solvers.parts.bound import relaxation_bound  # start fast

    bound = relaxation_bound(problem, TravelTimes(problem, speed_factor=speed_factor),
                             time_limit)
    return None if bound is None else NightsBound(bound, min(costs))
