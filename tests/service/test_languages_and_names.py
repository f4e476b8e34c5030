"""The API speaks Japanese by default (English on request), takes municipalities and fields
by name wherever it takes a code, and a re-plan says what changed (issue 13)."""

from __future__ import annotations

from tests.service.conftest import Service, plan_and_publish, wait_job

WEEK = "2027-02-01"   # a Monday of its own: the other tests' weeks stay as they are


def _bad_request(service: Service, headers: dict[str, str]) -> dict:
    body = {"municipality": "382019", "fields": ["pr"], "mode": "online", "duration_min": 0,
            "priority": 11, "earliest": WEEK, "latest": "2027-02-05"}
    r = service.client.post("/v1/requests", json=body, headers=headers)
    assert r.status_code == 422, r.text
    return r.json()


def test_validation_details_are_japanese_by_default_and_english_on_request(service: Service):
    auth = {"Authorization": f"Bearer {service.keys['centre']}"}
    ja = _bad_request(service, auth)
    assert ja["title"] == "入力内容に誤りがあります"
    assert ja["detail"] == "duration_min: 0 より大きい必要があります (他 1 件)"
    assert {e["path"]: e["message"] for e in ja["errors"]} == {
        "duration_min": "0 より大きい必要があります", "priority": "10 以下である必要があります"}
    en = _bad_request(service, {**auth, "Accept-Language": "en"})
    assert {e["path"]: e["message"] for e in en["errors"]} == {
        "duration_min": "must be greater than 0", "priority": "must be at most 10"}
    r = service.client.get("/v1/municipalities/none-such", headers=auth)
    assert r.status_code == 404 and r.json()["title"] == "見つかりません"
    r = service.client.get("/v1/no-such-route", headers=auth)
    assert r.status_code == 404 and r.json()["detail"] == "見つかりません"


def test_what_a_404_did_not_find_is_named_in_the_readers_language(service: Service):
    for url, ja, en in (
            ("/v1/experts/nobody", "専門家 'nobody' は見つかりません", "no expert 'nobody'"),
            ("/v1/plan-jobs/none", "計画ジョブ 'none' は見つかりません", "no plan job 'none'"),
            ("/v1/requests/r999/slot-pick", "依頼 'r999' は見つかりません", "no request 'r999'"),
            ("/v1/visits/999999", "訪問 999999 は見つかりません", "no visit 999999")):
        got = {lang: service.client.get(url, headers=service.h("centre", lang)).json()
               for lang in ("ja", "en")}
        assert (got["ja"]["detail"], got["en"]["detail"]) == (ja, en), (url, got)


def _details(service: Service, who: str, url: str, body: object = None) -> tuple[str, str]:
    """(日本語, English) of the problem ``POST url`` answers, which must be a 409."""
    got = [service.client.post(url, json=body, headers=service.h(who, lang))
           for lang in ("ja", "en")]
    assert [r.status_code for r in got] == [409, 409], [r.text for r in got]
    return got[0].json()["detail"], got[1].json()["detail"]


def test_a_409_names_the_state_as_the_page_does(service: Service):
    doc = {"format": "plan-request/1", "horizon": {"start": "2027-02-08", "end": "2027-02-12"},
           "locations": [{"id": "x", "name": "X"}],
           "experts": [{"id": "e", "fields": ["pr"], "base": "x"}],
           "requests": [{"id": "r1", "location": "x", "fields": ["pr"], "mode": "online",
                         "duration_min": 30, "priority": 5}]}
    job = wait_job(service, service.post("centre", "/v1/plan-jobs", doc).json()["url"])
    assert job["status"] == "done"
    assert _details(service, "centre", f"{job['url']}/cancel") == (
        "計画ジョブは既に完了です", "the plan job is already done")
    q = service.new_request("a", submit=True)
    assert _details(service, "a", f"/v1/requests/{q['id']}/done") == (
        "提出済の依頼は完了にできません（計画済の依頼のみ）",
        "a submitted request cannot become done (only a scheduled one)")
    service.post("a", f"/v1/requests/{q['id']}/cancel")
    assert _details(service, "a", f"/v1/requests/{q['id']}/submit") == (
        "取消の依頼は提出済にできません（下書きの依頼のみ）",
        "a cancelled request cannot become submitted (only a draft one)")
    got = service.client.patch(f"/v1/requests/{q['id']}", json={"priority": 2},
                               headers=service.h("a", "ja"))
    assert got.status_code == 409 and got.json()["detail"] == "取消の依頼は編集できません"
    assert _details(service, "a", f"/v1/requests/{q['id']}/slot-proposals")[0] == (
        "取消の依頼には候補を出せません")


