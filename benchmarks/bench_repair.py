"""The repair after an event: how fast, how minimal, how valid.

On the five Ehime benchmark weeks (``instances/ehime-week-s0`` … ``s4``, each planned once to
its optimum, the published plan), 50 random events (10 a week, every kind in turn: an expert
unavailable, a visit running long, an urgent request, a cancellation, a no-show, a closed town
hall; drawn with seed 2026 from what the plan has at that moment) are repaired:

1. **Latency**: ``solvers.repair.repair(week, plan, event, RepairOptions(time_limit=1))`` per
   event, the whole call (applying the event, building the model, the search, routes, the
   explanations of what is left out, KPIs and changes): p50/p95/max, with where the time went
   (``plan.solver["seconds"]``). The peer, in the same go: what the centre did before events
   existed, re-planning the whole week after the event with the old plan as ``previous``
   (``solvers.planner.solve``: the best objective, then the fewest moved visits; to its proof
   or 60 s), on the same week after the event.
2. **Valid**: every repaired plan checked by ``engine.checker`` against the week after its
   event (invalid: 0).
3. **Minimal**: where the repair says the fewest changes are proven, its served priority and
   weighted changes against a minimum-change model written apart here
   (``reference_fewest``): the planner's rules (``solvers.model.PlannerModel``, so the same
   feasible plans) with its own accounting of what each previous visit became, solved
   lexicographically (served priority, then changes) to a proof with a long limit. (The
   independent brute force of ``tests/repair_bruteforce.py``, sharing no code with the
   planner, is the check on tiny weeks.)
4. **CLI**: ``dxshare event week.json plan.json --event e.json --time-limit 1`` as a whole
   process for the first event of each kind: wall seconds, against ``dxshare --help`` (the
   start-up alone) in the same go.

5. **Through the service, killed**: events written over HTTP with their ``Idempotency-Key``
   while the outbox is delivered to an SMTP sink on loopback, the server SIGKILLed three times
   in the middle (``benchmarks.event_load``): events acknowledged, lost and applied twice;
   messages stored, lost, delivered without being stored, handed over twice (same
   Message-ID) and seen twice by a person (two messages to one recipient about one event).

Writes ``benchmarks/results/repair.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md).

    python -m benchmarks.bench_repair [--events 50] [--time-limit 1] [--no-peer] [--no-cli]
        [--no-service]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.runinfo import run_paragraph

__all__ = ["draw_event", "main", "reference_fewest"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WEEKS = [f"ehime-week-s{i}" for i in range(5)]
KINDS = ("expert_unavailable", "visit_overrun", "urgent_request", "cancelled", "no_show",
         "location_closed")


def _at(day: dt.date, minute: int) -> str:
    return f"{day.isoformat()}T{minute // 60:02d}:{minute % 60:02d}"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def draw_event(rng: random.Random, kind: str, week: Any, plan: Any, n: int
               ) -> dict[str, Any] | None:
    """One event/1 document of ``kind`` for ``week`` and its ``plan``, drawn from what the
    plan has (a visit under way to overrun or miss, a later one to cancel, a place with
    visits to close); None when the plan offers none."""
    from engine.demand import draw_request
    from engine.ehime import OFFICE

    dates = week.horizon.dates
    visits = sorted(plan.visits, key=lambda v: (v.date, v.start))
    if kind in ("visit_overrun", "no_show"):
        # a visit under way: now falls inside it
        onsite = [v for v in visits if v.end - v.start >= 30]
        if not onsite:
            return None
        v = rng.choice(onsite)
        now = _at(v.date, rng.randint(v.start + 5, v.end - 5))
        if kind == "no_show":
            return {"kind": kind, "now": now, "request": v.request}
        return {"kind": kind, "now": now, "request": v.request,
                "minutes": rng.choice([15, 30, 45, 60])}
    day = rng.choice(dates[:-1])
    now_min = rng.randrange(7 * 60, 16 * 60, 15)
    now = _at(day, now_min)
    later = [v for v in visits if (v.date, v.start) > (day, now_min)]
    if kind == "expert_unavailable":
        busy = [e for v in later for e in v.experts]
        eid = rng.choice(busy) if busy else rng.choice(week.experts).id
        start = max(now_min, rng.randrange(8 * 60, 16 * 60, 30))
        if rng.random() < 0.4:      # the rest of the day and the next
            last = dates[min(dates.index(day) + 1, len(dates) - 1)]
            return {"kind": kind, "now": now, "expert": eid, "from": _at(day, start),
                    "until": _at(last, 23 * 60)}
        return {"kind": kind, "now": now, "expert": eid, "from": _at(day, start),
                "until": _at(day, min(23 * 60, start + rng.choice([60, 120, 240, 480])))}
    if kind == "cancelled":
        if not later:
            return None
        return {"kind": kind, "now": now, "request": rng.choice(later).request,
                "by": rng.choice(["municipality", "expert"])}
    if kind == "location_closed":
        if not later:
            return None
        v = rng.choice(later)
        a = rng.randrange(8 * 60, 15 * 60, 30)
        b = min(23 * 60, a + rng.choice([120, 240, 600]))
        if v.date == day:
            a = max(a, now_min)
        return {"kind": kind, "now": now, "location": v.location, "date": v.date.isoformat(),
                "from": _hhmm(a), "until": _hhmm(max(b, a + 60))}
    # urgent_request: drawn as the demand generator draws a request, due by a later date
    places = [loc for loc in week.locations if loc.id != OFFICE]
    loc = rng.choices(places, [math.sqrt(x.population or 1) for x in places])[0]
    fields, mode, dur, _prio, _first, _last = draw_request(rng, 0.15, 0.3)
    by = rng.choice([d for d in dates if d > day])
    return {"kind": kind, "now": now, "by": by.isoformat(),
            "request": {"id": f"u{n:03d}", "location": loc.id, "fields": fields, "mode": mode,
                        "duration_min": dur, "priority": rng.randint(6, 10),
                        "title": "緊急の相談"}}


def events_for(rng: random.Random, week: Any, plan: Any, count: int, first: int
               ) -> list[dict[str, Any]]:
    """``count`` events for one week, the kinds in turn from ``KINDS[first % 6]``; an event
    the week refuses (an overrun past the end of work) is drawn again."""
    from engine.errors import InputError
    from engine.events import apply_event, parse_event

    out: list[dict[str, Any]] = []
    k = first
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > 50 * count:
            raise SystemExit("could not draw the events")
        kind = KINDS[k % len(KINDS)]
        doc = draw_event(rng, kind, week, plan, first + len(out) + 1)
        if doc is None:
            continue
        try:
            apply_event(week, plan, parse_event(doc, week))
        except InputError:
            continue
        out.append(doc)
        k += 1
    return out


def reference_fewest(after: Any, time_limit: float = 120.0) -> tuple[int, int] | None:
    """(served priority, weighted changes) of the best repair of ``after`` (an
    ``engine.events.AfterEvent``), by a model written apart from ``solvers.repair``: the
    planner's rules, and for each previous visit four exclusive literals (kept exactly, same
    experts and date at another start, same experts on another date, anything else while
    served) besides not served; maximise served priority (an urgent request above all), fix
    it, minimise 1·time + 2·date + 4·experts + 8·dropped. None unless both stages are
    proven."""
    from ortools.sat.python import cp_model

    from engine.travel import TravelTimes
    from solvers.model import PlannerModel

    p, previous = after.week, after.previous
    model = PlannerModel(p, TravelTimes(p), all_orders=True)
    model.build()
    m = model.m
    total = sum(q.priority for q in p.requests)
    value = {q.id: q.priority + (total if q.id == after.urgent else 0) for q in p.requests}
    served = sum(value[r] * lit for r, lit in model.served.items())
    cost: list[Any] = []
    for v in previous.visits:
        if v.request not in p.request_by_id:
            continue                   # withdrawn: not a change of the repair's making
        if v.request not in model.served:
            cost.append(8)
            continue
        s = model.served[v.request]
        same_date_experts = [model.present.get((v.request, e, v.date)) for e in v.experts]
        kept, moved, redated, other = (m.new_bool_var(f"ref_{x}_{v.request}")
                                       for x in ("kept", "time", "date", "other"))
        m.add_exactly_one([kept, moved, redated, other, s.Not()])
        if any(x is None for x in same_date_experts):
            m.add(kept == 0)
            m.add(moved == 0)
        else:
            both = m.new_bool_var(f"ref_same_{v.request}")
            m.add_bool_and(same_date_experts).only_enforce_if(both)
            m.add_bool_or([x.Not() for x in same_date_experts]).only_enforce_if(both.Not())
            m.add_implication(kept, both)
            m.add_implication(moved, both)
            m.add(model.start[v.request] == v.start).only_enforce_if(kept)
            m.add(model.start[v.request] != v.start).only_enforce_if(moved)
            # same experts and date: kept or moved, never counted as a larger change
            m.add_bool_or([kept, moved]).only_enforce_if(both)
        # same experts on another date
        elsewhere = []
        for rid, d in model.on_date:
            if rid != v.request or d == v.date:
                continue
            lits = [model.present.get((rid, e, d)) for e in v.experts]
            if any(x is None for x in lits):
                continue
            z = m.new_bool_var(f"ref_on_{rid}_{d}")
            m.add_bool_and(lits).only_enforce_if(z)
            m.add_bool_or([x.Not() for x in lits]).only_enforce_if(z.Not())
            elsewhere.append(z)
        if elsewhere:
            m.add(redated == sum(elsewhere))
        else:
            m.add(redated == 0)
        cost.append(moved + 2 * redated + 4 * other + 8 * s.Not())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    m.maximize(served)
    if solver.solve(m) != cp_model.OPTIMAL:
        return None
    best = int(round(solver.objective_value))
    m.add(served == best)
    m.clear_objective()
    m.minimize(sum(cost))
    if solver.solve(m) != cp_model.OPTIMAL:
        return None
    return best, int(round(solver.objective_value))


def _pct(xs: list[float], p: float) -> float:
    ys = sorted(xs)
    k = (len(ys) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ys[lo] + (ys[hi] - ys[lo]) * (k - lo)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every measure of the module docstring, as numbers."""
    from engine.checker import check_plan
    from engine.events import apply_event, parse_event
    from engine.format import load_plan_request
    from solvers.planner import SolveOptions, solve
    from solvers.repair import RepairOptions, repair

    rng = random.Random(2026)
    per_week = math.ceil(args.events / len(WEEKS))
    rows: list[dict[str, Any]] = []
    cases: list[tuple[str, Any, Any, dict[str, Any]]] = []
    for i, name in enumerate(WEEKS):
        week = load_plan_request(HERE / "instances" / f"{name}.json")
        plan = solve(week, SolveOptions(time_limit=120))
        n = min(per_week, args.events - len(cases))
        for doc in events_for(rng, week, plan, n, i * per_week):
            cases.append((name, week, plan, doc))
    # warm the imports and the solver's first call
    name, week, plan, doc = cases[0]
    repair(week, plan, parse_event(doc, week), RepairOptions(time_limit=args.time_limit))
    for name, week, plan, doc in cases:
        event = parse_event(doc, week)
        t0 = time.perf_counter()
        fixed = repair(week, plan, event, RepairOptions(time_limit=args.time_limit))
        wall = time.perf_counter() - t0
        e = fixed.plan.event or {}
        row: dict[str, Any] = {
            "week": name, "kind": doc["kind"], "seconds": wall,
            "phases": dict(fixed.plan.solver.get("seconds", {})),
            "invalid": len(check_plan(fixed.after.week, fixed.plan)),
            "proven": bool(e.get("fewest_proven")), "moved": e.get("visits_moved"),
            "weight": e.get("change_weight"),
            "fallback": (e.get("fallback") or {}).get("code"),
            "served": _served(fixed.after, fixed.plan), "doc": doc}
        if not args.no_peer:
            after = apply_event(week, plan, event)
            t0 = time.perf_counter()
            peer = solve(after.week, SolveOptions(time_limit=60, previous=after.previous))
            row["peer_seconds"] = time.perf_counter() - t0
            row["peer_status"] = peer.status
        if row["proven"] and not args.no_reference:
            row["reference"] = reference_fewest(fixed.after)
        rows.append(row)
        print(f"{name} {doc['kind']}: {wall:.2f} s, moved {row['moved']}, proven "
              f"{row['proven']}, invalid {row['invalid']}, fallback {row['fallback']}"
              + (f", peer {row['peer_seconds']:.2f} s" if "peer_seconds" in row else "")
              + (f", ours {(row['served'], row['weight'])} ref {row['reference']}"
                 if "reference" in row else ""), file=sys.stderr)
    out: dict[str, Any] = {"rows": rows}
    if not args.no_cli:
        out["cli"] = _cli(cases, args.time_limit)
    if not args.no_service:
        from benchmarks.event_load import run_event_load

        out["service"] = run_event_load(kills=3)
    return out


