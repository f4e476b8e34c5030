"""A refused value is named in the client's language: the validators whose message carries
the bad value (a time, a date, a field named twice) answer in Japanese by default and in
English on request, each at its own path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.service.conftest import Service

BODY = {"fields": ["pr"], "mode": "online", "duration_min": 60, "priority": 5,
        "earliest": "2027-01-11", "latest": "2027-01-15"}


def _error(service: Service, who: str, method: str, url: str, body: dict[str, Any],
           lang: str) -> dict[str, str]:
    r = service.client.request(method, url, json=body, headers=service.h(who, lang))
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    return error


@pytest.mark.parametrize(("who", "method", "url", "over", "path", "en", "ja"), [
    ("a", "POST", "/v1/requests", {"window": ["09:00", "25:00"]}, "window",
     "'25:00' is not a time HH:MM", "'25:00' は時刻（HH:MM）ではありません"),
    ("a", "POST", "/v1/requests", {"latest": "2027-01-08"}, "latest",
     "must not be before earliest (1/11)", "earliest（1/11）より前にはできません"),
    ("a", "POST", "/v1/requests", {"fields": ["pr", "広報"]}, "fields",
     "fields[1]: 'pr' is listed twice (one expert per field)",
     "fields[1]: 'pr' が重複しています（1 分野に専門家 1 名）"),
    ("a", "POST", "/v1/requests", {"due": "2200-01-01"}, "due",
     "must be between 2000-01-01 and 2100-12-31",
     "2000-01-01 から 2100-12-31 の範囲である必要があります"),
    ("a", "POST", "/v1/requests", {"fields": []}, "fields",     # one item, not "1 items"
     "must have at least 1 item", "1 件以上である必要があります"),
    ("centre", "PATCH", "/v1/experts/pr-1", {"work_start": "12:00", "work_end": "09:00"},
     "work_end", "must be after work_start", "work_start より後である必要があります"),
])
def test_a_refused_value_is_named_in_both_languages(service: Service, who: str, method: str,
                                                    url: str, over: dict[str, Any], path: str,
                                                    en: str, ja: str) -> None:
    body = {**BODY, **over} if method == "POST" else over
    assert _error(service, who, method, url, body, "en") == {"path": path, "message": en}
    assert _error(service, who, method, url, body, "ja") == {"path": path, "message": ja}
