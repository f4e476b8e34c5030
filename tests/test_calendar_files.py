"""The calendars handed out are named as people name the expert (``service.calendars``):
by name, or by field in the catalogue's words when the request gives none; safe as a file
name everywhere, one file per expert, the same names whatever the order of the experts; and
an event's repair finds each calendar by that name (or by the id older versions used)."""

from __future__ import annotations

import json
import re

import pytest

from engine.format import parse_plan_request, plan_request_to_dict, plan_to_dict
from engine.ical import calendar_sequences
from engine.model import Expert
from service.calendars import calendar_stems, cancel_stem
from service.cli import main
from solvers.planner import SolveOptions, solve

MON, TUE = "2026-12-07", "2026-12-08"
#: What Windows, macOS or Linux refuse, or read as something else, in a file name.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]|^[ .]|[ .]$')


def _expert(ident: str, name: str = "", fields: tuple[str, ...] = ("pr",)) -> Expert:
    return Expert(id=ident, fields=fields, base="A", name=name)


def test_an_expert_is_named_as_people_name_them():
    stems = calendar_stems([_expert("pr-1", "広報担当"), _expert("design-1", "",
                                                                ("design",))], "ja")
    assert stems == {"pr-1": "広報担当", "design-1": "デザイン思考・UI／UX担当"}
    en = calendar_stems([_expert("design-1", "", ("design",)), _expert("x", "", ("pr", "data"))],
                        "en")
    assert en == {"design-1": "design thinking ／ UI-UX expert",
                  "x": "PR ／ marketing・data use expert"}
    assert cancel_stem("広報担当", "ja") == "広報担当（取り消し）"
    assert cancel_stem("Ena", "en") == "Ena (cancelled)"


@pytest.mark.parametrize("name", ['a/b', 'CON', 'nul', ' .hidden. ', 'x:y*z?"<>|\\', "\t",
                                  "..", "長" * 200, "Ａｂ"])
def test_every_name_is_a_safe_file_name(name):
    stem = calendar_stems([_expert("e1", name)], "ja")["e1"]
    assert stem and not _UNSAFE.search(stem), stem
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert len(f"{cancel_stem(stem, 'ja')}.ics".encode()) <= 255


def test_names_are_unique_and_do_not_depend_on_the_order():
    experts = [_expert("pr-1", "広報担当"), _expert("pr-2", "広報担当"),
               _expert("pr-3", "広報担当（取り消し）"), _expert("data-1", "データ担当"),
               _expert("data-2", "データ担当 "), _expert("a", "Mika"), _expert("b", "mika"),
               _expert("c", ""), _expert("d", "")]
    stems = calendar_stems(experts, "ja")
    files = [s.casefold() for s in stems.values()]
    files += [cancel_stem(s, "ja").casefold() for s in stems.values()]
    assert len(set(files)) == len(files), stems
    assert stems == calendar_stems(list(reversed(experts)), "ja")
    assert stems["data-1"].startswith("データ担当") and stems["pr-2"].startswith("広報担当")


# ------------------------------------------------------------------------------ the commands

def _week() -> dict:
    return {
        "horizon": {"start": MON, "end": TUE},
        "locations": [{"id": "A", "name": "Atown", "open": "08:30", "close": "17:15"},
                      {"id": "B", "name": "Bcity", "open": "08:30", "close": "17:15"}],
        "experts": [{"id": "e1", "name": "Ena", "fields": ["pr"], "base": "A"},
                    {"id": "e2", "fields": ["pr"], "base": "B"}],
        "requests": [{"id": f"r{i}", "location": loc, "fields": ["pr"], "mode": "onsite",
                      "duration_min": 90, "priority": 5, "title": f"subject {i}",
                      "earliest": TUE} for i, loc in enumerate("ABAB")],
        "travel": {"minutes": {"A": {"B": 30}, "B": {"A": 30}}},
    }


@pytest.fixture
def files(tmp_path):
    week = parse_plan_request(_week())
    plan = solve(week, SolveOptions(time_limit=10))
    (tmp_path / "week.json").write_text(json.dumps(plan_request_to_dict(week)))
    (tmp_path / "plan.json").write_text(json.dumps(plan_to_dict(plan)))
    (tmp_path / "ev.json").write_text(json.dumps(
        {"kind": "expert_unavailable", "now": f"{MON}T07:00", "expert": "e1",
         "from": f"{TUE}T07:00", "until": f"{TUE}T23:00"}))
    return tmp_path, plan


