"""Overtime (``experts[].overtime``, docs/FORMAT.md): a day may end up to ``max_minutes`` past
``work_end``, each minute past it paid in the objective. The choice of tours knows the least
each choice implies (a tour's earliest end, an online consultation's); the timing rules hold
the day's real end.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solvers.cpsat.base import ExpertDay
from solvers.cpsat.tours import TourRules
from solvers.routes import Tour

__all__ = ["OvertimeRules"]


class OvertimeRules(TourRules):
    """The overtime of each expert-day: its rules in the choice and in time, and its cost."""

    def add_overtime_of_each_day(self) -> None:
        """An expert with ``overtime`` may end a day up to ``max_minutes`` past ``work_end``,
        each minute past it costing ``minute_cost`` (``main_objective``). In the choice, the
        least each choice implies: a tour's earliest end (its stops at their earliest starts,
        then the drive home; exact on a day without timing rules, whose stops take those
        starts; with lunch, closed hours or standing appointments, ``_earliest_end``) and each
        online consultation's earliest end. The timing rules hold the rest
        (``add_day_end_past_work_end``)."""
        for (eid, d), day in self.days.items():
            e = day.expert
            ot = self.rules.new_overtime(e, f"{eid}_{d}")
            if ot is None:
                continue
            self.overtime[eid, d] = ot
            cands = self._candidates(day)
            late: list[tuple[int, cp_model.IntVar]] = []     # (minutes past, tour literal)
            for tour, lit in zip(day.tours or [], day.tour_lits, strict=True):
                last = cands[tour.order[-1]]
                end = tour.starts[-1] + last.duration + self.travel.minutes(
                    last.location, tour.end_at or e.base)
                if not self._blocks_of(day).plain:
                    end = max(end, self._earliest_end(day, tour))
                if end > e.work_end:
                    late.append((end - e.work_end, lit))
            if late:        # a day chooses one tour at most: one linear row says it for all
                self.m.add(ot >= sum(m * lit for m, lit in late))
            for rid in day.online:
                end = self._window[rid, eid, d][0] + self.p.request_by_id[rid].duration_min
                if end > e.work_end:
                    self.m.add(ot >= (end - e.work_end) * self.present[rid, eid, d])

    def _earliest_end(self, day: ExpertDay, tour: Tour) -> int:
        """The earliest a day driving ``tour`` can end with its lunch, closed hours and
        standing appointments (``solvers.day_starts``); the start of work where none can."""
        reach = self._blocks_of(day).reach(tour)
        end = reach.done_lunch[-1] if day.expert.lunch is not None else reach.done[-1]
        return day.expert.work_start if end is None else end

    def add_day_end_past_work_end(self) -> None:
        """A day ends when its last consultation (online too) or its drive home ends, the
        later of the two; the minutes past ``work_end`` are its overtime
        (``DayRules.add_day_end``). A day without timing rules ends as its tour does
        (``add_overtime_of_each_day``)."""
        for (eid, d), ot in self.overtime.items():
            day = self.days[eid, d]
            if day.tours is not None and not day.timed:
                continue
            stops, online = self._stops_of(day)
            self.rules.add_day_end(day.expert, ot, stops, online, day.arcs, day.drives)

    def overtime_paid(self) -> cp_model.LinearExprT:
        """Σ over the expert-days of experts with overtime: ``minute_cost`` × the minutes the
        day ends past ``work_end``."""
        cost = {e.id: e.overtime.minute_cost for e in self.p.experts if e.overtime is not None}
        return cp_model.LinearExpr.weighted_sum(list(self.overtime.values()),
                                                [cost[eid] for eid, _d in self.overtime])
