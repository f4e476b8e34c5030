"""Service settings, read from ``DXSHARE_*`` environment variables (and the CLI flags).

``DXSHARE_DATABASE_URL`` wins over ``db_path``: with it the service uses that database
(e.g. ``postgresql+psycopg://user@127.0.0.1/dxshare``); without it, an SQLite file in WAL mode.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Where the data lives, where solves run, and the service's limits.

    ``executor``: ``processes`` (worker processes of the server, the default), ``dask`` (the
    cluster at ``dask_address``) or ``serial`` (in the server process; tests only).
    ``parts_executor``: where a plan job too large for one model solves its parts
    (``solvers.decompose``): ``processes`` (local worker processes, ``parts_workers`` of them,
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
budgets of one key and of one client address (e.g. ``"3000/minute"``, several joined by
``;``, empty = no limit); ``rate_limit_anonymous``: refused requests without a valid key one
address may make before it gets 429 for everything. ``demo_week`` (a Monday): on first start, also store that
    week's synthetic Ehime requests (drawn with ``demo_seed``, the CLI demo's seed) and, like
``demo_matching``, the synthetic matching demo (60 needs, 200 candidates) when no matching
data is stored yet.
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
    seed: bool = True
    demo_week: str | None = None
    demo_matching: bool = False
    demo_seed: int = 8

    def url(self) -> str:
        """The SQLAlchemy URL of the database."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db_path}"
