"""``dxshare serve`` (the HTTP service) and ``dxshare keys`` (API keys).

Both read the database from ``--db PATH`` (an SQLite file) or ``DXSHARE_DATABASE_URL``.
Handlers return an exit code; bad input is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from service.i18n import _, current_lang

__all__ = ["main_keys", "main_keys_list", "main_keys_revoke", "main_serve", "register"]


#: The settings the command line gives, by their flags (a bad one is named by its flag).
_FLAGS = {"db_path": "--db", "executor": "--executor", "dask_address": "--dask-address",
          "job_workers": "--workers", "document_workers": "--document-workers",
          "demo_week": "--demo-week", "parts_executor": "--parts-executor",
          "forwarded_allow_ips": "--forwarded-allow-ips"}


def _settings(args: argparse.Namespace) -> Any:
    """The service's settings: the environment's, with the command line's flags over them;
    a bad one is an ``InputError`` naming the flag or the environment variable, in both
    languages (one line on stderr, exit 2)."""
    from service.config import load_settings  # start fast

    overrides: dict[str, Any] = {}
    if getattr(args, "db", None):
        overrides["db_path"] = args.db
    for name in _FLAGS:
        value = getattr(args, name, None)
        if value is not None and name != "db_path":
            overrides[name] = value
    return load_settings(overrides, _FLAGS)


def main_serve(args: argparse.Namespace) -> int:
    """Start uvicorn with the service on ``--host``/``--port``."""
    import uvicorn

    from service.app import create_app  # start fast

    settings = _settings(args)      # a --demo-week that is no Monday is refused here
    # X-Forwarded-For names the client only when it comes from a proxy we were told to
    # trust; otherwise anyone could pick the address the rate limits and the audit see
    trusted = settings.forwarded_allow_ips.strip()
    uvicorn.run(create_app(settings), host=args.host, port=args.port,
                log_level=args.log_level, proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None)
    return 0


def main_keys(args: argparse.Namespace) -> int:
    """Create an API key and print it once (only its hash is kept)."""
    from service.auth import KeyError_, create_key  # start fast
    from service.db import make_engine, migrate, seed, session_factory  # start fast

    settings = _settings(args)
    eng = make_engine(settings.url())
    try:
        migrate(eng)
        sessions = session_factory(eng)
        with sessions.begin() as s:
            seed(s)
            from engine.names import resolve_municipality  # start fast

            muni = args.municipality and (resolve_municipality(args.municipality)
                                          or args.municipality)
            key, row = create_key(s, args.role, municipality=muni,
                                  expert=args.expert, label=args.label or "")
            bound = row.municipality or row.expert or ""
    except KeyError_ as err:
        print(f"dxshare keys create: {err.text(current_lang())}", file=sys.stderr)
        return 2
    finally:
        eng.dispose()
    print(key)
    print("# " + _("key id {id}, role {role}{bound}; shown once, store it now").format(
        id=row.id, role=row.role, bound=" " + bound if bound else ""), file=sys.stderr)
    return 0


def main_keys_list(args: argparse.Namespace) -> int:
    """List keys (id, prefix, role, binding, label, revoked); never the keys themselves."""
    from sqlalchemy import select

    from service.db import ApiKey, make_engine, migrate, session_factory  # start fast

    eng = make_engine(_settings(args).url())
    try:
        migrate(eng)
        with session_factory(eng)() as s:
            for k in s.scalars(select(ApiKey).order_by(ApiKey.id)):
                bound = k.municipality or k.expert or "-"
                state = "revoked" if k.revoked else "active"
                print(f"{k.id}\t{k.prefix}…\t{k.role}\t{bound}\t{state}\t{k.label}")
    finally:
        eng.dispose()
    return 0


def main_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key by id (a running server stops accepting it within 30 s)."""
    from service.db import ApiKey, make_engine, migrate, session_factory  # start fast

    eng = make_engine(_settings(args).url())
    try:
        migrate(eng)
        with session_factory(eng).begin() as s:
            row = s.get(ApiKey, args.id)
            if row is None:
                print("dxshare keys revoke: " + _("no key with id {id}").format(id=args.id),
                      file=sys.stderr)
                return 2
            row.revoked = True
    finally:
        eng.dispose()
    print(_("key {id} revoked").format(id=args.id), file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``keys`` to the main CLI."""
    p = subparsers.add_parser("serve", help=_("run the HTTP service"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--db", help=_("SQLite file (default dxshare.sqlite; "
                                  "DXSHARE_DATABASE_URL selects another database)"))
    p.add_argument("--executor", choices=["processes", "dask", "serial"])
    p.add_argument("--dask-address", dest="dask_address",
                   help=_("solve on the existing Dask cluster at this address"))
    p.add_argument("--parts-executor", dest="parts_executor",
                   choices=["processes", "dask", "serial"],
                   help=_("where a plan job too large for one model solves its parts "
                          "(default processes; dask: the cluster at --dask-address)"))
    p.add_argument("--workers", dest="job_workers", type=int,
                   help=_("week plan jobs solved at once (default 2)"))
    p.add_argument("--document-workers", dest="document_workers", type=int,
                   help=_("plan-request documents solved at once, in their own lane "
                          "(default 1)"))
    p.add_argument("--demo-week", dest="demo_week",
                   help=_("on first start, also add that week's synthetic Ehime requests "
                          "(the same draw as dxshare plan --demo) and the synthetic matching "
                          "demo"))
    p.add_argument("--forwarded-allow-ips", dest="forwarded_allow_ips",
                   help=_("addresses of reverse proxies whose X-Forwarded-For and "
                          "X-Forwarded-Proto are trusted (comma-separated, '*' = any; "
                          "default none: the connecting address is the client)"))
    p.add_argument("--log-level", default="info")
    p.set_defaults(handler=main_serve)

    k = subparsers.add_parser("keys", help=_("manage API keys"))
    ksub = k.add_subparsers(dest="keys_command", required=True)
    c = ksub.add_parser("create", help=_("create a key and print it once"))
    c.add_argument("--role", required=True, choices=["centre", "municipality", "expert"])
    c.add_argument("--municipality", help=_("municipality code or name (role municipality)"))
    c.add_argument("--expert", help=_("expert id (role expert)"))
    c.add_argument("--label", help=_("free text shown in the audit log"))
    c.add_argument("--db", help=_("SQLite file (or DXSHARE_DATABASE_URL)"))
    c.set_defaults(handler=main_keys)
    ls = ksub.add_parser("list", help=_("list keys (never the keys themselves)"))
    ls.add_argument("--db", help=_("SQLite file (or DXSHARE_DATABASE_URL)"))
    ls.set_defaults(handler=main_keys_list)
    rv = ksub.add_parser("revoke", help=_("revoke a key by id"))
    rv.add_argument("id", type=int)
    rv.add_argument("--db", help=_("SQLite file (or DXSHARE_DATABASE_URL)"))
    rv.set_defaults(handler=main_keys_revoke)
