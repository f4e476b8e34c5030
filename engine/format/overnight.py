"""An expert's nights away, ``experts[].overnight`` (docs/FORMAT.md, dxshare extension):
``{"places": ["383562"] or "*", "night_cost": 3000, "max_nights": 2}``."""

from __future__ import annotations

from typing import Any

from engine.format.places import Places
from engine.format.reader import Reader
from engine.nights import Overnight

__all__ = ["overnight_to_dict", "read_overnight"]

_OVERNIGHT_KEYS = {"places", "night_cost", "max_nights"}


def read_overnight(r: Reader, x: dict[str, Any], p: str, places: Places) -> Overnight | None:
    """``overnight``: ``places`` (required: location references, or ``"*"`` for every
    location), ``night_cost`` (≥ 0, default 0) and ``max_nights`` (≥ 0, default 1)."""
    if x.get("overnight") is None:
        return None
    q = f"{p}.overnight"
    o = r.obj(x["overnight"], q)
    if o is None:
        return None
    r.unknown(o, _OVERNIGHT_KEYS, q)
    cost = r.integer(o, "night_cost", q, required=False, default=0, lo=0)
    most = r.integer(o, "max_nights", q, required=False, default=1, lo=0)
    if "places" not in o:
        r.err(f"{q}.places", "is required", "必須項目です")
        return None
    raw = o["places"]
    if raw == "*":
        ids: tuple[str, ...] | None = None
    elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        ids = tuple(dict.fromkeys(places.ref(r, v, f"{q}.places[{i}]")
                                  for i, v in enumerate(raw)))
    else:
        r.err(f"{q}.places", 'must be a list of locations or "*"',
              '場所のリスト、または "*" である必要があります')
        return None
    return Overnight(ids, 0 if cost is None else cost, 1 if most is None else most)


def overnight_to_dict(o: Overnight) -> dict[str, Any]:
    """``overnight`` as written: every field, ``places`` as ids or ``"*"``."""
    return {"places": "*" if o.places is None else list(o.places),
            "night_cost": o.night_cost, "max_nights": o.max_nights}
