"""Slot proposals for a new request: how fast, how exact, how safe.

On an Ehime week with 40 planned visits (the CLI demo week, seed 8, with 48 requests: its
optimal plan serves 40), 50 new requests are drawn as the demand generator draws them
(``engine.demand.draw_request``: fields, joint share, mode, duration, priority, dates, window;
places weighted by √population) and each is proposed its 3 best slots:

1. **Python API**: ``solvers.slots.propose_slots(week + request, plan, id, k=3)`` per call,
   p50/p95/max over every call of every round. The peer, in the same go: re-planning the
   week with the request (``solvers.planner.solve``), which is what the centre would do
   without proposals.
2. **Exactness**: the best proposal's objective against a CP-SAT re-plan that must serve the
   new request while every other visit keeps its experts and date (times may shift), built
   here with ``solvers.model.PlannerModel`` and extra constraints on its ``served`` and
   ``present`` variables (``reference_objective``). Both say "no slot" or both give the same
   objective.
3. **Safety**: every proposal's plan checked by ``engine.checker`` (invalid: 0), and none
   touches the published visit (r001, fixed).
4. **HTTP**: a ``dxshare serve`` process on loopback with the same week stored, planned by a
   week job and published; each new request stored (draft) and its proposals asked with
   ``POST /v1/requests/{id}/slot-proposals`` (centre key, 3 proposals): p50/p95 per call; the
   peer is ``GET /v1/health`` (an HTTP and database round trip) in the same go.

Writes ``benchmarks/results/slots.md`` (``python -m benchmarks.collect`` folds it into
benchmarks/README.md).

    python -m benchmarks.bench_slots [--requests 50] [--rounds 3] [--no-http] [--no-replan]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.runinfo import run_paragraph

__all__ = ["main", "new_requests", "reference_objective", "week_with_40_visits"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WEEK = "2026-12-07"
DEMO_SEED = 8
REQUESTS = 48          # the demo week's 40 requests and 8 more: the optimal plan serves 40
PUBLISHED = "r001"     # the demo week's published visit


def week_with_40_visits(time_limit: float = 120.0) -> tuple[Any, Any]:
    """The week (plan-request) and its optimal plan with 40 visits."""
    from engine.demand import ehime_week
    from solvers.planner import SolveOptions, solve

    problem = ehime_week(WEEK, seed=DEMO_SEED, requests_per_week=REQUESTS)
    plan = solve(problem, SolveOptions(time_limit=time_limit))
    if plan.status != "optimal":
        raise SystemExit(f"the week's plan is {plan.status}, not optimal: the exactness "
                         "comparison needs an optimal plan")
    return problem, plan


def new_requests(problem: Any, n: int, seed: int = 2026) -> list[Any]:
    """``n`` new requests drawn as the demand generator draws its requests (ids n001…)."""
    from engine.demand import draw_request
    from engine.ehime import OFFICE
    from engine.model import Request

    rng = random.Random(seed)
    places = [loc for loc in problem.locations if loc.id != OFFICE]
    weights = [math.sqrt(loc.population or 1) for loc in places]
    monday = problem.horizon.start
    out = []
    for i in range(1, n + 1):
        loc = rng.choices(places, weights)[0]
        fields, mode, dur, prio, first, last = draw_request(rng, 0.15, 0.3)
        window = None
        if rng.random() < 0.2:
            window = rng.choice([(510, 720), (780, 1035)])
        out.append(Request(f"n{i:03d}", loc.id, tuple(fields), mode, dur, prio,  # type: ignore[arg-type]
                           monday + dt.timedelta(days=first), monday + dt.timedelta(days=last),
                           window, title="新しい相談"))
    return out


def reference_objective(problem: Any, plan: Any, rid: str, time_limit: float = 120.0
                        ) -> int | None:
    """The best objective of a CP-SAT re-plan of ``problem`` that serves ``rid`` while every
    visit of ``plan`` keeps its experts and date (any times, any orders) and no other request
    is added; ``None`` when there is no such plan."""
    from ortools.sat.python import cp_model

    from engine.travel import TravelTimes
    from solvers.model import PlannerModel

    model = PlannerModel(problem, TravelTimes(problem), all_orders=True)
    model.build()
    if rid not in model.served:
        return None
    model.m.add(model.served[rid] == 1)
    planned = {v.request: v for v in plan.visits}
    for q in problem.requests:
        if q.id == rid or q.id not in model.served:
            continue
        v = planned.get(q.id)
        if v is None:
            model.m.add(model.served[q.id] == 0)
            continue
        for eid in v.experts:
            lit = model.present.get((q.id, eid, v.date))
            if lit is None:
                raise AssertionError(f"{q.id}: the plan's visit is not one of its options")
            model.m.add(lit == 1)
    model.m.maximize(model.main_objective())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = time_limit
    code = solver.solve(model.m)
    if code == cp_model.INFEASIBLE:
        return None
    if code != cp_model.OPTIMAL:
        raise AssertionError(f"reference for {rid}: {solver.status_name(code)}")
    return int(round(solver.objective_value))


def _pct(xs: list[float], p: float) -> float:
    ys = sorted(xs)
    k = (len(ys) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ys[lo] + (ys[hi] - ys[lo]) * (k - lo)


def python_api(problem: Any, plan: Any, news: list[Any], rounds: int,
               replan: bool) -> dict[str, Any]:
    """Per-call seconds of propose_slots, the peer re-plans, exactness and safety counts."""
    from engine.checker import check_plan
    from solvers.planner import SolveOptions, solve
    from solvers.slots import propose_slots

    weeks = {q.id: replace(problem, requests=(*problem.requests, q)) for q in news}
    propose_slots(weeks[news[0].id], plan, news[0].id, 3)         # warm the imports
    calls: list[float] = []
    replans: list[float] = []
    answers: dict[str, Any] = {}
    for r in range(rounds):
        for q in news:
            t0 = time.perf_counter()
            answers[q.id] = propose_slots(weeks[q.id], plan, q.id, 3)
            calls.append(time.perf_counter() - t0)
            if replan and r == 0:
                t0 = time.perf_counter()
                solve(weeks[q.id], SolveOptions(time_limit=60))
                replans.append(time.perf_counter() - t0)
    published = plan.visit_by_request[PUBLISHED]
    invalid = touched = proposals = withheld = shifting = 0
    for q in news:
        ans = answers[q.id]
        withheld += len(ans.withheld)
        for p in ans.proposals:
            proposals += 1
            shifting += bool(p.shifted)
            invalid += bool(check_plan(p.problem, p.plan))
            touched += p.plan.visit_by_request.get(PUBLISHED) != published
    # exactness: the requested mode only, against the reference re-plan
    agree, disagree, served, ref_seconds = 0, [], 0, []
    for q in news:
        best = propose_slots(weeks[q.id], plan, q.id, 1, other_mode="no")
        mine = best.proposals[0].plan.objective if best.proposals else None
        t0 = time.perf_counter()
        ref = reference_objective(weeks[q.id], plan, q.id)
        ref_seconds.append(time.perf_counter() - t0)
        served += mine is not None
        if mine == ref:
            agree += 1
        else:
            disagree.append((q.id, mine, ref))
    return {"calls": calls, "replans": replans, "invalid": invalid, "touched": touched,
            "shifting": shifting,
            "proposals": proposals, "withheld": withheld, "agree": agree,
            "disagree": disagree, "with_slot": served, "ref_seconds": ref_seconds,
            "complete": sum(a.complete for a in answers.values())}


def http_api(news: list[Any], extra: list[Any], rounds: int) -> dict[str, Any]:
    """Per-call seconds of POST /v1/requests/{id}/slot-proposals on a live server, and the
    peer GET /v1/health, interleaved."""
    import httpx

    from benchmarks.bench_service import Server
    from engine.model import fmt_time

    env = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["DXSHARE_RATE_LIMIT_PER_KEY"] = "1000000/minute"
    env["DXSHARE_RATE_LIMIT_PER_ADDRESS"] = "1000000/minute"
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "slots.sqlite", env)
        centre = server.key("--role", "centre")
        server.start()
        try:
            api = httpx.Client(base_url=server.base, headers=centre, timeout=120)

            def body(q: Any, submit: bool) -> dict[str, Any]:
                out: dict[str, Any] = {
                    "municipality": q.location, "fields": list(q.fields), "mode": q.mode,
                    "duration_min": q.duration_min, "priority": q.priority,
                    "earliest": q.earliest.isoformat(), "latest": q.latest.isoformat(),
                    "title": q.title, "submit": submit}
                if q.window:
                    out["window"] = [fmt_time(q.window[0]), fmt_time(q.window[1])]
                return out

            for q in extra:
                api.post("/v1/requests", json=body(q, True)).raise_for_status()
            job = api.post("/v1/plan-jobs", json={"week": WEEK, "time_limit": 120}).json()
            while (state := api.get(job["url"]).json())["status"] in ("queued", "running"):
                time.sleep(0.5)
            if state["status"] != "done":
                raise SystemExit(f"week job {state['status']}: {state.get('reason')}")
            api.post(f"{job['url']}/publish").raise_for_status()
            visits = len(api.get("/v1/visits", params={"week": WEEK}).json())
            ids = [api.post("/v1/requests", json=body(q, False)).json()["id"] for q in news]
            api.post(f"/v1/requests/{ids[0]}/slot-proposals").raise_for_status()   # warm
            calls, health, counts = [], [], []
            for _ in range(rounds):
                for rid in ids:
                    t0 = time.perf_counter()
                    r = api.post(f"/v1/requests/{rid}/slot-proposals")
                    calls.append(time.perf_counter() - t0)
                    r.raise_for_status()
                    counts.append(len(r.json()["proposals"]))
                    t0 = time.perf_counter()
                    api.get("/v1/health").raise_for_status()
                    health.append(time.perf_counter() - t0)
        finally:
            server.stop()
    return {"calls": calls, "health": health, "visits": visits,
            "with_proposals": sum(c > 0 for c in counts[:len(news)])}


def report(args: argparse.Namespace, plan: Any, py: dict[str, Any],
           web: dict[str, Any] | None, load: tuple[float, float], seconds: float) -> str:
    ms = [x * 1000 for x in py["calls"]]
    command = ("python -m benchmarks.bench_slots"
               + (f" --requests {args.requests}" if args.requests != 50 else "")
               + (f" --rounds {args.rounds}" if args.rounds != 3 else ""))
    lines = [
        "# Slot proposals",
        "",
        run_paragraph(command, seconds, load),
        "",
        f"Week: the CLI demo week (seed {DEMO_SEED}) with {REQUESTS} requests, its optimal "
        f"plan {len(plan.visits)} visits (objective {plan.objective}); {args.requests} new "
        "requests drawn like the generator's (seed 2026), 3 proposals asked for each.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| Python API, per call: p50 / p95 / max (ms, {len(ms)} calls) | "
        f"{_pct(ms, 50):.0f} / {_pct(ms, 95):.0f} / {max(ms):.0f} | p95 ≤ 200 |",
    ]
    if py["replans"]:
        rp = [x * 1000 for x in py["replans"]]
        lines.append(f"| peer: re-plan the week with the request (`solve`), median ms | "
                     f"{statistics.median(rp):.0f} (proposals {statistics.median(rp) / statistics.median(ms):.0f}× faster) | |")
    if web is not None:
        wm = [x * 1000 for x in web["calls"]]
        hm = [x * 1000 for x in web["health"]]
        lines += [
            f"| HTTP `POST /v1/requests/{{id}}/slot-proposals`, per call: p50 / p95 / max "
            f"(ms, {len(wm)} calls) | {_pct(wm, 50):.0f} / {_pct(wm, 95):.0f} / "
            f"{max(wm):.0f} | p95 ≤ 300 |",
            f"| peer: `GET /v1/health`, p50 / p95 (ms) | {_pct(hm, 50):.1f} / "
            f"{_pct(hm, 95):.1f} | |",
            f"| published visits in the served week / requests with proposals | "
            f"{web['visits']} / {web['with_proposals']} of {args.requests} | |",
        ]
    lines += [
        f"| exact: best proposal = CP-SAT re-plan keeping every other visit's experts and "
        f"date | {py['agree']} of {args.requests} ({py['with_slot']} with a slot) | "
        f"{args.requests} of {args.requests} |",
        f"| reference re-plan, median s | {statistics.median(py['ref_seconds']):.2f} | |",
        f"| proposals invalid by the checker (of {py['proposals']}); withheld | "
        f"{py['invalid']}; {py['withheld']} | 0 |",
        f"| proposals touching the published visit ({PUBLISHED}) | {py['touched']} | 0 |",
        f"| proposals that shift other visits of their days (same experts and date) | "
        f"{py['shifting']} of {py['proposals']} | |",
        f"| calls with every candidate solved to a proof | {py['complete']} of "
        f"{args.requests} | |",
    ]
    lines += [
        "",
        "The Python API proposes into the week's plan as solved: one visit is published (fixed), "
        "the others may shift on their own day to make room. Through HTTP the week is the "
        "published one, where every visit is kept exactly, so a slot fits only around them; "
        "when the asked mode has none, the other mode is offered (the default `fallback`). "
        "Exactness is counted on the asked mode: both sides with no slot count as agreeing.",
    ]
    if py["disagree"]:
        lines += ["", "Disagreements (request, proposal, reference): "
                  + ", ".join(f"{r} {a} {b}" for r, a, b in py["disagree"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--no-replan", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "slots.md"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    problem, plan = week_with_40_visits()
    print(f"week: {len(problem.requests)} requests, {len(plan.visits)} visits, "
          f"{plan.status}", file=sys.stderr)
    news = new_requests(problem, args.requests)
    py = python_api(problem, plan, news, args.rounds, not args.no_replan)
    print(f"python: p95 {_pct(py['calls'], 95) * 1000:.0f} ms, exact {py['agree']}/"
          f"{len(news)}", file=sys.stderr)
    web = None
    if not args.no_http:
        from engine.demand import ehime_week

        demo = ehime_week(WEEK, seed=DEMO_SEED)
        extra = [q for q in problem.requests if q.id not in demo.request_by_id]
        web = http_api(news, extra, args.rounds)
        print(f"http: p95 {_pct(web['calls'], 95) * 1000:.0f} ms", file=sys.stderr)
    text = report(args, plan, py, web, (load0, os.getloadavg()[0]), time.perf_counter() - t0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
