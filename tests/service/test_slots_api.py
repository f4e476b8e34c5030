"""Slot proposals through the API: a municipality asks for its new request's best slots and
picks one; the centre sees the pick pending and confirms or overrides it; the chosen slot is
fixed into the published week, and who chose it is in the audit log.

The tests share one published week of their own (``SLOT_WEEK``): A (松山市) and B (今治市)
each have visits in it, published by a week job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.checker import check_plan
from engine.format import parse_plan
from service.db import RequestRow
from service.slots import current_week
from tests.service.conftest import MUNI_A, MUNI_B, Service, plan_and_publish, wait_job

SLOT_WEEK = "2027-06-07"      # a Monday of these tests' own
FRIDAY = "2027-06-11"


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


@pytest.fixture(scope="module")
def week(service: Service) -> dict[str, Any]:
    """The published week: A has an on-site PR visit and B an online data consultation."""
    a1 = service.new_request("a", fields=["pr"], mode="onsite", duration_min=90, priority=8,
                             earliest=SLOT_WEEK, latest=FRIDAY, submit=True, title="広報戦略")
    b1 = service.new_request("b", fields=["data"], mode="online", duration_min=60,
                             priority=6, earliest=SLOT_WEEK, latest=FRIDAY, submit=True,
                             confidential=True, title="人事データの扱い")
    plan_and_publish(service, SLOT_WEEK, 10)
    visits = {v["request"]: v for v in service.get("centre", "/v1/visits",
                                                   params={"week": SLOT_WEEK}).json()}
    assert {a1["id"], b1["id"]} <= set(visits)
    return {"a1": a1, "b1": b1, "visits": visits}


def propose(service: Service, who: str, rid: str, **body: Any) -> Any:
    return service.post(who, f"/v1/requests/{rid}/slot-proposals", body or None)


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["date"] == b["date"] and bool(set(a["experts"]) & set(b["experts"]))
            and _minutes(a["start"]) < _minutes(b["end"])
            and _minutes(b["start"]) < _minutes(a["end"]))


def _check_against_week(service: Service, rid: str, proposal: dict[str, Any]) -> None:
    """The proposal's whole plan is valid for the week it was made in (the checker)."""
    with service.app.state.sessions() as s:
        q = s.get(RequestRow, rid)
        w = current_week(s, dt.date.fromisoformat(proposal["week"]), q)
    problem = w.problem
    if proposal["mode_changed"]:
        problem = __import__("dataclasses").replace(problem, requests=tuple(
            __import__("dataclasses").replace(r, mode=proposal["mode"]) if r.id == rid else r
            for r in problem.requests))
    assert check_plan(problem, parse_plan(proposal["plan"])) == []


