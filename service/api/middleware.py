"""ASGI middleware of the service: the body size limit, the checks every JSON body passes
(nesting depth, no control characters in text), rate limits per key and address, and the
audit of refused writes (anonymous ones folded per address and minute)."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import update

from service.api.deps import KEY_CACHE_SECONDS
from service.auth import Principal, hash_key, lookup_key
from service.db import AuditEntry
from service.i18n import N_, translator
from service.problems import problem_response

__all__ = ["WRITE_METHODS", "BodyLimit", "Guard", "JsonBodies", "RateLimits", "RefusalLog",
           "control_character", "too_deep"]

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with 413.

    A declared ``Content-Length`` over the limit is refused before anything is read. A body
    without one (chunked transfer) is read here up to the limit, then handed on whole; one
    chunk too many and the answer is 413 at once, never a parsing error of a truncated body.
    """

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        await problem_response(413, f"body larger than {self.limit} bytes (the limit)",
                               "en")(scope, receive, send)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or {}).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away before its body was complete
            chunk = msg.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


#: Control characters refused in every text of a body: the C0 set and DEL, except tab and
#: line feed (text fields may hold several lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: A JSON string (escapes included), to be skipped when counting brackets.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKETS = bytes(i for i in range(256) if i not in b"[]{}")


def control_character(text: str) -> int | None:
    r"""The position of the first control character in ``text`` (tab and line feed are
    text), else ``None``.

    >>> control_character("観光データ\tの可視化"), control_character("ab\x00c")
    (None, 2)
    """
    hit = _CONTROL.search(text)
    return None if hit is None else hit.start()


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` deep,
    found without parsing it (a parser recurses, and 100,000 nested arrays exhaust it).

    >>> too_deep(b'[[["]]]]]"]]]', 3), too_deep(b'{"a": [[{}]]}', 3)
    (False, True)
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for b in _JSON_STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS):
        if b in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _control_paths(doc: Any) -> list[str]:
    """Paths (``needs[3].title``) of the strings in ``doc`` (keys included) that hold a
    control character; walked without recursion."""
    bad: list[str] = []
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack and len(bad) < 20:
        value, path = stack.pop()
        if isinstance(value, str):
            if control_character(value) is not None:
                bad.append(path or "body")
        elif isinstance(value, dict):
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if control_character(k) is not None:
                    bad.append(sub.encode("unicode_escape").decode("ascii"))
                stack.append((v, sub))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return sorted(bad)


def _is_json(scope: Any) -> bool:
    """Whether the app reads this body as JSON: a JSON media type, or none at all."""
    kind = dict(scope.get("headers") or {}).get(b"content-type", b"").decode("latin-1")
    kind = kind.split(";")[0].strip().lower()
    return not kind or kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json"))


class JsonBodies:
    """Every JSON body is checked here, once for all routes, before a handler reads it.

    - nested at most ``max_depth`` deep (deeper: 422 naming ``body``, instead of the
      parser's recursion error);
    - no control characters in any text, keys included (422 naming each field), whatever
      the route's own model says: requests, needs, candidates and uploads alike.

    Bodies that are not valid JSON pass on: the route's own parsing names the error.
    """

    def __init__(self, app: Any, max_depth: int):
        self.app, self.max_depth = app, max_depth

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS \
                or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away before its body was complete
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        lang = "en" if _prefers_english(scope) else "ja"
        t = translator(lang)
        errors: list[dict[str, str]] = []
        if too_deep(body, self.max_depth):
            msg = t.gettext(N_("JSON nested deeper than {limit} levels (the limit)"))
            errors.append({"path": "body", "message": msg.format(limit=self.max_depth)})
        elif body.strip():
            try:
                doc = json.loads(body)
            except (ValueError, RecursionError):
                doc = None
            message = t.gettext(N_("must not contain control characters"))
            errors += [{"path": p, "message": message} for p in _control_paths(doc)]
        if errors:
            first = errors[0]
            detail = f"{first['path']}: {first['message']}"
            if len(errors) > 1:
                detail += f" (他 {len(errors) - 1} 件)" if lang == "ja" else \
                    f" (and {len(errors) - 1} more)"
            await problem_response(422, detail, lang, errors=errors,
                                   instance=scope["path"])(scope, receive, send)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RefusalLog:
    """Writes refused requests into the audit log without letting a flood drown it.

    A refusal by a known key (403, 404, 409, 429) is one row, with the key. A refusal of a
    caller without a valid key (401, or 429 before any key was checked) is folded into one
    row per client address and minute: ``refused.anonymous`` with ``detail.count``, the
    statuses seen and up to five distinct paths; the row is written at the first refusal
    and its count brought up to date at most every ``flush_seconds``.
    """

    def __init__(self, sessions: Any, *, flush_seconds: float = 5.0):
        self.sessions, self.flush_seconds = sessions, flush_seconds
        self._lock = threading.Lock()
        self._open: dict[tuple[str, int], dict[str, Any]] = {}

    def keyed(self, who: Principal, method: str, path: str, status: int) -> None:
        with self.sessions.begin() as s:
            s.add(AuditEntry(key_id=who.key_id, role=who.role, municipality=who.municipality,
                             action=f"refused.{status}", target=f"{method} {path}"[:128],
                             detail={}))

    def anonymous(self, address: str, method: str, path: str, status: int) -> None:
        now = time.time()
        window = int(now // 60)
        target = f"{method} {path}"[:128]
        with self._lock:
            for key in [k for k in self._open if k[1] < window - 1]:
                self._write(self._open.pop(key))
            entry = self._open.get((address, window))
            if entry is None:
                entry = {"id": None, "address": address, "count": 0, "statuses": {},
                         "paths": [], "first": now, "last": now, "saved": 0.0, "target": target}
                self._open[(address, window)] = entry
            entry["count"] += 1
            entry["last"] = now
            entry["statuses"][str(status)] = entry["statuses"].get(str(status), 0) + 1
            if target not in entry["paths"] and len(entry["paths"]) < 5:
                entry["paths"].append(target)
            if entry["id"] is None or now - entry["saved"] >= self.flush_seconds:
                self._write(entry)

    def _write(self, entry: dict[str, Any]) -> None:
        detail = {"address": entry["address"], "count": entry["count"],
                  "statuses": dict(entry["statuses"]), "paths": list(entry["paths"]),
                  "first": dt.datetime.fromtimestamp(entry["first"], dt.UTC).isoformat(),
                  "last": dt.datetime.fromtimestamp(entry["last"], dt.UTC).isoformat()}
        with self.sessions.begin() as s:
            if entry["id"] is None:
                row = AuditEntry(key_id=None, role="anonymous", municipality=None,
                                 action="refused.anonymous", target=entry["target"],
                                 detail=detail)
                s.add(row)
                s.flush()
                entry["id"] = row.id
            else:
                s.execute(update(AuditEntry).where(AuditEntry.id == entry["id"])
                          .values(detail=detail))
        entry["saved"] = time.time()

    def flush(self) -> None:
        """Bring every open row's count up to date (at shutdown, and before the audit is read)."""
        with self._lock:
            for entry in self._open.values():
                if entry["saved"] < entry["last"]:
                    self._write(entry)


def client_address(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def presented_key(scope: Any) -> str | None:
    """The key the request carries (unverified), from ``Authorization: Bearer`` or
    ``X-API-Key``."""
    headers = dict(scope.get("headers") or {})
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return headers.get(b"x-api-key", b"").decode("latin-1").strip() or None


class RateLimits:
    """Per-key and per-address request budgets (moving windows, in this server process).

    ``per_key`` bounds the requests carrying one valid key (and only those: they never count
    against their address), ``per_address`` the requests without a valid key from one client
    address, ``anonymous`` the refused requests without a valid key from one address (once
    spent, that address gets 429 for every request without a valid key). Limits are
    strings such as ``"3000/minute"`` (several with ``;``); an empty string switches one off.
    The page, its static files and ``/v1/health`` are not limited.
    """

    EXEMPT = ("/static/", "/v1/health")

    def __init__(self, per_key: str, per_address: str, anonymous: str):
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_key = parse_many(per_key) if per_key else []
        self.per_address = parse_many(per_address) if per_address else []
        self.anonymous = parse_many(anonymous) if anonymous else []

    def exempt(self, path: str) -> bool:
        return path == "/" or path.startswith(self.EXEMPT)

    def _retry_after(self, items: list[Any], *ident: str) -> int | None:
        for item in items:
            if not self._limiter.hit(item, *ident):
                reset = self._limiter.get_window_stats(item, *ident).reset_time
                return max(1, int(reset - time.time()) + 1)
        return None

    def check_key(self, key: str) -> int | None:
        """Count a request with a valid key against that key's budget (and nothing else:
        anonymous traffic from the same address never spends it); seconds to wait when it
        is spent, else ``None``."""
        return self._retry_after(self.per_key, "key", hash_key(key))

    def check_address(self, address: str) -> int | None:
        """Count a request without a valid key against its address's budget; seconds to
        wait when it is spent, else ``None``."""
        return self._retry_after(self.per_address, "addr", address)

    def anonymous_wait(self, address: str) -> int | None:
        """Seconds until the address may be refused again, when it has spent its budget of
        refusals without a valid key, else ``None``."""
        if self.anonymous and not self._limiter.test(self.anonymous[0], "anon", address):
            reset = self._limiter.get_window_stats(self.anonymous[0], "anon", address)
            return max(1, int(reset.reset_time - time.time()) + 1)
        return None

    def refused_anonymously(self, address: str) -> None:
        for item in self.anonymous:
            self._limiter.hit(item, "anon", address)


class Guard:
    """Rate limits in front of the app, and the audit of every refused write behind it.

    Successful writes are audited by the handlers in their own transaction; here a refused
    write (401, 403, 404, 409, 429) is recorded through ``RefusalLog``: one row per refusal
    of a known key, one row per address and minute for callers without a valid key.
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app = scope.get("app")
        limits: RateLimits | None = getattr(app.state, "rate_limits", None) if app else None
        address = client_address(scope)
        if limits is not None and not limits.exempt(scope["path"]):
            key = presented_key(scope)
            if key is not None and await _valid(app, key):
                # a valid key is limited by its own budget only: a keyless flood from the
                # same address (an office behind one NAT) must not lock it out
                wait = limits.check_key(key)
            else:
                wait = limits.check_address(address)
                if wait is None:
                    wait = limits.anonymous_wait(address)
            if wait is not None:
                await problem_response(
                    429, f"too many requests; try again in {wait} s",
                    "ja" if not _prefers_english(scope) else "en",
                    headers={"Retry-After": str(wait)})(scope, receive, send)
                await self._audit(scope, app, address, 429)
                return
        status = [0]

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        if status[0] == 401 and limits is not None:
            limits.refused_anonymously(address)
        if status[0] in (401, 403, 404, 409):
            await self._audit(scope, app, address, status[0])

    async def _audit(self, scope: Any, app: Any, address: str, status: int) -> None:
        log: RefusalLog | None = getattr(app.state, "refusals", None) if app else None
        if log is None or scope["method"] not in WRITE_METHODS:
            return
        who = (scope.get("state") or {}).get("who")
        if who is not None:
            await run_in_threadpool(log.keyed, who, scope["method"], scope["path"], status)
        else:
            await run_in_threadpool(log.anonymous, address, scope["method"], scope["path"],
                                    status)


async def _valid(app: Any, key: str) -> bool:
    """Whether ``key`` is a valid key (the verified-key cache, else the database; a key
    found valid is remembered in the cache as ``current_key`` remembers it)."""
    digest = hash_key(key)
    cache = app.state.key_cache
    hit = cache.get(digest)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return True

    def look() -> Principal | None:
        with app.state.sessions() as s:
            return lookup_key(s, key)

    who = await run_in_threadpool(look)
    if who is None:
        return False
    if len(cache) > 10_000:
        cache.clear()
    cache[digest] = (now + KEY_CACHE_SECONDS, who)
    return True


def _prefers_english(scope: Any) -> bool:
    lang = dict(scope.get("headers") or {}).get(b"accept-language", b"").decode("latin-1")
    return lang.strip().lower().startswith("en")
