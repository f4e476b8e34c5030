"""One row of the sheet read into a request: its municipality, fields, mode, duration (with
the column's unit), priority, dates, window, confidentiality, due date and the request it
follows (with the gap in days and whether by the same experts), each bad cell a problem named
by its row and column as written."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem
from engine.importer.columns import FREE_TEXT, label
from engine.importer.workbook import EXCEL_EPOCH
from engine.model import fmt_time
from engine.names import normalize, resolve_field, resolve_municipality
from engine.readings import (
    MAX_DURATION_MIN,
    PRIORITY_DEFAULT,
    PRIORITY_MAX,
    PRIORITY_MIN,
    field_choices,
    read_date,
    read_duration,
    read_mode,
)
from engine.words import month_day

__all__ = ["Row", "Week", "read_row"]

_TRUE = {"yes", "true", "1", "○", "〇", "◯", "はい", "y", "x", "✓", "有", "あり", "非公開"}


_FALSE = {"no", "false", "0", "", "いいえ", "n", "-", "nan", "無", "なし", "公開"}


_TIME = r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分)?)"


_WINDOW = re.compile(rf"{_TIME}\s*(?:[-~〜–—―ー]|から)\s*{_TIME}(?:まで)?")


def _minutes(h: str, m1: str | None, m2: str | None) -> int | None:
    hour, minute = int(h), int(m1 or m2 or 0)
    return hour * 60 + minute if hour <= 24 and minute < 60 and hour * 60 + minute <= 1440 \
        else None


def _date(raw: str, monday: dt.date, epoch: dt.date = EXCEL_EPOCH) -> dt.date | None:
    """A date cell (``engine.readings.read_date``); month/day alone is in the week's year (the
    next one for a week that runs into January); a whole number of five digits is a date as
    Excel counts them (days since ``epoch``, 1899-12-30 or in a workbook of the 1904 date
    system 1904-01-01: a date cell formatted as a number, or pasted as one), ``46364`` being
    2026-12-08 (``44902`` in the 1904 system)."""
    if m := re.fullmatch(r"(\d{5})(?:\.0+)?", raw):
        return epoch + dt.timedelta(days=int(m.group(1)))
    day = read_date(raw, monday.year)
    friday = monday + dt.timedelta(days=4)
    if day is not None and friday.year != monday.year and day < monday:
        day = read_date(raw, friday.year)
    return day


def _fields(text: str) -> tuple[list[str], list[str]]:
    """Field ids in a cell and the parts that name none: ``'セキュリティ・データ'`` → both;
    a label with a separator of its own (``広報・マーケティング``, ``UI/UX``) stays whole."""
    whole = resolve_field(text)
    if whole is not None:
        return [whole], []
    found: list[str] = []
    unknown: list[str] = []
    for part in (t for t in re.split(r"[,、;；\s]+", text) if t):
        hit = resolve_field(part)
        if hit is not None:
            found.append(hit)
            continue
        for sub in (t for t in re.split(r"[・/+＋]", part) if t):
            hit = resolve_field(sub)
            if hit is None:
                unknown.append(sub)
            elif hit not in found:
                found.append(hit)
    return found, unknown


@dataclass(frozen=True)
class Week:
    """The week a sheet is for (Monday to Friday) and its workbook's date epoch."""

    monday: dt.date
    friday: dt.date
    epoch: dt.date


@dataclass
class Row:
    """One row of the sheet: its cells by key (normalised, but free text as written) and its
    problems, one per cell (an uncomputed formula says it all)."""

    number: int
    values: dict[str, Any]
    cols: dict[str, str]
    problems: list[Problem]
    told: set[str] = field(default_factory=set)

    def cell(self, key: str) -> str:
        if key not in self.cols:
            return ""
        text = str(self.values.get(self.cols[key], "")).strip()
        return text if key in FREE_TEXT else normalize(text)

    def bad(self, key: str, en: str, ja: str) -> None:
        if key in self.told:
            return
        self.told.add(key)
        col = self.cols.get(key, label(key))
        rown = self.number
        self.problems.append(Problem(f"row {rown}, column '{col}'", en, ja, f"{rown} 行目「{col}」"))


