"""Fixtures of the service tests: one running app per database backend (SQLite always,
PostgreSQL when ``DXSHARE_TEST_POSTGRES_URL`` or a local server answers), with keys for the
centre, two municipalities (Matsuyama A, Imabari B) and two experts."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_key
from service.config import Settings

MUNI_A = "382019"  # 松山市
MUNI_B = "382027"  # 今治市
WEEK = "2027-01-11"  # a Monday without holidays

PG_URL = os.environ.get("DXSHARE_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:55432/postgres")


def _postgres_admin() -> tuple[Any, str | None]:
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means: no server to test on
        return None, f"no PostgreSQL server reachable at {PG_URL} ({type(exc).__name__}); " \
                     "start one with: eval \"$(.ci/postgres.sh)\""
    return conn, None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, empty database of each backend."""
    with fresh_database(request.param, tmp_path_factory, "test") as url:
        yield url


@contextmanager
def fresh_database(backend: str, tmp_path_factory: pytest.TempPathFactory, name: str
                   ) -> Iterator[str]:
    """The URL of a new, empty database on ``backend`` (``sqlite`` or ``postgresql``, whose
    database is dropped afterwards); skips the test when no PostgreSQL server is reachable."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.sqlite'}"
        return
    admin, why = _postgres_admin()
    if admin is None:
        pytest.skip(why)
    db = f"dxshare_{name}_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{db}"')
    try:
        yield f"{PG_URL.rsplit('/', 1)[0]}/{db}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


@dataclass
class Service:
    """A running app and a key per role."""

    client: TestClient
    app: Any
    keys: dict[str, str]

    def h(self, who: str, lang: str = "en") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", "Accept-Language": lang}

    def get(self, who: str, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.h(who), **kw)

    def post(self, who: str, url: str, body: Any = None, **kw: Any) -> Any:
        return self.client.post(url, json=body, headers=self.h(who), **kw)

    def patch(self, who: str, url: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(url, json=body, headers=self.h(who), **kw)

    def put(self, who: str, url: str, body: Any, **kw: Any) -> Any:
        return self.client.put(url, json=body, headers=self.h(who), **kw)

    def delete_(self, url: str, who: str = "centre", **kw: Any) -> Any:
        return self.client.delete(url, headers=self.h(who), **kw)

    def new_request(self, who: str = "a", **over: Any) -> dict[str, Any]:
        body = {"fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
                "earliest": WEEK, "latest": "2027-01-15", "title": "広報相談"}
        body.update(over)
        if who == "centre" and "municipality" not in body:
            body["municipality"] = MUNI_A
        r = self.post(who, "/v1/requests", body)
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(scope="session")
def service(database_url: str) -> Iterator[Service]:
    # no rate limits: the whole suite shares this service, and the schema's fuzzing alone
    # sends more than a key's 3,000 requests a minute (test_paging_limits tests the limits
    # on a service of its own)
    settings = Settings(database_url=database_url, executor="processes", job_workers=1,
                        job_time_limit=10.0, seed=True, demo_matching=True,
                        now=dt.datetime(2027, 3, 31, 18, 0),  # the tests' weeks are over
                        rate_limit_per_key="", rate_limit_per_address="")
    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.sessions.begin() as s:
            keys = {
                "centre": create_key(s, "centre")[0],
                "a": create_key(s, "municipality", municipality=MUNI_A)[0],
                "b": create_key(s, "municipality", municipality=MUNI_B)[0],
                "pr": create_key(s, "expert", expert="pr-1")[0],
                "data": create_key(s, "expert", expert="data-1")[0],
            }
        yield Service(client, app, keys)


PUBLISHED_WEEK = "2027-01-18"


def wait_job(service: Service, url: str, timeout: float = 90.0) -> dict[str, Any]:
    """Poll a plan job until it is no longer queued or running."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        job = service.get("centre", url).json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout} s"
        time.sleep(0.1)


def plan_and_publish(service: Service, week: str, time_limit: float = 10) -> dict[str, Any]:
    """Plan ``week`` as the centre does (a plan job), wait for it and publish it; the job."""
    r = service.post("centre", "/v1/plan-jobs", {"week": week, "time_limit": time_limit})
    assert r.status_code == 202, r.text
    job = wait_job(service, r.json()["url"])
    assert job["status"] == "done", job
    pub = service.post("centre", f"{job['url']}/publish")
    assert pub.status_code == 200, pub.text
    return job


@pytest.fixture(scope="session")
def published(service: Service) -> dict[str, Any]:
    """A planned and published week: A has an on-site confidential PR visit and an online
    data consultation, B an online data consultation; A's visit carries confidential notes."""
    week, end = PUBLISHED_WEEK, "2027-01-22"
    qa = service.new_request("a", fields=["pr"], mode="onsite", duration_min=90, priority=8,
                             earliest=week, latest=end, confidential=True,
                             title="人事情報を含む相談", submit=True)
    qa2 = service.new_request("a", fields=["data"], earliest=week, latest=end, submit=True)
    qb = service.new_request("b", fields=["data"], earliest=week, latest=end, submit=True)
    job = plan_and_publish(service, week)
    visits = {v["request"]: v for v in service.get("centre", "/v1/visits",
                                                   params={"week": week}).json()}
    va = visits[qa["id"]]
    out = service.put("a", f"/v1/visits/{va['id']}/outcome",
                      {"held": True, "notes": "職員Xの異動について", "satisfaction": 4})
    assert out.status_code == 200, out.text
    return {"job": job, "qa": qa, "qa2": qa2, "qb": qb, "va": va, "vb": visits[qb["id"]],
            "vis": visits}


def cancel_active_jobs(service: Service) -> None:
    """Cancel every queued or running plan job (so a test starts with idle workers)."""
    for status in ("queued", "running"):
        for job in service.get("centre", "/v1/plan-jobs",
                               params={"status": status, "limit": 500}).json():
            service.post("centre", f"{job['url']}/cancel")
