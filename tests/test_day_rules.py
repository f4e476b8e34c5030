"""The expert-day builder's own promises, checked on the builder alone (solvers/cpsat/day.py).

Two of its rules change no plan when weakened, because the rest of the day already implies
them: ``new_legs`` makes no literal for a leg that cannot be driven in time or within the
driving cap (the legs' times and the cap would refuse it anyway; without the pruning a week's
model holds a literal for every ordered pair of stops), and ``link_on_day`` ties the stops made
to the on-site day (the circuit and the legs' times also do). Each is checked here as the
builder documents it, so that weakening it fails a test.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from engine.model import Expert
from solvers.cpsat.day import DayRules, Stop

#: Driving minutes between the test's places: the base "o", towns "a" and "b".
_MINUTES = {frozenset(("o", "a")): 30, frozenset(("o", "b")): 40, frozenset(("a", "b")): 90}


def _minutes(x: str, y: str) -> int:
    return 0 if x == y else _MINUTES[frozenset((x, y))]


def _expert(**kw: int | None) -> Expert:
    return Expert("e1", ("pr",), "o", work_start=540, work_end=1020, **kw)  # type: ignore[arg-type]


def _stop(m: cp_model.CpModel, request: str, place: str, lo: int, hi: int,
          present: cp_model.LiteralT = 1) -> Stop:
    return Stop(request, place, 60, lo, hi, m.new_int_var(lo, hi, f"start_{request}"), present)


def _legs(stops_spec, **expert) -> set[tuple[int, int]]:
    m = cp_model.CpModel()
    stops = [_stop(m, *spec) for spec in stops_spec]
    return set(DayRules(m, _minutes, _minutes).new_legs(_expert(**expert), stops, "d"))


def test_every_leg_that_fits_has_a_literal():
    # a at 09:30–15:00, b at 09:40–15:00: every order fits the day.
    got = _legs([("r1", "a", 570, 900), ("r2", "b", 580, 900)])
    assert got == {(0, 1), (0, 2), (1, 0), (2, 0), (1, 2), (2, 1)}


def test_no_literal_for_a_leg_that_cannot_be_driven_in_time():
    # r1 at a starts 10:00–13:00 and ends at 11:00 at the earliest; a → b is 90 minutes and
    # r2 at b must start by 11:00: a then b cannot be driven in time. b then a can (r2 ends
    # at 10:40 at the earliest, at a by 12:10).
    got = _legs([("r1", "a", 600, 780), ("r2", "b", 580, 660)])
    assert (1, 2) not in got
    assert (2, 1) in got


def test_no_literal_for_the_drive_home_after_work_ends():
    # r1 ends at 17:00 at the earliest; the drive home (30 min) would end after work ends.
    got = _legs([("r1", "a", 960, 990)])
    assert (1, 0) not in got
    assert (0, 1) in got


def test_no_literal_for_a_leg_beyond_the_driving_cap():
    # Any tour through a and b drives at least 30 + 90 + 40 = 160 minutes: with a cap of
    # 150 neither a → b nor b → a is kept; each town alone (60 or 80 minutes) still is.
    got = _legs([("r1", "a", 570, 900), ("r2", "b", 580, 900)],
                max_drive_minutes_per_day=150)
    assert got == {(0, 1), (0, 2), (1, 0), (2, 0)}
    assert _legs([("r1", "a", 570, 900), ("r2", "b", 580, 900)],
                 max_drive_minutes_per_day=160) >= {(1, 2), (2, 1)}


def _on_day_status(present: bool, on_day: bool) -> int:
    """Solve ``link_on_day`` alone: one optional stop forced made or not, the day forced
    on-site or not."""
    m = cp_model.CpModel()
    made = m.new_bool_var("made")
    day = m.new_bool_var("on_day")
    stop = _stop(m, "r1", "a", 570, 900, present=made)
    DayRules(m, _minutes, _minutes).link_on_day([stop], day)
    m.add(made == int(present))
    m.add(day == int(on_day))
    return cp_model.CpSolver().solve(m)


def test_a_stop_made_makes_the_day_on_site():
    assert _on_day_status(present=True, on_day=False) == cp_model.INFEASIBLE
    assert _on_day_status(present=True, on_day=True) == cp_model.OPTIMAL


def test_an_on_site_day_makes_a_stop():
    assert _on_day_status(present=False, on_day=True) == cp_model.INFEASIBLE
    assert _on_day_status(present=False, on_day=False) == cp_model.OPTIMAL
