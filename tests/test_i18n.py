"""One language at a time, from the message catalogue (gettext, kept with Babel)."""

from __future__ import annotations

import gettext
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service.cli import _progress_printer, main
from service.i18n import LOCALE_DIR, set_lang
from tests.helpers import problem_of, solve_checked

ROOT = Path(__file__).resolve().parents[1]
PO = LOCALE_DIR / "ja" / "LC_MESSAGES" / "dxshare.po"
MO = PO.with_suffix(".mo")


def _code_messages() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """(context, message) of every message the code marks: a counted message's id is its
    (singular, plural), a word of two meanings carries its context."""
    found = set()
    for _file, _line, message, _comments, ctx in extract_from_dir(
            str(ROOT / "service"), method_map=[("**.py", "python")],
            keywords={"_": None, "N_": None, "NC_": ((1, "c"), 2), "NP_": (1, 2),
                      "ngettext": (1, 2)}):
        found.add((ctx, message))
    return found


def test_every_message_in_the_code_has_a_japanese_translation():
    catalog = read_po(PO.open("rb"))
    translated = {(m.context, m.id): m.string for m in catalog if m.id}
    found = _code_messages()
    assert (None, ("planning {n} request", "planning {n} requests")) in found
    assert ("job state", "cancelled") in found
    missing = sorted(str(m) for m in found
                     if not all(translated.get(m) or ("",)))   # every form translated
    assert missing == []
    assert not any(m.fuzzy for m in catalog if m.id)


def test_the_template_lists_every_message_the_code_marks():
    """``dxshare.pot`` (what a translator starts from) is extracted from the code as it is:
    no message missing, none the code no longer has (service/i18n.py says how)."""
    template = read_po((LOCALE_DIR / "dxshare.pot").open("rb"))
    listed = {(m.context, m.id) for m in template if m.id}
    found = _code_messages()
    assert sorted(map(str, found - listed)) == []
    assert sorted(map(str, listed - found)) == []


def test_the_shipped_mo_is_compiled_from_the_po():
    buf = io.BytesIO()
    write_mo(buf, read_po(PO.open("rb")))
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    shipped = gettext.GNUTranslations(MO.open("rb"))
    assert fresh._catalog == shipped._catalog  # type: ignore[attr-defined]


@pytest.fixture
def no_lang_env(monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    yield
    set_lang("ja")


def _help(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    return capsys.readouterr().out


def test_help_is_japanese_by_default_and_english_on_request(no_lang_env, capsys, monkeypatch):
    ja = _help(["plan", "--help"], capsys)
    assert ja.startswith("使い方: dxshare plan") and "同梱の愛媛デモ週を計画する" in ja
    assert "このヘルプを表示して終了する" in ja and "show this help" not in ja
    en = _help(["--lang", "en", "plan", "--help"], capsys)
    assert en.startswith("usage: dxshare plan") and "plan the bundled Ehime demo week" in en
    assert "愛媛" not in en
    monkeypatch.setenv("DXSHARE_LANG", "en")
    assert _help(["match", "recommend", "--help"], capsys).startswith("usage:")


def test_argparse_errors_speak_japanese_too(no_lang_env, capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--workers"])
    assert "値が一つ必要です" in capsys.readouterr().err


@pytest.mark.parametrize(("lang", "expected", "absent"), [
    ("ja", ["現時点の最良の評価値 9,760", "上限 10,000", "2.4%"],
     ["目的関数", "上界", "gap", "証明済みの上限"]),
    ("en", ["best plan so far 9,760", "proven ceiling 10,000", "2.4% better"],
     ["objective", "bound", "gap"]),
])
def test_progress_lines_say_best_plan_and_proven_ceiling(lang, expected, absent, capsys):
    set_lang(lang)
    try:
        _progress_printer()(SimpleNamespace(objective=9760, bound=10000, phase="main",
                                            elapsed=1.5))
    finally:
        set_lang("ja")
    line = capsys.readouterr().err
    for text in expected:
        assert text in line
    for text in absent:
        assert text not in line


@pytest.mark.parametrize("module, argv", [
    ("service.cli_scenarios", ["scenarios", "run", "missing.yaml", "--lang", "en"]),
    ("service.cli_season", ["season", "plan", "missing.json", "--lang", "en"]),
])
def test_a_command_handler_leaves_the_callers_language_as_it_was(no_lang_env, module, argv):
    """A notebook (or a test) calling a command's handler with ``--lang en`` keeps speaking
    Japanese after it, as it does after ``main``: the language lasts as long as the command."""
    import argparse
    import importlib

    from service.i18n import current_lang

    parser = argparse.ArgumentParser(prog="dxshare")
    importlib.import_module(module).register(parser.add_subparsers(dest="command",
                                                                   required=True))
    args = parser.parse_args(argv)
    err = io.StringIO()
    code = args.handler(args, io.StringIO(), err)
    assert code != 0 and "missing" in err.getvalue()     # the command ran, in English
    assert current_lang() == "ja"


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "1 visit or consultation of 1 expert on 1 day, 1 request left out: too long"),
    ("ja", "専門家 1 名・1 日間で訪問・相談 1 件、未計画 1 件: 画面には長すぎる"),
])
def test_a_summarised_weeks_counts_read_in_the_singular_when_one(lang, expected):
    """A count of one reads ``1 visit``, ``1 day``, never ``1 visits``; Japanese counts as
    ever."""
    from service.i18n import using_lang
    from service.report import week_summary

    doc = json.loads((ROOT / "tests" / "data" / "two_towns.json").read_text(encoding="utf-8"))
    doc["requests"] = doc["requests"][:2]
    doc["requests"][1]["duration_min"] = 600              # no day holds it
    plan = solve_checked(doc)
    assert (len(plan.visits), len(plan.unscheduled)) == (1, 1)
    with using_lang(lang):
        text = week_summary(problem_of(doc), plan, "plan.json")
    assert expected in text, text
