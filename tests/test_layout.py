"""The code's shape stays readable as it grows: no module of the package over 600 lines, no
function of the planner and the problem (``engine``, ``solvers``) over 80 — the sizes at which
a unit stops being read whole (README, "A short tour")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py")
                  if "alembic" not in p.parts)


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules("engine", "solvers", "service")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_80_lines_in_engine_and_solvers():
    long = {}
    for p in _modules("engine", "solvers"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def test_the_checks_see_the_code():
    # a check over no file passes vacuously: both must find the package's modules
    assert len(_modules("engine", "solvers", "service")) > 100
    assert (ROOT / "solvers" / "cpsat" / "day.py") in _modules("solvers")
