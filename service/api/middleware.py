"""ASGI middleware of the service: the body size limit and the audit of refused writes."""

from __future__ import annotations

from typing import Any

from fastapi.concurrency import run_in_threadpool

from service.auth import Principal
from service.db import AuditEntry
from service.problems import problem_response

__all__ = ["AuditRefusals", "BodyLimit", "WRITE_METHODS"]

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


def _audit_refusal(app: Any, who: Principal | None, method: str, path: str,
                   status: int) -> None:
    """Record a refused write (401/403/404/409) with whoever asked, in its own transaction."""
    with app.state.sessions.begin() as s:
        s.add(AuditEntry(key_id=who.key_id if who else None,
                         role=who.role if who else "anonymous",
                         municipality=who.municipality if who else None,
                         action=f"refused.{status}", target=f"{method} {path}"[:128], detail={}))


class AuditRefusals:
    """Audit every write the service refused (who tried what), besides the successful writes
    the handlers record in their own transaction."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        status = [0]

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        app = scope.get("app")
        if status[0] in (401, 403, 404, 409) and app is not None and hasattr(app.state,
                                                                           "sessions"):
            who = (scope.get("state") or {}).get("who")
            await run_in_threadpool(_audit_refusal, app, who, scope["method"], scope["path"],
                                    status[0])
