"""Country-sized instances: all 1,741 municipalities of Japan, hundreds of experts.

Two kinds, written once to ``benchmarks/instances/`` and committed (the generator needs the
``bench`` extra for the municipalities' coordinates; reading the instances does not):

- ``japan-week`` — the national demo week: every municipality (1,741, the 23 special wards of
  Tokyo included), 250 experts, 2,500 requests drawn like the Ehime ones (joint, online,
  windows), experts' caps, location caps; ``japan-week.routing`` its routing subset.
- ``country-400`` — a country-sized routing week: the 400 municipalities nearest to 12
  regional hubs, 40 experts based at the hubs, 1,000 on-site single-field requests (its own
  routing subset).

Places. Coordinates are those of the ``jpgeocode`` package (MIT, version 0.3.1, a table of
"prefecture,municipality" → latitude/longitude for exactly the 1,741 municipalities), checked
against the Ehime reference (``engine/data/ehime_municipalities.csv``: all 20 municipalities
within 50 m of their halls; ``benchmarks/instances/SOURCES.md``). Ids are ``JP<pp>-<nnn>``
(prefecture number in the national order, the municipality's place in the package's list);
names are ``<prefecture><municipality>`` (北海道伊達市 and 福島県伊達市 differ only so).

Travel. A real-looking road matrix, not the estimate: for each pair the estimate from
coordinates times a road factor drawn per pair (0.95–1.35: mountains, coastlines, where an
expressway runs), plus 4 hours between Hokkaido and Honshu (the Seikan tunnel or a ferry) and
a day and a half between Okinawa and the rest (ferry), so that legs longer than a day occur.
Pairs up to ``MAX_STORED`` minutes are written to ``<name>.legs.parquet`` (long layout,
``travel.files``); longer ones are left to the estimate (they fit no working day anyway).

    python -m benchmarks.country            # rewrite the instances (same seeds, same files)

Examples
--------
>>> len(municipalities())                                           # doctest: +SKIP
1741
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from engine.demand import draw_request
from engine.model import FIELDS, Location
from engine.travel import estimate_matrix

__all__ = ["MAX_STORED", "country_document", "japan_document", "municipalities", "road_minutes",
           "write_country_instances"]

INSTANCE_DIR = Path(__file__).resolve().parent / "instances"
#: Legs up to this many minutes are stored in the matrix file; longer ones fit no working day.
MAX_STORED = 600
#: The week planned (a week without national holidays).
WEEK = "2027-01-18"
#: Prefectures in the national order (JIS X 0401), as the package lists them.
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県")
#: The 12 regional hubs of ``country-400`` (prefecture, municipality).
HUBS = (("北海道", "札幌市"), ("宮城県", "仙台市"), ("新潟県", "新潟市"), ("東京都", "千代田区"),
        ("長野県", "長野市"), ("愛知県", "名古屋市"), ("石川県", "金沢市"), ("大阪府", "大阪市"),
        ("広島県", "広島市"), ("愛媛県", "松山市"), ("福岡県", "福岡市"), ("鹿児島県", "鹿児島市"))


def municipalities() -> list[dict[str, Any]]:
    """The 1,741 municipalities as location entries (id, name, lat, lon), in national order."""
    data = json.loads(resources.files("JpGeocode").joinpath("data/jp_geocode.json")
                      .read_text(encoding="utf-8"))
    out: list[dict[str, Any]] = []
    count: dict[str, int] = {}
    for key, ll in data.items():
        pref, name = key.split(",", 1)
        k = PREFECTURES.index(pref) + 1
        count[pref] = count.get(pref, 0) + 1
        out.append({"id": f"JP{k:02d}-{count[pref]:03d}", "name": f"{pref}{name}",
                    "lat": round(float(ll["lat"]), 5), "lon": round(float(ll["lng"]), 5),
                    "_pref": pref, "_name": name})
    return out


def road_minutes(places: list[dict[str, Any]], seed: int) -> np.ndarray:
    """The generated road matrix over ``places`` (see the module docstring), int64 minutes."""
    locs = [Location(p["id"], p["name"], p["lat"], p["lon"]) for p in places]
    est = estimate_matrix(locs, locs).astype(float)
    rng = np.random.default_rng(seed)
    n = len(places)
    factor = rng.uniform(0.95, 1.35, size=(n, n))
    factor = (factor + factor.T) / 2 + rng.uniform(-0.02, 0.02, size=(n, n))   # near symmetric
    pref = np.array([p["_pref"] for p in places])
    hokkaido, okinawa = pref == "北海道", pref == "沖縄県"
    cross_h = hokkaido[:, None] != hokkaido[None, :]
    cross_o = okinawa[:, None] != okinawa[None, :]
    minutes = est * factor + np.where(cross_h, 240, 0) + np.where(cross_o, 2160, 0)
    out = np.rint(minutes).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


def _legs_file(places: list[dict[str, Any]], minutes: np.ndarray, path: Path) -> None:
    import pandas as pd

    ids = np.array([p["id"] for p in places], dtype=object)
    i, j = np.nonzero((minutes <= MAX_STORED) & ~np.eye(len(ids), dtype=bool))
    pd.DataFrame({"from": ids[i], "to": ids[j], "minutes": minutes[i, j].astype(np.int32)}
                 ).to_parquet(path, index=False, compression="zstd")


def _hm(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


def _experts(rng: random.Random, bases: list[str], n: int, *, joint_fields: bool
             ) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        fields = [FIELDS[i % len(FIELDS)]]
        if joint_fields and rng.random() < 1 / 3:
            fields.append(rng.choice([f for f in FIELDS if f not in fields]))
        out.append({"id": f"x{i:03d}", "name": f"専門家{i:03d}", "fields": fields,
                    "base": bases[i % len(bases)], "work_start": "08:30", "work_end": "17:15",
                    "max_visits_per_day": 3, "max_drive_minutes_per_day": 360})
    return out


def _requests(rng: random.Random, places: list[str], n: int, week: list[dt.date], *,
              joint_share: float, online_share: float, window_share: float
              ) -> list[dict[str, Any]]:
    reqs = []
    for k in range(1, n + 1):
        fields, mode, dur, prio, first, last = draw_request(rng, joint_share, online_share)
        q: dict[str, Any] = {"id": f"q{k:04d}", "location": rng.choice(places), "fields": fields,
                             "mode": mode, "duration_min": dur, "priority": prio,
                             "earliest": week[first].isoformat(), "latest": week[last].isoformat()}
        if rng.random() < window_share:
            q["window"] = rng.choice([["08:30", "12:00"], ["13:00", "17:15"]])
        reqs.append(q)
    return reqs


def _week(start: str) -> list[dt.date]:
    monday = dt.date.fromisoformat(start)
    return [monday + dt.timedelta(days=i) for i in range(5)]


def _document(name: str, places: list[dict[str, Any]], experts: list[dict[str, Any]],
              requests: list[dict[str, Any]], legs: str, week: list[dt.date],
              generator: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "plan-request/1", "name": name, "generator": generator,
        "horizon": {"start": week[0].isoformat(), "end": week[-1].isoformat(),
                    "skip_holidays": True, "blackouts": []},
        "locations": [{k: v for k, v in p.items() if not k.startswith("_")} for p in places],
        "experts": experts, "requests": requests,
        "travel": {"files": [{"path": legs, "layout": "long"}]},
        "objective": {"priority": 1000, "drive_minute": 1, "onsite_day": 0},
    }


def japan_document(*, seed: int = 0, experts: int = 250, requests: int = 2500,
                   start: str = WEEK) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The national demo week and its places (see the module docstring).

    Experts: two in every prefecture, based at its first-listed city (the capital or the
    largest city), the rest spread over the prefectures in proportion to their number of
    municipalities, based at a city of the prefecture; fields in the programme's order, a
    third of them with a second field; 3 visits and 360 minutes of driving a day, 10 visits
    and 4 on-site days a week. Requests as ``engine.demand`` draws them (15 % joint, 25 %
    online, 20 % with a window), at municipalities drawn uniformly; every municipality hosts
    at most 2 expert-visits a day.
    """
    rng = random.Random(seed)
    places = municipalities()
    for p in places:
        p["max_visits_per_day"] = 2
    by_pref: dict[str, list[dict[str, Any]]] = {}
    for p in places:
        by_pref.setdefault(p["_pref"], []).append(p)
    quota = {pref: 2 for pref in PREFECTURES}
    rest = experts - 2 * len(PREFECTURES)
    total = len(places)
    shares = sorted(PREFECTURES, key=lambda x: -len(by_pref[x]))
    extra = {pref: int(rest * len(by_pref[pref]) / total) for pref in PREFECTURES}
    for pref in shares[: rest - sum(extra.values())]:
        extra[pref] += 1
    bases: list[str] = []
    for pref in PREFECTURES:
        towns = by_pref[pref]
        cities = [p["id"] for p in towns if p["_name"].endswith(("市", "区"))] or [towns[0]["id"]]
        n = quota[pref] + extra[pref]
        bases += [towns[0]["id"]] * 2 + [rng.choice(cities) for _ in range(n - 2)]
    exps = _experts(rng, bases, experts, joint_fields=True)
    for e in exps:
        e["max_visits_total"] = 10
        e["max_onsite_days"] = 4
    week = _week(start)
    reqs = _requests(rng, [p["id"] for p in places], requests, week, joint_share=0.15,
                     online_share=0.25, window_share=0.2)
    doc = _document(f"Japan, national demo week: {total} municipalities, {experts} experts, "
                    f"{requests} requests (seed {seed})", places, exps, reqs,
                    "japan-week.legs.parquet", week,
                    {"kind": "japan", "seed": seed, "experts": experts, "requests": requests,
                     "places": "jpgeocode 0.3.1", "max_stored_leg": MAX_STORED})
    return doc, places


