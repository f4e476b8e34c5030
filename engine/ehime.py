"""The bundled Ehime data: 20 municipalities and the prefectural office, and five experts.

Municipalities are real (``data/ehime_municipalities.csv``, sources in ``data/SOURCES.md``);
the experts' ids, hours and caps are a plausible contract, not the programme's actual terms.

Examples
--------
>>> municipalities().loc["383562", "name_ja"]
'上島町'
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from engine.model import FIELDS, Expert, Location

__all__ = ["OFFICE", "ehime_experts", "ehime_locations", "municipalities"]

#: Local government code of the prefectural office (愛媛県庁), the experts' base.
OFFICE = "380008"


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    with resources.files("engine").joinpath("data/ehime_municipalities.csv").open(
            encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"code": str})
    return df.set_index("code")


def municipalities() -> pd.DataFrame:
    """The 21 rows (20 municipalities + office) indexed by 6-digit local government code."""
    return _table().copy()


def ehime_locations(*, town_cap: int = 2, city_cap: int = 3) -> tuple[Location, ...]:
    """Locations for the planner: halls open 08:30–17:15; towns host at most ``town_cap``
    expert-visits a day, cities and the office ``city_cap``."""
    out = []
    for code, row in _table().iterrows():
        out.append(Location(
            id=str(code), name=row["name_ja"], name_en=row["name_en"], lat=float(row["lat"]),
            lon=float(row["lon"]), open=8 * 60 + 30, close=17 * 60 + 15,
            max_visits_per_day=town_cap if row["kind"] == "town" else city_cap,
            island=row["island"] == "yes", population=int(row["population_2020"])))
    return tuple(out)


def ehime_experts(*, weeks: int = 1) -> tuple[Expert, ...]:
    """Five experts, one per field, based at the prefectural office.

    Per week: at most 3 on-site days (the contracted visit days), 8 on-site visits, 3 a day
    and 300 minutes of driving a day.
    """
    names = {"design": "デザイン担当", "security": "セキュリティ担当", "data": "データ担当",
             "cocreation": "官民共創担当", "pr": "広報担当"}
    return tuple(
        Expert(id=f"{f}-1", fields=(f,), base=OFFICE, work_start=8 * 60 + 30,
               work_end=17 * 60 + 15, max_visits_per_day=3, max_visits_total=8 * weeks,
               max_drive_minutes_per_day=300, max_onsite_days=3 * weeks, name=names[f])
        for f in FIELDS)
