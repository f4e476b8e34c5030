"""Service settings, read from ``DXSHARE_*`` environment variables (and the CLI flags).

``DXSHARE_DATABASE_URL`` wins over ``db_path``: with it the service uses that database
(e.g. ``postgresql+psycopg://user@127.0.0.1/dxshare``); without it, an SQLite file in WAL mode.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.errors import InputError, Problem
from engine.model import START_GRIDS

__all__ = ["EXECUTORS", "Settings", "load_settings"]

#: Where solves run (``executor``, ``parts_executor``).
EXECUTORS = ("processes", "dask", "serial")


def _bilingual(en: str, ja: str) -> PydanticCustomError:
    """A setting's error in English and Japanese (read back by ``load_settings``)."""
    return PydanticCustomError("bilingual", "{en}", {"en": en, "ja": ja})


class Settings(BaseSettings):
    """Where the data lives, where solves run, and the service's limits.

    ``executor``: ``processes`` (worker processes of the server, the default), ``dask`` (the
    cluster at ``dask_address``) or ``serial`` (in the server process; tests only).
    ``parts_executor``: where a plan job too large for one model solves its parts
    (``solvers.parts``): ``processes`` (local worker processes, ``parts_workers`` of them,
    default the cores), ``dask`` (the cluster at ``dask_address``) or ``serial``.
    ``job_workers``: week jobs solved at once; ``document_workers``: plan-request documents
    solved at once (a lane of their own, so a document never holds up a week).
    ``job_time_limit``: default limit of a plan job, seconds; a job still running
    ``job_grace_seconds`` after its limit is terminated; ``job_memory_mb``: address space of
    one worker process. ``max_job_requests``, ``max_job_experts``, ``max_job_locations``,
    ``max_job_days`` (horizon) and ``max_job_size`` (requests × experts × days) bound what a
    plan job may ask for; a larger one is refused with 422 naming the limit.
    ``job_max_attempts``: a job interrupted by a restart is resumed until it has been started
    this many times, then marked failed with the reason. ``max_body_bytes``: larger request
    bodies are refused with 413. ``rate_limit_per_key``, ``rate_limit_per_address``: request
    budgets of one valid key and of one client address's requests without a valid key (e.g.
    ``"3000/minute"``, several joined by ``;``, empty = no limit); ``rate_limit_anonymous``:
    refused requests without a valid key one address may make before it gets 429 for every
    request without a valid key (a request with a valid key counts against its key only).
    ``forwarded_allow_ips``: reverse proxies whose ``X-Forwarded-For`` names the client
    (comma-separated; empty = none, the connecting address is the client).
    ``max_open_requests_per_week``: submitted and scheduled requests one municipality may
    have in one week, so that one municipality cannot fill a week's plan job for everyone.
    ``max_json_depth``: nesting of a JSON body. ``max_table_rows``, ``max_upload_seconds``,
    ``max_xlsx_unpacked_bytes``: rows of one matching table upload, seconds its reading may
    take, and the unpacked size of an Excel workbook. ``demo_week`` (a Monday): on first
    start, also store that week's synthetic Ehime requests (drawn with ``demo_seed``, the CLI
    demo's seed) and, like ``demo_matching``, the synthetic matching demo (60 needs, 200
    candidates) when no matching data is stored yet. ``now``: the service's clock as a fixed
    Japan-time moment (demos and tests, e.g. ``2026-12-16T12:00``; default the real clock):
    a visit's outcome can be recorded once the visit has started.
    """

    model_config = SettingsConfigDict(env_prefix="DXSHARE_", extra="ignore")

    database_url: str | None = None
    db_path: str = "dxshare.sqlite"
    executor: str = "processes"
    dask_address: str | None = None
    parts_executor: str = "processes"
    parts_workers: int | None = None
    job_workers: int = 2
    document_workers: int = 1
    job_time_limit: float = 20.0
    job_max_attempts: int = 2
    job_grace_seconds: float = 10.0
    job_memory_mb: int = 4096
    max_job_requests: int = 600
    max_job_experts: int = 50
    max_job_locations: int = 300
    max_job_days: int = 62
    max_job_size: int = 100_000
    max_body_bytes: int = 1_000_000
    rate_limit_per_key: str = "3000/minute"
    rate_limit_per_address: str = "6000/minute"
    rate_limit_anonymous: str = "60/minute"
    forwarded_allow_ips: str = ""
    max_open_requests_per_week: int = 25
    #: Seconds one event's repair may take (``POST /v1/events``, in the request).
    event_time_limit: float = 5.0
    #: ``smtp://host:port[?from=addr]``: deliver the outbox by e-mail (none: messages wait,
    #: shown as to call); ``smtp_timeout`` seconds per connection, ``smtp_retry_seconds`` the
    #: first back-off after a failure (doubling, at most 10 minutes).
    smtp_url: str | None = None
    smtp_timeout: float = 10.0
    smtp_retry_seconds: float = 5.0
    max_json_depth: int = 32
    max_table_rows: int = 20_000
    max_upload_seconds: float = 10.0
    max_xlsx_unpacked_bytes: int = 50_000_000
    seed: bool = True
    demo_week: str | None = None
    demo_matching: bool = False
    demo_seed: int = 8
    #: the appointment grid of the week jobs' plans (``horizon.start_grid_min``, minutes);
    #: None: 15 with a demo week, else 1 (see ``appointment_grid``)
    start_grid_min: int | None = None
    now: dt.datetime | None = None

    @field_validator("start_grid_min")
    @classmethod
    def _a_known_grid(cls, v: int | None) -> int | None:
        if v is not None and v not in START_GRIDS:
            grids = ", ".join(map(str, START_GRIDS))
            raise _bilingual(f"must be one of {grids} (minutes), got {v}",
                             f"{grids}（分）のいずれかである必要があります（{v} が指定されました）")
        return v

    @field_validator("executor", "parts_executor")
    @classmethod
    def _a_known_executor(cls, v: str) -> str:
        if v not in EXECUTORS:
            kinds = ", ".join(EXECUTORS)
            raise _bilingual(f"must be one of {kinds}, got {v!r}",
                             f"{kinds} のいずれかである必要があります（{v!r} が指定されました）")
        return v

    @field_validator("demo_week")
    @classmethod
    def _a_monday(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            monday = dt.date.fromisoformat(v).weekday() == 0
        except ValueError:
            monday = False
        if not monday:
            raise _bilingual(f"must be a Monday (YYYY-MM-DD), got {v!r}",
                             f"月曜日の日付（YYYY-MM-DD）である必要があります（{v!r} が指定されました）")
        return v

    @field_validator("rate_limit_per_key", "rate_limit_per_address", "rate_limit_anonymous")
    @classmethod
    def _a_rate(cls, v: str) -> str:
        from limits import parse_many  # start fast

        try:
            if v:
                parse_many(v)
        except ValueError:
            raise _bilingual(f"must be a rate such as 3000/minute (several joined by ;), "
                             f"got {v!r}", f"3000/minute のような回数（複数は ; で区切る）で"
                             f"ある必要があります（{v!r} が指定されました）") from None
        return v

    @field_validator("smtp_url")
    @classmethod
    def _an_smtp_url(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parts = urlsplit(v)
                ok = parts.scheme in ("smtp", "smtps") and bool(parts.hostname)
                parts.port                   # noqa: B018 - a port that is no number raises
            except ValueError:
                ok = False
            if not ok:
                raise _bilingual(f"must be smtp://host:port[?from=addr], got {v!r}",
                                 "smtp://ホスト:ポート[?from=アドレス] の形である必要があります"
                                 f"（{v!r} が指定されました）")
        return v

    @property
    def appointment_grid(self) -> int:
        """The week jobs' appointment grid: ``start_grid_min`` when set, else the quarter
        hour for the demo week (as people book) and any minute otherwise."""
        if self.start_grid_min is not None:
            return self.start_grid_min
        return 15 if self.demo_week else 1

    def url(self) -> str:
        """The SQLAlchemy URL of the database."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db_path}"


def load_settings(overrides: Mapping[str, Any] | None = None,
                  flags: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment (``DXSHARE_*``) and ``overrides``, or an
    ``InputError`` whose problems name each bad setting, in English and Japanese: by its
    command-line flag (``flags``: setting → ``--flag``) when the override came from one,
    else by its environment variable.

    Examples
    --------
    >>> load_settings({"start_grid_min": 7}).appointment_grid
    Traceback (most recent call last):
    ...
    engine.errors.InputError: DXSHARE_START_GRID_MIN: must be one of 1, 5, 10, 15, 20, 30, 60 (minutes), got 7
    """
    overrides = dict(overrides or {})
    try:
        return Settings(**overrides)
    except ValidationError as err:
        from service.problems import pydantic_message  # start fast

        problems = []
        for e in err.errors():
            name = str(e["loc"][0]) if e.get("loc") else ""
            where = ((flags or {}).get(name) if name in overrides else None) \
                or f"DXSHARE_{name.upper()}"
            problems.append(Problem(where, pydantic_message(dict(e), "en"),
                                    pydantic_message(dict(e), "ja")))
        raise InputError(problems) from None
