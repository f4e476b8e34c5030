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
from dataclasses import dataclass

from engine.calendar import date_status
from engine.kpis import coverage_of
from engine.model import (
    FIELD_LABELS,
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
        loc = p.location_by_id[q.location]
        missing = [f for f in q.fields if not any(f in e.fields for e in p.experts)]
        if missing:
            en = "; ".join(f"no expert has the field {_field(f, 'en')}" for f in missing)
            ja = "、".join(f"{_field(f, 'ja')}の専門家がいません" for f in missing)
            return [], Unscheduled(q.id, (en,), (ja,), ("no_expert_field",))
        opts: list[Option] = []
        published_any = False
        past_any = False
        # per field: counts of why candidate (expert, date) pairs failed
        workable_any: dict[str, bool] = {f: False for f in q.fields}
        fail_time: list[tuple[str, dt.date, str, str]] = []
        fail_drive: list[tuple[str, int, int]] = []
        fail_cap: list[tuple[str, str, str]] = []
        span = [q.earliest + dt.timedelta(days=i) for i in range((q.latest - q.earliest).days + 1)]
        for e in p.experts:
            slots = tuple(k for k, f in enumerate(q.fields) if f in e.fields)
            if not slots:
                continue
            if q.fixed is not None and e.id not in q.fixed.experts:
                continue
            for d in span:
                if q.fixed is not None and d != q.fixed.date:
                    continue
                if (q.fixed is None and p.horizon.published_until is not None
                        and d <= p.horizon.published_until):
                    published_any = True
                    continue
                past = p.horizon.history_until
                if q.fixed is None and past is not None and d < past.date():
                    past_any = True
                    continue
                if not date_status(p.horizon, e, d).workable:
                    continue
                for k in slots:
                    workable_any[q.fields[k]] = True
                lo = max(loc.open, q.window[0] if q.window else 0)
                hi = min(loc.close, q.window[1] if q.window else 24 * 60) - q.duration_min
                if q.fixed is None and past is not None and d == past.date():
                    # today: nothing new starts before now
                    lo = max(lo, past.hour * 60 + past.minute)
                    if lo > hi:
                        past_any = True
                        continue
                if q.onsite:
                    zero = [c for c in ("max_visits_per_day", "max_visits_total",
                                        "max_onsite_days", "max_onsite_days_per_month")
                            if getattr(e, c) == 0]
                    if zero:
                        fail_cap.append((e.id, zero[0], "expert"))
                        continue
                    if (loc.max_visits_per_day is not None
                            and loc.max_visits_per_day < len(q.fields)):
                        # A joint visit of n experts counts n against the location's cap.
                        fail_cap.append((e.id, "max_visits_per_day", "location"))
                        continue
                    # The shortest way there and back bounds every tour through this stop
                    # (the exact legs of the chosen tour are rules of the model).
                    out = self.travel.shortest(e.base, q.location)
                    back = self.travel.shortest(q.location, e.base)
                    if (e.max_drive_minutes_per_day is not None
                            and out + back > e.max_drive_minutes_per_day):
                        fail_drive.append((e.id, out + back, e.max_drive_minutes_per_day))
                        continue
                    lo = max(lo, e.work_start + out)
                    hi = min(hi, e.work_end - back - q.duration_min)
                    if lo > hi:
                        fail_time.append((e.id, d, f"{out}+{back}", "trip"))
                        continue
                else:
                    lo = max(lo, e.work_start)
                    hi = min(hi, e.work_end - q.duration_min)
                    if lo > hi:
                        fail_time.append((e.id, d, "0", "hours"))
                        continue
                opts.append(Option(q.id, e.id, d, slots, lo, hi))
        opts = self._joint_filter(q, opts)
        if opts:
            return opts, Unscheduled(q.id, ())
        until = p.horizon.published_until
        if published_any and until is not None and q.latest <= until:
            dates = f"{_md(q.earliest)} – {_md(q.latest)}"
            return [], Unscheduled(
                q.id, (f"its dates ({dates}) are in the published plan, which runs to "
                       f"{_md(until)}: no new visit is added there",),
                (f"希望日（{dates}）は {_md(until)} までの公開済みの計画の中にあり、"
                 "新しい訪問は追加しません",), ("published_period",))
        past = p.horizon.history_until
        if past_any and past is not None and not any(workable_any.values()) or (
                past_any and past is not None and q.latest <= past.date()):
            when = f"{_md(past.date())} {past:%H:%M}"
            dates = f"{_md(q.earliest)} – {_md(q.latest)}"
            return [], Unscheduled(
                q.id, (f"its dates ({dates}) have passed: it is now {when}",),
                (f"希望日（{dates}）は過ぎています（現在 {when}）",), ("past_period",))
        return [], self._why_none(q, workable_any, fail_time, fail_drive, fail_cap)

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

    def _why_none(self, q: Request, workable_any: dict[str, bool],
                  fail_time: list[tuple[str, dt.date, str, str]],
                  fail_drive: list[tuple[str, int, int]],
                  fail_cap: list[tuple[str, str, str]]) -> Unscheduled:
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
        # days as the other reasons write them (12/7), not ISO
        span_en = f"between {_md(q.earliest)} and {_md(q.latest)}"
        span_ja = f"{_md(q.earliest)} から {_md(q.latest)} の間に"
        if q.fixed is not None:
            span_en = f"on the fixed date {_md(q.fixed.date)}"
            span_ja = f"確定日 {_md(q.fixed.date)} に"
        en: list[str] = []
        ja: list[str] = []
        codes: list[str] = []
        for f, ok in workable_any.items():
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
            eid, cap_name, who = fail_cap[0]
            cap_n = self.p.location_by_id[q.location].max_visits_per_day
            if who == "location" and len(q.fields) > 1:
                en.append(f"{self._loc(q.location)} hosts at most {cap_n} expert-visits a day, and "
                          f"this joint visit brings {len(q.fields)} experts")
                ja.append(f"{self._loc(q.location, 'ja')}の1日の訪問上限は {cap_n} 件で、この合同訪問は"
                          f"専門家 {len(q.fields)} 名（{len(q.fields)} 件）になります")
            elif who == "location":
                en.append(f"{self._loc(q.location)} accepts no on-site visits (max_visits_per_day 0)")
                ja.append(f"{self._loc(q.location, 'ja')}は訪問を受け付けていません（上限 0）")
            else:
                en.append(f"{self._who(eid)} has {cap_name} = 0, so makes no on-site visits")
                ja.append(f"{self._who(eid)} の {cap_name} が 0 のため訪問できません")
            codes.append("cap_zero")
        if not en and fail_time:
            loc = self.p.location_by_id[q.location]
            win = f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}" if q.window else None
            hours = f"{fmt_time(loc.open)}–{fmt_time(loc.close)}"
            if q.onsite:
                eid = fail_time[0][0]
                e = self.p.expert_by_id[eid]
                out = self.travel.shortest(e.base, q.location)
                en.append(
                    f"no day where the trip and the consultation fit the hours: {out} min each way "
                    f"from the base leaves no {q.duration_min}-minute slot within working hours "
                    f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}, opening hours {hours}"
                    + (f" and the window {win}" if win else ""))
                ja.append(
                    f"移動と相談が時間内に収まる日がありません: 拠点から片道 {out} 分かかり、勤務時間 "
                    f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}・開庁時間 {hours}"
                    + (f"・希望時間帯 {win}" if win else "") + f" の中に {q.duration_min} 分の枠が取れません")
            else:
                en.append(f"no {q.duration_min}-minute slot within both the working hours and the "
                          f"opening hours {hours}" + (f" and the window {win}" if win else ""))
                ja.append(f"勤務時間と開庁時間 {hours}" + (f"・希望時間帯 {win}" if win else "")
                          + f" の両方に収まる {q.duration_min} 分の枠がありません")
            codes.append("no_time")
        if not en:
            fields = " and ".join(_field(f, "en") for f in q.fields)
            en.append(f"no date {span_en} on which experts for {fields} can all come at the "
                      "same time")
            ja.append(f"{span_ja}{'・'.join(_field(f, 'ja') for f in q.fields)}の専門家が"
                      "そろって対応できる日時がありません")
            codes.append("joint_no_common_time")
        return Unscheduled(q.id, tuple(en), tuple(ja), tuple(codes))

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
        visits = list(visits)
        routes = list(routes)
        by_req = {v.request: v for v in visits}
        prio = {q.id: q.priority for q in self.p.requests}
        onsite_by_ed: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
        all_by_ed: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
        onsite_total: dict[str, int] = defaultdict(int)
        loc_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        for v in visits:
            for eid in v.experts:
                all_by_ed[eid, v.date].append(v)
                if v.mode == "onsite":
                    onsite_by_ed[eid, v.date].append(v)
                    onsite_total[eid] += 1
                    loc_day[v.location, v.date] += 1
        onsite_days: dict[str, list[dt.date]] = defaultdict(list)
        drive: dict[tuple[str, dt.date], int] = {}
        for r in routes:
            onsite_days[r.expert].append(r.date)
            drive[r.expert, r.date] = r.drive_minutes
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
            en: list[str] = []
            ja: list[str] = []
            codes: list[str] = []
            blockers: set[str] = set()
            seen: set[str] = set()

            def add(key: str, e_: str, j_: str, c_: str, en: list[str] = en,
                    ja: list[str] = ja, codes: list[str] = codes, seen: set[str] = seen) -> None:
                if key not in seen:
                    seen.add(key)
                    en.append(e_)
                    ja.append(j_)
                    codes.append(c_)

            loc = self.p.location_by_id[q.location]
            for o in self.options[q.id]:
                e = self.p.expert_by_id[o.expert]
                d = o.date
                if q.onsite:
                    if (e.max_onsite_days is not None and d not in onsite_days[e.id]
                            and len(onsite_days[e.id]) >= e.max_onsite_days):
                        used = ", ".join(_md(x) for x in sorted(onsite_days[e.id]))
                        add(f"days{e.id}",
                            f"{self._who(e.id)}'s contracted on-site days ({e.max_onsite_days}) "
                            f"are all used ({used})",
                            f"{self._who(e.id)} の訪問契約日数（{e.max_onsite_days} 日）はすべて使われています（{used}）",
                            "expert_days_full")
                        continue
                    month = [x for x in onsite_days[e.id] if (x.year, x.month) == (d.year, d.month)]
                    month_cap = e.month_cap(d.year, d.month)
                    if (month_cap is not None and d not in onsite_days[e.id]
                            and len(month) >= month_cap):
                        used = ", ".join(_md(x) for x in sorted(month))
                        add(f"month{e.id}{d.year}{d.month}",
                            f"{self._who(e.id)}'s contracted on-site days for {d:%B %Y} "
                            f"({month_cap}) are all used ({used})",
                            f"{self._who(e.id)} の {d.year}年{d.month}月の訪問契約日数"
                            f"（{month_cap} 日）はすべて使われています（{used}）",
                            "expert_month_full")
                        continue
                    if e.max_visits_total is not None and onsite_total[e.id] >= e.max_visits_total:
                        add(f"total{e.id}",
                            f"{self._who(e.id)}'s {e.max_visits_total} on-site visits for the "
                            "period are all planned",
                            f"{self._who(e.id)} の期間中の訪問上限 {e.max_visits_total} 件はすべて計画済みです",
                            "expert_total_full")
                        continue
                    n_day = len(onsite_by_ed[e.id, d])
                    if e.max_visits_per_day is not None and n_day >= e.max_visits_per_day:
                        add(f"day{e.id}{d}",
                            f"{self._who(e.id)} already makes {n_day} on-site visits on {_md(d)} "
                            "(daily cap)",
                            f"{self._who(e.id)} は {_md(d)} にすでに {n_day} 件訪問します（1日の上限）",
                            "expert_day_full")
                        blockers.update(v.request for v in onsite_by_ed[e.id, d])
                        continue
                    if (loc.max_visits_per_day is not None
                            and loc_day[loc.id, d] >= loc.max_visits_per_day):
                        add(f"loc{d}",
                            f"{loc.label} already hosts {loc_day[loc.id, d]} expert-visits on "
                            f"{_md(d)} (its daily cap)",
                            f"{loc.name} は {_md(d)} にすでに {loc_day[loc.id, d]} 件の訪問を受けます"
                            "（1日の上限）", "location_day_full")
                        continue
                    if e.max_drive_minutes_per_day is not None and (e.id, d) in drive:
                        extra = self._cheapest_insertion(e.base, onsite_by_ed[e.id, d], q.location)
                        if drive[e.id, d] + extra > e.max_drive_minutes_per_day:
                            add(f"drive{e.id}{d}",
                                f"adding it to {self._who(e.id)}'s {_md(d)} route would need about "
                                f"{drive[e.id, d] + extra} min of driving, above the cap of "
                                f"{e.max_drive_minutes_per_day}",
                                f"{self._who(e.id)} の {_md(d)} の行程に加えると運転が約 "
                                f"{drive[e.id, d] + extra} 分となり上限 {e.max_drive_minutes_per_day}"
                                " 分を超えます", "drive_cap_full")
                            continue
                taken = sorted(all_by_ed[e.id, d], key=lambda v: v.start)
                blockers.update(v.request for v in taken)
                if taken:
                    busy_en = ", ".join(self._visit(v, "en") for v in taken)
                    busy_ja = "、".join(self._visit(v, "ja") for v in taken)
                    add(f"busy{e.id}{d}",
                        f"{self._who(e.id)}'s {_md(d)} has no room for it beside {busy_en}",
                        f"{self._who(e.id)} の {_md(d)} は {busy_ja} で埋まっています",
                        "expert_day_taken")
            higher = sorted((b for b in blockers if prio[b] >= q.priority),
                            key=lambda b: (-prio[b], b))
            if higher:
                head_en = ("gave way to visits of equal or higher priority: "
                           + ", ".join(self._visit(by_req[b], "en") for b in higher[:6])
                           + (" …" if len(higher) > 6 else ""))
                head_ja = ("優先度が同じか高い訪問を優先しました: "
                           + "、".join(self._visit(by_req[b], "ja") for b in higher[:6])
                           + (" …" if len(higher) > 6 else ""))
                en.insert(0, head_en)
                ja.insert(0, head_ja)
                codes.insert(0, "gave_way")
            elif not en:
                en.append("it could be served alone, but not together with the plan's visits "
                          "at a better total (priorities first, then driving)")
                ja.append("単独なら対応できますが、計画全体（優先度の合計、次に運転時間）を"
                          "より良くする組み合わせに入りませんでした")
                codes.append("gave_way")
            elif blockers:
                en.insert(0, "serving it would mean dropping or moving lower-priority visits "
                          "that together are worth more, or more driving")
                ja.insert(0, "対応すると、合計でより価値のある他の訪問を外すか、運転が増えます")
                codes.insert(0, "gave_way_combination")
            out[q.id] = Unscheduled(q.id, tuple(en[:6]), tuple(ja[:6]), tuple(codes[:6]))
        return [out[q.id] for q in self.p.requests if q.id in out]

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