def test_a_municipality_gets_slots_for_its_own_request_only(service: Service, week):
    new = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=5,
                              earliest=SLOT_WEEK, latest=FRIDAY, title="SNS運用")
    assert new["status"] == "draft"
    r = propose(service, "a", new["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weeks"] == [SLOT_WEEK] and body["unscheduled"] is None
    props = body["proposals"]
    assert 1 <= len(props) <= 3 and [p["rank"] for p in props] == list(range(1, len(props) + 1))
    for p in props:
        assert SLOT_WEEK <= p["date"] <= FRIDAY and p["mode"] == "onsite"
        assert p["experts"] == ["pr-1"] and p["expert_names"] == ["広報担当"]
        assert p["choose"] == {"experts": p["experts"], "date": p["date"],
                               "start": p["start"], "mode": p["mode"]}
        # nothing about the rest of the week for a municipality
        assert not {"plan", "objective_change", "moved"} & set(p)
        # published visits are kept: a slot never overlaps one
        assert not any(_overlaps(p, v) for v in week["visits"].values())
    assert len({p["date"] for p in props if not p["alternative"]}) == \
        sum(not p["alternative"] for p in props)
    # another municipality: exactly like a request that does not exist
    other = propose(service, "b", new["id"])
    missing = propose(service, "b", "q000000000000")
    assert other.status_code == missing.status_code == 404
    assert other.json()["title"] == missing.json()["title"]
    assert other.json()["detail"].replace(new["id"], "X") == \
        missing.json()["detail"].replace("q000000000000", "X")
    assert propose(service, "pr", new["id"]).status_code == 403


def test_the_centre_sees_what_each_slot_costs_and_every_plan_checks_out(service: Service,
                                                                        week):
    new = service.new_request("centre", municipality=MUNI_B, fields=["pr"], mode="onsite",
                              duration_min=60, priority=4, earliest=SLOT_WEEK,
                              latest=FRIDAY, submit=True)
    body = propose(service, "centre", new["id"], top=4, other_mode="also").json()
    props = body["proposals"]
    assert [p["mode"] for p in props].count("online") >= 1      # the other mode, after
    assert props[0]["mode"] == "onsite"
    for p in props:
        assert {"objective_change", "drive_minutes_added", "moved", "plan"} <= set(p)
        assert p["moved"] == []                 # every visit of the week is published
        _check_against_week(service, new["id"], p)
        planned = {v["request"]: v for v in p["plan"]["visits"]}
        for rid, v in week["visits"].items():
            assert (planned[rid]["date"], planned[rid]["start"]) == (v["date"], v["start"])
    onsite = [p["objective_change"] for p in props if p["mode"] == "onsite"
              and not p["alternative"]]
    assert onsite == sorted(onsite, reverse=True)


def test_a_municipality_pick_is_pending_holds_the_slot_and_the_centre_confirms(
        service: Service, week):
    new = service.new_request("a", fields=["pr"], mode="onsite", duration_min=60, priority=5,
                              earliest=SLOT_WEEK, latest=FRIDAY)
    first = propose(service, "a", new["id"]).json()["proposals"][0]
    r = service.post("a", f"/v1/requests/{new['id']}/accept-slot", first["choose"])
    assert r.status_code == 201, r.text
    pick = r.json()
    assert (pick["status"], pick["chosen_by"], pick["date"], pick["start"]) == \
        ("pending", "municipality", first["date"], first["start"])
    assert "objective_change" not in pick
    assert service.get("a", f"/v1/requests/{new['id']}").json()["status"] == "submitted"
    pending = service.get("centre", "/v1/slot-picks", params={"status": "pending"}).json()
    assert new["id"] in {p["request"] for p in pending}
    assert all(p["municipality"] == MUNI_A for p in service.get(
        "a", "/v1/slot-picks").json())
    assert new["id"] not in {p["request"] for p in service.get("b", "/v1/slot-picks").json()}
    # the pending slot is held: B's proposals for the same expert fit around it
    other = service.new_request("b", fields=["pr"], mode="onsite", duration_min=60,
                                priority=9, earliest=first["date"], latest=first["date"])
    for p in propose(service, "b", other["id"], top=5).json()["proposals"]:
        assert not _overlaps(p, pick)
    # the centre confirms: the visit is published at that slot
    r = service.post("centre", f"/v1/requests/{new['id']}/accept-slot", first["choose"])
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["status"] == "confirmed" and done["decided_by"] == "centre"
    assert done["id"] == pick["id"] and done["published"]["added"] == 1
    visits = {v["request"]: v for v in service.get("a", "/v1/visits",
                                                   params={"week": SLOT_WEEK}).json()}
    v = visits[new["id"]]
    assert (v["date"], v["start"], v["experts"]) == (first["date"], first["start"], ["pr-1"])
    got = service.get("a", f"/v1/requests/{new['id']}").json()
    assert got["status"] == "scheduled" and got["planning"]["start"] == first["start"]
    # the published visits before it are all still there, unchanged
    now = {v["request"]: v for v in service.get("centre", "/v1/visits",
                                                params={"week": SLOT_WEEK}).json()}
    for rid, old in week["visits"].items():
        assert (now[rid]["date"], now[rid]["start"]) == (old["date"], old["start"])
    audit = service.get("centre", "/v1/audit", params={"limit": 50}).json()
    picks = [a for a in audit if a["action"] == "request.accept_slot"
             and a["target"] == f"request:{new['id']}"]
    assert {(a["role"], a["detail"]["status"]) for a in picks} == {
        ("municipality", "pending"), ("centre", "confirmed")}
    # the slot is taken now: choosing it again for B's request is refused
    clash = dict(first["choose"])
    r = service.post("b", f"/v1/requests/{other['id']}/accept-slot", clash)
    assert r.status_code == 409 and "ask for proposals again" in r.json()["detail"]


def test_the_centre_overrides_or_turns_down_a_pick(service: Service, week):
    new = service.new_request("b", fields=["pr"], mode="online", duration_min=30, priority=3,
                              earliest=SLOT_WEEK, latest=FRIDAY, submit=True)
    props = propose(service, "b", new["id"], top=3).json()["proposals"]
    assert len(props) >= 2
    assert service.post("b", f"/v1/requests/{new['id']}/accept-slot",
                        props[0]["choose"]).json()["status"] == "pending"
    # B changes its mind: the first choice is withdrawn, the second pending
    again = service.post("b", f"/v1/requests/{new['id']}/accept-slot", props[1]["choose"])
    assert again.json()["status"] == "pending"
    # the centre turns it down: the request stays submitted for the next week plan
    r = service.delete_(f"/v1/requests/{new['id']}/slot-pick")
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert service.get("b", f"/v1/requests/{new['id']}").json()["status"] == "submitted"
    assert service.delete_(f"/v1/requests/{new['id']}/slot-pick").status_code == 404
    # B picks again and the centre fixes another slot instead: overridden
    service.post("b", f"/v1/requests/{new['id']}/accept-slot", props[0]["choose"])
    r = service.post("centre", f"/v1/requests/{new['id']}/accept-slot", props[1]["choose"])
    assert r.status_code == 201 and r.json()["status"] == "confirmed"
    history = service.get("centre", "/v1/slot-picks", params={"week": SLOT_WEEK}).json()
    mine = [p["status"] for p in history if p["request"] == new["id"]]
    assert mine == ["confirmed", "overridden", "rejected", "withdrawn"]


def test_a_pending_pick_is_kept_by_the_week_plan(service: Service, week):
    week2 = "2027-06-14"
    new = service.new_request("a", fields=["data"], mode="online", duration_min=60,
                              priority=2, earliest=week2, latest="2027-06-18")
    choice = propose(service, "a", new["id"]).json()["proposals"][-1]["choose"]
    assert service.post("a", f"/v1/requests/{new['id']}/accept-slot",
                        choice).json()["status"] == "pending"
    job = wait_job(service, service.post("centre", "/v1/plan-jobs",
                                         {"week": week2, "time_limit": 10}).json()["url"])
    v = {v["request"]: v for v in job["plan"]["visits"]}[new["id"]]
    assert (v["date"], v["start"], v["experts"]) == (choice["date"], choice["start"],
                                                     choice["experts"])


def test_no_slot_says_why_generally_to_the_municipality_and_fully_to_the_centre(
        service: Service, week):
    # eight hours at 今治市, 50 minutes' drive from the office each way: no day holds it
    new = service.new_request("b", fields=["pr"], mode="onsite", duration_min=480,
                              priority=5, earliest=SLOT_WEEK, latest=FRIDAY)
    r = propose(service, "b", new["id"], other_mode="no")
    body = r.json()
    assert r.status_code == 200 and body["proposals"] == []
    assert body["unscheduled"]["codes"] == ["no_time"]
    assert all(set(x) >= {"code"} for x in body["unscheduled"]["reasons"])
    full = propose(service, "centre", new["id"], other_mode="no").json()["unscheduled"]
    assert full["codes"] == ["no_time"] and full["reasons_ja"] and full["reasons"]


@pytest.mark.parametrize("body, path", [
    ({"experts": ["pr-1"], "date": SLOT_WEEK, "start": "25:00", "mode": "onsite"}, "start"),
    ({"experts": ["pr-1"], "date": "2027-07-01", "start": "10:00", "mode": "onsite"}, "date"),
    ({"experts": ["pr-1"], "date": SLOT_WEEK, "start": "10:00", "mode": "walk"}, "mode"),
    ({"experts": [], "date": SLOT_WEEK, "start": "10:00", "mode": "onsite"}, "experts"),
    ({"experts": ["pr-1"], "date": SLOT_WEEK, "start": "10:00", "mode": "onsite",
      "extra": 1}, "extra"),
])
def test_a_bad_choice_names_the_field(service: Service, week, body, path):
    new = service.new_request("a", fields=["pr"], mode="onsite", earliest=SLOT_WEEK,
                              latest=FRIDAY)
    r = service.post("a", f"/v1/requests/{new['id']}/accept-slot", body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == path
    bad = propose(service, "a", new["id"], top=0)
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"] == "top"


def test_a_request_already_scheduled_or_closed_has_no_slot_to_choose(service: Service, week):
    b1 = week["b1"]
    r = propose(service, "b", b1["id"])
    assert r.status_code == 409
    r = service.post("b", f"/v1/requests/{b1['id']}/accept-slot",
                     {"experts": ["data-1"], "date": SLOT_WEEK, "start": "10:00",
                      "mode": "online"})
    assert r.status_code == 409
    assert MUNI_B == b1["municipality"]
