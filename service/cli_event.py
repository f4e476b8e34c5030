"""``dxshare event``: the week went wrong — repair the rest of it at once, changing little.

    dxshare event week.json plan.json --event event.json --out plan2.json
                  [--out-week week2.json] [--time-limit S] [--ics DIR] [--force] [--lang en]

``week.json`` (plan-request/1) and ``plan.json`` (plan/1) are the week and its current plan,
``event.json`` what happened (``event/1``, docs/FORMAT.md "Events"). Writes the repaired plan
(plan/1 with ``changes`` and ``event``) and prints what it cost and, by municipality, whom to
call. ``--out-week`` writes the week after the event (history fixed, the event's rules in it):
the repaired plan is valid for that week, and the next event starts from the two.
Without ``--out`` the plan goes to a new file (``plan-repaired-YYYYMMDD-HHMM.json``); like every
command's outputs, an existing file is replaced only with ``--force`` and an input never,
checked before the repair (``service.paths``).
Exit codes: 0 repaired, 2 bad input (every problem on stderr, each naming its field).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, Problem
from engine.model import fmt_time
from service.cli import add_lang
from service.i18n import _, current_lang
from service.paths import add_force, check_outputs, new_plan_name, written

if TYPE_CHECKING:
    from engine.events import Event
    from engine.model import Plan, PlanRequest

__all__ = ["event_text", "event_words", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("event", help=_("repair the week's plan after an event"),
                       description=_("repair the rest of the week after an event (an expert "
                                     "unavailable, a visit running long, an urgent request, a "
                                     "cancellation, a no-show, a closed town hall): the past "
                                     "stays, as few visits as possible change"))
    p.add_argument("week", help=_("plan-request/1 JSON file of the week"))
    p.add_argument("plan", help=_("plan/1 JSON file: the week's current plan"))
    p.add_argument("--event", required=True, metavar="FILE",
                   help=_("event/1 JSON file: what happened and when"))
    p.add_argument("--out", help=_("where to write the repaired plan/1 (default: a new file "
                                   "plan-repaired-YYYYMMDD-HHMM.json, never over an earlier "
                                   "plan)"))
    add_force(p)
    p.add_argument("--out-week", metavar="FILE",
                   help=_("also write the week after the event (plan-request/1)"))
    p.add_argument("--ics", metavar="DIR", help=_("also write one iCalendar file per expert"))
    p.add_argument("--time-limit", type=float, default=10.0, help=_("seconds (default 10)"))
    p.add_argument("--seed", type=int, default=0, help=_("solver seed (default 0)"))
    add_lang(p)
    p.set_defaults(func=cmd_event)


def cmd_event(args: argparse.Namespace) -> int:
    from engine.events import parse_event  # start fast
    from engine.format import (  # start fast
        dump_plan,
        load_plan,
        load_plan_request,
        plan_request_to_dict,
        read_json,
    )
    from service.report import changes_text  # start fast
    from solvers.repair import RepairOptions, repair  # start fast

    if args.time_limit <= 0:
        raise InputError(Problem("--time-limit", "must be > 0", "0 より大きい必要があります"))
    out = Path(args.out) if args.out else new_plan_name(stem="plan-repaired")
    check_outputs(files=[("--out", out), ("--out-week", args.out_week)], dirs=[("--ics", args.ics)],
                  inputs=[args.week, args.plan, args.event], force=args.force)
    week = load_plan_request(args.week)
    plan = load_plan(args.plan)
    if (stray := _not_in_week(week, plan)) is not None:
        raise InputError(stray)
    event = parse_event(read_json(args.event), week)
    fixed = repair(week, plan, event, RepairOptions(time_limit=args.time_limit, seed=args.seed))
    # what the repair changed is printed whatever can be saved; each file that cannot be
    # written is named after it, and the others are still written
    print(event_text(fixed.plan.event or {}, event_words(event, week, plan), event.now),
          end="")
    print(changes_text(fixed.after.week, fixed.plan), end="")
    problems: list[Problem] = []
    for target, kind in ((out, "plan"), (args.out_week, "week"), (args.ics, "ics")):
        if not target:
            continue
        try:
            with written(target):
                if kind == "ics":
                    _calendars(Path(target), fixed.after.week, fixed.plan)
                    continue
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                if kind == "plan":
                    dump_plan(fixed.plan, target)
                    print(_("plan written to {path}").format(path=target))
                else:
                    Path(target).write_text(json.dumps(plan_request_to_dict(fixed.after.week),
                                                       ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
                    print(_("week after the event written to {path}").format(path=target))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return 0


def _not_in_week(week: PlanRequest, plan: Plan) -> Problem | None:
    """The plan's visits whose request the week does not have, named as the reports name a
    visit: its place, day and time, the id last (``宇和島市 12/8（火） 10:00（依頼 r9）``).
    The week is the only file with subjects, so a request it lacks is named without one."""
    from engine.format.places import Places  # start fast
    from engine.words import month_day  # start fast

    stray = sorted((v for v in plan.visits if v.request not in week.request_by_id),
                   key=lambda v: (v.request, v.date, v.start))
    if not stray:
        return None
    places = Places(list(week.locations))
    first = {v.request: v for v in reversed(stray)}
    en = [f"{places.name(v.location, 'en')} {v.date:%a} {month_day(v.date)} {fmt_time(v.start)} "
          f"(request {rid})" for rid, v in sorted(first.items())]
    ja = [f"{places.name(v.location, 'ja')} {month_day(v.date)}（{_WD_JA[v.date.weekday()]}） "
          f"{fmt_time(v.start)}（依頼 {rid}）" for rid, v in sorted(first.items())]
    return Problem("plan.visits", "requests not in the week: " + ", ".join(en),
                   "週にない依頼があります: " + "、".join(ja))


def _calendars(d: Path, week: Any, plan: Any) -> None:
    """Each expert's calendar updated in place (``service.calendars.update_calendars``), and
    where each expert's cancellations are."""
    from service.calendars import update_calendars  # start fast

    for path in update_calendars(d, week, plan):
        print(_("cancellations: {path}").format(path=path))
    print(_("iCalendar: {dir}/ (one per expert)").format(dir=d))


