"""The rule that sends a problem to the solve by parts, and that a week planned as one model
does not load the machinery for parts (its import is a noticeable share of a week's time to
a proof in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

from engine.demand import ehime_week
from solvers.size import PART_REQUESTS, needs_parts


def test_a_week_is_one_model_and_many_requests_go_by_parts() -> None:
    assert not needs_parts(ehime_week("2026-12-07", seed=0))
    many = ehime_week("2026-12-07", seed=0, weeks=2, requests_per_week=PART_REQUESTS + 5)
    assert len(many.requests) > 2 * PART_REQUESTS
    assert needs_parts(many)


def test_a_week_planned_as_one_model_does_not_load_the_parts() -> None:
    code = (
        "import sys\n"
        "from engine.demand import ehime_week\n"
        "from solvers.planner import SolveOptions, solve\n"
        "plan = solve(ehime_week('2026-12-07', seed=3), SolveOptions(time_limit=10))\n"
        "assert plan.status == 'optimal', plan.status\n"
        "print('solvers.parts' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
