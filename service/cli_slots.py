"""``dxshare slots``: the best slots for a new request, while the municipality is on the phone.

    dxshare slots week.json plan.json --request r041 [--top 3] [--json FILE]
                  [--other-mode {no,fallback,also}] [--allow-drop] [--lang en]

``week.json`` (plan-request/1) holds the new request, ``plan.json`` (plan/1) the current plan
without it. Prints the proposals best first — date, time, mode, experts, what each costs the
week (plan score change, added driving) and which visits would move — or, when there is none,
why (the planner's reasons). ``--json`` writes the ``slot-proposals/1`` document, each proposal
with the whole plan it makes, so that anyone can check it. Exit codes: 0 (proposals or a
reason printed), 2 bad input (every problem on stderr, each naming its field).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import InputError, Problem
from engine.model import FIELD_LABELS, PlanRequest, fmt_time
from service.cli import add_lang, request_file
from service.i18n import _, current_lang
from service.paths import add_force, check_outputs, written
from service.report import expert_names, place_name

if TYPE_CHECKING:
    from solvers.slots import Proposal, SlotProposals

__all__ = ["proposals_text", "register"]

_WD_JA = "月火水木金土日"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("slots", help=_("propose the best slots for a new request"),
                       description=_("propose the best slots for one new request in the "
                                     "current plan: who, when, what it costs the week and "
                                     "what would move"))
    p.add_argument("week", help=_("plan-request/1 JSON file with the new request"))
    p.add_argument("plan", help=_("plan/1 JSON file: the current plan without it"))
    p.add_argument("--request", required=True, metavar="ID",
                   help=_("id of the new request in the week"))
    p.add_argument("--top", type=int, default=3, metavar="K",
                   help=_("how many proposals (default 3)"))
    p.add_argument("--json", dest="json_out", metavar="FILE",
                   help=_("also write the proposals (slot-proposals/1, each with its whole "
                          "plan) to this file"))
    add_force(p)
    p.add_argument("--other-mode", choices=["no", "fallback", "also"], default="fallback",
                   help=_("offer the other mode (online instead of on-site or the reverse): "
                          "only when the asked mode has no slot (fallback, default), always "
                          "(also) or never (no)"))
    p.add_argument("--allow-drop", action="store_true",
                   help=_("allow leaving out unpublished visits of the same expert-days to "
                          "make room (each loss priced at its priority)"))
    p.add_argument("--time-limit", type=float, default=10.0,
                   help=_("seconds (default 10)"))
    add_lang(p)
    p.set_defaults(func=cmd_slots)


def cmd_slots(args: argparse.Namespace) -> int:
    from engine.format import load_plan, load_plan_request  # start fast
    from solvers.slots import propose_slots, slots_to_dict  # start fast

    if args.top < 1:
        raise InputError(Problem("--top", "must be >= 1", "1 以上である必要があります"))
    if args.time_limit <= 0:
        raise InputError(Problem("--time-limit", "must be > 0", "0 より大きい必要があります"))
    check_outputs(files=[("--json", args.json_out)], inputs=[args.week, args.plan],
                  force=args.force)
    problem = load_plan_request(request_file(args.week))
    plan = load_plan(args.plan)
    if args.request not in problem.request_by_id:
        raise InputError(Problem("--request", f"no request {args.request!r} in {args.week}",
                                 f"{args.week} に依頼 {args.request!r} はありません"))
    answer = propose_slots(problem, plan, args.request, args.top, other_mode=args.other_mode,
                           allow_drop=args.allow_drop, time_limit=args.time_limit)
    print(proposals_text(problem, answer), end="")
    if args.json_out:
        out = Path(args.json_out)
        with written(out):   # the proposals are printed above whatever becomes of the file
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(slots_to_dict(answer), ensure_ascii=False, indent=2)
                           + "\n", encoding="utf-8")
        print(_("proposals written to {path}").format(path=out))
    return 0


def _day(d: dt.date) -> str:
    if current_lang() == "ja":
        return f"{d.month}/{d.day}（{_WD_JA[d.weekday()]}）"
    return f"{d:%a} {d.month}/{d.day}"


def _mode(mode: str) -> str:
    return _("on-site") if mode == "onsite" else _("online")


def _fields(fields: tuple[str, ...]) -> str:
    ja = current_lang() == "ja"
    return "・".join(FIELD_LABELS[f][1 if ja else 0] if f in FIELD_LABELS else f for f in fields)


def proposals_text(problem: PlanRequest, answer: SlotProposals) -> str:
    """The proposals as a coordinator reads them on the phone, best first; or the reasons."""
    q = answer.request
    title = f" {q.title}" if q.title else ""
    lines = [_("■ New request {id}{title}: {place}, {fields}, {mode} {minutes} min, priority "
               "{priority}").format(id=q.id, title=title, place=place_name(answer.problem,
                                                                          q.location),
                                   fields=_fields(q.fields), mode=_mode(q.mode),
                                   minutes=q.duration_min, priority=q.priority)]
    u = answer.unscheduled
    if u is not None:
        reasons = u.reasons_ja if current_lang() == "ja" and u.reasons_ja else u.reasons
        lines.append(_("No slot as asked ({mode}):").format(mode=_mode(q.mode)))
        lines.extend(f"    - {r}" for r in reasons)
    if answer.proposals:
        lines.append(_("Proposals, best first ({n}):").format(n=len(answer.proposals)))
    for rank, p in enumerate(answer.proposals, start=1):
        lines.extend(_proposal_lines(p.problem, rank, p))
    if not answer.complete:
        lines.append(_("note: the time limit ran out before every candidate day was searched; "
                       "a better slot may exist"))
    return "\n".join(lines) + "\n"


def _proposal_lines(problem: PlanRequest, rank: int, p: Proposal) -> list[str]:
    head = (f"  {rank}. {_day(p.date)} {fmt_time(p.start)}–{fmt_time(p.end)} {_mode(p.mode)} "
            f"{expert_names(problem, p.experts)}")
    if p.mode_changed:
        head += "  " + _("(instead of {mode})").format(mode=_mode(p.requested_mode))
    if p.alternative:
        head += "  " + _("(another time the same day)")
    cost = _("plan score {change:+,}, driving {drive:+} min").format(
        change=p.objective_change, drive=p.drive_minutes_added)
    lines = [head, f"     {cost}"]
    if not p.moved:
        lines.append("     " + _("nothing else moves"))
    for c in p.moved:
        q = problem.request_by_id[c.request]
        where = place_name(problem, q.location)
        if c.kind == "moved" and c.before is not None and c.after is not None:
            lines.append("     " + _("moves: {id} {place} {before} → {after}").format(
                id=c.request, place=where, before=fmt_time(c.before.start),
                after=fmt_time(c.after.start)))
        elif c.before is not None:
            lines.append("     " + _("left out: {id} {place} {when} (priority {priority})").format(
                id=c.request, place=where,
                when=f"{_day(c.before.date)} {fmt_time(c.before.start)}", priority=q.priority))
    return lines