def country_document(*, seed: int = 0, places: int = 400, experts: int = 40,
                     requests: int = 1000, start: str = WEEK
                     ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A country-sized routing week: the ``places`` municipalities nearest to the 12 hubs
    (``HUBS``, each taking its nearest in turn), ``experts`` experts based at the hubs,
    ``requests`` on-site single-field requests with windows for 20 %; per-day visit and drive
    caps only (so that the document is its own routing subset)."""
    rng = random.Random(seed)
    every = municipalities()
    locs = [Location(p["id"], p["name"], p["lat"], p["lon"]) for p in every]
    hub_idx = [next(i for i, p in enumerate(every) if (p["_pref"], p["_name"]) == h)
               for h in HUBS]
    est = estimate_matrix([locs[i] for i in hub_idx], locs)
    order = [list(np.argsort(row, kind="stable")) for row in est]
    chosen: dict[int, None] = {}
    k = 0
    while len(chosen) < places:
        for row in order:
            while row[k] in chosen and k < len(row) - 1:
                row.pop(k)
            chosen.setdefault(int(row[k]))
            if len(chosen) == places:
                break
        k += 1
    picked = [every[i] for i in sorted(chosen)]
    bases = [every[i]["id"] for i in hub_idx]
    exps = _experts(rng, bases, experts, joint_fields=False)
    week = _week(start)
    reqs = _requests(rng, [p["id"] for p in picked], requests, week, joint_share=0.0,
                     online_share=0.0, window_share=0.2)
    doc = _document(f"Country-sized routing week: {places} municipalities around 12 hubs, "
                    f"{experts} experts, {requests} on-site requests (seed {seed})", picked, exps,
                    reqs, f"country-{places}.legs.parquet", week,
                    {"kind": "country", "seed": seed, "places": places, "experts": experts,
                     "requests": requests, "hubs": [f"{a}{b}" for a, b in HUBS],
                     "max_stored_leg": MAX_STORED})
    return doc, picked


def _routing(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The routing subset as a document that keeps the matrix file reference."""
    from benchmarks.generate import routing_subset
    from engine.format import parse_plan_request, plan_request_to_dict

    sub = plan_request_to_dict(routing_subset(parse_plan_request(
        {**doc, "travel": {}})))
    sub["travel"] = doc["travel"]
    sub["name"] = f"{doc['name']} — routing subset"
    return sub


def write_country_instances(directory: Path = INSTANCE_DIR, seed: int = 0) -> dict[str, Path]:
    """Write both instances, their matrices and the routing subset of the national week."""
    from engine.format import load_plan_request

    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    japan, jplaces = japan_document(seed=seed)
    country, cplaces = country_document(seed=seed)
    for name, doc, places in (("japan-week", japan, jplaces), ("country-400", country, cplaces)):
        _legs_file(places, road_minutes(places, seed), directory / f"{name}.legs.parquet")
        docs = {name: doc}
        if name == "japan-week":
            docs[f"{name}.routing"] = _routing(doc, name)
        for key, body in docs.items():
            path = directory / f"{key}.json"
            path.write_text(json.dumps(body, ensure_ascii=False, indent=0) + "\n",
                            encoding="utf-8")
            load_plan_request(path)            # validated as written
            out[key] = path
    return out


def accuracy_report() -> list[str]:
    """How the package's coordinates compare with the Ehime reference (metres per town)."""
    import csv

    ref = resources.files("engine").joinpath("data/ehime_municipalities.csv")
    rows = list(csv.DictReader(ref.open(encoding="utf-8")))
    have = {(p["_pref"], p["_name"]): p for p in municipalities()}
    lines = []
    for r in rows:
        p = have.get(("愛媛県", r["name_ja"]))
        if p is None:
            continue
        lat1, lon1, lat2, lon2 = map(math.radians, (float(r["lat"]), float(r["lon"]),
                                                    p["lat"], p["lon"]))
        h = (math.sin((lat2 - lat1) / 2) ** 2
             + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
        lines.append(f"{r['name_ja']}: {2 * 6371008.8 * math.asin(math.sqrt(h)):.0f} m")
    return lines


if __name__ == "__main__":
    for key, path in write_country_instances().items():
        print(key, path.stat().st_size, "bytes")
    print("\n".join(accuracy_report()))
