"""The day as it really runs (``solvers.routes``), each piece against a plain enumeration.

``day_fits`` (can a day with these stops in this order and these online calls run?) is checked
against every interleaving of the calls between the day's blocks, each timed as early as it can
be; against the brute force's own day (``tests/bruteforce.py``); and, up to 14 calls, against
the dynamic programme over every subset of the calls it replaced (``subset_day_fits``, kept
here as the oracle). ``day_tours`` against every permutation of the stops; ``leg_departures``
and ``free_start`` on hand-made days.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from engine.format import parse_plan_request
from engine.model import fmt_time
from solvers import day_check
from solvers.day_check import day_fits
from solvers.routes import (
    Candidate,
    Tour,
    day_tours,
    fits_in_gaps,
    free_start,
    leg_departures,
)
from tests.bruteforce import _Solver

PLACES = ("base", "a", "b", "c")


def test_the_gaps_beside_a_tour_and_what_fits_in_them():
    # base → a (60 min) → base; the stop at a fixed at 10:00–11:00; work 8:00–18:00
    tour = Tour(order=(0,), drive=120, starts=(600,), latest=(600,))
    cands = [Candidate("a", 60, 600, 600)]
    minutes = lambda x, y: 0 if x == y else 60  # noqa: E731
    gaps = tour.gaps("base", cands, minutes, 480, 1080)
    # before leaving by 9:00; between the drive (there by 9:00) and the stop; between the
    # stop and the drive home (leaving by 17:00); after the drive home (back from 12:00)
    assert gaps == ((480, 540), (540, 600), (660, 1020), (720, 1080))
    assert fits_in_gaps(gaps, 480, 540, 60)         # at the base before leaving
    assert fits_in_gaps(gaps, 560, 700, 90)         # after the stop, at 11:00
    assert not fits_in_gaps(gaps, 600, 610, 30)     # would overlap the stop
    # from 9:01 to 9:50 only 9:30 is on a half-hour grid, and 9:30–10:00 is free at a
    assert fits_in_gaps(gaps, 541, 590, 30, grid=30)
    assert not fits_in_gaps(gaps, 541, 590, 30, grid=60)   # 10:00 overlaps the stop
    assert not fits_in_gaps(gaps, 700, 1000, 400)   # longer than any gap


def test_free_start_earliest_and_latest_around_a_call():
    assert free_start(480, 720, 120, [(630, 690)]) == 480
    assert free_start(480, 720, 120, [(630, 690)], latest=True) == 510
    assert free_start(480, 720, 160, [(630, 690)]) is None
    assert free_start(600, 600, 0, []) == 600


def test_leave_early_call_from_the_town_then_visit():
    """The issue's smallest case: 120 min each way, call 10:30–11:30, visit 12:00–13:00."""
    minutes = {("base", "far"): 120, ("far", "base"): 120}

    def t(a: str, b: str) -> int:
        return 0 if a == b else minutes[a, b]

    deps = leg_departures("base", [(720, 780, "far")], [(630, 690)], t, 480, 1080)
    assert deps == (510, 780)          # leave 08:30 (latest clear of the call), home at 13:00
    assert day_fits("base", [Candidate("far", 60, 720, 720)], [(630, 630, 60)], t, 480, 1080)
    # the glued model's answer ("no room beside call") is wrong: only a call that leaves no
    # two-hour stretch before noon makes the day impossible
    assert not day_fits("base", [Candidate("far", 60, 720, 720)], [(570, 570, 60)], t, 480,
                        1080)


def test_a_standing_appointment_off_the_grid_keeps_its_minute():
    """On a 15-minute grid a standing appointment at 10:05–10:50 (a call of one start minute)
    stays where it is: a call that may start 10:00–11:00 fits at 11:00, one that must start
    by 10:15 does not; a visit starts on the grid after it, not inside it."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else 30

    appointment = (605, 605, 45)
    assert day_fits("base", [], [(600, 660, 30), appointment], t, 480, 1080, grid=15)
    assert not day_fits("base", [], [(600, 615, 30), appointment], t, 480, 1080, grid=15)
    assert day_fits("base", [Candidate("far", 60, 680, 700)], [appointment], t, 480, 1080,
                    grid=15)
    assert not day_fits("base", [Candidate("far", 60, 615, 640)], [appointment], t, 480,
                        1080, grid=15)


def test_a_break_starts_at_any_minute_on_the_grid():
    """Stops 10:45–11:46 and 12:30–13:30 at one town: a 40-minute lunch fits 11:46–11:50
    only. As a break (any minute) the day runs; a call of the same window, on the 15-minute
    grid, has no start there."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else 30

    stops = [Candidate("far", 61, 645, 645), Candidate("far", 60, 750, 750)]
    assert day_fits("base", stops, [], t, 480, 1080, grid=15, breaks=[(690, 770, 40)])
    assert not day_fits("base", stops, [(690, 770, 40)], t, 480, 1080, grid=15)
    assert not day_fits("base", stops, [], t, 480, 1080, grid=15, breaks=[(690, 770, 45)])


