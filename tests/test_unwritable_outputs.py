"""An output the system will not write (no permission, a read-only disk) is one line on
stderr naming the file as given, in the reader's language, and exit code 2, never a
traceback: checked before the work where it can be, and where it shows only when the file is
written (the folder went since), what was computed is still printed and the other files
still written. A folder that does not exist yet is made, as ``plan --out`` always made it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from service.cli import main
from service.i18n import set_lang
from tests.helpers import load_doc, run_scenarios

JA, EN = "書き込みの権限がありません", "no permission to write it"


@pytest.fixture(autouse=True)
def japanese(monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    yield
    set_lang("ja")


@pytest.fixture
def locked(tmp_path):
    """A folder no file can be made in: read-only bits, or, where they do not bind (root),
    a path under /sys, which refuses every new file."""
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o555)
    try:
        (d / "probe").write_text("", encoding="utf-8")
    except OSError:
        yield d
    else:
        (d / "probe").unlink()
        sys_dir = Path("/sys/dxshare-locked")
        try:
            sys_dir.mkdir()
        except PermissionError:
            yield sys_dir
        else:  # pragma: no cover - a system where /sys takes new folders
            sys_dir.rmdir()
            pytest.skip("no place that refuses writes")
    finally:
        d.chmod(0o755)


@pytest.fixture
def week(tmp_path) -> str:
    path = tmp_path / "week.json"
    path.write_text(json.dumps(load_doc("two_towns"), ensure_ascii=False), encoding="utf-8")
    return str(path)


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Errno" not in err and "denied" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("lang, words, label", [("ja", JA, "エラー"), ("en", EN, "error")])
def test_plan_out_in_a_locked_folder_is_refused_before_planning(week, locked, capsys,
                                                                monkeypatch, lang, words,
                                                                label):
    import solvers.planner

    def no_solve(*args, **kwargs):
        raise AssertionError("planned although the plan could not be saved")

    monkeypatch.setattr(solvers.planner, "solve", no_solve)
    out = locked / "plan.json"
    assert main(["--lang", lang, "plan", week, "--out", str(out), "--quiet"]) == 2
    assert _err_line(capsys) == f"dxshare: {label}: {out}: {words}"


@pytest.mark.parametrize("option, name", [("--xlsx", "plan.xlsx"), ("--csv", "csv"),
                                          ("--ics", "ics")])
def test_each_handout_in_a_locked_folder_is_named(week, locked, tmp_path, capsys, option,
                                                  name):
    target = locked / name
    assert main(["plan", week, "--out", str(tmp_path / "p.json"), option, str(target),
                 "--quiet"]) == 2
    assert _err_line(capsys) == f"dxshare: エラー: {target}: {JA}"


def _pass_the_check(monkeypatch):
    """The check before the work passes, as it does when the folder is taken away later."""
    import service.paths

    monkeypatch.setattr(service.paths, "_refused", lambda p, folder: None)


def test_a_plan_that_cannot_be_saved_is_printed_and_its_workbook_still_written(
        week, locked, tmp_path, capsys, monkeypatch):
    _pass_the_check(monkeypatch)
    out, book = locked / "plan.json", tmp_path / "plan.xlsx"
    assert main(["--lang", "en", "plan", week, "--out", str(out), "--xlsx", str(book),
                 "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "A町" in captured.out and "B町" in captured.out       # the plan, read on screen
    assert "plan written to" not in captured.out and book.exists()
    assert captured.err.strip() == f"dxshare: error: {out}: {EN}"
    assert "Traceback" not in captured.err


def test_a_handout_that_cannot_be_written_leaves_the_others(week, locked, tmp_path, capsys,
                                                            monkeypatch):
    _pass_the_check(monkeypatch)
    out, ics = tmp_path / "plan.json", tmp_path / "ics"
    assert main(["plan", week, "--out", str(out), "--xlsx", str(locked / "p.xlsx"),
                 "--ics", str(ics), "--quiet"]) == 2
    assert out.exists() and list(ics.glob("*.ics"))
    assert _err_line(capsys) == f"dxshare: エラー: {locked / 'p.xlsx'}: {JA}"


def test_outputs_in_folders_that_do_not_exist_are_made(week, tmp_path, capsys):
    for argv in (["example", "--out", str(tmp_path / "a" / "week.json")],
                 ["import", _sheet(tmp_path), "--week", "2026-12-07", "--out",
                  str(tmp_path / "b" / "week.json")],
                 ["season", "request", "--weeks", "1", "--requests-per-week", "3", "--out",
                  str(tmp_path / "c" / "season.json")]):
        assert main(argv) == 0, capsys.readouterr().err
        assert json.loads(Path(argv[argv.index("--out") + 1]).read_text(encoding="utf-8"))
    errors = tmp_path / "d" / "errors.csv"
    assert main(["import", str(tmp_path / "none.csv"), "--week", "2026-12-07", "--errors",
                 str(errors)]) == 2
    assert "none.csv" in errors.read_text(encoding="utf-8-sig")


def _sheet(tmp_path) -> str:
    src = tmp_path / "r.csv"
    src.write_text("自治体,分野,形態,所要時間\n伊方町,広報,訪問,60\n", encoding="utf-8")
    return str(src)


@pytest.mark.parametrize("command", ["example", "import", "season"])
def test_request_files_in_a_locked_folder_are_named(tmp_path, locked, capsys, command):
    out = locked / "week.json"
    argv = {"example": ["example"],
            "import": ["import", _sheet(tmp_path), "--week", "2026-12-07"],
            "season": ["season", "request", "--weeks", "1", "--requests-per-week", "3"]}[command]
    assert main(["--lang", "en", *argv, "--out", str(out)]) == 2
    assert _err_line(capsys).endswith(f"{out}: {EN}")


def test_an_errors_file_that_cannot_be_written_leaves_the_problems_on_screen(
        tmp_path, locked, capsys, monkeypatch):
    _pass_the_check(monkeypatch)
    bad = tmp_path / "b.csv"
    bad.write_text("自治体,分野,形態,所要時間\n伊方町,広報,訪問,x\n", encoding="utf-8")
    errors = locked / "errors.csv"
    assert main(["--lang", "en", "import", str(bad), "--week", "2026-12-07", "--errors",
                 str(errors)]) == 2
    err = capsys.readouterr().err
    assert "row 2, column '所要時間'" in err and f"dxshare: error: {errors}: {EN}" in err
    assert "Traceback" not in err


def _season_request(tmp_path, capsys) -> Path:
    """A one-week season request (three requests), written by ``dxshare season request``."""
    season = tmp_path / "season.json"
    assert main(["season", "request", "--weeks", "1", "--requests-per-week", "3", "--out",
                 str(season)]) == 0
    capsys.readouterr()
    return season


@pytest.mark.parametrize("option", ["--out", "--csv"])
def test_season_outputs_in_a_locked_folder_are_refused_before_planning(tmp_path, locked,
                                                                        capsys, option):
    season = _season_request(tmp_path, capsys)
    target = locked / ("plan.json" if option == "--out" else "csv")
    argv = [option, str(target)] + (["--out", str(tmp_path / "p.json")] if option == "--csv"
                                    else [])
    assert main(["season", "plan", str(season), *argv, "--time-limit", "5", "--quiet"]) == 2
    assert _err_line(capsys) == f"dxshare: {target}: {JA}"


def test_a_season_plan_that_cannot_be_saved_still_prints_its_figures(tmp_path, locked,
                                                                     capsys, monkeypatch):
    season = _season_request(tmp_path, capsys)
    _pass_the_check(monkeypatch)
    out = locked / "plan.json"
    assert main(["--lang", "en", "season", "plan", str(season), "--out", str(out),
                 "--time-limit", "5", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert "visits per expert" in captured.out and "plan written" not in captured.out
    assert captured.err.strip() == f"dxshare: {out}: {EN}"


@pytest.fixture
def planned(week, tmp_path) -> tuple[str, str]:
    plan = tmp_path / "plan.json"
    assert main(["plan", week, "--out", str(plan), "--quiet"]) == 0
    return week, str(plan)


def test_slots_json_in_a_locked_folder(week, tmp_path, locked, capsys, monkeypatch):
    without = load_doc("two_towns")
    without["requests"] = [q for q in without["requests"] if q["id"] != "b1"]
    (tmp_path / "w0.json").write_text(json.dumps(without), encoding="utf-8")
    plan = str(tmp_path / "plan.json")
    assert main(["plan", str(tmp_path / "w0.json"), "--out", plan, "--quiet"]) == 0
    capsys.readouterr()
    out = locked / "slots.json"
    assert main(["slots", week, plan, "--request", "b1", "--json", str(out)]) == 2
    assert _err_line(capsys) == f"dxshare: エラー: {out}: {JA}"
    _pass_the_check(monkeypatch)
    assert main(["slots", week, plan, "--request", "b1", "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert "■ 新しい依頼 b1" in captured.out                   # the proposals, read on screen
    assert captured.err.strip() == f"dxshare: エラー: {out}: {JA}"


def _event(planned, tmp_path) -> list[str]:
    week, plan = planned
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps({"kind": "expert_unavailable", "now": "2026-12-07T07:00",
                              "expert": "pr-1", "from": "2026-12-07T07:00",
                              "until": "2026-12-07T23:00"}), encoding="utf-8")
    return ["event", week, plan, "--event", str(ev)]


@pytest.mark.parametrize("option", ["--out", "--out-week", "--ics"])
def test_event_outputs_in_a_locked_folder_are_refused_before_the_repair(
        planned, locked, tmp_path, capsys, option):
    target = locked / ("x.json" if option != "--ics" else "ics")
    argv = _event(planned, tmp_path) + [option, str(target)]
    if option != "--out":
        argv += ["--out", str(tmp_path / "plan2.json")]
    capsys.readouterr()
    assert main(["--lang", "en", *argv]) == 2
    assert _err_line(capsys) == f"dxshare: error: {target}: {EN}"


def test_an_event_whose_plan_cannot_be_saved_prints_the_changes_and_saves_the_week(
        planned, locked, tmp_path, capsys, monkeypatch):
    _pass_the_check(monkeypatch)
    out, after = locked / "plan2.json", tmp_path / "week2.json"
    capsys.readouterr()
    assert main(["--lang", "en", *_event(planned, tmp_path), "--out", str(out),
                 "--out-week", str(after)]) == 2
    captured = capsys.readouterr()
    assert "is unavailable from" in captured.out and after.exists()
    assert captured.err.strip() == f"dxshare: error: {out}: {EN}"


YAML = """\
format: scenarios/1
base: {ehime: {start: 2026-12-07, requests_per_week: 3}}
run: {time_limit: 5, draws: 1, seed: 0}
scenarios:
  - name: baseline
"""


def test_scenario_results_in_a_locked_folder(tmp_path, locked, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text(YAML, encoding="utf-8")
    argv = ["scenarios", "run", str(f), "--serial", "--quiet", "--lang", "en", "--out",
            str(locked / "results")]
    code, out, err = run_scenarios(argv)
    assert (code, out, err) == (2, "", f"dxshare: {locked / 'results'}: {EN}\n")
    _pass_the_check(monkeypatch)
    code, out, err = run_scenarios(argv)
    assert code == 2 and "baseline" in out                      # the comparison, read on screen
    assert err.startswith("dxshare: ") and err.endswith(f": {EN}\n") and str(locked) in err
    assert "Traceback" not in err and os.sep in err
