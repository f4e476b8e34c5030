"""Plan jobs: 202 then done with progress and a plan; publish; re-plan keeps published
visits; cancel; a restart resumes or fails unfinished jobs with a reason."""

from __future__ import annotations

import uuid

from engine.format import parse_plan
from service.auth import create_key
from service.db import PlanJob, utcnow
from tests.service.conftest import PUBLISHED_WEEK, Service, wait_job


def test_week_job_is_planned_and_published(service: Service, published: dict) -> None:
    job = published["job"]
    assert job["progress"]["phase"] == "finished"
    assert job["progress"]["objective"] == job["plan"]["objective"]
    plan = parse_plan(job["plan"])
    assert {v.request for v in plan.visits} == {published[k]["id"]
                                                 for k in ("qa", "qa2", "qb")}
    assert [h["event"] for h in job["history"]][:2] == ["queued", "started (attempt 1)"]
    assert service.get("a", f"/v1/requests/{published['qa2']['id']}").json()["status"] \
        == "scheduled"
    # a held visit completes its request
    assert service.get("a", f"/v1/requests/{published['qa']['id']}").json()["status"] == "done"


def test_replan_keeps_published_visits_fixed(service: Service, published: dict) -> None:
    extra = service.new_request("b", fields=["pr"], earliest=PUBLISHED_WEEK,
                                latest="2027-01-22", submit=True)
    r = service.post("centre", "/v1/plan-jobs", {"week": PUBLISHED_WEEK})
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done"
    visits = {v["request"]: v for v in job["plan"]["visits"]}
    vb = published["vb"]
    assert (visits[vb["request"]]["date"], visits[vb["request"]]["start"]) == \
        (vb["date"], vb["start"])
    assert extra["id"] in visits
    counts = service.post("centre", f"{job['url']}/publish").json()["published"]
    assert counts["added"] == 1 and counts["withdrawn"] == 0


def test_publish_needs_a_done_week_job(service: Service) -> None:
    doc = {"format": "plan-request/1", "horizon": {"start": "2027-02-01", "end": "2027-02-05"},
           "locations": [{"id": "x", "name": "X"}],
           "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
           "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": 30, "priority": 5}]}
    r = service.post("centre", "/v1/plan-jobs", doc)
    assert r.status_code == 202 and r.headers["location"] == r.json()["url"]
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done" and len(job["plan"]["visits"]) == 1
    assert service.post("centre", f"{job['url']}/publish").status_code == 409
    assert service.post("centre", f"{job['url']}/cancel").status_code == 409


def _insert_job(service: Service, *, status: str, attempt: int, started: bool) -> str:
    doc = {"format": "plan-request/1", "horizon": {"start": "2027-03-01", "end": "2027-03-05"},
           "locations": [{"id": "x", "name": "X"}],
           "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
           "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": 30, "priority": 5}]}
    jid = str(uuid.uuid4())
    with service.app.state.sessions.begin() as s:
        s.add(PlanJob(id=jid, status=status, week=None, request_doc=doc, options={
            "time_limit": 5}, attempt=attempt, history=[],
            started_at=utcnow() if started else None))
    return jid


def test_restart_resumes_interrupted_jobs_and_fails_exhausted_ones(service: Service) -> None:
    resumable = _insert_job(service, status="running", attempt=1, started=True)
    never_started = _insert_job(service, status="queued", attempt=5, started=False)
    exhausted = _insert_job(service, status="running", attempt=2, started=True)
    resumed = service.app.state.jobs.recover()
    assert resumable in resumed and never_started in resumed and exhausted not in resumed
    done = wait_job(service, f"/v1/plan-jobs/{resumable}")
    assert done["status"] == "done" and done["attempt"] == 2
    assert "resumed after a server restart" in [h["event"] for h in done["history"]]
    assert wait_job(service, f"/v1/plan-jobs/{never_started}")["status"] == "done"
    failed = service.get("centre", f"/v1/plan-jobs/{exhausted}").json()
    assert failed["status"] == "failed" and "gave up after 2 attempts" in failed["reason"]
    assert failed["reason_ja"] == "サーバーの再起動で計算が中断され、2 回試みたので打ち切りました"


