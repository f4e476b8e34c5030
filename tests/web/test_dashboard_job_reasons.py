"""A plan job that ended without a plan, on the dashboard's status line, in headless Chromium
against a real ``dxshare serve``: it says why in the page's language (the service's
``reason_ja`` on the Japanese page, ``reason`` on the English one, and ``reason`` where a job
failed before the service kept a Japanese one), and it never speaks of a plan's quality
(最適（証明済み）, あと最大 … % 改善の余地) from the progress its search had made before it
failed or was cancelled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.errors import InputError, Problem
from service.jobs.reasons import cancelled, invalid_input, solver_error
from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _css, _wait
from tests.web.test_dashboard_views import _open_week

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REASON_WEEK = "2027-07-12"   # its own week: no other module plans it
MATSUYAMA = "382019"
QUALITY = ("最適（証明済み）", "改善の余地", "公開済みの訪問の一部を外しました",
           "optimal (proven)", "better possible", "could still improve")

REASONS = {
    "solver": solver_error(KeyError("expert 'pr-1' has no day 2027-07-12")),
    "input": invalid_input(InputError([Problem(
        "requests[0].duration_min", "must be > 0", "0 より大きい値にしてください")])),
}


@pytest.fixture(scope="module")
def done(live: Live) -> Iterator[dict[str, Any]]:
    """A done, unpublished job of REASON_WEEK, as the service gives it."""
    with live.api("centre") as api:
        r = api.post("/v1/requests", json={
            "municipality": MATSUYAMA, "fields": ["pr"], "mode": "online", "duration_min": 60,
            "priority": 5, "earliest": REASON_WEEK, "latest": "2027-07-16",
            "title": "広報の相談", "submit": True})
        assert r.status_code == 201, r.text
        job = plan_and_publish(api, REASON_WEEK, time_limit=5, publish=False)
    assert "reason_ja" in job and job["reason_ja"] is None
    yield job


def _show(browser: Any, job: dict[str, Any]) -> str:
    """Render ``job`` as the week's latest job; the status line once it shows it."""
    browser.execute_script("state.job = arguments[0]; state.source = 'job'; renderJob();", job)
    _wait(browser, lambda d: _css(d, "#plan-status").get_attribute("data-status")
          == job["status"])
    return _css(browser, "#plan-status").text


def _failed(done: dict[str, Any], en: str, ja: str | None, *,
            status: str = "failed") -> dict[str, Any]:
    """A job that ended without a plan after its search had found one as good as its
    ceiling (the progress a solve writes as it goes)."""
    objective = done["plan"]["objective"]
    return {**done, "status": status, "plan": None, "published_at": None,
            "progress": {"elapsed": 3.2, "objective": objective, "bound": objective,
                         "solutions": 4, "phase": "search"},
            "reason": en, "reason_ja": ja}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_a_failed_job_says_why_in_the_pages_language(browser: Any, live: Live,
                                                     done: dict[str, Any], kind: str) -> None:
    en, ja = REASONS[kind]
    _open_week(browser, live, "centre", REASON_WEEK)
    text = _show(browser, _failed(done, en, ja))
    assert text.startswith("計画: 失敗"), text
    assert text.endswith(ja), text
    assert en not in text and not any(w in text for w in QUALITY), text
    shot(browser, f"job-reason-{kind}-ja")
    _css(browser, "#lang").click()
    _wait(browser, lambda d: _css(d, "#plan-status").text.endswith(en))
    text = _css(browser, "#plan-status").text
    assert ja not in text and not any(w in text for w in QUALITY), text
    _css(browser, "#lang").click()   # back to Japanese for the next test
    _wait(browser, lambda d: _css(d, "#plan-status").text.endswith(ja))


def test_a_job_failed_before_japanese_reasons_shows_its_english_one(
        browser: Any, live: Live, done: dict[str, Any]) -> None:
    en = "worker failed: CommClosedError: in <TCP (closed)>: Stream is closed"
    _open_week(browser, live, "centre", REASON_WEEK)
    text = _show(browser, _failed(done, en, None))
    assert text.startswith("計画: 失敗") and text.endswith(en), text
    assert "null" not in text and "undefined" not in text


def test_a_cancelled_job_claims_no_quality_for_its_search(browser: Any, live: Live,
                                                          done: dict[str, Any]) -> None:
    """Cancelled mid-search, the job's progress had an objective below its ceiling: the
    status line names neither that gap nor a proof, only that the centre stopped it."""
    en, ja = cancelled()
    job = _failed(done, en, ja, status="cancelled")
    job["progress"]["bound"] = job["progress"]["objective"] + 500
    _open_week(browser, live, "centre", REASON_WEEK)
    text = _show(browser, job)
    assert text.startswith("計画: 中止") and text.endswith("センターが中止しました"), text
    assert not any(w in text for w in QUALITY), text
    # the same progress on a job still running is the search's own news, and is said
    text = _show(browser, {**job, "status": "running", "reason": None, "reason_ja": None})
    assert "改善の余地" in text, text
