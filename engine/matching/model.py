"""Frozen domain objects of network matching: who needs what, who offers what, and history.

A *need* is a consultation topic a municipality wants outside help with (a company or an
individual digital specialist, the *candidates*). Past *engagements* carry an outcome rating;
*conflicts* exclude a candidate from a municipality (e.g. its current vendor).

Units: distances in km, travel in minutes, effort in person-days, ratings 1-5, dates are
``datetime.date``. Every object validates itself and raises ``InputError`` whose problem paths
are the field names (readers prefix them with the document path, e.g. ``needs[3].``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from engine.errors import InputError, Problem
from engine.model import FIELD_LABELS, FIELDS

__all__ = [
    "CANDIDATE_KINDS",
    "ENGAGEMENT_STATUSES",
    "NEED_MODES",
    "TOPIC_LABELS",
    "Candidate",
    "Conflict",
    "Engagement",
    "MatchData",
    "Municipality",
    "Need",
    "field_label",
    "reference_problems",
    "topic_label",
]

NeedMode = Literal["onsite", "remote"]
CandidateKind = Literal["company", "individual"]
EngagementStatus = Literal["active", "completed"]

NEED_MODES: tuple[str, ...] = ("onsite", "remote")
CANDIDATE_KINDS: tuple[str, ...] = ("company", "individual")
ENGAGEMENT_STATUSES: tuple[str, ...] = ("active", "completed")

#: Labels (English, Japanese) of the topic tags the demo data uses. Other tags are allowed.
TOPIC_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "sns-consolidation": ("SNS account consolidation", "SNSアカウントの統合・運用"),
        "website-renewal": ("website renewal", "公式ウェブサイトの刷新"),
        "relocation-promotion": ("relocation promotion", "移住促進の情報発信"),
        "furusato-nozei": ("hometown tax donations", "ふるさと納税"),
        "cloud-migration": ("cloud migration", "クラウド移行"),
        "security-policy": ("information security policy", "情報セキュリティポリシー"),
        "system-standardisation": ("system standardisation", "基幹業務システムの標準化"),
        "zero-trust": ("zero-trust network", "ゼロトラスト"),
        "incident-response": ("security incident response", "インシデント対応"),
        "ebpm": ("evidence-based policy making (EBPM)", "EBPM（証拠に基づく政策立案）"),
        "open-data-guidelines": ("open data guidelines", "オープンデータ・ガイドライン"),
        "data-dashboard": ("data dashboards", "データダッシュボード"),
        "gis": ("GIS / maps", "GIS・地図"),
        "service-design": ("resident-centred service design", "住民中心のサービスデザイン"),
        "online-procedures": ("online procedures", "行政手続のオンライン化"),
        "my-number-card": ("My Number card uptake", "マイナンバーカードの普及・利活用"),
        "ux-research": ("user research", "ユーザー調査"),
        "plain-language": ("plain-language writing", "やさしい日本語・わかりやすい文書"),
        "public-private-partnership": ("public-private partnership", "官民連携"),
        "startup-challenge": ("startup challenge programmes", "スタートアップ連携・実証事業"),
        "digital-talent": ("digital talent development", "デジタル人材育成"),
        "community-network": ("community of municipalities", "自治体間コミュニティ"),
    }
)


def topic_label(tag: str, lang: str = "en") -> str:
    """Human label of a topic tag: ``topic_label('gis', 'ja')`` → ``'GIS・地図'``.

    Unknown tags are returned unchanged.
    """
    labels = TOPIC_LABELS.get(tag)
    if labels is None:
        return tag
    return labels[1] if lang == "ja" else labels[0]


def field_label(name: str, lang: str = "en") -> str:
    """Human label of a field: ``field_label('pr', 'ja')`` → ``'広報・マーケティング'``."""
    labels = FIELD_LABELS.get(name)
    if labels is None:
        return name
    return labels[1] if lang == "ja" else labels[0]


class _Checks:
    """Collects problems of one object; ``raise_if_any`` raises them as one ``InputError``."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def require(self, ok: bool, path: str, message: str, message_ja: str) -> None:
        if not ok:
            self.problems.append(Problem(path, message, message_ja))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)


def _check_id(c: _Checks, value: object, path: str) -> None:
    c.require(
        isinstance(value, str) and value.strip() != "",
        path,
        "must be a non-empty text",
        "空でない文字列が必要です",
    )


