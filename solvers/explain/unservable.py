"""Why nothing can serve a request, found before solving from the request alone: its dates
are published or past, no expert with a field works in them, the round trip exceeds the
drive cap, a cap is zero, the trip and the consultation do not fit the hours, or the
experts of a joint visit have no time in common."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.calendar import day_places
from engine.model import Expert, PlanRequest, Request, Unscheduled, fmt_time
from engine.travel import TravelTimes
from solvers.explain.words import Names, field_label, month_day

__all__ = ["Failures", "why_unservable"]


@dataclass
class Failures:
    """Why a request's (expert, date) pairs failed, for its reasons: per field whether any
    expert of it has a workable date, the dates in the published plan or past, and the
    pairs that failed by time, by driving and by a cap."""

    workable_any: dict[str, bool]
    published_any: bool = False
    past_any: bool = False
    fail_time: list[tuple[str, dt.date, str, str]] = field(default_factory=list)
    fail_drive: list[tuple[str, int, int]] = field(default_factory=list)
    fail_cap: list[tuple[str, str, str]] = field(default_factory=list)


def why_unservable(p: PlanRequest, travel: TravelTimes, names: Names, q: Request,
                   why: Failures) -> Unscheduled:
    """The reason no (expert, date) can serve ``q`` (none of its options survived): its dates
    in the published plan or past, else what ``why`` recorded."""
    until = p.horizon.published_until
    if why.published_any and until is not None and q.latest <= until:
        dates = f"{month_day(q.earliest)} – {month_day(q.latest)}"
        return Unscheduled(
            q.id, (f"its dates ({dates}) are in the published plan, which runs to "
                   f"{month_day(until)}: no new visit is added there",),
            (f"希望日（{dates}）は {month_day(until)} までの公開済みの計画の中にあり、"
             "新しい訪問は追加しません",), ("published_period",))
    past = p.horizon.history_until
    if why.past_any and past is not None and not any(why.workable_any.values()) or (
            why.past_any and past is not None and q.latest <= past.date()):
        when = f"{month_day(past.date())} {past:%H:%M}"
        dates = f"{month_day(q.earliest)} – {month_day(q.latest)}"
        return Unscheduled(
            q.id, (f"its dates ({dates}) have passed: it is now {when}",),
            (f"希望日（{dates}）は過ぎています（現在 {when}）",), ("past_period",))
    return _why_none(p, travel, names, q, why)


def _why_none(p: PlanRequest, travel: TravelTimes, names: Names, q: Request,
              why: Failures) -> Unscheduled:
    """Why no (expert, date) can serve ``q`` at all: a fixed visit naming the wrong
    experts, no workable day, the drive cap, a cap of 0, no time, or no common time."""
    wrong = _fixed_wrong(p, q)
    if wrong is not None:
        return wrong
    fail_time, fail_drive, fail_cap = why.fail_time, why.fail_drive, why.fail_cap
    # days as the other reasons write them (12/7), not ISO
    span_en = f"between {month_day(q.earliest)} and {month_day(q.latest)}"
    span_ja = f"{month_day(q.earliest)} から {month_day(q.latest)} の間に"
    if q.fixed is not None:
        span_en = f"on the fixed date {month_day(q.fixed.date)}"
        span_ja = f"確定日 {month_day(q.fixed.date)} に"
    en: list[str] = []
    ja: list[str] = []
    codes: list[str] = []
    for f, ok in why.workable_any.items():
        if not ok:
            en.append(f"no expert with field {field_label(f, 'en')} works {span_en}")
            ja.append(f"{span_ja}{field_label(f, 'ja')}の専門家が稼働できる日がありません")
            codes.append("no_workable_day")
    if not en and fail_drive:
        eid, trip, cap = fail_drive[0]
        en.append(f"the round trip to {names.loc(q.location)} takes {trip} min of driving, "
                  f"above {names.who(eid)}'s cap of {cap} min a day")
        ja.append(f"{names.loc(q.location, 'ja')}への往復運転 {trip} 分が {names.who(eid)} の1日の上限 "
                  f"{cap} 分を超えます")
        codes.append("drive_cap")
    if not en and fail_cap:
        e_, j_ = _cap_zero(p, names, q, fail_cap[0])
        en.append(e_)
        ja.append(j_)
        codes.append("cap_zero")
    if not en and fail_time:
        e_, j_ = _no_time(p, travel, names, q, fail_time)
        if all(kind in ("busy", "at", "lunch") for *_, kind in fail_time):
            e_, j_ = _busy_words(p, names, q, fail_time)
        en.append(e_)
        ja.append(j_)
        codes.append("no_time")
    if not en:
        fields = " and ".join(field_label(f, "en") for f in q.fields)
        en.append(f"no date {span_en} on which experts for {fields} can all come at the "
                  "same time")
        ja.append(f"{span_ja}{'・'.join(field_label(f, 'ja') for f in q.fields)}の専門家が"
                  "そろって対応できる日時がありません")
        codes.append("joint_no_common_time")
    return Unscheduled(q.id, tuple(en), tuple(ja), tuple(codes))


def _fixed_wrong(p: PlanRequest, q: Request) -> Unscheduled | None:
    """A fixed visit that names an unknown expert, or one without the request's fields."""
    if q.fixed is not None:
        unknown = [x for x in q.fixed.experts if x not in p.expert_by_id]
        if unknown:
            names = ", ".join(repr(x) for x in unknown)
            return Unscheduled(
                q.id, (f"the fixed visit names {names}, who is not among the request's experts",),
                (f"確定済みの訪問に指定された {names} は専門家一覧にいません",), ("fixed_unknown_expert",))
        wrong = [x for x in q.fixed.experts
                 if not set(p.expert_by_id[x].fields) & set(q.fields)]
        if wrong:
            names = ", ".join(p.expert_by_id[x].name or x for x in wrong)
            return Unscheduled(
                q.id, (f"the fixed visit names {names}, who has none of the fields "
                       f"{', '.join(field_label(f, 'en') for f in q.fields)}",),
                (f"確定済みの訪問に指定された {names} は分野 "
                 f"{'・'.join(field_label(f, 'ja') for f in q.fields)} を担当していません",),
                ("fixed_wrong_field",))
    return None


