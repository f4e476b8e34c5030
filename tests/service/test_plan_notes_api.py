"""The plan's notes (plan/1 ``messages`` and ``messages_ja``) through the service: a week job's
plan carries them in English and in Japanese whatever the caller's language, and the week's
published plan keeps them, so that the dashboard can show the notes of the plan a coordinator
is looking at, before and after publishing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.conftest import Service, plan_and_publish

WEEK, FRIDAY = "2027-06-21", "2027-06-25"
UWAJIMA = "382035"  # 宇和島市
EXPERT = "cocreation-1"
#: A night dearer than any week of a handful of requests can be worth: none can pay.
NIGHT_COST = 1_000_000


@pytest.fixture(scope="module")
def nights_week(service: Service) -> Iterator[dict[str, Any]]:
    """WEEK planned and published while 官民共創担当 may stay in 宇和島市 at a cost no plan
    can pay: the plan keeps to day trips and says why."""
    r = service.patch("centre", f"/v1/experts/{EXPERT}", {
        "overnight": {"places": ["宇和島市"], "night_cost": NIGHT_COST, "max_nights": 1}})
    assert r.status_code == 200, r.text
    try:
        q = service.new_request("centre", municipality=UWAJIMA, fields=["cocreation"],
                                mode="onsite", duration_min=90, priority=10, earliest=WEEK,
                                latest=FRIDAY, title="宇和島の官民連携", submit=True)
        job = plan_and_publish(service, WEEK, time_limit=5)
        yield {"job": job, "request": q}
    finally:
        service.patch("centre", f"/v1/experts/{EXPERT}", {"overnight": None})


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_plan_jobs_notes_come_in_both_languages(service: Service, nights_week: dict[str, Any],
                                                   lang: str) -> None:
    job = nights_week["job"]
    got = service.client.get(job["url"], headers=service.h("centre", lang))
    assert got.status_code == 200, got.text
    plan = got.json()["plan"]
    assert plan["solver"].get("nights") == "cannot pay", plan["solver"]
    assert [v["request"] for v in plan["visits"]] == [nights_week["request"]["id"]]
    assert len(plan["messages"]) == len(plan["messages_ja"]) >= 1
    night_cost = f"{NIGHT_COST:,}"
    assert any(m.startswith("No night away can pay this week") and night_cost in m
               for m in plan["messages"]), plan["messages"]
    assert any(m.startswith("今週は宿泊が割に合いません") and night_cost in m
               for m in plan["messages_ja"]), plan["messages_ja"]


def test_the_published_week_keeps_its_plans_notes(service: Service,
                                                  nights_week: dict[str, Any]) -> None:
    """The week's published plan, as the dashboard finds it (the published job of the week
    in the job list, then the job), has the notes the job's plan had."""
    job = nights_week["job"]
    listed = [j for j in service.get("centre", "/v1/plan-jobs", params={"limit": 500}).json()
              if j["week"] == WEEK and j["published_at"]]
    assert [j["id"] for j in listed] == [job["id"]]
    published = service.get("centre", listed[0]["url"]).json()["plan"]
    assert published["messages"] == job["plan"]["messages"]
    assert published["messages_ja"] == job["plan"]["messages_ja"]