def _check_field(c: _Checks, value: str, path: str) -> None:
    c.require(
        value in FIELDS,
        path,
        f"unknown field {value!r} (known: {', '.join(FIELDS)})",
        f"未知の分野 {value!r}（{', '.join(FIELDS)}）",
    )


def _check_tags(c: _Checks, tags: tuple[str, ...], path: str) -> None:
    for i, t in enumerate(tags):
        c.require(
            isinstance(t, str) and t.strip() != "",
            f"{path}[{i}]",
            "must be a non-empty tag",
            "空でないタグが必要です",
        )


def _check_lat_lon(c: _Checks, lat: float, lon: float) -> None:
    c.require(-90.0 <= lat <= 90.0, "lat", "must be between -90 and 90", "-90〜90 の範囲が必要です")
    c.require(
        -180.0 <= lon <= 180.0, "lon", "must be between -180 and 180", "-180〜180 の範囲が必要です"
    )


@dataclass(frozen=True, slots=True)
class Municipality:
    """A local government (or the prefectural office).

    ``code`` is the 6-digit local government code, e.g. ``'382019'`` (Matsuyama);
    ``population`` counts residents; ``lat``/``lon`` locate the city or town hall (WGS84).
    """

    code: str
    name_ja: str
    name_en: str = ""
    kind: str = "city"
    region: str = ""
    lat: float = 0.0
    lon: float = 0.0
    population: int = 0
    island: bool = False

    def __post_init__(self) -> None:
        c = _Checks()
        _check_id(c, self.code, "code")
        _check_id(c, self.name_ja, "name_ja")
        _check_lat_lon(c, self.lat, self.lon)
        c.require(self.population >= 0, "population", "must be >= 0", "0 以上が必要です")
        c.raise_if_any()

    def label(self, lang: str = "en") -> str:
        """``'Matsuyama'`` (en) or ``'松山市'`` (ja); falls back to the Japanese name."""
        return self.name_en if lang == "en" and self.name_en else self.name_ja

    @property
    def is_prefecture(self) -> bool:
        return self.kind == "prefecture"


