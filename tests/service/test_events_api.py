"""Events through the API: the centre reports what happened, the week's plan is repaired and
published at once, and one message per affected municipality and expert waits in the outbox,
written in the same transaction; each reads only what it may.

The tests share one published week of their own (``EVENT_WEEK``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.checker import check_plan
from engine.format import parse_plan, parse_plan_request
from service.db import OutboxRow, PlanJob
from tests.service.conftest import MUNI_A, MUNI_B, Service, plan_and_publish, wait_job

EVENT_WEEK = "2027-07-05"      # a Monday of these tests' own
TUESDAY, FRIDAY = "2027-07-06", "2027-07-09"


@pytest.fixture(scope="module")
def week(service: Service) -> dict[str, Any]:
    """A (松山市) has two on-site PR visits (one confidential), B (今治市) one; published."""
    reqs = [service.new_request("a", fields=["pr"], mode="onsite", duration_min=90,
                                priority=8, earliest=TUESDAY, latest=FRIDAY, submit=True,
                                title="広報戦略"),
            service.new_request("a", fields=["pr"], mode="onsite", duration_min=60,
                                priority=6, earliest=TUESDAY, latest=FRIDAY, submit=True,
                                confidential=True, title="職員の不祥事対応"),
            service.new_request("b", fields=["pr"], mode="onsite", duration_min=60,
                                priority=7, earliest=TUESDAY, latest=FRIDAY, submit=True,
                                title="観光PR")]
    plan_and_publish(service, EVENT_WEEK, 10)
    visits = {v["request"]: v for v in service.get("centre", "/v1/visits",
                                                   params={"week": EVENT_WEEK}).json()}
    assert {q["id"] for q in reqs} <= set(visits)
    return {"reqs": reqs, "visits": visits}


def _event(service: Service, body: dict[str, Any], who: str = "centre") -> Any:
    return service.post(who, "/v1/events", body)


def test_only_the_centre_reports_events(service: Service, week):
    body = {"kind": "no_show", "now": f"{TUESDAY}T12:00", "request": week["reqs"][0]["id"]}
    assert _event(service, body, "a").status_code == 403
    assert _event(service, body, "pr").status_code == 403


def test_a_bad_event_is_422_naming_its_field(service: Service, week):
    r = _event(service, {"kind": "visit_overrun", "now": f"{TUESDAY}T12:00",
                         "request": "nope", "minutes": 0})
    assert r.status_code == 422
    assert {e["path"] for e in r.json()["errors"]} == {"request", "minutes"}
    r = _event(service, {"kind": "no_show", "now": "2031-01-07T09:00", "request": "x"})
    assert r.status_code == 409         # nothing published in that week


def test_an_expert_falling_ill_repairs_publishes_and_tells_everyone_affected(service: Service,
                                                                            week):
    service.put("centre", f"/v1/contacts/municipality/{MUNI_B}",
                {"email": "dx@imabari.example.jp", "lang": "en"})
    before = service.get("centre", "/v1/outbox").headers["X-Total-Count"]
    r = _event(service, {"kind": "expert_unavailable", "now": f"{EVENT_WEEK}T08:00",
                         "expert": "pr-1", "from": f"{TUESDAY}T08:00",
                         "until": f"{TUESDAY}T23:00", "reason": "発熱"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["event"]["kind"] == "expert_unavailable"
    moved = {c["request"] for c in out["changes"]}
    # nobody visits on Tuesday with pr-1 any more, and the published visits say so
    visits = service.get("centre", "/v1/visits", params={"week": EVENT_WEEK}).json()
    assert not any(v["date"] == TUESDAY and "pr-1" in v["experts"] for v in visits)
    # the repaired plan is valid for the week after the event
    with service.app.state.sessions() as s:
        job = s.get(PlanJob, out["job"])
        assert job is not None and job.published_at is not None
        assert check_plan(parse_plan_request(job.request_doc), parse_plan(job.plan)) == []
        rows = s.query(OutboxRow).filter(OutboxRow.job_id == job.id).all()
    # one message per affected municipality and expert, stored with the plan
    want = {("municipality", c["location"]) for c in out["changes"]} | {
        ("expert", e) for c in out["changes"] for side in ("before", "after")
        if c[side] for e in c[side]["experts"]}
    assert {(m.recipient_kind, m.recipient) for m in rows} == want
    assert len(rows) == len(out["messages"])
    assert int(service.get("centre", "/v1/outbox").headers["X-Total-Count"]) == \
        int(before) + len(rows)
    conf = next(q for q in week["reqs"] if q.get("confidential"))
    for m in rows:
        assert m.sent_at is None and m.message_id.startswith(f"<{job.id}.")
        if m.recipient_kind == "municipality" and m.recipient == MUNI_B:
            assert m.lang == "en" and m.address == "dx@imabari.example.jp"
            assert "pr-1" not in m.body or "unavailable" in m.body
            assert "Changes to your visits" in m.subject
        else:
            assert m.lang == "ja" and "発熱" in m.body
        if not (m.recipient_kind == "municipality" and m.recipient == MUNI_A):
            assert conf["title"] not in m.body      # never another's confidential subject
    if moved:
        mine = service.get("a", "/v1/outbox").json()
        assert mine and all(m["recipient"] == MUNI_A for m in mine)
        assert all(m["needs_call"] for m in mine)   # no address: the centre calls


def test_an_urgent_request_is_stored_and_planned(service: Service, week):
    r = _event(service, {"kind": "urgent_request", "now": f"{EVENT_WEEK}T09:00", "by": FRIDAY,
                         "request": {"id": "urgent-ev1", "location": MUNI_B, "fields": ["pr"],
                                     "mode": "online", "duration_min": 60, "priority": 9,
                                     "title": "災害広報"}})
    assert r.status_code == 201, r.text
    assert r.json()["event"]["urgent_placed"] is True
    q = service.get("centre", "/v1/requests/urgent-ev1").json()
    assert q["status"] == "scheduled"
    again = _event(service, {"kind": "urgent_request", "now": f"{EVENT_WEEK}T09:00",
                             "by": FRIDAY, "request": {"id": "urgent-ev1", "location": MUNI_B,
                                                       "fields": ["pr"], "mode": "online",
                                                       "duration_min": 60, "priority": 9}})
    assert again.status_code == 422
    assert again.json()["errors"][0]["path"] == "request.id"


def test_a_cancellation_withdraws_the_visit_and_the_request(service: Service, week):
    rid = week["reqs"][2]["id"]
    r = _event(service, {"kind": "cancelled", "now": f"{EVENT_WEEK}T09:30", "request": rid,
                         "by": "municipality"})
    assert r.status_code == 201, r.text
    assert [c["kind"] for c in r.json()["changes"] if c["request"] == rid] == ["withdrawn"]
    assert service.get("centre", f"/v1/requests/{rid}").json()["status"] == "cancelled"
    visits = service.get("centre", "/v1/visits", params={"week": EVENT_WEEK}).json()
    assert rid not in {v["request"] for v in visits}
    # the municipality that cancelled and the expert who was to go are told; no other
    # municipality learns who it was
    assert ("municipality", MUNI_B) in {(m["recipient_kind"], m["recipient"])
                                        for m in r.json()["messages"]}
    for m in r.json()["messages"]:
        if m["recipient_kind"] == "municipality" and m["recipient"] != MUNI_B:
            assert "今治" not in m["body"] and "Imabari" not in m["body"]


def test_the_experts_calendar_feed_counts_versions_and_cancels(service: Service, week):
    from icalendar import Calendar

    url = service.get("pr", "/v1/experts/pr-1/calendar-url").json()["url"]
    cal = Calendar.from_ical(service.client.get(url).content)
    evs = {str(e.get("uid")): e for e in cal.walk("VEVENT")}
    cancelled = week["reqs"][2]["id"]           # cancelled by the test above
    gone = evs[f"{cancelled}/pr-1@dxshare"]
    assert str(gone.get("status")) == "CANCELLED" and int(gone.get("sequence")) >= 1
    with service.app.state.sessions() as s:
        from sqlalchemy import select

        from service.db import VisitRow
        rows = [v for v in s.scalars(select(VisitRow).where(VisitRow.week == dt.date.fromisoformat(EVENT_WEEK)))
                if "pr-1" in v.experts]
    for v in rows:
        if v.active:
            versions = sum(1 for w in rows if w.request_id == v.request_id)
            assert int(evs[f"{v.request_id}/pr-1@dxshare"].get("sequence")) == versions - 1


RULES_WEEK = "2027-07-12"     # a Monday of its own: what events add must outlive a re-plan
R_TUE, R_WED, R_THU, R_FRI = "2027-07-13", "2027-07-14", "2027-07-15", "2027-07-16"


def test_a_later_week_job_keeps_what_the_events_added(service: Service):
    """A re-plan of the week from the database after events keeps their rules: the closure,
    the expert's part-day absence, the overrun visit's new length and the history (also when
    published visits are only preferred); before the fix the week was rebuilt without them and
    a new request went into the closed town hall."""
    tue = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=8,
                              earliest=R_TUE, latest=R_TUE, submit=True, title="広報の見直し")
    service.new_request("b", fields=["pr"], mode="onsite", duration_min=60, priority=7,
                        earliest=R_WED, latest=R_FRI, submit=True, title="観光PR")
    job = plan_and_publish(service, RULES_WEEK, 5)
    first = service.get("centre", "/v1/visits", params={"week": RULES_WEEK}).json()
    assert not any(x["changed"] for x in first)       # nothing replaced yet
    v = {x["request"]: x for x in first}[tue["id"]]
    h, m = map(int, v["start"].split(":"))
    now = f"{R_TUE}T{(h * 60 + m + 10) // 60:02d}:{(h * 60 + m + 10) % 60:02d}"
    for body in ({"kind": "visit_overrun", "now": now, "request": tue["id"], "minutes": 30},
                 {"kind": "location_closed", "now": now, "location": MUNI_A, "date": R_WED,
                  "from": "08:00", "until": "18:00", "reason": "台風"},
                 {"kind": "expert_unavailable", "now": now, "expert": "pr-1",
                  "from": f"{R_THU}T12:00", "until": f"{R_THU}T23:00"}):
        r = _event(service, body)
        assert r.status_code == 201, r.text
    # the overrun visit is a new version: marked changed where its municipality looks
    mine = {x["request"]: x for x in service.get("a", "/v1/visits",
                                                  params={"week": RULES_WEEK}).json()}
    assert mine[tue["id"]]["changed"] is True and mine[tue["id"]]["end"] != v["end"]
    assert service.get("a", mine[tue["id"]]["url"]).json()["changed"] is True
    # a new request that only the closed day would take
    late = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=9,
                               earliest=R_WED, latest=R_WED, submit=True, title="防災広報")
    for keep in ("fixed", "prefer"):
        job = wait_job(service, service.post("centre", "/v1/plan-jobs", {
            "week": RULES_WEEK, "time_limit": 5, "keep_published": keep}).json()["url"])
        assert job["status"] == "done", job
        with service.app.state.sessions() as s:
            row = s.get(PlanJob, job["id"])
            assert row is not None
            doc, plan = row.request_doc, parse_plan(row.plan)
        horizon = doc["horizon"]
        assert horizon["history_until"] == now
        assert horizon["closures"] == [{"location": MUNI_A, "date": R_WED, "from": "08:00",
                                        "until": "18:00", "reason": "台風"}]
        assert [(b["date"], b["experts"], b.get("from")) for b in horizon["blackouts"]] \
            == [(R_THU, ["pr-1"], "12:00")]
        q = next(x for x in doc["requests"] if x["id"] == tue["id"])
        assert q["duration_min"] == 90 and q["fixed"]["start"] == v["start"]
        assert check_plan(parse_plan_request(doc), plan) == []
        placed = {x.request: x for x in plan.visits}
        assert late["id"] not in placed                         # the town hall is closed
        assert placed[tue["id"]].end == h * 60 + m + 90         # the overrun stands
        assert not any(x.date == dt.date.fromisoformat(R_THU) and "pr-1" in x.experts
                       and x.end > 12 * 60 for x in plan.visits)


RETRY_WEEK = "2027-07-19"     # a Monday of its own: one event sent twice


def test_an_event_sent_again_with_its_idempotency_key_is_applied_once(service: Service):
    """A coordinator whose POST got no answer (the server died, the network broke) sends the
    same event again with the same ``Idempotency-Key``: the event is applied once and the
    answer is the first one (same job, same changes, same messages); before, the second POST
    repaired the week again, and an overrun would have run long twice."""
    q = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=8,
                            earliest="2027-07-20", latest="2027-07-20", submit=True,
                            title="窓口DX")
    service.new_request("b", fields=["pr"], mode="onsite", duration_min=60, priority=7,
                        earliest="2027-07-20", latest="2027-07-23", submit=True)
    plan_and_publish(service, RETRY_WEEK, 5)
    v = {x["request"]: x for x in service.get("centre", "/v1/visits",
                                              params={"week": RETRY_WEEK}).json()}[q["id"]]
    h, m = map(int, v["start"].split(":"))
    at = h * 60 + m + 10
    body = {"kind": "visit_overrun", "now": f"2027-07-20T{at // 60:02d}:{at % 60:02d}",
            "request": q["id"], "minutes": 20}
    key = {"Idempotency-Key": "overrun-2027-07-20-a"}
    with service.app.state.sessions() as s:
        jobs_before = s.query(PlanJob).count()
        outbox_before = s.query(OutboxRow).count()
    first = service.client.post("/v1/events", json=body, headers={**service.h("centre"), **key})
    assert first.status_code == 201, first.text
    again = service.client.post("/v1/events", json=body, headers={**service.h("centre"), **key})
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.headers.get("Idempotent-Replayed") is None
    assert again.json() == first.json()
    with service.app.state.sessions() as s:
        assert s.query(PlanJob).count() == jobs_before + 1
        assert s.query(OutboxRow).count() == outbox_before + len(first.json()["messages"])
    end = {x["request"]: x for x in service.get("centre", "/v1/visits",
                                                params={"week": RETRY_WEEK}).json()}[q["id"]]
    eh, em = map(int, v["end"].split(":"))
    assert end["end"] == f"{(eh * 60 + em + 20) // 60:02d}:{(eh * 60 + em + 20) % 60:02d}"
    # the same key for another event is refused, naming the header; nothing is applied
    other = {**body, "minutes": 30}
    r = service.client.post("/v1/events", json=other, headers={**service.h("centre"), **key})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "Idempotency-Key"
    with service.app.state.sessions() as s:
        assert s.query(PlanJob).count() == jobs_before + 1


def test_the_outbox_is_listed_by_week(service: Service):
    """The dashboard's 連絡 view asks for the messages of the week it shows."""
    from service.db import utcnow

    monday = dt.date(2027, 8, 2)
    with service.app.state.sessions.begin() as s:
        for i, (kind, ref, week) in enumerate([("municipality", MUNI_A, monday),
                                               ("municipality", MUNI_B, monday),
                                               ("expert", "pr-1", monday + dt.timedelta(7))]):
            s.add(OutboxRow(message_id=f"<by-week-{i}-{service.app.state.engine.dialect.name}>",
                            job_id="test", week=week, kind="no_show", recipient_kind=kind,
                            recipient=ref, lang="ja", address=None, subject="件名",
                            body="本文\n", requests=[], attempts=0, created_at=utcnow()))
    mine = service.get("centre", "/v1/outbox", params={"week": "2027-08-02", "limit": 1000})
    assert mine.status_code == 200
    rows = mine.json()
    assert {(m["week"], m["recipient"]) for m in rows} == {("2027-08-02", MUNI_A),
                                                           ("2027-08-02", MUNI_B)}
    assert int(mine.headers["X-Total-Count"]) == 2
    assert service.get("centre", "/v1/outbox", params={"week": "2031-01-06"}).json() == []
    own = service.get("a", "/v1/outbox", params={"week": "2027-08-02"}).json()
    assert [m["recipient"] for m in own] == [MUNI_A]


QUICK_WEEK = "2027-07-26"     # a Monday of its own: a repair given no time


def test_a_repair_with_no_time_is_published_as_the_quick_plan_and_says_so(service: Service,
                                                                         monkeypatch):
    """The answer and the stored plan carry the fallback, in both languages, so that the
    coordinator knows the week was re-planned quickly, not minimally."""
    service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=8,
                        earliest="2027-07-27", latest="2027-07-30", submit=True)
    plan_and_publish(service, QUICK_WEEK, 5)
    monkeypatch.setattr(service.app.state.settings, "event_time_limit", 1e-6)
    r = _event(service, {"kind": "expert_unavailable", "now": f"{QUICK_WEEK}T07:00",
                         "expert": "pr-1", "from": "2027-07-27T07:00",
                         "until": "2027-07-27T23:00"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "feasible"
    fb = out["event"]["fallback"]
    assert fb["code"] == "no_time" and fb["message"] and fb["message_ja"]
    stored = service.get("centre", out["url"]).json()["plan"]
    assert stored["event"]["fallback"] == fb
    assert stored["messages"] == [fb["message"]] and stored["messages_ja"] == [fb["message_ja"]]
