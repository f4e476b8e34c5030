"""A standing appointment at a place (``experts[].busy[].at``) can be kept: on its date the
expert drives from the base to it, on to the next one, and home, within the working hours and
outside their other appointments (docs/FORMAT.md). A document whose appointments cannot be
reached is refused, each at its path. The drives are the plan's: the document's travel times
(given minutes, else the estimate), or those of a plan that drives at another speed
(``TravelTimes.speed_factor``), which checks again with its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import Problem
from engine.format.reader import Reader
from engine.model import Busy, Expert, PlanRequest, fmt_time
from engine.travel import TravelTimes
from engine.words import month_day

__all__ = ["unreachable_appointments"]


def unreachable_appointments(problem: PlanRequest, raw_experts: Sequence[Any],
                             travel: TravelTimes | None = None) -> list[Problem]:
    """The appointments with ``at`` the expert cannot reach in time: each drive of the chain
    base → appointments in time order → base needs one stretch of its minutes, after the one
    before ends (or work starts) and before the next starts (or work ends), clear of the
    expert's appointments without ``at`` (calls: no driving in them). The drives take
    ``travel``'s minutes (default the document's, ``TravelTimes(problem)``); each problem's
    path counts the appointment where ``raw_experts`` (the document's ``experts``) lists it,
    else where the problem does."""
    travel = travel or TravelTimes(problem)
    speed = "" if travel.speed_factor == 1 else \
        f" (driving at {travel.speed_factor:g} × the estimated speed)"
    speed_ja = "" if travel.speed_factor == 1 else f"（推定速度の {travel.speed_factor:g} 倍で走行）"
    out: list[Problem] = []
    for i, e in enumerate(problem.experts):
        raw = raw_experts[i] if i < len(raw_experts) else None
        for d in sorted({b.date for b in e.busy if b.at}):
            chain = sorted((b for b in e.busy if b.at and b.date == d), key=lambda b: b.start)
            calls = sorted((b.start, b.end) for b in e.busy if b.at is None and b.date == d)
            bad = _first_unreachable(e, chain, calls, travel.minutes)
            path = [e.base, *(b.at or "" for b in chain), e.base]
            drive = sum(travel.minutes(a, b) for a, b in zip(path, path[1:], strict=False))
            cap = e.max_drive_minutes_per_day
            if bad is None and cap is not None and drive > cap:
                out.append(Problem(
                    f"experts[{i}].busy[{_index(raw, e, chain[0])}]",
                    f"cannot be kept: the drives to the appointments at a place on {month_day(d)} take "
                    f"{drive} min{speed}, over max_drive_minutes_per_day {cap}",
                    f"守れません: {month_day(d)} の場所での予定への移動が {drive} 分{speed_ja}で、"
                    f"max_drive_minutes_per_day {cap} を超えます"))
            if bad is not None:
                b, frm, t = bad
                frm, at = _name(problem, frm), _name(problem, b.at or "")
                out.append(Problem(
                    f"experts[{i}].busy[{_index(raw, e, b)}]",
                    f"cannot be kept: the {t}-min drive from {frm}{speed} finds no time within "
                    f"the working hours {fmt_time(e.work_start)}–{fmt_time(e.work_end)} around "
                    f"the appointment at {at} {fmt_time(b.start)}–{fmt_time(b.end)} on {month_day(d)}",
                    f"守れません: {frm} からの {t} 分{speed_ja}の移動が勤務時間 {fmt_time(e.work_start)}–"
                    f"{fmt_time(e.work_end)} 内に {month_day(d)} の {at} の予定 {fmt_time(b.start)}–"
                    f"{fmt_time(b.end)} の前後で取れません"))
    return out


def _first_unreachable(e: Expert, chain: list[Busy], calls: list[tuple[int, int]],
                       minutes: Any) -> tuple[Busy, str, int] | None:
    """The first appointment of ``chain`` whose drive in (or, for the last, home) finds no
    stretch clear of ``calls``: (that appointment, where the drive starts, its minutes)."""
    prev_place, prev_end = e.base, e.work_start
    for k in range(len(chain) + 1):
        nxt = chain[k] if k < len(chain) else None
        place = e.base if nxt is None else nxt.at
        assert place is not None
        t = minutes(prev_place, place)
        by = e.work_end if nxt is None else nxt.start
        if _longest_free(prev_end, by, calls) < t:
            return (nxt or chain[-1], prev_place, t)
        if nxt is not None:
            prev_place, prev_end = place, nxt.end
    return None


def _longest_free(lo: int, hi: int, calls: list[tuple[int, int]]) -> int:
    """The longest stretch of minutes in ``lo``…``hi`` that no call covers (negative when
    ``hi < lo``)."""
    best, cur = min(0, hi - lo), lo
    for s, t in calls:
        if t <= cur or s >= hi:
            continue
        best = max(best, s - cur)
        cur = max(cur, t)
    return max(best, hi - cur)


def _index(raw: Any, e: Expert, b: Busy) -> int:
    """The position of ``b`` in the expert's ``busy`` list as written (``raw``), else in
    ``e.busy`` (the order a document written from the problem lists them in)."""
    items = raw.get("busy") if isinstance(raw, Mapping) else None
    if not isinstance(items, list):
        return e.busy.index(b)
    scratch = Reader()
    for j, x in enumerate(items):
        if (isinstance(x, Mapping) and scratch.date(x.get("date"), "") == b.date
                and scratch.time(x.get("start"), "") == b.start
                and scratch.time(x.get("end"), "") == b.end):
            return j
    return 0


def _name(problem: PlanRequest, lid: str) -> str:
    loc = problem.location_by_id.get(lid)
    return loc.name if loc is not None and loc.name else lid
