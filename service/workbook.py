"""The plan as an Excel workbook to hand out: visits, routes per expert and day, each expert's
days (where a day starts and ends, lunch break, standing appointments, when it ends and the
overtime, the night away and its cost), requests left out with their reasons, KPIs, and what
changed since the previous plan. Where the week has due dates the visits say the due date and
the days late; where it has follow-ups, which earlier consultation each one follows.

Headers in the reader's language (Japanese by default, from the gettext catalogue), experts
and municipalities by name; request ids stay (they are what the centre's sheet uses).

Examples
--------
>>> write_xlsx(problem, plan, "plan.xlsx")          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.kpis import day_ends
from engine.model import FIELD_LABELS, Plan, PlanRequest, Visit, fmt_time
from engine.nights import nights_of
from engine.tables import expert_name
from service.glossary import kpi_name
from service.i18n import N_, _, current_lang, set_lang

__all__ = ["CHANGE_NAMES", "plan_sheets", "write_csv", "write_xlsx"]

CHANGE_NAMES = {"moved": N_("moved"), "dropped": N_("dropped"), "added": N_("newly planned"),
                "withdrawn": N_("no longer requested")}


def _fields(fields: tuple[str, ...], ja: bool) -> str:
    return "・".join(FIELD_LABELS[f][1 if ja else 0] if f in FIELD_LABELS else f for f in fields)


def plan_sheets(problem: PlanRequest, plan: Plan, *,
                machine: bool = False) -> dict[str, pd.DataFrame]:
    """Sheet name → table, in the current language, names first. ``machine`` adds the ids
    and codes a program joins on (expert ids, municipality codes) as the last columns."""
    ja = current_lang() == "ja"
    locs, reqs = problem.location_by_id, problem.request_by_id

    def place(loc_id: str) -> str:
        loc = locs.get(loc_id)
        return loc_id if loc is None else (loc.name if ja else loc.label)

    def mode(m: str) -> str:
        return _("on-site") if m == "onsite" else _("online")

    visits = pd.DataFrame([{
        _("date"): v.date, _("start"): fmt_time(v.start), _("end"): fmt_time(v.end),
        _("municipality"): place(v.location), _("mode"): mode(v.mode),
        _("experts"): "・".join(expert_name(problem, e) for e in v.experts),
        _("fields"): _fields(reqs[v.request].fields, ja), _("priority"): reqs[v.request].priority,
        _("subject"): reqs[v.request].title, _("request"): v.request}
        for v in sorted(plan.visits, key=lambda v: (v.date, v.start, v.request))],
        columns=[_("date"), _("start"), _("end"), _("municipality"), _("mode"), _("experts"),
                 _("fields"), _("priority"), _("subject"), _("request")])
    ordered = sorted(plan.visits, key=lambda v: (v.date, v.start, v.request))
    _visit_rules(visits, problem, plan, ordered, place, machine)
    if machine:
        visits[_("municipality code")] = [v.location for v in ordered]
        visits[_("expert ids")] = [" ".join(v.experts) for v in ordered]
    stops_of: dict[tuple[str, dt.date], list[Visit]] = {}
    for v in plan.visits:
        if v.mode == "onsite":
            for e in v.experts:
                stops_of.setdefault((e, v.date), []).append(v)
    routes = pd.DataFrame([{
        _("expert"): expert_name(problem, r.expert), _("date"): r.date,
        _("leave"): fmt_time(r.leave), _("return"): fmt_time(r.return_),
        _("stops"): " → ".join(
            f"{place(v.location)} {fmt_time(v.start)}–{fmt_time(v.end)}"
            for v in sorted(stops_of.get((r.expert, r.date), []), key=lambda v: v.start)),
        _("drive minutes"): r.drive_minutes}
        for r in sorted(plan.routes, key=lambda r: (r.expert, r.date))],
        columns=[_("expert"), _("date"), _("leave"), _("return"), _("stops"), _("drive minutes")])
    if machine:
        routes[_("expert ids")] = [r.expert for r in sorted(plan.routes,
                                                            key=lambda r: (r.expert, r.date))]
    unscheduled = pd.DataFrame([{
        _("municipality"): place(reqs[u.request].location) if u.request in reqs else "",
        _("subject"): reqs[u.request].title if u.request in reqs else "",
        _("priority"): reqs[u.request].priority if u.request in reqs else None,
        _("reasons"): "\n".join(u.reasons_ja if ja and u.reasons_ja else u.reasons),
        _("request"): u.request}
        for u in plan.unscheduled],
        columns=[_("municipality"), _("subject"), _("priority"), _("reasons"), _("request")])
    if machine:
        unscheduled[_("reason code")] = [" ".join(u.codes) for u in plan.unscheduled]
    kpis = pd.DataFrame([{_("indicator"): kpi_name(k), _("value"): int(v)}
                         for k, v in plan.kpis.items()],
                        columns=[_("indicator"), _("value")])
    sheets = {_("Visits"): visits, _("Routes"): routes}
    days = _days(problem, plan, place, machine)
    if days is not None:
        sheets[_("Days")] = days
    sheets |= {_("Unscheduled"): unscheduled, _("KPIs"): kpis}
    if plan.changes or "moved" in plan.kpis:
        def side(v: object) -> str:
            if v is None:
                return ""
            return (f"{v.date} {fmt_time(v.start)}–{fmt_time(v.end)} {mode(v.mode)} "  # type: ignore[attr-defined]
                    + "・".join(expert_name(problem, e) for e in v.experts))  # type: ignore[attr-defined]
        sheets[_("Changes")] = pd.DataFrame([{
            _("municipality"): place(c.location),
            _("subject"): reqs[c.request].title if c.request in reqs else "",
            _("change"): _(CHANGE_NAMES[c.kind]), _("before"): side(c.before),
            _("after"): side(c.after), _("request"): c.request} for c in plan.changes],
            columns=[_("municipality"), _("subject"), _("change"), _("before"), _("after"),
                     _("request")])
    return sheets


def _visit_rules(visits: pd.DataFrame, problem: PlanRequest, plan: Plan, ordered: list[Visit],
                 place: Callable[[str], str], machine: bool) -> None:
    """The visits' due dates and days late (where some request has a due date) and the
    consultation each follow-up follows (where some request has ``after``), in place:
    ``宇和島市「SNS 研修」 2026-12-07`` (its place, subject and date in this plan, or the date
    of an earlier week's visit); ``machine`` adds that request's id."""
    reqs = problem.request_by_id

    def before_id(name: str, values: list[object]) -> None:     # the request id stays last
        visits.insert(visits.columns.get_loc(_("request")), name, values)

    if any(q.due is not None for q in problem.requests):
        before_id(_("due date"), [reqs[v.request].due or "" for v in ordered])
        before_id(_("days late"), [reqs[v.request].days_late(v.date) for v in ordered])
    if not any(q.after is not None for q in problem.requests):
        return
    made = {v.request: v for v in plan.visits}

    def follows(v: Visit) -> str:
        after = reqs[v.request].after
        if after is None:
            return ""
        first = reqs.get(after.request)
        where = place(first.location) if first is not None else ""
        title = f"「{first.title}」" if first is not None and first.title else ""
        prior = made.get(after.request)
        when = prior.date if prior is not None else after.date
        return " ".join(x for x in (where + title, str(when or "")) if x)

    before_id(_("follow-up of"), [follows(v) for v in ordered])
    if machine:
        visits[_("follows request")] = [a.request if (a := reqs[v.request].after) else ""
                                        for v in ordered]


def _days(problem: PlanRequest, plan: Plan, place: Callable[[str], str],
          machine: bool) -> pd.DataFrame | None:
    """One row per expert and date with any consultation, lunch break or standing appointment
    (None when no expert has lunch, appointments, overtime or nights): where the day starts
    and ends, its lunch break, its appointments, when it ends, its overtime minutes (with
    ``overtime``) and its night's cost (with ``overnight``)."""
    experts = problem.experts
    if not any(e.lunch or e.busy or e.overtime or e.overnight for e in experts):
        return None
    routes = {(r.expert, r.date): r for r in plan.routes}
    breaks = {(b.expert, b.date): b for b in plan.breaks}
    ends = day_ends(plan.visits, plan.routes)
    nights = nights_of(problem, plan.routes)
    keys = set(ends) | set(breaks) | {(e.id, b.date) for e in experts for b in e.busy}
    rows = []
    for eid, d in sorted(k for k in keys if k[0] in problem.expert_by_id):
        e = problem.expert_by_id[eid]
        r = routes.get((eid, d))
        b = breaks.get((eid, d))
        row = {_("expert"): expert_name(problem, eid), _("date"): d,
               _("starts at"): place(r.start_at if r is not None and r.start_at else e.base),
               _("ends at"): place(r.end_at if r is not None and r.end_at else e.base),
               _("lunch break"): f"{fmt_time(b.start)}–{fmt_time(b.end)}" if b else "",
               _("appointments"): "\n".join(
                   f"{fmt_time(a.start)}–{fmt_time(a.end)}" + (f" {place(a.at)}" if a.at else "")
                   for a in e.busy if a.date == d),
               _("day ends"): fmt_time(ends[eid, d]) if (eid, d) in ends else ""}
        if any(x.overtime for x in experts):
            row[_("overtime minutes")] = max(0, ends.get((eid, d), 0) - e.work_end) \
                if e.overtime is not None else 0
        if any(x.overnight for x in experts):
            row[_("night cost")] = e.overnight.night_cost \
                if (eid, d) in nights and e.overnight is not None else 0
        if machine:
            row[_("expert ids")] = eid
        rows.append(row)
    return pd.DataFrame(rows)


def write_xlsx(problem: PlanRequest, plan: Plan, path: str | Path, lang: str | None = None) -> Path:
    """Write the workbook (one sheet per table, columns sized to their text); returns the path."""
    before = current_lang()
    if lang is not None:
        set_lang(lang)
    try:
        sheets = plan_sheets(problem, plan)
    finally:
        set_lang(before)
    out = Path(path)
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
            ws = xw.sheets[name]
            ws.freeze_panes = "A2"
            for i, col in enumerate(df.columns, start=1):
                texts = [str(col), *(str(x) for x in df[col].tolist())]
                width = max(_width(line) for t in texts for line in t.split("\n"))
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(80, width + 2)
    return out


#: The CSV files of ``write_csv``, by the sheet they hold.
CSV_FILES = {"Visits": "visits.csv", "Routes": "routes.csv", "Days": "days.csv",
             "Unscheduled": "unscheduled.csv", "Changes": "changes.csv"}


def write_csv(problem: PlanRequest, plan: Plan, directory: str | Path,
              lang: str | None = None) -> list[Path]:
    """The workbook's sheets as CSV files (``visits.csv``, ``routes.csv``, ``days.csv`` where
    the experts have lunch, appointments, overtime or nights, ``unscheduled.csv``,
    ``changes.csv`` after a re-plan), in the reader's language with the
    ids and codes as the last columns, UTF-8 with a BOM (Excel on Japanese Windows reads a
    BOM-less file as Shift-JIS and garbles the names); returns the paths written."""
    before = current_lang()
    if lang is not None:
        set_lang(lang)
    try:
        sheets = plan_sheets(problem, plan, machine=True)
        names = {_(key): file for key, file in CSV_FILES.items()}
    finally:
        set_lang(before)
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, df in sheets.items():
        if name in names:
            path = d / names[name]
            df.to_csv(path, index=False, encoding="utf-8-sig")
            out.append(path)
    return out


def _width(text: str) -> int:
    """Display width: East-Asian wide characters count two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
