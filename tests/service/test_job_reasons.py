"""Why a plan job failed, in both languages: the API gives ``reason`` (English) and
``reason_ja`` (Japanese) for bad input (the problems' own Japanese), for an internal error of
the planner (said in plain Japanese, naming only its kind), for a cancelled job and for one a
restart gave up on; a job failed before the Japanese was kept has ``reason_ja`` null."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from engine.errors import InputError
from engine.format import parse_plan_request
from service.db import PlanJob, utcnow
from service.jobs.runner import run_plan_job
from tests.service.conftest import Service

GOOD = {"format": "plan-request/1", "horizon": {"start": "2027-03-01", "end": "2027-03-05"},
        "locations": [{"id": "x", "name": "X"}],
        "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
        "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                      "duration_min": 30, "priority": 5}]}


def _job(service: Service, doc: dict[str, Any], **over: Any) -> str:
    """A job row as the service stores one (the checks at submission left out)."""
    jid = str(uuid.uuid4())
    row: dict[str, Any] = {"status": "queued", "attempt": 1, "history": [], **over}
    with service.app.state.sessions.begin() as s:
        s.add(PlanJob(id=jid, week=None, request_doc=doc, options={"time_limit": 5}, **row))
    return jid


def _run(service: Service, jid: str) -> dict[str, Any]:
    """Run the job's solve here (as its worker process would) and read it from the API."""
    assert run_plan_job(service.app.state.jobs.url, jid, 1) == "failed"
    return service.get("centre", f"/v1/plan-jobs/{jid}").json()


def test_a_job_with_bad_input_says_why_in_japanese_in_the_problems_own_words(
        service: Service) -> None:
    bad = {**GOOD, "requests": [{**GOOD["requests"][0], "duration_min": 0}]}
    with pytest.raises(InputError) as caught:
        parse_plan_request(bad)
    problem = caught.value.problems[0]
    assert problem.message_ja and problem.message_ja != problem.message
    job = _run(service, _job(service, bad))
    assert job["status"] == "failed"
    assert job["reason"] == f"invalid input: {caught.value}"
    assert job["reason_ja"] == f"入力に誤りがあります: {caught.value.summary('ja')}"
    assert problem.message_ja in job["reason_ja"] and problem.message not in job["reason_ja"]
    # the list of jobs gives it too
    listed = {j["id"]: j for j in service.get("centre", "/v1/plan-jobs",
                                              params={"status": "failed", "limit": 500}).json()}
    assert listed[job["id"]]["reason_ja"] == job["reason_ja"]


def test_a_planner_that_raises_is_said_to_have_stopped_on_an_internal_error(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    import solvers.planner

    def broken(problem: Any, options: Any) -> Any:
        raise KeyError("expert 'e' has no day 2027-03-01")

    monkeypatch.setattr(solvers.planner, "solve", broken)
    job = _run(service, _job(service, GOOD))
    assert job["status"] == "failed"
    assert job["reason"] == "solver error: KeyError: \"expert 'e' has no day 2027-03-01\""
    assert job["reason_ja"] == ("計画の計算が内部エラーで止まりました（KeyError）。"
                                "もう一度計画を作成してください")
    assert job["history"][-1]["event"] == "failed"


def test_cancelled_and_given_up_jobs_say_why_in_japanese(service: Service) -> None:
    jid = _job(service, GOOD)
    job = service.post("centre", f"/v1/plan-jobs/{jid}/cancel").json()
    assert (job["reason"], job["reason_ja"]) == ("cancelled by the centre", "センターが中止しました")
    gone = _job(service, GOOD, status="running", attempt=5, started_at=utcnow())
    assert gone not in service.app.state.jobs.recover()
    job = service.get("centre", f"/v1/plan-jobs/{gone}").json()
    assert job["reason"] == "interrupted by a server restart; gave up after 5 attempts"
    assert job["reason_ja"] == "サーバーの再起動で計算が中断され、5 回試みたので打ち切りました"


def test_a_job_failed_before_japanese_reasons_has_none(service: Service) -> None:
    """A row written before ``reason_ja`` existed: the English stays, the Japanese is null
    (the dashboard falls back to the English)."""
    jid = _job(service, GOOD, status="failed", reason="solver error: RuntimeError: old",
               finished_at=utcnow())
    job = service.get("centre", f"/v1/plan-jobs/{jid}").json()
    assert (job["reason"], job["reason_ja"]) == ("solver error: RuntimeError: old", None)
    done = service.get("centre", "/v1/plan-jobs", params={"status": "done", "limit": 1}).json()
    assert all(j["reason_ja"] is None for j in done)
