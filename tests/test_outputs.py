"""Never clobber: outputs never replace an input or an earlier plan, and a path slip is one
line before any solving (``service.paths``)."""

from __future__ import annotations

import json
import time

import pytest

from service.cli import main


@pytest.fixture
def week(tmp_path):
    path = tmp_path / "week.json"
    assert main(["example", "--out", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["requests"] = doc["requests"][:4]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def no_solving(monkeypatch):
    """The checks come before the planner: solving here is a test failure."""
    import solvers.planner

    def refuse(*args, **kwargs):
        raise AssertionError("solved before the paths were checked")

    monkeypatch.setattr(solvers.planner, "solve", refuse)


def test_plan_without_out_writes_a_new_file_each_time(week, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text("my plan", encoding="utf-8")
    assert main(["plan", str(week), "--quiet", "--time-limit", "10"]) == 0
    assert main(["plan", str(week), "--quiet", "--time-limit", "10"]) == 0
    written = sorted(p.name for p in tmp_path.glob("plan-*.json"))
    assert len(written) == 2 and all(n.startswith(f"plan-{time.strftime('%Y')}")
                                     for n in written)
    assert (tmp_path / "plan.json").read_text(encoding="utf-8") == "my plan"
    assert written[0] in capsys.readouterr().out


@pytest.mark.parametrize("argv, option", [
    (["--out", "{week}"], "--out"),
    (["--out", "{dir}"], "--out"),
    (["--xlsx", "{dir}"], "--xlsx"),
    (["--ics", "{file}"], "--ics"),
    (["--csv", "{file}"], "--csv"),
    (["--png", "{file}/charts"], "--png"),
    (["--svg", "{file}"], "--svg"),
    (["--out", "{file}/plan.json"], "--out"),
])
def test_a_path_slip_is_one_line_before_solving(week, tmp_path, capsys, no_solving, argv,
                                                option):
    (tmp_path / "out").mkdir()
    readme = tmp_path / "README.md"
    readme.write_text("notes", encoding="utf-8")
    before = week.read_bytes()
    argv = [a.format(week=week, dir=tmp_path / "out", file=readme) for a in argv]
    assert main(["plan", str(week), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "Traceback" not in err[0]
    assert week.read_bytes() == before and readme.read_text(encoding="utf-8") == "notes"


def test_the_previous_plan_is_never_the_output(week, tmp_path, capsys, no_solving):
    previous = tmp_path / "plan.json"
    previous.write_text("{}", encoding="utf-8")
    assert main(["plan", str(week), "--previous", str(previous), "--out", str(previous)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "入力ファイル" in err
    assert previous.read_text(encoding="utf-8") == "{}"


def test_an_unreachable_dask_address_fails_at_once(week, tmp_path, capsys, no_solving):
    started = time.monotonic()
    assert main(["--lang", "en", "plan", str(week), "--out", str(tmp_path / "p.json"),
                 "--executor", "dask", "--dask-address", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Dask scheduler answers at tcp://127.0.0.1:9" in err[0]
    assert time.monotonic() - started < 15        # generous: it used to wait 30 s


def test_import_and_example_check_their_outputs(tmp_path, capsys):
    sheet = tmp_path / "依頼.csv"
    sheet.write_text("自治体,分野,形態,所要時間\n松山市,広報,訪問,60\n", encoding="utf-8")
    assert main(["import", str(sheet), "--week", "2026-12-07", "--out", str(sheet)]) == 2
    assert sheet.read_text(encoding="utf-8").startswith("自治体")
    assert main(["example", "--out", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_season_replan_never_overwrites_its_previous_plan(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    season = tmp_path / "season.json"
    assert main(["season", "request", "--weeks", "2", "--requests-per-week", "6",
                 "--out", str(season)]) == 0
    assert main(["season", "plan", str(season), "--out", "season-plan.json",
                 "--time-limit", "10", "--quiet"]) == 0
    first = (tmp_path / "season-plan.json").read_bytes()
    assert main(["season", "plan", str(season), "--previous", "season-plan.json",
                 "--publish-until", "2026-08-07", "--time-limit", "10", "--quiet"]) == 0
    assert (tmp_path / "season-plan.json").read_bytes() == first
    assert len(list(tmp_path.glob("season-plan-*.json"))) == 1
    assert main(["season", "plan", str(season), "--previous", "season-plan.json",
                 "--out", "season-plan.json", "--quiet"]) == 2
    assert main(["season", "plan", str(season), "--csv", str(season), "--quiet"]) == 2
    assert (tmp_path / "season-plan.json").read_bytes() == first


@pytest.mark.parametrize("option, name", [("--out", "plan.json"), ("--xlsx", "plan.xlsx")])
def test_an_existing_file_is_replaced_only_with_force(week, tmp_path, capsys, monkeypatch,
                                                      option, name):
    monkeypatch.chdir(tmp_path)            # the plan without --out goes to a new file here
    target = tmp_path / name
    target.write_text("last week's", encoding="utf-8")
    with monkeypatch.context() as m:
        import solvers.planner

        m.setattr(solvers.planner, "solve", lambda *a, **k: pytest.fail("solved first"))
        assert main(["plan", str(week), option, str(target), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0] and "--force" in err[0]
    assert target.read_text(encoding="utf-8") == "last week's"
    assert main(["plan", str(week), option, str(target), "--quiet", "--time-limit", "10",
                 "--force"]) == 0
    assert target.read_bytes() != b"last week's"


def test_force_never_replaces_an_input(week, tmp_path, capsys, no_solving):
    before = week.read_bytes()
    assert main(["plan", str(week), "--out", str(week), "--force"]) == 2
    assert "入力ファイル" in capsys.readouterr().err and week.read_bytes() == before


def test_import_example_and_season_request_keep_an_existing_file(tmp_path, capsys):
    sheet = tmp_path / "依頼.csv"
    sheet.write_text("自治体,分野,形態,所要時間\n松山市,広報,訪問,60\n", encoding="utf-8")
    for argv in (["import", str(sheet), "--week", "2026-12-07"], ["example"],
                 ["season", "request", "--weeks", "1"]):
        out = tmp_path / "mine.json"
        out.write_text("mine", encoding="utf-8")
        assert main([*argv, "--out", str(out)]) == 2, argv
        assert "--force" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "mine"
        assert main([*argv, "--out", str(out), "--force"]) == 0, argv
        assert json.loads(out.read_text(encoding="utf-8"))["format"] == "plan-request/1"


@pytest.fixture
def planned(week, tmp_path):
    plan = tmp_path / "plan.json"
    assert main(["plan", str(week), "--out", str(plan), "--quiet", "--time-limit", "10"]) == 0
    doc = json.loads(week.read_text(encoding="utf-8"))
    doc["requests"].append({**doc["requests"][0], "id": "r041", "priority": 7})
    week.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return week, plan


@pytest.mark.parametrize("target, force_helps", [
    ("{plan}", False), ("{week}", False), ("{dir}", False), ("{dir}/x/", False),
    ("{file}/x.json", False), ("{mine}", True)])
def test_slots_never_writes_over_an_input_or_a_file(planned, tmp_path, capsys, monkeypatch,
                                                    target, force_helps):
    """``slots --json plan.json`` replaced the very plan it read; ``--json out/`` was a
    traceback after the search."""
    import solvers.slots

    week, plan = planned
    (tmp_path / "out").mkdir()
    (tmp_path / "mine.json").write_text("mine", encoding="utf-8")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    path = target.format(plan=plan, week=week, dir=tmp_path / "out",
                         file=tmp_path / "README.md", mine=tmp_path / "mine.json")
    before = {p: p.read_bytes() for p in tmp_path.glob("*.*")}
    argv = ["slots", str(week), str(plan), "--request", "r041", "--json", path]
    with monkeypatch.context() as m:
        m.setattr(solvers.slots, "propose_slots", lambda *a, **k: pytest.fail("searched first"))
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--json" in err[0] and "Traceback" not in err[0], err
        if not force_helps:
            assert main([*argv, "--force"]) == 2
    assert {p: p.read_bytes() for p in tmp_path.glob("*.*")} == before
    if force_helps:
        assert main([*argv, "--force", "--time-limit", "5"]) == 0
        assert json.loads((tmp_path / "mine.json").read_text())["format"] == "slot-proposals/1"


@pytest.mark.parametrize("argv, option", [
    (["--json", "{mine}"], "--json"), (["--json", "{dir}"], "--json"),
    (["--errors", "{mine}"], "--errors"), (["--csv", "{mine}"], "--csv")])
def test_match_checks_its_outputs_before_matching(tmp_path, capsys, monkeypatch, argv, option):
    import solvers.matching

    (tmp_path / "out").mkdir()
    mine = tmp_path / "mine.json"
    mine.write_text("mine", encoding="utf-8")
    argv = [a.format(mine=mine, dir=tmp_path / "out") for a in argv]
    monkeypatch.setattr(solvers.matching, "assign", lambda *a, **k: pytest.fail("matched first"))
    assert main(["match", "assign", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option in err[0], err
    assert mine.read_text(encoding="utf-8") == "mine"


def test_match_csv_files_carry_the_bom(tmp_path):
    assert main(["match", "assign", "--csv", str(tmp_path / "csv")]) == 0
    files = sorted((tmp_path / "csv").glob("*.csv"))
    assert files and all(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in files)


def test_scenarios_check_their_folder_before_running(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("format: scenarios/1\n", encoding="utf-8")
    assert main(["scenarios", "run", str(scenario), "--out", str(scenario), "--serial"]) == 2
    assert "--out" in capsys.readouterr().err
    assert scenario.read_text(encoding="utf-8") == "format: scenarios/1\n"


@pytest.mark.parametrize("argv", [["import", "{sheet}", "--week", "2026-12-07"],
                                  ["match", "assign"]])
def test_an_errors_file_that_exists_is_not_overwritten_by_its_own_refusal(tmp_path, capsys,
                                                                          argv):
    sheet = tmp_path / "依頼.csv"
    sheet.write_text("自治体,分野,形態,所要時間\n松山市,広報,訪問,60\n", encoding="utf-8")
    errors = tmp_path / "errors.csv"
    errors.write_text("last week's problems", encoding="utf-8")
    assert main([*(a.format(sheet=sheet) for a in argv), "--errors", str(errors)]) == 2
    assert "--errors" in capsys.readouterr().err
    assert errors.read_text(encoding="utf-8") == "last week's problems"


def test_scenarios_with_an_unreachable_dask_address_fail_at_once(tmp_path, capsys):
    """It waited 30 s in silence before saying so."""
    started = time.monotonic()
    from pathlib import Path

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "ehime_week.yaml"
    assert main(["--lang", "en", "scenarios", "run", str(scenario), "--address",
                 "tcp://127.0.0.1:9", "--out", str(tmp_path / "sc")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--address" in err[0] and "tcp://127.0.0.1:9" in err[0], err
    assert time.monotonic() - started < 15