def test_closed_hours_keep_a_stop_and_a_call_out_of_them():
    """A town hall closed 12:00–13:00: a 60-minute visit that must start 11:30–12:30 cannot
    run there, and a call held 11:45–13:15 has no room either; a visit that may start until
    13:00 waits for the hall to open. Without the spans each of them fits."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else 30

    noon = [(720, 780)]
    visit = [Candidate("hall", 60, 690, 750)]
    assert day_fits("base", visit, [], t, 480, 1080)
    assert not day_fits("base", visit, [], t, 480, 1080, stop_out=[noon])
    assert day_fits("base", [Candidate("hall", 60, 690, 780)], [], t, 480, 1080,
                    stop_out=[noon])
    call = [(705, 735, 60)]
    assert day_fits("base", [], call, t, 480, 1080)
    assert not day_fits("base", [], call, t, 480, 1080, call_out=[noon])
    assert day_fits("base", [], [(705, 780, 60)], t, 480, 1080, call_out=[noon], grid=15)


def test_a_call_inside_every_possible_drive_blocks_the_leg():
    def t(a: str, b: str) -> int:
        return 0 if a == b else 60

    # stops end 10:00 and start 11:00: the 60-minute drive must fill the gap exactly
    assert leg_departures("base", [(540, 600, "a"), (660, 720, "b")], [], t, 480, 1080) == (
        480, 600, 720)
    assert leg_departures("base", [(540, 600, "a"), (660, 720, "b")], [(620, 640)], t, 480,
                          1080) is None


@st.composite
def days(draw: Any) -> dict[str, Any]:
    minutes = {(a, b): draw(st.integers(5, 120)) for a in PLACES for b in PLACES if a != b}
    work_start = draw(st.sampled_from([480, 510]))
    work_end = work_start + draw(st.sampled_from([360, 480, 600]))
    stops = []
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.integers(480, 900))
        stops.append(Candidate(draw(st.sampled_from(PLACES[1:])),
                               draw(st.sampled_from([30, 60, 90])), lo,
                               lo + draw(st.sampled_from([0, 30, 120, 300]))))
    calls = []
    for _ in range(draw(st.integers(0, 3))):
        lo = draw(st.integers(480, 960))
        calls.append((lo, lo + draw(st.sampled_from([0, 30, 90, 240])),
                      draw(st.sampled_from([30, 60]))))
    return {"minutes": minutes, "ws": work_start, "we": work_end, "stops": stops,
            "calls": calls}


def plain_day_fits(day: dict[str, Any]) -> bool:
    """Every order of the calls, merged every way into drive, stop, drive, …, drive home (or
    alone on a day without stops), each block as early as its predecessors allow."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    stops, calls, ws, we = day["stops"], day["calls"], day["ws"], day["we"]
    skeleton: list[tuple[str, Any]] = []
    if stops:
        path = ["base", *(s.location for s in stops), "base"]
        for i in range(len(stops) + 1):
            skeleton.append(("drive", t(path[i], path[i + 1])))
            if i < len(stops):
                skeleton.append(("stop", stops[i]))

    def merges(a: list, b: list) -> Any:
        if not a or not b:
            yield a + b
            return
        for rest in merges(a[1:], b):
            yield [a[0], *rest]
        for rest in merges(a, b[1:]):
            yield [b[0], *rest]

    for perm in itertools.permutations([("call", c) for c in calls]):
        for seq in merges(skeleton, list(perm)):
            clock, ok = ws, True
            for kind, x in seq:
                if kind == "drive":
                    clock += x
                else:
                    lo, hi, dur = (x.lo, x.hi, x.duration) if kind == "stop" else x
                    start = max(clock, lo)
                    if start > hi:
                        ok = False
                        break
                    clock = start + dur
                if clock > we:
                    ok = False
                    break
            if ok:
                return True
    return False


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(days())
def test_day_fits_agrees_with_every_interleaving(day):
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    assert day_fits("base", day["stops"], day["calls"], t, day["ws"], day["we"]) == \
        plain_day_fits(day)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(days(), st.sampled_from([None, 2]), st.sampled_from([None, 150, 300]))