def _cap_zero(p: PlanRequest, names: Names, q: Request, failed: tuple[str, str, str]
              ) -> tuple[str, str]:
    """A cap of 0 (the expert's, or the place's) that keeps the request out."""
    eid, cap_name, who = failed
    cap_n = p.location_by_id[q.location].max_visits_per_day
    if who == "location" and len(q.fields) > 1:
        en = (f"{names.loc(q.location)} hosts at most {cap_n} expert-visits a day, and "
              f"this joint visit brings {len(q.fields)} experts")
        ja = (f"{names.loc(q.location, 'ja')}の1日の訪問上限は {cap_n} 件で、この合同訪問は"
              f"専門家 {len(q.fields)} 名（{len(q.fields)} 件）になります")
    elif who == "location":
        en = f"{names.loc(q.location)} accepts no on-site visits (max_visits_per_day 0)"
        ja = f"{names.loc(q.location, 'ja')}は訪問を受け付けていません（上限 0）"
    else:
        en = f"{names.who(eid)} has {cap_name} = 0, so makes no on-site visits"
        ja = f"{names.who(eid)} の {cap_name} が 0 のため訪問できません"
    return en, ja


def _no_time(p: PlanRequest, travel: TravelTimes, names: Names, q: Request,
             fail_time: list[tuple[str, dt.date, str, str]]) -> tuple[str, str]:
    """No slot within the hours (and for an on-site visit the trip there and back) for the
    first expert that failed by time (``fail_time[0]``)."""
    loc = p.location_by_id[q.location]
    win = f"{fmt_time(q.window[0])}–{fmt_time(q.window[1])}" if q.window else None
    hours = f"{fmt_time(loc.open)}–{fmt_time(loc.close)}"
    hours_ja = hours + "".join(f"（{fmt_time(a)}–{fmt_time(b)} 閉庁）" for a, b in loc.closed)
    hours += "".join(f" (closed {fmt_time(a)}–{fmt_time(b)})" for a, b in loc.closed)
    if q.onsite:
        e = p.expert_by_id[fail_time[0][0]]
        trip, trip_ja = _trip_words(p, travel, names, q, e,
                                    [d for eid, d, *_ in fail_time if eid == e.id])
        late = e.overtime.max_minutes if e.overtime is not None else 0
        en = (
            f"no day where the trip and the consultation fit the hours: {trip} "
            f"no {q.duration_min}-minute slot within working hours "
            f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}"
            + (f" (with {late} min of overtime, to {fmt_time(e.day_end)})" if late else "")
            + f", opening hours {hours}" + (f" and the window {win}" if win else ""))
        ja = (
            f"移動と相談が時間内に収まる日がありません: {trip_ja}、勤務時間 "
            f"{fmt_time(e.work_start)}–{fmt_time(e.work_end)}"
            + (f"（残業 {late} 分で {fmt_time(e.day_end)} まで）" if late else "")
            + f"・開庁時間 {hours_ja}"
            + (f"・希望時間帯 {win}" if win else "") + f" の中に {q.duration_min} 分の枠が取れません")
    else:
        en = (f"no {q.duration_min}-minute slot within both the working hours and the "
              f"opening hours {hours}" + (f" and the window {win}" if win else ""))
        ja = (f"勤務時間と開庁時間 {hours_ja}" + (f"・希望時間帯 {win}" if win else "")
              + f" の両方に収まる {q.duration_min} 分の枠がありません")
    grid = p.horizon.start_grid_min
    if grid > 1:
        en += f", starting on the {grid}-minute appointment grid"
        ja += f"（開始は {grid} 分刻み）"
    return en, ja


