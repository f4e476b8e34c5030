"""The dashboard's views added for the programme's records, in headless Chromium against a
real ``dxshare serve``: the published view keeps the plan's unscheduled requests, an
expert's map draws only its own routes, the week grid shows per-day totals and contract
use, blackouts are stored and edited, the matching view and the outcomes page work per
role. The week used here (WEEK2) is planned and published through the API first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import KAMIJIMA, Live, plan_and_publish, shot
from tests.web.test_dashboard import _all, _confirm, _css, _tab, _wait

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WEEK2 = "2026-12-14"
TUE = "2026-12-15"
MATSUYAMA = "382019"
OZU = "382078"  # 大洲市


@pytest.fixture(scope="module")
def week2(live: Live) -> dict[str, Any]:
    """A published week with a joint visit (pr + data) on Tuesday, data's own visit the same
    day elsewhere, and an island request that cannot be reached in its window."""
    with live.api("centre") as api:
        def add(muni: str, **body: Any) -> str:
            r = api.post("/v1/requests", json={"municipality": muni, "mode": "onsite",
                                                "duration_min": 60, "priority": 10,
                                                "submit": True, **body})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        joint = add(MATSUYAMA, fields=["pr", "data"], earliest=TUE, latest=TUE,
                    title="広報とデータの合同相談")
        solo = add(OZU, fields=["data"], earliest=TUE, latest=TUE, title="統計の相談")
        stuck = add(KAMIJIMA, fields=["design"], earliest=WEEK2, latest="2026-12-18",
                    window=["08:30", "09:30"], title="朝の窓口改善")
        job = plan_and_publish(api, WEEK2, time_limit=10)
        return {"joint": joint, "solo": solo, "stuck": stuck, "plan": job["plan"],
                "job": job}


def _enter(browser: Any, live: Live, who: str) -> None:
    """Log in and wait for the page (a municipality's week may have no rows at all)."""
    browser.get(live.base + "/")
    _wait(browser, lambda d: _css(d, "#key").is_displayed())
    _css(browser, "#key").send_keys(live.keys[who])
    _css(browser, "#login-form button[type=submit]").click()
    _wait(browser, lambda d: _css(d, "#app").is_displayed()
          and _css(d, "#week-grid").get_attribute("data-count") is not None)


def _click(browser: Any, selector: str) -> None:
    """Click what the selector finds, finding it again if the page re-drew it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException

    def attempt(d: Any) -> bool:
        try:
            _css(d, selector).click()
            return True
        except StaleElementReferenceException:
            return False

    _wait(browser, attempt)


def _unscheduled_kpi(browser: Any) -> str | None:
    """The figure of the 未割当 KPI card as shown now (None while no such card is drawn or it is
    being replaced)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        texts = [k.text for k in _all(browser, "#kpis .kpi") if "未割当" in k.text]
    except StaleElementReferenceException:
        return None
    return texts[0].split()[0] if texts and texts[0].split() else None


def _open_week(browser: Any, live: Live, who: str, week: str) -> None:
    _enter(browser, live, who)
    browser.get(f"{live.base}/#week={week}")
    browser.refresh()
    _wait(browser, lambda d: _css(d, "#week-grid").get_attribute("data-week") == week)


def test_published_view_keeps_the_plans_unscheduled_requests(browser: Any, live: Live,
                                                             week2: dict) -> None:
    plan = week2["plan"]
    left = {u["request"] for u in plan["unscheduled"]}
    assert week2["stuck"] in left
    _open_week(browser, live, "centre", WEEK2)
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#source")).select_by_value("published")
    _wait(browser, lambda d: "公開済み" in _css(d, "#week-source").text)
    _tab(browser, "unscheduled")
    _wait(browser, lambda d: len(_all(d, "#unscheduled-list > li[data-request]")) == len(left))
    shown = {li.get_attribute("data-request") for li in
             _all(browser, "#unscheduled-list > li[data-request]")}
    assert shown == left
    # The KPI cards are drawn again after the list: read them once they show this plan
    # (a card read while being replaced goes stale and is read again).
    want = str(plan["kpis"]["unscheduled"])
    _wait(browser, lambda d: _unscheduled_kpi(d) == want)
    shot(browser, "centre-published-unscheduled")


def test_expert_map_draws_only_its_own_routes(browser: Any, live: Live, week2: dict) -> None:
    visits = {v["request"]: v for v in week2["plan"]["visits"]}
    assert week2["joint"] in visits and week2["solo"] in visits
    assert visits[week2["joint"]]["date"] == visits[week2["solo"]]["date"] == TUE
    _open_week(browser, live, "pr", WEEK2)
    _tab(browser, "map")
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#map-day")).select_by_value(TUE)
    routes = _all(browser, "#map g.route")
    assert [r.get_attribute("data-expert") for r in routes] == ["pr-1"]
    items = _all(browser, "#route-list li")
    assert len(items) == 1 and "広報担当" in items[0].text
    shot(browser, "expert-map-own-route")


def test_week_grid_shows_totals_and_contract_use(browser: Any, live: Live,
                                                 week2: dict) -> None:
    _open_week(browser, live, "centre", WEEK2)
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#source")).select_by_value("published")
    _wait(browser, lambda d: "公開済み" in _css(d, "#week-source").text)
    with live.api("centre") as api:
        visits = api.get("/v1/visits", params={"week": WEEK2}).json()
        experts = {e["id"]: e for e in api.get("/v1/experts").json()}
    data_onsite = [v for v in visits if "data-1" in v["experts"] and v["mode"] == "onsite"]
    head = _css(browser, '.expert-head[data-expert="data-1"]')
    days = head.find_element("css selector", '.cap[data-cap="onsite-days"]')
    assert int(days.get_attribute("data-n")) == len({v["date"] for v in data_onsite})
    assert int(days.get_attribute("data-max")) == experts["data-1"]["max_onsite_days"]
    total = head.find_element("css selector", '.cap[data-cap="visits-total"]')
    assert int(total.get_attribute("data-n")) == len(data_onsite)
    cell = _css(browser, f'.cell[data-expert="data-1"][data-date="{TUE}"]')
    per_day = cell.find_element("css selector", '.cap[data-cap="per-day"]')
    assert int(per_day.get_attribute("data-n")) == sum(1 for v in data_onsite
                                                       if v["date"] == TUE) == 2
    day_total = _css(browser, f'.cell.totals[data-date="{TUE}"]')
    assert int(day_total.get_attribute("data-visits")) == sum(1 for v in visits
                                                              if v["date"] == TUE)
    # names, never ids, in the blocks' details
    block = _css(browser, f'.visit[data-request="{week2["joint"]}"]')
    assert week2["joint"] not in (block.get_attribute("title") or "")
    assert "松山市" in block.get_attribute("title")
    shot(browser, "centre-week-totals")


def test_centre_stores_and_removes_a_blackout(browser: Any, live: Live, week2: dict) -> None:
    _open_week(browser, live, "centre", WEEK2)
    _tab(browser, "experts")
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#blackout-form select[name=date]")).select_by_value("2026-12-16")
    Select(_css(browser, "#blackout-form select[name=expert]")).select_by_value("design-1")
    _css(browser, "#blackout-form input[name=reason]").send_keys("DXキャンプ")
    _css(browser, "#add-blackout").click()
    _wait(browser, lambda d: len(_all(d, "#blackouts-list li[data-id]")) == 1)
    with live.api("centre") as api:
        stored = api.get("/v1/blackouts", params={"from": WEEK2, "to": "2026-12-18"}).json()
    assert [(b["date"], b["experts"], b["reason"]) for b in stored] == \
        [("2026-12-16", ["design-1"], "DXキャンプ")]
    _tab(browser, "week")
    cell = _css(browser, '.cell[data-expert="design-1"][data-date="2026-12-16"]')
    assert "blackout" in cell.get_attribute("class") and "DXキャンプ" in cell.text
    shot(browser, "centre-blackout")
    _tab(browser, "experts")
    _click(browser, "#blackouts-list li[data-id] button")
    assert "削除しますか" in _confirm(browser)
    _wait(browser, lambda d: not _all(d, "#blackouts-list li[data-id]"))
    with live.api("centre") as api:
        assert api.get("/v1/blackouts", params={"from": WEEK2}).json() == []


def test_municipality_matching_view_shows_only_its_own(browser: Any, live: Live) -> None:
    _enter(browser, live, "matsuyama")
    _tab(browser, "matching")
    with live.api("matsuyama") as api:
        needs = api.get("/v1/matching/needs").json()
        first = needs[0]["id"]
        recs = api.get(f"/v1/matching/needs/{first}/recommendations",
                       params={"k": 10}).json()["candidates"]
        view = api.get("/v1/matching/assignment").json()
    _wait(browser, lambda d: len(_all(d, "#needs-list button[data-need]")) == len(needs))
    _wait(browser, lambda d: len(_all(d, "#candidates-table tbody tr")) == len(recs))
    rows = _all(browser, "#candidates-table tbody tr")
    assert [r.get_attribute("data-candidate") for r in rows] == [c["candidate"] for c in recs]
    assert recs[0]["explanation_ja"] in rows[0].text
    assert len(rows[0].find_elements("css selector", ".part")) == 7
    _wait(browser, lambda d: _all(d, "#assigned-table tr") or _all(d, "#unserved-list li"))
    shown = {r.get_attribute("data-need") for r in
             _all(browser, "#assigned-table tr[data-need]") + _all(browser, "#unserved-list li")}
    assert shown == {x["need"] for x in view["assigned"] + view["unserved"]}
    assert shown <= {n["id"] for n in needs}
    _wait(browser, lambda d: len(_all(d, "#peers-list li")) == 5)
    communities = _all(browser, "#communities-list li")
    assert len(communities) == 1 and "松山市" in communities[0].text
    shot(browser, "municipality-matching")

    # it files a need of its own from the page
    f = "#need-form "
    _css(browser, f + "input[name=title]").send_keys("観光データの可視化")
    _css(browser, f + "input[name=topics]").send_keys("data-dashboard, ebpm")
    browser.execute_script("document.querySelector('#need-form input[name=start]').value = "
                           "'2027-04-01'; document.querySelector('#need-form "
                           "input[name=end]').value = '2027-09-30';")
    _css(browser, "#save-need").click()
    _wait(browser, lambda d: len(_all(d, "#needs-list button[data-need]")) == len(needs) + 1)
    with live.api("matsuyama") as api:
        mine = api.get("/v1/matching/needs").json()
    new = next(n for n in mine if n["title"] == "観光データの可視化")
    assert new["municipality"] == MATSUYAMA and new["topics"] == ["data-dashboard", "ebpm"]

    # and edits, then withdraws it
    _click(browser, f'#needs-list button[data-need="{new["id"]}"]')
    _wait(browser, lambda d: _all(d, f'#edit-need[data-need="{new["id"]}"]'))
    _click(browser, f'#edit-need[data-need="{new["id"]}"]')
    title = _css(browser, f + "input[name=title]")
    _wait(browser, lambda d: title.get_attribute("value") == "観光データの可視化")
    title.clear()
    title.send_keys("観光データの可視化（第2期）")
    _css(browser, "#save-need").click()
    _wait(browser, lambda d: "第2期" in _css(d, "#needs-list").text)
    with live.api("matsuyama") as api:
        assert api.get(new["url"]).json()["title"] == "観光データの可視化（第2期）"
    _click(browser, f'#withdraw-need[data-need="{new["id"]}"]')
    assert "取り下げますか" in _confirm(browser)
    _wait(browser, lambda d: len(_all(d, "#needs-list button[data-need]")) == len(needs))
    with live.api("matsuyama") as api:
        assert api.get(new["url"]).status_code == 404


def test_centre_assignment_with_fairness_options(browser: Any, live: Live) -> None:
    _enter(browser, live, "centre")
    _tab(browser, "matching")
    _wait(browser, lambda d: _all(d, "#needs-list button[data-need]"))
    _css(browser, "#as-floor").click()
    _css(browser, "#run-assignment").click()
    with live.api("centre") as api:
        res = api.get("/v1/matching/assignment", params={"floor": True}).json()
    _wait(browser, lambda d: len(_all(d, "#assigned-table tr[data-need]")) == len(res["assigned"]))
    unserved = _all(browser, "#unserved-list li")
    assert len(unserved) == len(res["unserved"])
    text = " ".join(u.text for u in unserved)
    assert not any(f"{x}-1" in text for x in ("pr", "data", "design", "security"))


def test_municipality_records_an_outcome(browser: Any, live: Live, week2: dict) -> None:
    _open_week(browser, live, "matsuyama", WEEK2)
    _tab(browser, "outcomes")
    with live.api("matsuyama") as api:
        visit = next(v for v in api.get("/v1/visits", params={"week": WEEK2}).json()
                     if v["request"] == week2["joint"])
    row_sel = f'#outcomes-table tr[data-visit="{visit["id"]}"]'
    _wait(browser, lambda d: _all(d, row_sel))
    row = _css(browser, row_sel)
    row.find_element("css selector", "input[name=held]").click()
    from selenium.webdriver.support.ui import Select

    Select(row.find_element("css selector", "select[name=satisfaction]")).select_by_value("5")
    row.find_element("css selector", "input[name=notes]").send_keys("次回は庁内研修を希望")
    row.find_element("css selector", "button.save-outcome").click()
    _wait(browser, lambda d: "成果を記録しました" in _css(d, "#message").text)
    with live.api("matsuyama") as api:
        got = api.get(visit["url"]).json()
        season = api.get("/v1/outcomes").json()["season"]
    assert (got["held"], got["satisfaction"], got["notes"]) == (True, 5, "次回は庁内研修を希望")
    _wait(browser, lambda d: _css(d, "#satisfaction-share").get_attribute("data-share")
          == str(season["satisfaction_share"]).rstrip("0").rstrip(".")
          or float(_css(d, "#satisfaction-share").get_attribute("data-share") or -1)
          == season["satisfaction_share"])
    shot(browser, "municipality-outcomes")


def test_centre_uploads_a_table_and_reads_each_problem(browser: Any, live: Live,
                                                       tmp_path: Any) -> None:
    """Runs last: it replaces the stored conflicts table of the shared server."""
    bad = tmp_path / "利益相反.csv"
    bad.write_text("候補者,自治体,理由\nC001,松山市,保守委託先\nC002,アトランティス,不明\n",
                   encoding="utf-8")
    good = tmp_path / "conflicts.csv"
    good.write_text("候補者,自治体,理由\nC001,松山市,保守委託先\nC003,今治市,出資関係\n",
                    encoding="utf-8")
    _enter(browser, live, "centre")
    _tab(browser, "matching")
    from selenium.webdriver.support.ui import Select

    Select(_css(browser, "#upload-form select[name=table]")).select_by_value("conflicts")
    _css(browser, "#upload-form input[name=file]").send_keys(str(bad))
    _css(browser, "#upload").click()
    _wait(browser, lambda d: _all(d, "#upload-errors li[data-path]"))
    paths = [li.get_attribute("data-path") for li in _all(browser, "#upload-errors li[data-path]")]
    assert paths == ["利益相反.csv row 3, column 'municipality'"]
    with live.api("centre") as api:
        before = api.get("/v1/matching/tables/conflicts").json()
    assert all(c["municipality"] != "アトランティス" for c in before)
    Select(_css(browser, "#upload-form select[name=table]")).select_by_value("conflicts")
    _css(browser, "#upload-form input[name=file]").send_keys(str(good))
    _css(browser, "#upload").click()
    _wait(browser, lambda d: "2 件を取り込みました" in _css(d, "#message").text)
    with live.api("centre") as api:
        after = api.get("/v1/matching/tables/conflicts").json()
    assert [(c["candidate"], c["municipality"]) for c in after] == \
        [("C001", MATSUYAMA), ("C003", "382027")]
    shot(browser, "centre-upload")


WEEK3 = "2027-01-18"   # its own week: another module plans 2026-12-21


@pytest.fixture(scope="module")
def closed_town(live: Live) -> dict[str, Any]:
    """WEEK3 planned and published, then Matsuyama's town hall closed on the day of its
    visit: the visit moves, and the event's messages wait in the outbox (the experts have an
    e-mail address, Matsuyama none: the centre calls it)."""
    with live.api("centre") as api:
        r = api.post("/v1/requests", json={
            "municipality": MATSUYAMA, "fields": ["cocreation"], "mode": "onsite",
            "duration_min": 60, "priority": 9, "earliest": WEEK3, "latest": "2027-01-22",
            "title": "協働の進め方", "submit": True})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        plan_and_publish(api, WEEK3, time_limit=10)
        visits = api.get("/v1/visits", params={"week": WEEK3}).json()
        v = next(x for x in visits if x["request"] == rid)
        others = [x["request"] for x in visits if x["request"] != rid]
        for e in api.get("/v1/experts").json():
            assert api.put(f"/v1/contacts/expert/{e['id']}",
                           json={"email": f"{e['id']}@example.jp"}).status_code == 200
        r = api.post("/v1/events", json={
            "kind": "location_closed", "now": f"{WEEK3}T07:00", "location": MATSUYAMA,
            "date": v["date"], "from": "07:00", "until": "20:00", "reason": "台風"})
        assert r.status_code == 201, r.text
        moved = next(x for x in api.get("/v1/visits", params={"week": WEEK3}).json()
                     if x["request"] == rid)
        assert moved["date"] != v["date"] and moved["changed"] is True
    return {"rid": rid, "others": others, "messages": r.json()["messages"]}


@pytest.mark.slow
def test_a_visit_an_event_moved_is_marked_changed(browser: Any, live: Live,
                                                   closed_town: dict) -> None:
    """After a closed town hall moves its visit, the municipality sees it tagged 変更あり on its
    next load; a visit the event left alone is not."""
    rid = closed_town["rid"]
    _open_week(browser, live, "matsuyama", WEEK3)
    tag = _wait(browser, lambda d: _all(d, f'#week-grid .visit[data-request="{rid}"] .tag.changed'))
    assert tag[0].text == "変更あり"
    for other in closed_town["others"]:
        assert not _all(browser, f'#week-grid .visit[data-request="{other}"] .tag.changed')
    shot(browser, "visit-changed")


def _messages(browser: Any) -> dict[str, Any]:
    _click(browser, '#tabs button[data-view="messages"]')
    _wait(browser, lambda d: _css(d, "#view-messages").is_displayed()
          and _css(d, "#messages-list").get_attribute("data-week") == WEEK3)
    return {li.get_attribute("data-message"): li
            for li in _all(browser, "#messages-list li[data-message]")}


@pytest.mark.slow
def test_the_people_to_tell_are_listed_with_whom_to_call(browser: Any, live: Live,
                                                         closed_town: dict) -> None:
    """The 連絡 view lists the event's messages of the week: to call (連絡が必要: no address),
    waiting to be sent (未送信) or sent (送信済み), with counts; a municipality sees its own."""
    msgs = {m["message_id"]: m for m in closed_town["messages"]}
    call = [m for m in msgs.values() if m["needs_call"]]
    assert call and any(not m["needs_call"] for m in msgs.values())
    _open_week(browser, live, "centre", WEEK3)
    shown = _messages(browser)
    assert set(shown) == set(msgs)
    for mid, li in shown.items():
        want = "needs_call" if msgs[mid]["needs_call"] else "unsent"
        assert li.get_attribute("data-status") == want
        assert li.find_element("css selector", ".tag").text == (
            "連絡が必要" if want == "needs_call" else "未送信")
    assert _css(browser, '#messages-summary [data-status="needs_call"] b').text == str(len(call))
    matsuyama = next(li for mid, li in shown.items()
                     if msgs[mid]["recipient"] == MATSUYAMA)
    assert "松山市" in matsuyama.text and "台風" in matsuyama.get_attribute("textContent")
    shot(browser, "messages-centre")
    _click(browser, "#logout")
    _open_week(browser, live, "matsuyama", WEEK3)
    own = _messages(browser)
    assert set(own) == {mid for mid, m in msgs.items() if m["recipient"] == MATSUYAMA}
