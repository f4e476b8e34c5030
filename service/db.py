"""Persistence: SQLAlchemy 2 tables, the engine (SQLite in WAL mode or PostgreSQL), schema
migrations (Alembic, shipped inside the package) and the first-start seed of Ehime data.

Every table is written only through the service; plan jobs are also written by the worker
processes that run the solves (each opens its own engine from the same URL).
"""

from __future__ import annotations

import datetime as dt
import secrets
from importlib import resources
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from engine.ehime import ehime_experts, ehime_locations, municipalities
from engine.model import Horizon, PlanRequest

__all__ = [
    "MATCH_TABLES",
    "ApiKey",
    "AuditEntry",
    "Base",
    "BlackoutRow",
    "ExpertRow",
    "MatchCandidateRow",
    "ContactRow",
    "MatchConflictRow",
    "MatchEngagementRow",
    "MatchNeedRow",
    "Meta",
    "MunicipalityRow",
    "OutboxRow",
    "PlanJob",
    "RequestRow",
    "SlotPick",
    "VisitRow",
    "make_engine",
    "migrate",
    "seed",
    "server_secret",
    "session_factory",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC, whole seconds."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Small server-wide values (the secret that signs calendar feed URLs)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MunicipalityRow(Base):
    """A municipality (or the prefectural office) with its location in plan-request/1 form."""

    __tablename__ = "municipalities"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)


class ExpertRow(Base):
    """An expert in plan-request/1 form (fields, base, hours, days, caps)."""

    __tablename__ = "experts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RequestRow(Base):
    """A consultation request of one municipality; ``doc`` is its plan-request/1 entry
    without ``id`` and ``location`` (those are columns)."""

    __tablename__ = "requests"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    earliest: Mapped[dt.date] = mapped_column(index=True)
    latest: Mapped[dt.date] = mapped_column(index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PlanJob(Base):
    """A solve: its input, progress, answer, and how it ended.

    ``status``: queued → running → done | failed | cancelled; ``reason`` says why a job
    failed or was cancelled in English, ``reason_ja`` in Japanese (empty on rows written
    before it was kept: read ``reason``). ``attempt`` counts starts; a
    worker writes only while the row still carries its attempt number, so a solve orphaned by
    a restart cannot overwrite the resumed one.
    """

    __tablename__ = "plan_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    week: Mapped[dt.date | None] = mapped_column(nullable=True, index=True)
    request_doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    previous_doc: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason_ja: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                            nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)


