"""Nights away in the planner's model (``experts[].overnight``, docs/FORMAT.md): a literal per
expert, date and place "the day ends there and the next day starts there", the trips' length,
their cost, and each day's drive between the places of two nights when it makes no stop.

A day of an expert who may stay away is a circuit over its legs (``solvers.cpsat.day``) whose
node 0 is where the day starts (leaving) and where it ends (coming back): ``ExpertDay.ends``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from ortools.sat.python import cp_model

from engine.calendar import night_dates
from engine.nights import night_places
from solvers.cpsat.base import ExpertDay, ModelBase
from solvers.cpsat.day import Ends, negated

__all__ = ["NightRules"]

_DAY = dt.timedelta(days=1)


class NightRules(ModelBase):
    """The rules of nights away."""

    def add_nights_away(self) -> None:
        """A day may end at one of the expert's overnight places instead of the base when the
        expert's next working date is the next calendar date; that next day then starts there.
        At most one place a night; a trip (nights on consecutive dates) has at most
        ``max_nights`` nights, so it starts and ends at the base within the horizon."""
        for e in self.p.experts:
            places, dates = night_places(self.p, e), night_dates(self.p, e)
            if not places or not dates:
                continue
            assert e.overnight is not None
            away: dict[dt.date, list[cp_model.IntVar]] = {}
            for d in dates:
                away[d] = [self.m.new_bool_var(f"night_{e.id}_{d}_{x}") for x in places]
                self.nights.update(((e.id, d, x), lit)
                                   for x, lit in zip(places, away[d], strict=True))
                self.m.add_at_most_one(away[d])
            most = e.overnight.max_nights
            for d in dates:
                run = [d + k * _DAY for k in range(most + 1)]
                if all(x in away for x in run):
                    self.m.add(sum(sum(away[x]) for x in run) <= most)
            for d in sorted({*dates, *(x + _DAY for x in dates)}):
                key = (e.id, d)
                if key not in self.days:
                    self.days[key] = ExpertDay(e, d)
                self.days[key].ends = Ends(self._side(e.id, d - _DAY, places, f"{d}_from"),
                                           self._side(e.id, d, places, f"{d}_to"))

    def keep_nights(self, nights: Mapping[tuple[str, dt.date], str | None]) -> None:
        """Nights already spent (a week re-planned after an event: ``engine.events.
        nights_passed``, (expert, date) → the place, None for the base) stay where they were:
        that place's literal is true and every other place's false."""
        for (eid, d, place), lit in self.nights.items():
            if (eid, d) in nights:
                self.m.add(lit == int(nights[eid, d] == place))

    def _side(self, eid: str, night: dt.date, places: tuple[str, ...], name: str
              ) -> tuple[tuple[str, cp_model.LiteralT], ...]:
        """Where a day starts (the night before it is ``night``) or ends (its own night is
        ``night``): the base when no night is spent, else the night's place."""
        base = self.p.expert_by_id[eid].base
        lits = [(x, self.nights[eid, night, x]) for x in places if (eid, night, x) in self.nights]
        if not lits:
            return ((base, 1),)
        home = self.m.new_bool_var(f"at_base_{eid}_{name}")
        self.m.add(home + sum(lit for _, lit in lits) == 1)
        return ((base, home), *lits)

    def add_drive_between_nights(self, day: ExpertDay) -> None:
        """A day that makes no on-site stop still drives from where it starts to where it
        ends (a day between two nights at one place stays there): within working hours and
        the day's drive cap, its minutes in the day's driving."""
        assert day.ends is not None
        if day.appointments:
            return              # the day drives its tour through them: no day without stops
        e = day.expert
        idle: cp_model.LiteralT = 1 if day.on_day is None else negated(day.on_day)
        for s, at_s in day.ends.starts:
            for q, at_q in day.ends.ends:
                t = self.travel.minutes(s, q)
                if not t:
                    continue
                name = f"{e.id}_{day.date}_{s}_{q}"
                lit = self.rules.both(self.rules.both(at_s, at_q, f"ends_{name}"), idle,
                                      f"between_{name}")
                if isinstance(lit, int) and not lit:
                    continue
                cap = e.max_drive_minutes_per_day
                if e.work_start + t > e.work_end or (cap is not None and t > cap):
                    self.m.add_bool_or([negated(lit)])
                    continue
                day.direct.append((t, lit))
        terms: list[cp_model.LinearExprT] = [day.drive]
        terms += [t * lit for t, lit in day.direct]  # type: ignore[misc]
        day.drive = sum(terms)

    def between_nights_blocks(self, day: ExpertDay) -> list[cp_model.IntervalVar]:
        """The drive of a day without stops between the places of two nights, as a block of
        its minutes within working hours (nothing else happens during it)."""
        e, out = day.expert, []
        for k, (t, lit) in enumerate(day.direct):
            start = self.m.new_int_var(e.work_start, e.work_end - t,
                                       f"between_{e.id}_{day.date}_{k}")
            if isinstance(lit, int):
                out.append(self.m.new_fixed_size_interval_var(start, t, f"between_block_{k}"))
            else:
                out.append(self.m.new_optional_fixed_size_interval_var(
                    start, t, lit, f"between_block_{e.id}_{day.date}_{k}"))
        return out

    def night_costs(self) -> cp_model.LinearExprT:
        """Σ ``night_cost`` of the nights spent away."""
        terms: list[cp_model.LinearExprT] = []
        for (eid, _d, _x), lit in self.nights.items():
            o = self.p.expert_by_id[eid].overnight
            if o is not None and o.night_cost:
                terms.append(o.night_cost * lit)
        return sum(terms)

    def end_literals(self, day: ExpertDay) -> list[cp_model.IntVar]:
        """The literals that say where the day starts and ends."""
        if day.ends is None:
            return []
        return [x for _, x in (*day.ends.starts, *day.ends.ends)  # type: ignore[misc]
                if isinstance(x, cp_model.IntVar)]

    def read_nights(self, value: object) -> dict[tuple[str, dt.date], str]:
        """The nights of a solution (``value`` reads a variable): (expert, date) → place."""
        return {(eid, d): x for (eid, d, x), lit in self.nights.items()
                if value(lit)}  # type: ignore[operator]

    def chosen_ends(self, day: ExpertDay, value: Callable[[int], int]
                     ) -> tuple[str | None, str | None]:
        """Where the chosen day starts and ends: the base, or the place of a night away."""
        if day.ends is None:
            return day.expert.base, day.expert.base

        def place(side: tuple[tuple[str, cp_model.LiteralT], ...]) -> str | None:
            got = [x for x, lit in side
                   if (value(lit.index) if isinstance(lit, cp_model.IntVar) else lit)]
            return got[0] if len(got) == 1 else None
        return place(day.ends.starts), place(day.ends.ends)
