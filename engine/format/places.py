"""Location and expert references as people write them in a ``plan-request/1`` document:
listed ids, names and romaji, or bundled Ehime codes and names."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engine.format.reader import Reader
from engine.model import (
    Expert,
    Location,
    Request,
)
from engine.names import NameIndex, resolve_municipality


def expert_names(experts: list[Expert]) -> Any:
    """Experts by id or display name (``"広報担当"`` names ``pr-1`` in the demo)."""

    return NameIndex((e.id, (e.name,)) for e in experts)



class Places:
    """Location references as people write them: a listed id, a listed location's name or
    romaji name, or a bundled Ehime code or name (``"上島町"``, ``"Kamijima"``).

    ``resolve`` gives the location id or ``None``; bundled places referred to but not listed
    are collected in ``bundled`` (taken from the bundled data by the parser).
    """

    def __init__(self, listed: list[Location]):
        self._listed = NameIndex(((loc.id, (loc.name, loc.name_en)) for loc in listed),
                                 place=True)
        self._ids = {loc.id for loc in listed}
        self._by_id = {loc.id: loc for loc in listed}
        self.bundled: dict[str, None] = {}

    def name(self, lid: str, lang: str = "en") -> str:
        """A place as the reasons name it: ``松山市`` in Japanese, ``松山市 (Matsuyama)`` in
        English; a listed place before a bundled one of the same code; the id if neither."""
        loc = self._by_id.get(lid) or _bundled_by_id().get(lid)
        if loc is None:
            return lid
        return loc.label if lang == "en" else loc.name

    def request(self, q: Request, lang: str = "en") -> str:
        """A request as the planner's reasons name it (``request_words``)."""
        return request_words(q, self.name(q.location, lang), lang)

    def resolve(self, text: Any) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        if text in self._ids:
            return text
        hit = self._listed.resolve(text)
        if hit is not None:
            return hit

        code = resolve_municipality(text)
        if code is not None:
            self.bundled.setdefault(code)
        return code

    def ref(self, r: Reader, value: str, path: str) -> str:
        """``value`` as a location id; an unknown one is reported at ``path``."""
        hit = self.resolve(value)
        if hit is None:
            r.known(value, path, set())
            return value
        return hit

    def used_bundled(self) -> list[Location]:
        """The bundled places referred to but not listed: open 08:30–17:15, no cap."""
        if not self.bundled:
            return []
        from engine.ehime import ehime_locations  # start fast

        return [replace(loc, max_visits_per_day=None) for loc in ehime_locations()
                if loc.id in self.bundled and loc.id not in self._ids]


#: Facts of a bundled place that a listed location takes when it omits them.
_BUNDLED_FACTS = ("name", "name_en", "lat", "lon", "island", "population")


@functools.cache
def _bundled_by_id() -> dict[str, Location]:
    """The bundled Ehime places by code, read once (a national request lists 1,741 places)."""
    from engine.ehime import ehime_locations  # start fast

    return {b.id: b for b in ehime_locations()}


def _with_bundled_facts(loc: Location, given: Mapping[str, Any]) -> Location:
    """A location listed under a bundled Ehime code takes the bundled facts it omits
    (``383562`` with only lat/lon is still an island with its ferry, population and romaji)."""
    bundled = _bundled_by_id().get(loc.id)
    if bundled is None:
        return loc
    missing = {k: getattr(bundled, k) for k in _BUNDLED_FACTS if given.get(k) is None}
    if "lat" in missing and "lon" not in missing or "lon" in missing and "lat" not in missing:
        missing.pop("lat", None)
        missing.pop("lon", None)
    return replace(loc, **missing)


def request_words(q: Request, place: str, lang: str = "en") -> str:
    """A request as the planner's reasons name it: its place and subject
    (``上島町「広報相談」``), never the subject of a confidential request."""
    subject = f"「{q.title}」" if q.title and not q.confidential else ""
    return place + (" " if lang == "en" and subject else "") + subject
