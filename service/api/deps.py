"""Dependencies of the routes, named as the types the handlers receive.

``SessionDep`` is a database session; ``CurrentKey`` the verified caller of any role;
``CentreKey`` a centre key and ``WriterKey`` a centre or municipality key (others get 403
before a body is read). ``Id`` and ``IntId`` are the path parameters of every resource;
``MunicipalityPath`` and ``MunicipalityQuery`` take a municipality by code, Japanese or romaji
name (``上島町``, ``Kamijima``) and hand the route its code (``engine.names``, one resolver).

Examples
--------
>>> from fastapi import APIRouter
>>> router = APIRouter()
>>> @router.get("/v1/things/{thing_id}")
... def get_thing(thing_id: Id, who: CurrentKey, s: SessionDep) -> dict:
...     return {"id": thing_id, "role": who.role}
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, ValidationError
from sqlalchemy.orm import Session

from engine.names import resolve_municipality
from service.auth import Principal, hash_key, lookup_key
from service.config import Settings
from service.db import AuditEntry
from service.jobs.manager import JobManager
from service.problems import ApiProblem

__all__ = [
    "KEY_CACHE_SECONDS",
    "CentreKey",
    "CurrentKey",
    "Id",
    "IntId",
    "JobsDep",
    "MunicipalityPath",
    "MunicipalityQuery",
    "PageDep",
    "SessionDep",
    "SettingsDep",
    "WriterKey",
    "allow",
    "audit",
    "current_key",
    "not_found",
    "paged",
    "validate_body",
]

#: A resource id in a path: letters, digits, ``._-``, at most 64 characters.
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


def municipality_code(text: str) -> str:
    """The code a municipality reference names, or the text as given (the route then answers
    404 for it, as for any unknown code)."""
    return resolve_municipality(text) or text


_NAME = r"^[^\x00-\x1f\x7f/]+$"
#: A municipality in a path: its code or its name.
MunicipalityPath = Annotated[str, Path(min_length=1, max_length=32, pattern=_NAME,
                                       description="code (383562) or name (上島町, Kamijima)"),
                             AfterValidator(municipality_code)]
#: A municipality in a query: its code or its name.
MunicipalityQuery = Annotated[str | None, Query(max_length=32, pattern=_NAME,
                                                description="code or name"),
                              AfterValidator(lambda t: None if t is None else municipality_code(t))]
#: A numeric id in a path (a 32-bit positive integer).
IntId = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: Seconds a verified key is trusted without asking the database again.
KEY_CACHE_SECONDS = 30.0


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session)]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs  # type: ignore[no-any-return]


JobsDep = Annotated[JobManager, Depends(get_jobs)]


def _lookup(request: Request, key: str) -> Principal | None:
    with request.app.state.sessions() as s:
        return lookup_key(s, key)


async def current_key(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer`` or ``X-API-Key``; verified keys are
    remembered for ``KEY_CACHE_SECONDS`` (by hash) so hot read routes skip the database."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else \
        request.headers.get("x-api-key", "").strip()
    challenge = {"WWW-Authenticate": 'Bearer realm="dxshare"'}
    if not key:
        raise ApiProblem(401, "an API key is required (Authorization: Bearer <key>)",
                         "APIキーが必要です（Authorization: Bearer <key>）", headers=challenge)
    cache: dict[str, tuple[float, Principal]] = request.app.state.key_cache
    digest = hash_key(key)
    now = time.monotonic()
    hit = cache.get(digest)
    if hit is not None and hit[0] > now:
        request.state.who = hit[1]
        return hit[1]
    who = await run_in_threadpool(_lookup, request, key)
    if who is not None:
        if len(cache) > 10_000:
            cache.clear()
        cache[digest] = (now + KEY_CACHE_SECONDS, who)
        request.state.who = who
    if who is None:
        raise ApiProblem(401, "unknown or revoked API key", "APIキーが無効です",
                         headers=challenge)
    return who


CurrentKey = Annotated[Principal, Depends(current_key)]


def allow(who: Principal, *roles: str) -> None:
    """403 unless the caller has one of ``roles``."""
    if who.role not in roles:
        raise ApiProblem(403, f"role {who.role!r} may not do this (needs {' or '.join(roles)})",
                         f"ロール {who.role!r} にはこの操作の権限がありません")


def _centre(who: CurrentKey) -> Principal:
    allow(who, "centre")
    return who


def _writer(who: CurrentKey) -> Principal:
    allow(who, "centre", "municipality")
    return who


#: A centre key (403 before the body is even read).
CentreKey = Annotated[Principal, Depends(_centre)]
#: A centre or municipality key.
WriterKey = Annotated[Principal, Depends(_writer)]


#: What a 404 did not find, in Japanese (``{i}``: the identifier asked for), the words the
#: page uses; a thing not listed keeps its English word.
_NOT_FOUND_JA = {
    "blackout": "休止日 {i}", "engagement": "実績 {i}", "need": "ニーズ {i}",
    "candidate": "候補者 {i}", "conflict": "利益相反 {i}", "expert": "専門家 {i}",
    "feed": "iCalendar フィード {i}", "message": "連絡 {i}", "municipality": "自治体 {i}",
    "plan job": "計画ジョブ {i}", "request": "依頼 {i}", "visit": "訪問 {i}",
    "slot pick of request": "依頼 {i} の日時の選択",
    "pending slot pick of request": "依頼 {i} の確認待ちの日時",
}


def not_found(what: str, ident: Any) -> ApiProblem:
    """The 404 of a missing resource, and of one the caller may not know exists: what it
    is in the reader's words, both languages (``専門家 'pr-9' は見つかりません``)."""
    ja = _NOT_FOUND_JA.get(what, what + " {i}").format(i=repr(ident))
    return ApiProblem(404, f"no {what} {ident!r}", f"{ja} は見つかりません")


def audit(s: Session, who: Principal, action: str, target: str, **detail: Any) -> None:
    """Add an audit row in the caller's transaction (committed with the write itself)."""
    s.add(AuditEntry(key_id=who.key_id, role=who.role, municipality=who.municipality,
                     action=action, target=target, detail=detail))


def validate_body(model: Any, data: Any) -> Any:
    """``model.model_validate(data)`` with errors located in the body (422 naming fields)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


@dataclass(frozen=True)
class Page:
    """Which slice of a list to answer: ``limit`` rows after skipping ``offset``."""

    limit: int
    offset: int


def _page(limit: Annotated[int, Query(ge=1, le=1000, description="rows per page")] = 100,
          offset: Annotated[int, Query(ge=0, le=10_000_000,
                                       description="rows to skip")] = 0) -> Page:
    return Page(limit, offset)


#: ``?limit=`` (1–1000, default 100) and ``?offset=`` of a paged list.
PageDep = Annotated[Page, Depends(_page)]


def paged(request: Request, rows: list[dict[str, Any]], total: int, page: Page) -> Response:
    """A JSON array of one page, with ``X-Total-Count`` and RFC 8288 ``Link`` headers
    (``next``/``prev``) that keep the request's other query parameters."""
    headers = {"X-Total-Count": str(total)}
    links = []
    if page.offset + len(rows) < total:
        links.append((page.offset + page.limit, "next"))
    if page.offset > 0:
        links.append((max(0, page.offset - page.limit), "prev"))
    if links:
        parts = []
        for offset, rel in links:
            url = request.url.include_query_params(limit=page.limit, offset=offset)
            parts.append(f'<{url.path}?{url.query}>; rel="{rel}"')
        headers["Link"] = ", ".join(parts)
    body = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, media_type="application/json", headers=headers)