def test_day_tours_are_exactly_the_drivable_orders(day, max_stops, max_drive):
    def t(a: str, b: str) -> int:
        return 0 if a == b else day["minutes"][a, b]

    cands = day["stops"]
    found = day_tours("base", cands, t, day["ws"], day["we"], max_stops=max_stops,
                      max_drive=max_drive, lower=None)
    assert found is not None
    want = {}
    for k in range(1, len(cands) + 1):
        if max_stops is not None and k > max_stops:
            continue
        for order in itertools.permutations(range(len(cands)), k):
            path = ["base", *(cands[i].location for i in order), "base"]
            drive = sum(t(a, b) for a, b in itertools.pairwise(path))
            if max_drive is not None and drive > max_drive:
                continue
            if plain_day_fits({**day, "stops": [cands[i] for i in order], "calls": []}):
                want[order] = drive
    assert {tour.order: tour.drive for tour in found} == want
    for tour in found:
        # each stop's earliest start in the order, and the latest that lets the rest fit
        for pos, i in enumerate(tour.order):
            assert cands[i].lo <= tour.starts[pos] <= tour.latest[pos] <= cands[i].hi


# ------------------------------------------------------------------ the oracle: every subset

def subset_day_fits(base: str, stops: Sequence[Candidate], calls: Sequence[tuple[int, int, int]],
                    minutes: Callable[[str, str], int], work_start: int, work_end: int) -> bool:
    """The day check the planner used before (exact, 2^n in the calls): a dynamic programme
    over the day's phases (at the base, arrived at stop i, done with stop i, home) and the set
    of calls already made, keeping the earliest time of each."""
    n, k = len(calls), len(stops)
    places = [base, *(c.location for c in stops), base]
    phases = 2 * k + 2
    earliest: list[dict[int, int]] = [{} for _ in range(phases)]
    earliest[0][0] = work_start
    by_count = sorted(range(1 << n), key=lambda m: bin(m).count("1"))
    for ph in range(phases):
        table = earliest[ph]
        for placed in by_count:
            t = table.get(placed)
            if t is None:
                continue
            for c, (lo, hi, dur) in enumerate(calls):
                if placed >> c & 1:
                    continue
                at = max(t, lo)
                if at <= hi and at + dur <= work_end and \
                        table.get(placed | 1 << c, 1 << 30) > at + dur:
                    table[placed | 1 << c] = at + dur
        if ph == phases - 1:
            break
        nxt = earliest[ph + 1]
        i = ph // 2
        for placed, t in table.items():
            if ph % 2 == 0:
                arrive = t + minutes(places[i], places[i + 1])
                if arrive <= work_end and nxt.get(placed, 1 << 30) > arrive:
                    nxt[placed] = arrive
            else:
                stop = stops[i]
                start = max(t, stop.lo)
                if start <= stop.hi and nxt.get(placed, 1 << 30) > start + stop.duration:
                    nxt[placed] = start + stop.duration
    return (1 << n) - 1 in earliest[phases - 1]


@st.composite
def busy_days(draw: Any, max_calls: int = 14) -> dict[str, Any]:
    """A day with up to three stops and up to ``max_calls`` calls, in the shapes a week
    produces: calls without windows (the whole working day), all of one length, any mix of
    lengths and windows, or windows drawn around a schedule that runs (so that full days with
    tight windows, the hard ones, are common); often more calls than fit."""
    day = draw(days())
    if draw(st.booleans()):
        day["stops"] = day["stops"][:1]      # (three random stops seldom leave room for many)
    shape = draw(st.sampled_from(["no windows", "one length", "mixed", "planted"]))
    length = draw(st.sampled_from([15, 30, 60]))
    n = draw(st.integers(0, max_calls))
    calls = []
    clock = day["ws"]
    for _ in range(n):
        dur = length if shape in ("no windows", "one length") else draw(
            st.sampled_from([15, 20, 30, 45, 60]))
        if shape == "no windows":
            calls.append((day["ws"], day["we"] - dur, dur))
        elif shape == "planted":
            clock += draw(st.sampled_from([0, 0, 5, 30]))
            calls.append((clock - draw(st.sampled_from([0, 10, 30, 120])),
                          clock + draw(st.sampled_from([0, 10, 30, 120])), dur))
            clock += dur
        else:
            lo = draw(st.integers(day["ws"] - 30, day["we"] - 30))
            calls.append((lo, lo + draw(st.sampled_from([0, 30, 90, 240, 600])), dur))
    if shape == "planted":
        calls = draw(st.permutations(calls))
    return {**day, "calls": calls}


