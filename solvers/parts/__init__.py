"""Large problems solved by parts: split, solve the parts in parallel, join, repair.

The modules, one step each: ``hoods`` (what a part re-decides and its sub-problem),
``split`` (the ways to cut a problem), ``run`` (parts on an executor), ``bound`` (the
relaxation of the whole), ``capacity`` (the bound month by month) and ``solve`` (the steps
below, then the reasons).

One machinery, two ways to split (``Split``):

- ``RegionSplit`` — country scale: regions are clusters of the experts' bases by driving
  minutes; each request goes to the nearest region whose experts have its fields; a part is a
  region's experts and requests. Neighbourhoods for the repair are pairs of nearby regions,
  so that experts near a border serve requests across it.
- ``WindowSplit`` — long horizons: parts are windows of a few weeks with all experts; an
  expert's budgets over the horizon (total visits, on-site days, each month's on-site days)
  are shared between the windows in proportion to the expert's workable days in each.
  Neighbourhoods are spans of a few weeks around the windows' borders and middles with every
  expert, and one expert's calendar month (the month's cap on on-site days binds a season),
  with the budgets left by the rest of the plan.

``solve_by_parts`` then

1. solves every part with the part solver it is given (``solvers.planner.solve_part``: one
   model), at the plan's driving speed (``PartRules``), through the executor that plan jobs
   and scenario sweeps share
   (``solvers.executor``: local processes, a Dask cluster, or serial),
   each part with its share of the time and a deterministic time limit;
2. joins the parts' plans into one (``join``: every visit that fits beside those before it;
   parts that do not answer in time are replaced by their greedy first plan, made here);
3. repairs across borders by large-neighbourhood search: each round re-solves disjoint
   neighbourhoods (sets of experts, requests and dates) with everything else fixed, in
   parallel, and keeps a neighbourhood's new plan only when it is better — so a valid plan
   is held at every moment;
4. reports an honest upper bound, the least of those that answered while the parts were
   solved: the capacity bound (``capacity_bound``: the experts' limits month by month, in
   seconds at any size) and an LP relaxation of the whole problem date by date
   (``relaxation_bound``, with the time left), and the gap, in ``plan.solver``.

What is decided outside a sub-problem stays decided inside it: ``sub_problem`` keeps the
visits of its experts that it does not re-decide as fixed visits (``requests[].fixed``),
narrows a location's daily cap by the visits others make there, and gives each expert the
budget the rest of the plan leaves.

The rule for ``solve(..., decompose="auto")``: by parts when the problem has more than
``PART_REQUESTS`` × 2 requests, or more than 40 experts, or more than 200,000 possible
(request, expert, date) combinations — beyond that, one CP-SAT model takes longer to build
than a plan by parts takes to make (benchmarks/README.md, "Country scale").

Examples
--------
>>> plan = solve(problem, SolveOptions(time_limit=60, decompose="always"))   # doctest: +SKIP
>>> plan.solver["parts"], plan.solver["gap"]                                   # doctest: +SKIP
(21, 0.031)
"""

from solvers.parts.bound import relaxation_bound
from solvers.parts.capacity import capacity_bound
from solvers.parts.hoods import Neighbourhood, Part, share_coverage, sub_problem
from solvers.parts.run import PartSolver
from solvers.parts.solve import join, needs_parts, solve_by_parts
from solvers.parts.split import PART_REQUESTS, RegionSplit, Split, WindowSplit, default_split

__all__ = [
    "PART_REQUESTS",
    "Neighbourhood",
    "Part",
    "PartSolver",
    "RegionSplit",
    "Split",
    "WindowSplit",
    "capacity_bound",
    "default_split",
    "join",
    "needs_parts",
    "relaxation_bound",
    "share_coverage",
    "solve_by_parts",
    "sub_problem",
]
