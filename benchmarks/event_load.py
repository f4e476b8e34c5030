"""Events through the service while it is killed: the repair benchmark's section 5.

A real ``dxshare serve`` (SQLite, the demo week planned and published, every municipality and
expert with an e-mail address) delivers its outbox to an SMTP sink on loopback (aiosmtpd,
started here). A client writes a stream of events (an expert out for the rest of a later day,
a town hall closed on one, ``now`` a quarter of an hour later each time), each with its
``Idempotency-Key``, while the messages go out; the server is killed with SIGKILL
``kills`` times in the middle of it. After each restart the event that got no answer is sent
again, and so is the last acknowledged one (as if its answer had been lost). Then a last
server delivers what is left, and the database and the sink are compared:

- events: acknowledged, stored (event jobs), lost (acknowledged, not stored), applied twice
  (an event job more than the keys), answered again from the store (replayed);
- messages: stored, delivered (distinct Message-IDs), lost (stored, never delivered),
  delivered without being stored, handed over twice (the same Message-ID again: at-least-once
  delivery's window of one commit), and two messages to one recipient about one event (what a
  person would see as a duplicate);
- POST /v1/events latency (acknowledged, not replayed) and the seconds from the last start to
  the last delivery.

    from benchmarks.event_load import run_event_load
    run_event_load(kills=3)
"""

from __future__ import annotations

import datetime as dt
import email
import os
import random
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_service import Server, _port

__all__ = ["run_event_load"]

WEEK = "2026-12-07"


