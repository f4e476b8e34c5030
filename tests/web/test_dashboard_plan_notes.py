"""The plan's notes on the dashboard, in headless Chromium against a real ``dxshare serve``:
the coordinator reads the notes of the plan it looks at (plan/1 ``messages_ja`` in Japanese,
``messages`` in English) under the plan's figures, for the latest plan and for the week's
published plan, and nothing where the plan has no note.

NOTES_WEEK is planned while 官民共創担当 (cocreation-1) may stay in 宇和島市 at a cost no plan of
a week can pay, so the plan keeps to day trips and says why; PLAIN_WEEK's plan has no note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _css, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NOTES_WEEK, PLAIN_WEEK = "2027-06-21", "2027-06-28"
EXPERT = "cocreation-1"
UWAJIMA, MATSUYAMA = "382035", "382019"
NIGHT_COST = 1_000_000


def _submit(api: Any, muni: str, week: str, title: str, **over: Any) -> None:
    body = {"municipality": muni, "fields": ["cocreation"], "mode": "onsite",
            "duration_min": 90, "priority": 10, "earliest": week,
            "latest": (dt.date.fromisoformat(week) + dt.timedelta(days=4)).isoformat(),
            "title": title, "submit": True, **over}
    r = api.post("/v1/requests", json=body)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def weeks(live: Live) -> Iterator[dict[str, Any]]:
    with live.api("centre") as api:
        r = api.patch(f"/v1/experts/{EXPERT}", json={
            "overnight": {"places": ["宇和島市"], "night_cost": NIGHT_COST, "max_nights": 1}})
        assert r.status_code == 200, r.text
        try:
            _submit(api, UWAJIMA, NOTES_WEEK, "宇和島の官民連携")
            noted = plan_and_publish(api, NOTES_WEEK, time_limit=5)
        finally:
            api.patch(f"/v1/experts/{EXPERT}", json={"overnight": None})
        _submit(api, MATSUYAMA, PLAIN_WEEK, "共創の進め方", mode="online", duration_min=60)
        plain = plan_and_publish(api, PLAIN_WEEK, time_limit=5)
        yield {"noted": noted, "plain": plain}


def _notes(browser: Any) -> Any:
    return _css(browser, "#plan-notes")


def test_the_plans_note_is_read_in_the_pages_language(browser: Any, live: Live,
                                                       weeks: dict[str, Any]) -> None:
    plan = weeks["noted"]["plan"]
    assert plan["solver"].get("nights") == "cannot pay", plan["solver"]
    (note_ja,), (note_en,) = plan["messages_ja"], plan["messages"]
    assert note_ja.startswith("今週は宿泊が割に合いません") and f"{NIGHT_COST:,}" in note_ja
    _open_week(browser, live, "centre", NOTES_WEEK)
    _wait(browser, lambda d: _notes(d).is_displayed())
    # as a person reads it: the heading, then the note itself, under the plan's figures
    assert _notes(browser).text.splitlines() == ["計画についてのお知らせ", note_ja]
    assert _css(browser, "#kpis").text and _css(browser, "#kpis").is_displayed()
    below = browser.execute_script(
        "return document.querySelector('#plan-notes').getBoundingClientRect().top"
        " >= document.querySelector('#kpis').getBoundingClientRect().bottom")
    assert below
    shot(browser, "plan-notes-ja")
    # the week's published plan (the same job, read as the published week) says it too
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#source")).select_by_value("published")
    _wait(browser, lambda d: "公開済み" in _css(d, "#week-source").text)
    assert _notes(browser).is_displayed()
    assert _notes(browser).text.splitlines() == ["計画についてのお知らせ", note_ja]
    _css(browser, "#lang").click()
    _wait(browser, lambda d: _notes(d).text.splitlines() == ["Notes on this plan", note_en])
    assert note_ja not in browser.execute_script("return document.body.innerText")
    shot(browser, "plan-notes-en")


def test_a_plan_without_notes_shows_none(browser: Any, live: Live,
                                         weeks: dict[str, Any]) -> None:
    """From the noted week to one whose plan has no note: the notes go with the plan."""
    plan = weeks["plain"]["plan"]
    assert not plan.get("messages") and not plan.get("messages_ja")
    _open_week(browser, live, "centre", NOTES_WEEK)
    _wait(browser, lambda d: _notes(d).is_displayed())
    browser.execute_script(
        "const w = document.querySelector('#week'); w.value = arguments[0];"
        " w.dispatchEvent(new Event('change'));", PLAIN_WEEK)
    _wait(browser, lambda d: _css(d, "#week-grid").get_attribute("data-week") == PLAIN_WEEK
          and _css(d, "#kpis").text)
    assert not _notes(browser).is_displayed()
    text = browser.execute_script("return document.body.innerText")
    assert "計画についてのお知らせ" not in text and "宿泊が割に合いません" not in text
    shot(browser, "plan-notes-none")


def test_a_failed_plan_says_why_once_in_the_pages_language(browser: Any, live: Live,
                                                           weeks: dict[str, Any]) -> None:
    """A plan job that ends without a plan keeps the planner's notes with its plan, and the
    service's reason repeats them in English ("no plan: …"): the status line speaks the page's
    language and, while the notes section shows them, points there instead of saying them
    twice; looking at the published plan instead, the status line says them itself."""
    done = weeks["noted"]
    (note_ja,), (note_en,) = done["plan"]["messages_ja"], done["plan"]["messages"]
    _open_week(browser, live, "centre", NOTES_WEEK)
    _wait(browser, lambda d: _notes(d).is_displayed())
    # the job as the service gives a failed one: its plan, and the plan's notes as the reason
    browser.execute_script(
        "state.job = {...arguments[0], status: 'failed', published_at: null,"
        " reason: 'no plan: ' + arguments[0].plan.messages.join('; ')};"
        " state.source = 'job'; renderJob();", done)
    status = _css(browser, "#plan-status")
    _wait(browser, lambda d: _css(d, "#plan-status").get_attribute("data-status") == "failed")
    assert status.text.startswith("計画: 失敗"), status.text
    assert status.text.endswith("理由は下のお知らせのとおりです"), status.text
    assert note_en not in status.text and note_ja not in status.text
    assert _notes(browser).text.splitlines() == ["計画についてのお知らせ", note_ja]
    page = browser.execute_script("return document.body.innerText")
    assert page.count(note_ja) == 1 and note_en not in page
    shot(browser, "plan-failed-ja")
    _css(browser, "#lang").click()
    _wait(browser, lambda d: _notes(d).text.splitlines() == ["Notes on this plan", note_en])
    assert _css(browser, "#plan-status").text.endswith("why: see the notes below")
    page = browser.execute_script("return document.body.innerText")
    assert page.count(note_en) == 1 and note_ja not in page
    # the notes section shows another plan: the status line gives the failed plan's notes
    browser.execute_script("state.source = 'published'; state.shown = null; renderJob();")
    _wait(browser, lambda d: not _notes(d).is_displayed())
    assert _css(browser, "#plan-status").text.endswith(note_en)
    assert "no plan:" not in _css(browser, "#plan-status").text
    _css(browser, "#lang").click()
    _wait(browser, lambda d: _css(d, "#plan-status").text.endswith(note_ja))
    assert note_en not in _css(browser, "#plan-status").text
