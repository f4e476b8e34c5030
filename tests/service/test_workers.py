"""Plan jobs run in worker processes the server can end: cancel terminates the process, a
job past its deadline is stopped with the reason, week jobs have their own lane so a
document cannot hold up a week, documents beyond the documented limits are refused before
they are queued, and a worker's memory is bounded."""

from __future__ import annotations

import time
import uuid
from typing import Any

import psutil
import pytest

from engine.demand import ehime_week_document
from service.jobs.pool import WorkerPool
from service.jobs.runner import run_plan_job
from tests.service.conftest import Service, cancel_active_jobs, wait_job


@pytest.fixture(autouse=True)
def idle_workers(service: Service) -> None:
    """Jobs left running by earlier tests (the schema fuzzing posts documents with long
    time limits) would hold the lanes these tests measure."""
    cancel_active_jobs(service)


def _pool(service: Service) -> WorkerPool:
    pool = service.app.state.jobs.pool
    assert pool is not None, "the service fixture runs jobs in worker processes"
    return pool


def _wait_running(service: Service, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = _pool(service).running().get(job_id)
        state = service.get("centre", f"/v1/plan-jobs/{job_id}").json()["status"]
        if run is not None and state == "running":
            return run
        assert time.monotonic() < deadline, f"job {job_id} never started ({state})"
        time.sleep(0.05)


def _big_document() -> dict[str, Any]:
    """Four weeks of Ehime demand: far longer to prove than any test waits."""
    return ehime_week_document("2026-12-07", weeks=4, requests_per_week=30, seed=3)


def test_cancel_terminates_the_worker_process(service: Service) -> None:
    r = service.post("centre", "/v1/plan-jobs", _big_document(), params={"time_limit": 300})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    pid = _wait_running(service, job_id)["pid"]
    assert psutil.pid_exists(pid)
    seen = service.get("centre", "/v1/workers").json()["running"][job_id]
    assert (seen["lane"], seen["pid"]) == ("document", pid)
    assert service.get("a", "/v1/workers").status_code == 403
    t0 = time.monotonic()
    assert service.post("centre", f"/v1/plan-jobs/{job_id}/cancel").status_code == 200
    while job_id in _pool(service).running() or psutil.pid_exists(pid) and \
            psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() - t0 < 5, "the worker was not ended after the cancel"
        time.sleep(0.02)
    job = service.get("centre", f"/v1/plan-jobs/{job_id}").json()
    assert job["status"] == "cancelled" and job["plan"] is None
    deadline = time.monotonic() + 5
    while not [e for e in _pool(service).ended if e[0] == job_id]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    ended = next(e for e in _pool(service).ended if e[0] == job_id)
    assert ended[1] == "cancelled" and ended[2] is not None and ended[2] < 0, ended  # a signal
    shown = [e for e in service.get("centre", "/v1/workers").json()["ended"]
             if e["job"] == job_id]
    assert shown and shown[0]["how"] == "cancelled" and shown[0]["freed_after"] < 5


def test_job_past_its_deadline_is_stopped_with_the_reason(service: Service) -> None:
    """A job still running at its deadline is terminated and failed with the reason. The
    planner keeps its time limit, so the pool's deadline is set before the limit (a grace
    below zero) to stand for a job that overruns: 0.05 s after the start of a job of 2 s.
    (With a limit of 0.3 s the job could end within the pool's 0.25 s between looks, and
    was once written done.)"""
    pool = _pool(service)
    grace = pool.grace
    pool.grace = -1.95
    try:
        r = service.post("centre", "/v1/plan-jobs", _big_document(), params={"time_limit": 2.0})
        job_id = r.json()["id"]
        job = wait_job(service, r.json()["url"], timeout=60)
    finally:
        pool.grace = grace
    assert job["status"] == "failed", job
    assert "time limit" in job["reason"] and "terminated" in job["reason"]
    assert job["reason_ja"].startswith("制限時間（") and "止めました" in job["reason_ja"]
    assert job_id not in pool.running()


@pytest.mark.slow
def test_a_document_never_holds_up_a_week(service: Service) -> None:
    """The document lane is busy with a long solve; a week job still runs at once."""
    doc = service.post("centre", "/v1/plan-jobs", _big_document(), params={"time_limit": 300})
    doc_id = doc.json()["id"]
    _wait_running(service, doc_id)
    week = "2027-04-05"
    service.new_request("a", earliest=week, latest="2027-04-09", submit=True)
    r = service.post("centre", "/v1/plan-jobs", {"week": week, "time_limit": 10})
    job = wait_job(service, r.json()["url"], timeout=60)
    try:
        assert job["status"] == "done"
        assert doc_id in _pool(service).running(), "the document finished first after all"
    finally:
        service.post("centre", f"/v1/plan-jobs/{doc_id}/cancel")


@pytest.mark.parametrize(("change", "path"), [
    ({"requests": 601}, "requests"),
    ({"experts": 51}, "experts"),
    ({"days": 63}, "horizon"),
])
def test_documents_beyond_the_limits_are_refused_before_queueing(
        service: Service, change: dict, path: str) -> None:
    import datetime as dt

    n_req, n_exp, days = change.get("requests", 1), change.get("experts", 1), \
        change.get("days", 5)
    start = dt.date(2027, 5, 3)
    doc = {"format": "plan-request/1",
           "horizon": {"start": start.isoformat(),
                       "end": (start + dt.timedelta(days=days - 1)).isoformat()},
           "locations": [{"id": "x", "name": "X"}],
           "experts": [{"id": f"e{i}", "fields": ["pr"], "base": "x"} for i in range(n_exp)],
           "requests": [{"id": f"r{i}", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": 30, "priority": 5} for i in range(n_req)]}
    before = len(service.get("centre", "/v1/plan-jobs", params={"limit": 500}).json())
    r = service.post("centre", "/v1/plan-jobs", doc)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["path"] == path and "DXSHARE_MAX_JOB_" in err["message"]
    assert len(service.get("centre", "/v1/plan-jobs", params={"limit": 500}).json()) == before


def test_the_product_of_requests_experts_and_days_is_bounded(service: Service) -> None:
    settings = service.app.state.settings
    old = settings.max_job_size
    settings.max_job_size = 50
    try:
        doc = {"format": "plan-request/1",
               "horizon": {"start": "2027-05-03", "end": "2027-05-07"},
               "locations": [{"id": "x", "name": "X"}],
               "experts": [{"id": f"e{i}", "fields": ["pr"], "base": "x"} for i in range(3)],
               "requests": [{"id": f"r{i}", "location": "x", "fields": ["pr"],
                             "mode": "online", "duration_min": 30, "priority": 5}
                            for i in range(4)]}
        r = service.post("centre", "/v1/plan-jobs", doc)  # 4 × 3 × 5 = 60 > 50
        assert r.status_code == 422 and "MAX_JOB_SIZE" in r.json()["errors"][0]["message"]
    finally:
        settings.max_job_size = old


def _allocate(limit_mb: int) -> str:
    from service.jobs.pool import _limit_memory

    _limit_memory(limit_mb)
    try:
        block = bytearray(1024 * 1024 * 1024)  # 1 GB
    except MemoryError:
        return "refused"
    return f"allocated {len(block)}"


def test_a_worker_cannot_take_more_memory_than_its_limit() -> None:
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as p:
        assert p.apply(_allocate, (512,)) == "refused"


def test_pool_reports_a_worker_that_died_without_writing(tmp_path: Any) -> None:
    """A worker killed from outside (not by the pool) is reported with its exit code."""
    from service.db import PlanJob, make_engine, migrate, session_factory

    url = f"sqlite:///{tmp_path / 'pool.sqlite'}"
    eng = make_engine(url)
    migrate(eng)
    job_id = str(uuid.uuid4())
    with session_factory(eng).begin() as s:
        s.add(PlanJob(id=job_id, status="queued", week=None, request_doc=_big_document(),
                      options={"time_limit": 300}, attempt=1, history=[]))
    reports: list[tuple[str, int, str]] = []
    pool = WorkerPool(url, run_plan_job, on_exit=lambda *a: reports.append(a))
    try:
        pool.submit(job_id, 1, lane="document", time_limit=300)
        deadline = time.monotonic() + 60
        while job_id not in pool.running():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        psutil.Process(pool.running()[job_id]["pid"]).kill()
        while not reports:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        pool.shutdown()
        eng.dispose()
    assert reports[0][:2] == (job_id, 1) and "exit code -9" in reports[0][2]
    assert reports[0][3] == "計算のプロセスが予期せず終了しました（終了コード -9）"
