"""Frozen domain objects of the weekly plan: the problem (``PlanRequest``) and its answer (``Plan``).

Times of day are whole minutes after midnight (``510`` is 08:30), dates are ``datetime.date``
and durations and travel times are whole minutes. The exchange format (``engine.format``)
turns JSON into these objects once, validated; solvers take them and return a ``Plan``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from engine.clock import fmt_time, grid_down, grid_up
from engine.nights import Overnight

__all__ = [
    "FIELDS", "After", "FIELD_LABELS", "START_GRIDS", "Blackout", "Break", "Busy", "Change",
    "Closure", "Expert", "Coverage", "Fixed", "Goals", "Horizon", "Location",
    "LocationCoverage", "Lunch", "Objective", "Overnight", "Overtime", "Plan", "PlanRequest", "Request",
    "Route", "SmallTowns", "SolveInfo", "Unscheduled", "Visit", "fmt_time",
]

#: The appointment grids a horizon may use (``horizon.start_grid_min``, minutes).
START_GRIDS: tuple[int, ...] = (1, 5, 10, 15, 20, 30, 60)

#: The programme's five fields of expertise, in its own order.
FIELDS: tuple[str, ...] = ("design", "security", "data", "cocreation", "pr")

#: Labels of the known fields (English, Japanese). Other field names are allowed and shown as-is.
FIELD_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "design": ("design thinking / UI-UX", "デザイン思考・UI/UX"),
    "security": ("systems / security", "システム・セキュリティ"),
    "data": ("data use", "データ利活用"),
    "cocreation": ("public-private co-creation", "官民共創"),
    "pr": ("PR / marketing", "広報・マーケティング"),
})

Mode = Literal["onsite", "online"]
Status = Literal["optimal", "feasible", "infeasible", "error"]


@dataclass(frozen=True, slots=True)
class Location:
    """A place where consultations are held or an expert's day starts.

    ``open``/``close`` in minutes after midnight bound every consultation with it.
    ``island`` marks a location reached by ferry (its travel estimate adds ``ferry_minutes``).
    ``closed``: the hours of every date (minutes, start inclusive, end exclusive) in which no
    consultation with it runs, on site or online (the town hall's lunch hour ``(720, 780)``).
    """

    id: str
    name: str
    lat: float | None = None
    lon: float | None = None
    open: int = 510
    close: int = 1035
    max_visits_per_day: int | None = None
    name_en: str = ""
    island: bool = False
    ferry_minutes: int | None = None
    population: int | None = None
    closed: tuple[tuple[int, int], ...] = ()
    #: (date, expert-visits) made there outside a part (``solvers.parts``); not in the format
    taken: tuple[tuple[dt.date, int], ...] = ()

    def cap_on(self, date: dt.date) -> int | None:
        """The expert-visits it may still host on ``date``, ``taken`` counted (None: no cap)."""
        cap = self.max_visits_per_day
        return None if cap is None else max(0, cap - sum(n for d, n in self.taken if d == date))

    @property
    def label(self) -> str:
        """``'松山市 (Matsuyama)'`` where a romaji name is known."""
        return f"{self.name} ({self.name_en})" if self.name_en and self.name_en != self.name else self.name


@dataclass(frozen=True, slots=True)
class Lunch:
    """An expert's lunch: on every date with any consultation, one break of ``minutes`` that
    starts at ``start`` or later and ends by ``end`` (minutes after midnight), during no
    consultation and no drive (waiting may be lunch)."""

    minutes: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Busy:
    """A standing appointment of an expert (``experts[].busy``): on ``date`` from ``start`` to
    ``end`` (minutes after midnight) they are taken, anywhere but not driving; with ``at`` (a
    location id) they must be there, so that the day's drives go around it."""

    date: dt.date
    start: int
    end: int
    at: str | None = None


@dataclass(frozen=True, slots=True)
class Overtime:
    """``experts[].overtime``: a day may end up to ``max_minutes`` after ``work_end``, each
    minute past it costing ``minute_cost`` (a day ends when the drive home or the last
    consultation, online ones included, ends: the later of the two)."""

    max_minutes: int
    minute_cost: int


@dataclass(frozen=True, slots=True)
class Expert:
    """One shared expert. Caps count on-site visits; ``None`` means no cap."""

    id: str
    fields: tuple[str, ...]
    base: str
    work_start: int = 510
    work_end: int = 1035
    days: tuple[dt.date, ...] | None = None
    max_visits_per_day: int | None = None
    max_visits_total: int | None = None
    max_drive_minutes_per_day: int | None = None
    max_onsite_days: int | None = None
    name: str = ""
    max_onsite_days_per_month: int | None = None
    #: On-site days the contract pays in particular months (``"2026-08"`` → days), over
    #: ``max_onsite_days_per_month`` for those months.
    onsite_days_by_month: Mapping[str, int] = field(default_factory=dict)
    lunch: Lunch | None = None
    busy: tuple[Busy, ...] = ()
    overtime: Overtime | None = None
    overnight: Overnight | None = None

    @property
    def day_end(self) -> int:
        """The latest a day may end: ``work_end`` plus any overtime's ``max_minutes``."""
        return self.work_end + (self.overtime.max_minutes if self.overtime is not None else 0)

    def overtime_cost(self, end: int) -> int:
        """What a day ending at ``end`` (minutes) costs in overtime (0 without overtime).

        >>> Expert("e", ("pr",), "b", work_end=1035, overtime=Overtime(60, 20)).overtime_cost(1065)
        600
        """
        ot = self.overtime
        return 0 if ot is None else ot.minute_cost * max(0, end - self.work_end)

    def month_cap(self, year: int, month: int) -> int | None:
        """The cap on on-site dates in that calendar month (None: none)."""
        return self.onsite_days_by_month.get(f"{year:04d}-{month:02d}",
                                             self.max_onsite_days_per_month)


@dataclass(frozen=True, slots=True)
class Fixed:
    """A published visit: these experts, this date, this start (minutes after midnight)."""

    experts: tuple[str, ...]
    date: dt.date
    start: int


@dataclass(frozen=True, slots=True)
class After:
    """A follow-up's link to the visit it follows (``requests[].after``, FORMAT.md): it is
    served only if ``request`` is, on a date ``min_days`` to ``max_days`` (None: no upper
    limit) calendar days after that visit's date, and when ``same_experts`` by exactly the
    experts who made that visit.

    >>> After("r7", 14, 28).allows(14), After("r7", 14, 28).allows(29)
    (True, False)
    """

    request: str
    min_days: int = 1
    max_days: int | None = None
    same_experts: bool = True
    #: the visit it follows when that was made before this document (an earlier week's
    #: plan): its date and experts; ``request`` is then no request of the document
    date: dt.date | None = None
    experts: tuple[str, ...] = ()

    def allows(self, days: int) -> bool:
        """Whether a follow-up ``days`` calendar days after its predecessor keeps the gap."""
        return days >= self.min_days and (self.max_days is None or days <= self.max_days)


@dataclass(frozen=True, slots=True)
class Request:
    """A consultation a municipality asked for; ``fields`` has one entry per expert needed."""

    id: str
    location: str
    fields: tuple[str, ...]
    mode: Mode
    duration_min: int
    priority: int
    earliest: dt.date
    latest: dt.date
    window: tuple[int, int] | None = None
    fixed: Fixed | None = None
    title: str = ""
    confidential: bool = False
    #: a follow-up of another request (None: stands alone)
    after: After | None = None
    #: The date it is due: each calendar day a visit falls after it costs ``objective.late_day``.
    due: dt.date | None = None

    def days_late(self, date: dt.date) -> int:
        """Calendar days a visit on ``date`` falls after ``due`` (0 when on time or no due).

        >>> Request("r1", "town", ("pr",), "online", 60, 5, dt.date(2026, 12, 7),
        ...         dt.date(2026, 12, 11), due=dt.date(2026, 12, 8)).days_late(dt.date(2026, 12, 10))
        2
        """
        return max(0, (date - self.due).days) if self.due is not None else 0

    @property
    def joint(self) -> bool:
        return len(self.fields) > 1

    @property
    def onsite(self) -> bool:
        return self.mode == "onsite"


@dataclass(frozen=True, slots=True)
class Blackout:
    """A date on which the listed experts (``('*',)`` = everyone) cannot work.

    With ``start``/``end`` (minutes after midnight) only that part of the day is taken: the
    date stays workable, but no consultation of those experts may overlap it (an expert who
    fell ill at 10:00 may still drive home from the visit in progress).
    """

    date: dt.date
    experts: tuple[str, ...] = ("*",)
    reason: str = ""
    start: int | None = None
    end: int | None = None

    def applies_to(self, expert_id: str) -> bool:
        return "*" in self.experts or expert_id in self.experts

    @property
    def whole_day(self) -> bool:
        return self.start is None


@dataclass(frozen=True, slots=True)
class Closure:
    """A location closed on ``date`` from ``start`` to ``end`` (minutes after midnight): no
    consultation with it, on site or online, may overlap that time (a typhoon warning closes
    the town hall)."""

    location: str
    date: dt.date
    start: int
    end: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Horizon:
    """The dates planned. ``published_until`` (optional): the plan up to that date is
    published, so no new visit is added on or before it (only its fixed visits are there)."""

    start: dt.date
    end: dt.date
    skip_holidays: bool = True
    blackouts: tuple[Blackout, ...] = ()
    published_until: dt.date | None = None
    #: Local date-time up to which the week is history: no new (unfixed) consultation starts
    #: before it, and an unfixed visit that day is reached by a drive that leaves no earlier.
    history_until: dt.datetime | None = None
    closures: tuple[Closure, ...] = ()
    #: Appointment grid: every consultation starts on a multiple of this many minutes after
    #: midnight (1: any minute; one of ``START_GRIDS``). Drives are not on it.
    start_grid_min: int = 1

    def grid_up(self, minute: int) -> int:
        """The first start on the appointment grid at or after ``minute``.

        >>> Horizon(dt.date(2026, 6, 1), dt.date(2026, 6, 5), start_grid_min=15).grid_up(556)
        570
        """
        return grid_up(minute, self.start_grid_min)

    def grid_down(self, minute: int) -> int:
        """The last start on the appointment grid at or before ``minute``."""
        return grid_down(minute, self.start_grid_min)

    @property
    def dates(self) -> list[dt.date]:
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]


