"""The dxshare HTTP service (``/v1``): municipalities, experts, requests, plan jobs, visits,
matching, and the dashboard page.

``create_app(settings)`` builds the FastAPI app; its lifespan opens the database (migrating
and seeding it on first start), starts the job executor and resumes unfinished jobs. The
routes live in ``service/api/routes/`` (one router per resource) and take their database
session and caller as typed dependencies (``service/api/deps.py``).

Access: ``Authorization: Bearer <key>`` (or ``X-API-Key``). Missing or unknown key → 401; a
role that may not use the route → 403; another municipality's resource → 404, exactly as if
it did not exist, so nothing can be inferred about it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api.middleware import BodyLimit, Guard, JsonBodies, RateLimits, RefusalLog
from service.api.routes import api_router
from service.api_docs import install_api_docs
from service.config import Settings, load_settings
from service.db import make_engine, migrate, seed, server_secret, session_factory
from service.jobs.manager import JobManager
from service.matching_store import MatchingStore
from service.matching_store import seed_demo as seed_matching_demo
from service.outbox import Postman
from service.problems import install_handlers
from service.web import install as install_dashboard

__all__ = ["create_app"]

API_DESCRIPTION = """
Weekly planning of the shared DX experts of Ehime Prefecture.

Authenticate with `Authorization: Bearer <key>` (keys are created with `dxshare keys create`).
Roles: **centre** (everything), **municipality** (its own requests, visits and matching),
**expert** (its own schedule and calendar feed). Errors are `application/problem+json`
(RFC 9457) naming the offending field; messages are Japanese unless `Accept-Language: en`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service over ``settings`` (environment ``DXSHARE_*`` when not given)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "started", 0):
            # Already running (a test harness may start the same app again): the running
            # database, workers and caches stay in charge.
            app.state.started += 1
            try:
                yield
            finally:
                app.state.started -= 1
            return
        app.state.started = 1
        url = settings.url()
        eng = make_engine(url)
        migrate(eng)
        sessions = session_factory(eng)
        with sessions.begin() as s:
            if settings.seed:
                seed(s, demo_week=settings.demo_week, demo_seed=settings.demo_seed)
                if settings.demo_week or settings.demo_matching:
                    seed_matching_demo(s)
            app.state.feed_secret = server_secret(s)
        app.state.engine, app.state.sessions = eng, sessions
        app.state.refusals = RefusalLog(sessions)
        app.state.jobs = JobManager(url, sessions, kind=settings.executor,
                                    workers=settings.job_workers,
                                    document_workers=settings.document_workers,
                                    address=settings.dask_address,
                                    max_attempts=settings.job_max_attempts,
                                    grace=settings.job_grace_seconds,
                                    memory_mb=settings.job_memory_mb or None,
                                    parts={"executor": settings.parts_executor,
                                           "address": settings.dask_address,
                                           "workers": settings.parts_workers})
        app.state.jobs.recover()
        app.state.postman = None
        if settings.smtp_url:
            app.state.postman = Postman(sessions, settings.smtp_url,
                                        timeout=settings.smtp_timeout,
                                        first_retry=settings.smtp_retry_seconds)
            app.state.postman.start()
        app.state.matching.bind(sessions)
        app.state.matching.warm()
        try:
            yield
        finally:
            app.state.started = 0
            if app.state.postman is not None:
                app.state.postman.stop()
            app.state.refusals.flush()
            app.state.jobs.shutdown()
            eng.dispose()

    app = FastAPI(title="dxshare", version="1", description=API_DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.key_cache = {}
    app.state.matching = MatchingStore()
    app.state.rate_limits = RateLimits(settings.rate_limit_per_key,
                                       settings.rate_limit_per_address,
                                       settings.rate_limit_anonymous)
    install_handlers(app)
    app.add_middleware(JsonBodies, max_depth=settings.max_json_depth)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Guard)  # outermost: a spent budget costs no body read
    app.include_router(api_router)
    install_dashboard(app)  # the page at / and its static files
    install_api_docs(app)   # /docs and /redoc, their assets from the package
    return app
