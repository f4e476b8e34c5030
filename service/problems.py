"""Errors as problem+json (RFC 9457): every 4xx names what was wrong, in Japanese by default
and English when the client asks for it (``Accept-Language: en``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import Conflict, InputError, Problem
from engine.format import parse_plan_request
from service.i18n import N_, NP_, translator

__all__ = ["ApiProblem", "install_handlers", "lang_of", "problem_response", "pydantic_message"]

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


def check_entry(probe: dict[str, Any], entry: str) -> None:
    """Read ``probe`` (a plan-request built around one entry the caller sent, e.g.
    ``experts[0]``) as the format reads it: the problems of that entry are raised with paths
    relative to it (``lunch.window``, as the caller named the field), any other as it is."""
    try:
        parse_plan_request(probe)
    except InputError as err:
        mine = [Problem(p.path.removeprefix(f"{entry}."), p.message, p.message_ja)
                for p in err.problems if p.path.startswith(entry)]
        if mine:
            raise InputError(mine) from None
        raise


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


#: Pydantic's error types in the service's own words (the catalogue has them in Japanese);
#: ``{…}`` are filled from the error's context. Types not listed keep pydantic's message.
PYDANTIC_MESSAGES = {
    "missing": N_("is required"),
    "extra_forbidden": N_("unknown field"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "string_type": N_("must be text"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "list_type": N_("must be a list"),
    "tuple_type": N_("must be a list"),
    "dict_type": N_("must be an object"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "date_type": N_("must be a date YYYY-MM-DD"),
    "date_parsing": N_("must be a date YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("must be a date YYYY-MM-DD"),
    "date_from_datetime_inexact": N_("must be a date YYYY-MM-DD"),
    "datetime_type": N_("must be a date and time YYYY-MM-DDTHH:MM"),
    "datetime_parsing": N_("must be a date and time YYYY-MM-DDTHH:MM"),
    "datetime_from_date_parsing": N_("must be a date and time YYYY-MM-DDTHH:MM"),
    "json_invalid": N_("is not valid JSON"),
    "json_type": N_("must be JSON"),
}
#: pydantic's errors that count: (the count's key in ``ctx``, singular, plural), so that a
#: list of one reads "at least 1 item", not "1 items".
_COUNTED = {
    "string_too_short": ("min_length", NP_("must have at least {min_length} character",
                                           "must have at least {min_length} characters")),
    "string_too_long": ("max_length", NP_("must have at most {max_length} character",
                                          "must have at most {max_length} characters")),
    "too_short": ("min_length", NP_("must have at least {min_length} item",
                                    "must have at least {min_length} items")),
    "too_long": ("max_length", NP_("must have at most {max_length} item",
                                   "must have at most {max_length} items")),
}
_WHERE = {"query": N_("(query parameter)"), "path": N_("(path parameter)"),
          "header": N_("(header)")}
#: Words of the framework's own errors (404 of an unknown route, 405 …).
_HTTP_DETAILS = (N_("Not Found"), N_("Method Not Allowed"), N_("Unauthorized"),
                 N_("Forbidden"))


def pydantic_message(e: dict[str, Any], lang: str) -> str:
    """One of pydantic's errors in ``lang``: a validator's bilingual words, the service's own
    words for its type, or the catalogue's translation of its message."""
    if e.get("type") == "bilingual":    # a validator's words with the bad value, both languages
        ctx = e.get("ctx") or {}
        return str(ctx.get("ja") if lang == "ja" else ctx.get("en"))
    kind = str(e.get("type", ""))
    ctx = {k: str(v) for k, v in (e.get("ctx") or {}).items()}
    t = translator(lang)
    if kind in _COUNTED and ctx.get(_COUNTED[kind][0], "").isdigit():
        key, forms = _COUNTED[kind]
        text = t.ngettext(*forms, int(ctx[key]))
    elif kind in PYDANTIC_MESSAGES:
        text = t.gettext(PYDANTIC_MESSAGES[kind])
    else:
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        return t.gettext(msg)   # a validator's own words, in the catalogue
    try:
        return text.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return str(e.get("msg", "invalid")) if lang == "en" else text


def validation_errors(exc: RequestValidationError, lang: str = "ja") -> list[dict[str, str]]:
    """Pydantic's errors as ``[{"path": "fields[0]", "message": ...}]``, in ``lang``."""
    out = []
    t = translator(lang)
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        where = loc[0] if loc else "body"
        path = _loc_path(loc)
        msg = pydantic_message(e, lang)
        if where in _WHERE:
            msg = f"{t.gettext(_WHERE[where])} {msg}"
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
        lang = lang_of(request)
        errors = validation_errors(exc, lang)
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

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        lang = lang_of(request)
        return problem_response(409, exc.text(lang), lang, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        lang = lang_of(request)
        return problem_response(exc.status_code, translator(lang).gettext(str(exc.detail)), lang,
                                headers=getattr(exc, "headers", None),
                                instance=request.url.path)