_WD_JA = "月火水木金土日"


def _day(d: dt.date) -> str:
    if current_lang() == "ja":
        return f"{d.month}/{d.day}（{_WD_JA[d.weekday()]}）"
    return f"{d:%a} {d.month}/{d.day}"


def _at(t: dt.datetime) -> str:
    return f"{_day(t.date())} {t:%H:%M}"


def event_words(ev: Event, week: PlanRequest, plan: Plan) -> str:
    """What happened, as the coordinator says it: names, days and times, never the kind's
    key or an ISO date-time (``Enaが 12/8（火） 07:00 から … まで対応できなくなった``)."""
    from service.report import expert_names, place_name  # start fast

    reason = "" if not ev.reason else (f"（{ev.reason}）" if current_lang() == "ja"
                                       else f" ({ev.reason})")
    if ev.kind == "expert_unavailable":
        assert ev.expert is not None and ev.start is not None and ev.end is not None
        return _("{expert} is unavailable from {start} until {end}").format(
            expert=expert_names(week, [ev.expert]), start=_at(ev.start), end=_at(ev.end)
        ) + reason
    if ev.kind == "location_closed":
        assert ev.location is not None and ev.start is not None and ev.end is not None
        return _("{place} is closed on {date} from {start} to {end}").format(
            place=place_name(week, ev.location), date=_day(ev.start.date()),
            start=f"{ev.start:%H:%M}", end=f"{ev.end:%H:%M}") + reason
    q = ev.new_request if ev.kind == "urgent_request" else week.request_by_id[str(ev.request)]
    assert q is not None
    what = dict(place=place_name(week, q.location),
                title=q.title or _("request {id}").format(id=q.id))
    if ev.kind == "urgent_request":
        assert ev.by_date is not None
        text = _("{place} asked urgently for “{title}”, by {date}").format(
            date=_day(ev.by_date), **what)
    elif ev.kind == "visit_overrun":
        text = _("the visit “{title}” at {place} ran {minutes} min longer than planned").format(
            minutes=ev.minutes, **what)
    elif ev.kind == "cancelled" and ev.by == "expert":
        v = next((v for v in plan.visits if v.request == q.id), None)
        text = _("{experts} cancelled “{title}” at {place}").format(
            experts=expert_names(week, v.experts) if v is not None else _("the expert"), **what)
    elif ev.kind == "cancelled":
        text = _("{place} cancelled “{title}”").format(**what)
    else:
        text = _("the visit “{title}” at {place} ended at {time}").format(
            time=f"{ev.now:%H:%M}", **what)
    return text + reason


def event_text(block: Mapping[str, Any], words: str = "", now: dt.datetime | None = None) -> str:
    """What the repair cost, in the coordinator's words, under what happened (``words``,
    ``event_words``) and when it was known."""
    changed = block.get("changed", {})
    when = _at(now) if now is not None else str(block.get("now", ""))
    lines = [_("■ Event ({now}): {what}").format(now=when, what=words or block.get("kind")),
             _("  priority lost {lost}, newly served {added}; visits changed {n} (new time "
               "{time}, new date {date}, new expert {experts}, dropped {dropped})").format(
                 lost=block.get("priority_lost", 0), added=block.get("priority_added", 0),
                 n=block.get("visits_moved", 0), **{k: changed.get(k, 0) for k in
                                                    ("time", "date", "experts", "dropped")}),
             _("  fewest changes proven") if block.get("fewest_proven")
             else _("  fewest changes not proven within the time limit")]
    if "urgent_placed" in block:
        lines.append(_("  urgent request placed") if block["urgent_placed"]
                     else _("  urgent request could not be placed"))
    fallback = block.get("fallback")
    if isinstance(fallback, Mapping):
        # the solver's own words, in both languages (as the reasons of unscheduled requests)
        text = fallback.get("message_ja" if current_lang() == "ja" else "message")
        lines.append("  ⚠ " + str(text))
    return "\n".join(lines) + "\n"