def test_plan_and_event_write_and_find_calendars_by_name(files, capsys):
    d, plan = files
    ics = d / "ics"
    assert main(["plan", str(d / "week.json"), "--out", str(d / "p.json"), "--ics", str(ics),
                 "--quiet", "--time-limit", "10"]) == 0
    assert sorted(p.name for p in ics.iterdir()) == ["Ena.ics", "広報・マーケティング担当.ics"]
    unnamed = (ics / "広報・マーケティング担当.ics").read_text(encoding="utf-8")
    assert "X-WR-CALNAME:dxshare 広報・マーケティング担当" in unnamed      # not "dxshare e2"
    ena = calendar_sequences((ics / "Ena.ics").read_bytes())
    assert len(ena) == sum("e1" in v.experts for v in plan.visits) > 0
    assert main(["event", str(d / "week.json"), str(d / "p.json"), "--event",
                 str(d / "ev.json"), "--out", str(d / "p2.json"), "--ics", str(ics)]) == 0
    assert sorted(p.name for p in ics.iterdir()) == ["Ena.ics", "Ena（取り消し）.ics",
                                                     "広報・マーケティング担当.ics"]
    out = capsys.readouterr().out
    assert "Ena（取り消し）.ics" in out and "e1.ics" not in out
    gone = calendar_sequences((ics / "Ena（取り消し）.ics").read_bytes())
    assert set(gone) == set(ena) and all(n == 1 for n in gone.values())


def test_an_event_takes_over_calendars_named_by_id(files, capsys):
    """Calendars an older version wrote as ``e1.ics`` keep their SEQUENCE under the new name,
    and the folder holds one calendar per expert afterwards."""
    d, _plan = files
    ics = d / "ics"
    assert main(["plan", str(d / "week.json"), "--out", str(d / "p.json"), "--ics", str(ics),
                 "--quiet", "--time-limit", "10"]) == 0
    ena = (ics / "Ena.ics").read_bytes()
    (ics / "e1.ics").write_bytes(ena.replace(b"SEQUENCE:0", b"SEQUENCE:4"))
    (ics / "Ena.ics").unlink()
    (ics / "広報・マーケティング担当.ics").rename(ics / "e2.ics")
    (ics / "e1-cancel.ics").write_bytes((ics / "e1.ics").read_bytes())
    assert main(["--lang", "en", "event", str(d / "week.json"), str(d / "p.json"), "--event",
                 str(d / "ev.json"), "--out", str(d / "p2.json"), "--ics", str(ics)]) == 0
    assert sorted(p.name for p in ics.iterdir()) == ["Ena (cancelled).ics", "Ena.ics",
                                                     "PR ／ marketing expert.ics"]
    gone = calendar_sequences((ics / "Ena (cancelled).ics").read_bytes())
    assert gone and all(n == 5 for n in gone.values())     # the SEQUENCE goes on
    # a second event in Japanese finds the English-named calendar of the unnamed expert
    (d / "ev2.json").write_text(json.dumps(
        {"kind": "location_closed", "now": f"{MON}T08:00", "location": "B", "date": TUE,
         "from": "08:00", "until": "23:00"}))
    assert main(["event", str(d / "week.json"), str(d / "p2.json"), "--event",
                 str(d / "ev2.json"), "--out", str(d / "p3.json"), "--ics", str(ics)]) == 0
    names = sorted(p.name for p in ics.iterdir())
    assert "PR ／ marketing expert.ics" not in names and "Ena (cancelled).ics" not in names
    assert "広報・マーケティング担当.ics" in names and "Ena.ics" in names


def test_two_experts_of_one_name_are_told_apart_by_their_base():
    experts = [_expert("pr-1", "広報担当"), Expert(id="pr-2", fields=("pr",), base="U",
                                                   name="広報担当")]
    stems = calendar_stems(experts, "ja", {"A": "松山市", "U": "宇和島市"})
    assert stems == {"pr-1": "広報担当（松山市）", "pr-2": "広報担当（宇和島市）"}


def test_a_plan_replaces_the_calendars_an_older_version_named_by_id(files):
    d, _plan = files
    ics = d / "ics"
    ics.mkdir()
    (ics / "e1.ics").write_text("an older calendar", encoding="utf-8")
    (ics / "notes.ics").write_text("someone else's", encoding="utf-8")
    assert main(["plan", str(d / "week.json"), "--out", str(d / "p.json"), "--ics", str(ics),
                 "--quiet", "--time-limit", "10"]) == 0
    assert sorted(p.name for p in ics.iterdir()) == ["Ena.ics", "notes.ics",
                                                     "広報・マーケティング担当.ics"]


def test_an_id_that_is_the_name_in_other_case_never_removes_the_calendar(tmp_path,
                                                                         monkeypatch):
    """On a file system that ignores case (macOS, Windows) ``ena.ics``, the name an older
    version gave the expert ``ena``, is ``Ena.ics``, the calendar just written."""
    from pathlib import Path

    from service.calendars import update_calendars, write_calendars

    doc = _week()
    doc["experts"][0]["id"] = "ena"
    week = parse_plan_request(doc)
    plan = solve(week, SolveOptions(time_limit=10))
    real_is_file, real_unlink = Path.is_file, Path.unlink

    def same(path):             # the files a case-blind file system takes for ``path``
        return [p for p in path.parent.iterdir() if p.name.casefold() == path.name.casefold()]

    monkeypatch.setattr(Path, "is_file", lambda self: any(real_is_file(p) for p in same(self)))
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: [
        real_unlink(p) for p in same(self)])
    write_calendars(tmp_path, week, plan)
    update_calendars(tmp_path, week, plan)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Ena.ics", "広報・マーケティング担当.ics"]


