"""Read and write the plan exchange format (``plan-request/1`` and ``plan/1``, docs/FORMAT.md).

Reading validates the whole document and reports every problem with its path
(``requests[3].duration_min: must be > 0``) as one ``InputError``; writing is the inverse.

Examples
--------
>>> req = parse_plan_request(json.loads(Path("week.json").read_text()))  # doctest: +SKIP
>>> doc = plan_to_dict(plan)                                               # doctest: +SKIP

Modules: ``reader`` (the problem-collecting walker, JSON files), ``places`` (references to
locations and experts as people write them), ``request`` (``plan-request/1``), ``matrices``
(the ``travel`` section and its files), ``plan`` (reading ``plan/1``) and ``write`` (both
documents out).
"""

from engine.format.plan import PLAN_FORMAT, load_plan, parse_plan
from engine.format.reader import loads_json, read_json
from engine.format.request import REQUEST_FORMAT, load_plan_request, parse_plan_request
from engine.format.write import dump_plan, plan_request_to_dict, plan_to_dict

__all__ = [
    "PLAN_FORMAT",
    "REQUEST_FORMAT",
    "dump_plan",
    "load_plan",
    "load_plan_request",
    "loads_json",
    "parse_plan",
    "parse_plan_request",
    "plan_request_to_dict",
    "plan_to_dict",
    "read_json",
]
