"""The service's appointment grid: week jobs plan on ``Settings.appointment_grid`` (the
quarter hour for the demo week), a week already published keeps the grid it was published
on, and a grid the format does not know is refused at start."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from engine.format import parse_plan_request
from service.config import Settings
from service.weeks import published_plan, week_document
from tests.service.conftest import PUBLISHED_WEEK, WEEK, Service


def test_the_demo_week_books_on_the_quarter_hour_unless_told_otherwise():
    assert Settings(demo_week="2026-12-07").appointment_grid == 15
    assert Settings(demo_week="2026-12-07", start_grid_min=30).appointment_grid == 30
    assert Settings().appointment_grid == 1


def test_a_grid_the_format_does_not_know_is_refused():
    with pytest.raises(ValidationError, match="start_grid_min"):
        Settings(start_grid_min=7)


def test_the_week_document_carries_the_grid(service: Service):
    monday = dt.date.fromisoformat(WEEK)
    with service.app.state.sessions.begin() as s:
        doc, _ = week_document(s, monday, start_grid_min=15)
        assert parse_plan_request(doc).horizon.start_grid_min == 15
        doc, _ = week_document(s, monday)
        assert "start_grid_min" not in doc["horizon"]          # nothing published: any minute


def test_a_published_week_keeps_the_grid_it_was_published_on(service: Service, published):
    monday = dt.date.fromisoformat(PUBLISHED_WEEK)
    s = service.app.state.sessions()
    try:
        job = published_plan(s, monday)
        assert job is not None
        horizon = {**job.request_doc["horizon"], "start_grid_min": 30}
        job.request_doc = {**job.request_doc, "horizon": horizon}
        s.flush()
        doc, _ = week_document(s, monday)
        assert doc["horizon"]["start_grid_min"] == 30
        doc, _ = week_document(s, monday, start_grid_min=15)     # asked for: it wins
        assert doc["horizon"]["start_grid_min"] == 15
    finally:
        s.rollback()
        s.close()
