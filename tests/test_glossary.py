"""One word for one thing: docs/GLOSSARY.md, the catalogue and every output agree."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
from babel.messages.pofile import read_po

from service.cli import main
from service.glossary import (
    JOB_STATES,
    KPI_NAMES,
    REQUEST_STATES,
    RETIRED,
    STATE_CONTEXTS,
    STATUS_WORDS,
    TERMS,
    figure_text,
    kpi_name,
    state_word,
)
from service.i18n import LOCALE_DIR, set_lang, translator

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"


def _glossary_rows() -> list[tuple[str, str, str]]:
    """(English, 日本語, the catalogue's context or "") of every table row of the glossary."""
    rows = []
    header: list[str] = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        if not header:
            header = cells
        elif not set(cells[0]) <= {"-"}:
            context = cells[header.index("context")] if "context" in header else ""
            rows.append((cells[header.index("English")], cells[header.index("日本語")], context))
    return rows


def test_the_glossary_says_what_the_catalogue_says():
    ja = translator("ja")
    rows = _glossary_rows()
    assert len(rows) > 30
    for english, japanese, context in rows:
        said = ja.pgettext(context, english) if context else ja.gettext(english)
        assert said == japanese, (context, english)
    listed = {e for e, _, c in rows if not c}
    for word in (*KPI_NAMES.values(), *STATUS_WORDS.values(), *TERMS.values()):
        assert word in listed, f"{word!r} is missing from docs/GLOSSARY.md"
    states = {(c, e) for e, _, c in rows if c}
    for kind, words in (("job", JOB_STATES), ("request", REQUEST_STATES)):
        for word in words.values():
            assert (STATE_CONTEXTS[kind], word) in states, f"{kind} state {word!r} is missing"


def test_states_read_as_the_dashboard_names_them():
    """The service's words for a state are the dashboard's (service/static/app.js: ``j_*``
    for plan jobs, ``s_*`` for requests), in both languages."""
    page = (ROOT / "service" / "static" / "app.js").read_text(encoding="utf-8")
    ja_part, en_part = page.split("\n  en: {", 1)
    for kind, prefix, states in (("job", "j_", JOB_STATES), ("request", "s_", REQUEST_STATES)):
        for status in states:
            for lang, part in (("ja", ja_part), ("en", en_part)):
                said = re.search(rf'\b{prefix}{status}: "([^"]*)"', part)
                assert said is not None, (prefix, status, lang)
                assert state_word(kind, status, lang) == said.group(1), (kind, status, lang)


def test_the_dashboard_names_a_plans_notes_as_the_catalogue_does():
    """The heading of a plan's notes on the dashboard (service/static/app.js ``plan_notes``)
    is the glossary's word, in both languages: not メモ / Notes, a visit's outcome notes."""
    page = (ROOT / "service" / "static" / "app.js").read_text(encoding="utf-8")
    ja_part, en_part = page.split("\n  en: {", 1)
    for lang, part in (("ja", ja_part), ("en", en_part)):
        said = re.search(r'\bplan_notes: "([^"]*)"', part)
        assert said is not None, lang
        assert translator(lang).gettext(TERMS["plan_notes"]) == said.group(1), lang


def test_no_retired_word_is_left_in_the_catalogue():
    catalog = read_po((LOCALE_DIR / "ja" / "LC_MESSAGES" / "dxshare.po").open("rb"))
    texts = [m.string for m in catalog if m.id]
    for word in RETIRED:
        assert not [t for t in texts if word in t], word


def test_no_retired_word_is_left_on_the_dashboard():
    page = (Path(__file__).resolve().parents[1] / "service" / "static" / "app.js").read_text(
        encoding="utf-8")
    for word in RETIRED:
        assert word not in page, word


@pytest.mark.parametrize(("key", "value", "text"), [
    ("small_town_share", 0.485, "48.5%"), ("coverage", 1.0, "100.0%"),
    ("visits", 396.0, "396"), ("drive_minutes", 1895, "1,895"), ("objective", None, ""),
])
def test_shares_read_as_percentages_and_counts_as_whole_numbers(key, value, text):
    assert figure_text(key, value) == text


def test_a_sum_of_priority_and_a_share_of_it_have_two_words():
    set_lang("ja")
    assert kpi_name("served_priority") == "優先度合計"
    assert kpi_name("served_priority_share") == "優先度の充足率"


@pytest.fixture(scope="module")
def demo_outputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("words")
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["plan", "--demo", "--out", str(d / "plan.json"), "--csv", str(d / "csv"),
                   "--xlsx", str(d / "plan.xlsx"), "--time-limit", "60", "--quiet"])
    assert rc == 0
    return d, buf.getvalue()


def test_the_terminal_names_experts_and_explains_priority(demo_outputs):
    _, text = demo_outputs
    assert "■ デザイン担当" in text and "design-1" not in text
    assert not re.search(r"\bp\d+\b", text)            # 優先度 5, never p5
    assert "優先度 5" in text and "（依頼 r040）" in text
    assert text.startswith("状態: 最適（証明済み）") or text.startswith("状態: 暫定")
    for word in RETIRED:
        assert word not in text


def test_the_kpi_sheet_and_the_terminal_use_the_same_words(demo_outputs):
    d, text = demo_outputs
    wb = openpyxl.load_workbook(d / "plan.xlsx")
    kpis = {r[0]: r[1] for r in wb["KPI"].iter_rows(min_row=2, values_only=True)}
    assert isinstance(kpis["優先度合計"], int)
    assert f"優先度合計: {kpis['優先度合計']}" in text
    assert "優先度の充足率" not in kpis
    visits = next(wb["訪問・相談"].iter_rows(min_row=1, max_row=1, values_only=True))
    assert visits[:4] == ("日付", "開始", "終了", "自治体")


def test_weekly_csv_files_speak_japanese_names_first_ids_last(demo_outputs):
    d, _ = demo_outputs
    raw = (d / "csv" / "visits.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    header = list(rows[0])
    assert header[:4] == ["日付", "開始", "終了", "自治体"]
    assert header[-3:] == ["依頼", "自治体コード", "専門家 ID"]
    assert {r["形態"] for r in rows} <= {"訪問", "オンライン"}
    assert not any("-" in r["専門家"] and r["専門家"].split("-")[-1].isdigit() for r in rows)
    routes = list(csv.DictReader((d / "csv" / "routes.csv").read_text("utf-8-sig")
                                 .splitlines()))
    assert routes[0]["専門家"].endswith("担当") and routes[0]["専門家 ID"]


def test_english_output_uses_the_english_words(tmp_path, capsys):
    req = tmp_path / "w.json"
    main(["example", "--out", str(req)])
    assert main(["--lang", "en", "plan", str(req), "--out", str(tmp_path / "p.json"),
                 "--quiet", "--time-limit", "30"]) == 0
    text = capsys.readouterr().out
    assert "plan score:" in text and "ceiling:" in text and "priority total:" in text
    assert "(request r040)" in text