def _trip_words(p: PlanRequest, travel: TravelTimes, names: Names, q: Request, e: Expert,
                dates: list[dt.date]) -> tuple[str, str]:
    """The trip to ``q``'s place on the expert's failed ``dates``, in words: the shortest way
    there from where any of those days may start and on to where it may end — the base, or
    for an expert who may stay away (``experts[].overnight``) the place of a night before or
    after (``engine.calendar.day_places``), named: such a day need not start at the base.

    ``("45 min each way from the base leaves", "拠点から片道 45 分かかり")`` for a day
    trip (the English ends with its verb)."""
    starts = sorted({(travel.shortest(x, q.location), x != e.base, x)
                     for d in dates for x in day_places(p, e, d)[0]})
    ends = sorted({(travel.shortest(q.location, x), x != e.base, x)
                   for d in dates for x in day_places(p, e, d)[1]})
    (out, _, there), (back, _, home) = starts[0], ends[0]
    if there == home == e.base:
        return (f"{out} min each way from the base leaves", f"拠点から片道 {out} 分かかり")
    where = "the base" if there == e.base else f"a night in {names.loc(there)}"
    where_ja = "拠点" if there == e.base else f"前夜の宿泊地（{names.loc(there, 'ja')}）"
    to = "the base" if home == e.base else f"a night in {names.loc(home)}"
    to_ja = "拠点" if home == e.base else f"その夜の宿泊地（{names.loc(home, 'ja')}）"
    return (f"{out} min there from {where} (the nearest place a day may start) and {back} min "
            f"on to {to} leave",
            f"{where_ja}から {out} 分（一日を始められる最も近い場所）、{to_ja}まで {back} 分かかり")


def _busy_words(p: PlanRequest, names: Names, q: Request,
                fail_time: list[tuple[str, dt.date, str, str]]) -> tuple[str, str]:
    """The words for a request whose every start that the hours leave meets a standing
    appointment (``experts[].busy``) of the expert: whose, on which dates, when."""
    seen: list[str] = []
    seen_ja: list[str] = []
    for eid, d, *_ in fail_time:
        bs = [b for b in p.expert_by_id[eid].busy if b.date == d]
        hours = ", ".join(f"{fmt_time(b.start)}–{fmt_time(b.end)}"
                          + (f" at {names.loc(b.at, 'en')}" if b.at else "") for b in bs)
        hours_ja = "、".join((f"{names.loc(b.at, 'ja')}で" if b.at else "")
                             + f"{fmt_time(b.start)}–{fmt_time(b.end)}" for b in bs)
        seen.append(f"{names.who(eid)} {month_day(d)} {hours}")
        seen_ja.append(f"{names.who(eid)} {month_day(d)} {hours_ja}")
    if all(kind == "lunch" for *_, kind in fail_time):
        lunch = p.expert_by_id[fail_time[0][0]].lunch
        assert lunch is not None
        window = f"{fmt_time(lunch.start)}–{fmt_time(lunch.end)}"
        en = (f"the standing appointments leave no {lunch.minutes}-minute lunch break within "
              f"{window} on any date, and a day with a consultation needs one: "
              + "; ".join(seen))
        ja = (f"専門家の予定のため、どの日も {window} の中に {lunch.minutes} 分の昼休みが取れず、"
              "相談のある日には昼休みが必要です: " + "、".join(seen_ja))
        return en, ja
    if any(kind in ("at", "lunch") for *_, kind in fail_time):
        en = (f"every {q.duration_min}-minute slot the hours leave meets a standing "
              "appointment or leaves no time for the drives to one at a place or for the "
              "lunch break beside them: " + "; ".join(seen))
        ja = (f"勤務時間内の {q.duration_min} 分の枠はすべて専門家の予定と重なるか、"
              "場所での予定への移動や昼休みの時間が取れません: " + "、".join(seen_ja))
        return en, ja
    en = (f"every {q.duration_min}-minute slot the hours leave meets a standing appointment: "
          + "; ".join(seen))
    ja = (f"勤務時間内の {q.duration_min} 分の枠はすべて専門家の予定と重なります: "
          + "、".join(seen_ja))
    return en, ja