@dataclass(frozen=True, slots=True)
class Need:
    """What a municipality wants help with.

    ``effort_days`` is the expected effort in person-days (> 0); ``start``..``end`` is the time
    frame (inclusive); ``priority`` ranks the municipality's own needs, 1 being its top need;
    ``confidential`` needs are never shown to, nor used in reasons for, another municipality.

    >>> Need("N1", "382019", "pr", ("sns-consolidation",), mode="remote",
    ...      start=dt.date(2026, 4, 1), end=dt.date(2026, 9, 30), effort_days=10).onsite
    False
    """

    id: str
    municipality: str
    field: str
    topics: tuple[str, ...] = ()
    description: str = ""
    mode: NeedMode = "onsite"
    start: dt.date = dt.date(2026, 4, 1)
    end: dt.date = dt.date(2027, 3, 31)
    confidential: bool = False
    effort_days: float = 1.0
    priority: int = 1
    title: str = ""

    def __post_init__(self) -> None:
        c = _Checks()
        _check_id(c, self.id, "id")
        _check_id(c, self.municipality, "municipality")
        _check_field(c, self.field, "field")
        _check_tags(c, self.topics, "topics")
        c.require(
            self.mode in NEED_MODES,
            "mode",
            f"must be one of {', '.join(NEED_MODES)}, not {self.mode!r}",
            f"{' / '.join(NEED_MODES)} のいずれかが必要です（{self.mode!r}）",
        )
        c.require(self.end >= self.start, "end", "must not be before start", "開始日より前です")
        c.require(self.effort_days > 0, "effort_days", "must be > 0", "0 より大きい値が必要です")
        c.require(self.priority >= 1, "priority", "must be >= 1", "1 以上が必要です")
        c.raise_if_any()

    @property
    def onsite(self) -> bool:
        return self.mode == "onsite"

    @property
    def window_days(self) -> int:
        """Calendar days in the time frame, both ends included."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True, slots=True)
class Candidate:
    """A company or an individual who can take engagements.

    ``skills`` pairs a skill or topic tag with a level 1 (basic) .. 5 (leading);
    ``capacity`` counts concurrent engagements; ``max_travel_min`` is how far (car minutes)
    the candidate travels for on-site work; ``available_from``/``available_until`` bound the
    dates the candidate can work (``None`` = open).

    >>> Candidate("C1", "Iyo Data Lab", fields=("data",), skills=(("ebpm", 4),),
    ...           lat=33.76, lon=132.70).skill_level("ebpm")
    4
    """

    id: str
    name: str
    kind: CandidateKind = "company"
    fields: tuple[str, ...] = ()
    skills: tuple[tuple[str, int], ...] = ()
    topics: tuple[str, ...] = ()
    lat: float = 0.0
    lon: float = 0.0
    base: str = ""
    remote: bool = True
    capacity: int = 1
    max_travel_min: int = 120
    available_from: dt.date | None = None
    available_until: dt.date | None = None

    def __post_init__(self) -> None:
        c = _Checks()
        _check_id(c, self.id, "id")
        c.require(
            self.kind in CANDIDATE_KINDS,
            "kind",
            f"must be one of {', '.join(CANDIDATE_KINDS)}, not {self.kind!r}",
            f"{' / '.join(CANDIDATE_KINDS)} のいずれかが必要です（{self.kind!r}）",
        )
        c.require(len(self.fields) > 0, "fields", "must list at least one field", "分野が必要です")
        for i, f in enumerate(self.fields):
            _check_field(c, f, f"fields[{i}]")
        _check_tags(c, self.topics, "topics")
        seen: set[str] = set()
        for i, (name, level) in enumerate(self.skills):
            c.require(
                isinstance(name, str) and name.strip() != "",
                f"skills[{i}].name",
                "must be a non-empty text",
                "空でない文字列が必要です",
            )
            c.require(
                isinstance(level, int) and 1 <= level <= 5,
                f"skills[{i}].level",
                f"must be an integer 1..5, not {level!r}",
                f"1〜5 の整数が必要です（{level!r}）",
            )
            c.require(
                name not in seen, f"skills[{i}].name", f"duplicate skill {name!r}", "重複しています"
            )
            seen.add(name)
        _check_lat_lon(c, self.lat, self.lon)
        c.require(self.capacity >= 1, "capacity", "must be >= 1", "1 以上が必要です")
        c.require(self.max_travel_min >= 0, "max_travel_min", "must be >= 0", "0 以上が必要です")
        if self.available_from is not None and self.available_until is not None:
            c.require(
                self.available_until >= self.available_from,
                "available_until",
                "must not be before available_from",
                "available_from より前です",
            )
        c.raise_if_any()

    def skill_level(self, name: str) -> int:
        """Level 1..5 of a skill, 0 when the candidate does not list it."""
        for s, level in self.skills:
            if s == name:
                return level
        return 0


@dataclass(frozen=True, slots=True)
class Engagement:
    """A past or running engagement of a candidate with a municipality.

    ``status='active'`` engagements use one unit of the candidate's capacity; ``rating`` (1..5)
    is the municipality's outcome rating of a completed one. ``confidential`` engagements are
    used only for capacity and, for their own municipality, for past outcomes.
    """

    id: str
    candidate: str
    municipality: str
    field: str = ""
    topics: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    status: EngagementStatus = "completed"
    rating: float | None = None
    need: str = ""
    confidential: bool = False

    def __post_init__(self) -> None:
        c = _Checks()
        _check_id(c, self.id, "id")
        _check_id(c, self.candidate, "candidate")
        _check_id(c, self.municipality, "municipality")
        if self.field:
            _check_field(c, self.field, "field")
        _check_tags(c, self.topics, "topics")
        c.require(
            self.status in ENGAGEMENT_STATUSES,
            "status",
            f"must be one of {', '.join(ENGAGEMENT_STATUSES)}, not {self.status!r}",
            f"{' / '.join(ENGAGEMENT_STATUSES)} のいずれかが必要です（{self.status!r}）",
        )
        if self.rating is not None:
            c.require(1.0 <= self.rating <= 5.0, "rating", "must be 1..5", "1〜5 が必要です")
        if self.start is not None and self.end is not None:
            c.require(self.end >= self.start, "end", "must not be before start", "開始日より前です")
        c.raise_if_any()


@dataclass(frozen=True, slots=True)
class Conflict:
    """``candidate`` may not be matched with ``municipality`` (e.g. its current vendor)."""

    candidate: str
    municipality: str
    reason: str = ""

    def __post_init__(self) -> None:
        c = _Checks()
        _check_id(c, self.candidate, "candidate")
        _check_id(c, self.municipality, "municipality")
        c.raise_if_any()


def _default_where(table: str, index: int, column: str) -> str:
    return f"{table}[{index}].{column}"


def reference_problems(
    municipalities: tuple[Municipality, ...],
    needs: tuple[Need, ...],
    candidates: tuple[Candidate, ...],
    engagements: tuple[Engagement, ...],
    conflicts: tuple[Conflict, ...],
    where: object = _default_where,
    pending: Mapping[str, set[str]] | None = None,
) -> list[Problem]:
    """Duplicate ids and dangling references, with paths from ``where(table, index, column)``.

    ``pending`` (table → ids) names rows that exist but could not be read: references to them
    are no problem of their own (their row's problem is reported already)."""
    at = where if callable(where) else _default_where
    problems: list[Problem] = []

    def dupes(table: str, ids: list[str], column: str) -> set[str]:
        seen: set[str] = set()
        for i, x in enumerate(ids):
            if x in seen:
                problems.append(
                    Problem(
                        at(table, i, column), f"duplicate id {x!r}", f"ID {x!r} が重複しています"
                    )
                )
            seen.add(x)
        return seen

    codes = dupes("municipalities", [m.code for m in municipalities], "code")
    dupes("needs", [n.id for n in needs], "id")
    cand_ids = dupes("candidates", [c.id for c in candidates], "id")
    dupes("engagements", [e.id for e in engagements], "id")

    extra = pending or {}
    codes = codes | extra.get("municipalities", set())
    cand_ids = cand_ids | extra.get("candidates", set())

    def ref(table: str, i: int, column: str, value: str, known: set[str], what: str, ja: str):
        if value not in known:
            problems.append(
                Problem(at(table, i, column), f"unknown {what} {value!r}", f"未知の{ja} {value!r}")
            )

    for i, n in enumerate(needs):
        ref("needs", i, "municipality", n.municipality, codes, "municipality", "自治体")
    for i, e in enumerate(engagements):
        ref("engagements", i, "candidate", e.candidate, cand_ids, "candidate", "候補者")
        ref("engagements", i, "municipality", e.municipality, codes, "municipality", "自治体")
    for i, k in enumerate(conflicts):
        ref("conflicts", i, "candidate", k.candidate, cand_ids, "candidate", "候補者")
        ref("conflicts", i, "municipality", k.municipality, codes, "municipality", "自治体")
    return problems


@dataclass(frozen=True)
class MatchData:
    """Everything the matcher reads: municipalities, needs, candidates, history, conflicts.

    ``meta`` carries provenance, e.g. ``{"synthetic": True, "seed": 7}`` for generated data.
    Construction checks ids are unique and references resolve.
    """

    municipalities: tuple[Municipality, ...]
    needs: tuple[Need, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    engagements: tuple[Engagement, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = reference_problems(
            self.municipalities, self.needs, self.candidates, self.engagements, self.conflicts
        )
        if problems:
            raise InputError(problems)

    @cached_property
    def municipality_by_code(self) -> dict[str, Municipality]:
        return {m.code: m for m in self.municipalities}

    @cached_property
    def need_by_id(self) -> dict[str, Need]:
        return {n.id: n for n in self.needs}

    @cached_property
    def candidate_by_id(self) -> dict[str, Candidate]:
        return {c.id: c for c in self.candidates}

    def with_engagement(self, engagement: Engagement) -> MatchData:
        """A copy with one more engagement (the original is unchanged)."""
        return MatchData(
            self.municipalities,
            self.needs,
            self.candidates,
            self.engagements + (engagement,),
            self.conflicts,
            self.meta,
        )

    def visible_needs(self, as_municipality: str | None) -> tuple[Need, ...]:
        """Needs a viewer may see: all for ``None`` (the programme office), else the viewer's
        own needs plus every non-confidential need."""
        if as_municipality is None:
            return self.needs
        return tuple(
            n for n in self.needs if not n.confidential or n.municipality == as_municipality
        )