def read_row(row: Row, before: int, seen_ids: dict[str, int], units: dict[str, str],
              week: Week) -> dict[str, Any]:
    """One request of the plan-request/1 document from a row (``before``: the requests read
    before it), its problems added to the row's."""
    cell, bad, cols, rown = row.cell, row.bad, row.cols, row.number
    for key in cols:
        if (text := cell(key)).startswith("="):
            bad(key, f"the formula {text!r} has no value saved with the file (open the "
                "sheet in Excel and save it, or type the value)",
                f"数式 {text!r} の計算結果が保存されていません（Excel で開いて保存するか、"
                "値を入力してください）")
    q: dict[str, Any] = {"id": cell("id") or f"r{before + 1:03d}"}
    if q["id"] in seen_ids:
        bad("id", f"duplicate id {q['id']!r} (row {seen_ids[q['id']]})",
            f"ID {q['id']!r} が重複しています（{seen_ids[q['id']]} 行目）")
    seen_ids[q["id"]] = rown
    code = resolve_municipality(cell("municipality"))
    if code is None and "municipality" in cols:
        if cell("municipality"):
            bad("municipality", f"unknown municipality {cell('municipality')!r}",
                f"不明な自治体 {cell('municipality')!r} です")
        else:
            bad("municipality", "is required", "必須項目です")
    q["location"] = code
    fields, unknown = _fields(cell("fields"))
    for tok in unknown:
        bad("fields", f"unknown field {tok!r} (valid: {field_choices('en')})",
            f"不明な分野 {tok!r} です（使える分野: {field_choices('ja')}）")
    if not fields and not unknown and "fields" in cols:
        bad("fields", "is required", "必須項目です")
    q["fields"] = fields
    mode = read_mode(cell("mode"))
    if mode is None and "mode" in cols:
        bad("mode", f"must be onsite/online (訪問/オンライン), got {cell('mode')!r}",
            f"訪問 か オンライン を指定してください（{cell('mode')!r}）")
    q["mode"] = mode
    _read_duration(q, cell("duration_min"), units.get("duration_min", ""), bad,
                   "duration_min" in cols)
    _read_priority(q, row)
    _read_dates(q, row, week)
    _read_window(q, row)
    _read_due(q, row, week)
    _read_after(q, row)
    if cell("title"):
        q["title"] = cell("title")
    conf = cell("confidential").lower()
    if conf in _TRUE:
        q["confidential"] = True
    elif conf not in _FALSE:
        bad("confidential", f"must be yes or no, got {cell('confidential')!r}",
            f"はい か いいえ（○ か 空欄）を指定してください（{cell('confidential')!r}）")
    q["_row"] = rown
    return q


def _read_priority(q: dict[str, Any], row: Row) -> None:
    """The priority cell: a whole number in range (empty: the default)."""
    raw = row.cell("priority")
    whole = re.fullmatch(r"(\d+)(?:\.0+)?", raw.removesuffix("点").strip())
    prio = PRIORITY_DEFAULT if raw == "" else int(whole.group(1)) if whole else None
    if prio is None:
        row.bad("priority", f"must be a whole number, got {raw!r}",
                f"整数を指定してください（{raw!r}）")
    elif not PRIORITY_MIN <= prio <= PRIORITY_MAX:
        row.bad("priority", f"must be between {PRIORITY_MIN} and {PRIORITY_MAX}",
                f"{PRIORITY_MIN} から {PRIORITY_MAX} の範囲で指定してください")
    else:
        q["priority"] = prio


def _read_dates(q: dict[str, Any], row: Row, week: Week) -> None:
    """The earliest and latest dates: within the week (empty: Monday, Friday), the latest not
    before the earliest; written as ISO dates."""
    monday, friday, cols, bad = week.monday, week.friday, row.cols, row.bad
    for key, day in (("earliest", monday), ("latest", friday)):
        raw = row.cell(key)
        if raw == "":
            q[key] = day
            continue
        parsed = _date(raw, monday, week.epoch)
        if parsed is None:
            bad(key, f"must be a date such as {monday:%Y-%m-%d} or {monday.month}/{monday.day},"
                f" got {raw!r}", f"日付（例 {monday:%Y-%m-%d}、{monday.month}/{monday.day}）を"
                f"指定してください（{raw!r}）")
        elif not monday <= parsed <= friday:
            bad(key, f"{month_day(parsed)} is outside the week {month_day(monday)} – "
                f"{month_day(friday)}", f"{month_day(parsed)} は対象週（{month_day(monday)} – "
                f"{month_day(friday)}）の外です")
        else:
            q[key] = parsed
    if isinstance(q.get("earliest"), dt.date) and isinstance(q.get("latest"), dt.date) \
            and q["latest"] < q["earliest"]:
        bad("latest", f"must not be before the start date ({q['earliest']}, column "
            f"'{cols.get('earliest', label('earliest'))}')",
            f"「{cols.get('earliest', label('earliest'))}」（{q['earliest']}）より前には"
            "できません")
    for key in ("earliest", "latest"):
        if isinstance(q.get(key), dt.date):
            q[key] = q[key].isoformat()


