"""``dxshare slots``: proposals for a new request on the command line, as a coordinator uses it
on the phone (Japanese by default), and as a file anyone can check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.checker import check_plan
from engine.format import parse_plan, parse_plan_request
from service.cli import main
from service.i18n import set_lang
from tests.helpers import load_doc, req


@pytest.fixture(autouse=True)
def japanese(monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    yield
    set_lang("ja")


def write(path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return str(path)


def _week_and_plan(tmp_path, doc: dict[str, Any]) -> tuple[str, str]:
    """``doc`` (two days from 12/7) with the new request n1 as week.json, and plan.json
    planned without it."""
    doc["horizon"] = {"start": "2026-12-07", "end": "2026-12-08"}
    doc["requests"].append(req("n1", "town_b", duration=60, priority=7, title="広報相談"))
    without = json.loads(json.dumps(doc))
    without["requests"] = without["requests"][:-1]
    plan = tmp_path / "plan.json"
    assert main(["plan", write(tmp_path / "w0.json", without), "--out", str(plan),
                 "--quiet"]) == 0
    return write(tmp_path / "week.json", doc), str(plan)


@pytest.fixture
def files(tmp_path):
    """(week.json with the new request n1, plan.json planned without it)."""
    doc = load_doc("two_towns")
    return (*_week_and_plan(tmp_path, doc), doc)


def test_proposals_in_japanese_by_default_and_the_file_checks_out(files, tmp_path, capsys):
    week, plan, doc = files
    capsys.readouterr()
    out = tmp_path / "slots.json"
    assert main(["slots", week, plan, "--request", "n1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "■ 新しい依頼 n1 広報相談: B町" in text and "候補（良い順" in text
    assert "評価値 +" in text and "計画の評価値" not in text and "12/7（月）" in text and "12/8（火）" in text
    answer = json.loads(out.read_text(encoding="utf-8"))
    assert answer["format"] == "slot-proposals/1" and answer["request"] == "n1"
    assert [p["rank"] for p in answer["proposals"]] == [1, 2, 3]
    problem = parse_plan_request(doc)
    for p in answer["proposals"]:
        assert set(p) >= {"experts", "date", "start", "mode", "objective_change", "plan"}
        plan_doc = parse_plan(p["plan"])
        assert check_plan(problem, plan_doc) == []
        [v] = [v for v in plan_doc.visits if v.request == "n1"]
        assert (v.date.isoformat(), v.experts, v.mode) == (p["date"], tuple(p["experts"]),
                                                           p["mode"])
    changes = [p["objective_change"] for p in answer["proposals"] if not p["alternative"]]
    assert changes == sorted(changes, reverse=True)


def test_english_on_request(files, capsys):
    week, plan, _ = files
    capsys.readouterr()
    assert main(["--lang", "en", "slots", week, plan, "--request", "n1", "--top", "1"]) == 0
    text = capsys.readouterr().out
    assert "■ New request n1" in text and "Proposals, best first (1):" in text
    assert "plan score +" in text and "nothing else moves" in text
    assert "候補" not in text


def test_no_slot_prints_why_in_the_planners_words(files, tmp_path, capsys):
    week, plan, doc = files
    doc["requests"][-1]["fields"] = ["security"]
    week = write(tmp_path / "week2.json", doc)
    capsys.readouterr()
    assert main(["slots", week, plan, "--request", "n1"]) == 0
    text = capsys.readouterr().out
    assert "ご希望の形態（訪問）では空きがありません" in text
    assert "専門家がいません" in text and "候補" not in text


@pytest.mark.parametrize("argv, where", [
    (["--request", "zz"], "--request"),
    (["--request", "a1"], "plan.visits"),
    (["--request", "n1", "--top", "0"], "--top"),
    (["--request", "n1", "--other-mode", "sometimes"], None),
])
def test_bad_input_is_one_line_naming_the_field(files, capsys, argv, where):
    week, plan, _ = files
    capsys.readouterr()
    if where is None:                    # argparse refuses it (exit 2, in Japanese)
        with pytest.raises(SystemExit) as stop:
            main(["slots", week, plan, *argv])
        assert stop.value.code == 2 and "不正な選択です" in capsys.readouterr().err
        return
    assert main(["slots", week, plan, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dxshare: エラー: " + where) and "Traceback" not in err


def test_a_plan_from_another_week_is_refused_with_the_visit_named(files, tmp_path, capsys):
    week, plan, _ = files
    other = json.loads(open(plan, encoding="utf-8").read())
    other["visits"][0]["request"] = "x9"
    bad = write(tmp_path / "other.json", other)
    assert main(["--lang", "en", "slots", week, bad, "--request", "n1"]) == 2
    err = capsys.readouterr().err
    assert "plan.visits[0].request: unknown request 'x9'" in err


def test_an_invalid_plan_is_refused_in_japanese_naming_the_place(tmp_path, capsys):
    """The checker's findings on the plan given are the error, in the reader's language: the
    place by its Japanese name (not its code), the date as 12/7, the request by its subject."""
    doc = json.loads(json.dumps(load_doc("two_towns"), ensure_ascii=False)
                     .replace("town_a", "383562").replace("A町", "上島町"))
    doc["requests"][0]["title"] = "広報誌の刷新"
    week, plan = _week_and_plan(tmp_path, doc)
    bad = json.loads(Path(plan).read_text(encoding="utf-8"))
    [v] = [v for v in bad["visits"] if v["request"] == "a1"]
    v["start"], v["end"] = "07:00", "08:00"          # before the town hall opens
    capsys.readouterr()
    assert main(["slots", week, write(tmp_path / "bad.json", bad), "--request", "n1"]) == 2
    err = capsys.readouterr().err
    assert "計画が週に対して有効ではありません: 12/7: 上島町「広報誌の刷新」 07:00–08:00 が上島町の" \
           "受付時間 08:30–17:15 の外です" in err, err
    assert "383562" not in err and "2026-12-07" not in err and "a1" not in err, err
    assert main(["--lang", "en", "slots", week, write(tmp_path / "bad.json", bad),
                 "--request", "n1"]) == 2
    err = capsys.readouterr().err
    assert "the plan is not valid for the week: 12/7: 上島町 (Kamijima) 「広報誌の刷新」 " \
           "07:00–08:00 is outside the opening hours 08:30–17:15 of 上島町 (Kamijima)" in err, err
