"""``ehime-week-real``: the Ehime demo week with every rule of an expert's real week on.

The week of ``ehime-week-s0`` (``engine.demand.ehime_week_document``, 2026-12-07, 40 requests)
with:

- the appointment grid of 15 minutes (``horizon.start_grid_min``);
- a 45-minute lunch inside 11:30–13:30 for each of the five experts;
- three town halls closed 12:00–13:00 (今治市, 大洲市, 内子町);
- two standing appointments: the data expert's call on Tuesday 14:00–15:00 (anywhere) and the
  co-creation expert's meeting at 松山市 on Wednesday 10:00–11:30 (``at``);
- nights away allowed in 宇和島市, 八幡浜市 and 四国中央市 (3,000 a night, at most two a week);
- three follow-ups: the second session two to three days after the first, same experts;
- due dates on a quarter of the requests (the day after they open; 30 a day late);
- up to 60 minutes of overtime at 20 a minute.

Examples
--------
>>> from engine.format import parse_plan_request
>>> p = parse_plan_request(ehime_week_real_document())
>>> p.horizon.start_grid_min, len(p.requests)
(15, 43)
>>> sorted(r.id for r in p.requests if r.after is not None)
['r002-2', 'r005-2', 'r006-2']
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from engine.demand import ehime_week_document

__all__ = ["NIGHT_PLACES", "ehime_week_real_document"]

#: Where an expert may spend a night: 宇和島市, 八幡浜市, 四国中央市.
NIGHT_PLACES = ("382035", "382043", "382132")
#: Town halls closed for lunch: 今治市, 大洲市, 内子町.
CLOSED_AT_NOON = ("382027", "382078", "384224")
WEEK_START = "2026-12-07"


def _follow_ups(doc: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Second sessions of the first ``count`` on-site, single-field, unfixed requests that
    open early enough in the week for a second session two days later."""
    end = dt.date.fromisoformat(doc["horizon"]["end"])
    out = []
    for r in doc["requests"]:
        first = dt.date.fromisoformat(r["earliest"])
        if (r["mode"] != "onsite" or "fixed" in r or len(r["fields"]) != 1
                or first + dt.timedelta(days=2) > end):
            continue
        second = copy.deepcopy(r)
        second.pop("window", None)
        second.update(id=f"{r['id']}-2", title=f"{r['title']}（2回目）",
                      earliest=(first + dt.timedelta(days=2)).isoformat(),
                      latest=end.isoformat(),
                      after={"request": r["id"], "min_days": 2, "max_days": 3,
                             "same_experts": True})
        out.append(second)
        if len(out) == count:
            break
    return out


def ehime_week_real_document(seed: int = 0, *, nights: bool = True) -> dict[str, Any]:
    """The week described above (``nights=False``: the same week with day trips only)."""
    doc = ehime_week_document(WEEK_START, seed=seed)
    doc["name"] = "ehime-week-real" if nights else "ehime-week-real-day-trips"
    doc["horizon"]["start_grid_min"] = 15
    for loc in doc["locations"]:
        if loc["id"] in CLOSED_AT_NOON:
            loc["closed"] = [["12:00", "13:00"]]
    for e in doc["experts"]:
        e["lunch"] = {"minutes": 45, "window": ["11:30", "13:30"]}
        e["overtime"] = {"max_minutes": 60, "minute_cost": 20}
        if nights:
            e["overnight"] = {"places": list(NIGHT_PLACES), "night_cost": 3000,
                              "max_nights": 2}
    by_id = {e["id"]: e for e in doc["experts"]}
    by_id["data-1"]["busy"] = [{"date": "2026-12-08", "start": "14:00", "end": "15:00"}]
    by_id["cocreation-1"]["busy"] = [{"date": "2026-12-09", "start": "10:00",
                                      "end": "11:30", "at": "382019"}]
    for i, r in enumerate(doc["requests"]):
        if i % 4 == 1 and "fixed" not in r:
            r["due"] = (dt.date.fromisoformat(r["earliest"]) + dt.timedelta(days=1)).isoformat()
    doc["requests"].extend(_follow_ups(doc, 3))
    doc["objective"]["late_day"] = 30
    return doc