class VisitRow(Base):
    """A published visit and, once it took place, its outcome."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("plan_jobs.id"), index=True)
    week: Mapped[dt.date | None] = mapped_column(nullable=True, index=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    municipality: Mapped[str] = mapped_column(String(16), index=True)
    experts: Mapped[list[Any]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(8))
    date: Mapped[dt.date] = mapped_column(index=True)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    held: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    satisfaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)


class SlotPick(Base):
    """A slot chosen for a request from its slot proposals (``/v1/requests/{id}/accept-slot``).

    ``status``: ``pending`` (a municipality chose it; the centre confirms or overrides, and
    meanwhile it holds the slot: week jobs keep it fixed, other proposals fit around it),
    ``confirmed`` (fixed into the week's plan and published, by the slot job ``job_id``),
    ``overridden`` (the centre fixed another slot), ``rejected`` (the centre turned it down),
    ``withdrawn`` (the municipality took it back or chose again). ``chosen_*`` and
    ``decided_*`` say who did what (also in the audit log).
    """

    __tablename__ = "slot_picks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    municipality: Mapped[str] = mapped_column(String(16), index=True)
    week: Mapped[dt.date] = mapped_column(index=True)
    experts: Mapped[list[Any]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(8))
    date: Mapped[dt.date] = mapped_column()
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    objective_change: Mapped[int | None] = mapped_column(Integer, nullable=True)
    drive_minutes_added: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chosen_role: Mapped[str] = mapped_column(String(16))
    chosen_key: Mapped[int | None] = mapped_column(Integer, nullable=True)
    chosen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_key: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ContactRow(Base):
    """Where to reach a municipality (``kind`` ``municipality``, ``ref`` its code) or an
    expert (``expert``, its id): an e-mail address (none: the centre calls) and the language
    of its messages (``ja`` or ``en``)."""

    __tablename__ = "contacts"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    lang: Mapped[str] = mapped_column(String(8), default="ja")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxRow(Base):
    """One message to one municipality or expert about what an event changed for them,
    written in the transaction that published the repaired plan (``job_id``).

    ``message_id`` is the e-mail's Message-ID, unique: delivery is keyed on it. ``sent_at``
    is set once the SMTP server accepted it; until then ``attempts``, ``next_attempt_at``
    (back-off) and ``last_error`` say how delivery goes. ``claimed_until``: a sender that
    took the row for delivery (others leave it alone until then).
    """

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    week: Mapped[dt.date | None] = mapped_column(nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient_kind: Mapped[str] = mapped_column(String(16), index=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    requests: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                        index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                                nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; ``prefix`` identifies it in logs and audit."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(16), nullable=True)
    expert: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEntry(Base):
    """One write: who (key id and role), what (action, target) and when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    municipality: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BlackoutRow(Base):
    """A date on which the listed experts (``["*"]`` = all) cannot work: a camp, a closure.
    Every week job of that week takes it."""

    __tablename__ = "blackouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(index=True)
    experts: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchNeedRow(Base):
    """A municipality's need in match-data/1 record form (``doc``); id, municipality and
    confidentiality are also columns so access checks never read the document."""

    __tablename__ = "match_needs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    municipality: Mapped[str] = mapped_column(String(16), index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchCandidateRow(Base):
    """A company or individual the programme can match, in match-data/1 record form."""

    __tablename__ = "match_candidates"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchEngagementRow(Base):
    """A past or running engagement of a candidate with a municipality (its ``rating``
    feeds the matcher's outcome score)."""

    __tablename__ = "match_engagements"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    candidate: Mapped[str] = mapped_column(String(64), index=True)
    municipality: Mapped[str] = mapped_column(String(16), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MatchConflictRow(Base):
    """A candidate that may never be matched with a municipality (e.g. its vendor)."""

    __tablename__ = "match_conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate: Mapped[str] = mapped_column(String(64), index=True)
    municipality: Mapped[str] = mapped_column(String(16), index=True)
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


#: The stored matching tables by their match-data/1 name.
MATCH_TABLES: dict[str, Any] = {"needs": MatchNeedRow, "candidates": MatchCandidateRow,
                                "engagements": MatchEngagementRow,
                                "conflicts": MatchConflictRow}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode, full sync and a busy timeout so the
    server and the worker processes can write the same file."""
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    base = resources.files("service")
    cfg = Config(str(base.joinpath("alembic.ini")))
    cfg.set_main_option("script_location", str(base.joinpath("alembic")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def seed(session: Session, *, demo_week: str | None = None, demo_seed: int = 8) -> bool:
    """Fill an empty database with the bundled Ehime municipalities and experts; with
    ``demo_week`` (a Monday) and no request stored yet, also that week's synthetic requests
    drawn with ``demo_seed``, as submitted: the very week ``dxshare plan --demo`` plans (its
    published visit kept as the request's ``fixed``, its blackout stored and applied to that
    week's plan jobs). Returns whether anything was added."""
    added = False
    if session.scalar(select(MunicipalityRow).limit(1)) is None:
        _seed_reference(session)
        added = True
    if demo_week and session.scalar(select(RequestRow).limit(1)) is None:
        from engine.demand import ehime_week_document  # start fast

        week = ehime_week_document(demo_week, seed=demo_seed)
        for b in week["horizon"]["blackouts"]:
            session.add(BlackoutRow(date=dt.date.fromisoformat(b["date"]),
                                    experts=list(b["experts"]), reason=b.get("reason", "")))
        for q in week["requests"]:
            body = {k: v for k, v in q.items() if k not in ("id", "location")}
            session.add(RequestRow(id=q["id"], municipality=q["location"], status="submitted",
                                   earliest=dt.date.fromisoformat(q["earliest"]),
                                   latest=dt.date.fromisoformat(q["latest"]), doc=body,
                                   confidential=bool(q.get("confidential", False))))
        added = True
    session.flush()
    return added


def _seed_reference(session: Session) -> None:
    from engine.format import plan_request_to_dict  # start fast
    table = municipalities()
    today = dt.date.today()
    doc = plan_request_to_dict(PlanRequest(Horizon(today, today), ehime_locations(),
                                           ehime_experts(), ()))
    for loc in doc["locations"]:
        row = table.loc[loc["id"]]
        session.add(MunicipalityRow(code=loc["id"], name_ja=str(row["name_ja"]),
                                    name_en=str(row["name_en"]), kind=str(row["kind"]),
                                    population=int(row["population_2020"]), location=loc))
    for e in doc["experts"]:
        session.add(ExpertRow(id=e["id"], doc=e))
    session.flush()


def server_secret(session: Session) -> str:
    """The random secret that signs calendar feed URLs, created on first use."""
    row = session.get(Meta, "feed_secret")
    if row is None:
        row = Meta(key="feed_secret", value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
