"""Delivery of the outbox against a real SMTP server (aiosmtpd on loopback, started here):
a server that refuses, times out, is down and comes back gets every message exactly once; a
dxshare server killed with SIGKILL between the event and the delivery delivers every message
after its restart, none twice."""

from __future__ import annotations

import asyncio
import email
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

from service.db import OutboxRow, utcnow  # noqa: E402
from service.outbox import Postman  # noqa: E402
from tests.live import free_port  # noqa: E402
from tests.service.conftest import Service  # noqa: E402
from tests.service.test_server import Server, _key, env  # noqa: E402,F401


class Inbox:
    """What the SMTP server received, by Message-ID; ``mode`` says how it answers:
    ``accept``, ``refuse`` (451 at MAIL FROM) or ``stall`` (no answer to MAIL FROM before
    the client gives up: nothing of the message was accepted)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.mode = "accept"
        self.stalls = 0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          options: list[str]) -> str:
        if self.mode == "refuse":
            return "451 4.3.0 try again later"
        if self.mode == "stall":
            self.stalls += 1
            await asyncio.sleep(3)
            return "451 4.3.0 too slow"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content)
        self.received[msg["Message-ID"]] += 1
        return "250 OK"


def _smtp(inbox: Inbox, port: int) -> Controller:
    c = Controller(inbox, hostname="127.0.0.1", port=port)
    c.start()
    return c


def _queue(service: Service, n: int, tag: str) -> list[str]:
    """``n`` unsent messages with an address, as an event's repair leaves them."""
    ids = [f"<smtp-test-{tag}-{i}@dxshare>" for i in range(n)]
    with service.app.state.sessions.begin() as s:
        for mid in ids:
            s.add(OutboxRow(message_id=mid, job_id="test", week=None, kind="no_show",
                            recipient_kind="expert", recipient="pr-1", lang="ja",
                            address="pr-1@example.jp", subject="件名", body="本文\n",
                            requests=[], attempts=0, created_at=utcnow()))
    return ids


def _unsent(service: Service, ids: list[str]) -> set[str]:
    with service.app.state.sessions() as s:
        return {m.message_id for m in s.query(OutboxRow).filter(
            OutboxRow.message_id.in_(ids), OutboxRow.sent_at.is_(None))}


def test_refused_timed_out_and_down_then_back_delivers_each_message_once(service: Service):
    sqlite = service.app.state.engine.dialect.name == "sqlite"
    tag = "sqlite" if sqlite else "pg"
    # other tests' messages with addresses are delivered too: count only ours
    ids = _queue(service, 6, tag)
    port = free_port()
    postman = Postman(service.app.state.sessions, f"smtp://127.0.0.1:{port}?from=centre@x.jp",
                      timeout=1.0, first_retry=0.05, max_retry=0.2)
    inbox = Inbox()
    # down: connection refused
    postman.deliver()
    assert _unsent(service, ids) == set(ids)
    smtp = _smtp(inbox, port)
    try:
        inbox.mode = "refuse"
        time.sleep(0.3)
        postman.deliver()
        assert _unsent(service, ids) == set(ids)
        inbox.mode = "stall"
        time.sleep(0.3)
        postman.deliver()
        assert inbox.stalls >= 1 and _unsent(service, ids) == set(ids)
        inbox.mode = "accept"
        deadline = time.monotonic() + 30
        while _unsent(service, ids) and time.monotonic() < deadline:
            time.sleep(0.1)
            postman.deliver()
    finally:
        smtp.stop()
    assert _unsent(service, ids) == set()
    assert {m: inbox.received[m] for m in ids} == dict.fromkeys(ids, 1)
    with service.app.state.sessions() as s:
        rows = s.query(OutboxRow).filter(OutboxRow.message_id.in_(ids)).all()
        assert all(r.attempts >= 4 and r.last_error is None for r in rows)
    # delivering again sends nothing more
    smtp = _smtp(inbox, port)
    try:
        postman.deliver()
    finally:
        smtp.stop()
    assert {m: inbox.received[m] for m in ids} == dict.fromkeys(ids, 1)


def test_kill_9_between_the_event_and_the_delivery_delivers_everything_once(
        tmp_path: Path, env: dict[str, str]):  # noqa: F811
    db = tmp_path / "events.sqlite"
    centre = {"Authorization": f"Bearer {_key(db, env, '--role', 'centre')}"}
    smtp_port = free_port()
    env = {**env, "DXSHARE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
           "DXSHARE_SMTP_TIMEOUT": "2", "DXSHARE_SMTP_RETRY_SECONDS": "0.2"}
    first, second = Server(db, env), Server(db, env)
    inbox = Inbox()
    smtp = None
    try:
        first.start()
        with httpx.Client(base_url=first.base, timeout=30, headers=centre) as c:
            for m in c.get("/v1/municipalities").json():
                assert c.put(f"/v1/contacts/municipality/{m['code']}",
                             json={"email": f"m{m['code']}@example.jp"}).status_code == 200
            for e in c.get("/v1/experts").json():
                assert c.put(f"/v1/contacts/expert/{e['id']}",
                             json={"email": f"{e['id']}@example.jp", "lang": "en"}
                             ).status_code == 200
            job = c.post("/v1/plan-jobs", json={"week": "2026-12-07", "time_limit": 10})
            url = job.json()["url"]
            deadline = time.monotonic() + 90
            while (state := c.get(url).json())["status"] in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert state["status"] == "done", state
            assert c.post(f"{url}/publish").status_code == 200
            r = c.post("/v1/events", json={
                "kind": "expert_unavailable", "now": "2026-12-07T07:00", "expert": "pr-1",
                "from": "2026-12-08T08:00", "until": "2026-12-09T23:00"})
            assert r.status_code == 201, r.text
            ids = [m["message_id"] for m in r.json()["messages"]]
            assert ids and all(m["address"] for m in r.json()["messages"])
        first.kill9()           # the SMTP server was down: nothing could be delivered yet
        smtp = _smtp(inbox, smtp_port)
        second.start()
        deadline = time.monotonic() + 60
        while sum(inbox.received[m] for m in ids) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)         # a duplicate would arrive now
        with httpx.Client(base_url=second.base, timeout=30, headers=centre) as c:
            rows = c.get("/v1/outbox", params={"limit": 1000}).json()
    finally:
        first.cleanup()
        second.cleanup()
        if smtp is not None:
            smtp.stop()
    assert {m: inbox.received[m] for m in ids} == dict.fromkeys(ids, 1)
    assert all(r["sent"] for r in rows if r["message_id"] in ids)
