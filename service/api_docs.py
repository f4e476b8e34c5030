"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with
their scripts and styles from the package (``service/static/vendor``, see its README for the
versions and licences): FastAPI's defaults load them from a CDN, and the page was blank on
a town hall's closed network.

Both pages also carry a Content-Security-Policy that lets the browser load only from the
service itself: the bundles name other hosts in strings (Swagger UI's online validator badge,
ReDoc's "API docs by Redocly" logo), and the policy keeps the browser from reaching out for
them on a network where they would hang or leak the page's address.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

__all__ = ["install_api_docs"]

VENDOR = "/static/vendor"

#: Only the service itself; the pages' one inline start-up script and the bundles' inline
#: styles are allowed, ReDoc's search worker comes from a blob: URL and its icons are data: URLs.
SAME_HOST_ONLY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
                  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
                  "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'self'")


def _same_host_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = SAME_HOST_ONLY
    return page


def install_api_docs(app: FastAPI) -> None:
    """Add ``/docs`` and ``/redoc`` (create the app with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _same_host_only(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} API",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            # no badge that sends the schema's address to validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None}))

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _same_host_only(get_redoc_html(
            openapi_url=openapi_url, title=f"{app.title} API",
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False))
