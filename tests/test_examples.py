"""The README's example files (``examples/``) are what ``examples/make_examples.py`` writes, and
the README's commands for a coordinator's afternoon run as written: import the centre's sheet,
plan, hand out, re-plan the week, propose slots — no traceback, no expert id or municipality
code where a name belongs, and no file that existed before a command changed unless the
command was told to write there."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.format import plan_request_to_dict
from engine.importer import import_requests
from tests.live import DXSHARE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"


def _maker():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_weeks_are_what_the_script_writes():
    make = _maker()
    assert (EXAMPLES / "week-r041.json").read_text(encoding="utf-8") == make._json(make.week_r041())
    assert (EXAMPLES / "next-week.json").read_text(encoding="utf-8") == make._json(make.next_week())
    assert (EXAMPLES / "event.json").read_text(encoding="utf-8") == make._json(make.EVENT)
    assert (EXAMPLES / "series-week.json").read_text(encoding="utf-8") == \
        make._json(make.series_week())


def test_the_example_sheet_is_what_the_script_writes_and_reads_as_meant(tmp_path):
    make = _maker()
    fresh = tmp_path / "requests.xlsx"
    make.requests_xlsx(fresh)
    shipped = import_requests(EXAMPLES / "requests.xlsx", "2026-12-07")
    assert plan_request_to_dict(shipped) == plan_request_to_dict(import_requests(fresh, "2026-12-07"))
    got = {q.id: q for q in shipped.requests}
    assert list(got) == [row[0] for row in make.SHEET_ROWS]
    assert got["R8-103"].location == got["R8-102"].location == "383562"   # merged down
    assert got["R8-104"].duration_min == 120                                # the formula's value
    assert got["R8-102"].duration_min == 90 and got["R8-101"].window == (780, 1020)
    assert got["R8-101"].title == "①SNS運用研修（㈱協力）"                       # as written
    assert str(got["R8-103"].earliest) == "2026-12-09"


def _readme_commands(*sections: str) -> list[str]:
    """The ``dxshare`` lines of the README's bash blocks under these headings, in order."""
    text = README.read_text(encoding="utf-8")
    found = []
    for heading in sections:
        part = text[text.index(heading):]
        block = re.search(r"```bash\n(.*?)```", part, re.S).group(1)
        for line in block.splitlines():
            for command in line.split("#", 1)[0].split("&&"):
                if command.strip().startswith("dxshare "):
                    found.append(command.strip())
    return found


_OUTPUT_OPTIONS = ("--out", "--xlsx", "--json", "--errors", "--csv", "--ics", "--png", "--svg")
#: What only a machine should see on screen: expert ids and municipality codes.
_IDS = re.compile(r"\b(?:design|security|data|cocreation|pr)-\d+\b|\b38\d{4}\b")


def _snapshot(folder: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def _told_to_write(argv: list[str], folder: Path) -> list[Path]:
    return [(folder / argv[i + 1]).resolve() for i, a in enumerate(argv[:-1])
            if a in _OUTPUT_OPTIONS]


def _walk(commands: list[str], folder: Path) -> None:
    """Run each command in ``folder`` as written; each must end well, show names rather than
    ids, and leave every file that existed before it as it was unless told to write there."""
    for command in commands:
        argv = shlex.split(command)[1:]
        before = _snapshot(folder)
        run = subprocess.run([*DXSHARE, *argv], cwd=folder, capture_output=True, text=True,
                             timeout=900)
        assert run.returncode == 0, (command, run.stderr)
        assert "Traceback" not in run.stdout + run.stderr, command
        assert not _IDS.search(run.stdout), (command, _IDS.search(run.stdout).group(0))
        allowed = _told_to_write(argv, folder)
        after = _snapshot(folder)
        # files people hand out are named by names too (a calendar per expert: 広報担当.ics)
        named_by_id = [p.name for p in after if p not in before and _IDS.search(p.name)]
        assert named_by_id == [], (command, named_by_id)
        changed = [p for p, digest in before.items() if after.get(p) != digest
                   and not any(p.resolve() == a or a in p.resolve().parents for a in allowed)]
        assert changed == [], (command, changed)


@pytest.mark.slow
def test_a_coordinators_afternoon_runs_as_the_readme_says(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    commands = _readme_commands("### Planning a week", "### A new request between plans",
                                "### When the week goes wrong", "### Importing the centre's spreadsheet")
    assert len(commands) == 10 and any("examples/requests.xlsx" in c for c in commands)
    _walk(commands, tmp_path)
    # the examples themselves were only ever read
    assert {p.relative_to(tmp_path / "examples"): d for p, d in
            _snapshot(tmp_path / "examples").items()} == {
        p.relative_to(EXAMPLES): d for p, d in _snapshot(EXAMPLES).items()
        if "__pycache__" not in p.parts}
    assert (tmp_path / "plan2.json").exists() and (tmp_path / "out" / "sheet-plan.xlsx").exists()
    assert (tmp_path / "plan-after.json").exists()
    assert (tmp_path / "out" / "ics" / "広報担当（取り消し）.ics").exists()


@pytest.mark.slow
def test_the_season_runs_as_the_readme_says(tmp_path):
    commands = _readme_commands("### Planning the season")
    assert [c.split()[2] for c in commands] == ["request", "plan", "simulate", "compare", "plan"]
    _walk(commands, tmp_path)
    replans = sorted(tmp_path.glob("season-plan-*.json"))
    assert len(replans) == 1          # the re-plan went to a new file beside its previous plan
    assert (tmp_path / "season-plan.json").exists()


def test_planning_the_sheet_itself_says_to_import_it(tmp_path, capsys):
    from service.cli import main

    assert main(["plan", str(EXAMPLES / "requests.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "dxshare import" in err and "Traceback" not in err
