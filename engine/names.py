"""One resolver for the names people type: codes, Japanese and romaji names, label variants.

Coordinators write ``上島町``, ``上島``, ``Kamijima``, ``kamijima-cho``, ``３８３５６２`` or
``383562`` for the same town, and ``データ活用``, ``データ利活用``, ``データ`` or ``data`` for the
same field. Every command, importer and route turns such text into the one id with the
functions here, so that a name accepted in one place is accepted in all.

Matching is on a *key*: the text NFKC-normalised (full-width digits and letters become
ASCII), case-folded, without spaces, dots and hyphens; Japanese place names also match
without their 市/町/村/県 suffix and romaji ones without ``-shi``, ``-cho``, ``city``,
``town``. A key that two different ids share is ambiguous and resolves to nothing, rather
than to a guess.

Examples
--------
>>> resolve_municipality("上島")
'383562'
>>> resolve_municipality("Kamijima-cho")
'383562'
>>> resolve_field("データ活用")
'data'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from engine.model import FIELD_LABELS, FIELDS

__all__ = [
    "FIELD_ALIASES",
    "NameIndex",
    "field_index",
    "municipality_index",
    "normalize",
    "resolve_field",
    "resolve_municipality",
]

_DROP = re.compile(r"[\s\u3000・･.\-‐－_]+")
_JA_SUFFIX = ("市", "町", "村", "県")
_EN_SUFFIX = ("shi", "cho", "machi", "mura", "city", "town", "village", "prefecture", "ken")


def normalize(text: object) -> str:
    """NFKC, trimmed: ``'　１３：００'`` → ``'13:00'`` (what every cell and name goes through)."""
    return unicodedata.normalize("NFKC", str(text)).strip()


def _key(text: str) -> str:
    return _DROP.sub("", normalize(text).casefold())


def _place_keys(name: str) -> set[str]:
    """Keys of one place name: itself, and without its administrative suffix."""
    k = _key(name)
    keys = {k}
    for suffix in _JA_SUFFIX + _EN_SUFFIX:
        if k.endswith(suffix) and len(k) > len(suffix) + (0 if suffix in _JA_SUFFIX else 2):
            keys.add(k[: -len(suffix)])
    return keys


class NameIndex:
    """Ids by every key of their names; ``resolve(text)`` gives the id or ``None``.

    ``entries`` is ``(id, names)`` pairs; the id itself is always one of its names.
    ``place=True`` also indexes names without 市/町/村/県 or -shi/-cho/town/city.
    """

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]], *, place: bool = False):
        self._ids: dict[str, str] = {}
        self._exact: dict[str, str] = {}
        owners: dict[str, set[str]] = {}
        for ident, names in entries:
            self._exact[ident] = ident
            for name in (ident, *names):
                if not name:
                    continue
                for k in (_place_keys(name) if place else {_key(name)}):
                    owners.setdefault(k, set()).add(ident)
        self._ids = {k: next(iter(v)) for k, v in owners.items() if len(v) == 1}
        self.ambiguous = frozenset(k for k, v in owners.items() if len(v) > 1)

    def resolve(self, text: object) -> str | None:
        """The id ``text`` names, or ``None`` when it names none (or more than one)."""
        if not isinstance(text, str):
            return None
        if text in self._exact:
            return text
        k = _key(text)
        if not k:
            return None
        hit = self._ids.get(k)
        if hit is None and k not in self.ambiguous:
            for suffix in _EN_SUFFIX + _JA_SUFFIX:
                if k.endswith(suffix) and (hit := self._ids.get(k[: -len(suffix)])):
                    break
        return hit

    def __contains__(self, text: object) -> bool:
        return self.resolve(text) is not None


@lru_cache(maxsize=1)
def municipality_index() -> NameIndex:
    """The bundled Ehime municipalities and the prefectural office, by code and names."""
    from engine.ehime import municipalities  # start fast

    df = municipalities()
    return NameIndex(((str(code), (row["name_ja"], row["name_en"]))
                      for code, row in df.iterrows()), place=True)


def resolve_municipality(text: object) -> str | None:
    """The bundled local government code ``text`` names (code, 松山市, 松山, Matsuyama …)."""
    return municipality_index().resolve(text)


#: Every way the programme's papers, dashboard and people write a field (besides the ids and
#: ``FIELD_LABELS``): the dashboard's short labels, the importer's usual words.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "design": ("デザイン", "デザイン思考", "UI/UX", "UX", "UI", "UIUX", "design thinking"),
    "security": ("セキュリティ", "システム", "情報セキュリティ", "システム・セキュリティ",
                 "systems", "system"),
    "data": ("データ", "データ活用", "データ利活用", "データ分析", "data use"),
    "cocreation": ("官民共創", "共創", "官民連携", "co-creation", "public-private co-creation"),
    "pr": ("広報", "マーケティング", "広報・マーケティング", "PR", "marketing",
           "PR / marketing"),
}


@lru_cache(maxsize=1)
def field_index() -> NameIndex:
    """The five fields by id, English and Japanese labels and the usual variants."""
    return NameIndex((f, (*FIELD_LABELS[f], *FIELD_ALIASES.get(f, ()))) for f in FIELDS)


def resolve_field(text: object) -> str | None:
    """The field id ``text`` names (``'データ活用'`` → ``'data'``), or ``None``."""
    return field_index().resolve(text)
