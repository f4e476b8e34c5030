"""Weaken each rule of the planner (and of the expert-day the slot proposals share) and watch a
test fail.

    python -m tests.mutation_check              # every mutation (several minutes)
    python -m tests.mutation_check --only cap   # those whose name contains "cap"

Each mutation is one textual change to one rule (a constraint weakened, deleted, or a bound
made wrong); the script applies it, runs the planner's tests (``tests/test_planner_rules.py``,
``tests/test_optimality.py``, ``tests/test_greedy.py``; every plan they produce is checked by
the independent checker and, on tiny instances, against the brute force), and restores the
file. A mutation that no test catches is a rule the tests do not decide: the script lists those
and exits non-zero. A mutation whose text is no longer found once in its file (the rule moved or
was rewritten) fails the check too: it is never counted as caught. Not part of the test suite
(it runs the suite many times over); ``tests/test_mutation_check.py`` checks, fast, that every
mutation still finds its text.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_day_rules.py", "tests/test_planner_rules.py", "tests/test_search.py",
         "tests/test_routes.py", "tests/test_season.py", "tests/test_optimality.py", "tests/test_greedy.py",
         "tests/test_decompose.py", "tests/test_slots.py", "tests/test_repair.py",
         "tests/test_expert_day.py", "tests/test_series.py", "tests/test_overnight.py"]
#: The brute-force comparisons that check every bound a plan may report.
BOUND_TESTS = ("tests/test_optimality.py", "tests/test_decompose.py")
#: The tests of the appointment grid, and the brute force that draws grids.
GRID_TESTS = ("tests/test_appointment_grid.py", "tests/test_optimality.py")
#: The tests of due dates, and the brute force that draws them.
DUE_TESTS = ("tests/test_due_dates.py", "tests/test_optimality.py")


#: The Lagrangian bound a plan by parts may report, and its brute-force comparisons (the named
#: instances first, then random ones reported without shrinking).
LAGRANGE = "solvers/parts/lagrange.py"
LAGRANGE_TESTS = (
    "tests/test_decompose.py::test_the_lagrangian_bound_bounds_the_optimum_of_every_small_instance",
    "tests/test_decompose.py::test_a_plan_by_parts_reports_the_least_bound_and_names_it",
    "tests/test_decompose.py::test_the_lagrangian_bound_holds_the_brute_force_optimum")
#: The expert-day's rules, written once for the planner and the slot proposals.
DAY = "solvers/cpsat/day.py"
#: The tests of the expert's real day: closed hours, lunch.
EXPERT_DAY = "tests/test_expert_day.py"
#: The tests of the expert's standing appointments.
BUSY = "tests/test_busy.py"
#: The tests of standing appointments at a place, with the random tiny weeks that draw them.
BUSY_AT = "tests/test_busy_at.py"
#: The tests of overtime, and the brute force that draws it.
OVERTIME = ("tests/test_overtime.py", "tests/test_optimality.py")
#: The rules of nights away, and their tests.
NIGHT_RULES = "solvers/cpsat/nights.py"
#: What the choice of tours knows of when a day can end (joint visits, online consultations).
DAY_END = "solvers/cpsat/day_end.py"
NIGHTS = "tests/test_overnight.py"


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    #: the test files that decide it, when not all of ``TESTS`` need to run
    tests: tuple[str, ...] = ()


MUTATIONS = [
    # --- choice of expert, date and start
    Mutation("served without a date", "solvers/model.py",
             "self.m.add(sum(self.on_date[q.id, d] for d in dates) == served)",
             "self.m.add(sum(self.on_date[q.id, d] for d in dates) <= served)"),
    Mutation("a field without its expert", "solvers/model.py",
             "self.m.add(sum(per_slot.get(k, [])) == self.on_date[rid, d])",
             "self.m.add(sum(per_slot.get(k, [])) <= self.on_date[rid, d])"),
    # --- hours (the per-expert window where experts' hours differ)
    Mutation("hours: earliest start per expert dropped", "solvers/model.py",
             "self.m.add(s >= o.lo).only_enforce_if(lit)", "pass"),
    Mutation("hours: latest start per expert dropped", "solvers/model.py",
             "self.m.add(s <= o.hi).only_enforce_if(lit)", "pass"),
    # --- the appointment grid (horizon.start_grid_min)
    Mutation("grid: a start variable off the grid", DAY, "    if grid <= 1:\n", "    if True:\n",
             GRID_TESTS),
    Mutation("grid: a tour's stop starts off the grid", "solvers/routes.py",
             "start = arrive if c.fixed_time else grid_up(arrive, grid)", "start = arrive",
             GRID_TESTS),
    Mutation("grid: options off the grid", "solvers/explain/windows.py",
             "lo, hi = p.horizon.grid_up(starts[0]), p.horizon.grid_down(starts[1])",
             "lo, hi = starts", GRID_TESTS),
    # --- due dates (requests[].due, objective.late_day)
    Mutation("due: a day late unpaid", "solvers/model.py",
             "terms.append(-w.late_day * self.late_days())", "pass", DUE_TESTS),
    Mutation("due: lateness counted from the day after", "solvers/model.py",
             "return sum(self.p.request_by_id[rid].days_late(d) * lit",
             "return sum(max(0, self.p.request_by_id[rid].days_late(d) - 1) * lit", DUE_TESTS),
    # --- tours (enumerated days)
    Mutation("tours: daily visit cap + 1", "solvers/cpsat/tours.py",
             "max_stops=None if cap is None else cap + len(day.appointments),",
             "max_stops=None if cap is None else cap + 1 + len(day.appointments),"),
    Mutation("tours: no drive cap", "solvers/cpsat/tours.py",
             "max_drive=e.max_drive_minutes_per_day,", "max_drive=None,"),
    Mutation("tours: a stop covered twice", "solvers/cpsat/tours.py",
             "self.m.add(_sum_of(covering.get(i, [])) == self.present[rid, eid, d])",
             "self.m.add(_sum_of(covering.get(i, [])) >= self.present[rid, eid, d])"),
    Mutation("tours: drive of the day undercounted", "solvers/cpsat/tours.py",
             "day.drive = _sum_of([lit for _, lit in driven], [c for c, _ in driven])",
             "day.drive = _sum_of([lit for _, lit in driven], [c // 2 for c, _ in driven])"),
    Mutation("tours: first leg ignores the window", "solvers/routes.py",
             "else grid_up(arrive, grid)\n            if start > c.hi:",
             "else grid_up(arrive, grid)\n            if start > c.hi + 60:"),
    Mutation("tours: return after work ends", "solvers/routes.py",
             "if end + back <= work_end and", "if end + back <= work_end + 60 and"),
    # --- circuit days
    Mutation("circuit: daily visit cap + 1", DAY,
             "self.m.add(sum(s.present for s in visits) <= cap)",
             "self.m.add(sum(s.present for s in visits) <= cap + 1)"),
    Mutation("circuit: no drive cap", DAY, "self.m.add(drive <= drive_cap)", "pass"),
    Mutation("circuit: round trip bound too high", "solvers/cpsat/tours.py",
             "rt = min(sp(x, locs[j]) for x in froms) + min(sp(locs[j], x) for x in tos)",
             "rt = min(sp(x, locs[j]) for x in froms) + min(sp(locs[j], x) for x in tos) + 30"),
    Mutation("circuit: stop-set bound too high", "solvers/cpsat/tours.py",
             "self.m.add(day.drive >= sum(c * lit for c, lit in zip(costs, choices, strict=True) if c))",
             "self.m.add(day.drive >= sum((c + 30) * lit for c, lit in zip(costs, choices, strict=True)))"),
    # --- the expert-day (solvers/cpsat/day.py: the planner's circuit days and the slot
    # proposals compose it)
    Mutation("day: a leg that cannot be driven in time kept", DAY,
             "        if end_i + t_ij > latest_j:\n            return False",
             "        if end_i + t_ij > latest_j + 120:\n            return False"),
    Mutation("day: a leg beyond the drive cap kept", DAY,
             "return cap is None or lead + t_ij + tail <= cap",
             "return True"),
    Mutation("day: a stop left out of the circuit", DAY,
             "                arcs.append((i, i, negated(s.present)))",
             "                arcs.append((i, i, 1))"),
    Mutation("day: driving undercounted", DAY,
             "            terms += [t * lit for t, lit in options if t]",
             "            terms += [(t // 2) * lit for t, lit in options if t]"),
    # (Not mutated: "an on-site day has a stop", which the circuit already implies, as the base
    # alone is no tour, and so do the tour literals: removing it changes no plan.)
    Mutation("day: a stop made on a day not counted as on-site", DAY,
             "self.m.add_implication(s.present, on_day)  # type: ignore[arg-type]", "pass"),
    Mutation("legs: a new stop reached by a drive before now", DAY,
             "self._when(self.m.add(stops[j - 1].start >= now + t), lit)", "pass"),
    Mutation("legs: first leg from the base ignored", DAY,
             "self._when(self.m.add(sj >= e.work_start + t), lit)", "pass"),
    Mutation("legs: last leg home ignored", DAY,
             "self._when(self.m.add(si.start + si.duration + t <= e.day_end), lit)",
             "pass"),
    Mutation("legs: drive between stops ignored", DAY,
             "self._when(self.m.add(sj >= si.start + si.duration + t), lit)", "pass"),
    # --- one thing at a time, drives as blocks
    Mutation("no overlap dropped", DAY,
             "            self.m.add_no_overlap(intervals)", "            pass"),
    Mutation("online calls on their own days may overlap", DAY,
             "        if not online and e.lunch is None and not busy:\n            return\n",
             "        if (not online or not stops) and e.lunch is None and not busy:\n"
             "            return\n"),
    Mutation("drive glued to the visit (the old model)", DAY,
             "self._when(self.m.add(end <= before), present)",
             "self._when(self.m.add(end == before), present)"),
    Mutation("drive may start before the stop it leaves ends", DAY,
             "self._when(self.m.add(begin >= si.start + si.duration), lit)", "pass"),
    Mutation("drive may end after the next stop starts", DAY,
             "self._when(self.m.add(end <= before), present)", "pass"),
    Mutation("drive block shorter than its leg", DAY,
             "lengths = sorted({t for _, t, _ in legs})",
             "lengths = sorted({t // 2 for _, t, _ in legs})"),
    # --- a search stopped short (tests/test_stopped_short.py)
    Mutation("stopped short: the first plan never weighed against the rounds' plan",
             "solvers/cpsat/search.py",
             "    elif first_value is not None and best.objective is not None and first_value > best.objective:",
             "    elif False:", ("tests/test_stopped_short.py",)),
    Mutation("stopped short: a solution's objective taken for its plan's worth",
             "solvers/planner.py",
             "    value = max(value, objective_value(problem, visits, routes))\n",
             "", ("tests/test_stopped_short.py",)),
    Mutation("stopped short: a plan below the first plan answered", "solvers/planner.py",
             "    if not optimal and first[2] is not None and first[2] > value:",
             "    if False:", ("tests/test_stopped_short.py",)),
    # --- redundant rules must never cut a real plan
    Mutation("redundant: online never fits beside a tour", "solvers/routes.py",
             "return any(grid_up(max(after, lo), grid) <= min(hi, until - duration)",
             "return any(grid_up(max(after, lo), grid) + 15 <= min(hi, until - duration)"),
    Mutation("redundant: working day 30 min shorter", "solvers/cpsat/tours.py",
             "[*busy, *online]) <= e.day_end - e.work_start)",
             "[*busy, *online]) <= e.day_end - e.work_start - 30)"),
    Mutation("redundant: a call beside a tour needs 15 minutes more room",
             "solvers/day_starts.py", "if first <= min(hi, b - call.minutes):",
             "if first + 15 <= min(hi, b - call.minutes):", ("tests/test_optimality.py",)),
    Mutation("redundant: a joint start's first minute beside a tour taken away",
             "solvers/day_starts.py", "fits = _on_grid(sorted((a, b - block.minutes)",
             "fits = _on_grid(sorted((a + 1, b - block.minutes)", ("tests/test_optimality.py",)),
    # --- the expert's real day (tests/test_expert_day.py decides them)
    Mutation("closed hours: a town hall's lunch hour ignored", "engine/calendar.py",
             "    if closed:\n        out += problem.location_by_id[request.location].closed",
             "    if False:\n        out += problem.location_by_id[request.location].closed",
             (EXPERT_DAY,)),
    Mutation("lunch: the break shortened", DAY,
             "        size = e.lunch.minutes\n",
             "        size = e.lunch.minutes // 2\n", (EXPERT_DAY,)),
    Mutation("lunch: a tour day taken as untimed", "solvers/cpsat/tours.py",
             "if self.all_orders or day.online or day.expert.lunch is not None:",
             "if self.all_orders or day.online:", (EXPERT_DAY,)),
    Mutation("lunch: a call beside a tour that leaves it no room kept", "solvers/cpsat/tours.py",
             "if not blocks.reach(t).call_fits(key)]",
             "if not blocks.reach(t).call_fits(key) and False]", (EXPERT_DAY,)),
    Mutation("lunch: a joint start beside a tour forgets it", "solvers/day_starts.py",
             "self.lunch = None if lunch is None else Block(",
             "self.lunch = None if True else Block(", (EXPERT_DAY,)),
    Mutation("lunch: tours kept without room for it", "solvers/cpsat/tours.py",
             "        if lunch is None or not day.timed:\n            return tours",
             "        if True:\n            return tours", (EXPERT_DAY,)),
    Mutation("lunch: the greedy plan forgets it", "solvers/greedy.py",
             "        if lunch is not None:\n            if lunch_and_legs(",
             "        if False:\n            if lunch_and_legs(", (EXPERT_DAY,)),
    # --- overtime (experts[].overtime)
    Mutation("overtime: unpaid", "solvers/model.py",
             "            terms.append(-self.overtime_paid())", "            pass", OVERTIME),
    Mutation("overtime: max_minutes ignored (30 min more)", "engine/model.py",
             "return self.work_end + (self.overtime.max_minutes if",
             "return self.work_end + (self.overtime.max_minutes + 30 if", OVERTIME),
    Mutation("overtime: the drive home not counted", DAY,
             "self._when(self.m.add(overtime >= si.start + si.duration + t - we), lit)",
             "pass", OVERTIME),
    Mutation("overtime: a tour's choice bound above its end", "solvers/cpsat/overtime.py",
             "late.append((end - e.work_end, lit))", "late.append((end - e.work_end + 5, lit))",
             OVERTIME),
    Mutation("overtime: only the cheapest order of each set", "solvers/cpsat/tours.py",
             "all_orders=day.timed or self._pays_overtime(day)", "all_orders=day.timed",
             OVERTIME),
    Mutation("overtime: a learnt cost binds every choice of those days", "solvers/cpsat/search.py",
             "        choice.add(owed >= paid).only_enforce_if(\n",
             "        choice.add(owed >= paid)\n        (\n", OVERTIME),
    Mutation("overtime: parts are joined within work_end", "solvers/greedy.py",
             "st = _State(problem, travel, overtime=True, nights=nights)",
             "st = _State(problem, travel, nights=nights)",
             OVERTIME),
    Mutation("overtime: lunch placed first though it brings the expert home late",
             "solvers/routes.py",
             "            if paid_after is None or deps[-1]", "            if True or deps[-1]",
             OVERTIME),
    Mutation("overtime: the choice counts online work from 15 minutes before it may start",
             DAY_END, "self.m.add(ot >= t - e.work_end", "self.m.add(ot >= t + 15 - e.work_end",
             OVERTIME),
    Mutation("overtime: the choice counts the whole tour as still to do", DAY_END,
             "max(0, s + n - max(s, t))", "n", OVERTIME),
    Mutation("overtime: the choice adds 10 minutes after a joint visit", DAY_END,
             "out.append(((\"end\", rid), after[p] - e.work_end))",
             "out.append(((\"end\", rid), after[p] + 10 - e.work_end))", OVERTIME),
    Mutation("overtime: the choice ignores a joint partner's late start", DAY_END,
             "            self.m.add(s >= lo + sum(c * x for c, x in early))",
             "            pass", OVERTIME),
    Mutation("joint visits: the choice forgets the latest start in a partner's tour", DAY_END,
             "            self.m.add(s <= hi - sum(c * x for c, x in late))",
             "            pass", OVERTIME),
    Mutation("joint visits: the choice forgets the gap between two along a tour", DAY_END,
             "out.append(((\"gap\", rq, rid), after[q] - after[p]))", "pass", OVERTIME),
    Mutation("overtime: a joint visit's end binds when its tours are not chosen", DAY_END,
             "self.m.add(ot >= s - hi + sum((c + hi) * x for c, x in terms))",
             "self.m.add(ot >= s + sum(c * x for c, x in terms))", OVERTIME),
    Mutation("overtime: the choice starts a joint visit 10 minutes late", DAY_END,
             "early.append((tour.starts[p] - lo, lit))",
             "early.append((tour.starts[p] + 10 - lo, lit))", OVERTIME),
    # --- standing appointments (tests/test_busy.py decides them)
    Mutation("busy block ignored", "engine/calendar.py",
             "    return sorted((b.start, b.end) for b in expert.busy if b.date == date)",
             "    return []", (BUSY,)),
    Mutation("busy block: drives may run in it", DAY,
             "        for lo, hi in busy:\n            intervals.append(",
             "        for lo, hi in ():\n            intervals.append(", (BUSY,)),
    Mutation("busy block: the greedy plan lets drives run in it", "solvers/greedy.py",
             "        online = [*online, *calls_of(e, d)]\n", "", (BUSY,)),
    Mutation("lunch: the model lets a standing appointment overlap it", DAY,
             "            intervals.append(self.lunch(e, name, [*visits, *online] if met else None))",
             "            self.m.add_no_overlap([*intervals, self.lunch(\n"
             "                e, name, [*visits, *online] if met else None)])", (BUSY,)),
    Mutation("lunch: the greedy plan lunches in a standing appointment", "solvers/greedy.py",
             "            if lunch_and_legs(lunch, start_at, legs, online, self.t,",
             "            if lunch_and_legs(lunch, start_at, legs, online[:len(online)\n"
             "                              - len(calls_of(e, d))], self.t,", (BUSY,)),
    Mutation("lunch: the plan's break placed in a standing appointment", "solvers/routes.py",
             "                             + calls_of(e, d), travel.minutes, e.work_start,",
             "                             , travel.minutes, e.work_start,", (BUSY,)),
    Mutation("lunch: the options keep a day whose appointments leave no lunch",
             "solvers/explain/windows.py",
             "    if lunch is not None and busy and open_starts(",
             "    if False and lunch is not None and busy and open_starts(", (BUSY,)),
    Mutation("lunch: the checker lets it fall in a standing appointment",
             "engine/checker/breaks.py",
             "        yield from _appointments_in_lunch(c, b, where)\n", "",
             ("tests/test_checker.py",)),
    # --- standing appointments at a place (tests/test_busy_at.py decides them)
    Mutation("at: the drive to the appointment may arrive late", DAY,
             "        now = stops[j - 1].leaves_from if j else None\n",
             "        if j and stops[j - 1].appointment:\n            return\n"
             "        now = stops[j - 1].leaves_from if j else None\n", (BUSY_AT,)),
    Mutation("at: the appointment's drives unpaid", DAY,
             "        for _leg, options in (drives or self.leg_drives(e, stops, legs)).items():\n",
             "        for (i, j), options in (drives or self.leg_drives(e, stops, legs)).items():\n"
             "            if any(s.appointment for s in stops[i - 1:i] + stops[j - 1:j]):\n"
             "                continue\n",
             (BUSY_AT,)),
    Mutation("at: the planner forgets the appointment's day", "solvers/cpsat/tours.py",
             "                if got:\n                    self.days[e.id, d]",
             "                if False:\n                    self.days[e.id, d]", (BUSY_AT,)),
    Mutation("at: a tour may skip the appointment", "solvers/cpsat/tours.py",
             "[t for t in tours if need <= set(t.order)]", "[t for t in tours if True]",
             (BUSY_AT,)),
    Mutation("at: a plan at another speed trusts the document's check", "solvers/planner.py",
             "    _appointments_reachable(problem, options)\n", "", (BUSY_AT,)),
    Mutation("at: the reachability check drives at the estimated speed",
             "engine/format/appointments.py",
             "    travel = travel or TravelTimes(problem)\n",
             "    travel = TravelTimes(problem)\n", (BUSY_AT,)),
    Mutation("at: the greedy plan forgets the appointment", "solvers/greedy.py",
             "        legs = with_appointments(self.p, e, d, [(s.start, s.end, s.location) for s in stops])",
             "        legs = [(s.start, s.end, s.location) for s in stops]", (BUSY_AT,)),
    Mutation("at: the routes forget the appointment", "solvers/routes.py",
             "    return sorted([*stops, *((b.start, b.end, b.at or \"\")",
             "    return sorted([*stops, *((b.start, b.end, b.at or \"\") if False else ()",
             (BUSY_AT,)),
    Mutation("at: a slot's day forgets the appointment", "solvers/cpsat/neighbourhood.py",
             "                            for b in appointments_at(self.problem, e, day[1]))]",
             "                            for b in ())]", (BUSY_AT,)),
    Mutation("at: the options ignore its drives", "solvers/explain/windows.py",
             "        near = _beside_appointments(travel, q, e, there, starts, day_places(p, e, d))",
             "        near = starts", (BUSY_AT,)),
    Mutation("at: a sub-problem drops the appointment's place", "solvers/parts/hoods.py",
             "    places |= {b.at for e in experts",
             "    places |= set() and {b.at for e in experts", (BUSY_AT,)),
    Mutation("at: the key figures count an appointment's day as an on-site day",
             "engine/kpis.py",
             "        \"onsite_expert_days\": len(onsite_expert_days(plan.visits)),",
             "        \"onsite_expert_days\": len({(r.expert, r.date) for r in plan.routes}),",
             (BUSY_AT,)),
    Mutation("at: the model makes an appointment's day an on-site day", DAY,
             "        stops = [s for s in stops if not s.appointment]\n        for s in stops:",
             "        for s in stops:", (BUSY_AT,)),
    # --- nights away (tests/test_overnight.py decides them)
    Mutation("night: not paid", "solvers/model.py",
             "            terms.append(-self.night_costs())",
             "            terms.append(0 * self.night_costs())", (NIGHTS,)),
    Mutation("night bound: every night ruled out", "solvers/night_bound.py",
             "        return self.with_a_night <= day_trips",
             "        return True", (NIGHTS, "tests/test_optimality.py")),
    Mutation("night bound: the night's cost left out", "solvers/night_bound.py",
             "        return self.relaxation - self.night_cost",
             "        return self.relaxation", (NIGHTS,)),
    Mutation("night: max_nights ignored", NIGHT_RULES,
             "self.m.add(sum(sum(away[x]) for x in run) <= most)",
             "self.m.add(sum(sum(away[x]) for x in run) <= most + 1)", (NIGHTS,)),
    Mutation("night: the day after starts at the base", NIGHT_RULES,
             "self.days[key].ends = Ends(self._side(e.id, d - _DAY, places, f\"{d}_from\"),",
             "self.days[key].ends = Ends(((e.base, 1),),", (NIGHTS,)),
    Mutation("day check: a standing appointment moved onto the grid", "solvers/day_check.py",
             "[grid if lo < hi else 1 for lo, hi, _ in calls]",
             "[grid for lo, hi, _ in calls]", ("tests/test_routes.py",)),
    Mutation("overtime: a tour's earliest end without its lunch", "solvers/cpsat/overtime.py",
             "end = reach.done_lunch[-1] if day.expert.lunch is not None else reach.done[-1]",
             "end = reach.done[-1]", (EXPERT_DAY,)),
    Mutation("overtime: a tour's earliest end a minute late", "solvers/cpsat/overtime.py",
             "return day.expert.work_start if end is None else end",
             "return day.expert.work_start if end is None else end + 1",
             (*OVERTIME, EXPERT_DAY)),
    Mutation("day check: closed hours ignored", "solvers/day_check.py",
             "    if grid == 1 and not any(outs) and any(", "    outs = []\n    if grid == 1 and any(",
             ("tests/test_routes.py",)),
    Mutation("day check: a block may not start when the hall opens", "solvers/day_check.py",
             "if not any(t < b and a < t + d for a, b in out)]",
             "if not any(t <= b and a < t + d for a, b in out)]", ("tests/test_routes.py",)),
    Mutation("search: a day no order times is cut by its order", "solvers/cpsat/search.py",
             "    if order is None or len(order) > _MOST_REORDERED:\n        return None",
             "    if True:\n        return None", ("tests/test_search.py",)),
    Mutation("search: a day cut by its consultations though another order times it",
             "solvers/cpsat/search.py",
             "                                               order=other) is not False:",
             "                                               order=other) is None:",
             ("tests/test_search.py",)),
    Mutation("day check: lunch on the appointment grid", "solvers/day_check.py",
             "+ [1] * len(breaks)", "+ [grid] * len(breaks)",
             (EXPERT_DAY, "tests/test_routes.py")),
    Mutation("day check: CP-SAT starts lunch on the grid",
             "solvers/day_check.py", "grid if steps is None else steps[i]", "grid",
             ("tests/test_routes.py",)),
    Mutation("night: a repair keeps the drives of a day's old order", "solvers/cpsat/base.py",
             "*self.stop_sets, *drives,", "*self.stop_sets,", (NIGHTS,)),
    Mutation("night: the day check brings a day away home", "solvers/day_check.py",
             "places = [base, *(c.location for c in stops), base if end is None else end]",
             "places = [base, *(c.location for c in stops), base]", (NIGHTS,)),
    Mutation("night: the day check starts the day after a night at the base", NIGHT_RULES,
             "return place(day.ends.starts), place(day.ends.ends)",
             "return day.expert.base, place(day.ends.ends)", (NIGHTS,)),
    Mutation("night: a day away without stops drives nothing", NIGHT_RULES,
             "                day.direct.append((t, lit))\n", "", (NIGHTS,)),
    Mutation("night: a day around a night bounded by round trips from the base",
             "solvers/cpsat/tours.py",
             "        froms = [x for x, _ in day.ends.starts] if day.ends else [locs[0]]\n",
             "        froms = [locs[0]]\n", (NIGHTS,)),
    Mutation("night: the no_time reason drives from the base only",
             "solvers/explain/unservable.py",
             "for d in dates for x in day_places(p, e, d)[0]})",
             "for d in dates for x in (e.base,)})", (NIGHTS,)),
    Mutation("night: the overtime reason forgets the night that ends the day away",
             "solvers/explain/gave_way.py",
             "for x in day_places(p, e, o.date)[1][1:] if q.onsite else ():",
             "for x in ():", (NIGHTS,)),
    Mutation("night: options reach a stop from the base only", "solvers/explain/windows.py",
             "        froms, tos = day_places(p, e, d)\n",
             "        froms, tos = (e.base,), (e.base,)\n", (NIGHTS,)),
    # --- caps
    Mutation("expert total cap + 1", "solvers/model.py",
             "self.m.add(sum(per_expert_visits[e.id]) <= e.max_visits_total)",
             "self.m.add(sum(per_expert_visits[e.id]) <= e.max_visits_total + 1)"),
    Mutation("on-site days cap + 1", "solvers/model.py",
             "self.m.add(sum(per_expert_days[e.id]) <= e.max_onsite_days)",
             "self.m.add(sum(per_expert_days[e.id]) <= e.max_onsite_days + 1)"),
    Mutation("location cap + 1", "solvers/model.py",
             "            if cap is not None and len(lits) > cap:\n                self.m.add(sum(lits) <= cap)\n\n    def add_fixed_visits",
             "            if cap is not None and len(lits) > cap:\n                self.m.add(sum(lits) <= cap + 1)\n\n    def add_fixed_visits"),
    Mutation("monthly on-site days cap + 1", "solvers/model.py",
             "            if cap is not None and len(lits) > cap:\n                self.m.add(sum(lits) <= cap)\n\n    def add_coverage_floors",
             "            if cap is not None and len(lits) > cap:\n                self.m.add(sum(lits) <= cap + 1)\n\n    def add_coverage_floors"),
    # --- season goals
    Mutation("coverage: a shortfall that costs nothing", "solvers/model.py",
             "                self.m.add(short >= floor - sum(counted))", "                pass"),
    Mutation("coverage: every mode counted", "solvers/model.py",
             "if q.location == lid and q.mode in c.modes and q.id in self.served]",
             "if q.location == lid and q.id in self.served]"),
    Mutation("small towns: bonus on every town", "solvers/model.py",
             "if q.id in self.start and small.includes(self.p.location_by_id[q.location])))",
             "if q.id in self.start))"),
    # --- fixed visits
    Mutation("fixed: not served", "solvers/model.py",
             "                    self.m.add_implication(lit, p)\n        if self.fixed_mode",
             "                    pass\n        if self.fixed_mode"),
    Mutation("fixed: start not kept", "solvers/model.py",
             "self.m.add(self.start[rid] == f.start).only_enforce_if(lit)", "pass"),
    # --- follow-up series
    Mutation("series: a day less than min_days", "solvers/model.py",
             "if a.min_days <= (d - e).days", "if a.min_days - 1 <= (d - e).days"),
    Mutation("series: same experts ignored", "solvers/model.py",
             "                self.m.add(sum(mine) <= sum(uses.get((first, eid), [])))",
             "                pass"),
    Mutation("series: served without the visit it follows", "solvers/model.py",
             "self.m.add_bool_or([~self.on_date[q.id, d], *gap_ok])", "pass"),
    Mutation("series: an earlier week's experts ignored", "solvers/model.py",
             "            if r == rid and a.same_experts and eid not in experts:\n                self.m.add(lit == 0)",
             "            if r == rid and a.same_experts and eid not in experts:\n                pass"),
    Mutation("parts: a series cut by a window border", "solvers/parts/solve.py",
             "hoods = share_coverage(problem, keep_series_together(problem,",
             "hoods = share_coverage(problem, (lambda _p, h: h)(problem,"),
    Mutation("parts: a series re-decided in halves", "solvers/parts/hoods.py",
             "free -= cut_series(problem, free, within)", "pass"),
    # --- objective and search
    Mutation("objective without driving", "solvers/model.py",
             "w.priority * served - w.drive_minute * drive - w.onsite_day * days]",
             "w.priority * served - 0 * drive - w.onsite_day * days]"),
    Mutation("search: a timed-out probe cuts a choice", "solvers/cpsat/search.py",
             "return clock.run(solver, probe) == cp_model.INFEASIBLE",
             "return clock.run(solver, probe) != cp_model.OPTIMAL"),
    Mutation("search: choice optimum taken without timing", "solvers/cpsat/search.py",
             "        return bound is not None and value >= bound",
             "        return bound is not None and value >= bound - 1000"),
    # --- the day check (calls placed between the drives and stops of a chosen day)
    Mutation("day check: a quick answer lets a call start late", "solvers/day_check.py",
             "        if t > block[1]:\n            return False\n        t += block[2]",
             "        if t > block[1] + 15:\n            return False\n        t += block[2]"),
    Mutation("day check: the pausing day a minute too short", "solvers/day_check.py",
             "        elif t > due:\n            return False",
             "        elif t > due - 1:\n            return False"),
    Mutation("day check: CP-SAT drives and stops in any order", "solvers/day_check.py",
             "        m.add(starts[i] >= starts[i - 1] + chain[i - 1][2])", "        pass"),
    Mutation("day check: alike calls ordered with a gap", "solvers/day_check.py",
             "m.add(s >= starts[alike[key]] + block[2])",
             "m.add(s >= starts[alike[key]] + block[2] + 1)"),
    # --- routes written into the plan
    Mutation("routes: leave just in time through an online call", "solvers/routes.py",
             "d = free_start(lo, hi, minutes(places[i], places[i + 1]), busy, latest=i == 0)",
             "d = hi - minutes(places[i], places[i + 1]) if i == 0 else free_start(lo, hi, minutes(places[i], places[i + 1]), busy)"),
    # --- by parts: what a sub-problem and the bound of the whole keep
    Mutation("parts: LP bound without the small-town bonus", "solvers/parts/bound.py",
             "c[j] = -served_value(problem, reqs[qi])",
             "c[j] = -problem.objective.priority * reqs[qi].priority"),
    Mutation("parts: LP bound without the coverage penalty", "solvers/parts/bound.py",
             "c[j] = cov.penalty", "c[j] = 0"),
    Mutation("parts: LP bound pays a drive to the expert's own base", "solvers/parts/bound.py",
             "0 if at_base is not None and at_base[ei] else drive) for ei in idx)",
             "drive) for ei in idx)"),
    Mutation("parts: LP bound ignores the published dates", "solvers/parts/bound.py",
             "if d not in didx or (q.fixed is None and published is not None and d <= published):",
             "if d not in didx:"),
    Mutation("parts: a month's cap not narrowed by the rest of the plan", "solvers/parts/hoods.py",
             "by_month[key] = max(0, cap - sum(", "by_month[key] = max(0, cap - 0 * sum("),
    Mutation("parts: a part planned off the appointment grid", "solvers/parts/hoods.py",
             "    return replace(h, start=lo, end=hi,",
             "    return replace(h, start=lo, end=hi, start_grid_min=1,", ("tests/test_decompose.py",)),
    Mutation("parts: the first parts may take twice their share of the time",
             "solvers/parts/run.py", "t.limit = max(0.3, min(0.9 * remaining, fair))",
             "t.limit = max(0.3, min(0.9 * remaining, 2.0 * fair))", ("tests/test_decompose.py",)),
    Mutation("parts: published visits not joined first", "solvers/parts/solve.py",
             "as_fixed_visits(problem) + candidates))", "candidates))"),
    # --- the repair after an event keeps the nights that have passed (tests/test_repair.py)
    Mutation("repair: a night that has passed is free in the model", "solvers/repair.py",
             "    model.keep_nights(after.nights)\n", "", ("tests/test_repair.py",)),
    Mutation("planner: a week planned again moves the nights spent", "solvers/planner.py",
             "        model.keep_nights(spent)\n", "", ("tests/test_repair.py",)),
    Mutation("planner: the first plan forgets the nights spent", "solvers/planner.py",
             "    greedy_routes = build_routes(problem, travel, greedy, away)\n",
             "    greedy_routes = build_routes(problem, travel, greedy)\n",
             ("tests/test_repair.py",)),
    Mutation("night: a night already spent may move", NIGHT_RULES,
             "                self.m.add(lit == int(nights[eid, d] == place))", "                pass",
             ("tests/test_repair.py", NIGHTS)),
    Mutation("repair: the quick plan forgets the nights that have passed", "solvers/repair.py",
             "    nights = {k: x for k, x in after.nights.items() if x is not None}\n"
             "    history = ",
             "    nights: dict = {}\n    history = ", ("tests/test_repair.py",)),
    Mutation("repair: a night that has passed read as spent at the base", "engine/events.py",
             "out[e.id, d] = None if r is None or r.end_at == e.base else r.end_at",
             "out[e.id, d] = None", ("tests/test_repair.py",)),
    Mutation("repair: tonight counted as passed before the day is over", "engine/events.py",
             "(d == today and r is not None and r.return_ <= minute)",
             "(d == today and r is not None)", ("tests/test_repair.py",)),
    Mutation("greedy: the day after a night starts at the base", "solvers/greedy.py",
             "        start_at, end_at = day_ends(e, d, self.nights)\n",
             "        start_at, end_at = e.base, e.base\n", ("tests/test_repair.py",)),
    # --- the bounds a plan by parts reports: each made too low must fail the brute force
    Mutation("bounds: weak duality without the columns' reduced costs", "solvers/parts/bound.py",
             "return float(lam @ self.b_ub - np.minimum(r, 0.0) @ self.upper)",
             "return float(lam @ self.b_ub)", BOUND_TESTS),
    Mutation("capacity: without the small-town bonus", "solvers/parts/capacity.py",
             "c[j] = -served_value(problem, reqs[qi])",
             "c[j] = -problem.objective.priority * reqs[qi].priority", BOUND_TESTS),
    Mutation("capacity: a month's cap − 1", "solvers/parts/capacity.py",
             "rows.ub([(j, 1.0) for j in mj], float(cap), ",
             "rows.ub([(j, 1.0) for j in mj], float(cap) - 1, ", BOUND_TESTS),
    Mutation("capacity: a stop's drive paid twice", "solvers/parts/capacity.py",
             "rows.ub([(j, 1.0), (sj, -1.0)], 0.0)", "rows.ub([(j, 2.0), (sj, -1.0)], 0.0)",
             BOUND_TESTS),
    Mutation("capacity: working minutes halved", "solvers/parts/capacity.py",
             "day * workable[ei, p])", "day * workable[ei, p] / 2)", BOUND_TESTS),
    Mutation("capacity: an on-site day per visit", "solvers/parts/capacity.py",
             "[(od, -float(e.max_visits_per_day))]", "[(od, -1.0)]", BOUND_TESTS),
    Mutation("lagrange: the prices of serving once subtracted", LAGRANGE,
             "return float(p.lam.sum() + ", "return float(-p.lam.sum() + ", LAGRANGE_TESTS),
    Mutation("lagrange: each request's last date forgotten", LAGRANGE,
             "value[j] = served_value(problem, q) / len(q.fields)",
             "value[j] = served_value(problem, q) / len(q.fields) * (d != q.latest)",
             LAGRANGE_TESTS),
    Mutation("lagrange: a day's tour driven twice", LAGRANGE,
             "tours = dist[base, a] + dist[a, b] + dist[b, c] + dist[c, base]",
             "tours = 2 * (dist[base, a] + dist[a, b] + dist[b, c] + dist[c, base])",
             LAGRANGE_TESTS),
    Mutation("lagrange: a month's on-site days one fewer", LAGRANGE,
             "ok = (gain > 0) & (_rank_in(group, gain) < cap)",
             "ok = (gain > 0) & (_rank_in(group, gain) < cap - 1)", LAGRANGE_TESTS),
    Mutation("lagrange: one visit a day fewer", LAGRANGE,
             "self.visits = np.minimum(d.day_visits, by_minutes)",
             "self.visits = np.minimum(d.day_visits - 1, by_minutes)", LAGRANGE_TESTS),
    # --- a place's cap in a part of a larger plan (Location.taken)
    Mutation("parts: others' visits at a place not counted by the model", "solvers/model.py",
             "cap = self.p.location_by_id[loc].cap_on(d)",
             "cap = self.p.location_by_id[loc].max_visits_per_day", ("tests/test_decompose.py",)),
    Mutation("parts: others' visits at a place not counted by the checker", "engine/checker/caps.py",
             "cap = None if loc is None else loc.cap_on(day)",
             "cap = None if loc is None else loc.max_visits_per_day", ("tests/test_decompose.py",)),
    # --- the search's claim of a proof
    Mutation("search: a plan no search bounded called optimal", "solvers/cpsat/search.py",
             "    if found.bound is None:             # nothing proven: no search reached a bound\n"
             "        return Found(\"feasible\", values, value, None)\n",
             "    if found.bound is None:\n        return Found(\"optimal\", values, value, value)\n",
             ("tests/test_lns.py",)),
]


def run(mutation: Mutation, timeout: float) -> str:
    path = ROOT / mutation.path
    text = path.read_text(encoding="utf-8")
    if text.count(mutation.old) != 1:
        # The rule moved or changed: the check must follow it, so this fails (never "caught").
        return (f"NOT APPLIED: its text is found {text.count(mutation.old)} times in "
                f"{mutation.path}, not once")
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               *(mutation.tests or TESTS)], cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout)
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        return ("caught: " if proc.returncode != 0 else "MISSED: ") + tail
    except subprocess.TimeoutExpired:
        return "caught: the tests did not finish (a rule broke the search)"
    finally:
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run the mutations whose name contains this")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args(argv)
    missed = []
    for m in MUTATIONS:
        if args.only and args.only not in m.name:
            continue
        outcome = run(m, args.timeout)
        print(f"{m.name:58s} {outcome}", flush=True)
        if not outcome.startswith("caught"):
            missed.append(m.name)
    if missed:
        print(f"\n{len(missed)} mutation(s) not caught (missed or not applied): "
              f"{', '.join(missed)}")
        return 1
    print("\nevery mutation is caught by a test")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