def _minutes(day: dict[str, Any]) -> Callable[[str, str], int]:
    return lambda a, b: 0 if a == b else day["minutes"][a, b]


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(busy_days())
def test_day_fits_agrees_with_every_subset_up_to_14_calls(day):
    t = _minutes(day)
    args = ("base", day["stops"], day["calls"], t, day["ws"], day["we"])
    assert day_fits(*args) == subset_day_fits(*args)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(busy_days(max_calls=9))
def test_each_way_to_decide_is_exact_on_its_own(day):
    """Each quick answer is only ever given when it is right, and CP-SAT alone (step 3)
    answers every day right: the quick answers cannot hide a wrong fallback."""
    t = _minutes(day)
    truth = subset_day_fits("base", day["stops"], day["calls"], t, day["ws"], day["we"])
    chain = day_check._chain("base", day["stops"], t, day["ws"], day["we"])
    jobs = [(max(lo, day["ws"]), min(hi, day["we"] - d), d) for lo, hi, d in day["calls"]]
    if chain is None or any(lo > hi for lo, hi, _ in jobs):
        assert not truth
        return
    for rule in (False, True):
        if day_check._list_schedule(chain, jobs, day["ws"], calls_first=rule):
            assert truth
        if day_check._list_schedule(day_check._mirror(chain[::-1]), day_check._mirror(jobs), -day["we"],
                                 calls_first=rule):
            assert truth
    if not day_check._fits_with_pauses([*chain, *jobs], day["ws"]):
        assert not truth
    assert day_check._cp_sat_fits(chain, jobs, None) == truth


@st.composite
def one_day_documents(draw: Any) -> dict[str, Any]:
    """One expert, one date, up to two on-site requests and up to four online ones, windows
    or not: a document the brute force can take whole."""
    ws = draw(st.sampled_from([480, 540]))
    we = ws + draw(st.sampled_from([240, 360, 480]))
    travel = {a: {b: draw(st.integers(10, 120)) for b in ("B", "X", "Y") if b != a}
              for a in ("B", "X", "Y")}
    requests = []
    n_on, n_off = draw(st.integers(0, 2)), draw(st.integers(1, 4))
    for i in range(n_on + n_off):
        dur = draw(st.sampled_from([30, 60, 90]))
        q: dict[str, Any] = {"id": f"r{i}", "location": draw(st.sampled_from(["X", "Y"])),
                             "fields": ["pr"], "mode": "onsite" if i < n_on else "online",
                             "duration_min": dur, "priority": 1}
        if draw(st.booleans()):
            lo = draw(st.integers(ws, we - dur))
            q["window"] = [fmt_time(lo), fmt_time(min(
                lo + dur + draw(st.sampled_from([0, 30, 120])), 1439))]
        requests.append(q)
    return {"format": "plan-request/1", "horizon": {"start": "2026-12-07", "end": "2026-12-07"},
            "locations": [{"id": x, "name": x, "open": "06:00", "close": "22:00"}
                          for x in ("B", "X", "Y")],
            "experts": [{"id": "e", "base": "B", "fields": ["pr"], "work_start": fmt_time(ws),
                         "work_end": fmt_time(we)}],
            "requests": requests, "travel": {"minutes": travel}}


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(one_day_documents())
def test_day_fits_agrees_with_the_brute_force_day(doc):
    """All of a day's requests together, in some order of the stops: ``day_fits`` on each
    order against the brute force's own enumeration of every way the day can run."""
    note(str(doc))
    problem = parse_plan_request(doc)
    brute = _Solver(problem, release=False)
    chosen = {q.id: brute.choices[q.id][0] for q in problem.requests if brute.choices[q.id]}
    if len(chosen) < len(problem.requests):
        return           # some request cannot be served at all that day: nothing to compare
    truth = brute.evaluate(chosen) is not None
    e = problem.experts[0]
    onsite = [q for q in problem.requests if q.onsite]
    stops = [Candidate(q.location, q.duration_min, chosen[q.id].lo, chosen[q.id].hi)
             for q in onsite]
    calls = [(chosen[q.id].lo, chosen[q.id].hi, q.duration_min)
             for q in problem.requests if not q.onsite]
    minutes = brute.t.minutes
    fits = any(day_fits(e.base, [stops[i] for i in order], calls, minutes, e.work_start,
                        e.work_end) for order in itertools.permutations(range(len(stops))))
    assert fits == truth


