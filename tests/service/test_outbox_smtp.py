"""Delivery of the outbox against a real SMTP server (aiosmtpd on loopback, started here):
a server that refuses, times out, is down and comes back gets every message exactly once; a
dxshare server killed with SIGKILL between the event and the delivery delivers every message
after its restart, none twice; and under a stream of events, three SIGKILLs in the middle of
event writes and deliveries lose no acknowledged event and no message, apply no event twice
and hand no message over twice except as the same message (its Message-ID)."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402

from service.db import OutboxRow, PlanJob, utcnow  # noqa: E402
from service.events import event_job_id  # noqa: E402
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
        self.bodies: dict[str, set[bytes]] = {}
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
        self.bodies.setdefault(msg["Message-ID"], set()).add(msg.get_payload(decode=True))
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


def test_a_claim_left_by_a_killed_server_is_delivered_once_it_ends(service: Service):
    """A server killed while sending leaves its row claimed; once the claim ends another
    sender delivers it. On SQLite the claim's time comes back without its zone, and the
    guarded update failed comparing it in Python with an aware one: the row was never sent,
    whatever the restarts."""
    tag = "claim-" + service.app.state.engine.dialect.name
    ids = _queue(service, 2, tag)
    with service.app.state.sessions.begin() as s:
        s.query(OutboxRow).filter(OutboxRow.message_id == ids[0]).update(
            {"claimed_until": utcnow() - dt.timedelta(seconds=5)})
        s.query(OutboxRow).filter(OutboxRow.message_id == ids[1]).update(
            {"claimed_until": utcnow() + dt.timedelta(minutes=5)})
    port = free_port()
    inbox = Inbox()
    smtp = _smtp(inbox, port)
    try:
        postman = Postman(service.app.state.sessions, f"smtp://127.0.0.1:{port}",
                          timeout=1.0)
        postman.deliver()
    finally:
        smtp.stop()
    assert _unsent(service, ids) == {ids[1]}        # the live claim is left alone
    assert inbox.received[ids[0]] == 1 and inbox.received[ids[1]] == 0
    with service.app.state.sessions.begin() as s:   # not to be sent by later tests
        s.query(OutboxRow).filter(OutboxRow.message_id == ids[1]).delete()


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


def _events(rng: random.Random, experts: list[str], places: list[str]) -> Any:
    """An endless stream of events of the demo week, ``now`` a quarter of an hour later each
    time: an expert out for the rest of a later day, or a town hall closed on one."""
    now = dt.datetime(2026, 12, 7, 7, 0)
    for i in range(10_000):
        day = dt.date(2026, 12, rng.randint(8, 11))
        if i % 2 == 0:
            body = {"kind": "expert_unavailable", "now": f"{now:%Y-%m-%dT%H:%M}",
                    "expert": rng.choice(experts), "from": f"{day}T{rng.randint(8, 14):02d}:00",
                    "until": f"{day}T23:00", "reason": f"負荷試験 {i}"}
        else:
            body = {"kind": "location_closed", "now": f"{now:%Y-%m-%dT%H:%M}",
                    "location": rng.choice(places), "date": day.isoformat(),
                    "from": "08:00", "until": "18:00", "reason": f"負荷試験 {i}"}
        yield f"load-{i}", body
        now += dt.timedelta(minutes=15)


class _Writer(threading.Thread):
    """Posts the stream's events one after another, each with its Idempotency-Key, until the
    server stops answering; an event that got no answer is sent first to the next server."""

    def __init__(self, base: str, headers: dict[str, str], stream: Any,
                 acked: dict[str, dict[str, Any]], pending: list[tuple[str, dict[str, Any]]],
                 bodies: dict[str, dict[str, Any]]):
        super().__init__(daemon=True)
        self.base, self.headers, self.stream = base, headers, stream
        self.acked, self.pending, self.bodies = acked, pending, bodies
        self.in_round = 0
        self.replayed: list[str] = []
        self.errors: list[str] = []

    def post(self, c: httpx.Client, key: str, body: dict[str, Any]) -> bool:
        try:
            r = c.post("/v1/events", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            return False
        if r.status_code != 201:
            self.errors.append(f"{key}: {r.status_code} {r.text[:300]}")
            return True
        if r.headers.get("Idempotent-Replayed") == "true":
            self.replayed.append(key)
        self.acked[key], self.bodies[key] = r.json(), body
        return True

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60, headers=self.headers) as c:
            while True:
                key, body = self.pending[0] if self.pending else next(self.stream)
                self.pending[:] = [(key, body)]
                if not self.post(c, key, body):
                    return
                self.pending.clear()
                self.in_round += 1


def _claims(db: Path) -> list[tuple[Any, ...]]:
    """The unsent rows' delivery state, read beside the server (to say why one waits)."""
    import sqlite3

    with sqlite3.connect(db, timeout=10) as con:
        return con.execute("SELECT id, claimed_until, next_attempt_at, attempts FROM outbox "
                           "WHERE sent_at IS NULL").fetchall()


