"""Bodies and answers of the HTTP API (pydantic), with the examples shown in the OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    field_validator,
)
from pydantic_core import PydanticCustomError

from engine.model import FIELDS
from engine.names import resolve_field, resolve_municipality
from engine.readings import MAX_DURATION_MIN, PRIORITY_DEFAULT, read_date, read_mode
from engine.words import month_day
from service.i18n import N_

__all__ = ["BlackoutIn", "BlackoutPatch", "BusyIn", "Candidate", "ExpertPatch", "FieldName", "LunchIn", "Outcome",
           "OvernightIn", "Rating",
           "Recommendations", "RequestIn", "RequestPatch", "WeekJob"]

def _field_id(value: Any) -> Any:
    """A field by id, label or usual variant (``データ活用`` → ``data``), as everywhere."""
    return (resolve_field(value) or value) if isinstance(value, str) else value


def _municipality_code(value: Any) -> Any:
    """A municipality by code, Japanese or romaji name (``上島町`` → ``383562``)."""
    return (resolve_municipality(value) or value) if isinstance(value, str) else value


def _mode(value: Any) -> Any:
    """A mode as the sheet reads it (``訪問`` → ``onsite``, ``オンライン`` → ``online``)."""
    return (read_mode(value) or value) if isinstance(value, str) else value


def _date(value: Any) -> Any:
    """A date as the sheet and plan-request/1 read it (``2026/12/8``, ``2026年12月8日``)."""
    return (read_date(value) or value) if isinstance(value, str) else value


FieldName = Annotated[Literal[FIELDS], BeforeValidator(_field_id)]  # type: ignore[valid-type]
Mode = Annotated[Literal["onsite", "online"], BeforeValidator(_mode)]
Day = Annotated[dt.date, BeforeValidator(_date)]
MunicipalityRef = Annotated[str, BeforeValidator(_municipality_code)]
HHMM = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
SAFE_DATE_MIN = dt.date(2000, 1, 1)
SAFE_DATE_MAX = dt.date(2100, 12, 31)


def bilingual(en: str, ja: str) -> PydanticCustomError:
    """A validator's error whose words carry the bad value, in English and Japanese (the
    catalogue cannot hold a text made with the value); the service answers in the client's
    language (``service.problems``)."""
    return PydanticCustomError("bilingual", "{en}", {"en": en, "ja": ja})


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _no_control(v: str | None) -> str | None:
    if v is not None and any(ord(c) < 32 and c not in "\n\t" for c in v):
        raise ValueError("must not contain control characters")
    return v


def _date_range(v: dt.date | None) -> dt.date | None:
    if v is not None and not SAFE_DATE_MIN <= v <= SAFE_DATE_MAX:
        raise bilingual(f"must be between {SAFE_DATE_MIN} and {SAFE_DATE_MAX}",
                        f"{SAFE_DATE_MIN} から {SAFE_DATE_MAX} の範囲である必要があります")
    return v


def _distinct(v: list[str] | None) -> list[str] | None:
    """One expert per field: a field named twice is a mistake, not two experts."""
    seen: set[str] = set()
    for i, f in enumerate(v or []):
        if f in seen:
            raise bilingual(f"fields[{i}]: {f!r} is listed twice (one expert per field)",
                            f"fields[{i}]: {f!r} が重複しています（1 分野に専門家 1 名）")
        seen.add(f)
    return v


class _Strict(BaseModel):
    """Unknown keys are refused; numbers and booleans are taken only as JSON numbers and
    booleans (``true`` is not 1, ``"60"`` is not 60): see the ``StrictInt``/``StrictBool``
    fields below."""

    model_config = ConfigDict(extra="forbid")


class AfterIn(_Strict):
    """A follow-up's link (plan-request/1 ``requests[].after``): served only after the request
    ``request`` (an id of a stored request), ``min_days`` to ``max_days`` calendar days later,
    by the same experts unless ``same_experts`` is false."""

    request: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    min_days: StrictInt = Field(default=1, ge=1, le=366)
    max_days: StrictInt | None = Field(default=None, ge=1, le=366)
    same_experts: StrictBool = True


class RequestIn(_Strict):
    """A consultation request. ``municipality`` is required for centre keys and must be the
    key's own municipality (or absent) for municipality keys. ``fields``: one per expert
    needed (two or more = a joint visit). ``submit``: create it submitted, not draft."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "fields": ["pr"], "mode": "onsite", "duration_min": 90, "priority": 7,
        "earliest": "2026-12-07", "latest": "2026-12-11", "window": ["13:00", "17:00"],
        "title": "SNSアカウント統合", "confidential": False, "submit": True}]})

    municipality: MunicipalityRef | None = Field(default=None, max_length=32)
    fields: list[FieldName] = Field(min_length=1, max_length=5)
    mode: Mode
    duration_min: StrictInt = Field(gt=0, le=MAX_DURATION_MIN)
    priority: StrictInt = Field(default=PRIORITY_DEFAULT, ge=1, le=10)
    earliest: Day
    latest: Day
    window: tuple[str, str] | None = None
    title: str = Field(default="", max_length=200)
    confidential: StrictBool = False
    #: a follow-up of another request (「前回」), or none
    after: AfterIn | None = None
    #: the date the request is due (plan-request/1 ``requests[].due``): each day a visit
    #: falls after it costs the week's ``late_day``
    due: Day | None = None
    submit: StrictBool = False

    _c = field_validator("title", "municipality")(_no_control)
    _f = field_validator("fields")(_distinct)
    _d = field_validator("earliest", "latest", "due")(_date_range)

    @field_validator("latest")
    @classmethod
    def _after_earliest(cls, v: dt.date, info: Any) -> dt.date:
        first = info.data.get("earliest")
        if first is not None and v < first:
            raise bilingual(f"must not be before earliest ({month_day(first)})",
                            f"earliest（{month_day(first)}）より前にはできません")
        return v

    @field_validator("window")
    @classmethod
    def _window(cls, v: tuple[str, str] | None) -> tuple[str, str] | None:
        if v is None:
            return v
        import re

        for part in v:
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", part):
                raise bilingual(f"{part!r} is not a time HH:MM",
                                f"{part!r} は時刻（HH:MM）ではありません")
        if _minutes(v[0]) >= _minutes(v[1]):
            raise ValueError(N_("start must be before end"))
        return v