def test_cancel_a_queued_job(service: Service) -> None:
    jid = _insert_job(service, status="queued", attempt=0, started=False)
    r = service.post("centre", f"/v1/plan-jobs/{jid}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # a worker that picks it up later must not overwrite the cancellation
    from service.jobs.runner import run_plan_job

    assert run_plan_job(service.app.state.jobs.url, jid, 0) == "skipped"
    assert service.get("centre", f"/v1/plan-jobs/{jid}").json()["status"] == "cancelled"


def test_replan_preferring_published_visits_minimises_moves(service: Service,
                                                             published: dict) -> None:
    r = service.post("centre", "/v1/plan-jobs",
                     {"week": PUBLISHED_WEEK, "keep_published": "prefer"})
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done"
    assert job["plan"]["kpis"]["moved"] == 0
    with service.app.state.sessions() as s:
        row = s.get(PlanJob, job["id"])
        # the three open requests' visits and the one held
        assert row.previous_doc is not None and len(row.previous_doc["visits"]) == 4, \
            row.previous_doc["visits"]
        requests = row.request_doc["requests"]
    done = {q["id"] for q in requests
            if service.get("centre", f"/v1/requests/{q['id']}").json()["status"] == "done"}
    # only what already happened is fixed: the visit held (its request done) stays put
    assert published["qa"]["id"] in done
    assert all(("fixed" in q) == (q["id"] in done) for q in requests)


def test_left_out_request_says_why_without_naming_others(service: Service) -> None:
    week = "2027-02-08"
    ok = service.new_request("a", earliest=week, latest="2027-02-12", submit=True)
    # 愛南町 is hours from the experts' base: a 08:30–10:30 window cannot be reached in time
    far = "385069"
    with service.app.state.sessions.begin() as s:
        key = create_key(s, "municipality", municipality=far)[0]
    service.keys["far"] = key
    tight = service.new_request("far", mode="onsite", duration_min=120,
                                window=["08:30", "10:30"], earliest=week, latest="2027-02-12",
                                submit=True)
    posted = service.post("centre", "/v1/plan-jobs", {"week": week})
    assert posted.status_code == 202, posted.text
    job = wait_job(service, posted.json()["url"])
    assert job["status"] == "done"
    assert service.post("centre", f"{job['url']}/publish").status_code == 200
    mine = service.get("far", f"/v1/requests/{tight['id']}").json()["planning"]
    assert mine["scheduled"] is False
    assert [r["code"] for r in mine["reasons"]] == ["no_time"]
    assert mine["reasons"][0]["reason_ja"]
    centre = service.get("centre", f"/v1/requests/{tight['id']}").json()["planning"]
    assert centre["codes"] == ["no_time"] and "08:30" in centre["reasons"][0]
    served = service.get("a", f"/v1/requests/{ok['id']}").json()["planning"]
    assert served["scheduled"] is True and served["week"] == week


def test_week_blackouts_reach_the_planner(service: Service) -> None:
    week = "2027-03-08"
    q = service.new_request("b", fields=["data"], earliest=week, latest=week, submit=True)
    posted = service.post("centre", "/v1/plan-jobs", {
        "week": week, "blackouts": [{"date": week, "experts": ["data-1"], "reason": "研修"}]})
    assert posted.status_code == 202, posted.text
    job = wait_job(service, posted.json()["url"])
    assert job["status"] == "done"
    left = {u["request"]: u for u in job["plan"]["unscheduled"]}
    assert q["id"] in left and "no_workable_day" in left[q["id"]]["codes"]
    bad = service.post("centre", "/v1/plan-jobs", {
        "week": week, "blackouts": [{"date": week, "experts": ["nobody"]}]})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "blackouts[0].experts[0]"


def test_cancelling_a_running_job_stops_its_solve(service: Service, monkeypatch) -> None:
    """The worker notices the cancellation and ends the search, instead of running it to its
    end (a proof) or to its time limit."""
    import threading
    import time

    import solvers.planner
    from engine.demand import ehime_week_document
    from service.jobs.runner import run_plan_job

    solved: list[tuple[str, bool]] = []       # (status, whether told to stop) of the solve
    solve = solvers.planner.solve

    def watched(problem, options):
        plan = solve(problem, options)
        solved.append((plan.status, bool(options.stop and options.stop())))
        return plan

    monkeypatch.setattr(solvers.planner, "solve", watched)
    jid = str(uuid.uuid4())
    doc = ehime_week_document("2026-12-07", weeks=4, requests_per_week=30, seed=3)
    with service.app.state.sessions.begin() as s:
        s.add(PlanJob(id=jid, status="queued", week=None, request_doc=doc,
                      options={"time_limit": 600}, attempt=1, history=[]))
    ended: list[str] = []
    worker = threading.Thread(target=lambda: ended.append(
        run_plan_job(service.app.state.jobs.url, jid, 1)))
    worker.start()
    deadline = time.monotonic() + 30
    while service.get("centre", f"/v1/plan-jobs/{jid}").json()["status"] != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    assert service.post("centre", f"/v1/plan-jobs/{jid}/cancel").status_code == 200
    worker.join(timeout=300)
    assert not worker.is_alive(), "the solve did not stop after the cancellation"
    # Left alone, the search proves this 4-week instance optimal (17 s on a quiet machine)
    # well within its 600 s: it ended told to stop, with nothing proved.
    assert solved == [("feasible", True)]
    assert ended == ["skipped"]        # its result is not written over the cancellation
    assert service.get("centre", f"/v1/plan-jobs/{jid}").json()["status"] == "cancelled"