def _served(after: Any, plan: Any) -> int:
    total = sum(q.priority for q in after.week.requests)
    return sum(q.priority + (total if q.id == after.urgent else 0)
               for q in after.week.requests if q.id in plan.visit_by_request)


def _cli(cases: list[tuple[str, Any, Any, dict[str, Any]]], limit: float
         ) -> dict[str, list[float]]:
    """Whole ``dxshare event`` processes, one per kind, and ``dxshare --help`` beside."""
    from engine.format import plan_request_to_dict, plan_to_dict

    env = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    env["PYTHONPATH"] = str(ROOT)
    exe = [sys.executable, "-m", "service.cli"]
    calls, starts = [], []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for _name, week, plan, doc in cases:
            if doc["kind"] in seen:
                continue
            seen.add(doc["kind"])
            (d / "week.json").write_text(json.dumps(plan_request_to_dict(week)))
            (d / "plan.json").write_text(json.dumps(plan_to_dict(plan)))
            (d / "event.json").write_text(json.dumps(doc))
            t0 = time.perf_counter()
            subprocess.run([*exe, "event", str(d / "week.json"), str(d / "plan.json"),
                            "--event", str(d / "event.json"), "--out", str(d / "out.json"),
                            "--time-limit", str(limit)], env=env, check=True,
                           capture_output=True)
            calls.append(time.perf_counter() - t0)
            (d / "out.json").unlink()
            t0 = time.perf_counter()
            subprocess.run([*exe, "--help"], env=env, check=True, capture_output=True)
            starts.append(time.perf_counter() - t0)
    return {"calls": calls, "starts": starts}