class RequestPatch(_Strict):
    """Change a draft or submitted request; only the fields given change."""

    fields: list[FieldName] | None = Field(default=None, min_length=1, max_length=5)
    mode: Mode | None = None
    duration_min: StrictInt | None = Field(default=None, gt=0, le=MAX_DURATION_MIN)
    priority: StrictInt | None = Field(default=None, ge=1, le=10)
    earliest: Day | None = None
    latest: Day | None = None
    window: tuple[str, str] | None = None
    title: str | None = Field(default=None, max_length=200)
    confidential: StrictBool | None = None
    after: AfterIn | None = None
    due: Day | None = None

    _c = field_validator("title")(_no_control)
    _f = field_validator("fields")(_distinct)
    _d = field_validator("earliest", "latest", "due")(_date_range)
    _w = field_validator("window")(RequestIn._window.__func__)  # type: ignore[attr-defined]


class OvertimeIn(_Strict):
    """An expert's overtime (FORMAT.md ``experts[].overtime``): a day may end up to
    ``max_minutes`` after work_end, each minute past it costing ``minute_cost``."""

    max_minutes: StrictInt = Field(ge=0, le=1440)
    minute_cost: StrictInt = Field(ge=0)


class LunchIn(_Strict):
    """An expert's lunch (FORMAT.md ``experts[].lunch``): on each date with a consultation,
    one break of ``minutes`` inside ``window`` (two ``HH:MM`` times within the working
    hours)."""

    minutes: StrictInt = Field(gt=0, le=600)
    window: tuple[str, str]

    _w = field_validator("window")(RequestIn._window.__func__)  # type: ignore[attr-defined]


class OvernightIn(_Strict):
    """An expert's nights away (FORMAT.md ``experts[].overnight``): a day may end at one of
    ``places`` (municipalities by code or name, or ``"*"``: any), each night costing
    ``night_cost``, at most ``max_nights`` nights in a row."""

    places: list[MunicipalityRef] | Literal["*"]
    night_cost: StrictInt = Field(default=0, ge=0)
    max_nights: StrictInt = Field(default=1, ge=0, le=366)

    @field_validator("places")
    @classmethod
    def _places(cls, v: list[str] | str) -> list[str] | str:
        if isinstance(v, list) and not 1 <= len(v) <= 100:
            raise ValueError(N_("give 1 to 100 places, or \"*\" for every municipality"))
        return v


class BusyIn(_Strict):
    """A standing appointment (FORMAT.md ``experts[].busy[]``): the expert is taken on
    ``date`` from ``start`` to ``end`` (``HH:MM``, within the working hours), at the place
    ``at`` when given (a municipality by code or name, stored by its code; the names the API
    shows beside it, ``at_name_ja``/``at_name_en``, may come back and are not stored)."""

    date: Day
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    at: MunicipalityRef | None = Field(default=None, min_length=1, max_length=32)
    #: the place's names as the API gives them beside ``at``: taken back unchanged from a
    #: list read and sent again, and never stored (the names follow the code)
    at_name_ja: str | None = Field(default=None, max_length=64)
    at_name_en: str | None = Field(default=None, max_length=64)

    _d = field_validator("date")(_date_range)
    _c = field_validator("at")(_no_control)

    @field_validator("end")
    @classmethod
    def _after_start(cls, v: str, info: Any) -> str:
        start = info.data.get("start")
        if start is not None and _minutes(start) >= _minutes(v):
            raise bilingual(f"must be after start ({start})",
                            f"開始（{start}）より後である必要があります")
        return v


