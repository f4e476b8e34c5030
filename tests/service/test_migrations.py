"""The schema migrations: a database made by the migrations has every table and column the
models have (and no other), and an existing database brought to the newest migration keeps
its rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from service.db import Base, PlanJob, _alembic_config, make_engine, migrate, session_factory
from tests.service.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path_factory, "migrations") as url:
        eng = make_engine(url)
        try:
            yield eng
        finally:
            eng.dispose()


def _upgrade(eng: Engine, revision: str) -> None:
    from alembic import command

    cfg = _alembic_config(eng.url.render_as_string(hide_password=False))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_the_migrations_make_the_models_schema(empty: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrate(empty)
    with empty.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_an_old_database_keeps_its_jobs_and_gains_their_japanese_reason(empty: Engine) -> None:
    """A database at 0004 (before ``reason_ja``) with a failed and a done job: after the
    upgrade both are there as they were, the failed one with its English reason and no
    Japanese one, and a new reason can be stored in both languages."""
    _upgrade(empty, "0004")
    assert "reason_ja" not in {c["name"] for c in inspect(empty).get_columns("plan_jobs")}
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    with empty.begin() as conn:
        for jid, status, reason in (("old-failed", "failed", "solver error: KeyError: 'x'"),
                                    ("old-done", "done", None)):
            conn.execute(text(
                "INSERT INTO plan_jobs (id, status, week, request_doc, options, reason, attempt,"
                " history, created_at) VALUES (:id, :status, NULL, '{}', '{}', :reason, 1,"
                " '[]', :at)"), {"id": jid, "status": status, "reason": reason, "at": at})
    migrate(empty)
    assert "reason_ja" in {c["name"] for c in inspect(empty).get_columns("plan_jobs")}
    with session_factory(empty).begin() as s:
        failed, done = s.get(PlanJob, "old-failed"), s.get(PlanJob, "old-done")
        assert failed is not None and done is not None
        assert (failed.status, failed.reason, failed.reason_ja) == (
            "failed", "solver error: KeyError: 'x'", None)
        assert (done.status, done.reason, done.reason_ja) == ("done", None, None)
        failed.reason_ja = "計画の計算が内部エラーで止まりました（KeyError）"
    with empty.connect() as conn:
        assert conn.execute(text("SELECT reason_ja FROM plan_jobs WHERE id = 'old-failed'")
                            ).scalar() == "計画の計算が内部エラーで止まりました（KeyError）"
    migrate(empty)   # idempotent
