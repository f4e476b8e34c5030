"""Why a request was not scheduled, in words a coordinator understands (English and Japanese).

Two kinds of answer:

- *nothing could serve it*: found before solving, from the request alone (no expert with the
  field, no workable day in its dates, no day where the drive and the consultation fit the
  hours, the round trip exceeds the drive cap, a cap of zero). The same analysis yields the
  ``Option`` windows the model is built on, so the two cannot disagree.
- *it gave way*: it could be served on its own, but in the plan every option is taken: a cap
  is full (which one, with what), or the expert's day is taken by which visits (with their
  priorities).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.calendar import date_status
from engine.kpis import coverage_of
from engine.model import (
    FIELD_LABELS,
    Expert,
    LocationCoverage,
    PlanRequest,
    Request,
    Route,
    Unscheduled,
    Visit,
    fmt_time,
)
from engine.travel import TravelTimes

__all__ = ["Explainer", "Option", "bare_reason", "not_analysed"]


@dataclass(frozen=True, slots=True)
class Option:
    """Expert ``expert`` may serve ``request`` on ``date`` covering one of ``slots`` (indices
    into the request's fields), starting between ``lo`` and ``hi`` (minutes after midnight)."""

    request: str
    expert: str
    date: dt.date
    slots: tuple[int, ...]
    lo: int
    hi: int


def bare_reason(rid: str, en: str, ja: str, code: str = "not_planned") -> Unscheduled:
    return Unscheduled(rid, (en,), (ja,), (code,))


def not_analysed(rid: str) -> Unscheduled:
    """The reason of a request left out whose analysis the time limit did not allow."""
    return bare_reason(rid, "left out; its reason was not analysed within the time limit",
                       "計画に入りませんでした（制限時間内に理由を分析できませんでした）",
                       "not_analysed")


def _field(f: str, lang: str) -> str:
    lab = FIELD_LABELS.get(f)
    if lab is None:
        return repr(f)
    return f"'{lab[0]}'" if lang == "en" else f"「{lab[1]}」"


def _md(d: dt.date) -> str:
    return f"{d.month}/{d.day}"


@dataclass
class _PlanState:
    """A plan seen as the reasons need it: its visits per request and per expert-day, the
    on-site counts, the on-site days and each route's driving."""

    by_req: dict[str, Visit]
    onsite_by_ed: dict[tuple[str, dt.date], list[Visit]]
    all_by_ed: dict[tuple[str, dt.date], list[Visit]]
    onsite_total: dict[str, int]
    loc_day: dict[tuple[str, dt.date], int]
    onsite_days: dict[str, list[dt.date]]
    drive: dict[tuple[str, dt.date], int]

    @classmethod
    def of(cls, visits: Iterable[Visit], routes: Iterable[Route]) -> _PlanState:
        visits = list(visits)
        st = cls({v.request: v for v in visits}, defaultdict(list), defaultdict(list),
                 defaultdict(int), defaultdict(int), defaultdict(list), {})
        for v in visits:
            for eid in v.experts:
                st.all_by_ed[eid, v.date].append(v)
                if v.mode == "onsite":
                    st.onsite_by_ed[eid, v.date].append(v)
                    st.onsite_total[eid] += 1
                    st.loc_day[v.location, v.date] += 1
        for r in routes:
            st.onsite_days[r.expert].append(r.date)
            st.drive[r.expert, r.date] = r.drive_minutes
        return st


@dataclass
class _Reasons:
    """The reasons of one request, in English and Japanese with their codes, each said once
    (by key), and the visits that stand in its way."""

    en: list[str] = field(default_factory=list)
    ja: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    blockers: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    def add(self, key: str, en: str, ja: str, code: str) -> None:
        if key not in self.seen:
            self.seen.add(key)
            self.en.append(en)
            self.ja.append(ja)
            self.codes.append(code)

@dataclass
class _Failures:
    """Why a request's (expert, date) pairs failed, for its reasons: per field whether any
    expert of it has a workable date, the dates in the published plan or past, and the
    pairs that failed by time, by driving and by a cap."""

    workable_any: dict[str, bool]
    published_any: bool = False
    past_any: bool = False
    fail_time: list[tuple[str, dt.date, str, str]] = field(default_factory=list)
    fail_drive: list[tuple[str, int, int]] = field(default_factory=list)
    fail_cap: list[tuple[str, str, str]] = field(default_factory=list)


class Explainer:
    """Pre-analysis of every request (its feasible options) and the reasons of those left out."""

    def __init__(self, problem: PlanRequest, travel: TravelTimes, *, lazy: bool = False):
        """Every request analysed at once; with ``lazy``, none until ``explain_unscheduled``
        needs it (an explainer made only for reasons, on the clock, then analyses no more
        requests than time allows)."""
        self.p = problem
        self.travel = travel
        self.options: dict[str, list[Option]] = {}
        self.static: dict[str, Unscheduled] = {}
        if not lazy:
            for q in problem.requests:
                self._ensure(q)

    def _ensure(self, q: Request) -> None:
        """Analyse ``q`` (its feasible options; the reason when it has none) if not yet."""
        if q.id not in self.options:
            opts, why = self._analyse(q)
            self.options[q.id] = opts
            if not opts:
                self.static[q.id] = why

    # ------------------------------------------------------------ names a person reads
    def _loc(self, lid: str, lang: str = "en") -> str:
        loc = self.p.location_by_id[lid]
        return loc.label if lang == "en" else loc.name

    def _who(self, eid: str) -> str:
        """An expert by display name (the id where none is given)."""
        e = self.p.expert_by_id.get(eid)
        return e.name if e is not None and e.name else eid

    def _visit(self, v: Visit, lang: str) -> str:
        """A planned visit as a coordinator names it: place, date, time, subject (never the
        subject of a confidential request), priority."""
        q = self.p.request_by_id[v.request]
        subject = f"「{q.title}」" if q.title and not q.confidential else ""
        when = f"{_md(v.date)} {fmt_time(v.start)}–{fmt_time(v.end)}"
        if lang == "en":
            return f"{self._loc(v.location)} {when}{subject} (priority {q.priority})"
        return f"{self._loc(v.location, 'ja')} {when}{subject}（優先度{q.priority}）"

    # ------------------------------------------------------------ before solving

    def _analyse(self, q: Request) -> tuple[list[Option], Unscheduled]:
        p = self.p
        missing = [f for f in q.fields if not any(f in e.fields for e in p.experts)]
        if missing:
            en = "; ".join(f"no expert has the field {_field(f, 'en')}" for f in missing)
            ja = "、".join(f"{_field(f, 'ja')}の専門家がいません" for f in missing)
            return [], Unscheduled(q.id, (en,), (ja,), ("no_expert_field",))
        opts: list[Option] = []
        why = _Failures({f: False for f in q.fields})
        span = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        for e in p.experts:
            slots = tuple(k for k, f in enumerate(q.fields) if f in e.fields)
            if not slots:
                continue
            if q.fixed is not None and e.id not in q.fixed.experts:
                continue
            for d in span:
                o = self._option_on(q, e, d, slots, why)
                if o is not None:
                    opts.append(o)
        opts = self._joint_filter(q, opts)
        if opts:
            return opts, Unscheduled(q.id, ())
        until = p.horizon.published_until
        if why.published_any and until is not None and q.latest <= until:
            dates = f"{_md(q.earliest)} – {_md(q.latest)}"
            return [], Unscheduled(
                q.id, (f"its dates ({dates}) are in the published plan, which runs to "
                       f"{_md(until)}: no new visit is added there",),
                (f"希望日（{dates}）は {_md(until)} までの公開済みの計画の中にあり、"
                 "新しい訪問は追加しません",), ("published_period",))
        past = p.horizon.history_until
        if why.past_any and past is not None and not any(why.workable_any.values()) or (
                why.past_any and past is not None and q.latest <= past.date()):
            when = f"{_md(past.date())} {past:%H:%M}"
            dates = f"{_md(q.earliest)} – {_md(q.latest)}"
            return [], Unscheduled(
                q.id, (f"its dates ({dates}) have passed: it is now {when}",),
                (f"希望日（{dates}）は過ぎています（現在 {when}）",), ("past_period",))
        return [], self._why_none(q, why)

    def _option_on(self, q: Request, e: Expert, d: dt.date, slots: tuple[int, ...],
                   why: _Failures) -> Option | None:
        """Expert ``e`` serving ``q`` on ``d`` (covering one of ``slots``), with the starts its
        hours, the place's, the window and the trip there and back allow; None (and why, in
        ``why``) when there is none."""
        p = self.p
        loc = p.location_by_id[q.location]
        if q.fixed is not None and d != q.fixed.date:
            return None
        if (q.fixed is None and p.horizon.published_until is not None
                and d <= p.horizon.published_until):
            why.published_any = True
            return None
        past = p.horizon.history_until
        if q.fixed is None and past is not None and d < past.date():
            why.past_any = True
            return None
        if not date_status(p.horizon, e, d).workable:
            return None
        for k in slots:
            why.workable_any[q.fields[k]] = True
        lo = max(loc.open, q.window[0] if q.window else 0)
        hi = min(loc.close, q.window[1] if q.window else 24 * 60) - q.duration_min
        if q.fixed is None and past is not None and d == past.date():
            # today: nothing new starts before now
            lo = max(lo, past.hour * 60 + past.minute)
            if lo > hi:
                why.past_any = True
                return None
        if q.onsite:
            zero = [c for c in ("max_visits_per_day", "max_visits_total",
                                "max_onsite_days", "max_onsite_days_per_month")
                    if getattr(e, c) == 0]
            if zero:
                why.fail_cap.append((e.id, zero[0], "expert"))
                return None
            if (loc.max_visits_per_day is not None
                    and loc.max_visits_per_day < len(q.fields)):
                # A joint visit of n experts counts n against the location's cap.
                why.fail_cap.append((e.id, "max_visits_per_day", "location"))
                return None
            # The shortest way there and back bounds every tour through this stop
            # (the exact legs of the chosen tour are rules of the model).
            out = self.travel.shortest(e.base, q.location)
            back = self.travel.shortest(q.location, e.base)
            if (e.max_drive_minutes_per_day is not None
                    and out + back > e.max_drive_minutes_per_day):
                why.fail_drive.append((e.id, out + back, e.max_drive_minutes_per_day))
                return None
            lo = max(lo, e.work_start + out)
            hi = min(hi, e.work_end - back - q.duration_min)
            if lo > hi:
                why.fail_time.append((e.id, d, f"{out}+{back}", "trip"))
                return None
        else:
            lo = max(lo, e.work_start)
            hi = min(hi, e.work_end - q.duration_min)
            if lo > hi:
                why.fail_time.append((e.id, d, "0", "hours"))
                return None
        # every consultation starts on the appointment grid
        lo, hi = p.horizon.grid_up(lo), p.horizon.grid_down(hi)
        if lo > hi:
            why.fail_time.append((e.id, d, "0", "grid"))
            return None
        return Option(q.id, e.id, d, slots, lo, hi)

    def _joint_filter(self, q: Request, opts: list[Option]) -> list[Option]:
        """Keep only dates where every field has its own expert and their windows meet."""
        if not opts:
            return opts
        by_date: dict[dt.date, list[Option]] = defaultdict(list)
        for o in opts:
            by_date[o.date].append(o)
        keep: list[Option] = []
        n = len(q.fields)
        for os_ in by_date.values():
            if n == 1 or _has_matching(n, os_):
                keep.extend(os_)
        return keep

    def _why_none(self, q: Request, why: _Failures) -> Unscheduled:
        """Why no (expert, date) can serve ``q`` at all: a fixed visit naming the wrong
        experts, no workable day, the drive cap, a cap of 0, no time, or no common time."""
        wrong = self._fixed_wrong(q)
        if wrong is not None:
            return wrong
        fail_time, fail_drive, fail_cap = why.fail_time, why.fail_drive, why.fail_cap
        # days as the other reasons write them (12/7), not ISO
        span_en = f"between {_md(q.earliest)} and {_md(q.latest)}"
        span_ja = f"{_md(q.earliest)} から {_md(q.latest)} の間に"
        if q.fixed is not None:
            span_en = f"on the fixed date {_md(q.fixed.date)}"
            span_ja = f"確定日 {_md(q.fixed.date)} に"
        en: list[str] = []
        ja: list[str] = []
        codes: list[str] = []
        for f, ok in why.workable_any.items():
            if not ok:
                en.append(f"no expert with field {_field(f, 'en')} works {span_en}")
                ja.append(f"{span_ja}{_field(f, 'ja')}の専門家が稼働できる日がありません")
                codes.append("no_workable_day")
        if not en and fail_drive:
            eid, trip, cap = fail_drive[0]
            en.append(f"the round trip to {self._loc(q.location)} takes {trip} min of driving, "
                      f"above {self._who(eid)}'s cap of {cap} min a day")
            ja.append(f"{self._loc(q.location, 'ja')}への往復運転 {trip} 分が {self._who(eid)} の1日の上限 "
                      f"{cap} 分を超えます")
            codes.append("drive_cap")
        if not en and fail_cap:
            e_, j_ = self._cap_zero(q, fail_cap[0])
            en.append(e_)
            ja.append(j_)
            codes.append("cap_zero")
        if not en and fail_time:
            e_, j_ = self._no_time(q, fail_time[0][0])
            en.append(e_)
            ja.append(j_)
            codes.append("no_time")
        if not en:
            fields = " and ".join(_field(f, "en") for f in q.fields)
            en.append(f"no date {span_en} on which experts for {fields} can all come at the "
                      "same time")
            ja.append(f"{span_ja}{'・'.join(_field(f, 'ja') for f in q.fields)}の専門家が"
                      "そろって対応できる日時がありません")
            codes.append("joint_no_common_time")
        return Unscheduled(q.id, tuple(en), tuple(ja), tuple(codes))

    def _fixed_wrong(self, q: Request) -> Unscheduled | None:
        """A fixed visit that names an unknown expert, or one without the request's fields."""
        if q.fixed is not None:
            unknown = [x for x in q.fixed.experts if x not in self.p.expert_by_id]
            if unknown:
                names = ", ".join(repr(x) for x in unknown)
                return Unscheduled(
                    q.id, (f"the fixed visit names {names}, who is not among the request's experts",),
                    (f"確定済みの訪問に指定された {names} は専門家一覧にいません",), ("fixed_unknown_expert",))
            wrong = [x for x in q.fixed.experts
                     if not set(self.p.expert_by_id[x].fields) & set(q.fields)]
            if wrong:
                names = ", ".join(self.p.expert_by_id[x].name or x for x in wrong)
                return Unscheduled(
                    q.id, (f"the fixed visit names {names}, who has none of the fields "
                           f"{', '.join(_field(f, 'en') for f in q.fields)}",),
                    (f"確定済みの訪問に指定された {names} は分野 "
                     f"{'・'.join(_field(f, 'ja') for f in q.fields)} を担当していません",),
                    ("fixed_wrong_field",))
        return None

    def _cap_zero(self, q: Request, failed: tuple[str, str, str]) -> tuple[str, str]:
        """A cap of 0 (the expert's, or the place's) that keeps the request out."""
        eid, cap_name, who = failed
        cap_n = self.p.location_by_id[q.location].max_visits_per_day
        if who == "location" and len(q.fields) > 1:
            en = (f"{self._loc(q.location)} hosts at most {cap_n} expert-visits a day, and "
                  f"this joint visit brings {len(q.fields)} experts")
            ja = (f"{self._loc(q.location, 'ja')}の1日の訪問上限は {cap_n} 件で、この合同訪問は"
                  f"専門家 {len(q.fields)} 名（{len(q.fields)} 件）になります")
        elif who == "location":
            en = f"{self._loc(q.location)} accepts no on-site visits (max_visits_per_day 0)"
            ja = f"{self._loc(q.location, 'ja')}は訪問を受け付けていません（上限 0）"
        else:
            en = f"{self._who(eid)} has {cap_name} = 0, so makes no on-site visits"
            ja = f"{self._who(eid)} の {cap_name} が 0 のため訪問できません"
        return en, ja

    def _no_time(self, q: Request, eid: str) -> tuple[str, str]:
        """No slot within the hours (and for an on-site visit the trip from ``eid``'s base)."""
        loc = self.p.location_by_id[q.location]
        win = f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}" if q.window else None
        hours = f"{fmt_time(loc.open)}–{fmt_time(loc.close)}"
        if q.onsite:
            e = self.p.expert_by_id[eid]
            out = self.travel.shortest(e.base, q.location)
            en = (
                f"no day where the trip and the consultation fit the hours: {out} min each way "
                f"from the base leaves no {q.duration_min}-minute slot within working hours "
                f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}, opening hours {hours}"
                + (f" and the window {win}" if win else ""))
            ja = (
                f"移動と相談が時間内に収まる日がありません: 拠点から片道 {out} 分かかり、勤務時間 "
                f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}・開庁時間 {hours}"
                + (f"・希望時間帯 {win}" if win else "") + f" の中に {q.duration_min} 分の枠が取れません")
        else:
            en = (f"no {q.duration_min}-minute slot within both the working hours and the "
                  f"opening hours {hours}" + (f" and the window {win}" if win else ""))
            ja = (f"勤務時間と開庁時間 {hours}" + (f"・希望時間帯 {win}" if win else "")
                  + f" の両方に収まる {q.duration_min} 分の枠がありません")
        grid = self.p.horizon.start_grid_min
        if grid > 1:
            en += f", starting on the {grid}-minute appointment grid"
            ja += f"（開始は {grid} 分刻み）"
        return en, ja

    # ------------------------------------------------------------ after solving
    def bare_unscheduled(self, served: set[str], *,
                         released: Mapping[str, tuple[str, ...] | None] | None = None
                         ) -> list[Unscheduled]:
        out = []
        for q in self.p.requests:
            if q.id in served:
                continue
            if released is not None and q.id in released:
                out.append(self.released_fixed(q.id, released[q.id]))
                continue
            out.append(self.static.get(q.id) or bare_reason(
                q.id, "gave way to other visits", "他の訪問を優先しました", "gave_way"))
        return out

    def released_fixed(self, rid: str, partners: tuple[str, ...] | None) -> Unscheduled:
        """A published visit the plan had to release: what it clashes with."""
        q = self.p.request_by_id[rid]
        assert q.fixed is not None
        f = q.fixed
        who = "・".join(self._who(e) for e in f.experts)
        when = f"{_md(f.date)} {fmt_time(f.start)}"
        head_en = f"the published visit ({who}, {self._loc(q.location)}, {when}) was released"
        head_ja = f"公開済みの訪問（{who}、{self._loc(q.location, 'ja')}、{when}）を外しました"
        if partners:
            others_en = ", ".join(self._fixed_ref(o, "en") for o in partners)
            others_ja = "、".join(self._fixed_ref(o, "ja") for o in partners)
            en = (f"{head_en}: it cannot be kept together with the published visits "
                  f"{others_en} (time, travel or a cap)")
            ja = f"{head_ja}: 公開済みの訪問 {others_ja} と同時には守れません（時間・移動・上限）"
        elif partners is not None:
            own = self.static.get(rid)
            en = f"{head_en}: " + (own.reasons[0] if own else self._fixed_detail(q)[0])
            ja = f"{head_ja}: " + (own.reasons_ja[0] if own and own.reasons_ja else
                                   "この日時・専門家では単独でも実施できません")
        else:
            en = f"{head_en}: keeping it would mean releasing more published visits"
            ja = f"{head_ja}: 守ると他の公開済みの訪問をより多く外すことになります"
        return Unscheduled(rid, (en,), (ja,), ("fixed_conflict",))

    def _fixed_ref(self, rid: str, lang: str) -> str:
        q = self.p.request_by_id[rid]
        assert q.fixed is not None
        f = q.fixed
        v = Visit(rid, f.experts, q.location, q.mode, f.date, f.start, f.start + q.duration_min)
        who = "・".join(self._who(e) for e in f.experts)
        return f"{self._visit(v, lang)} [{who}]"

    def explain_unscheduled(self, served: set[str], visits: Iterable[Visit],
                            routes: Iterable[Route], *,
                            released: Mapping[str, tuple[str, ...] | None] | None = None,
                            until: float | None = None) -> list[Unscheduled]:
        """Why each request not in ``served`` is left out, in the problem's order. With
        ``until`` (a ``time.perf_counter()`` reading) the requests are analysed highest
        priority first until then, and any left say that their reason was not analysed
        (``not_analysed``); released published visits and requests nothing can serve always
        get their reason, which costs nothing more."""
        plan = _PlanState.of(visits, routes)
        out: dict[str, Unscheduled] = {}
        order = [q for q in self.p.requests if q.id not in served]
        if until is not None:
            order.sort(key=lambda q: -q.priority)       # stable: the problem's order among equals
        for q in order:
            if released is not None and q.id in released:
                out[q.id] = self.released_fixed(q.id, released[q.id])
                continue
            if q.id in self.static:
                out[q.id] = self.static[q.id]
                continue
            if until is not None and time.perf_counter() > until:
                out[q.id] = not_analysed(q.id)
                continue
            self._ensure(q)
            if q.id in self.static:
                out[q.id] = self.static[q.id]
                continue
            out[q.id] = self._left_out(q, plan)
        return [out[q.id] for q in self.p.requests if q.id in out]

    def _left_out(self, q: Request, plan: _PlanState) -> Unscheduled:
        """The reasons of one request left out of ``plan``: for each of its options, the cap
        that is full or the visits that take the day; then whether it gave way to visits of
        equal or higher priority, or to a combination."""
        why = _Reasons()
        for o in self.options[q.id]:
            if q.onsite and self._cap_full(q, o, plan, why):
                continue
            e = self.p.expert_by_id[o.expert]
            d = o.date
            taken = sorted(plan.all_by_ed[e.id, d], key=lambda v: v.start)
            why.blockers.update(v.request for v in taken)
            if taken:
                busy_en = ", ".join(self._visit(v, "en") for v in taken)
                busy_ja = "、".join(self._visit(v, "ja") for v in taken)
                why.add(f"busy{e.id}{d}",
                        f"{self._who(e.id)}'s {_md(d)} has no room for it beside {busy_en}",
                        f"{self._who(e.id)} の {_md(d)} は {busy_ja} で埋まっています",
                        "expert_day_taken")
        self._head(q, plan, why)
        return Unscheduled(q.id, tuple(why.en[:6]), tuple(why.ja[:6]), tuple(why.codes[:6]))

    def _cap_full(self, q: Request, o: Option, plan: _PlanState, why: _Reasons) -> bool:
        """Whether a cap of the on-site option ``o`` is full in ``plan`` (said in ``why``): the
        expert's contracted days, that month's days, visits in the period, visits that day,
        the place's visits that day, or the day's driving."""
        e = self.p.expert_by_id[o.expert]
        d = o.date
        days = plan.onsite_days[e.id]
        if e.max_onsite_days is not None and d not in days and len(days) >= e.max_onsite_days:
            used = ", ".join(_md(x) for x in sorted(days))
            why.add(f"days{e.id}",
                    f"{self._who(e.id)}'s contracted on-site days ({e.max_onsite_days}) "
                    f"are all used ({used})",
                    f"{self._who(e.id)} の訪問契約日数（{e.max_onsite_days} 日）はすべて使われています（{used}）",
                    "expert_days_full")
            return True
        month = [x for x in days if (x.year, x.month) == (d.year, d.month)]
        month_cap = e.month_cap(d.year, d.month)
        if month_cap is not None and d not in days and len(month) >= month_cap:
            used = ", ".join(_md(x) for x in sorted(month))
            why.add(f"month{e.id}{d.year}{d.month}",
                    f"{self._who(e.id)}'s contracted on-site days for {d:%B %Y} "
                    f"({month_cap}) are all used ({used})",
                    f"{self._who(e.id)} の {d.year}年{d.month}月の訪問契約日数"
                    f"（{month_cap} 日）はすべて使われています（{used}）",
                    "expert_month_full")
            return True
        if e.max_visits_total is not None and plan.onsite_total[e.id] >= e.max_visits_total:
            why.add(f"total{e.id}",
                    f"{self._who(e.id)}'s {e.max_visits_total} on-site visits for the "
                    "period are all planned",
                    f"{self._who(e.id)} の期間中の訪問上限 {e.max_visits_total} 件はすべて計画済みです",
                    "expert_total_full")
            return True
        n_day = len(plan.onsite_by_ed[e.id, d])
        if e.max_visits_per_day is not None and n_day >= e.max_visits_per_day:
            why.add(f"day{e.id}{d}",
                    f"{self._who(e.id)} already makes {n_day} on-site visits on {_md(d)} "
                    "(daily cap)",
                    f"{self._who(e.id)} は {_md(d)} にすでに {n_day} 件訪問します（1日の上限）",
                    "expert_day_full")
            why.blockers.update(v.request for v in plan.onsite_by_ed[e.id, d])
            return True
        loc = self.p.location_by_id[q.location]
        if (loc.max_visits_per_day is not None
                and plan.loc_day[loc.id, d] >= loc.max_visits_per_day):
            why.add(f"loc{d}",
                    f"{loc.label} already hosts {plan.loc_day[loc.id, d]} expert-visits on "
                    f"{_md(d)} (its daily cap)",
                    f"{loc.name} は {_md(d)} にすでに {plan.loc_day[loc.id, d]} 件の訪問を受けます"
                    "（1日の上限）", "location_day_full")
            return True
        if e.max_drive_minutes_per_day is not None and (e.id, d) in plan.drive:
            extra = self._cheapest_insertion(e.base, plan.onsite_by_ed[e.id, d], q.location)
            if plan.drive[e.id, d] + extra > e.max_drive_minutes_per_day:
                why.add(f"drive{e.id}{d}",
                        f"adding it to {self._who(e.id)}'s {_md(d)} route would need about "
                        f"{plan.drive[e.id, d] + extra} min of driving, above the cap of "
                        f"{e.max_drive_minutes_per_day}",
                        f"{self._who(e.id)} の {_md(d)} の行程に加えると運転が約 "
                        f"{plan.drive[e.id, d] + extra} 分となり上限 {e.max_drive_minutes_per_day}"
                        " 分を超えます", "drive_cap_full")
                return True
        return False

    def _head(self, q: Request, plan: _PlanState, why: _Reasons) -> None:
        """The first reason: it gave way to visits of equal or higher priority (named), or it
        fits alone but not in the best total, or serving it needs a costlier combination."""
        prio = self.p.request_by_id
        higher = sorted((b for b in why.blockers if prio[b].priority >= q.priority),
                        key=lambda b: (-prio[b].priority, b))
        if higher:
            head_en = ("gave way to visits of equal or higher priority: "
                       + ", ".join(self._visit(plan.by_req[b], "en") for b in higher[:6])
                       + (" …" if len(higher) > 6 else ""))
            head_ja = ("優先度が同じか高い訪問を優先しました: "
                       + "、".join(self._visit(plan.by_req[b], "ja") for b in higher[:6])
                       + (" …" if len(higher) > 6 else ""))
            why.en.insert(0, head_en)
            why.ja.insert(0, head_ja)
            why.codes.insert(0, "gave_way")
        elif not why.en:
            why.en.append("it could be served alone, but not together with the plan's visits "
                          "at a better total (priorities first, then driving)")
            why.ja.append("単独なら対応できますが、計画全体（優先度の合計、次に運転時間）を"
                          "より良くする組み合わせに入りませんでした")
            why.codes.append("gave_way")
        elif why.blockers:
            why.en.insert(0, "serving it would mean dropping or moving lower-priority visits "
                          "that together are worth more, or more driving")
            why.ja.insert(0, "対応すると、合計でより価値のある他の訪問を外すか、運転が増えます")
            why.codes.insert(0, "gave_way_combination")

    def _cheapest_insertion(self, base: str, day: list[Visit], loc: str) -> int:
        path = [base] + [v.location for v in sorted(day, key=lambda v: v.start)] + [base]
        t = self.travel.minutes
        return min(t(a, loc) + t(loc, b) - t(a, b) for a, b in zip(path, path[1:], strict=False))

    # ------------------------------------------------------------ coverage floors
    def explain_coverage(self, visits: Iterable[Visit],
                         unscheduled: Iterable[Unscheduled]) -> list[LocationCoverage]:
        """Each location with a coverage floor, and why one left below it is: no request of
        the counted modes came from it, or its requests could not be served at all, or they
        gave way (with their own first reason)."""
        c = self.p.goals.coverage
        if c is None:
            return []
        why = {u.request: u for u in unscheduled}
        out = []
        for line in coverage_of(self.p, visits):
            if not line.shortfall:
                out.append(line)
                continue
            place_en, place_ja = self._loc(line.location), self._loc(line.location, "ja")
            asked = [q for q in self.p.requests if q.location == line.location
                     and q.mode in c.modes]
            left = [why[q.id] for q in asked if q.id in why]
            head_en = (f"{place_en} has {line.visits} of its {line.min_visits} consultation(s) "
                       f"(short by {line.shortfall})")
            head_ja = (f"{place_ja} は目標 {line.min_visits} 件に対して {line.visits} 件です"
                       f"（{line.shortfall} 件不足）")
            if len(asked) <= line.visits:
                en = (f"{head_en}: no {'further ' if line.visits else ''}request came from it in "
                      "this period")
                ja = f"{head_ja}: この期間に{'これ以上の' if line.visits else ''}依頼がありません"
                code = "coverage_no_requests"
            elif all(u.request in self.static for u in left):
                en = f"{head_en}: its requests cannot be served — " + "; ".join(
                    u.reasons[0] for u in left[:3])
                ja = f"{head_ja}: 依頼に対応できません — " + "、".join(
                    (u.reasons_ja or u.reasons)[0] for u in left[:3])
                code = "coverage_unservable"
            else:
                en = f"{head_en}: its requests gave way — " + "; ".join(
                    u.reasons[0] for u in left[:3])
                ja = f"{head_ja}: 依頼は他の訪問を優先しました — " + "、".join(
                    (u.reasons_ja or u.reasons)[0] for u in left[:3])
                code = "coverage_gave_way"
            out.append(LocationCoverage(line.location, line.visits, line.min_visits,
                                        line.shortfall, (en,), (ja,), (code,)))
        return out

    # ------------------------------------------------------------ infeasible fixed visits
    def infeasible_fixed(self, conflicting: list[str]) -> list[Unscheduled]:
        """Every request unscheduled: the conflicting fixed visits with what is wrong with
        each, the rest because no plan keeps all fixed visits."""
        out = []
        names = ", ".join(conflicting)
        for q in self.p.requests:
            if q.id in conflicting:
                own = self.static.get(q.id)
                en: tuple[str, ...]
                if own is not None:
                    en = ("the fixed visit cannot be kept: " + own.reasons[0],)
                    ja = ("確定済みの訪問を守れません: " + own.reasons_ja[0],)
                else:
                    en = self._fixed_detail(q)
                    ja = (f"確定済みの訪問 {names} を同時に守れません（時間・移動・上限のいずれかが衝突）",)
                out.append(Unscheduled(q.id, en, ja, ("fixed_conflict",)))
            else:
                out.append(bare_reason(
                    q.id, f"not planned: the fixed visits {names} cannot all be kept",
                    f"未計画: 確定済みの訪問 {names} をすべて守ることはできません", "fixed_infeasible"))
        return out

    def _fixed_detail(self, q: Request) -> tuple[str, ...]:
        assert q.fixed is not None
        f = q.fixed
        opts = [o for o in self.options[q.id] if o.date == f.date]
        bad = [o for o in opts if not o.lo <= f.start <= o.hi]
        if bad:
            o = bad[0]
            return (f"the fixed start {fmt_time(f.start)} is outside {o.expert}'s feasible start "
                    f"times {fmt_time(o.lo)}–{fmt_time(o.hi)} on {f.date} (hours, window or the "
                    "drive from the base)",)
        return (f"the fixed visit on {f.date} at {fmt_time(f.start)} conflicts with other fixed "
                "visits or with a cap",)


def _has_matching(n_slots: int, opts: list[Option]) -> bool:
    """Can distinct experts cover all ``n_slots`` fields, with start windows that meet?"""
    best = False

    def rec(k: int, used: set[str], lo: int, hi: int) -> bool:
        if lo > hi:
            return False
        if k == n_slots:
            return True
        for o in opts:
            if k in o.slots and o.expert not in used:
                if rec(k + 1, used | {o.expert}, max(lo, o.lo), min(hi, o.hi)):
                    return True
        return False

    best = rec(0, set(), 0, 24 * 60)
    return best