@pytest.mark.parametrize("n", [40, 200])
@pytest.mark.parametrize("stops", [[], [Candidate("a", 60, 660, 720)]])
def test_calls_without_windows_are_decided_without_a_search(monkeypatch, n, stops):
    """Calls sharing one window (here the whole day) are settled by the quick answers, with
    no CP-SAT and no table over subsets, at any number: a day of 08:00-16:00 holds ten
    half-hour calls beside an hour's visit an hour's drive away (or 16 without), not one more."""
    def no_search(*_: Any) -> bool:
        raise AssertionError("CP-SAT should not be needed")

    monkeypatch.setattr(day_check, "_cp_sat_fits", no_search)

    def t(a: str, b: str) -> int:
        return 0 if a == b else 60

    room = 10 if stops else 16          # the visit and its two drives take 180 minutes
    calls = [(480, 930, 30)] * n
    assert day_fits("base", stops, calls[:room], t, 480, 960)
    assert not day_fits("base", stops, calls[:room + 1], t, 480, 960)
    assert not day_fits("base", stops, calls, t, 480, 960)


def test_a_hard_day_goes_to_cp_sat_and_is_decided_exactly(monkeypatch):
    """Packing calls of different lengths into the gaps around a pinned visit: the calls that
    fit are placed by a quick answer; that those that do not fit cannot is CP-SAT's to say
    (they would fit if they could pause)."""
    def t(a: str, b: str) -> int:
        return 0 if a == b else 30

    # 08:00-11:30 around a visit pinned at 09:30-10:00, 30 minutes away: 60 free minutes
    # before the drive out, 60 after the drive back. Calls of 40, 40, 20 and 20 fit (a 40 and
    # a 20 on each side); three of 40 (120 minutes, as much as is free) do not.
    stops = [Candidate("a", 30, 570, 570)]
    fit = [(480, 650, 40), (480, 650, 40), (480, 670, 20), (480, 670, 20)]
    misfit = [(480, 650, 40), (480, 650, 40), (480, 650, 40)]
    assert subset_day_fits("base", stops, fit, t, 480, 690)
    assert not subset_day_fits("base", stops, misfit, t, 480, 690)
    asked = []
    real = day_check._cp_sat_fits

    def counted(*args: Any) -> bool | None:
        asked.append(args)
        return real(*args)

    monkeypatch.setattr(day_check, "_cp_sat_fits", counted)
    assert not day_fits("base", stops, misfit, t, 480, 690)
    assert day_fits("base", stops, fit, t, 480, 690)
    assert len(asked) == 1


def test_cp_sat_alone_keeps_the_chain_in_order_and_packs_alike_calls_tight():
    """Step 3 on days the quick answers settle before it: two short stops at one place an
    hour from the base and four calls, which fit only if a drive could come before the stop it
    leaves; and sixteen half-hour calls filling 08:00-16:00 to the minute."""
    minutes = {("base", "b"): 60, ("b", "base"): 10}

    def t(a: str, b: str) -> int:
        return 0 if a == b else minutes[a, b]

    stops = [Candidate("b", 10, 550, 750), Candidate("b", 10, 490, 690)]
    calls = [(560, 590, 30), (500, 510, 30), (570, 600, 30), (690, 690, 10)]
    assert not subset_day_fits("base", stops, calls, t, 480, 720)
    chain = day_check._chain("base", stops, t, 480, 720)
    assert chain is not None
    assert day_check._cp_sat_fits(chain, calls, None) is False
    assert day_check._cp_sat_fits(chain, calls[:2], None) is True
    home = day_check._chain("base", [], t, 480, 960)
    assert home is not None
    assert day_check._cp_sat_fits(home, [(480, 930, 30)] * 16, None) is True
    assert day_check._cp_sat_fits(home, [(480, 930, 30)] * 17, None) is False