def test_municipalities_and_fields_by_name_in_every_route(service: Service):
    for name in ("上島町", "上島", "Kamijima", "383562"):
        r = service.get("centre", f"/v1/municipalities/{name}")
        assert r.status_code == 200 and r.json()["code"] == "383562", (name, r.text)
    made = service.new_request("centre", municipality="松山市", fields=["データ活用", "広報"],
                               earliest=WEEK, latest="2027-02-05")
    assert made["municipality"] == "382019" and made["fields"] == ["data", "pr"]
    peers = service.get("centre", "/v1/matching/peers", params={"municipality": "Kamijima"})
    assert peers.status_code == 200 and peers.json()["municipality"] == "383562"
    audit = service.get("centre", "/v1/audit", params={"municipality": "今治市", "limit": 5})
    assert audit.status_code == 200
    assert all(a["municipality"] == "382027" for a in audit.json())
    unknown = service.post(
        "centre", "/v1/requests", {"municipality": "東京都", "fields": ["pr"], "mode": "online",
                                   "duration_min": 60, "priority": 5, "earliest": WEEK,
                                   "latest": "2027-02-05"})
    assert unknown.status_code == 422 and "東京都" in unknown.text


def test_a_replan_lists_what_changed_since_the_published_plan(service: Service):
    first = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60,
                                priority=6, earliest=WEEK, latest="2027-02-05", submit=True)
    job = plan_and_publish(service, WEEK)
    assert "changes" not in job["plan"]
    added = service.new_request("b", fields=["data"], earliest=WEEK, latest="2027-02-05",
                                submit=True)
    again = wait_job(service, service.post("centre", "/v1/plan-jobs",
                                           {"week": WEEK, "time_limit": 10}).json()["url"])
    assert again["status"] == "done"
    changes = {c["request"]: c for c in again["plan"]["changes"]}
    planned = {v["request"] for v in again["plan"]["visits"]}
    assert (added["id"] in changes) == (added["id"] in planned)
    if added["id"] in changes:
        c = changes[added["id"]]
        assert (c["kind"], c["location"], c["before"]) == ("added", "382027", None)
    assert first["id"] not in changes or changes[first["id"]]["kind"] == "moved"


def test_a_request_reads_as_the_sheet_reads_it(service: Service):
    """訪問, 2027/2/2, a long consultation and no priority: what the centre's sheet accepts,
    the API accepts too, with the same limits (engine.readings)."""
    from engine.readings import MAX_DURATION_MIN, PRIORITY_DEFAULT

    auth = {"Authorization": f"Bearer {service.keys['centre']}"}
    body = {"municipality": "松山市", "fields": ["広報"], "mode": "訪問", "duration_min": 900,
            "earliest": "2027/2/2", "latest": "2027年2月5日"}
    r = service.client.post("/v1/requests", json=body, headers=auth)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["mode"], made["earliest"], made["latest"], made["priority"]) == (
        "onsite", "2027-02-02", "2027-02-05", PRIORITY_DEFAULT)
    r = service.client.post("/v1/requests", headers=auth,
                            json={**body, "duration_min": MAX_DURATION_MIN + 1})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "duration_min"
    r = service.client.post("/v1/requests", headers=auth, json={**body, "mode": "徒歩"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "mode"
