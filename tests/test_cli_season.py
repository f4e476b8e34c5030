"""``dxshare season`` as a coordinator meets it: the season request, planned as one and week by
week, compared, re-planned mid-season with published weeks kept, and bad input."""

from __future__ import annotations

import json

import pytest

from engine.checker import check_plan
from engine.format import load_plan, load_plan_request
from service.cli import main


@pytest.fixture(scope="module")
def season_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("season")
    path = d / "season.json"
    assert main(["season", "request", "--weeks", "3", "--requests-per-week", "8", "--seed", "4",
                 "--out", str(path)]) == 0
    return path


def test_the_season_request_is_a_plan_request_with_goals(season_file):
    doc = json.loads(season_file.read_text(encoding="utf-8"))
    assert doc["format"] == "plan-request/1" and len(doc["requests"]) == 24
    assert set(doc["goals"]) == {"coverage", "small_towns"}
    assert all(e["max_onsite_days_per_month"] == 10 for e in doc["experts"])


def test_compare_prints_both_and_writes_the_figures(season_file, tmp_path, capsys):
    rc = main(["season", "compare", str(season_file), "--time-limit", "20",
               "--week-time-limit", "2", "--csv", str(tmp_path), "--quiet", "--lang", "en"])
    out = capsys.readouterr().out
    assert rc == 0
    # (titles wider than their table wrap: look for words, not whole titles)
    assert "as one" in out and "week by week" in out and "2026-08" in out
    assert "expert-visits" in out and "visits per expert" in out
    names = {p.name for p in tmp_path.iterdir()}
    assert {"season-as-one-summary.csv", "season-week-by-week-coverage.csv",
            "season-as-one-months.csv", "comparison.csv"} <= names


def test_japanese_by_default(season_file, tmp_path, capsys):
    rc = main(["season", "simulate", str(season_file), "--out", str(tmp_path / "w.json"),
               "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and "週ごとの計画" in out and "専門家訪問数" in out and "訪問日数" in out


def test_replanning_mid_season_keeps_the_published_weeks(season_file, tmp_path, capsys):
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    assert main(["season", "simulate", str(season_file), "--out", str(first), "--quiet"]) == 0
    assert main(["season", "plan", str(season_file), "--previous", str(first),
                 "--publish-until", "2026-08-14", "--time-limit", "20", "--out", str(again),
                 "--quiet"]) == 0
    p = load_plan_request(season_file)
    before, after = load_plan(first), load_plan(again)
    kept = {v.request: v for v in before.visits if v.date.isoformat() <= "2026-08-14"}
    assert kept and all(after.visit_by_request.get(r) == v for r, v in kept.items())
    assert all(v.request in kept for v in after.visits if v.date.isoformat() <= "2026-08-14")
    from dataclasses import replace

    published = replace(p, requests=tuple(
        replace(q, fixed=None) for q in p.requests))
    assert not [x for x in check_plan(published, after) if x.rule != "kpis"]


@pytest.mark.parametrize("argv, words", [
    (["season", "plan"], "--demo"),
    (["season", "plan", "--demo", "--publish-until", "2026-09-01"], "--previous"),
    (["season", "simulate", "--demo", "--week-time-limit", "0"], "--week-time-limit"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    assert main([*argv, "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err


def test_season_figures_are_named_as_people_read_them(season_file, tmp_path, capsys):
    """Experts and municipalities by name, ids only in the last columns, shares as
    percentages, counts as whole numbers, every CSV with the BOM Excel needs."""
    import csv

    rc = main(["season", "simulate", str(season_file), "--out", str(tmp_path / "w.json"),
               "--csv", str(tmp_path / "csv"), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "design-1" not in out and "デザイン担当" in out
    assert "小規模自治体の割合" in out and "%" in out
    assert not any(line.rstrip().endswith(".0") for line in out.splitlines())
    for path in (tmp_path / "csv").iterdir():
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path.name
    experts = list(csv.reader((tmp_path / "csv" / "season-week-by-week-experts.csv")
                              .read_text("utf-8-sig").splitlines()))
    assert experts[0][0] == "専門家" and experts[0][-1] == "専門家 ID"
    assert experts[1][0].endswith("担当")
    summary = {r[2]: r[1] for r in csv.reader(
        (tmp_path / "csv" / "season-week-by-week-summary.csv").read_text("utf-8-sig")
        .splitlines()[1:])}
    assert summary["small_town_share"].endswith("%") and summary["visits"].isdigit()
    coverage = list(csv.reader((tmp_path / "csv" / "season-week-by-week-coverage.csv")
                               .read_text("utf-8-sig").splitlines()))
    assert coverage[0][0] == "自治体" and not coverage[1][0].isdigit()


def test_replanning_unchanged_requests_moves_nothing_and_says_so(season_file, tmp_path,
                                                                  capsys):
    first, again = tmp_path / "first.json", tmp_path / "again.json"
    assert main(["season", "plan", str(season_file), "--out", str(first), "--time-limit", "20",
                 "--quiet"]) == 0
    assert main(["season", "plan", str(season_file), "--previous", str(first), "--out",
                 str(again), "--time-limit", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    before, after = load_plan(first), load_plan(again)
    assert after.kpis["moved"] == 0 and after.changes == ()
    assert {v.request: v for v in after.visits} == {v.request: v for v in before.visits}
    assert "前回計画からの変更: なし" in out
    check_plan(load_plan_request(season_file), after)


def test_a_season_replan_keeps_the_plan_and_lists_what_changed(season_file, tmp_path, capsys):
    """One request withdrawn, one added: every other visit stays, and `changes` says so."""
    doc = json.loads(season_file.read_text(encoding="utf-8"))
    first = tmp_path / "first.json"
    assert main(["season", "plan", str(season_file), "--out", str(first), "--time-limit", "20",
                 "--quiet"]) == 0
    before = load_plan(first)
    gone = before.visits[0].request
    doc["requests"] = [q for q in doc["requests"] if q["id"] != gone]
    doc["requests"].append({**doc["requests"][0], "id": "new-1", "fixed": None})
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    again = tmp_path / "again.json"
    assert main(["season", "plan", str(edited), "--previous", str(first), "--out", str(again),
                 "--time-limit", "20", "--quiet"]) == 0
    out = capsys.readouterr().out
    after = load_plan(again)
    check_plan(load_plan_request(edited), after)
    kinds = {c.request: c.kind for c in after.changes}
    assert kinds[gone] == "withdrawn" and "依頼取り下げ" in out
    assert not [c for c in after.changes if c.kind == "moved"] or \
        after.objective > before.objective      # a move only for a better season
    assert json.loads(again.read_text(encoding="utf-8"))["changes"]
