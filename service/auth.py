"""API keys and roles.

A key is ``dxs_`` + 32 random bytes (URL-safe); only its SHA-256 is stored, with the first
characters (``prefix``) to recognise it in the audit log. Roles:

- ``centre``: everything;
- ``municipality``: its own requests, visits and matching (``municipality`` = its code);
- ``expert``: its own schedule and calendar feed (``expert`` = its id).

Examples
--------
>>> key = new_key()
>>> key.startswith("dxs_") and hash_key(key) != key
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import ApiKey, ExpertRow, MunicipalityRow

__all__ = ["ROLES", "KeyError_", "Principal", "create_key", "feed_token", "hash_key",
           "lookup_key", "new_key"]

ROLES = ("centre", "municipality", "expert")


class KeyError_(ValueError):
    """A key that cannot be created as asked (unknown role, municipality or expert):
    ``str(err)`` in English, ``message_ja`` in Japanese."""

    def __init__(self, message: str, message_ja: str = ""):
        super().__init__(message)
        self.message_ja = message_ja or message

    def text(self, lang: str) -> str:
        return self.message_ja if lang == "ja" else str(self)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, role, and the municipality or expert it is bound to."""

    key_id: int | None
    role: str
    municipality: str | None = None
    expert: str | None = None

    @property
    def is_centre(self) -> bool:
        return self.role == "centre"


def new_key() -> str:
    """A fresh random API key."""
    return "dxs_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """SHA-256 hex of the key (keys are 256-bit random, so no slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, role: str, *, municipality: str | None = None,
               expert: str | None = None, label: str = "") -> tuple[str, ApiKey]:
    """Store a new key for ``role`` and return ``(key, row)``; the key is never stored."""
    if role not in ROLES:
        roles = ", ".join(ROLES)
        raise KeyError_(f"role must be one of {roles}, got {role!r}",
                        f"役割は {roles} のいずれかである必要があります（{role!r} が指定されました）")
    if role == "municipality":
        if not municipality or session.get(MunicipalityRow, municipality) is None:
            raise KeyError_(f"--municipality must be a known municipality code or name, got "
                            f"{municipality!r}",
                            "--municipality には自治体のコードか名前を指定してください"
                            f"（{municipality!r} が指定されました）")
        expert = None
    elif role == "expert":
        if not expert or session.get(ExpertRow, expert) is None:
            raise KeyError_(f"--expert must be a known expert id, got {expert!r}",
                            f"--expert には登録済みの専門家の ID を指定してください（{expert!r} が"
                            "指定されました）")
        municipality = None
    else:
        municipality = expert = None
    key = new_key()
    row = ApiKey(prefix=key[:10], hash=hash_key(key), role=role, municipality=municipality,
                 expert=expert, label=label)
    session.add(row)
    session.flush()
    return key, row


def lookup_key(session: Session, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key, else ``None``."""
    row = session.scalar(select(ApiKey).where(ApiKey.hash == hash_key(key)))
    if row is None or row.revoked:
        return None
    return Principal(row.id, row.role, row.municipality, row.expert)


def feed_token(secret: str, expert_id: str) -> str:
    """The unguessable token in an expert's calendar feed URL (HMAC-SHA256, 32 hex chars).

    Calendar programs cannot send headers, so the feed URL itself is the credential; it
    changes only if the server secret does.
    """
    mac = hmac.new(secret.encode(), f"feed:{expert_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]