def report(args: argparse.Namespace, res: dict[str, Any], load: tuple[float, float],
           seconds: float) -> str:
    rows = res["rows"]
    secs = [r["seconds"] for r in rows]
    command = ("python -m benchmarks.bench_repair"
               + (f" --events {args.events}" if args.events != 50 else "")
               + (f" --time-limit {args.time_limit:g}" if args.time_limit != 1 else ""))
    lines = [
        "# Repair after an event",
        "",
        run_paragraph(command, seconds, load),
        "",
        f"{len(rows)} events on the five Ehime benchmark weeks (10 a week, every kind in "
        f"turn, seed 2026), each repaired with `RepairOptions(time_limit={args.time_limit:g})`"
        " (one CP-SAT worker) from the week's optimal plan.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| repair, whole call: p50 / p95 / max (s, {len(secs)} events) | "
        f"{_pct(secs, 50):.2f} / {_pct(secs, 95):.2f} / {max(secs):.2f} | p95 ≤ 1 |",
    ]
    phases: dict[str, list[float]] = {}
    for r in rows:
        for k, v in r["phases"].items():
            phases.setdefault(k, []).append(v)
    if phases:
        lines.append("| where it went, median / p95 (s): " + ", ".join(phases) + " | "
                     + ", ".join(f"{statistics.median(v):.2f} / {_pct(v, 95):.2f}"
                                 for v in phases.values()) + " | |")
    peer = [r["peer_seconds"] for r in rows if "peer_seconds" in r]
    if peer:
        opt = sum(r["peer_status"] == "optimal" for r in rows if "peer_status" in r)
        lines.append(f"| peer: re-plan the whole week after the event with `previous` "
                     f"(`solve`), p50 / p95 (s) | {_pct(peer, 50):.2f} / {_pct(peer, 95):.2f} "
                     f"({opt} of {len(peer)} optimal; the repair's median is "
                     f"{statistics.median(secs) / statistics.median(peer):.1f}× the peer's, "
                     f"its p95 {_pct(secs, 95) / _pct(peer, 95):.2f}×) | |")
    proven = [r for r in rows if r["proven"]]
    compared = [r for r in proven if r.get("reference") is not None]
    agree = [r for r in compared if r["reference"] == (r["served"], r["weight"])]
    lines += [
        f"| repaired plans invalid by the checker | {sum(r['invalid'] > 0 for r in rows)} of "
        f"{len(rows)} | 0 |",
        f"| fewest changes proven within the limit | {len(proven)} of {len(rows)} | |",
        f"| repairs that are the quick plan (`event.fallback`: no plan from the model), "
        f"by code | {sum(r.get('fallback') is not None for r in rows)} of {len(rows)} ("
        + (", ".join(f"{c} {n}" for c, n in sorted(Counter(
            r["fallback"] for r in rows if r.get("fallback")).items())) or "none")
        + ") | |",
        f"| proven: served priority and weighted changes = the reference model's | "
        f"{len(agree)} of {len(compared)} compared | all |",
    ]
    if "cli" in res:
        c, s = res["cli"]["calls"], res["cli"]["starts"]
        lines += [
            f"| CLI `dxshare event … --time-limit {args.time_limit:g}`, whole process, median "
            f"/ max (s, one event of each kind) | {statistics.median(c):.2f} / {max(c):.2f} "
            "| ≤ 2 |",
            f"| peer: `dxshare --help` (start-up alone), median (s) | "
            f"{statistics.median(s):.2f} | |",
        ]
    if "service" in res:
        lines += _service_rows(res["service"])
    by_kind: dict[str, list[float]] = {}
    for r in rows:
        by_kind.setdefault(r["kind"], []).append(r["seconds"])
    lines += ["", "| kind | events | median s | max s | visits changed (median) | proven |",
              "|---|---|---|---|---|---|"]
    for kind in KINDS:
        rs = [r for r in rows if r["kind"] == kind]
        if rs:
            lines.append(f"| `{kind}` | {len(rs)} | {statistics.median(by_kind[kind]):.2f} | "
                         f"{max(by_kind[kind]):.2f} | "
                         f"{statistics.median(r['moved'] for r in rs):g} | "
                         f"{sum(r['proven'] for r in rs)} |")
    bad = [r for r in compared if r not in agree]
    if bad:
        lines += ["", "Disagreements (week, kind, ours, reference): " + "; ".join(
            f"{r['week']} {r['kind']} {(r['served'], r['weight'])} {r['reference']}"
            for r in bad)]
    return "\n".join(lines) + "\n"


