"""An expert's standing appointments (``experts[].busy``) set through the service: the centre
gives the whole list, places by code or name (stored by code), and the week's document
carries them; a list the format would refuse is refused at the appointment's own path, in
both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.weeks import week_document
from tests.service.conftest import Service

URL = "/v1/experts/cocreation-1"
MON, WED = "2027-06-07", "2027-06-09"


def _errors(service: Service, busy: Any, lang: str = "en") -> list[dict[str, str]]:
    r = service.client.patch(URL, json={"busy": busy},
                             headers=service.h("centre", lang))
    assert r.status_code == 422, r.text
    return r.json()["errors"]


def test_the_centre_sets_and_removes_an_experts_appointments(service: Service) -> None:
    busy = [{"date": WED, "start": "14:00", "end": "15:00", "at": "宇和島市"},
            {"date": "2027/6/7", "start": "09:00", "end": "09:30"}]
    r = service.patch("centre", URL, {"busy": busy})
    assert r.status_code == 200, r.text
    try:
        # the place by its code, and beside it by the names people read
        assert r.json()["busy"] == [
            {"date": WED, "start": "14:00", "end": "15:00", "at": "382035",
             "at_name_ja": "宇和島市", "at_name_en": "Uwajima"},
            {"date": MON, "start": "09:00", "end": "09:30"}]
        assert service.get("centre", URL).json()["busy"] == r.json()["busy"]
        mine_view = next(e for e in service.get("centre", "/v1/experts").json()
                         if e["id"] == "cocreation-1")
        assert mine_view["busy"] == r.json()["busy"]
        with service.app.state.sessions.begin() as s:
            doc, _ = week_document(s, dt.date.fromisoformat(MON))
        mine = next(e for e in doc["experts"] if e["id"] == "cocreation-1")
        assert mine["busy"] == [          # the week's document carries the code alone
            {"date": WED, "start": "14:00", "end": "15:00", "at": "382035"},
            {"date": MON, "start": "09:00", "end": "09:30"}]
        # a change of something else keeps them
        other = service.patch("centre", URL, {"max_visits_per_day": 3})
        assert other.status_code == 200 and other.json()["busy"] == r.json()["busy"]
        assert service.patch("a", URL, {"busy": []}).status_code == 403
    finally:
        gone = service.patch("centre", URL, {"busy": None, "max_visits_per_day": None})
    assert gone.status_code == 200 and "busy" not in gone.json()
    again = service.patch("centre", URL, {"busy": [{"date": MON, "start": "10:00",
                                                    "end": "11:00"}]})
    assert again.status_code == 200
    emptied = service.patch("centre", URL, {"busy": []})
    assert emptied.status_code == 200 and "busy" not in emptied.json()


def test_appointments_read_and_sent_back_keep_the_code_and_store_no_names(
        service: Service) -> None:
    r = service.patch("centre", URL, {"busy": [{"date": WED, "start": "14:00", "end": "15:00",
                                                "at": "382035"}]})
    assert r.status_code == 200, r.text
    try:
        shown = r.json()["busy"]
        again = service.patch("centre", URL, {"busy": shown})     # as a page sends it back
        assert again.status_code == 200, again.text
        assert again.json()["busy"] == shown
        with service.app.state.sessions.begin() as s:
            doc, _ = week_document(s, dt.date.fromisoformat(MON))
        mine = next(e for e in doc["experts"] if e["id"] == "cocreation-1")
        assert mine["busy"] == [{"date": WED, "start": "14:00", "end": "15:00", "at": "382035"}]
    finally:
        service.patch("centre", URL, {"busy": None})


def test_an_appointment_ending_before_it_starts_is_refused_at_its_end(service: Service) -> None:
    busy = [{"date": MON, "start": "09:00", "end": "10:00"},
            {"date": WED, "start": "14:00", "end": "13:30"}]
    [en] = _errors(service, busy, "en")
    assert en == {"path": "busy[1].end", "message": "must be after start (14:00)"}
    [ja] = _errors(service, busy, "ja")
    assert ja == {"path": "busy[1].end", "message": "開始（14:00）より後である必要があります"}
    assert "busy" not in service.get("centre", URL).json()


def test_appointments_the_format_refuses_are_refused_at_their_paths(service: Service) -> None:
    outside = _errors(service, [{"date": MON, "start": "07:00", "end": "08:00"}], "ja")
    assert outside == [{"path": "busy[0]",
                        "message": "07:00–08:00 は勤務時間 08:30–17:15 の中である必要があります"}]
    nowhere = _errors(service, [{"date": MON, "start": "10:00", "end": "11:00",
                                 "at": "どこでもない町"}])
    assert [e["path"] for e in nowhere] == ["busy[0].at"]
    clash = _errors(service, [{"date": MON, "start": "13:00", "end": "14:00"},
                              {"date": WED, "start": "09:00", "end": "10:00"},
                              {"date": MON, "start": "13:30", "end": "15:00", "at": "宇和島市"}])
    assert [e["path"] for e in clash] == ["busy[2]"] and "overlaps" in clash[0]["message"]
    bad_time = _errors(service, [{"date": MON, "start": "25:00", "end": "26:00"}])
    assert {e["path"] for e in bad_time} == {"busy[0].start", "busy[0].end"}
    missing = _errors(service, [{"date": MON, "start": "10:00"}])
    assert [e["path"] for e in missing] == ["busy[0].end"]


def test_appointments_more_than_a_year_apart_are_checked_at_their_own_index(
        service: Service) -> None:
    """Appointments are checked over horizons of at most a year each; the refused one is
    still named by its place in the list as given."""
    busy = [{"date": "2029-03-05", "start": "10:00", "end": "11:00"},
            {"date": MON, "start": "10:00", "end": "11:00"},
            {"date": "2029-03-06", "start": "06:00", "end": "07:00"}]
    assert [e["path"] for e in _errors(service, busy)] == ["busy[2]"]
    ok = service.patch("centre", URL, {"busy": busy[:2]})
    assert ok.status_code == 200, ok.text
    assert service.patch("centre", URL, {"busy": None}).status_code == 200