@dataclass(frozen=True)
class Coverage:
    """The season goal that every place is reached (``goals.coverage``, FORMAT.md).

    Each location that is no expert's base should have at least ``min_visits`` consultations of
    the counted ``modes`` (``overrides`` per location id, 0 to exempt one); each one missing
    costs ``penalty`` in the objective.
    """

    min_visits: int = 1
    penalty: int = 5000
    modes: tuple[str, ...] = ("onsite", "online")
    overrides: Mapping[str, int] = field(default_factory=dict)

    def floors(self, problem: PlanRequest) -> dict[str, int]:
        """Location id → its floor (only those above zero)."""
        bases = {e.base for e in problem.experts}
        out = {}
        for loc in problem.locations:
            floor = self.overrides.get(loc.id, 0 if loc.id in bases else self.min_visits)
            if floor > 0:
                out[loc.id] = floor
        return out


@dataclass(frozen=True)
class SmallTowns:
    """The season goal that towns under ``population_below`` inhabitants are served first:
    each priority point served there earns ``bonus`` in the objective (``goals.small_towns``)."""

    population_below: int = 50_000
    bonus: int = 200

    def includes(self, loc: Location) -> bool:
        return loc.population is not None and loc.population < self.population_below


@dataclass(frozen=True)
class Goals:
    """The programme's season goals (both optional)."""

    coverage: Coverage | None = None
    small_towns: SmallTowns | None = None


