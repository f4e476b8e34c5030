"""Errors as problem+json (RFC 9457): every 4xx names what was wrong, in Japanese by default
and English when the client asks for it (``Accept-Language: en``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import InputError

__all__ = ["ApiProblem", "install_handlers", "lang_of", "problem_response"]

MEDIA = "application/problem+json"

_TITLES = {
    400: ("Bad request", "不正なリクエストです"),
    401: ("Authentication required", "認証が必要です"),
    403: ("Forbidden", "この操作は許可されていません"),
    404: ("Not found", "見つかりません"),
    405: ("Method not allowed", "このメソッドは使えません"),
    409: ("Conflict", "現在の状態ではこの操作はできません"),
    413: ("Request body too large", "リクエスト本文が大きすぎます"),
    415: ("Unsupported media type", "対応していない形式です"),
    422: ("Invalid input", "入力内容に誤りがあります"),
    429: ("Too many requests", "リクエストが多すぎます"),
    500: ("Internal error", "内部エラーが発生しました"),
}


def lang_of(request: Request) -> str:
    """``'en'`` when Accept-Language prefers English, else ``'ja'``."""
    header = request.headers.get("accept-language", "")
    return "en" if header.strip().lower().startswith("en") else "ja"


class ApiProblem(Exception):
    """Raise from a handler to answer problem+json with ``status``."""

    def __init__(self, status: int, detail: str, detail_ja: str = "", *,
                 errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.detail_ja = status, detail, detail_ja or detail
        self.errors, self.headers = errors, headers


def problem_response(status: int, detail: str, lang: str = "ja", *,
                     errors: list[dict[str, str]] | None = None,
                     headers: dict[str, str] | None = None,
                     instance: str | None = None) -> JSONResponse:
    en, ja = _TITLES.get(status, ("Error", "エラー"))
    body: dict[str, Any] = {"type": "about:blank", "title": ja if lang == "ja" else en,
                            "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _loc_path(loc: tuple[Any, ...]) -> str:
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as ``[{"path": "fields[0]", "message": ...}]``."""
    out = []
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        where = loc[0] if loc else "body"
        path = _loc_path(loc)
        msg = str(e.get("msg", "invalid"))
        if where in ("query", "path", "header"):
            msg = f"({where} parameter) {msg}"
        out.append({"path": path, "message": msg})
    return out


def install_handlers(app: Any) -> None:
    """Map every error the app can raise to problem+json; unknown ones to a plain 500."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        lang = lang_of(request)
        return problem_response(exc.status, exc.detail_ja if lang == "ja" else exc.detail, lang,
                                errors=exc.errors, headers=exc.headers,
                                instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        lang = lang_of(request)
        first = errors[0] if errors else {"path": "", "message": "invalid"}
        detail = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
        if len(errors) > 1:
            detail += f" (他 {len(errors) - 1} 件)" if lang == "ja" else \
                f" (and {len(errors) - 1} more)"
        return problem_response(422, detail, lang, errors=errors, instance=request.url.path)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        lang = lang_of(request)
        return problem_response(422, exc.summary(lang), lang, errors=exc.to_list(lang),
                                instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        lang = lang_of(request)
        return problem_response(exc.status_code, str(exc.detail), lang,
                                headers=getattr(exc, "headers", None),
                                instance=request.url.path)
