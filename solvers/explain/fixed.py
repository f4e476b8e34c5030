"""Why published (fixed) visits were not kept: a visit released to make the plan feasible
(what it clashes with), and the reasons of every request when the fixed visits cannot all
be kept."""

from __future__ import annotations

from collections.abc import Mapping

from engine.model import PlanRequest, Request, Unscheduled, Visit, fmt_time
from solvers.explain.windows import Option
from solvers.explain.words import Names, bare_reason, month_day

__all__ = ["infeasible_fixed", "released_fixed", "released_messages", "unreleased_messages"]


def released_fixed(p: PlanRequest, names: Names, static: Mapping[str, Unscheduled],
                   options: Mapping[str, list[Option]], rid: str,
                   partners: tuple[str, ...] | None) -> Unscheduled:
    """A published visit the plan had to release: what it clashes with."""
    q = p.request_by_id[rid]
    assert q.fixed is not None
    f = q.fixed
    who = "・".join(names.who(e) for e in f.experts)
    when = f"{month_day(f.date)} {fmt_time(f.start)}"
    head_en = f"the published visit ({who}, {names.loc(q.location)}, {when}) was released"
    head_ja = f"公開済みの訪問（{who}、{names.loc(q.location, 'ja')}、{when}）を外しました"
    if partners:
        others_en = ", ".join(_fixed_ref(p, names, o, "en") for o in partners)
        others_ja = "、".join(_fixed_ref(p, names, o, "ja") for o in partners)
        en = (f"{head_en}: it cannot be kept together with the published visits "
              f"{others_en} (time, travel or a cap)")
        ja = f"{head_ja}: 公開済みの訪問 {others_ja} と同時には守れません（時間・移動・上限）"
    elif partners is not None:
        own = static.get(rid)
        detail_en, detail_ja = _fixed_detail(p, names, options, q)
        en = f"{head_en}: " + (own.reasons[0] if own else detail_en)
        ja = f"{head_ja}: " + (own.reasons_ja[0] if own and own.reasons_ja else detail_ja)
    else:
        en = f"{head_en}: keeping it would mean releasing more published visits"
        ja = f"{head_ja}: 守ると他の公開済みの訪問をより多く外すことになります"
    return Unscheduled(rid, (en,), (ja,), ("fixed_conflict",))


def released_messages(p: PlanRequest, names: Names,
                      clashes: Mapping[str, tuple[str, ...] | None],
                      planned: Mapping[str, Visit]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The plan's message when published visits had to be released (English, Japanese): each
    released visit named by its place, published date and time, subject and experts, what it
    clashes with, and where it went (``planned`` holds the released ones planned elsewhere).

    For example: "the published visits cannot all be kept; released 1: B町 12/7 10:30–12:00
    (priority 3) [広報担当] clashes with A町 12/7 10:00–11:00 (priority 5) [広報担当]: left
    out".
    """
    en, ja = [], []
    for rid, partners in clashes.items():
        was_en, was_ja = _fixed_ref(p, names, rid, "en"), _fixed_ref(p, names, rid, "ja")
        if partners:
            why_en = "clashes with " + ", ".join(_fixed_ref(p, names, o, "en") for o in partners)
            why_ja = " " + "、".join(_fixed_ref(p, names, o, "ja") for o in partners) + " と衝突する"
        else:
            why_en, why_ja = "cannot be kept", "そのままでは守れない"
        v = planned.get(rid)
        if v is not None:
            now = f"{month_day(v.date)} {fmt_time(v.start)}"
            en.append(f"{was_en} {why_en}: planned at {now} instead")
            ja.append(f"{was_ja} は{why_ja}ため {now} に変更しました")
        else:
            en.append(f"{was_en} {why_en}: left out")
            ja.append(f"{was_ja} は{why_ja}ため外しました")
    n = len(clashes)
    return ((f"the published visits cannot all be kept; released {n}: " + "; ".join(en),),
            (f"公開済みの訪問をすべて守ることはできません。{n} 件を外しました: " + "、".join(ja),))


def unreleased_messages(p: PlanRequest, names: Names,
                        fixed: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The plan's message when no plan releasing some published visits was found in time
    (English, Japanese), each fixed visit named as in the reasons."""
    en = ", ".join(_fixed_ref(p, names, rid, "en") for rid in fixed)
    ja = "、".join(_fixed_ref(p, names, rid, "ja") for rid in fixed)
    return ((f"the fixed visits {en} cannot all be kept and no plan releasing some of them "
             "was found within the time limit",),
            (f"確定済みの訪問 {ja} をすべて守ることはできず、制限時間内に代わりの計画も"
             "見つかりませんでした",))


def _fixed_ref(p: PlanRequest, names: Names, rid: str, lang: str) -> str:
    """A published visit named as in the reasons, with its experts."""
    q = p.request_by_id[rid]
    assert q.fixed is not None
    f = q.fixed
    v = Visit(rid, f.experts, q.location, q.mode, f.date, f.start, f.start + q.duration_min)
    who = "・".join(names.who(e) for e in f.experts)
    return f"{names.visit(v, lang)} [{who}]"


def infeasible_fixed(p: PlanRequest, names: Names, static: Mapping[str, Unscheduled],
                     options: Mapping[str, list[Option]],
                     conflicting: list[str]) -> list[Unscheduled]:
    """Every request unscheduled: the conflicting fixed visits with what is wrong with
    each, the rest because no plan keeps all fixed visits (each named by its place, date,
    time and experts, as in the other reasons)."""
    out = []
    visits_en = ", ".join(_fixed_ref(p, names, rid, "en") for rid in conflicting)
    visits_ja = "、".join(_fixed_ref(p, names, rid, "ja") for rid in conflicting)
    for q in p.requests:
        if q.id in conflicting:
            own = static.get(q.id)
            if own is not None:
                en = "the fixed visit cannot be kept: " + own.reasons[0]
                ja = "確定済みの訪問を守れません: " + (own.reasons_ja or own.reasons)[0]
            else:
                en, ja = _fixed_detail(p, names, options, q)
            out.append(Unscheduled(q.id, (en,), (ja,), ("fixed_conflict",)))
        else:
            out.append(bare_reason(
                q.id, f"not planned: the fixed visits {visits_en} cannot all be kept",
                f"未計画: 確定済みの訪問 {visits_ja} をすべて守ることはできません",
                "fixed_infeasible"))
    return out


def _fixed_detail(p: PlanRequest, names: Names, options: Mapping[str, list[Option]],
                  q: Request) -> tuple[str, str]:
    """What keeps a fixed visit from its date and start (English, Japanese): its start
    outside an expert's feasible starts that date, or other fixed visits or a cap."""
    assert q.fixed is not None
    f = q.fixed
    opts = [o for o in options[q.id] if o.date == f.date]
    bad = [o for o in opts if not o.lo <= f.start <= o.hi]
    day, start = month_day(f.date), fmt_time(f.start)
    if bad:
        o = bad[0]
        who, lo, hi = names.who(o.expert), fmt_time(o.lo), fmt_time(o.hi)
        return (f"the fixed start {start} is outside {who}'s feasible start times {lo}–{hi} "
                f"on {day} (hours, window or the drive there and back)",
                f"確定済みの開始 {start} は {day} の {who} が始められる時刻 {lo}–{hi} の外です"
                "（勤務時間・希望時間帯・往復の移動）")
    return (f"the fixed visit on {day} at {start} ({names.loc(q.location)}) conflicts with "
            "other fixed visits or with a cap",
            f"{day} {start} の確定済みの訪問（{names.loc(q.location, 'ja')}）は他の確定済みの"
            "訪問または上限と衝突します")