@dataclass(frozen=True, slots=True)
class Objective:
    """Weights of the default objective (see FORMAT.md)."""

    priority: int = 1000
    drive_minute: int = 1
    onsite_day: int = 0
    #: cost of each calendar day a visit falls after its request's ``due`` date
    late_day: int = 0


@dataclass(frozen=True)
class PlanRequest:
    """A whole weekly problem: horizon, places, experts, requests, travel and objective.

    ``travel`` holds only the minutes given in the document; ``engine.travel.TravelTimes``
    fills the missing pairs with the documented estimate.
    """

    horizon: Horizon
    locations: tuple[Location, ...]
    experts: tuple[Expert, ...]
    requests: tuple[Request, ...]
    travel: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    objective: Objective = Objective()
    timezone: str = "Asia/Tokyo"
    extra: Mapping[str, object] = field(default_factory=dict)
    goals: Goals = Goals()

    @cached_property
    def location_by_id(self) -> dict[str, Location]:
        return {loc.id: loc for loc in self.locations}

    @cached_property
    def expert_by_id(self) -> dict[str, Expert]:
        return {e.id: e for e in self.experts}

    @cached_property
    def request_by_id(self) -> dict[str, Request]:
        return {r.id: r for r in self.requests}


@dataclass(frozen=True, slots=True)
class Visit:
    """A scheduled consultation; ``start``/``end`` in minutes after midnight."""

    request: str
    experts: tuple[str, ...]
    location: str
    mode: Mode
    date: dt.date
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Route:
    """One expert's on-site day: leave the base, the stops in order, return.

    ``departures`` (optional, minutes after midnight) says when each leg is driven, one per leg
    base → first stop, stop → stop, last stop → base: each leg is one block of its travel minutes
    (``leave`` is the first departure, ``return_`` the last one plus the drive home).
    """

    expert: str
    date: dt.date
    leave: int
    return_: int
    stops: tuple[str, ...]
    drive_minutes: int
    departures: tuple[int, ...] = ()
    #: where the day starts and ends (location ids; None: the expert's base), other than the
    #: base only after and before a night away (``experts[].overnight``)
    start_at: str | None = None
    end_at: str | None = None


