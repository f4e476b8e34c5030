"""Words for people on the dashboard (issue 24): the plan's status as 最適（証明済み） or how
much better a plan could be, never a job hash or the planner's raw figures; no id, "null" or
"undefined" in what a person reads; form errors once, named by the form's own label;
candidates as 企業／個人; and a question before each step that cannot be undone (取消, 公開)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.web.conftest import Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _confirm, _css, _tab, _wait

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WEEK3 = "2026-12-21"
OZU = "382078"        # 大洲市
KUMAKOGEN = "383864"  # 久万高原町
MACHINE = re.compile(r"\b(?:null|undefined|NaN)\b|\[object|\bq[0-9a-f]{6,}\b|\b[0-9a-f]{8}\b")


@pytest.fixture(scope="module")
def week3(live: Live) -> dict[str, Any]:
    """Two submitted requests and a finished, unpublished plan of WEEK3."""
    with live.api("centre") as api:
        ids = []
        for muni, field, title in ((OZU, "data", "統計データの活用相談"),
                                   (KUMAKOGEN, "pr", "町の広報紙の相談")):
            r = api.post("/v1/requests", json={
                "municipality": muni, "fields": [field], "mode": "onsite", "duration_min": 60,
                "priority": 5, "earliest": WEEK3, "latest": "2026-12-25", "title": title,
                "submit": True})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        job = plan_and_publish(api, WEEK3, time_limit=5, publish=False)
        return {"requests": ids, "job": job}


def _open(browser: Any, live: Live, who: str, week: str) -> None:
    browser.get(f"{live.base}/#week={week}")
    _wait(browser, lambda d: _css(d, "#key").is_displayed())
    _css(browser, "#key").send_keys(live.keys[who])
    _css(browser, "#login-form button[type=submit]").click()
    _wait(browser, lambda d: _css(d, "#app").is_displayed()
          and _css(d, "#week-grid").get_attribute("data-week") == week)


def _readable(browser: Any) -> str:
    """All a person reads on the page: the visible text and every tooltip."""
    text = browser.execute_script("return document.body.innerText")
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('[title]')).map(e => e.title).join('\\n')")
    return f"{text}\n{titles}"


def test_the_plan_status_is_in_words_without_hashes(browser: Any, live: Live,
                                                    week3: dict[str, Any]) -> None:
    job, plan = week3["job"], week3["job"]["plan"]
    _open(browser, live, "centre", WEEK3)
    status = _wait(browser, lambda d: _css(d, "#plan-status").text
                   if _css(d, "#plan-status").get_attribute("data-status") == "done" else None)
    if plan["status"] == "optimal":
        assert "最適（証明済み）" in status
    else:
        assert re.search(r"あと最大 \d+\.\d % 改善の余地", status), status
    assert job["id"][:8] not in status and str(plan["objective"]) not in status
    assert "証明済みの上限" not in status and "現時点の最良の計画" not in status
    for view in ("week", "requests", "unscheduled", "experts", "matching", "outcomes"):
        _tab(browser, view)
        time.sleep(0.5)   # the matching and outcome views load when opened
        seen = _readable(browser)
        assert not MACHINE.search(seen), (view, MACHINE.search(seen))
        assert job["id"] not in seen and not any(q in seen for q in week3["requests"]), view
    shot(browser, "centre-words-status")


def test_cancel_and_publish_ask_first(browser: Any, live: Live,
                                      week3: dict[str, Any]) -> None:
    _open(browser, live, "centre", WEEK3)
    rid = week3["requests"][1]
    _tab(browser, "requests")
    cancel = f'#requests-table tr[data-id="{rid}"] td.actions button.danger'
    _css(browser, cancel).click()
    question = _confirm(browser, yes=False)
    assert "取り消しますか" in question and "久万高原町「町の広報紙の相談」" in question
    time.sleep(0.5)
    with live.api("centre") as api:
        assert api.get(f"/v1/requests/{rid}").json()["status"] == "submitted"
    _css(browser, cancel).click()
    _confirm(browser, yes=True)
    # cancelled once its own 取消 button is gone (the button's word alone says nothing yet)
    _wait(browser, lambda d: not _all(d, cancel)
          and "取消" in _css(d, f'#requests-table tr[data-id="{rid}"]').text)
    with live.api("centre") as api:
        assert api.get(f"/v1/requests/{rid}").json()["status"] == "cancelled"

    _tab(browser, "week")
    _wait(browser, lambda d: _css(d, "#publish").get_attribute("disabled") is None)
    _css(browser, "#publish").click()
    assert "公開しますか" in _confirm(browser, yes=False)
    time.sleep(0.5)
    with live.api("centre") as api:
        assert api.get(week3["job"]["url"]).json()["published_at"] is None
    assert "公開しました" not in _css(browser, "#message").text
    shot(browser, "centre-words-guards")


def test_need_form_error_names_its_label_once_and_candidates_say_kinds(
        browser: Any, live: Live) -> None:
    _open(browser, live, "matsuyama", "2026-12-07")
    _tab(browser, "matching")
    _wait(browser, lambda d: _all(d, "#candidates-table tbody tr"))
    kinds = {e.text for e in _all(browser, "#candidates-table small.kind")}
    assert kinds and kinds <= {"企業", "個人"}, kinds
    # a need with its dates the wrong way round: one line, by the form's label
    browser.execute_script("document.querySelector('#need-form input[name=start]').value = "
                           "'2027-09-30'; document.querySelector('#need-form "
                           "input[name=end]').value = '2027-04-01';"
                           "document.querySelector('#need-form input[name=effort_days]')"
                           ".value = '0';")
    _css(browser, "#save-need").click()
    _wait(browser, lambda d: _all(d, "#need-errors li"))
    errors = [e.text for e in _all(browser, "#need-errors li")]
    assert len(errors) == len(set(errors)), errors
    assert not any(re.search(r"\b(?:effort_days|start|end|body)\b", e) for e in errors), errors
    assert any(e.startswith("工数（人日）: ") for e in errors), errors
    shot(browser, "municipality-need-error")
