"""Plan jobs on a Dask cluster given by address (the same executor abstraction as the local
worker processes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings

distributed = pytest.importorskip("distributed")

TINY = {"format": "plan-request/1", "horizon": {"start": "2027-02-01", "end": "2027-02-05"},
        "locations": [{"id": "x", "name": "X"}],
        "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
        "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                      "duration_min": 30, "priority": 5}]}


def test_plan_job_runs_on_an_existing_dask_cluster(tmp_path: Path) -> None:
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        settings = Settings(db_path=str(tmp_path / "dask.sqlite"), executor="dask",
                            dask_address=cluster.scheduler_address, job_time_limit=5)
        app = create_app(settings)
        with TestClient(app) as client:
            with app.state.sessions.begin() as s:
                key = create_key(s, "centre")[0]
            h = {"Authorization": f"Bearer {key}"}
            r = client.post("/v1/plan-jobs", json=TINY, headers=h)
            assert r.status_code == 202
            deadline = time.monotonic() + 60
            while (job := client.get(r.json()["url"], headers=h).json())["status"] in (
                    "queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert job["status"] == "done" and len(job["plan"]["visits"]) == 1
    finally:
        cluster.close()
