"""The plan command loads only what planning needs (issue 10: start fast).

A fresh interpreter plans a tiny week through the real command line and reports which modules
it loaded; the matcher, the service and the scenario and figure libraries must not be among
them (they cost seconds of start-up on every ``dxshare plan``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import DATA

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("networkx", "scipy", "dask", "distributed", "sqlalchemy", "matplotlib",
         "solvers.matching", "engine.matching", "fastapi", "uvicorn", "alembic", "yaml",
         "rich", "babel")


def _loaded(argv: list[str]) -> dict[str, bool]:
    code = ("import sys\n"
            f"sys.argv = ['dxshare', *{argv!r}]\n"
            "from service.cli import main\n"
            "rc = main()\n"
            f"print('MODULES', __import__('json').dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
            "sys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def test_plan_loads_no_heavy_module(tmp_path):
    loaded = _loaded(["plan", str(DATA / "two_towns.json"), "--out", str(tmp_path / "p.json"),
                      "--quiet", "--time-limit", "10"])
    assert [m for m, yes in loaded.items() if yes] == []
    assert (tmp_path / "p.json").exists()


def test_the_probe_sees_a_heavy_module_when_one_is_loaded(tmp_path):
    """The check can fail: ``match peers`` does load the matcher."""
    loaded = _loaded(["match", "peers", "--municipality", "上島町", "-k", "1"])
    assert loaded["networkx"] and loaded["solvers.matching"]
