"""How the reasons are written: places, experts and visits by the names a person reads,
fields by their labels, dates as month/day, a reason without analysis."""

from __future__ import annotations

from engine.model import FIELD_LABELS, PlanRequest, Unscheduled, Visit, fmt_time
from engine.words import month_day

__all__ = ["Names", "bare_reason", "field_label", "month_day", "not_analysed"]


def bare_reason(rid: str, en: str, ja: str, code: str = "not_planned") -> Unscheduled:
    return Unscheduled(rid, (en,), (ja,), (code,))


def not_analysed(rid: str) -> Unscheduled:
    """The reason of a request left out whose analysis the time limit did not allow."""
    return bare_reason(rid, "left out; its reason was not analysed within the time limit",
                       "計画に入りませんでした（制限時間内に理由を分析できませんでした）",
                       "not_analysed")


def field_label(f: str, lang: str) -> str:
    lab = FIELD_LABELS.get(f)
    if lab is None:
        return repr(f)
    return f"'{lab[0]}'" if lang == "en" else f"「{lab[1]}」"


class Names:
    """The problem's places, experts and visits as a coordinator names them."""

    def __init__(self, problem: PlanRequest):
        self.p = problem

    def loc(self, lid: str, lang: str = "en") -> str:
        loc = self.p.location_by_id[lid]
        return loc.label if lang == "en" else loc.name

    def who(self, eid: str) -> str:
        """An expert by display name (the id where none is given)."""
        e = self.p.expert_by_id.get(eid)
        return e.name if e is not None and e.name else eid

    def visit(self, v: Visit, lang: str) -> str:
        """A planned visit as a coordinator names it: place, date, time, subject (never the
        subject of a confidential request), priority."""
        q = self.p.request_by_id[v.request]
        subject = f"「{q.title}」" if q.title and not q.confidential else ""
        when = f"{month_day(v.date)} {fmt_time(v.start)}–{fmt_time(v.end)}"
        if lang == "en":
            return f"{self.loc(v.location)} {when}{subject} (priority {q.priority})"
        return f"{self.loc(v.location, 'ja')} {when}{subject}（優先度{q.priority}）"