class _Sink:
    """An SMTP server's handler counting what it accepted, by Message-ID."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received[email.message_from_bytes(envelope.content)["Message-ID"]] += 1
        return "250 OK"


def _events(rng: random.Random, experts: list[str], places: list[str]
            ) -> Iterator[tuple[str, dict[str, Any]]]:
    now = dt.datetime(2026, 12, 7, 7, 0)
    for i in range(10_000):
        day = dt.date(2026, 12, rng.randint(8, 11))
        if i % 2 == 0:
            body = {"kind": "expert_unavailable", "now": f"{now:%Y-%m-%dT%H:%M}",
                    "expert": rng.choice(experts),
                    "from": f"{day}T{rng.randint(8, 14):02d}:00", "until": f"{day}T23:00"}
        else:
            body = {"kind": "location_closed", "now": f"{now:%Y-%m-%dT%H:%M}",
                    "location": rng.choice(places), "date": day.isoformat(),
                    "from": "08:00", "until": "18:00"}
        yield f"bench-{i}", body
        now += dt.timedelta(minutes=15)


class _Client:
    """Posts events with their keys; remembers the answered ones and the one unanswered."""

    def __init__(self, headers: dict[str, str]):
        self.headers = headers
        self.acked: dict[str, dict[str, Any]] = {}
        self.bodies: dict[str, dict[str, Any]] = {}
        self.pending: tuple[str, dict[str, Any]] | None = None
        self.replayed = 0
        self.seconds: list[float] = []
        self.refused: list[str] = []

    def post(self, base: str, key: str, body: dict[str, Any]) -> bool:
        """False when the server did not answer (the event stays pending)."""
        self.pending = (key, body)
        t0 = time.perf_counter()
        try:
            r = httpx.post(f"{base}/v1/events", json=body, timeout=60,
                           headers={**self.headers, "Idempotency-Key": key})
        except httpx.HTTPError:
            return False
        self.pending = None
        if r.status_code != 201:
            self.refused.append(f"{key}: {r.status_code}")
            return True
        if r.headers.get("Idempotent-Replayed") == "true":
            self.replayed += 1
        else:
            self.seconds.append(time.perf_counter() - t0)
        self.acked[key], self.bodies[key] = r.json(), body
        return True


def _setup(base: str, headers: dict[str, str]) -> tuple[list[str], list[str]]:
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        places = [m["code"] for m in c.get("/v1/municipalities").json()]
        experts = [e["id"] for e in c.get("/v1/experts").json()]
        for code in places:
            c.put(f"/v1/contacts/municipality/{code}", json={"email": f"m{code}@example.jp"})
        for e in experts:
            c.put(f"/v1/contacts/expert/{e}", json={"email": f"{e}@example.jp"})
        url = c.post("/v1/plan-jobs", json={"week": WEEK, "time_limit": 10}).json()["url"]
        while c.get(url).json()["status"] in ("queued", "running"):
            time.sleep(0.2)
        c.post(f"{url}/publish").raise_for_status()
    return experts, places


def run_event_load(kills: int = 3, seed: int = 23, round_seconds: tuple[float, float] = (3, 8)
                   ) -> dict[str, Any]:
    """The figures of the module docstring (a dict), from one run with ``kills`` SIGKILLs,
    each ``round_seconds`` (a range, drawn) after its server started taking events."""
    from aiosmtpd.controller import Controller  # start fast

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="dxshare-events-"))
    db = tmp / "events.sqlite"
    smtp_port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DXSHARE_")}
    env |= {"PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "DXSHARE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "DXSHARE_SMTP_TIMEOUT": "2",
            "DXSHARE_SMTP_RETRY_SECONDS": "0.2", "DXSHARE_EVENT_TIME_LIMIT": "2"}
    sink = _Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    server = Server(db, env)
    client = _Client(server.key("--role", "centre"))
    out: dict[str, Any] = {"kills": 0}
    try:
        server.start()
        stream = _events(rng, *_setup(server.base, client.headers))
        for n in range(kills):
            if n:
                server = Server(db, env).start()
                if client.pending is not None:
                    client.post(server.base, *client.pending)
                last = next(reversed(client.acked))     # its answer lost on the way back
                client.post(server.base, last, client.bodies[last])
            stop = threading.Event()

            def write(base: str = server.base, stop: threading.Event = stop) -> None:
                while not stop.is_set() and client.post(base, *next(stream)):
                    pass

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            time.sleep(rng.uniform(*round_seconds))
            server.kill9()
            out["kills"] += 1
            stop.set()
            writer.join(timeout=60)
        server = Server(db, env).start()
        t0 = time.perf_counter()
        while client.pending is not None:
            client.post(server.base, *client.pending)
        with httpx.Client(base_url=server.base, timeout=60, headers=client.headers) as c:
            deadline = time.monotonic() + 180
            while c.get("/v1/outbox", params={"sent": "false", "limit": 1}
                        ).headers["X-Total-Count"] != "0" and time.monotonic() < deadline:
                time.sleep(0.2)
            out["delivered_after_s"] = time.perf_counter() - t0
            time.sleep(1.0)     # a second hand-over would arrive now
    finally:
        server.stop()
        smtp.stop()
    with sqlite3.connect(db) as con:
        found = con.execute(
            "SELECT id, json_extract(options, '$.idempotency_key') FROM plan_jobs "
            "WHERE json_extract(options, '$.event') IS NOT NULL").fetchall()
        rows = con.execute("SELECT message_id, job_id, recipient_kind, recipient, sent_at "
                           "FROM outbox").fetchall()
    jobs = [r[0] for r in found]
    acked_jobs = {a["job"] for a in client.acked.values()}
    stored = {r[0] for r in rows}
    per_person = Counter((r[1], r[2], r[3]) for r in rows)
    out |= {
        "events_acked": len(client.acked), "events_stored": len(jobs),
        "events_lost": len(acked_jobs - set(jobs)),
        # one event job per key: a key stored twice is an event applied twice
        "events_twice": len(found) - len({r[1] for r in found}),
        "events_not_acked_stored": len(set(jobs) - acked_jobs),
        "replayed": client.replayed, "refused": client.refused,
        "messages_stored": len(stored), "messages_delivered": len(set(sink.received)),
        "messages_lost": len(stored - set(sink.received)),
        "messages_unstored": len(set(sink.received) - stored),
        "handed_over_twice": sum(n - 1 for n in sink.received.values()),
        "visible_duplicates": sum(n - 1 for n in per_person.values()),
        "unsent": sum(r[4] is None for r in rows),
        "post_seconds": client.seconds,
    }
    return out