def _read_window(q: dict[str, Any], row: Row) -> None:
    """The time window cell: a range such as 13:00-17:00, at least the duration long."""
    text, cols, bad = row.cell("window"), row.cols, row.bad
    if not text:
        return
    m = _WINDOW.fullmatch(text)
    ws = _minutes(*m.group(1, 2, 3)) if m else None
    we = _minutes(*m.group(4, 5, 6)) if m else None
    dur = q.get("duration_min")
    if ws is None or we is None:
        bad("window", f"must be a time range such as 13:00-17:00, got {text!r}",
            f"13:00-17:00 のような時間帯を指定してください（{text!r}）")
    elif we <= ws:
        bad("window", f"the end {fmt_time(we)} must be after the start {fmt_time(ws)}",
            f"終了 {fmt_time(we)} は開始 {fmt_time(ws)} より後にしてください")
    elif isinstance(dur, int) and we - ws < dur:
        col = cols.get("duration_min", label("duration_min"))
        bad("window", f"{fmt_time(ws)}-{fmt_time(we)} is shorter than the duration "
            f"({dur} min, column '{col}')",
            f"{fmt_time(ws)}-{fmt_time(we)} は「{col}」（{dur} 分）より短いです")
    else:
        q["window"] = [fmt_time(ws), fmt_time(min(we, 1439))]


def _read_duration(q: dict[str, Any], raw: str, unit: str, bad: Any, present: bool) -> None:
    """The duration cell in minutes (a bare number in a column headed in hours, such as
    「所要時間（時間）」, is hours)."""
    if not present:
        return
    if raw == "":
        bad("duration_min", "is required", "必須項目です")
        return
    minutes = read_duration(raw)
    hours = normalize(unit).lower() in ("時間", "h", "hours", "hour", "hrs")
    if hours and re.fullmatch(r"\d+(?:\.\d+)?", raw):
        value = float(raw) * 60
        minutes = int(value) if value.is_integer() else None
    if minutes is None:
        bad("duration_min", f"must be minutes such as 90, 90分 or 1時間30分, got {raw!r}",
            f"90、90分、1時間30分 のように分で指定してください（{raw!r}）")
    elif minutes <= 0:
        bad("duration_min", "must be > 0", "0 より大きい必要があります")
    elif minutes > MAX_DURATION_MIN:
        bad("duration_min", f"must be at most {MAX_DURATION_MIN} minutes",
            f"{MAX_DURATION_MIN} 分以下にしてください")
    else:
        q["duration_min"] = minutes


def _read_due(q: dict[str, Any], row: Row, week: Week) -> None:
    """The due date cell: any date (it may lie before or after the week), written as an ISO
    date; empty: none."""
    raw = row.cell("due")
    if not raw:
        return
    due = _date(raw, week.monday, week.epoch)
    if due is None:
        row.bad("due", f"must be a date such as {week.monday:%Y-%m-%d} or "
                f"{week.monday.month}/{week.monday.day}, got {raw!r}",
                f"日付（例 {week.monday:%Y-%m-%d}、{week.monday.month}/{week.monday.day}）を"
                f"指定してください（{raw!r}）")
    else:
        q["due"] = due.isoformat()


_GAP = re.compile(r"(\d+)(?:\.0+)?\s*(日|週間?|days?|weeks?|d|w)?\s*(?:後|以降|以内|まで|から)?")
_SAME = {"同じ", "同一", "同じ専門家", "same"}
_ANY = {"別", "不問", "誰でも", "any"}


def _read_days(row: Row, key: str) -> int | None:
    """A gap cell in calendar days: ``14``, ``14日``, ``14日後``, ``2週間`` (14); empty: None."""
    raw = row.cell(key)
    if not raw:
        return None
    m = _GAP.fullmatch(raw.lower())
    if m is None:
        row.bad(key, f"must be a number of days such as 14, 14日 or 2週間, got {raw!r}",
                f"14、14日、2週間 のように日数を指定してください（{raw!r}）")
        return None
    unit = m.group(2) or ""
    return int(m.group(1)) * (7 if unit.startswith(("週", "w")) else 1)


def _read_after(q: dict[str, Any], row: Row) -> None:
    """The request this one follows (``after``: an id or a row of the sheet, resolved when
    every row is read), the gap in days and whether by the same experts (empty: the
    format's defaults, 1 day, no upper limit, the same experts)."""
    ref = row.cell("after")
    lo, hi = _read_days(row, "after_min_days"), _read_days(row, "after_max_days")
    raw = row.cell("same_experts").lower()
    same: bool | None = None
    if raw in _TRUE or raw in _SAME:
        same = True
    elif raw in _ANY or (raw and raw in _FALSE):
        same = False
    elif raw:
        row.bad("same_experts", f"must be yes or no, got {row.cell('same_experts')!r}",
                f"はい か いいえ（○ か 空欄）を指定してください（{row.cell('same_experts')!r}）")
    if not ref:
        if lo is not None or hi is not None or same is not None:
            row.bad("after", "give the request this one follows (its ID or its row, e.g. "
                    "r001 or 5行目)", "前回の依頼（ID か 行、例 r001、5行目）を指定してください")
        return
    after: dict[str, Any] = {"request": ref}
    if lo is not None:
        after["min_days"] = lo
    if hi is not None:
        after["max_days"] = hi
    if same is not None:
        after["same_experts"] = same
    q["after"] = after
