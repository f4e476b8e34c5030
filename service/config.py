"""Service settings, read from ``DXSHARE_*`` environment variables (and the CLI flags).

``DXSHARE_DATABASE_URL`` wins over ``db_path``: with it the service uses that database
(e.g. ``postgresql+psycopg://user@127.0.0.1/dxshare``); without it, an SQLite file in WAL mode.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Where the data lives, where solves run, and the service's limits.

    ``executor``: ``processes`` (local worker processes, the default), ``dask`` (the cluster at
    ``dask_address``) or ``serial`` (in the server process; tests only). ``parts_executor``:
    where a plan job too large for one model solves its parts (``solvers.decompose``):
    ``processes`` (local worker processes, ``parts_workers`` of them, default the cores),
    ``dask`` (the cluster at ``dask_address``) or ``serial``. ``job_workers``: how
    many solves run at once. ``job_time_limit``: default CP-SAT limit of a plan job, seconds.
    ``job_max_attempts``: a job interrupted by a restart is resumed until it has been started
    this many times, then marked failed with the reason. ``max_body_bytes``: larger request
    bodies are refused with 413. ``rate_limit_per_key``, ``rate_limit_per_address``: request
budgets of one key and of one client address (e.g. ``"3000/minute"``, several joined by
``;``, empty = no limit); ``rate_limit_anonymous``: refused requests without a valid key one
address may make before it gets 429 for everything. ``demo_week`` (a Monday): on first start, also store that
    week's synthetic Ehime requests (drawn with ``demo_seed``, the CLI demo's seed).
    """

    model_config = SettingsConfigDict(env_prefix="DXSHARE_", extra="ignore")

    database_url: str | None = None
    db_path: str = "dxshare.sqlite"
    executor: str = "processes"
    dask_address: str | None = None
    parts_executor: str = "processes"
    parts_workers: int | None = None
    job_workers: int = 1
    job_time_limit: float = 20.0
    job_max_attempts: int = 2
    max_body_bytes: int = 1_000_000
    rate_limit_per_key: str = "3000/minute"
    rate_limit_per_address: str = "6000/minute"
    rate_limit_anonymous: str = "60/minute"
    seed: bool = True
    demo_week: str | None = None
    demo_seed: int = 8

    def url(self) -> str:
        """The SQLAlchemy URL of the database."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db_path}"