def _service_rows(sv: dict[str, Any]) -> list[str]:
    """Section 5's rows of the table."""
    post = sv["post_seconds"]
    return [
        f"| through the API, {sv['kills']} × `kill -9` during event writes: events "
        f"acknowledged / lost / applied twice (answers lost on purpose and sent again: "
        f"{sv['replayed']} replayed) | {sv['events_acked']} / **{sv['events_lost']}** / "
        f"**{sv['events_twice']}** | 0 lost, 0 twice |",
        f"| the same run: messages stored / delivered / lost / delivered without an event "
        f"stored | {sv['messages_stored']} / {sv['messages_delivered']} / "
        f"**{sv['messages_lost']}** / {sv['messages_unstored']} | 0 lost |",
        f"| the same run: deliveries duplicated as a person sees them (two messages to one "
        f"recipient about one event) / handed over twice under one Message-ID | "
        f"**{sv['visible_duplicates']}** / {sv['handed_over_twice']} | 0 |",
        f"| the same run: `POST /v1/events` (`EVENT_TIME_LIMIT` 2 s), median / max (s, "
        f"{len(post)} events); last start to all delivered (s) | "
        f"{statistics.median(post):.2f} / {max(post):.2f}; {sv['delivered_after_s']:.1f} | |",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=50)
    ap.add_argument("--time-limit", type=float, default=1.0)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--no-service", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "repair.md"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    res = run(args)
    text = report(args, res, (load0, os.getloadavg()[0]), time.perf_counter() - t0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
