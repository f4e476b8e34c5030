"""Against a real server process: the HTTP routes over a socket, and nothing accepted is lost
when the server is killed with SIGKILL in the middle of a solve."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import DXSHARE, free_port, still_running
from tests.service.conftest import MUNI_A

ROOT = Path(__file__).resolve().parents[2]



def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DXSHARE, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


class Server:
    def __init__(self, db: Path, env: dict[str, str], *extra: str):
        self.db, self.env, self.port, self.extra = db, env, free_port(), extra
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*DXSHARE, "serve", "--port", str(self.port), "--db",
             str(self.db), "--demo-week", "2026-12-07", "--log-level", "warning",
             *self.extra],
            cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, "server exited during start-up"
            time.sleep(0.2)
        raise AssertionError("server did not start within 60 s")

    def kill9(self) -> None:
        """SIGKILL the server and its solver processes at once (a crash of the machine's
        service, not a shutdown: nothing gets to clean up)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def cleanup(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    e["PYTHONPATH"] = str(ROOT)
    e["DXSHARE_JOB_TIME_LIMIT"] = "4"
    return e


def _key(db: Path, env: dict[str, str], *args: str) -> str:
    out = _cli("keys", "create", "--db", str(db), *args, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_keys_cli_refuses_unknown_municipality_in_one_line(tmp_path: Path, env: dict) -> None:
    out = _cli("keys", "create", "--db", str(tmp_path / "k.sqlite"), "--role", "municipality",
               "--municipality", "000000", env=env)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "municipality" in out.stderr


@pytest.mark.slow
def test_kill_9_loses_nothing_accepted(tmp_path: Path, env: dict) -> None:
    db = tmp_path / "live.sqlite"
    centre = {"Authorization": f"Bearer {_key(db, env, '--role', 'centre')}"}
    muni = {"Authorization": "Bearer " + _key(db, env, "--role", "municipality",
                                              "--municipality", MUNI_A)}
    first = Server(db, env)
    second = Server(db, env)
    try:
        first.start()
        with httpx.Client(base_url=first.base, timeout=10) as c:
            assert c.get("/v1/requests", headers=centre).status_code == 200
            q = c.post("/v1/requests", headers=muni, json={
                "fields": ["security"], "mode": "online", "duration_min": 60, "priority": 6,
                "earliest": "2026-12-07", "latest": "2026-12-11", "submit": True})
            assert q.status_code == 201
            job = c.post("/v1/plan-jobs", headers=centre,
                         json={"week": "2026-12-07", "time_limit": 15})
            assert job.status_code == 202
            url = job.json()["url"]
            deadline = time.monotonic() + 30
            while (state := c.get(url, headers=centre).json())["status"] != "running":
                assert state["status"] == "queued" and time.monotonic() < deadline, state
                time.sleep(0.1)
        first.kill9()
        second.start()
        with httpx.Client(base_url=second.base, timeout=10) as c:
            got = c.get(f"/v1/requests/{q.json()['id']}", headers=muni)
            assert got.status_code == 200 and got.json()["status"] == "submitted"
            deadline = time.monotonic() + 90
            while True:
                state = c.get(url, headers=centre).json()
                if state["status"] not in ("queued", "running"):
                    break
                assert time.monotonic() < deadline, (state, second.proc.poll())
                time.sleep(0.2)
        assert state["status"] in ("done", "failed")
        if state["status"] == "failed":
            assert state["reason"]
        else:
            assert state["plan"]["format"] == "plan/1"
        events = [h["event"] for h in state["history"]]
        assert "resumed after a server restart" in events
        assert state["attempt"] == 2
    finally:
        first.cleanup()
        second.cleanup()


#: Workers must be gone this long after the server was killed (SERVICE.md: within a second).
ORPHAN_SECONDS = 1.0


def _kill_server_alone(server: Server) -> list:
    """SIGKILL the server process alone (not its group); its processes as they were."""
    import psutil

    assert server.proc is not None
    workers = psutil.Process(server.proc.pid).children(recursive=True)
    assert workers, "no worker process found"
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    return workers


@pytest.mark.slow
def test_no_worker_outlives_a_killed_server(tmp_path: Path, env: dict) -> None:
    """SIGKILL of the server process alone (not its group): within a second its worker
    processes, the one solving a long job by parts included, notice their parent is gone
    and exit."""
    from engine.demand import ehime_week_document

    db = tmp_path / "orphans.sqlite"
    centre = {"Authorization": f"Bearer {_key(db, env, '--role', 'centre')}"}
    server = Server(db, env)
    try:
        server.start()
        doc = ehime_week_document("2026-12-07", weeks=4, requests_per_week=30, seed=3)
        with httpx.Client(base_url=server.base, timeout=30) as c:
            url = c.post("/v1/plan-jobs", headers=centre, json=doc,
                         params={"time_limit": 300}).json()["url"]
            deadline = time.monotonic() + 60
            while c.get(url, headers=centre).json()["status"] != "running":
                assert time.monotonic() < deadline, "the job never started"
                time.sleep(0.1)
        time.sleep(1.0)          # the job is solving (its parts' processes started)
        workers = _kill_server_alone(server)
        assert not still_running(workers, ORPHAN_SECONDS)
    finally:
        server.cleanup()


@pytest.mark.slow
def test_no_worker_outlives_a_killed_server_while_warming_up(tmp_path: Path,
                                                              env: dict) -> None:
    """Killed the moment its first worker process exists (still starting: importing the
    solver, warming up), the server leaves none of its workers behind a second later."""
    import psutil

    db = tmp_path / "warm.sqlite"
    _key(db, env, "--role", "centre")
    server = Server(db, env)
    try:
        server.proc = subprocess.Popen(
            [*DXSHARE, "serve", "--port", str(server.port), "--db", str(db),
             "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
        me = psutil.Process(server.proc.pid)
        deadline = time.monotonic() + 60
        while not any("spawn_main" in " ".join(c.cmdline()) for c in _children(me)):
            assert server.proc.poll() is None, "server exited during start-up"
            assert time.monotonic() < deadline, "no worker process started"
            time.sleep(0.01)
        workers = _kill_server_alone(server)
        assert not still_running(workers, ORPHAN_SECONDS)
    finally:
        server.cleanup()


def _children(proc: Any) -> list:
    import psutil

    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _forged_flood(server: Server, centre: dict[str, str]) -> list[dict]:
    """40 keyless POSTs, each claiming another client address in X-Forwarded-For; the
    anonymous audit rows they left."""
    with httpx.Client(base_url=server.base, timeout=10) as c:
        codes = [c.post("/v1/requests", json={},
                        headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                 for i in range(40)]
        rows = c.get("/v1/audit", headers=centre, params={"limit": 1000}).json()
    server.codes = codes  # type: ignore[attr-defined]
    return [a for a in rows if a["role"] == "anonymous"]


def test_forwarded_for_is_not_trusted_unless_configured(tmp_path: Path, env: dict) -> None:
    """By default X-Forwarded-For is ignored: forged addresses from one keyless client are
    still that client, rate-limited and folded into one audit row. With
    ``--forwarded-allow-ips`` naming the proxy, the header names the client."""
    env = {**env, "DXSHARE_RATE_LIMIT_ANONYMOUS": "5/minute"}
    db = tmp_path / "xff.sqlite"
    centre = {"Authorization": f"Bearer {_key(db, env, '--role', 'centre')}"}
    server = Server(db, env)
    try:
        server.start()
        anon = _forged_flood(server, centre)
        codes = server.codes  # type: ignore[attr-defined]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
        assert len(anon) in (1, 2)  # one per address and minute (two if a minute turned)
        assert {a["detail"]["address"] for a in anon} == {"127.0.0.1"}
    finally:
        server.cleanup()
    proxied = Server(db, env, "--forwarded-allow-ips", "127.0.0.1")
    try:
        proxied.start()
        anon = _forged_flood(proxied, centre)
        assert set(proxied.codes) == {401}  # type: ignore[attr-defined]
        assert {a["detail"]["address"] for a in anon} >= {"203.0.113.0", "203.0.113.39"}
    finally:
        proxied.cleanup()