class ExpertPatch(_Strict):
    """Change an expert's availability or caps (centre only)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "days": ["2026-12-07", "2026-12-08", "2026-12-10"], "max_onsite_days": 2}]})

    name: str | None = Field(default=None, max_length=100)
    fields: list[FieldName] | None = Field(default=None, min_length=1, max_length=5)
    work_start: str | None = HHMM
    work_end: str | None = HHMM
    days: list[dt.date] | None = Field(default=None, max_length=400)
    max_visits_per_day: StrictInt | None = Field(default=None, ge=0, le=50)
    max_visits_total: StrictInt | None = Field(default=None, ge=0, le=1000)
    max_drive_minutes_per_day: StrictInt | None = Field(default=None, ge=0, le=1440)
    max_onsite_days: StrictInt | None = Field(default=None, ge=0, le=400)
    overtime: OvertimeIn | None = None
    lunch: LunchIn | None = None
    overnight: OvernightIn | None = None
    #: the standing appointments, all of them (the list given replaces the stored one)
    busy: list[BusyIn] | None = Field(default=None, max_length=400)

    _c = field_validator("name")(_no_control)
    _f = field_validator("fields")(_distinct)

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[dt.date] | None) -> list[dt.date] | None:
        for d in v or []:
            _date_range(d)
        return v

    @field_validator("work_end")
    @classmethod
    def _hours(cls, v: str | None, info: Any) -> str | None:
        start = info.data.get("work_start")
        if v is not None and start is not None and _minutes(start) >= _minutes(v):
            raise bilingual("must be after work_start", "work_start より後である必要があります")
        return v


class BlackoutIn(_Strict):
    """A date on which the listed experts (``["*"]`` = everyone) cannot work."""

    date: dt.date
    experts: list[str] = Field(default_factory=lambda: ["*"], min_length=1, max_length=50)
    reason: str = Field(default="", max_length=200)

    _c = field_validator("reason")(_no_control)
    _d = field_validator("date")(_date_range)


class BlackoutPatch(_Strict):
    """Change a stored blackout; only the fields given change."""

    date: dt.date | None = None
    experts: list[str] | None = Field(default=None, min_length=1, max_length=50)
    reason: str | None = Field(default=None, max_length=200)

    _c = field_validator("reason")(_no_control)
    _d = field_validator("date")(_date_range)


class WeekJob(_Strict):
    """Plan a week from the database: its submitted and scheduled requests, all experts.
    ``keep_published``: ``fixed`` keeps the week's published visits exactly; ``prefer`` lets
    them move but minimises the moves."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"week": "2026-12-07"}, {"week": "2026-12-07", "keep_published": "prefer",
                                 "time_limit": 10, "seed": 0,
                                 "blackouts": [{"date": "2026-12-09",
                                                "experts": ["design-1", "data-1"],
                                                "reason": "DXキャンプ準備"}]}]})

    week: dt.date
    keep_published: Literal["fixed", "prefer"] = "fixed"
    blackouts: list[BlackoutIn] = Field(default_factory=list, max_length=100)
    time_limit: StrictFloat | None = Field(default=None, gt=0, le=600)
    seed: StrictInt = Field(default=0, ge=0, le=2**31 - 1)

    _d = field_validator("week")(_date_range)


class Outcome(_Strict):
    """What happened at a visit: held or not, notes, satisfaction 1–5."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"held": True, "notes": "次回はデータ連携を相談", "satisfaction": 4}]})

    held: StrictBool
    notes: str | None = Field(default=None, max_length=5000)
    satisfaction: StrictInt | None = Field(default=None, ge=1, le=5)

    _c = field_validator("notes")(_no_control)


class Candidate(BaseModel):
    """One recommended candidate: score 0..100 and its breakdown in points."""

    candidate: str
    rank: int
    name: str
    kind: str
    score: float
    field: float
    topic: float
    skill: float
    distance: float
    capacity: float
    outcome: float
    proximity: float
    travel_min: int
    capacity_left: int
    explanation: str
    explanation_ja: str


class Recommendations(BaseModel):
    need: str
    k: int
    version: int
    candidates: list[Candidate]


class Rating(BaseModel):
    """The outcome of an engagement: rating 1–5 (the candidate's outcome score uses it),
    and the engagement is then ``completed``."""

    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [{"rating": 4}]}}

    rating: StrictInt = Field(ge=1, le=5)