def test_a_replan_with_its_previous_plan_updates_the_calendars(tmp_path):
    """``plan --previous --ics`` wrote every event afresh at SEQUENCE 0 and left out what was
    withdrawn, so calendar programs kept the old entries; now as an event's repair does."""
    from pathlib import Path

    from engine.format import load_plan

    examples = Path(__file__).resolve().parents[1] / "examples"
    ics = tmp_path / "ics"
    assert main(["example", "--out", str(tmp_path / "week.json")]) == 0
    assert main(["plan", str(tmp_path / "week.json"), "--out", str(tmp_path / "plan.json"),
                 "--ics", str(ics), "--quiet", "--time-limit", "20"]) == 0
    first = {p.name: calendar_sequences(p.read_bytes()) for p in ics.iterdir()}
    assert main(["plan", str(examples / "next-week.json"), "--previous",
                 str(tmp_path / "plan.json"), "--out", str(tmp_path / "plan2.json"),
                 "--ics", str(ics), "--quiet", "--time-limit", "20"]) == 0
    plan2 = load_plan(tmp_path / "plan2.json")
    week2 = parse_plan_request(json.loads((examples / "next-week.json").read_text("utf-8")))
    stems = calendar_stems(week2.experts, "ja")
    taken = [(c.request, e) for c in plan2.changes if c.before is not None
             for e in c.before.experts if c.after is None or e not in c.after.experts]
    assert taken                       # the re-plan drops a visit: its expert is told
    for request, expert in taken:
        gone = calendar_sequences((ics / f"{stems[expert]}（取り消し）.ics").read_bytes())
        assert f"{request}/{expert}@dxshare" in gone
    moved = {c.request for c in plan2.changes if c.kind == "moved"}
    for name, seqs in first.items():
        now = calendar_sequences((ics / name).read_bytes())
        for key, n in now.items():
            if key.split("/")[0] in moved and key in seqs:
                assert n == seqs[key] + 1, (name, key)


def test_an_expert_given_a_name_later_keeps_their_calendar(files):
    """The centre names an expert after the first calendars went out (広報担当 → a person's
    name): the repair finds the calendar by its events (their UIDs name the expert), goes on
    with its SEQUENCE and leaves one calendar for the expert; a calendar of someone else in
    the folder stays as it is."""
    d, _plan = files
    ics = d / "ics"
    assert main(["plan", str(d / "week.json"), "--out", str(d / "p.json"), "--ics", str(ics),
                 "--quiet", "--time-limit", "10"]) == 0
    ena = (ics / "Ena.ics").read_bytes()
    (ics / "Ena.ics").write_bytes(ena.replace(b"SEQUENCE:0", b"SEQUENCE:4"))
    foreign = ena.replace(b"@dxshare", b"@example.org")
    (ics / "holidays.ics").write_bytes(foreign)
    (ics / "Ena-copy.ics").write_bytes(ena)            # a copy of an older one someone kept
    import os

    os.utime(ics / "Ena-copy.ics", (1, 1))
    week = json.loads((d / "week.json").read_text(encoding="utf-8"))
    week["experts"][0]["name"] = "田中 恵奈"
    (d / "week.json").write_text(json.dumps(week, ensure_ascii=False), encoding="utf-8")
    assert main(["event", str(d / "week.json"), str(d / "p.json"), "--event",
                 str(d / "ev.json"), "--out", str(d / "p2.json"), "--ics", str(ics)]) == 0
    assert sorted(p.name for p in ics.iterdir()) == [
        "Ena-copy.ics", "holidays.ics", "広報・マーケティング担当.ics", "田中 恵奈.ics",
        "田中 恵奈（取り消し）.ics"]
    gone = calendar_sequences((ics / "田中 恵奈（取り消し）.ics").read_bytes())
    assert gone and all(n == 5 for n in gone.values())
    assert (ics / "holidays.ics").read_bytes() == foreign


def test_a_plan_after_the_expert_was_named_replaces_the_calendar(files):
    d, _plan = files
    ics = d / "ics"
    argv = ["plan", str(d / "week.json"), "--ics", str(ics), "--quiet", "--time-limit", "10"]
    assert main([*argv, "--out", str(d / "p.json")]) == 0
    week = json.loads((d / "week.json").read_text(encoding="utf-8"))
    week["experts"][1]["name"] = "Eto"
    (d / "week.json").write_text(json.dumps(week, ensure_ascii=False), encoding="utf-8")
    assert main([*argv, "--out", str(d / "p2.json")]) == 0
    assert sorted(p.name for p in ics.iterdir()) == ["Ena.ics", "Eto.ics"]
