"""What a joint visit's shared start tells the choice of tours (redundant rules, for a tight
bound): the experts of a joint visit start it together, so a partner who can only come late
holds back every stop after it in the other expert's tour, and that tour's drive home.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solvers.cpsat.base import ExpertDay
from solvers.cpsat.nights import NightRules
from solvers.routes import Candidate, Tour

__all__ = ["DayEndBounds"]


class DayEndBounds(NightRules):
    """What the choice of tours knows of when a day can end: the joint visits' starts
    (``add_joint_visit_starts_in_tours``) and the online consultations' minutes
    (``add_least_overtime_beside_online``)."""

    def add_joint_visit_starts_in_tours(self) -> None:
        """(Redundant, for a strong bound.) A chosen tour places each of its joint visits
        between its earliest and latest start there; a later joint visit of the same tour
        starts no earlier than the one before plus the consultations and drives between
        them (no waiting counted); and with ``overtime`` the day ends no earlier than its
        last joint visit's start plus the rest of the tour and the drive home (minutes past
        ``work_end`` paid). The shared start carries one expert's tour to the other's: a
        partner who can come only late makes the whole chain late, which the tours' own
        earliest ends do not see. Every timed plan meets these rows (its stops keep their
        order and take no less than those minutes), so no plan is lost. Made only where some
        expert has overtime: without it the tours' latest starts already end by ``work_end``
        and these rows cost more time than they save."""
        if not self.redundant or not self.overtime:
            return
        for (eid, d), day in self.days.items():
            if day.tours is None or day.ends is not None:
                continue
            joint = {i for i, rid in enumerate(day.onsite) if self.p.request_by_id[rid].joint
                     and rid in self.start}
            if not joint:
                continue
            cands = self._candidates(day)
            ot = self.overtime.get((eid, d))
            for i in joint:
                self._joint_start_within_tours(day, i)
            rows: dict[tuple[str, ...], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for tour, lit in zip(day.tours, day.tour_lits, strict=True):
                if joint.intersection(tour.order):
                    for key, c in self._joint_starts_in_tour(day, tour, cands, joint, ot):
                        rows[key].append((c, lit))
            self._add_rows_over_tours(rows, ot)

    def _add_rows_over_tours(self, rows: dict[tuple[str, ...], list[tuple[int, cp_model.IntVar]]],
                             ot: cp_model.IntVar | None) -> None:
        """One linear row per joint visit (the day's overtime from its start) and per two
        joint visits one after the other (the gap), over the tours that make it (a day
        chooses one at most; without one of them the row asks nothing its domains do not)."""
        for key, terms in rows.items():
            if key[0] == "end":
                assert ot is not None
                s = self.start[key[1]]
                hi = _bounds(s)[1]
                self.m.add(ot >= s - hi + sum((c + hi) * x for c, x in terms))
            else:
                sq, sp = self.start[key[1]], self.start[key[2]]
                big = _bounds(sq)[1] - _bounds(sp)[0]
                self.m.add(sp >= sq - big + sum((c + big) * x for c, x in terms))

    def _joint_start_within_tours(self, day: ExpertDay, i: int) -> None:
        """Joint visit ``i`` of the day starts between the chosen tour's earliest and latest
        start there: two linear rows over the day's tours (it chooses one at most; a tour
        without the visit leaves its start to its domain)."""
        s = self.start[day.onsite[i]]
        lo, hi = _bounds(s)
        early: list[tuple[int, cp_model.IntVar]] = []
        late: list[tuple[int, cp_model.IntVar]] = []
        for tour, lit in zip(day.tours or [], day.tour_lits, strict=True):
            if i in tour.order:
                p = tour.order.index(i)
                if tour.starts[p] > lo:
                    early.append((tour.starts[p] - lo, lit))
                if tour.latest and tour.latest[p] < hi:
                    late.append((hi - tour.latest[p], lit))
        if early:
            self.m.add(s >= lo + sum(c * x for c, x in early))
        if late:
            self.m.add(s <= hi - sum(c * x for c, x in late))

    def _joint_starts_in_tour(self, day: ExpertDay, tour: Tour, cands: list[Candidate],
                              joint: set[int], ot: cp_model.IntVar | None
                              ) -> list[tuple[tuple[str, ...], int]]:
        """What one tour asks (``add_joint_visit_starts_in_tours``): ``("gap", q, p)`` with
        the least minutes from joint visit q's start to the next one's, p, along the tour,
        and ``("end", q)`` with the least minutes from the last one's start to the end of
        the drive home, less ``work_end``."""
        e = day.expert
        minutes = self.travel.minutes
        places = [cands[i].location for i in tour.order]
        # after[p]: the least minutes from the start of stop p to the end of the drive home
        after = [0] * len(tour.order)
        rest = minutes(places[-1], tour.end_at or e.base)
        for p in range(len(tour.order) - 1, -1, -1):
            rest += cands[tour.order[p]].duration
            after[p] = rest
            if p:
                rest += minutes(places[p - 1], places[p])
        out: list[tuple[tuple[str, ...], int]] = []
        last: tuple[int, str] | None = None
        for p, i in enumerate(tour.order):
            if i not in joint:
                continue
            rid = day.onsite[i]
            if last is not None:
                q, rq = last
                out.append((("gap", rq, rid), after[q] - after[p]))
            last = (p, rid)
        if last is not None and ot is not None and tour.latest:
            p, rid = last
            if tour.latest[p] + after[p] > e.work_end:   # the gaps before it lead to it
                out.append((("end", rid), after[p] - e.work_end))
        return out

    def add_least_overtime_beside_online(self) -> None:
        """(Redundant, for a strong bound.) With ``overtime``, a day with online
        consultations ends no earlier than any minute T plus the work that must still be done
        after T: the online consultations that cannot start before T and the part of the
        chosen tour that runs after T even when every stop and drive is as early as it can be
        (each runs no earlier in any timing). One linear row per T (the start of work and each
        online consultation's earliest start) over the day's tours (it chooses one at most)
        and consultations: no plan is lost, and the choice sees an online consultation hold
        the drive home back."""
        if not self.redundant:
            return
        for (eid, d), ot in self.overtime.items():
            day = self.days[eid, d]
            if not day.online or day.ends is not None or (day.tours is None and day.onsite):
                continue
            e = day.expert
            calls = [(self._window[r, eid, d][0], self.p.request_by_id[r].duration_min,
                      self.present[r, eid, d]) for r in day.online]
            blocks = [self._tour_blocks(day, t) for t in day.tours or []]
            for t in sorted({e.work_start, *(a for a, _, _ in calls)}):
                later = [(dur, x) for a, dur, x in calls if a >= t]
                rest = [sum(max(0, s + n - max(s, t)) for s, n in b) for b in blocks]
                if t - e.work_end + max(rest, default=0) + sum(n for n, _ in later) <= 0:
                    continue        # it cannot run past work_end
                self.m.add(ot >= t - e.work_end
                           + sum(r * x for r, x in zip(rest, day.tour_lits, strict=True) if r)
                           + sum(n * x for n, x in later))

    def _tour_blocks(self, day: ExpertDay, tour: Tour) -> list[tuple[int, int]]:
        """A tour's drives and stops as (earliest start, minutes), each as early as it can
        be: the first drive from the start of work, each stop at its earliest start, each
        drive after it right from its end."""
        e = day.expert
        cands = self._candidates(day)
        places = [tour.start_at or e.base, *(cands[i].location for i in tour.order),
                  tour.end_at or e.base]
        out = [(e.work_start, self.travel.minutes(places[0], places[1]))]
        for p, i in enumerate(tour.order):
            end = tour.starts[p] + cands[i].duration
            out += [(tour.starts[p], cands[i].duration),
                    (end, self.travel.minutes(places[p + 1], places[p + 2]))]
        return out


def _bounds(var: cp_model.IntVar) -> tuple[int, int]:
    """A variable's least and greatest value (the proto's domain field reads [-1] as 0)."""
    domain = list(var.proto.domain)
    return domain[0], domain[-1]