def _db_jobs(db: Path) -> list[PlanJob]:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as s:
            return [j for j in s.scalars(select(PlanJob).order_by(PlanJob.published_at))
                    if (j.options or {}).get("event")]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_three_kill_9s_during_event_writes_lose_no_event_and_no_message(
        tmp_path: Path, env: dict[str, str]):  # noqa: F811
    rng = random.Random(23)
    db = tmp_path / "load.sqlite"
    centre = {"Authorization": f"Bearer {_key(db, env, '--role', 'centre')}"}
    smtp_port = free_port()
    env = {**env, "DXSHARE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
           "DXSHARE_SMTP_TIMEOUT": "2", "DXSHARE_SMTP_RETRY_SECONDS": "0.2",
           "DXSHARE_EVENT_TIME_LIMIT": "2"}
    inbox = Inbox()
    smtp = _smtp(inbox, smtp_port)      # up throughout: messages go out while the server dies
    servers = [Server(db, env) for _ in range(4)]
    acked: dict[str, dict[str, Any]] = {}
    pending: list[tuple[str, dict[str, Any]]] = []
    bodies: dict[str, dict[str, Any]] = {}
    kills, lost_answers, replayed = 0, 0, []
    try:
        servers[0].start()
        with httpx.Client(base_url=servers[0].base, timeout=30, headers=centre) as c:
            places = [m["code"] for m in c.get("/v1/municipalities").json()]
            experts = [e["id"] for e in c.get("/v1/experts").json()]
            for i, code in enumerate(places):
                assert c.put(f"/v1/contacts/municipality/{code}", json={
                    "email": f"m{code}@example.jp", "lang": "en" if i % 3 == 0 else "ja"}
                ).status_code == 200
            for e in experts:
                assert c.put(f"/v1/contacts/expert/{e}", json={"email": f"{e}@example.jp"}
                             ).status_code == 200
            url = c.post("/v1/plan-jobs", json={"week": "2026-12-07", "time_limit": 10}
                         ).json()["url"]
            deadline = time.monotonic() + 90
            while (state := c.get(url).json())["status"] in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert state["status"] == "done", state
            assert c.post(f"{url}/publish").status_code == 200
        stream = _events(rng, experts, places)
        for n in range(3):
            server = servers[n]
            writer = _Writer(server.base, centre, stream, acked, pending, bodies)
            if n:
                server.start()
                # an answer lost on its way back: the last acknowledged event is sent again
                # with its key, and must not be applied a second time
                last = next(reversed(acked))
                with httpx.Client(base_url=server.base, timeout=60, headers=centre) as c:
                    assert writer.post(c, last, bodies[last])
                lost_answers += 1
            writer.start()
            deadline = time.monotonic() + 60
            while writer.in_round < 2 and writer.is_alive():
                assert time.monotonic() < deadline, "no event was acknowledged"
                time.sleep(0.05)
            time.sleep(rng.uniform(0.1, 0.9))   # most likely in the middle of the next POST
            server.kill9()
            kills += 1
            writer.join(timeout=60)
            replayed += writer.replayed
            assert not writer.errors, writer.errors
        final = servers[3]
        final.start()
        with httpx.Client(base_url=final.base, timeout=60, headers=centre) as c:
            writer = _Writer(final.base, centre, iter(()), acked, pending, bodies)
            while pending:
                assert writer.post(c, *pending[0]), "the last server does not answer"
                pending.clear()
            replayed += writer.replayed
            assert not writer.errors, writer.errors
            # a message a killed server had claimed waits for its claim to end (36 s here)
            deadline = time.monotonic() + 120
            while unsent := c.get("/v1/outbox", params={"sent": "false"}).json():
                assert time.monotonic() < deadline, (
                    "messages still unsent", dt.datetime.now(dt.UTC).isoformat(),
                    [(m["message_id"], m["attempts"], m["last_error"]) for m in unsent],
                    _claims(db), final.proc.poll() if final.proc else None)
                time.sleep(0.2)
            time.sleep(1.0)         # a duplicate would arrive now
            rows = c.get("/v1/outbox", params={"limit": 1000}).json()
            for key, answer in acked.items():
                got = c.get(answer["url"])
                assert got.status_code == 200 and got.json()["status"] == "done", key
    finally:
        for server in servers:
            server.cleanup()
        smtp.stop()
    jobs = _db_jobs(db)
    # every acknowledged event is stored, once: one event job per key, no other
    assert kills == 3 and len(acked) >= 6
    assert sorted(j.id for j in jobs) == sorted(event_job_id(k) for k in acked)
    assert {a["job"] for a in acked.values()} == {event_job_id(k) for k in acked}
    # and they chain: each repaired the one published before it (none was lost in between)
    for before, after in zip(jobs, jobs[1:], strict=False):
        assert after.options["repairs"] == before.id
    # every message of every stored event delivered; none for an event that was not stored
    mine = {m["message_id"] for a in acked.values() for m in a["messages"]}
    stored = {r["message_id"] for r in rows}
    assert mine and mine == stored and all(r["sent"] for r in rows)
    assert set(inbox.received) == stored
    # a message handed over twice is the same message: same Message-ID, same text
    assert all(len(inbox.bodies[m]) == 1 for m in stored)
    twice = sum(n - 1 for n in inbox.received.values())
    assert twice <= kills
    print(f"events acknowledged {len(acked)}, replayed {len(replayed)} "
          f"(answers lost on purpose {lost_answers}), messages {len(stored)}, "
          f"handed over twice {twice}")
