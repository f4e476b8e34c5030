"""The command line as a user meets it: the demo, files in and out, bad input."""

import json
from pathlib import Path

import pytest

from engine.format import load_plan
from service.cli import main


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo")
    out = d / "plan.json"
    rc = main(["plan", "--demo", "--out", str(out), "--csv", str(d / "csv"), "--ics",
               str(d / "ics"), "--time-limit", "60", "--quiet"])
    return rc, d, out


def test_demo_writes_a_plan_tables_and_calendars(demo_plan):
    rc, d, out = demo_plan
    assert rc == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "plan/1"
    assert doc["status"] in ("optimal", "feasible")
    ids = [v["request"] for v in doc["visits"]] + [u["request"] for u in doc["unscheduled"]]
    assert len(ids) == len(set(ids)) == 40
    assert all(u["reasons"] and u["reasons_ja"] for u in doc["unscheduled"])
    assert {p.name for p in (d / "csv").iterdir()} == {"visits.csv", "routes.csv",
                                                       "unscheduled.csv"}
    assert {p.name for p in (d / "ics").iterdir()} == {
        "デザイン担当.ics", "セキュリティ担当.ics", "データ担当.ics", "官民共創担当.ics", "広報担当.ics"}
    ics = (d / "ics" / "広報担当.ics").read_text(encoding="utf-8")
    assert ics.count("BEGIN:VEVENT") == sum("pr-1" in v["experts"] for v in doc["visits"])
    # the published visit of the demo week is kept
    fixed = next(v for v in doc["visits"] if v["request"] == "r001")
    assert (fixed["date"], fixed["start"], fixed["experts"]) == ("2026-12-08", "13:30", ["pr-1"])


def test_replan_with_previous_keeps_every_visit(demo_plan, tmp_path, capsys):
    _, d, out = demo_plan
    req = tmp_path / "week.json"
    assert main(["example", "--out", str(req)]) == 0
    out2 = tmp_path / "plan2.json"
    assert main(["plan", str(req), "--previous", str(out), "--out", str(out2),
                 "--time-limit", "60", "--quiet"]) == 0
    first, second = load_plan(out), load_plan(out2)
    if first.status == "optimal":
        assert second.kpis["moved"] == 0
        assert {v.request: (v.date, v.start) for v in second.visits} == {
            v.request: (v.date, v.start) for v in first.visits}


def test_week_text_in_english(tmp_path, capsys):
    req = tmp_path / "w.json"
    main(["example", "--out", str(req)])
    doc = json.loads(req.read_text(encoding="utf-8"))
    doc["requests"] = doc["requests"][:3]
    req.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["--lang", "en", "plan", str(req), "--out", str(tmp_path / "p.json"),
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "status: optimal (proven)" in text and "expert-visits" in text


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ("[]", "must be an object"),
    ('{"format": "plan-request/1"}', "horizon: is required"),
])
def test_bad_input_names_every_problem_and_exits_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    assert main(["--lang", "en", "plan", str(path), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(message in line for line in err) and "Traceback" not in "\n".join(err)
    if len(err) > 1:      # several problems: a count, then one line each
        assert err[0] == f"dxshare: error: {len(err) - 1} problems"
        assert "  locations: is required" in err and "  experts: is required" in err
    assert not (tmp_path / "p.json").exists()


def test_missing_file_and_bad_options(tmp_path, capsys):
    assert main(["plan", str(tmp_path / "none.json")]) == 2
    assert "ファイルが見つかりません" in capsys.readouterr().err
    assert main(["--lang", "en", "plan", "--demo", "--time-limit", "0"]) == 2
    assert "--time-limit: must be > 0" in capsys.readouterr().err


def test_import_command(tmp_path, capsys):
    src = tmp_path / "r.csv"
    src.write_text("自治体,分野,形態,所要時間\n伊方町,広報,訪問,60\n", encoding="utf-8")
    out = tmp_path / "w.json"
    assert main(["import", str(src), "--week", "2026-12-07", "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["requests"][0]["location"] == "384429"
    bad = tmp_path / "b.csv"
    bad.write_text("自治体,分野,形態,所要時間\n伊方町,広報,訪問,x\n", encoding="utf-8")
    assert main(["--lang", "en", "import", str(bad), "--week", "2026-12-07"]) == 2
    assert "row 2, column '所要時間': must be minutes such as 90" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["good.xlsx", "依頼.csv"])
def test_planning_a_spreadsheet_says_to_import_it_first(tmp_path, capsys, name):
    sheet = tmp_path / name
    sheet.write_bytes(b"PK\x03\x04\x00\xff\xfe binary")
    assert main(["plan", str(sheet), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dxshare import" in err[0] and "UTF-8" not in err[0]
    assert not (tmp_path / "p.json").exists()


def test_a_previous_plans_visits_whose_requests_are_gone_are_named_by_place_and_time(
        tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    doc = json.loads((Path(__file__).parent / "data" / "two_towns.json").read_text(
        encoding="utf-8"))
    week, before = tmp_path / "week.json", tmp_path / "before.json"
    week.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["plan", str(week), "--out", str(before), "--time-limit", "5", "--quiet"]) == 0
    b1 = next(v for v in load_plan(before).visits if v.request == "b1")
    doc["requests"] = [q for q in doc["requests"] if q["id"] != "b1"]    # b1 was withdrawn
    week.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    assert main(["plan", str(week), "--previous", str(before), "--out",
                 str(tmp_path / "after.json"), "--time-limit", "5", "--quiet"]) == 0
    at = f"12/7 {b1.start // 60:02d}:{b1.start % 60:02d}"
    assert f"注意: 前回計画の訪問 1 件は今回の依頼にありません: B町 {at}（依頼 b1）" \
        in capsys.readouterr().err
    assert main(["--lang", "en", "plan", str(week), "--previous", str(before), "--out",
                 str(tmp_path / "after-en.json"), "--time-limit", "5", "--quiet"]) == 0
    assert (f"note: 1 visit of the previous plan is not in this request: B町 {at} "
            "(request b1)") in capsys.readouterr().err


def test_an_unreadable_request_file_is_refused_in_words_not_the_systems(tmp_path, capsys,
                                                                       monkeypatch):
    week = tmp_path / "week.json"
    week.write_text("{}", encoding="utf-8")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    assert main(["plan", str(week), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"dxshare: エラー: {week}: 読み取りの権限がありません", err