@dataclass(frozen=True, slots=True)
class Break:
    """An expert's lunch break on a date, ``start``/``end`` in minutes after midnight."""

    expert: str
    date: dt.date
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Unscheduled:
    """A request left out, with reasons in English and Japanese (same order)."""

    request: str
    reasons: tuple[str, ...]
    reasons_ja: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LocationCoverage:
    """How a location fares against its coverage floor (``goals.coverage``): consultations of
    the counted modes planned there, the floor, what is missing, and why (English, Japanese,
    codes) when something is."""

    location: str
    visits: int
    min_visits: int
    shortfall: int
    reasons: tuple[str, ...] = ()
    reasons_ja: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one request between the previous plan and this one.

    ``kind`` is ``moved`` (still planned, other date, start or experts), ``added`` (planned
    now, not before), ``dropped`` (planned before, left out now) or ``withdrawn`` (planned
    before, no longer requested). ``before``/``after`` are the visits (``None`` where there is
    none); ``location`` is the request's place, so that the centre knows whom to call.
    """

    request: str
    kind: Literal["moved", "added", "dropped", "withdrawn"]
    location: str
    before: Visit | None = None
    after: Visit | None = None


#: The solver block's keys that plan/1 names (docs/FORMAT.md, ``solver``), in its order.
_SOLVE_INFO_KEYS = (
    "seed", "workers", "time_limit", "deterministic_time", "method", "moved", "moved_optimal",
    "released_fixed", "released_fewest", "conflicting_fixed", "first_plan", "seconds",
    "parts", "executor", "executor_workers", "parts_late", "parts_optimal", "first_objective",
    "repair_rounds", "repairs_kept", "deterministic", "bound_method", "gap", "explained",
    "seconds_parts", "seconds_repair", "seconds_reasons", "slot",
)


@dataclass(frozen=True)
class SolveInfo(Mapping[str, object]):
    """How a plan was made: plan/1's ``solver`` block (docs/FORMAT.md), its keys as typed
    fields (None: not reported) and any other key a solver reports in ``extra``. It reads as
    the mapping it is written as (``info["gap"]``, ``dict(info)``), so the JSON is the same.

    >>> info = SolveInfo.of({"seed": 0, "gap": 0.01, "attempts": 2})
    >>> info.gap, info["attempts"], dict(info)
    (0.01, 2, {'seed': 0, 'gap': 0.01, 'attempts': 2})
    """

    seed: int | None = None
    workers: int | None = None
    time_limit: float | None = None
    #: the searches' limit in CP-SAT's deterministic time, when one was given
    deterministic_time: float | None = None
    #: ``parts (regions)`` or ``parts (windows)`` for a plan made by parts
    method: str | None = None
    #: visits moved from the previous plan, and whether that is proven fewest
    moved: int | None = None
    moved_optimal: bool | None = None
    #: with status ``infeasible``: the fixed visits released, whether fewest is proven, and
    #: the published visits they clash with
    released_fixed: Sequence[str] | None = None
    released_fewest: bool | None = None
    conflicting_fixed: Sequence[str] | None = None
    #: ``"greedy"`` when the plan is the quick first plan
    first_plan: str | None = None
    #: when each stage was done, seconds from the start of the call
    seconds: Mapping[str, float] | None = None
    parts: int | None = None
    executor: str | None = None
    executor_workers: int | None = None
    parts_late: int | None = None
    parts_optimal: int | None = None
    first_objective: int | None = None
    repair_rounds: int | None = None
    repairs_kept: int | None = None
    deterministic: bool | None = None
    bound_method: str | None = None
    gap: float | None = None
    explained: int | None = None
    seconds_parts: float | None = None
    seconds_repair: float | None = None
    seconds_reasons: float | None = None
    #: a slot proposal's slot and the expert-days searched
    slot: Mapping[str, object] | None = None
    #: keys plan/1 does not name (a peer solver's ``name``, a season's ``kept_first``, ...),
    #: and a named key given as null, in the order given
    extra: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, given: SolveInfo | Mapping[str, object]) -> SolveInfo:
        """``given`` as a ``SolveInfo``: as it is, or from the mapping of its keys."""
        if isinstance(given, SolveInfo):
            return given
        named = {k: v for k, v in given.items() if k in _SOLVE_INFO_KEYS and v is not None}
        extra = {k: v for k, v in given.items() if k not in named}
        return cls(**named, extra=extra)  # type: ignore[arg-type]

    def _items(self) -> dict[str, object]:
        out: dict[str, object] = {k: getattr(self, k) for k in _SOLVE_INFO_KEYS
                                  if getattr(self, k) is not None}
        out.update(self.extra)
        return out

    def __getitem__(self, key: str) -> object:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


@dataclass(frozen=True)
class Plan:
    """The planner's answer (format ``plan/1``)."""

    status: Status
    objective: int | None
    bound: int | None
    solve_seconds: float
    visits: tuple[Visit, ...] = ()
    routes: tuple[Route, ...] = ()
    unscheduled: tuple[Unscheduled, ...] = ()
    kpis: Mapping[str, float | int] = field(default_factory=dict)
    messages: tuple[str, ...] = ()
    messages_ja: tuple[str, ...] = ()
    #: how it was made (a mapping of its keys is taken as one)
    solver: SolveInfo = field(default_factory=SolveInfo)
    changes: tuple[Change, ...] = ()
    coverage: tuple[LocationCoverage, ...] = ()
    #: With a repair after an event (``solvers.repair``): the event and what it cost.
    event: Mapping[str, object] | None = None
    #: The experts' lunch breaks (``experts[].lunch``), one per expert and date with any
    #: consultation.
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.solver, SolveInfo):
            object.__setattr__(self, "solver", SolveInfo.of(self.solver))

    @cached_property
    def visit_by_request(self) -> dict[str, Visit]:
        return {v.request: v for v in self.visits}
